"""Request bodies, validated at the edge; the OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain.booking import PHONE_PATTERN
from ..domain.catalog import CaseType
from ..domain.model import Outcome, SuspendKind
from ..domain.proof import ANSWER_PATTERN


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Ref = Annotated[str, Field(min_length=1, max_length=64)]


class Login(Body):
    username: Annotated[str, Field(min_length=1, max_length=40)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class Proof(Body):
    """A solved proof-of-work challenge (POST /api/v1/halls/{hall}/challenge), used once."""

    challenge: Annotated[str, Field(min_length=1, max_length=200)]
    answer: Annotated[str, Field(pattern=ANSWER_PATTERN)]


class IssueTicket(Body):
    item: Ref
    priority: bool = False
    appointment: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    channel: Literal["kiosk", "online", "staff"] = "kiosk"
    proof: Proof | None = Field(None, description="needed on the online channel")


Level = Annotated[int, Field(ge=1, le=5)]


class Evaluation(Body):
    """好差评 from the mobile ticket: the five levels, optionally the three indicators and reasons."""

    score: Level
    comment: Annotated[str, Field(max_length=500)] = ""
    efficiency: Level | None = None
    proficiency: Level | None = None
    attitude: Level | None = None
    reasons: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=8)] = []


Phone = Annotated[str, Field(pattern=PHONE_PATTERN, description="a mainland mobile number, 11 digits")]


class RegisterAppointment(Body):
    """A booking (预约): online, `{item, slot_start, phone}` for one of the item's slots; or entered
    by staff for today with their own `code` and any `slot_end` (managers)."""

    item: Ref
    slot_start: datetime
    phone: Phone | None = None
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{4,32}$")] | None = None
    slot_end: datetime | None = None
    proof: Proof | None = Field(None, description="needed on a booking without a staff token")
    id_number: Annotated[str, Field(min_length=1, max_length=32)] | None = Field(
        None, description="the citizen's ID number (optional): the ID card then finds the booking at the kiosk; "
        "only its keyed hash is kept")


class Reschedule(Body):
    slot_start: datetime


class RemoteTicket(Body):
    """远程取号: today's number for an item that allows it, from the citizen's phone."""

    item: Ref
    phone: Phone
    proof: Proof | None = None


class Empty(Body):
    pass


class OptOut(Body):
    """短信退订: no more text messages for this booking (its code) or remote number (its id)."""

    code: Annotated[str | None, Field(min_length=1, max_length=40)] = None
    ticket: Annotated[str | None, Field(min_length=1, max_length=40)] = None


class CallTicket(Body):
    ticket: Ref = Field(description="the ticket's number today (what the window's queue lists), or its id")


class Finish(Body):
    case_type: CaseType
    outcome: Outcome = Outcome.completed
    missing: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=50)] = []
    note: Annotated[str, Field(max_length=500)] = ""


class NoShow(Body):
    requeue: bool = False


class Transfer(Body):
    item: Ref | None = None
    window: Ref | None = None


class Suspend(Body):
    kind: SuspendKind


class Pause(Body):
    reason: Annotated[str, Field(min_length=1, max_length=100)]
    until: datetime | None = None


class Handover(Body):
    to: Ref | None = None


# -- hall administration (server/api/admin.py) --------------------------------------------------
# An entry as written in a config file; the catalogue's own models (server/domain/catalog.py)
# check it once merged, so errors name it by id (`items.<id>.prefix`) whatever its place here.
HallEntry = Annotated[dict[str, Any], Field(description="the hall's settings as in config/<hall>/hall.yaml")]
DepartmentEntry = Annotated[dict[str, Any], Field(description="a department as in config/<hall>/departments.yaml")]
ItemEntry = Annotated[dict[str, Any], Field(description="an item as in config/<hall>/items.yaml")]
WindowEntry = Annotated[dict[str, Any], Field(description="a window as in config/<hall>/windows.yaml")]


class CatalogEdit(Body):
    """A change of the catalogue made on top of revision `base_rev`: the hall's settings replaced,
    departments, items and windows upserted by id (a new id adds one; `retired: true` retires one,
    nothing is ever deleted). In force from `effective` (default today), or only previewed."""

    base_rev: Annotated[int, Field(ge=0)]
    effective: date | None = None
    dry_run: bool = False
    hall: HallEntry | None = None
    departments: Annotated[list[DepartmentEntry], Field(max_length=200)] = []
    items: Annotated[list[ItemEntry], Field(max_length=500)] = []
    windows: Annotated[list[WindowEntry], Field(max_length=200)] = []


class CatalogImport(Body):
    """Hall config files (`config/<hall>/*.yaml` as an export holds them) in place of the catalogue:
    what they lack is kept and retired; the hall's own settings stay unless `with_hall`."""

    base_rev: Annotated[int, Field(ge=0)]
    files: Annotated[dict[Annotated[str, Field(max_length=200)], Annotated[str, Field(max_length=2_000_000)]], Field(max_length=10)]
    with_hall: bool = False
    effective: date | None = None
    dry_run: bool = False
