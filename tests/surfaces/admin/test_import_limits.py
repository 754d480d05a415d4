"""Imports that would freeze the hall: a zip bomb whose header lies, YAML too big or too slow to
read, and YAML that means something else than it says (duplicate keys, ids that are lists).
Each is refused with a 4xx problem while the event loop goes on answering, and nothing is stored."""

from __future__ import annotations

import asyncio
import struct
import time
import zlib
from pathlib import Path

import pytest
import yaml

from server.api import Settings, create_app
from server.config import ConfigError, load_halls
from server.config.reading import ImportLimits
from tests.halls import small_config, write_config

ADMIN = "/api/v1/halls/t/admin"
GIB = 1 << 30


def _zip(entries: list[tuple[str, bytes, int, int, int]], method: int = 8) -> bytes:
    """A zip written by hand, so that each entry declares the size we choose: (name, deflated data,
    crc, the true size, the declared size); `method` 8 is deflate, 12 bzip2."""
    body, central = b"", b""
    for name, data, crc, _, declared in entries:
        raw = name.encode()
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc, len(data), declared, len(raw), 0, 0, 0, 0,
                               0, len(body)) + raw
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, len(data), declared, len(raw), 0) + raw + data
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(body), 0)
    return body + central + end


@pytest.fixture(scope="module")
def gib_of_zeros() -> tuple[bytes, int]:
    """1 GiB of zeros deflated (about 1 MB), made without holding the GiB: after a sync flush the
    deflater is in the same state for every further MiB of zeros, so its output repeats."""
    chunk = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(chunk) + c.flush(zlib.Z_SYNC_FLUSH)
    steady = c.compress(chunk) + c.flush(zlib.Z_SYNC_FLUSH)
    last = c.compress(chunk) + c.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(GIB // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    return first + steady * (GIB // len(chunk) - 2) + last, crc


def _deflated(text: str) -> tuple[bytes, int, int]:
    raw = text.encode()
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(raw) + c.flush(), zlib.crc32(raw), len(raw)


def _small_files() -> dict[str, str]:
    data = small_config().model_dump(mode="json", exclude_defaults=True)
    return {f"{k}.yaml": yaml.safe_dump(data[k], allow_unicode=True) for k in ("departments", "items", "windows")}


async def _while_answering(client, request):  # type: ignore[no-untyped-def]
    """Run `request` while /api/v1/health is asked again and again: the answer, how long it took,
    and the slowest health answer meanwhile. An event loop held by the request would make some
    health answer wait about as long as the request itself; a busy machine slows both alike."""
    done = asyncio.Event()
    slowest = 0.0
    answered = 0

    async def health() -> None:
        nonlocal slowest, answered
        while not done.is_set() or answered == 0:
            t = time.monotonic()
            r = await client.get("/api/v1/health")
            await r.read()
            slowest = max(slowest, time.monotonic() - t)
            answered += 1

    async def timed():  # type: ignore[no-untyped-def]
        t = time.monotonic()
        try:
            r = await request()
            return r, await r.json(), time.monotonic() - t
        finally:
            done.set()

    probe = asyncio.create_task(health())
    r, body, took = await timed()
    await asyncio.wait_for(probe, 10)
    return r, body, took, slowest


async def _moving(request) -> float:  # type: ignore[no-untyped-def]
    """How long a request of the same size takes when it is refused before anything is read: what
    the body's transport costs on this machine now, to add to the time limits asserted."""
    t = time.monotonic()
    r = await request()
    await r.read()
    assert 400 <= r.status < 500, await r.text()
    return time.monotonic() - t


async def _unchanged(client, h) -> None:  # type: ignore[no-untyped-def]
    doc = await (await client.get(ADMIN + "/catalog", headers=h)).json()
    assert doc["rev"] == 0 and len(doc["revisions"]) == 1


@pytest.mark.parametrize("declared", [100, 5 << 20, GIB], ids=["declares-100-bytes", "declares-5-MiB", "declares-the-truth"])
async def test_a_zip_bomb_is_refused_within_a_second_while_the_hall_answers(client, login, gib_of_zeros, declared):
    """1 GiB of zeros in a 1 MB zip; whatever size its header declares, it is read as a bounded
    stream and refused once the limit is passed, never unpacked."""
    h = await login("admin")
    bomb, crc = gib_of_zeros
    others = [(f"t/{name}", *_deflated(text)) for name, text in _small_files().items() if name != "items.yaml"]
    raw = _zip([("t/items.yaml", bomb, crc, GIB, declared), *[(n, d, c, s, s) for n, d, c, s in others]])
    assert len(raw) < 2 << 20

    r, problem, took, slowest = await _while_answering(
        client, lambda: client.post(ADMIN + "/import?base_rev=0", data=raw, headers={**h, "Content-Type": "application/zip"}))
    assert r.status == 422, problem
    assert r.content_type == "application/problem+json" and "items.yaml" in problem["detail"]
    moving = await _moving(lambda: client.post(ADMIN + "/import?base_rev=0", data=raw, headers={**h, "Content-Type": "text/plain"}))
    assert took < 1.0 + moving, f"refused after {took:.2f} s ({moving:.2f} s to move the body)"
    assert slowest < max(0.5, took / 2), f"health waited {slowest:.2f} s of {took:.2f} s"
    await _unchanged(client, h)


async def test_a_zip_of_many_entries_or_another_compression_is_refused(client, login):
    h = await login("admin")
    data, crc, size = _deflated("[]")
    many = _zip([(f"t/{n}.yaml", data, crc, size, size) for n in range(40)])
    r = await client.post(ADMIN + "/import?base_rev=0", data=many, headers={**h, "Content-Type": "application/zip"})
    assert r.status == 422 and "entries" in (await r.json())["detail"]
    bzip = _zip([("t/items.yaml", data, crc, size, size)], method=12)  # bzip2 inflates without a bound per read
    r = await client.post(ADMIN + "/import?base_rev=0", data=bzip, headers={**h, "Content-Type": "application/zip"})
    assert r.status == 422, await r.text()
    await _unchanged(client, h)


def _flow(n: int) -> str:
    return "[" + "0, " * n + "0]"


async def test_a_huge_yaml_is_refused_within_a_second_while_the_hall_answers(client, login):
    """Close to 2 MB of tiny values (about 650,000 of them): far beyond any catalogue."""
    h = await login("admin")
    files = {**_small_files(), "departments.yaml": _flow(650_000)}
    r, problem, took, slowest = await _while_answering(
        client, lambda: client.post(ADMIN + "/import", json={"base_rev": 0, "files": files}, headers=h))
    assert r.status == 422, problem
    # refused by the count of values, or by the time limit first on a busy machine
    assert "departments.yaml" in problem["detail"] and ("values" in problem["detail"] or "longer than" in problem["detail"])
    moving = await _moving(lambda: client.post(ADMIN + "/import", json={"base_rev": 0, "files": {"notes.txt": "", **files}}, headers=h))
    assert took < ImportLimits().parse_s + 0.5 + moving, f"refused after {took:.2f} s ({moving:.2f} s to move the body)"
    assert slowest < max(0.5, took / 2), f"health waited {slowest:.2f} s of {took:.2f} s"
    await _unchanged(client, h)


async def test_ten_huge_yamls_at_once_are_each_refused_or_told_to_wait_while_the_hall_answers(client, login):
    """The probe's ten big files at once took 157 s on the event loop. One import is read at a
    time; the others wait up to the time limit for it, then hear 429 with Retry-After."""
    h = await login("admin")
    files = {**_small_files(), "departments.yaml": _flow(650_000)}

    async def ten():  # type: ignore[no-untyped-def]
        answers = await asyncio.gather(*(client.post(ADMIN + "/import", json={"base_rev": 0, "files": files}, headers=h)
                                         for _ in range(10)))
        statuses = [a.status for a in answers]
        assert all(s in (422, 429) for s in statuses), statuses
        assert 422 in statuses and all("Retry-After" in a.headers for a in answers if a.status == 429)
        return answers[0]

    _, _, took, slowest = await _while_answering(client, ten)
    moving = await _moving(lambda: client.post(ADMIN + "/import", json={"base_rev": 0, "files": {"notes.txt": "", **files}}, headers=h))
    assert took < 3 * ImportLimits().parse_s + 10 * moving + 0.5, f"answered after {took:.2f} s ({moving:.2f} s to move one body)"
    assert slowest < max(0.5, took / 2), f"health waited {slowest:.2f} s of {took:.2f} s"
    await _unchanged(client, h)


async def test_a_yaml_slower_to_read_than_the_time_limit_is_refused_at_the_limit(tmp_path, config_dir, clock, aiohttp_client):
    limits = ImportLimits(parse_s=0.2)
    app = create_app(Settings(config_dir=config_dir, data_dir=tmp_path / "data", clock=clock, imports=limits))
    client = await aiohttp_client(app)
    login = await client.post("/api/v1/auth/login", json={"username": "admin", "password": "demo"})
    h = {"Authorization": "Bearer " + (await login.json())["token"]}
    files = {**_small_files(), "departments.yaml": _flow(limits.max_nodes - 10)}
    r, problem, took, slowest = await _while_answering(
        client, lambda: client.post(ADMIN + "/import", json={"base_rev": 0, "files": files}, headers=h))
    assert r.status == 422, problem
    assert "0.2 s" in problem["detail"]
    moving = await _moving(lambda: client.post(ADMIN + "/import", json={"base_rev": 0, "files": {"notes.txt": "", **files}}, headers=h))
    assert took < 1.0 + moving and slowest < max(0.5, took / 2), (took, moving, slowest)
    await _unchanged(client, h)


@pytest.mark.parametrize(
    "name,text,says",
    [
        ("items.yaml", "- id: a1\n  name: 甲一\n  prefix: A\n  prefix: Z\n", "duplicate key 'prefix'"),
        ("departments.yaml", "- id: a\n  name: 甲局\n- id: b\n  name: 乙局\n  id: c\n", "line 5"),
        ("departments.yaml", "- &x {id: a, name: 甲局}\n- *x\n", "aliases"),
        ("departments.yaml", "[" * 5000 + "]" * 5000, "nest"),
        ("items.yaml", "- id: [a1, a2]\n  name: 甲一\n", "items[0].id"),
        ("items.yaml", "- id: 12\n  name: 甲一\n", "items[0].id"),
        ("departments.yaml", "- id: {a: 1}\n", "departments[0].id"),
        ("windows.yaml", "- id: w1\n  name: 1号窗口\n  kind: dedicated\n  items: [[a1]]\n", "windows[0].items[0]"),
        ("departments.yaml", "- [a, b]\n", "departments[0]"),
    ],
    ids=["duplicate-key", "duplicate-id-key-names-its-line", "alias", "nested-5000-deep", "list-as-id", "number-as-id",
         "mapping-as-id", "list-as-window-item", "list-as-entry"],
)
async def test_yaml_that_means_something_else_than_it_says_is_refused_never_a_500(client, login, name, text, says):
    h = await login("admin")
    files = {**_small_files(), name: text}
    r = await client.post(ADMIN + "/import", json={"base_rev": 0, "files": files, "with_hall": True}, headers=h)
    assert r.status == 422, await r.text()
    problem = await r.json()
    assert r.content_type == "application/problem+json" and says in problem["detail"], problem
    assert name in problem["detail"] or name.split(".")[0] in problem["detail"]
    await _unchanged(client, h)


def test_the_config_folder_is_read_as_strictly_as_an_import(tmp_path: Path):
    write_config(tmp_path)
    items = tmp_path / "t" / "items.yaml"
    good = items.read_text(encoding="utf-8")
    assert "t" in load_halls(tmp_path)
    items.write_text(good.replace("  prefix: A\n", "  prefix: A\n  prefix: Z\n", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"items.yaml: line \d+: duplicate key 'prefix'"):
        load_halls(tmp_path)
    items.write_text(good.replace("  id: a1\n", "  id: [a1]\n", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"items.yaml: \[0\]\.id: an id is text"):
        load_halls(tmp_path)
