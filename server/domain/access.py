"""Who may do what: the hall's rules of access, asked by the API before it hands on a command."""

from __future__ import annotations

from .catalog import Catalog, Role, User
from .errors import Forbidden


def may_act_on_window(user: User, catalog: Catalog, window: str) -> bool:
    """Admins and the hall's managers act on every window; a chief (首席代表) on their
    department's windows; a clerk on the windows where they hold a post."""
    if user.role in (Role.admin, Role.manager):
        return True
    if user.role is Role.chief:
        w = catalog.windows.get(window)
        return w is not None and any(catalog.items[i].department == user.department for i in w.items)
    return window in user.windows


def require_window(user: User, catalog: Catalog, window: str) -> None:
    if not may_act_on_window(user, catalog, window):
        raise Forbidden("not-your-window", f"{user.username} holds no post at window {window!r}")


def require_role(user: User, *roles: Role) -> None:
    if user.role not in roles:
        raise Forbidden("role", f"this needs the role {' or '.join(r.value for r in roles)}")


def may_manage(actor: User, target: User) -> bool:
    """Admins manage every account; a hall's manager manages its clerks and chief
    representatives (never a manager or an admin, so nobody grants more than they hold)."""
    if actor.role is Role.admin:
        return True
    if actor.role is Role.manager:
        return target.role in (Role.clerk, Role.chief)
    return False


def require_manage(actor: User, *targets: User) -> None:
    """`targets`: the account as it is and as it is to be (a change must be allowed both ways)."""
    require_role(actor, Role.manager, Role.admin)
    for target in targets:
        if not may_manage(actor, target):
            raise Forbidden("staff-role", f"{actor.role.value} accounts cannot manage {target.role.value} accounts")


def windows_of(user: User, catalog: Catalog) -> list[str]:
    """The windows this member of staff may act on, in the hall's order."""
    return [w for w in catalog.windows if may_act_on_window(user, catalog, w)]
