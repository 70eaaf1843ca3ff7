"""A runbook (Markdown) as the runbook tests read it: sentences, code, links and anchors.

The rules are stated in tests/docs/test_runbooks.py; commands are judged in runbook_commands.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from tests.docs.runbook_commands import LOAD_OR_FAULT, PROGRAMS

PROHIBITION = re.compile(r"^(never|do not|don't)\b", re.I)


@dataclass
class Sentence:
    """One sentence: its prose and code spans, in order ("text", ...) or ("code", ...)."""

    parts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def prose(self) -> str:
        """The words, with each code span as an ellipsis."""
        return "".join(text if kind == "text" else " … " for kind, text in self.parts)

    @property
    def code(self) -> list[str]:
        """The code spans."""
        return [text for kind, text in self.parts if kind == "code"]

    @property
    def prohibits(self) -> bool:
        """A sentence that forbids something ("Never ...", "Do not ...")."""
        return bool(PROHIBITION.match(self.prose.strip()))

    def code_near(self, word: re.Pattern[str], within: int) -> list[str]:
        """Code spans with a word matching `word` at most `within` words before or after."""
        items = [
            (kind, token)
            for kind, text in self.parts
            for token in (re.findall(r"[\w'-]+", text) if kind == "text" else [text])
        ]
        near = []
        for i, (kind, token) in enumerate(items):
            if kind != "code":
                continue
            words_left = [t for k, t in items[:i] if k == "text"][-within:]
            words_right = [t for k, t in items[i + 1 :] if k == "text"][:within]
            if any(word.fullmatch(w) for w in words_left + words_right):
                near.append(token)
        return near


@dataclass
class Page:
    """What the rules read from one runbook."""

    path: Path
    sentences: list[Sentence] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    slugs: list[str] = field(default_factory=list)
    emphasis: list[str] = field(default_factory=list)


def slug(title: str) -> str:
    """A heading's anchor, as GitHub makes it."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def parse(path: Path) -> Page:
    """Split a Markdown file into sentences, fenced blocks, links, heading anchors, emphasis."""
    page = Page(path)
    tokens = MarkdownIt("commonmark").enable("table").parse(path.read_text(encoding="utf-8"))
    for i, token in enumerate(tokens):
        if token.type in {"fence", "code_block"}:
            page.blocks.append(token.content)
        elif token.type == "inline":
            children = token.children or []
            if i and tokens[i - 1].type == "heading_open":
                text = "".join(c.content for c in children if c.type in {"text", "code_inline"})
                page.slugs.append(slug(text))
            page.sentences += _sentences(children)
            page.links += [str(c.attrGet("href")) for c in children if c.type == "link_open"]
            page.emphasis += [
                children[j + 1].content
                for j, c in enumerate(children[:-1])
                if c.type == "em_open" and children[j + 1].type == "text"
            ]
    return page


def _sentences(children: list[Token]) -> list[Sentence]:
    # Code spans become placeholders, so a period inside one never ends a sentence.
    spans = [c.content for c in children if c.type == "code_inline"]
    text = "".join(
        f"\x00{spans.index(c.content)}\x00" if c.type == "code_inline" else c.content or " "
        for c in children
        if c.type in {"text", "softbreak", "code_inline"}
    )
    sentences = []
    for chunk in re.split(r"(?<=[.!?])\s+", text):
        pieces = re.split(r"\x00(\d+)\x00", chunk)
        parts = [
            ("code", spans[int(piece)]) if i % 2 else ("text", piece)
            for i, piece in enumerate(pieces)
            if i % 2 or piece
        ]
        if parts:
            sentences.append(Sentence(parts))
    return sentences


def commands(page: Page) -> list[tuple[str, bool]]:
    """Every command the page names, with whether it sits in a prohibition.

    A fenced block's every line is a command; an inline code span is one when it starts with
    a program (after `env -u ...` or `NAME=value`).
    """
    found: list[tuple[str, bool]] = []
    for block in page.blocks:
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                found.append((line.strip(), False))
    for sentence in page.sentences:
        for span in sentence.code:
            words = span.split()
            while words and (re.match(r"^\w+=", words[0]) or words[0] in {"env", "-u"}):
                words = words[2:] if words[0] == "-u" else words[1:]
            if words and words[0] in PROGRAMS | LOAD_OR_FAULT:
                found.append((span, sentence.prohibits))
    return found
