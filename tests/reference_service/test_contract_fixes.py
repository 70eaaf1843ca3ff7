"""Regressions for what the contract suite's Schemathesis run found in the service."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.builders import admin, customer


def test_whole_number_floats_are_integers_as_json_schema_says(client: TestClient) -> None:
    headers = customer(client)
    accepted = client.put("/cart/items/1", json={"quantity": 2.0}, headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["items"][0]["quantity"] == 2
    for bad in (2.5, "2", True):
        response = client.put("/cart/items/1", json={"quantity": bad}, headers=headers)
        assert response.status_code == 422, bad


def test_405_allow_lists_every_method_of_the_resource(client: TestClient) -> None:
    response = client.request("OPTIONS", "/users/me")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PATCH"
    assert client.request("OPTIONS", "/cart/items/1").headers["allow"] == "PUT, DELETE"


def test_products_cannot_be_free_because_checkout_could_not_charge(client: TestClient) -> None:
    headers = admin(client)
    body = {"sku": "FREE-1", "name": "Free", "category": "misc", "price": {"amount": 0}}
    assert client.post("/admin/products", json=body, headers=headers).status_code == 422
    patch = client.patch("/admin/products/1", json={"price": {"amount": 0}}, headers=headers)
    assert patch.status_code == 422


def test_the_schema_says_what_the_service_refuses(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    create = document["paths"]["/orders"]["post"]
    key = next(p for p in create["parameters"] if p["name"] == "Idempotency-Key")
    assert key["required"] is True
    assert key["schema"]["maxLength"] == 255
    user = document["components"]["schemas"]["UserCreate"]["properties"]
    assert "\\x00" in user["full_name"]["pattern"]
    assert "|test)$" in user["email"]["pattern"]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert create["responses"]["401"]["content"] == problem
    assert document["paths"]["/users/me"]["get"]["responses"]["401"]["content"] == problem


def test_links_describe_the_checkout_workflow(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    links = document["paths"]["/orders"]["post"]["responses"]["201"]["links"]
    assert links["GetOrder"] == {
        "operationId": "orders-get",
        "parameters": {"path.order_id": "$response.body#/id"},
    }
    assert links["CancelOrder"]["operationId"] == "orders-cancel"
