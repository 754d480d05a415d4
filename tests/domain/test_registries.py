"""Every command has a rule and every event a fold: the tables are complete, with nothing patched in later."""

from __future__ import annotations

import inspect

import pytest

from server.domain import apply, decide
from server.domain import commands as cmd
from server.domain import events as ev


def _classes(module: object, base: type) -> list[type]:
    return [c for _, c in inspect.getmembers(module, inspect.isclass) if issubclass(c, base) and c.__module__ == module.__name__]  # type: ignore[attr-defined]


def test_every_command_type_has_a_decider() -> None:
    commands = [c for c in _classes(cmd, cmd.Command) if not c.__subclasses__()]  # Command, WindowCommand are bases
    assert len(commands) >= 30
    missing = [c.__name__ for c in commands if c not in decide.deciders()]
    assert missing == []
    assert set(decide.deciders()) == set(commands)


def test_every_event_type_is_decoded_and_has_its_own_apply_rule() -> None:
    events = [c for c in _classes(ev, ev.Event) if c is not ev.Event]
    assert len(events) >= 30
    assert sorted(c.__name__ for c in ev.EVENT_TYPES.values()) == sorted(c.__name__ for c in events)
    # Registered for the class itself, not inherited: ServiceFinishedLate must not fold as a ServiceFinished.
    assert [c.__name__ for c in events if c not in apply._apply.registry] == []


def test_a_command_decided_twice_is_refused_when_the_tables_are_gathered() -> None:
    def twice(*_: object) -> list[ev.Event]:
        return []

    with pytest.raises(TypeError, match="CallNext is decided twice"):
        decide._gather([{cmd.CallNext: twice}, {cmd.CallNext: twice}])
