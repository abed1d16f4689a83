"""bulk messages are not follow-ups: re-mark those already written as messages

Revision ID: c4e8a2f61b93
Revises: 7c2e9a4f1b36
Create Date: 2026-12-06 03:20:00

Every sent SMS or email used to become a follow-up of its sender: an administrator's bulk send
made him the top follower-up of 业务员业绩 and reset 最后联系 (the recycle clock) of every
recipient. From now on only a message the customer's owner sent in person counts; the rest are
follow-ups of kind 'message', kept on the customer's timeline. Rows already written are
re-marked the same way (none is deleted), and 最后联系 is worked out again from the follow-ups
that still count. No schema change.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e8a2f61b93'
down_revision = '7c2e9a4f1b36'
branch_labels = None
depends_on = None

# A sent message's follow-up has the outbox row's sent_at as its time, its sender as author and
# a content starting "[短信→" or "[邮件→". It stays a follow-up only when a manual batch of the
# customer's (current) owner sent it.
WRITTEN_BY_A_SEND = (
    "follow_ups.kind IN ('sms', 'email') "
    "AND (follow_ups.content LIKE '[短信→%' OR follow_ups.content LIKE '[邮件→%') "
    "AND EXISTS (SELECT 1 FROM outbox o WHERE o.customer_id = follow_ups.customer_id "
    "AND o.user_id = follow_ups.user_id AND o.sent_at = follow_ups.happened_at) "
    "AND NOT EXISTS (SELECT 1 FROM outbox o JOIN message_batches b ON b.id = o.batch_id "
    "JOIN customers c ON c.id = o.customer_id WHERE o.customer_id = follow_ups.customer_id "
    "AND o.user_id = follow_ups.user_id AND o.sent_at = follow_ups.happened_at "
    "AND b.source = 'manual' AND b.user_id = c.owner_id AND b.user_id = follow_ups.user_id)"
)


def upgrade():
    op.execute(f"UPDATE follow_ups SET kind = 'message' WHERE {WRITTEN_BY_A_SEND}")
    op.execute("UPDATE customers SET last_follow_up_at = (SELECT max(f.happened_at) FROM follow_ups f "
               "WHERE f.customer_id = customers.id AND f.kind <> 'message') "
               "WHERE id IN (SELECT customer_id FROM follow_ups WHERE kind = 'message')")


def downgrade():
    # A message was a follow-up of its sender before; 最后联系 is left as it is.
    op.execute("UPDATE follow_ups SET kind = CASE WHEN content LIKE '[短信→%' THEN 'sms' ELSE 'email' END "
               "WHERE kind = 'message'")
