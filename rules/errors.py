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
