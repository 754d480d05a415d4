"""The OpenAPI document covers every API route, and real answers match its schemas."""

from __future__ import annotations

import jsonschema

from server.api.openapi import REF


async def test_every_api_route_is_in_the_document(client):
    spec = await (await client.get("/api/v1/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    routes = {
        (r.method, r.resource.get_info().get("path") or r.resource.get_info().get("formatter"))
        for r in client.app.router.routes()
        if r.method != "HEAD" and r.resource is not None
    }
    api_routes = {(m, p) for m, p in routes if p and p.startswith("/api/v1/") and p not in ("/api/v1/openapi.json", "/api/v1/docs")}
    assert api_routes <= documented, api_routes - documented
    assert ("POST", "/api/v1/halls/{hall}/windows/{window}/finish") in documented
    finish = spec["paths"]["/api/v1/halls/{hall}/windows/{window}/finish"]["post"]
    assert finish["requestBody"]["content"]["application/json"]["schema"]["$ref"] == REF.format(model="Finish")
    assert "case_type" in spec["components"]["schemas"]["Finish"]["required"]
    page = await (await client.get("/api/v1/docs")).text()
    assert "/api/v1/halls/{hall}/tickets" in page


def validator(spec: dict, path: str, method: str, status: int):  # type: ignore[no-untyped-def]
    op = spec["paths"][path][method]
    content = op["responses"][str(status)]["content"]
    schema = next(iter(content.values()))["schema"]
    return lambda data: jsonschema.validate(data, {**schema, "components": spec["components"]},
                                            cls=jsonschema.Draft202012Validator)


async def test_answers_match_their_documented_schemas(client, login):
    spec = await (await client.get("/api/v1/openapi.json")).json()
    # components are referenced as #/components/schemas/X: resolve them inside one document
    r = await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})
    ticket = await r.json()
    validator(spec, "/api/v1/halls/{hall}/tickets", "post", 201)(ticket)
    validator(spec, "/api/v1/halls/{hall}/tickets/{ticket}", "get", 200)(
        await (await client.get(ticket["status_url"])).json()
    )
    h = await login("w1a")
    await client.post("/api/v1/halls/t/windows/w1/open", headers=h)
    w = await (await client.post("/api/v1/halls/t/windows/w1/call-next", headers=h)).json()
    validator(spec, "/api/v1/halls/{hall}/windows/{window}/call-next", "post", 200)(w)
    validator(spec, "/api/v1/halls/{hall}/windows", "get", 200)(await (await client.get("/api/v1/halls/t/windows")).json())
    validator(spec, "/api/v1/halls/{hall}/queues", "get", 200)(await (await client.get("/api/v1/halls/t/queues")).json())
    validator(spec, "/api/v1/halls/{hall}/catalog", "get", 200)(await (await client.get("/api/v1/halls/t/catalog")).json())
    validator(spec, "/api/v1/halls", "get", 200)(await (await client.get("/api/v1/halls")).json())
    boss = await login("boss")
    validator(spec, "/api/v1/halls/{hall}/events", "get", 200)(
        await (await client.get("/api/v1/halls/t/events", headers=boss)).json()
    )
    validator(spec, "/api/v1/halls/{hall}/users", "get", 200)(await (await client.get("/api/v1/halls/t/users", headers=boss)).json())
    problem = await (await client.get("/api/v1/halls/t/tickets/nope")).json()
    validator(spec, "/api/v1/halls/{hall}/tickets/{ticket}", "get", 404)(problem)
