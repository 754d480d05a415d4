"""The admin page's forms take their limits from the catalogue's own models.

Each kind of entry the page edits is described by the JSON schema of the model that validates it
(the hall's settings, a department, an item, a window); the page embeds them and reads a field's
minimum, maximum, pattern, length and whether it is required from there (dashboard/static/schema.js).
Nothing about a limit is written twice: change it in server/domain and the form follows.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from server.domain.catalog import Department, Hall, Item, Window

MODELS: dict[str, type[BaseModel]] = {"hall": Hall, "departments": Department, "items": Item, "windows": Window}


@cache
def schemas() -> dict[str, dict[str, Any]]:
    """The JSON schema of each edited kind of entry, as pydantic writes it (validation mode)."""
    return {kind: model.model_json_schema() for kind, model in MODELS.items()}
