"""A small interpreter for the subset of Go templates (plus Sprig/Helm functions) the chart uses.

There is no helm binary on the build machines, so the chart is rendered here to
commit reviewable manifests and scan them with checkov. The subset: actions with
trim markers, comments, pipelines, parenthesised sub-expressions, fields, `$`
variables, `if/else if/else`, `range` (with `$i, $v :=`), `with`, `define`,
`include` and the functions in FUNCTIONS. Anything else raises TemplateError, so a
template that strays outside the subset fails loudly instead of rendering wrongly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml


class TemplateError(Exception):
    """A template uses syntax or data the renderer does not support."""


ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+)|(?P<op>:=|[|()])'
    r"|(?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)|(?P<field>(?:\.[A-Za-z0-9_]+)+|\.)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<comma>,))"
)


@dataclass
class Node:
    """One parsed template element."""

    kind: str  # text | action | if | range | with
    text: str = ""
    expr: str = ""
    body: list[Node] = field(default_factory=list)
    orelse: list[Node] = field(default_factory=list)


def _lex(source: str) -> list[tuple[str, str]]:
    """Split into ("text", s) and ("action", s), applying {{- and -}} trimming."""
    parts: list[tuple[str, str]] = []
    pos = 0
    trim_next = False
    for match in ACTION.finditer(source):
        text = source[pos : match.start()]
        if trim_next:
            text = text.lstrip()
        if match.group(1):
            text = text.rstrip()
        parts.append(("text", text))
        body = match.group(2).strip()
        if not (body.startswith("/*") and body.endswith("*/")):
            parts.append(("action", body))
        trim_next = bool(match.group(3))
        pos = match.end()
    tail = source[pos:]
    parts.append(("text", tail.lstrip() if trim_next else tail))
    return [p for p in parts if p != ("text", "")]


def parse(source: str, defines: dict[str, list[Node]]) -> list[Node]:
    """Parse a template, registering its `define` blocks into defines."""
    root: list[Node] = []
    stack: list[tuple[Node | None, list[Node]]] = [(None, root)]
    for kind, value in _lex(source):
        current = stack[-1][1]
        if kind == "text":
            current.append(Node("text", text=value))
            continue
        word, _, rest = value.partition(" ")
        if word in {"if", "range", "with"}:
            node = Node(word, expr=rest.strip())
            current.append(node)
            stack.append((node, node.body))
        elif word == "define":
            node = Node("define", expr=json.loads(rest.strip()))
            stack.append((node, node.body))
        elif word == "else":
            owner = stack[-1][0]
            if owner is None:
                raise TemplateError("else without if/range/with")
            if rest.startswith("if "):
                # "else if" nests an if in the else branch, closed by the parent's {{ end }}.
                nested = Node("if", expr=rest[3:].strip(), text="chained")
                owner.orelse.append(nested)
                stack.append((nested, nested.body))
            else:
                stack[-1] = (owner, owner.orelse)
        elif word == "end":
            owner, _ = stack.pop()
            while owner is not None and owner.text == "chained" and len(stack) > 1:
                owner, _ = stack.pop()
            if owner is not None and owner.kind == "define":
                defines[owner.expr] = owner.body
        else:
            current.append(Node("action", expr=value))
    if len(stack) != 1:
        raise TemplateError("unclosed block")
    return root


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and not (
        isinstance(value, list | dict | tuple) and not value
    )


def _to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True).rstrip("\n")


def _indent(width: int, text: str) -> str:
    pad = " " * width
    return "\n".join(pad + line for line in str(text).split("\n"))


def _printf(fmt: str, *args: Any) -> str:
    return re.sub(r"%[vsd]", "{}", fmt).format(*(_stringify(a) for a in args))


def _stringify(value: Any) -> str:
    if value is None:
        raise TemplateError("rendering a missing value")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _required(message: str, value: Any) -> Any:
    if not _truthy(value):
        raise TemplateError(message)
    return value


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "toYaml": _to_yaml,
    "indent": _indent,
    "nindent": lambda width, text: "\n" + _indent(width, text),
    "quote": lambda value: json.dumps(_stringify(value)),
    "default": lambda fallback, value=None: value if _truthy(value) else fallback,
    "printf": _printf,
    "trunc": lambda n, s: str(s)[:n],
    "trim": lambda s: str(s).strip(),
    "trimSuffix": lambda suffix, s: s[: -len(suffix)] if suffix and s.endswith(suffix) else s,
    "replace": lambda old, new, s: str(s).replace(old, new),
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "not": lambda v: not _truthy(v),
    "and": lambda *vs: all(_truthy(v) for v in vs),
    "or": lambda *vs: next((v for v in vs if _truthy(v)), vs[-1]),
    "toString": _stringify,
    "dict": lambda *kv: {kv[i]: kv[i + 1] for i in range(0, len(kv), 2)},
    "required": _required,
}


class Renderer:
    """Renders parsed templates against a root context (Values, Release, Chart, Files)."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.defines: dict[str, list[Node]] = {}

    def load(self, source: str) -> list[Node]:
        """Parse one template file (its defines become available to include)."""
        return parse(source, self.defines)

    def render(
        self, nodes: list[Node], dot: Any = None, scope: dict[str, Any] | None = None
    ) -> str:
        """Render parsed nodes with `.` = dot."""
        dot = self.root if dot is None else dot
        scope = {"$": self.root} if scope is None else scope
        out: list[str] = []
        for node in nodes:
            if node.kind == "text":
                out.append(node.text)
            elif node.kind == "action":
                out.append(self._action(node.expr, dot, scope))
            elif node.kind == "if":
                branch = node.body if _truthy(self.eval(node.expr, dot, scope)) else node.orelse
                out.append(self.render(branch, dot, scope))
            elif node.kind == "with":
                value = self.eval(node.expr, dot, scope)
                out.append(
                    self.render(node.body, value, dict(scope))
                    if _truthy(value)
                    else self.render(node.orelse, dot, scope)
                )
            elif node.kind == "range":
                out.append(self._range(node, dot, scope))
        return "".join(out)

    def _action(self, expr: str, dot: Any, scope: dict[str, Any]) -> str:
        match = re.fullmatch(r"(\$[A-Za-z0-9_]+)\s*:=\s*(.+)", expr, re.DOTALL)
        if match:
            scope[match.group(1)] = self.eval(match.group(2), dot, scope)
            return ""
        return _stringify(self.eval(expr, dot, scope))

    def _range(self, node: Node, dot: Any, scope: dict[str, Any]) -> str:
        names, _, expr = node.expr.rpartition(":=")
        variables = [v.strip() for v in names.split(",") if v.strip()]
        items = self.eval(expr.strip(), dot, scope)
        if not _truthy(items):
            return self.render(node.orelse, dot, scope)
        pairs = sorted(items.items()) if isinstance(items, dict) else list(enumerate(items))
        out = []
        for key, value in pairs:
            inner = dict(scope)
            if len(variables) == 2:
                inner[variables[0]], inner[variables[1]] = key, value
            elif variables:
                inner[variables[0]] = value
            out.append(self.render(node.body, value, inner))
        return "".join(out)

    def eval(self, expr: str, dot: Any, scope: dict[str, Any]) -> Any:
        """Evaluate a pipeline expression."""
        tokens = _tokens(expr)
        value, rest = self._pipeline(tokens, dot, scope)
        if rest:
            raise TemplateError(f"unexpected {rest[0]!r} in {expr!r}")
        return value

    def _pipeline(
        self, tokens: list[tuple[str, str]], dot: Any, scope: dict[str, Any]
    ) -> tuple[Any, list[tuple[str, str]]]:
        value: Any = _NOTHING
        while True:
            args: list[Any] = []
            while tokens and tokens[0] not in (("op", "|"), ("op", ")")):
                kind, text = tokens.pop(0)
                if (kind, text) == ("op", "("):
                    sub, tokens = self._pipeline(tokens, dot, scope)
                    if not tokens or tokens.pop(0) != ("op", ")"):
                        raise TemplateError("unbalanced parentheses")
                    args.append(sub)
                else:
                    args.append(self._operand(kind, text, dot, scope))
            if value is not _NOTHING:
                args.append(value)
            value = self._call(args)
            if not tokens or tokens[0] != ("op", "|"):
                return value, tokens
            tokens.pop(0)

    def _call(self, args: list[Any]) -> Any:
        if not args:
            raise TemplateError("empty command")
        head, rest = args[0], args[1:]
        if isinstance(head, _Function):
            if head.name == "include":
                name, context = rest
                return self.render(self.defines[name], context, {"$": self.root})
            return FUNCTIONS[head.name](*rest)
        if callable(head):
            return head(*rest)
        if rest:
            raise TemplateError(f"{head!r} is not a function")
        return head

    def _operand(self, kind: str, text: str, dot: Any, scope: dict[str, Any]) -> Any:
        if kind == "str":
            return json.loads(text)
        if kind == "num":
            return int(text)
        if kind == "ident":
            if text in {"true", "false"}:
                return text == "true"
            if text == "nil":
                return None
            if text != "include" and text not in FUNCTIONS:
                raise TemplateError(f"unknown function {text!r}")
            return _Function(text)
        if kind == "var":
            name, *path = text.split(".")
            if name not in scope:
                raise TemplateError(f"undefined variable {name}")
            return _walk(scope[name], path)
        if kind == "field":
            return _walk(dot, [p for p in text.split(".") if p])
        raise TemplateError(f"unexpected token {text!r}")


@dataclass(frozen=True)
class _Function:
    name: str


_NOTHING = object()


def _walk(value: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(value, dict):
            value = value.get(part)
        elif value is None:
            return None
        else:
            value = getattr(value, part)
    return value


def _tokens(expr: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        match = TOKEN.match(expr, pos)
        if not match or match.end() == pos:
            raise TemplateError(f"cannot parse {expr[pos:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind).strip()))
        pos = match.end()
    return tokens
