"""A printer fault shows in /metrics: the server's own printer (kiosk k2) runs out of paper, a
ticket is refused by it, and the figure names the kiosk and the state until the paper is back."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.surfaces.kiosk.conftest import wait_until


async def faults(client) -> dict[tuple[str, str], float]:  # type: ignore[no-untyped-def]
    text = await (await client.get("/metrics")).text()
    return {(s.labels["kiosk"], s.labels["state"]): s.value for f in text_string_to_metric_families(text)
            for s in f.samples if s.name == "hallq_printer_fault"}


async def test_a_printer_out_of_paper_is_a_fault_in_the_metrics(client, printer2) -> None:
    assert await faults(client) == {}
    printer2.paper = "out"
    r = await client.post("/api/v1/halls/t/kiosks/k2/tickets", json={"item": "a1"})
    assert r.status == 201

    async def seen() -> dict:
        return await faults(client)

    assert await wait_until(seen, timeout=10) == {("k2", "paper_out"): 1}
    printer2.paper = "ok"
    r = await client.post("/api/v1/halls/t/kiosks/k2/tickets", json={"item": "a1"})
    assert r.status == 201

    async def cleared() -> bool:
        return await faults(client) == {}

    await wait_until(cleared, timeout=10)
