"""Delivering to the outside (the provincial 好差评 platform, an SMS gateway): what an answer
means and how long to wait before trying again. Pure; the outboxes drive it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

Outcome = Literal["sent", "refused", "retry"]


def outcome(status: int | None) -> Outcome:
    """What the receiving end's answer means. `None`: no answer (refused connection, time-out).

    2xx: taken. 409: it had this one already (an earlier attempt got through): taken.
    408, 425, 429 and 5xx: busy or away, try again later. Any other 4xx: the receiver refuses
    this one as it is; trying again would not change that, so it is set aside (and shown).
    """
    if status is None:
        return "retry"
    if 200 <= status < 300 or status == 409:
        return "sent"
    if status in (408, 425, 429) or status >= 500:
        return "retry"
    if 400 <= status < 500:
        return "refused"
    return "retry"  # 1xx, 3xx: not an answer the interface gives


def retry_after(attempts: int, first_s: float, max_s: float) -> float:
    """Seconds before attempt `attempts + 1`, doubling from `first_s` up to `max_s`."""
    if attempts < 1:
        return 0.0
    return min(max_s, first_s * 2 ** min(attempts - 1, 30))


def due(next_at: datetime | None, now: datetime) -> bool:
    return next_at is None or next_at <= now
