"""The HTTP surface: the API's handlers, one module per resource, and the app factory
(server/api/app.py) that wires journal, bus, halls, accounts, routes and their lifespan."""

from __future__ import annotations

from .app import create_app
from .context import Settings

__all__ = ["Settings", "create_app"]
