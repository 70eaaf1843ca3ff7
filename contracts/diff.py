"""Classify the changes between two OpenAPI 3 documents as breaking or compatible.

A change is breaking when a client written against the old document can fail against the new:

- an operation or a documented response status is removed, or an operationId changes;
- a request gains a required parameter, header or body field, or an optional one turns required;
- a request value is narrowed: a type, enum value or media type removed, a bound tightened, a
  pattern added or changed;
- a response drops a field or media type, a required response field becomes optional, or a
  response value widens (a new type, such as null, or a new enum value).

Additions that old clients never see or may ignore are compatible: operations, optional
parameters and fields, response statuses, response fields, wider request values.

Why our own: no maintained Python library diffs OpenAPI documents (oasdiff is Go and ships no
PyPI wheel), and this needs only local `$ref`s and the JSON Schema keywords FastAPI emits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Keyword -> True when a larger value narrows what is accepted.
_BOUNDS = {
    "minimum": True,
    "exclusiveMinimum": True,
    "minLength": True,
    "minItems": True,
    "maximum": False,
    "exclusiveMaximum": False,
    "maxLength": False,
    "maxItems": False,
}


class Severity(StrEnum):
    """Whether an old client can break."""

    BREAKING = "breaking"
    COMPATIBLE = "compatible"


@dataclass(frozen=True, order=True)
class Change:
    """One difference between the documents."""

    severity: Severity
    operation: str  # "METHOD /path (operationId)" or "document"
    kind: str  # e.g. response-property-removed
    location: str  # where in the operation, e.g. "response 200 body.items[].name"
    detail: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {k: str(v) for k, v in asdict(self).items()}


class _Differ:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []
        self.operation = "document"

    def add(self, breaking: bool, kind: str, location: str, detail: str) -> None:
        severity = Severity.BREAKING if breaking else Severity.COMPATIBLE
        self.changes.append(Change(severity, self.operation, kind, location, detail))

    # -- $ref resolution -------------------------------------------------------------------
    @staticmethod
    def _resolve(document: dict[str, Any], node: Any, seen: frozenset[str] = frozenset()) -> Any:
        while isinstance(node, dict) and "$ref" in node and node["$ref"] not in seen:
            ref = node["$ref"]
            seen = seen | {ref}
            target: Any = document
            for part in ref.lstrip("#/").split("/"):
                target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    def _pair(self, old: Any, new: Any) -> tuple[Any, Any]:
        return self._resolve(self.old, old), self._resolve(self.new, new)

    # -- schemas ---------------------------------------------------------------------------
    def _alternatives(self, document: dict[str, Any], schema: dict[str, Any]) -> list[Any]:
        options = schema.get("anyOf") or schema.get("oneOf")
        return [self._resolve(document, o) for o in options] if options else [schema]

    def _types(self, document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
        types: set[str] = set()
        for option in self._alternatives(document, schema):
            kind = option.get("type")
            if kind is None:
                return {"any"}
            types.update(kind if isinstance(kind, list) else [kind])
        if "integer" in types and "number" in types:
            types.discard("integer")
        return types

    def _non_null(self, document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
        options = [o for o in self._alternatives(document, schema) if o.get("type") != "null"]
        return options[0] if len(options) == 1 else schema

    def schema(self, old: Any, new: Any, where: str, request: bool, depth: int = 0) -> None:
        """Compare two schemas; `request` says which direction narrowing breaks."""
        old, new = self._pair(old or {}, new or {})
        if depth > 12 or not isinstance(old, dict) or not isinstance(new, dict):
            return
        old_types, new_types = self._types(self.old, old), self._types(self.new, new)
        if "any" not in old_types | new_types and old_types != new_types:
            lost, gained = sorted(old_types - new_types), sorted(new_types - old_types)
            if request and lost:
                self.add(True, "request-type-narrowed", where, f"no longer accepts {lost}")
            if not request and gained:
                self.add(True, "response-type-widened", where, f"may now be {gained}")
            if (request and gained) or (not request and lost):
                self.add(
                    False,
                    "type-changed",
                    where,
                    f"types {sorted(old_types)} -> {sorted(new_types)}",
                )
        old, new = self._non_null(self.old, old), self._non_null(self.new, new)
        self._enum(old, new, where, request)
        if request:
            self._constraints(old, new, where)
        self._properties(old, new, where, request, depth)
        if "items" in old and "items" in new:
            self.schema(old["items"], new["items"], f"{where}[]", request, depth + 1)

    def _enum(self, old: dict[str, Any], new: dict[str, Any], where: str, request: bool) -> None:
        def values(schema: dict[str, Any]) -> list[Any] | None:
            if "const" in schema:
                return [schema["const"]]
            enum = schema.get("enum")
            return list(enum) if isinstance(enum, list) else None

        before, after = values(old), values(new)
        if before == after:
            return
        if before is not None and after is not None:
            removed = [v for v in before if v not in after]
            added = [v for v in after if v not in before]
        elif after is not None:  # an enum appeared: everything else is gone
            removed, added = ["<any other value>"], []
        else:
            removed, added = [], ["<any value>"]
        if removed:
            self.add(request, "enum-narrowed", where, f"values removed: {removed}")
        if added:
            self.add(not request, "enum-widened", where, f"values added: {added}")

    def _constraints(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        for keyword, larger_narrows in _BOUNDS.items():
            before, after = old.get(keyword), new.get(keyword)
            if before == after or after is None:
                if before is not None and after is None:
                    self.add(False, "bound-removed", where, f"{keyword} {before} removed")
                continue
            narrowed = before is None or (after > before if larger_narrows else after < before)
            detail = f"{keyword} {before} -> {after}"
            self.add(narrowed, "bound-narrowed" if narrowed else "bound-widened", where, detail)
        if old.get("pattern") != new.get("pattern"):
            if new.get("pattern") is None:
                self.add(False, "pattern-removed", where, "pattern removed")
            else:
                self.add(True, "pattern-changed", where, f"pattern now {new['pattern']!r}")

    def _properties(
        self, old: dict[str, Any], new: dict[str, Any], where: str, request: bool, depth: int
    ) -> None:
        before, after = old.get("properties") or {}, new.get("properties") or {}
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(set(before) | set(after)):
            here = f"{where}.{name}"
            if name not in after:
                kind = "request-property-removed" if request else "response-property-removed"
                self.add(True, kind, here, "field removed")
            elif name not in before:
                if request and name in new_required:
                    self.add(True, "request-property-required", here, "new required field")
                else:
                    self.add(False, "property-added", here, "new optional field")
            else:
                if request and name in new_required - old_required:
                    self.add(True, "request-property-required", here, "field became required")
                if not request and name in old_required - new_required:
                    self.add(True, "response-property-optional", here, "may now be absent")
                self.schema(before[name], after[name], here, request, depth + 1)

    # -- operations ------------------------------------------------------------------------
    def content(self, old: dict[str, Any], new: dict[str, Any], where: str, request: bool) -> None:
        for media in sorted(set(old) | set(new)):
            if media not in new:
                self.add(
                    True,
                    "media-type-removed",
                    where,
                    f"{media} no longer {'accepted' if request else 'sent'}",
                )
            elif media not in old:
                self.add(not request, "media-type-added", where, f"{media} added")
            else:
                self.schema(
                    old[media].get("schema"), new[media].get("schema"), f"{where} body", request
                )

    def parameters(self, old: list[Any], new: list[Any]) -> None:
        def index(document: dict[str, Any], params: list[Any]) -> dict[tuple[str, str], Any]:
            resolved = [self._resolve(document, p) for p in params]
            return {
                (p["in"], p["name"].lower() if p["in"] == "header" else p["name"]): p
                for p in resolved
            }

        before, after = index(self.old, old), index(self.new, new)
        for key in sorted(set(before) | set(after)):
            where = f"{key[0]} parameter {key[1]}"
            if key not in after:
                self.add(True, "parameter-removed", where, "parameter removed")
            elif key not in before:
                required = bool(after[key].get("required"))
                kind = "request-parameter-required" if required else "parameter-added"
                self.add(
                    required,
                    kind,
                    where,
                    "new required parameter" if required else "new optional parameter",
                )
            else:
                if after[key].get("required") and not before[key].get("required"):
                    self.add(True, "request-parameter-required", where, "parameter became required")
                self.schema(before[key].get("schema"), after[key].get("schema"), where, True)

    def operation_pair(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        if old.get("operationId") != new.get("operationId"):
            self.add(
                True,
                "operation-id-changed",
                "operationId",
                f"{old.get('operationId')} -> {new.get('operationId')}",
            )
        self.parameters(old.get("parameters", []), new.get("parameters", []))
        old_body, new_body = self._pair(old.get("requestBody"), new.get("requestBody"))
        if new_body and not old_body:
            self.add(
                bool(new_body.get("required")), "request-body-added", "request body", "body added"
            )
        elif old_body and not new_body:
            self.add(False, "request-body-removed", "request body", "body no longer read")
        elif old_body and new_body:
            if new_body.get("required") and not old_body.get("required"):
                self.add(True, "request-body-required", "request body", "body became required")
            self.content(old_body.get("content", {}), new_body.get("content", {}), "request", True)
        old_responses, new_responses = old.get("responses", {}), new.get("responses", {})
        for status in sorted(set(old_responses) | set(new_responses)):
            where = f"response {status}"
            if status not in new_responses:
                self.add(
                    True, "response-status-removed", where, f"status {status} no longer documented"
                )
            elif status not in old_responses:
                self.add(False, "response-status-added", where, f"status {status} added")
            else:
                before, after = self._pair(old_responses[status], new_responses[status])
                self.content(before.get("content", {}), after.get("content", {}), where, False)

    def run(self) -> list[Change]:
        def operations(document: dict[str, Any]) -> dict[tuple[str, str], Any]:
            return {
                (method.upper(), path): op
                for path, item in document.get("paths", {}).items()
                for method, op in item.items()
                if method in METHODS
            }

        before, after = operations(self.old), operations(self.new)
        for key in sorted(set(before) | set(after)):
            op = after.get(key) or before[key]
            self.operation = f"{key[0]} {key[1]} ({op.get('operationId', '?')})"
            if key not in after:
                self.add(True, "operation-removed", "operation", "operation removed")
            elif key not in before:
                self.add(False, "operation-added", "operation", "operation added")
            else:
                self.operation_pair(before[key], after[key])
        return sorted(self.changes)


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every classified change from `old` to `new`, breaking ones first."""
    return _Differ(old, new).run()
