"""The cart."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from reference_service.settings import Settings
from tests.builders import customer

pytestmark = pytest.mark.req("REQ-CART-001")


def test_add_change_and_remove_lines(client: TestClient) -> None:
    headers = customer(client)
    assert client.get("/cart", headers=headers).json()["items"] == []
    cart = client.put("/cart/items/1", json={"quantity": 2}, headers=headers).json()
    price = cart["items"][0]["unit_price"]["amount"]
    assert cart["total"]["amount"] == 2 * price
    cart = client.put("/cart/items/1", json={"quantity": 5}, headers=headers).json()
    assert cart["items"][0]["quantity"] == 5
    assert cart["item_count"] == 5
    removed = client.delete("/cart/items/1", headers=headers)
    assert removed.status_code == 200
    assert removed.json()["items"] == []
    assert client.delete("/cart/items/1", headers=headers).status_code == 404


@pytest.mark.parametrize("quantity", [0, 100, -1, 10**30, "2", 1.5, None])
def test_quantity_outside_1_to_99_is_422(client: TestClient, quantity: object) -> None:
    headers = customer(client)
    response = client.put("/cart/items/1", json={"quantity": quantity}, headers=headers)
    assert response.status_code == 422


def test_unknown_product_is_404(client: TestClient) -> None:
    response = client.put("/cart/items/99999", json={"quantity": 1}, headers=customer(client))
    assert response.status_code == 404


def test_cart_is_private_and_needs_a_token(client: TestClient) -> None:
    alice, bob = customer(client), customer(client)
    client.put("/cart/items/3", json={"quantity": 1}, headers=alice)
    assert client.get("/cart", headers=bob).json()["items"] == []
    assert client.get("/cart").status_code == 401


def test_at_most_max_lines(client: TestClient, settings: Settings) -> None:
    headers = customer(client)
    for product_id in range(1, settings.max_cart_lines + 1):
        response = client.put(f"/cart/items/{product_id}", json={"quantity": 1}, headers=headers)
        assert response.status_code == 200
    over = client.put(
        f"/cart/items/{settings.max_cart_lines + 1}", json={"quantity": 1}, headers=headers
    )
    assert over.status_code == 409
    assert over.json()["type"].endswith("cart-full")
    # changing an existing line is still fine
    assert client.put("/cart/items/1", json={"quantity": 3}, headers=headers).status_code == 200
