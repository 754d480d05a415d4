"""`hallq simulate`: realistic hall-days through the real engine, for demos, screenshots, benchmarks.

Every action is a command decided by the domain (`decide`) and folded (`apply`) exactly as
HallService does; the events are appended through the hall-day repository in batches (one
transaction per few thousand events instead of one per command: a simulated day takes well
under a second), and the day's statistics are derived as it goes. A discrete-event loop plays
each day:

- arrivals over the hall's opening hours: a rush at opening (people queue at the door before
  it opens: the first half hour brings half as many again as a half hour at the morning's peak
  rate) and a smaller one after lunch, a morning peak near 10:00 and an afternoon one near
  15:00; about as many as the windows can serve (`load`), more on Mondays; the item mix
  follows the windows' capacity, short items being more frequent; items outside their issuing
  hours or over their daily quota are refused at the kiosk as in real life (`arrivals.py`);
- 4 % priority (绿色通道) tickets, some online; citizens give up after their patience (20 min
  and an exponential 45 min more): most just leave, so their ticket waits on and becomes a
  no-show when called (called, recalled once, then marked; sometimes re-queued, to nobody);
  one in ten (half of those who took their number online) cancels it on the phone's ticket
  page first; 4 % of the others are not at the counter at their first call (recalled once,
  then a no-show, sometimes re-queued);
- service times are log-normal around each item's `expected_service_s`, each clerk a little
  faster or slower; some services are suspended (the citizen fetches a document and comes
  back) or transferred to another item; outcomes include one-time notices (一次性告知);
- clerks call the next ticket a few seconds after a citizen leaves the counter; a clerk idle
  at an empty queue sees on the terminal when a ticket they may call arrives (or is re-queued,
  transferred, or its item's hours begin) and calls it within seconds, so no window stays idle
  while a ticket it may call waits; clerks close for lunch, take short breaks (暂停, 离岗; now
  and then a long one), hand over to the B post (AB岗) some afternoons, and close when their
  queues are empty after hours (`day.py`);
- about two thirds of the served rate the service; bad reviews go through their loop, promised
  cases (承诺件) are concluded on later days, the supervisor sweeps every minute (`ledger.py`).

The same seed gives the same journal. `runner.py` plays days into a journal; `hall.py` says
which days the hall opens and makes it bigger for benchmarks.
"""

# Bumped whenever the same seed stops giving the same days: benchmarks key their caches on it.
# 2: opening rushes, silent give-ups (no-shows), clerks who call as soon as they are free.
VERSION = 2

from .day import DaySim  # noqa: E402
from .hall import default_end, hall_days, scaled_config  # noqa: E402
from .ledger import Ledger  # noqa: E402
from .runner import DayReport, run, simulate  # noqa: E402

__all__ = ["VERSION", "DaySim", "DayReport", "Ledger", "default_end", "hall_days", "run", "scaled_config", "simulate"]
