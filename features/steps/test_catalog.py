"""Browse and search the catalog (features/catalog)."""

from __future__ import annotations

from typing import Any

import httpx
from pytest_bdd import given, parsers, scenarios, then, when

from features.support.api import Account, create_product, expect, unique

scenarios("catalog")


@given(parsers.parse("{count:d} products in a new category"), target_fixture="category_products")
def products_in_new_category(
    http: httpx.Client, admin: Account, count: int
) -> list[dict[str, Any]]:
    category = unique("cat")
    return [
        create_product(http, admin, price=1000 + i, stock=i + 1, category=category)
        for i in range(count)
    ]


@when("a shopper browses that category", target_fixture="response")
def browse_category(http: httpx.Client, category_products: list[dict[str, Any]]) -> httpx.Response:
    return http.get("/products", params={"category": category_products[0]["category"]})


@then(parsers.parse("the page lists exactly those {count:d} products"))
def lists_exactly(
    response: httpx.Response, category_products: list[dict[str, Any]], count: int
) -> None:
    page = expect(response, 200, "browsing")
    listed = sorted(item["id"] for item in page["items"])
    wanted = sorted(p["id"] for p in category_products)
    if listed != wanted or len(listed) != count:
        raise AssertionError(f"expected products {wanted}, the page lists {listed}")


@then("every listed product shows its price and availability")
def shows_price_and_availability(
    response: httpx.Response, category_products: list[dict[str, Any]]
) -> None:
    created = {p["id"]: p for p in category_products}
    for item in response.json()["items"]:
        want = created[item["id"]]
        if item["price"] != want["price"] or item["available"] != want["available"]:
            raise AssertionError(f"listing shows {item}, the product was created as {want}")


@when(
    parsers.parse("a shopper pages through that category {size:d} at a time"),
    target_fixture="pages",
)
def page_through(
    http: httpx.Client, category_products: list[dict[str, Any]], size: int
) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {"category": category_products[0]["category"], "limit": size}
    while len(pages) <= len(category_products):  # a cursor that never ends is a failure too
        page = expect(http.get("/products", params=params), 200, f"reading page {len(pages) + 1}")
        pages.append(page)
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    return pages


@then(parsers.parse("the shopper saw {count:d} pages"))
def saw_pages(pages: list[dict[str, Any]], count: int) -> None:
    sizes = [len(p["items"]) for p in pages]
    if len(pages) != count:
        raise AssertionError(f"expected {count} pages, got {len(pages)} with sizes {sizes}")


@then(parsers.parse("the shopper saw each of the {count:d} products exactly once"))
def saw_each_once(
    pages: list[dict[str, Any]], category_products: list[dict[str, Any]], count: int
) -> None:
    seen = [item["id"] for page in pages for item in page["items"]]
    wanted = sorted(p["id"] for p in category_products)
    if sorted(seen) != wanted or len(seen) != count:
        raise AssertionError(f"expected each of {wanted} once, saw {seen}")


@given(
    parsers.parse('a product named "{name}" with a unique word in its name'),
    target_fixture="product",
)
def product_with_unique_word(http: httpx.Client, admin: Account, name: str) -> dict[str, Any]:
    word = unique("zq").replace("-", "")
    return create_product(http, admin, name=f"{name} {word}")


@when("a shopper searches for that word", target_fixture="response")
def search_word(http: httpx.Client, product: dict[str, Any]) -> httpx.Response:
    return http.get("/products", params={"q": product["name"].split()[-1]})


@then("the results are exactly that product")
def results_are_product(response: httpx.Response, product: dict[str, Any]) -> None:
    found = [item["id"] for item in expect(response, 200, "searching")["items"]]
    if found != [product["id"]]:
        raise AssertionError(f"expected only product {product['id']}, search found {found}")


@when("a shopper views that product", target_fixture="response")
def view_product(http: httpx.Client, product: dict[str, Any]) -> httpx.Response:
    return http.get(f"/products/{product['id']}")


@then(parsers.parse("the product shows price {price:d} {currency} and {available:d} available"))
def product_shows(response: httpx.Response, price: int, currency: str, available: int) -> None:
    body = response.json()
    if body["price"] != {"amount": price, "currency": currency} or body["available"] != available:
        raise AssertionError(
            f"expected price {price} {currency} and {available} available, got {body['price']} "
            f"and {body['available']} available"
        )
