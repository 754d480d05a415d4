"""Shared fixtures: a small hall on a real SQLite journal, served by the real app."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.api import Settings, create_app
from tests.halls import FakeClock, write_config


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    write_config(folder)
    return folder


@pytest.fixture
def settings(tmp_path: Path, config_dir: Path, clock: FakeClock) -> Settings:
    return Settings(config_dir=config_dir, data_dir=tmp_path / "data", clock=clock, issue_rate_per_s=0)


@pytest.fixture
async def client(aiohttp_client, settings: Settings):  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def login(client):  # type: ignore[no-untyped-def]
    async def _login(username: str, password: str = "demo") -> dict[str, str]:
        resp = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert resp.status == 200, await resp.text()
        return {"Authorization": f"Bearer {(await resp.json())['token']}"}

    return _login


@pytest.fixture(autouse=True)
def _national_calendar():  # type: ignore[no-untyped-def]
    """A test that adds a year to the national calendar (process-wide) leaves it as it found it."""
    from server.domain import calendar

    known = calendar.national()
    yield
    calendar._national = known


@pytest.fixture(scope="session")
def hallq_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This tree's wheel, built once per run (tests/venvs.py installs it into fresh virtualenvs)."""
    from tests.venvs import build_wheel

    return build_wheel(Path(__file__).resolve().parent.parent, tmp_path_factory.mktemp("wheel"))
