"""Stand-in until the SLA branch brings the real assignment rules (round robin / least open)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session


def pick_assignee(session: Session, team_id: int, now: datetime) -> int | None:
    return None
