"""Who may do what (the one rule of authority): `may(actor, action, resource)`, asked by the API
before it hands on a command or answers a read.

Staff belong to one hall. Admins act everywhere. A hall's managers act on everything of their
hall; a chief (首席代表) on their department's windows and its reviews and cases; a clerk at the
windows where they hold a post. The managers of a hall above (a county's over its townships)
read below it and act only where the lower hall's `managers_above` says so. Nobody on the staff
rates or cancels a citizen's ticket: only its holder (who presents its id, the holder's secret)
and, for rating, the evaluator paired with the window that served it. An evaluator is paired
by a manager, never by the clerk it rates.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import DELEGABLE, Action, Catalog, Role, User
from .errors import Forbidden

HOLDER = "holder"  # whoever presents a ticket's id
EVALUATOR = "evaluator"  # a window's evaluator: an approved device or a session a manager opened

READS = frozenset({Action.read_figures, Action.read_records})
CITIZENS = frozenset({Action.rate, Action.cancel})
# What each role of a hall may do there, the window or department still to match where it says so.
_CLERK = frozenset({Action.operate, Action.issue, Action.conclude})
_CHIEF = _CLERK | {Action.read_figures, Action.supervise}
_MANAGER = frozenset(Action) - CITIZENS


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks. `role`: a staff Role, HOLDER or EVALUATOR. `windows`: where a clerk holds a post,
    a chief's department's windows, an evaluator's window. `region`: the halls below `hall`."""

    role: str
    hall: str
    windows: frozenset[str] = frozenset()
    region: frozenset[str] = frozenset()
    department: str | None = None
    ticket: str | None = None  # the holder's ticket


@dataclass(frozen=True, slots=True)
class Resource:
    """What is asked about: a hall, maybe one of its windows, maybe a ticket (with the department
    of its item). `managers_above`: what the hall lets the managers of halls above do."""

    hall: str
    window: str | None = None
    ticket: str | None = None
    department: str | None = None
    managers_above: frozenset[Action] = frozenset()


def may(actor: Actor, action: Action, resource: Resource) -> bool:
    if actor.role == HOLDER:
        return action in CITIZENS and actor.hall == resource.hall and resource.ticket is not None and actor.ticket == resource.ticket
    if actor.role == EVALUATOR:
        return (action is Action.rate and actor.hall == resource.hall and resource.window is not None
                and resource.window in actor.windows)
    if action in CITIZENS:
        return False  # staff never rate or cancel for a citizen, whatever they know of the ticket
    if actor.role == Role.admin:
        return True
    if resource.hall != actor.hall:
        above = actor.role == Role.manager and resource.hall in actor.region
        return above and (action in READS or (action in DELEGABLE and action in resource.managers_above))
    if actor.role == Role.manager:
        return action in _MANAGER
    if actor.role == Role.chief:
        if action not in _CHIEF:
            return False
        if action in (Action.operate, Action.conclude):
            return (resource.window is not None and resource.window in actor.windows) or (
                resource.department is not None and resource.department == actor.department)
        return True
    if actor.role == Role.clerk and action in _CLERK:
        if action is Action.issue:
            return True
        return resource.window is not None and resource.window in actor.windows
    return False


def refusal(actor: Actor, action: Action, resource: Resource) -> Forbidden:
    """The 403 to answer when `may` says no: which rule refused, in words staff understand."""
    if action in CITIZENS:
        return Forbidden("holder-only", "only the ticket's holder, or the evaluator of the window that served it, "
                                        f"may {action.value} it; staff work with ticket numbers")
    if actor.role in (HOLDER, EVALUATOR):
        return Forbidden("role", f"a {actor.role} may not {action.value}")
    if resource.hall != actor.hall:
        if actor.role == Role.manager and resource.hall in actor.region:
            return Forbidden("read-only-below", f"hall {resource.hall!r} lets the managers of halls above read it; "
                                                f"{action.value} is not in its managers_above")
        return Forbidden("other-hall", "this member of staff belongs to another hall")
    if action is Action.conclude:
        return Forbidden("not-your-case", "this case was accepted at another department's window")
    if action is Action.operate and actor.role in (Role.clerk, Role.chief):
        return Forbidden("not-your-window", f"no post at window {resource.window!r}")
    if action is Action.pair_evaluator:
        return Forbidden("role", "a manager pairs a window's evaluator, never the clerk it rates")
    return Forbidden("role", f"a {actor.role} may not {action.value}")


def staff_actor(user: User, hall: str, catalog: Catalog | None, region: frozenset[str] = frozenset()) -> Actor:
    """A member of staff of `hall` as the policy sees them; `catalog`: their own hall's (a chief's
    windows are those serving their department's items)."""
    windows: frozenset[str] = frozenset(user.windows)
    if user.role is Role.chief and catalog is not None:
        windows = frozenset(w.id for w in catalog.config.windows
                            if any(catalog.items[i].department == user.department for i in w.items if i in catalog.items))
    return Actor(user.role.value, hall, windows, region, user.department)


def hall_resource(catalog: Catalog, window: str | None = None, ticket: str | None = None, item: str | None = None) -> Resource:
    """A hall of this catalogue, maybe one of its windows or tickets (`item`: the ticket's item)."""
    department = catalog.items[item].department if item is not None and item in catalog.items else None
    return Resource(catalog.hall.id, window, ticket, department, frozenset(catalog.hall.managers_above))


def may_act_on_window(user: User, catalog: Catalog, window: str) -> bool:
    """A member of this hall's staff at the counter of `window`."""
    return may(staff_actor(user, catalog.hall.id, catalog), Action.operate, hall_resource(catalog, window))


def windows_of(user: User, catalog: Catalog) -> list[str]:
    """The windows this member of this hall's staff may act on, in the hall's order."""
    return [w for w in catalog.windows if may_act_on_window(user, catalog, w)]


def require_role(user: User, *roles: Role) -> None:
    """For what belongs to no hall (the national holiday calendar): by role alone."""
    if user.role not in roles:
        raise Forbidden("role", f"this needs the role {' or '.join(r.value for r in roles)}")


def may_manage(actor: User, target: User) -> bool:
    """Which accounts: admins manage every account; a hall's manager its clerks and chief
    representatives (never a manager or an admin, so nobody grants more than they hold)."""
    if actor.role is Role.admin:
        return True
    if actor.role is Role.manager:
        return target.role in (Role.clerk, Role.chief)
    return False


def require_manage(actor: User, *targets: User) -> None:
    """`targets`: the account as it is and as it is to be (a change must be allowed both ways)."""
    for target in targets:
        if not may_manage(actor, target):
            raise Forbidden("staff-role", f"{actor.role.value} accounts cannot manage {target.role.value} accounts")
