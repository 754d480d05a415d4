"""The halls of one deployment as a region: city centre → county centres → township centres.

Pure rules: who is above whom, who may look at which hall (a city's managers see every hall
below it; a hall's staff see their own), and the checks a set of halls must pass (a parent
exists, sits one level or more above, and no hall is its own ancestor).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from .catalog import Hall

RANK = {"province": 0, "city": 1, "county": 2, "township": 3}


class RegionError(ValueError):
    pass


@dataclass(frozen=True)
class Region:
    halls: Mapping[str, Hall]

    @classmethod
    def of(cls, halls: Iterable[Hall]) -> Region:
        region = cls({h.id: h for h in halls})
        region.check()
        return region

    def check(self) -> None:
        for h in self.halls.values():
            if h.parent is None:
                continue
            parent = self.halls.get(h.parent)
            if parent is None:
                raise RegionError(f"hall {h.id!r}: parent: no hall {h.parent!r} in this deployment")
            if RANK[parent.level] >= RANK[h.level]:
                raise RegionError(f"hall {h.id!r}: parent: {parent.id!r} is a {parent.level} hall, not above a {h.level} hall")
        for h in self.halls.values():
            self.ancestors(h.id)  # raises on a cycle

    def ancestors(self, hall: str) -> list[str]:
        """From the parent up to the top."""
        out: list[str] = []
        current = self.halls[hall].parent
        while current is not None:
            if current == hall or current in out:
                raise RegionError(f"hall {hall!r}: parent: the halls' parents form a loop")
            out.append(current)
            current = self.halls[current].parent
        return out

    @cached_property
    def _children(self) -> dict[str, tuple[str, ...]]:
        """Each hall's children in id order, found once (a province holds thousands of halls, and
        every request of a city's manager asks which halls are below)."""
        out: dict[str, list[str]] = {}
        for h in self.halls.values():
            if h.parent is not None:
                out.setdefault(h.parent, []).append(h.id)
        return {parent: tuple(sorted(ids)) for parent, ids in out.items()}

    @cached_property
    def _below(self) -> dict[str, tuple[str, ...]]:
        return {}

    def children(self, hall: str) -> list[str]:
        return list(self._children.get(hall, ()))

    def below(self, hall: str) -> list[str]:
        """The hall and every hall under it, depth first, children in id order."""
        found = self._below.get(hall)
        if found is None:
            out, stack = [], [hall]
            while stack:
                current = stack.pop()
                out.append(current)
                stack.extend(reversed(self._children.get(current, ())))
            found = self._below[hall] = tuple(out)
        return list(found)

    def covers(self, above: str, hall: str) -> bool:
        """Whether staff of `above` may look after `hall` (it is the hall itself or one of its ancestors)."""
        return above == hall or above in self.ancestors(hall)

    def depth(self, hall: str) -> int:
        return len(self.ancestors(hall))
