"""The one rule of authority, `may(actor, action, resource)`, over every role × action × resource."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from server.domain.access import EVALUATOR, HOLDER, Actor, Resource, may, refusal, staff_actor, windows_of
from server.domain.catalog import Action, Hall, Role
from tests.halls import small_catalog

A = Action
ALL_BUT_CITIZENS = frozenset(Action) - {A.rate, A.cancel}
READS = {A.read_figures, A.read_records}

ACTORS = {
    "admin": Actor("admin", "t"),
    "manager": Actor("manager", "t", region=frozenset({"town"})),
    "chief": Actor("chief", "t", frozenset({"w1", "w3"}), department="a"),
    "clerk": Actor("clerk", "t", frozenset({"w1"})),
    "county manager": Actor("manager", "county", region=frozenset({"t", "town"})),
    "county clerk": Actor("clerk", "county", frozenset({"w1"})),
    "other manager": Actor("manager", "other"),
    "holder of X": Actor(HOLDER, "t", ticket="X"),
    "evaluator of w1": Actor(EVALUATOR, "t", frozenset({"w1"})),
}
RESOURCES = {
    "hall": Resource("t"),
    "w1": Resource("t", "w1"),
    "w2": Resource("t", "w2"),
    "ticket X (dept a, at w1)": Resource("t", "w1", "X", "a"),
    "ticket Y (dept b, at w2)": Resource("t", "w2", "Y", "b"),
    "w1, halls above may operate": Resource("t", "w1", managers_above=frozenset({A.operate})),
}
CHIEF_ANYWHERE = {A.read_figures, A.issue, A.supervise}
# Who may what on which; every pair not listed may nothing.
ALLOWED: dict[tuple[str, str], set[Action]] = {
    **{("admin", r): set(ALL_BUT_CITIZENS) for r in RESOURCES},
    **{("manager", r): set(ALL_BUT_CITIZENS) for r in RESOURCES},
    ("chief", "hall"): CHIEF_ANYWHERE,
    ("chief", "w1"): CHIEF_ANYWHERE | {A.operate, A.conclude},
    ("chief", "w2"): CHIEF_ANYWHERE,
    ("chief", "ticket X (dept a, at w1)"): CHIEF_ANYWHERE | {A.operate, A.conclude},
    ("chief", "ticket Y (dept b, at w2)"): CHIEF_ANYWHERE,
    ("chief", "w1, halls above may operate"): CHIEF_ANYWHERE | {A.operate, A.conclude},
    ("clerk", "hall"): {A.issue},
    ("clerk", "w1"): {A.issue, A.operate, A.conclude},
    ("clerk", "w2"): {A.issue},
    ("clerk", "ticket X (dept a, at w1)"): {A.issue, A.operate, A.conclude},
    ("clerk", "ticket Y (dept b, at w2)"): {A.issue},
    ("clerk", "w1, halls above may operate"): {A.issue, A.operate, A.conclude},
    **{("county manager", r): set(READS) for r in RESOURCES},
    ("county manager", "w1, halls above may operate"): READS | {A.operate},
    ("holder of X", "ticket X (dept a, at w1)"): {A.rate, A.cancel},
    ("evaluator of w1", "w1"): {A.rate},
    ("evaluator of w1", "ticket X (dept a, at w1)"): {A.rate},
    ("evaluator of w1", "w1, halls above may operate"): {A.rate},
}

CASES = [(a, act, r) for a in ACTORS for act in Action for r in RESOURCES]


@pytest.mark.parametrize("actor, action, resource", CASES, ids=[f"{a}|{act.value}|{r}" for a, act, r in CASES])
def test_may_answers_the_table(actor, action, resource):
    expected = action in ALLOWED.get((actor, resource), set())
    assert may(ACTORS[actor], action, RESOURCES[resource]) is expected


def test_nobody_on_the_staff_rates_or_cancels_and_every_refusal_says_why():
    for name, actor in ACTORS.items():
        for action in Action:
            for resource in RESOURCES.values():
                if not may(actor, action, resource):
                    problem = refusal(actor, action, resource)
                    assert problem.status == 403 and problem.code and problem.detail
        if actor.role in {r.value for r in Role}:
            assert not any(may(actor, a, r) for a in (A.rate, A.cancel) for r in RESOURCES.values()), name
    below = refusal(ACTORS["county manager"], A.manage_staff, RESOURCES["hall"])
    assert below.code == "read-only-below"
    assert refusal(ACTORS["clerk"], A.operate, RESOURCES["w2"]).code == "not-your-window"
    assert refusal(ACTORS["clerk"], A.rate, RESOURCES["ticket X (dept a, at w1)"]).code == "holder-only"


def test_staff_are_seen_with_their_windows_from_the_catalogue():
    catalog = small_catalog()
    users = catalog.users
    assert windows_of(users["w1a"], catalog) == ["w1"]
    assert windows_of(users["boss"], catalog) == ["w1", "w2", "w3"]
    chief = users["w1a"].model_copy(update={"role": Role.chief, "windows": (), "department": "b"})
    assert staff_actor(chief, "t", catalog).windows == {"w2", "w3"}  # the windows serving department b's items


def test_a_hall_delegates_only_what_is_not_reading_or_the_citizens():
    assert Hall(id="x", name="x", managers_above=["operate", "manage-staff"]).managers_above == (A.operate, A.manage_staff)
    for refused in ("rate", "read-figures", "nonsense"):
        with pytest.raises(ValidationError, match="managers_above"):
            Hall(id="x", name="x", managers_above=[refused])
