"""Named refusals. Each carries a message the user can read (Chinese by default)."""
from __future__ import annotations

from flask_babel import LazyString


class RuleViolation(Exception):
    """A business rule refused an action. `str(exc)` is the user-facing message."""

    def __init__(self, message: str | LazyString, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return str(self.message)


class OutOfScope(RuleViolation):
    """The record is outside the actor's data scope. Views answer 404 so nothing leaks."""


class PermissionDenied(RuleViolation):
    pass


class DuplicateEntry(RuleViolation):
    pass


class InvalidValue(RuleViolation):
    pass


class LoginRefused(RuleViolation):
    def __init__(self, message: str | LazyString, *, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


class LoginThrottled(LoginRefused):
    """Too many recent failures: wait `wait_seconds` before the next attempt is even checked."""

    def __init__(self, message: str | LazyString, *, reason: str, wait_seconds: int) -> None:
        super().__init__(message, reason=reason)
        self.wait_seconds = wait_seconds


class EntryRefused(RuleViolation):
    """The entry policy refused a record; `issues` lists every reason."""

    def __init__(self, issues: list) -> None:
        super().__init__("；".join(i.message for i in issues))
        self.issues = issues


class NeedsConfirmation(RuleViolation):
    """Only warnings (e.g. 重名提示): the user may confirm and save anyway."""

    def __init__(self, issues: list) -> None:
        super().__init__("；".join(i.message for i in issues))
        self.issues = issues


class NotEditable(RuleViolation):
    """Visible (e.g. shared read-only) but not the actor's to change."""


class ClaimRefused(RuleViolation):
    """A claim was refused; the subclass says which limit, the message says the numbers."""


class AlreadyClaimed(ClaimRefused):
    """Someone else took the customer first (the conditional UPDATE matched no row)."""


class DailyClaimLimit(ClaimRefused):
    """The actor has claimed today's allowance (每日领用上限)."""


class OwnedLimit(ClaimRefused):
    """The actor owns as many customers as the pool allows (拥有上限)."""


class ClaimCooldown(ClaimRefused):
    """The actor let this customer go too recently to take it back (再次领用间隔)."""


class PoolDisabled(RuleViolation):
    """客户池 is switched off: nothing is claimed, released or recycled."""


class ChangedMeanwhile(RuleViolation):
    """Someone else changed the record between reading and writing; the user should retry."""


class AlreadyDecided(RuleViolation):
    """A request was approved or rejected by someone else first."""


class TreeCycle(InvalidValue):
    """A department or a reporting line would end up under itself."""


class PointsShort(RuleViolation):
    """A customer has fewer points than a redemption asks for."""


class PurgeRefused(RuleViolation):
    """A binned customer cannot be deleted for good (e.g. its orders must be kept)."""


class InvalidPhone(InvalidValue):
    """A phone number that is not one; the message says what is wrong with it."""

class SelfConfirmation(RuleViolation):
    """A payment would be confirmed by the person who registered it or whose order it is."""


# --- 线索 entry and conversion (issue 18, lead-entry) ---------------------------------------------

class ConversionRefused(RuleViolation):
    """转化 refused: the lead is invalid or converted already, or nothing to convert it into."""


class SubmissionRefused(RuleViolation):
    """A public 留资表单 post refused (a wrong CAPTCHA); the visitor may correct it and retry."""


class SubmissionFlood(SubmissionRefused):
    """Too many 留资表单 posts from one address in the window: refused, nothing written."""


class OpportunityMoveRefused(RuleViolation):
    """销售机会: a stage move or outcome its state does not allow (closed, another group's stage,
    no loss reason...)."""


class StageFieldsMissing(OpportunityMoveRefused):
    """Entering a stage needs fields the opportunity does not have yet (`missing`: their labels)."""

    def __init__(self, message: str | LazyString, *, missing: list[str]) -> None:
        super().__init__(message, missing=missing)
        self.missing = missing


class FileRefused(InvalidValue):
    """An uploaded file was not taken (too large, a type not allowed, unsafe content, a bad
    name); the message names the file and why."""


class TemplateRefused(InvalidValue):
    """A print template was not saved or could not be rendered (sandbox, limits, unknown field)."""


class CalendarRefused(InvalidValue):
    """The SLA working calendar cannot hold the week or day given (no working hours at all, a
    period ending before it starts)."""


class SlaPolicyRefused(InvalidValue):
    """An SLA policy with a target that is not a positive number of minutes, or one that
    duplicates another for the same priority, type and value level."""
