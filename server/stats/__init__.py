"""Statistics of the hall, computed from the journal's events: exact, repeatable, auditable.

Definitions (also in the README):

- **issued**: tickets issued, counted for the item they were issued for, the hour of issue
  and the day. Windows and clerks have no `issued` (tickets are issued for items).
- **called**: tickets called at least once; counted once, where they were first called
  (window, clerk), for the item they were issued for and their hour of issue.
- **waiting time**: issue → first call, for every called ticket, attributed like `called`
  (so "waiting time at 10:00" is the wait of the people who took a number between 10 and 11).
  A re-queued no-show or a transferred ticket keeps its first waiting time only.
- **served**: tickets finished (办结 at the counter, any outcome), counted for the window and
  clerk that finished them, their item at the end (after any transfer) and the hour of finish.
- **service time**: the time a ticket spent being served: from each `start` to the next
  `finish`, suspension (挂起) or transfer, summed over the ticket's whole visit (all windows);
  attributed like `served`. A suspension stops the clock until the ticket is started again.
- **no-show**: tickets marked no-show and not re-queued (过号), counted where marked;
  `no_show_rate` = no-shows ÷ (served + no-shows). **requeued**: no-shows put back in the queue.
- **transferred**: transfers out (转移), counted for the window and clerk that transferred and
  the item the ticket had before; **cancelled**: tickets cancelled while waiting;
  **unfinished**: tickets still open when the day ended, which the day change closes out (日终作废,
  status `closed_out` in the per-ticket rows), or still open now, for today. A service that ran
  over midnight and was finished late counts as served. The close-out is no activity: windows
  left open and services under way count until the day's last event before it, as they did.
- **mean, p50, p90, max** of a time: the arithmetic mean, and nearest-rank percentiles (the
  smallest value with at least 50 % / 90 % of the values at or below it), in seconds.
- **window time** (windows, clerks, hours, days): `open_s` = idle + calling + serving + paused;
  `calling_s` = called, citizen not yet at the counter; `serving_s` = serving; `paused_s` =
  paused (暂停, 离岗); `idle_waiting_s` = idle while a ticket the window could call was waiting.
  Time is split at hour boundaries and attributed to the clerk at the window (AB岗). A window
  left open at the end of a day counts as open until the day's last event (today: until now).
- **satisfaction** (好差评): scores 1 (非常不满意) … 5 (非常满意) of served tickets, attributed
  like `served`, except that every window and clerk that served a part of the ticket (a
  transferred ticket's) is credited with its rating; a rating given after the day of service
  (`ticket_rated_late`) counts on the day it was given, for the windows and clerks of the day of
  service; `good_rate` = scores 3–5 ÷ rated (好评率), `bad` = scores 1–2 (差评),
  `rated_rate` = rated ÷ served, `mean_score`.
- **case types** (四件管理) and **outcomes** of served tickets, attributed like `served`.
- **alerts** (电子监察): distinct alerts raised (counted once at their highest level), for their
  window, item and hour.
"""

from .rollup import DIMENSIONS

__all__ = ["DIMENSIONS"]
