"""partial returns: order_returns (the lines of each return); partly returned orders go back to their state;
payments need a second person by default

Revision ID: 80de83f2d3b9
Revises: d7b3f95e0a26
Create Date: 2026-12-06 03:30:00

A partial return used to close the whole order (state 退货) so it could never be completed. Now
a return is a record against an order that keeps its state; only a return of everything moves
it to 退货. Existing returns get their line rows (linked to the return's event), and an order
closed by a return that left goods with the customer goes back to the state it was in
(已发货/已完成), which the return event recorded. Customer totals need no change: a completed
order's return already took back only what was returned.

The order setting payment_requires_approval used to ask "must every payment be reviewed?" and was
stored unticked by anyone who saved 订单设置. It now asks whether payments need a second person
(a salesperson never confirms receipts on his own orders), and its default is yes: an answer to
the old question does not answer the new one, so the stored value goes and the safe default
applies until an administrator decides again.
"""
from alembic import op
import sqlalchemy as sa


revision = '80de83f2d3b9'
down_revision = 'd7b3f95e0a26'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'order_returns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('line_id', sa.Integer(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['order_events.id'], name=op.f('fk_order_returns_event_id_order_events')),
        sa.ForeignKeyConstraint(['line_id'], ['order_lines.id'], name=op.f('fk_order_returns_line_id_order_lines')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_returns_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_returns')),
    )
    with op.batch_alter_table('order_returns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_returns_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_returns_order_id'), ['order_id'], unique=False)
    # Each returned line, against the order's latest return event (the old code allowed one).
    op.execute(sa.text(
        "INSERT INTO order_returns (order_id, event_id, line_id, quantity, amount) "
        "SELECT l.order_id, (SELECT max(e.id) FROM order_events e WHERE e.order_id = l.order_id "
        "AND e.action = 'return'), l.id, l.returned_quantity, "
        "CASE WHEN l.returned_quantity = l.quantity THEN l.amount "
        "ELSE round(l.amount * l.returned_quantity / l.quantity, 2) END "
        "FROM order_lines l WHERE l.returned_quantity > 0 AND EXISTS (SELECT 1 FROM order_events e "
        "WHERE e.order_id = l.order_id AND e.action = 'return')"))
    # Partly returned orders reopen in the state the return found them in.
    op.execute(sa.text(
        "UPDATE orders SET state = (SELECT e.from_state FROM order_events e WHERE e.order_id = orders.id "
        "AND e.action = 'return' ORDER BY e.id DESC LIMIT 1), closed_at = NULL "
        "WHERE state = 'returned' AND EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = orders.id "
        "AND l.returned_quantity < l.quantity) AND EXISTS (SELECT 1 FROM order_events e "
        "WHERE e.order_id = orders.id AND e.action = 'return' AND e.from_state IN ('shipped', 'completed'))"))
    op.execute(sa.text(
        "UPDATE order_events SET action = 'return_part', to_state = from_state WHERE action = 'return' "
        "AND order_id IN (SELECT o.id FROM orders o WHERE o.state <> 'returned')"))
    op.execute(sa.text("DELETE FROM settings WHERE key = 'payment_requires_approval'"))


def downgrade():
    op.execute(sa.text("UPDATE orders SET state = 'returned' WHERE returned_amount > 0"))
    op.execute(sa.text("UPDATE order_events SET action = 'return', to_state = 'returned' "
                       "WHERE action = 'return_part'"))
    with op.batch_alter_table('order_returns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_returns_order_id'))
        batch_op.drop_index(batch_op.f('ix_order_returns_event_id'))
    op.drop_table('order_returns')
