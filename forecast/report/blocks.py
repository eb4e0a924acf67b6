"""The building blocks a section is made of; exporters know how to render each kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Paragraph:
    """Plain text (escaped by every exporter)."""

    kind: ClassVar[str] = "paragraph"

    text: str


@dataclass(frozen=True)
class Banner:
    """A visible warning (``level`` is ``warning`` or ``info``)."""

    kind: ClassVar[str] = "banner"

    level: str
    text: str


@dataclass(frozen=True)
class Bullets:
    """A bulleted list of plain-text items."""

    kind: ClassVar[str] = "bullets"

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table of plain-text cells; ``numeric`` marks right-aligned columns."""

    kind: ClassVar[str] = "table"

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()


@dataclass(frozen=True)
class FigureRef:
    """A figure of the report, by key."""

    kind: ClassVar[str] = "figure"

    key: str


@dataclass(frozen=True)
class Equations:
    """Model equations as lines of plain Unicode text."""

    kind: ClassVar[str] = "equations"

    lines: tuple[str, ...]


Block = Paragraph | Banner | Bullets | Table | FigureRef | Equations


@dataclass(frozen=True)
class Section:
    """A titled section of the report."""

    id: str
    title: str
    blocks: tuple[Block, ...]
