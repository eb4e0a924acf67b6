"""Render sections to one self-contained HTML file and a Markdown twin (Jinja2 templates).

Every string from the results (titles, narratives, indicator names from TOML files) is
escaped: the HTML environment autoescapes, and the Markdown filter turns the characters that
could start markup into entities or backslash escapes. Nothing in the HTML refers to anything
outside the file: CSS is inline and figures are ``data:`` URIs.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import jinja2

from forecast import __version__
from forecast.atomic import atomic_paths
from forecast.report.blocks import Section, Table
from forecast.report.contracts import ReportInputs

_TEMPLATES = Path(__file__).parent / "templates"
# brackets carry links and images, so escaping them is enough to defuse ``[x](y)``
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# characters that only matter where a line starts (headings, lists, quotes)
_MD_LEADING = re.compile(r"^(\s*)([#+\->=]|\d+[.)])")


def markdown_escape(text: object, *, leading: bool = True) -> str:
    r"""Escape a plain string for Markdown so that it renders as the same plain text.

    ``leading=False`` leaves a leading ``+``, ``-`` or ``#`` alone, for table cells, where
    they cannot start a list or heading.

    Examples
    --------
    >>> markdown_escape("<script>alert(1)</script> *bold* [x](y) +6 pts")
    '&lt;script&gt;alert(1)&lt;/script&gt; \\*bold\\* \\[x\\](y) +6 pts'
    >>> markdown_escape("# not a heading")
    '\\# not a heading'
    """
    value = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MD_SPECIAL.sub(r"\\\1", value)
    if leading:
        value = _MD_LEADING.sub(r"\1\\\2", value)
    # a line break inside a cell or paragraph would end it
    return " ".join(value.splitlines())


def _alignments(table: Table) -> str:
    """Return a Markdown table's delimiter cells: right-aligned for numeric columns."""
    numeric = table.numeric or (False,) * len(table.columns)
    return " | ".join("---:" if n else "---" for n in numeric)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _environment(markdown: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["b64"] = _b64
    env.filters["md"] = markdown_escape
    env.filters["mdcell"] = lambda text: markdown_escape(text, leading=False)
    env.filters["alignments"] = _alignments
    return env


def render_html(inputs: ReportInputs, sections: tuple[Section, ...]) -> str:
    """Render the self-contained HTML report."""
    template = _environment(markdown=False).get_template("report.html.j2")
    return template.render(inputs=inputs, sections=sections, version=__version__)


def render_markdown(inputs: ReportInputs, sections: tuple[Section, ...]) -> str:
    """Render the Markdown twin (figures referenced as ``figures/<key>.png``)."""
    template = _environment(markdown=True).get_template("report.md.j2")
    text = template.render(inputs=inputs, sections=sections, version=__version__)
    # collapse the blank lines the block template leaves behind
    return re.sub(r"\n{3,}", "\n\n", text)


def write_report(
    inputs: ReportInputs, sections: tuple[Section, ...], out_dir: str | Path
) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and ``figures/*.png`` under ``out_dir`` atomically.

    Every file is renamed into place together (:func:`forecast.atomic.atomic_paths`): a
    Ctrl-C leaves the whole new report or the old one.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"html": out_dir / "report.html", "markdown": out_dir / "report.md"}
    files = {out_dir / "figures" / f"{figure.key}.png": figure.png for figure in inputs.figures}
    files[paths["markdown"]] = render_markdown(inputs, sections).encode("utf-8")
    files[paths["html"]] = render_html(inputs, sections).encode("utf-8")
    with atomic_paths(list(files)) as tmps:
        for data, tmp in zip(files.values(), tmps, strict=True):
            _write_synced(tmp, data)
    return paths


def _write_synced(path: Path, data: bytes) -> None:
    """Write ``data`` and flush it to disk (the rename that follows must not expose a hole)."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
