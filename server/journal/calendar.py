"""The national calendar's years that administrators added, stored beside the journal.

One row a year holding the year's table as JSON; adding a year again replaces it (a corrected
notice). Same SQLAlchemy Core table on SQLite and PostgreSQL; created by the migrations.
"""

from __future__ import annotations

import json

from sqlalchemy import Column, Integer, String, Table, Text, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain.national import CalendarYear
from . import metadata

calendar_years = Table(
    "calendar_years",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("document", Text, nullable=False),
    Column("added_at", String(40), nullable=False),
    Column("added_by", String(40), nullable=False),
)


class SQLCalendarYears:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def all(self) -> list[CalendarYear]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(calendar_years.c.document).order_by(calendar_years.c.year))).all()
        return [CalendarYear.model_validate_json(doc) for (doc,) in rows]

    async def put(self, year: CalendarYear, at: str, by: str) -> None:
        document = json.dumps(year.model_dump(mode="json", by_alias=True), ensure_ascii=False)
        async with self.engine.begin() as conn:
            await conn.execute(delete(calendar_years).where(calendar_years.c.year == year.year))
            await conn.execute(insert(calendar_years), [{"year": year.year, "document": document, "added_at": at, "added_by": by}])
