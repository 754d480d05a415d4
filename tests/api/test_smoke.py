async def test_issue_and_call_over_http(client, login):
    r = await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})
    assert r.status == 201, await r.text()
    t = await r.json()
    h = await login("w1a")
    r = await client.post("/api/v1/halls/t/windows/w1/open", headers=h)
    assert r.status == 200, await r.text()
    r = await client.post("/api/v1/halls/t/windows/w1/call-next", headers=h)
    w = await r.json()
    assert w["ticket"]["id"] == t["id"]
