"""The report's sections and exporters on synthetic inputs: content, banners, escaping."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from forecast.report.exporters import render_html, render_markdown, write_report
from forecast.report.sections import build_sections
from tests.report.helpers import make_inputs

HOSTILE = (
    '<script>alert("x")</script><img src=x onerror=alert(1)>'
    '<a href="javascript:alert(2)">click</a> **bold** [link](http://evil.example)'
)


class _Tags(HTMLParser):
    """Collect every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_headline_states_both_numbers_in_words():
    inputs = make_inputs()
    html = render_html(inputs, build_sections(inputs))
    assert "probability 83% (± 2.0 pts)" in html
    assert "0.91" in html
    assert "The direction of travel is clear; the destination is wide open." in html
    assert "Relative trends (questions on the latent alignment): China gains on Russia: " in html
    assert "probability 97%." in html
    # each headline number has a plain-language line under it
    for gloss in (
        "In plain words: in 83 of every 100 futures the model simulates",
        "In plain words: the probability is spread almost as evenly",
        "In plain words: how the poles move against each other",
    ):
        assert gloss in html


def test_data_currency_is_said_plainly():
    inputs = make_inputs()
    text = render_markdown(inputs, build_sections(inputs))
    assert "The newest data are for 2024" in text
    assert "forecast origin) is 2024" in text
    assert "2025–2026 are nowcasts" in text
    # the currency table: last observed period per state, and the publication lag
    assert "Data currency: last observed period by indicator and state" in text
    row = next(line for line in text.splitlines() if "IMF DOTS" in line and "|" in line)
    assert "| 6 |" in row and "2023" in row and "2020" in row


@pytest.mark.parametrize("converged", [True, False])
def test_non_converged_run_gets_a_visible_banner(converged: bool):
    inputs = make_inputs(converged=converged)
    html = render_html(inputs, build_sections(inputs))
    banner = re.search(r'<div class="banner warning"[^>]*>(.*?)</div>', html, re.S)
    assert (banner is not None) is (not converged)
    if banner is not None:
        assert "NOT CONVERGED" in banner.group(1)
        assert "7 divergent transitions" in banner.group(1)


def test_injected_markup_is_inert_in_html():
    inputs = make_inputs(text=HOSTILE)
    html = render_html(inputs, build_sections(inputs))
    tags = _tags(html)
    assert not [t for t, _ in tags if t == "script"]
    for tag, attrs in tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        for key in ("href", "src"):
            value = attrs.get(key) or ""
            assert not value.startswith(("javascript:", "http:", "https:", "x")), (tag, attrs)
    # the hostile text is shown to the reader, as text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_injected_markup_is_inert_in_markdown():
    inputs = make_inputs(text=HOSTILE)
    text = render_markdown(inputs, build_sections(inputs))
    assert "<script" not in text and "<img" not in text and "<a " not in text
    assert "[link](" not in text and "\\[link\\](" in text
    assert "**bold**" not in text


def test_html_is_self_contained():
    inputs = make_inputs()
    html = render_html(inputs, build_sections(inputs))
    for tag, attrs in _tags(html):
        for key in ("src", "href"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("data:", "#")), (tag, key, value[:40])
    assert "@import" not in html and "url(" not in html
    assert "<link" not in html
    images = [a for t, a in _tags(html) if t == "img"]
    assert len(images) == 7


def test_tables_in_markdown_have_one_row_per_line():
    inputs = make_inputs()
    text = render_markdown(inputs, build_sections(inputs))
    table = [line for line in text.splitlines() if line.startswith("| Balance")]
    assert table == ["| Balance | 31% ± 2.0 pts | 25% | +6 pts |"]


def test_write_report_writes_html_markdown_and_figures(tmp_path):
    inputs = make_inputs()
    paths = write_report(inputs, build_sections(inputs), tmp_path / "out")
    assert paths["html"].read_text().startswith("<!DOCTYPE html>")
    assert "figures/scenarios.png" in paths["markdown"].read_text()
    pngs = sorted(p.name for p in (tmp_path / "out" / "figures").iterdir())
    assert len(pngs) == 7 and all(p.endswith(".png") for p in pngs)
    assert not [p for p in (tmp_path / "out").rglob("*") if ".tmp" in p.name]


def test_changes_are_differences_of_the_percentages_shown():
    from dataclasses import replace

    from forecast.report.contracts import WhatIfRow

    inputs = make_inputs()
    inputs = replace(
        inputs,
        # 46.49 % -> 87.51 %: the unrounded change is 41.02 points, the rows read 46 and 88
        whatifs=(WhatIfRow("w", "Sanctions", "a", "Balance", 0.4649, 0.8751),),
        probabilities=tuple(
            replace(r, probability=0.2449, previous=0.2651) if r.id == "a" else r
            for r in inputs.probabilities
        ),
    )
    text = render_markdown(inputs, build_sections(inputs))
    assert "| Sanctions | Balance | 46% | 88% | +42 pts |" in text
    assert "| Balance | 24% ± 2.0 pts | 27% | -3 pts |" in text


def test_trajectories_name_medians_and_no_markdown_reaches_the_html():
    inputs = make_inputs()
    html = render_html(inputs, build_sections(inputs))
    assert "posterior median [90 % interval]" in html
    assert "posterior mean" not in html
    body = re.sub(r"<[^>]+>", " ", html.split("<body>", 1)[1])
    assert "`" not in body and "**" not in body


def test_rank_test_flags_are_explained_beside_the_gates():
    from dataclasses import replace

    from forecast.report.contracts import RankFacts

    check = RankFacts(7, 143, 12, 0.01, (("Spread of drifts, Russia", 0.004),))
    for converged, verdict in ((True, "found no problem"), (False, "which this run failed")):
        inputs = replace(make_inputs(converged=converged), rank_check=check)
        text = " ".join(render_markdown(inputs, build_sections(inputs)).split())
        assert "It flags Spread of drifts, Russia (p = 0.004)" in text
        assert "on every 7th draw (143 per chain)" in text
        assert "11 times in 100" in text  # 1 - 0.99 ** 12
        assert verdict in text


def test_methods_state_the_runs_own_carry_persistence_and_projection():
    from dataclasses import replace

    base = make_inputs()
    default = replace(
        base, run=replace(base.run, carry="filtered_se", persistence_by="family", drift_damping=0)
    )
    old = replace(base, run=replace(base.run, carry="observed", persistence_by="indicator"))
    methods = {}
    for name, inputs in (("default", default), ("old", old)):
        text = render_markdown(inputs, build_sections(inputs))
        methods[name] = " ".join(text[text.index("## Methods") :].split())
    assert "ρ[f(i)], one per indicator family" in methods["default"]
    assert "k = ν² / (ν² + se²)" in methods["default"]
    assert "without the drift" in methods["default"]
    assert "persistence ρ[i], sd ν[i]" in methods["old"]
    assert "se²" not in methods["old"] and "drift included" in methods["old"]
    assert "Student-t" not in methods["default"]
    heavy = replace(default, run=replace(default.run, deviation_df=4.0))
    text = render_markdown(heavy, build_sections(heavy))
    text = " ".join(text[text.index("## Methods") :].split())
    assert "scale ν[i], Student-t innovations with 4 degrees of freedom" in text
    assert "(Normal for positive amounts, as exp of a t has no mean, and for" in text
    assert "values published with a standard error, whose Normal error it adds to)" in text
    assert "innovation sd" not in text
    walk = replace(default, run=replace(default.run, log_link_deviation="innovation"))
    text = render_markdown(walk, build_sections(walk))
    assert "positive amounts: ν[i] the innovation sd (ρ = 1 a random walk)" in text


def test_methods_state_the_kalman_carry():
    from dataclasses import replace

    base = make_inputs()
    kalman = replace(base, run=replace(base.run, carry="kalman", persistence_by="family"))
    text = render_markdown(kalman, build_sections(kalman))
    methods = " ".join(text[text.index("## Methods") :].split())
    assert "carried as its expectation given y[t−1], y[t−2], … and their" in methods
    assert "(a Kalman filter; r[t−1] itself where no se)" in methods
    assert "k = ν² / (ν² + se²)" not in methods
