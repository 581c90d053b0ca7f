"""Rate limits on sign-in challenges, per address and per client, shared by every API worker.

Each limit is a counter per key (`address:0x…`, `client:<IP>`) in a fixed window of
`settings.challenge_window` seconds, kept in the index database (the API's own table, like the
challenges), so that the limits hold across worker processes and their restarts. A request over
a limit is refused with 429 and a Retry-After header (the seconds left in the window).
"""

from __future__ import annotations

from sqlalchemy import case, delete
from sqlmodel import Session, col

from .errors import ApiError
from .models import ChallengeRate
from .settings import ApiSettings
from .store import _insert as dialect_insert


class TooManyRequests(ApiError):
    """Over a rate limit: 429, with the seconds to wait."""

    status = 429

    def __init__(self, message: str, field: str | None, retry_after: int) -> None:
        super().__init__(message, field)
        self.retry_after = retry_after


def count(session: Session, key: str, window: int, now: int) -> int:
    """Count one more request for `key` in the current window; the window's count so far."""
    start = now - now % window
    table = ChallengeRate.__table__  # type: ignore[attr-defined]
    statement = (
        dialect_insert(session, ChallengeRate)
        .values(key=key, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "count": case((table.c.window_start == start, table.c.count + 1), else_=1),
                "window_start": start,
            },
        )
        .returning(table.c.count)
    )
    return int(session.connection().execute(statement).scalar_one())


def check_challenge(session: Session, settings: ApiSettings, address: str, client: str, now: int) -> None:
    """Count a challenge request; TooManyRequests if its client or its address is over the limit."""
    window = settings.challenge_window
    session.connection().execute(delete(ChallengeRate).where(col(ChallengeRate.window_start) < now - window))
    retry_after = window - now % window
    if count(session, f"client:{client}", window, now) > settings.challenges_per_client:
        raise TooManyRequests(
            f"this client asked for more than {settings.challenges_per_client} sign-in challenges "
            f"in {window} s; try again in {retry_after} s",
            None,
            retry_after,
        )
    if count(session, f"address:{address}", window, now) > settings.challenges_per_address:
        raise TooManyRequests(
            f"more than {settings.challenges_per_address} sign-in challenges for {address} in {window} s; "
            f"try again in {retry_after} s",
            "address",
            retry_after,
        )
