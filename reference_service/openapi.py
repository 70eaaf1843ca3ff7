"""The service's OpenAPI document: FastAPI's, plus what FastAPI cannot infer from a route.

Added here, once, when the document is first built (deterministically, in place):

- errors: every operation documents the problem+json responses it can give. Generic ones
  follow from the route itself (a body method can get 400/413/415 from the edge middleware, a
  bearer-secured one 401, an admin one 403, one with path ids 404, one with inputs 422);
  business ones are listed per operation in `DOMAIN_ERRORS`.
- links: how one operation's response feeds the next (register -> login -> add to cart ->
  order -> get order -> cancel), so clients and stateful API testers can follow workflows.
  A link to an operation or response that does not exist fails when the document is built.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from reference_service.errors import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem detail; `type` ends in a stable error code.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["/problems/not-found"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Where and what for validation errors (never the input itself).",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}
_BODY_METHODS = {"post", "put", "patch"}
_GENERIC: dict[str, str] = {
    "400": "Malformed request (e.g. a bad Content-Length)",
    "401": "Missing, invalid or expired bearer token",
    "403": "The caller lacks the admin role",
    "404": "Not found, or not the caller's to see",
    "413": "Request body over the size limit",
    "415": "Request body is not JSON",
    "422": "The request is not valid",
}
# Business rules an operation can refuse with, beyond the generic ones.
DOMAIN_ERRORS: dict[str, dict[str, str]] = {
    "users-register": {"409": "The email is already registered"},
    "users-login": {"401": "Unknown email or wrong password"},
    "catalog-list-products": {"422": "Invalid query or cursor"},
    "orders-create": {"404": "A product in the order does not exist"},
    "orders-cancel": {"409": "The order can no longer be cancelled"},
    "admin-create-product": {"409": "The SKU already exists"},
}

# operationId -> response status -> link name -> OpenAPI Link Object.
LINKS: dict[str, dict[str, dict[str, dict[str, Any]]]] = {
    "users-register": {
        "201": {
            "LogIn": {
                "operationId": "users-login",
                "description": "Log in with the credentials just registered.",
                "requestBody": {
                    "email": "$request.body#/email",
                    "password": "$request.body#/password",
                },
            }
        }
    },
    "users-login": {
        "200": {
            "BrowseProducts": {
                "operationId": "catalog-list-products",
                "description": "Logged in: browse the catalog.",
            }
        }
    },
    "catalog-list-products": {
        "200": {
            "GetFirstProduct": {
                "operationId": "catalog-get-product",
                "parameters": {"path.product_id": "$response.body#/items/0/id"},
            },
            "AddFirstProductToCart": {
                "operationId": "cart-set-item",
                "parameters": {"path.product_id": "$response.body#/items/0/id"},
            },
        }
    },
    "catalog-get-product": {
        "200": {
            "AddToCart": {
                "operationId": "cart-set-item",
                "parameters": {"path.product_id": "$response.body#/id"},
            }
        }
    },
    "cart-set-item": {
        "200": {
            "CheckOutCart": {
                "operationId": "orders-create",
                "description": "Place an order for the cart (no `items`), paying with a test card.",
                "requestBody": {"payment": {"token": "tok_visa"}},
            },
            "RemoveFirstLine": {
                "operationId": "cart-remove-item",
                "parameters": {"path.product_id": "$response.body#/items/0/product_id"},
            },
        }
    },
    "orders-create": {
        "201": {
            "GetOrder": {
                "operationId": "orders-get",
                "parameters": {"path.order_id": "$response.body#/id"},
            },
            "CancelOrder": {
                "operationId": "orders-cancel",
                "parameters": {"path.order_id": "$response.body#/id"},
            },
            "ListOrderPayments": {
                "operationId": "admin-list-order-payments",
                "parameters": {"path.order_id": "$response.body#/id"},
            },
        }
    },
    "orders-list": {
        "200": {
            "GetNewestOrder": {
                "operationId": "orders-get",
                "parameters": {"path.order_id": "$response.body#/items/0/id"},
            }
        }
    },
    "orders-get": {
        "200": {
            "CancelOrder": {
                "operationId": "orders-cancel",
                "parameters": {"path.order_id": "$response.body#/id"},
            }
        }
    },
    "orders-cancel": {
        "200": {
            "GetCancelledOrder": {
                "operationId": "orders-get",
                "parameters": {"path.order_id": "$response.body#/id"},
            }
        }
    },
    "admin-create-product": {
        "201": {
            "GetProduct": {
                "operationId": "catalog-get-product",
                "parameters": {"path.product_id": "$response.body#/id"},
            },
            "UpdateProduct": {
                "operationId": "admin-update-product",
                "parameters": {"path.product_id": "$response.body#/id"},
            },
            "SetStock": {
                "operationId": "admin-set-stock",
                "parameters": {"path.product_id": "$response.body#/id"},
            },
        }
    },
}


# Parameters a handler validates itself (to answer with its own problem type), described here.
PARAMETERS: dict[str, dict[str, dict[str, Any]]] = {
    "orders-create": {
        "Idempotency-Key": {
            "required": True,
            "description": "1-255 printable ASCII characters; the same key replays the order.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
        }
    }
}


def _generic_errors(method: str, operation: dict[str, Any]) -> list[str]:
    params = operation.get("parameters", [])
    codes = []
    if method in _BODY_METHODS:
        codes += ["400", "413", "415"]
    if operation.get("security"):
        codes.append("401")
    if "admin" in operation.get("tags", ()):
        codes.append("403")
    if any(p.get("in") == "path" for p in params):
        codes.append("404")
    if params or "requestBody" in operation:
        codes.append("422")
    return codes


def add_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Document each operation's problem+json error responses, in place."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)  # FastAPI's 422 shape; ours is a Problem
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                parameter.update(
                    PARAMETERS.get(operation["operationId"], {}).get(parameter["name"], {})
                )
            responses = operation.setdefault("responses", {})
            if responses.get("422", {}).get("content", {}).get("application/json"):
                del responses["422"]  # FastAPI's default, replaced below
            wanted = {code: _GENERIC[code] for code in _generic_errors(method, operation)}
            wanted.update(DOMAIN_ERRORS.get(operation.get("operationId", ""), {}))
            for code, description in wanted.items():
                if code not in responses:
                    responses[code] = {"description": description, "content": problem}
            for response in responses.values():
                if response.get("content") == {PROBLEM_MEDIA_TYPE: {}}:
                    response["content"] = problem  # declared by the route without a schema
    return document


def add_links(document: dict[str, Any]) -> dict[str, Any]:
    """Add `LINKS` to the responses of an OpenAPI document, in place; unknown targets raise."""
    operations = {
        op["operationId"]: op
        for item in document.get("paths", {}).values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    for source, by_status in LINKS.items():
        for status, links in by_status.items():
            response = operations[source]["responses"][status]
            for link in links.values():
                if link["operationId"] not in operations:
                    raise KeyError(f"link from {source} to unknown operation {link['operationId']}")
            response["links"] = links
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the app's OpenAPI document with errors and links added (built once, like FastAPI's)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            add_links(add_errors(FastAPI.openapi(app)))
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
