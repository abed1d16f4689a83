"""The one place where the panel commits. A view action is: the ids it was given → a rules
call → commit, or explain the refusal → flash. `transaction()` is that boundary; the
scan in tests/test_view_transactions.py fails when any other module of admin_views/ commits.

Flask-Admin's own create/edit/delete commit inside the library (their refusals arrive through
the on_model_change / on_model_delete hooks); everything a view of ours changes goes through
`transaction()`, or through `commit_bookkeeping()` for what the system records about a request
on its own."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import abort, flash
from flask_babel import LazyString
from sqlalchemy.orm.exc import StaleDataError
from wtforms.validators import ValidationError

from models import db
from rules import versions
from rules.errors import OutOfScope, RuleViolation

Message = str | LazyString


class Outcome:
    """What became of one transaction: `ok` once committed."""

    def __init__(self, success: Message | None) -> None:
        self.ok = False
        self._message: tuple[Message, str] | None = (success, "success") if success else None

    def done(self, message: Message | None, category: str = "success") -> None:
        """The message to flash once the commit has succeeded (never before: a commit that
        fails must not have said "saved")."""
        self._message = (message, category) if message else None


@contextmanager
def transaction(success: Message | None = None) -> Iterator[Outcome]:
    """Commit what the block changed, or explain why not:

    - out of the actor's scope (OutOfScope): roll back and answer 404, so nothing leaks;
    - any other refusal (RuleViolation, or a form hook's ValidationError): roll back, flash
      the reason, and carry on after the block with `outcome.ok` false (a page that shows a
      form then renders it again with what the user typed);
    - success: commit, then flash `success` (or what the block passed to `outcome.done`).

    Anything else rolls back and propagates (a real error stays a 500 and reaches the log)."""
    outcome = Outcome(success)
    try:
        yield outcome
        db.session.commit()
    except OutOfScope:
        db.session.rollback()
        abort(404)
    except (RuleViolation, ValidationError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return
    except StaleDataError:
        # A versioned record (rules/versions.py) was saved by someone else meanwhile: refused, not a 500.
        db.session.rollback()
        flash(str(versions.GENERIC), "error")
        return
    except BaseException:
        db.session.rollback()
        raise
    outcome.ok = True
    if outcome._message is not None:
        message, category = outcome._message
        flash(str(message), category)


def commit_or_explain(change: Callable[[], Any], success: Callable[[Any], Message | None]) -> bool:
    """`transaction()` for a change that is one call: `success(result)` is the message."""
    with transaction() as outcome:
        result = change()
        outcome.done(success(result))
    return outcome.ok


def commit_bookkeeping() -> None:
    """Commit what the system records about a request on its own, which no rule refuses and
    nobody is told about: the login log (kept even when the login itself is refused), the
    last-seen time, a download noted in the audit log, the SMS gateway's receipts."""
    db.session.commit()
