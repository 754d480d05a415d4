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
