"""Solving the server's proof-of-work challenges in tests, as a phone's page does (kiosk/static/proof.js)."""

from __future__ import annotations

from typing import Any

from server.domain.proof import solves


def solve(challenge: str, bits: int) -> str:
    n = 0
    while not solves(challenge, str(n), bits):
        n += 1
    return str(n)


def solved(answer: dict[str, Any]) -> dict[str, str]:
    """The `proof` of a POST .../challenge answer."""
    return {"challenge": answer["challenge"], "answer": solve(answer["challenge"], answer["bits"])}


async def proof(client: Any, base: str = "", hall: str = "t") -> dict[str, str]:
    """A fresh solved challenge from a test client (base "") or a session on a live server (base its URL)."""
    r = await client.post(f"{base}/api/v1/halls/{hall}/challenge")
    assert r.status == 200, await r.text()
    return solved(await r.json())
