"""Browsing and searching the catalog."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.req("REQ-CAT-001")


def test_default_page_and_item_shape(client: TestClient) -> None:
    response = client.get("/products")
    assert response.status_code == 200
    body = response.json()
    assert len(body["items"]) == 20
    assert body["next_cursor"]
    item = body["items"][0]
    assert set(item) >= {"id", "sku", "name", "category", "price", "available"}
    assert isinstance(item["price"]["amount"], int)
    assert item["price"]["currency"] == "USD"


def test_cursor_walks_every_product_once(client: TestClient) -> None:
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/products", params=params).json()
        seen.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 200
    assert len(set(seen)) == 200
    assert seen == sorted(seen)


def test_category_filter_and_search(client: TestClient) -> None:
    toys = client.get("/products", params={"category": "toys", "limit": 100}).json()["items"]
    assert len(toys) == 25
    assert {p["category"] for p in toys} == {"toys"}
    found = client.get("/products", params={"q": "kite"}).json()["items"]
    assert found
    assert all("kite" in p["name"].lower() for p in found)
    assert client.get("/products", params={"q": "%"}).json()["items"] == []


@pytest.mark.parametrize("limit", [0, 101, -1, "ten"])
def test_limit_out_of_range_is_422(client: TestClient, limit: object) -> None:
    assert client.get("/products", params={"limit": limit}).status_code == 422


@pytest.mark.req("REQ-SEC-003")
@pytest.mark.parametrize("cursor", ["garbage", "cDo5OTk5OTk5OTk5OTk5", "@@@", "eDox"])
def test_foreign_cursor_is_422(client: TestClient, cursor: str) -> None:
    response = client.get("/products", params={"cursor": cursor})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("cursor", "first_page"),
    [("", True), ("0", True), ("9999999999", False), ("2147483647", False)],
)
def test_every_cursor_the_contract_allows_is_a_position(
    client: TestClient, cursor: str, first_page: bool
) -> None:
    """The contract's pattern is what the service decodes: a made-up cursor is a place in the
    catalog (past the largest id, nothing follows), never a 422."""
    parameter = next(
        p
        for p in client.get("/openapi.json").json()["paths"]["/products"]["get"]["parameters"]
        if p["name"] == "cursor"
    )
    assert re.fullmatch(parameter["schema"]["anyOf"][0]["pattern"], cursor)
    response = client.get("/products", params={"cursor": cursor})
    assert response.status_code == 200, response.text
    first = client.get("/products").json()["items"]
    assert response.json()["items"] == (first if first_page else [])


def test_product_detail(client: TestClient) -> None:
    first = client.get("/products", params={"limit": 1}).json()["items"][0]
    assert client.get(f"/products/{first['id']}").json() == first


@pytest.mark.req("REQ-SEC-003")
@pytest.mark.parametrize(
    ("product_id", "statuses"),
    [
        ("99999", {404}),
        ("0", {404, 422}),
        ("-5", {404, 422}),
        ("9" * 40, {404, 422}),
        ("abc", {404, 422}),
        ("1.5", {404, 422}),
        ("%00", {404, 422}),
    ],
)
def test_unknown_or_malformed_product_id(
    client: TestClient, product_id: str, statuses: set[int]
) -> None:
    response = client.get(f"/products/{product_id}")
    assert response.status_code in statuses
    assert response.headers["content-type"] == "application/problem+json"
