"""Hostile and malformed rules: refused at load time, naming file, entry and offending token."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecast.errors import SpecError
from forecast.scenarios.spec import load_scenario_spec
from tests.scenarios.helpers import assert_names, spec_with_rule, write

QUESTION = "question.kaz_china_trade.rule"
SCENARIO = "partition.rus.scenario.rus_down.rule"

#: (rule, a fragment of the message: the refused construct or token)
HOSTILE = [
    ("__import__('os').system('x')", "`.system`"),
    ("__import__('os')", "unknown function"),
    ("alignment.__class__", "`.__class__`"),
    ('alignment["RUS"].__class__.__mro__', "attribute access"),
    ("lambda: 1", "lambda"),
    ("(lambda x: x)(1) > 0", "lambda"),
    ("[x for x in alignment] > 0", "comprehensions"),
    ("count(c for c in alignment) > 0", "comprehensions"),
    ("10**10**10", "`10**10`"),
    ('alignment["RUS", "KAZ"] ** 100 > 0', "exponent"),
    ('alignment["RUS", "KAZ"] ** alignment["RUS", "KAZ"] > 0', "exponent"),
    ("99999999999999999999999 < alignment['RUS', 'KAZ']", "constant too large"),
    ("1e999 < alignment['RUS', 'KAZ']", "constant too large"),
    ("1e12 * 1e12 < alignment['RUS', 'KAZ']", "constant too large"),
    ('max(*alignment["RUS"]) > 0', "starred"),
    ('f"{alignment}" > 0', "f-strings"),
    ('(x := alignment["RUS", "KAZ"]) > 0', ":="),
    ("open('/etc/passwd')", "`open`"),
    ("getattr(alignment, 'x') > 0", "`getattr`"),
    ("__builtins__ > 0", "`__builtins__`"),
    ("threshold < alignment['RUS', 'KAZ']", "unknown name: `threshold`"),
    ('sum(alignment["RUS"] > 0) >= 3', "unknown function (allowed: count"),
    ('alignment["RUS", "KAZ"].real > 0', "attribute access is not allowed: `.real`"),
    ("globals() > 0", "`globals`"),
    ("count(1) > 0", "count() needs one condition per state"),
    ('mean(alignment["RUS", "KAZ"]) > 0', "mean() needs one value per state"),
    ('alignment["RUS"] > 0', "one condition per state"),
    ('mean(alignment["RUS"])', "must be a condition"),
    ("1 < 2", "does not depend on the forecast"),
    ('alignment["MARS"] > 0', '`"MARS"`'),
    ('alignment["RUS", "kaz"] > 0', '`"kaz"`'),
    ('alignment["RUS", "KAZ", "2030", "x"] > 0', "one to three items"),
    ('alignment["RUS"]["KAZ"] > 0', "can be subscripted"),
    ("alignment[0] > 0", "quoted name"),
    ("alignment > 0", "must be subscripted"),
    ('alignment["RUS", "KAZ"] if 1 else 0', "conditional"),
    ('{"a": 1} > 0', "dictionaries"),
    ('min(alignment["RUS"], key=abs) > 0', "keyword"),
    ('alignment["RUS", "KAZ"] > 0; import os', "syntax error"),
    ("import os", "syntax error"),
    ('alignment["RUS", "KAZ"] @ 2 > 0', "operator not allowed"),
    ('alignment["RUS", "KAZ"] in [1]', "comparison not allowed"),
    ('"text" < alignment["RUS", "KAZ"]', "text is only allowed"),
    ('True and alignment["RUS", "KAZ"] > 0', "only numbers"),
    ('change(alignment["RUS", "2020"], "2020", "2030") > 0', "must name none"),
    ('change(alignment["RUS", "KAZ"], "2020", "soon") > 0', "not a period"),
    ('alignment["RUS", "KAZ", "3030"] > 0', "period out of range"),
    ("1 / 0 < alignment['RUS', 'KAZ']", "division by zero"),
    # a constant zero denominator: the quotient would be undefined in every draw
    ('mean(alignment["RUS"]) / 0 > 0', 'division by zero: `mean(alignment["RUS"]) / 0`'),
    ('alignment["RUS", "KAZ"] / 0.0 > 0', "division by zero"),
    ('alignment["RUS", "KAZ"] / (2 - 2 * 1) > 0', "division by zero"),
    ('alignment["RUS", "KAZ"] / -0 > 0', "division by zero"),
    # names the parser would normalise (NFKC) to a whitelisted ASCII name, or not ASCII at all
    ('\uff4d\uff45\uff41\uff4e(alignment["RUS"]) > 0', "plain ASCII letters, digits"),
    ('\uff41lignment["RUS", "KAZ"] > 0', "plain ASCII"),
    ('count(alignment["RUS"] > 0) >= \uff13', "syntax error"),
    ("\u03b1 < alignment['RUS', 'KAZ']", "underscores: `\u03b1`"),
    ('alignment["RUS", "\uff2b\uff21\uff3a"] > 0', "unknown state or period"),
    ("-" * 500 + "1 < alignment['RUS', 'KAZ']", "too large"),
    ("not " * 60 + "alignment['RUS', 'KAZ'] > 0", "nested too deeply"),
    ("(" * 300 + "1" + ")" * 300, "syntax error"),
    ("x" * 3000, "longer than"),
    ("", "empty rule"),
]


@pytest.mark.parametrize(("rule", "fragment"), HOSTILE)
def test_hostile_question_rule(tmp_path: Path, rule: str, fragment: str) -> None:
    path = write(tmp_path, spec_with_rule(rule))
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    message = assert_names(err, path, QUESTION, "rule refused")
    assert fragment in message


@pytest.mark.parametrize(
    "rule", ["__import__('os').system('rm -rf /')", "alignment.__class__", "lambda: 0"]
)
def test_hostile_scenario_rule_names_partition_and_scenario(tmp_path: Path, rule: str) -> None:
    path = write(tmp_path, spec_with_rule(rule, entry="scenario"))
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, SCENARIO)


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ('mean(alignment["RUS"]) / 0 < 0', "division by zero"),
        ('\uff4d\uff45\uff41\uff4e(alignment["RUS"]) < 0', "plain ASCII"),
    ],
)
def test_refused_scenario_rule_names_partition_and_scenario(
    tmp_path: Path, rule: str, fragment: str
) -> None:
    path = write(tmp_path, spec_with_rule(rule, entry="scenario"))
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, SCENARIO, "rule refused", fragment)


def test_full_width_spelling_of_a_defined_name_is_refused(tmp_path: Path) -> None:
    # rus_shift is defined; its full-width spelling parses to the same name in Python
    rule = "\uff52\uff55\uff53_\uff53\uff48\uff49\uff46\uff54 < 0"
    path = write(tmp_path, spec_with_rule(rule, entry="scenario"))
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, SCENARIO, "plain ASCII")


def test_hostile_definition_names_the_definition(tmp_path: Path) -> None:
    text = spec_with_rule("rus_shift < 0").replace(
        "[define]\n", "[define]\nbad = \"__import__('os')\"\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, "define.bad", "unknown function")


def test_definition_cannot_shadow_the_language(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[define]\ncount = '1'\n" + spec_with_rule("rus_shift < 0").replace("[define]\n", ""),
    )
    # a second [define] header would be invalid TOML: build the file with one table
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, "define.count")


def test_definition_order_matters(tmp_path: Path) -> None:
    text = spec_with_rule("later > 0").replace(
        "[define]\n", "[define]\nearly = 'later + 1'\nlater = 'alignment[\"RUS\", \"KAZ\"]'\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, "define.early", "`later`")


def test_null_byte(tmp_path: Path) -> None:
    # TOML only carries a NUL as an escape in a basic string
    text = spec_with_rule("x").replace("""rule = '''x'''""", 'rule = "alignment\\u0000"')
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_scenario_spec(path)
    assert_names(err, path, QUESTION, "null bytes")


def test_nothing_was_executed(tmp_path: Path) -> None:
    # the hostile rules above would have created this file had anything been executed
    marker = tmp_path / "pwned"
    rule = f"__import__('pathlib').Path('{marker}').touch()"
    path = write(tmp_path, spec_with_rule(rule))
    with pytest.raises(SpecError):
        load_scenario_spec(path)
    assert not marker.exists()
