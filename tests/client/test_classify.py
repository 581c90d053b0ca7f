"""The classification assistant's rules: one expectation per rule, written by hand, and the rule book's checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from client.chain.enums import Grade
from client.classify import (
    check_grade,
    load_rules,
    parse_answers,
    parse_assignments,
    read_answers,
    suggest,
    suggestion_json,
)
from client.errors import ConfigError

BOOK = load_rules()

#: (answers, expected grade, the rule that decides): every rule of the data file decides at least one case.
EXPECTED: list[tuple[dict[str, Any], Grade, str]] = [
    ({}, Grade.GENERAL, "MIIT-art9-general"),
    (
        {"harm_national_security": "particularly serious"},
        Grade.CORE,
        "GBT-table-national-security-particularly-serious",
    ),
    ({"harm_national_security": "serious"}, Grade.CORE, "GBT-table-national-security-serious"),
    ({"harm_national_security": "general"}, Grade.IMPORTANT, "GBT-table-national-security-general"),
    ({"harm_economic_operation": "particularly_serious"}, Grade.CORE, "GBT-table-economy-particularly-serious"),
    ({"harm_economic_operation": "serious"}, Grade.IMPORTANT, "GBT-table-economy-serious"),
    ({"harm_economic_operation": "general"}, Grade.GENERAL, "MIIT-art9-general"),
    ({"harm_social_order": "particularly_serious"}, Grade.CORE, "GBT-table-social-order-particularly-serious"),
    ({"harm_social_order": "serious"}, Grade.IMPORTANT, "GBT-table-social-order-serious"),
    ({"harm_public_interest": "particularly_serious"}, Grade.CORE, "GBT-table-public-interest-particularly-serious"),
    ({"harm_public_interest": "serious"}, Grade.IMPORTANT, "GBT-table-public-interest-serious"),
    ({"harm_public_interest": "general"}, Grade.GENERAL, "MIIT-art9-general"),
    # Harm that stays with particular organisations or individuals is general, however bad...
    ({"harm_rights": "particularly_serious"}, Grade.GENERAL, "GBT-table-rights-only"),
    # ... unless it reaches them in large numbers.
    ({"harm_rights": "serious", "large_scale": "yes"}, Grade.IMPORTANT, "GBT-aggregation-large-scale-serious"),
    (
        {"harm_rights": "particularly_serious", "large_scale": True},
        Grade.CORE,
        "GBT-aggregation-large-scale-particularly-serious",
    ),
    ({"harm_rights": "general", "large_scale": "yes"}, Grade.GENERAL, "GBT-table-rights-only"),
    ({"industry_serious_impact": "yes"}, Grade.IMPORTANT, "MIIT-art10-industry-impact"),
    ({"major_incident": "yes"}, Grade.IMPORTANT, "MIIT-art10-major-incident"),
    ({"cascade_effect": "yes"}, Grade.IMPORTANT, "MIIT-art10-cascade"),
    ({"key_sector_major_impact": "yes"}, Grade.CORE, "MIIT-art11-key-sector"),
    ({"large_scale_shutdown": "yes"}, Grade.CORE, "MIIT-art11-shutdown"),
    ({"designated": "important"}, Grade.IMPORTANT, "MIIT-designated-important"),
    ({"designated": "core"}, Grade.CORE, "MIIT-designated-core"),
    ({"source_grade": "important", "reveals_source": "yes"}, Grade.IMPORTANT, "GBT-derived-reveals-important"),
    ({"source_grade": "core", "reveals_source": "yes"}, Grade.CORE, "GBT-derived-reveals-core"),
    # Derived data that does not reveal its source is assessed on its own.
    ({"source_grade": "core", "reveals_source": "no"}, Grade.GENERAL, "MIIT-art9-general"),
    # The highest grade wins, whichever rule comes first.
    (
        {"industry_serious_impact": "yes", "large_scale_shutdown": "yes", "harm_rights": "serious"},
        Grade.CORE,
        "MIIT-art11-shutdown",
    ),
]


@pytest.mark.parametrize(("answers", "grade", "rule"), EXPECTED, ids=[f"{e[2]}-{i}" for i, e in enumerate(EXPECTED)])
def test_expected_grade_and_deciding_rule(answers: dict[str, Any], grade: Grade, rule: str) -> None:
    suggestion = suggest(parse_answers(answers, BOOK), BOOK)
    assert (suggestion.grade, suggestion.deciding.id) == (grade, rule)
    assert suggestion.deciding.because in suggestion.reason()


def test_every_rule_of_the_data_file_has_a_case() -> None:
    assert {rule.id for rule in BOOK.rules} == {rule for _, _, rule in EXPECTED}


@pytest.mark.parametrize("rule", BOOK.rules, ids=lambda r: r.id)
def test_each_rule_applies_when_its_conditions_hold(rule: Any) -> None:
    answers = {question: accepted[0] for question, accepted in rule.when.items()}
    suggestion = suggest(answers, BOOK)
    assert rule in suggestion.applied
    assert suggestion.grade >= rule.grade
    assert rule.source in BOOK.sources and rule.clause and rule.because


def test_every_question_is_asked_by_some_rule() -> None:
    used = {question for rule in BOOK.rules for question in rule.when}
    assert used == {q.id for q in BOOK.questions}


def test_unanswered_questions_are_reported_as_assumed() -> None:
    suggestion = suggest(parse_answers({"cascade_effect": "no"}, BOOK), BOOK)
    assert "cascade_effect" not in suggestion.assumed
    assert "harm_national_security" in suggestion.assumed
    body = suggestion_json(suggestion)
    assert body["grade"] == "general" and body["decidedBy"]["id"] == "MIIT-art9-general"
    assert body["decidedBy"]["source"].startswith("工业和信息化领域数据安全管理办法")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"harm_rights": "terrible"}, "answer 'terrible' to harm_rights is not one of none, general"),
        ({"large_scale": "perhaps"}, "answer 'perhaps' to large_scale is not yes or no"),
        ({"designated": True}, "answer True to designated is not one of none, important, core"),
        ({"colour": "blue"}, "'colour' is not a question of the classification questionnaire"),
    ],
)
def test_bad_answers_are_refused_by_name(raw: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")):
        parse_answers(raw, BOOK)


def test_assignments_need_an_equals_sign() -> None:
    assert parse_assignments(["large_scale=yes", "harm_rights = serious"], BOOK) == {
        "large_scale": True,
        "harm_rights": "serious",
    }
    with pytest.raises(ConfigError, match="answer 'large_scale' is not QUESTION=ANSWER"):
        parse_assignments(["large_scale"], BOOK)


def test_answers_come_from_an_answers_file_or_a_metadata_document(tmp_path: Path) -> None:
    saved = tmp_path / "answers.json"
    saved.write_text(json.dumps({"format": "idsreg-classification-answers/1", "answers": {"major_incident": True}}))
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"title": "line 4", "classification": {"designated": "core"}}))
    assert read_answers(saved, BOOK) == {"major_incident": True}
    assert read_answers(meta, BOOK) == {"designated": "core"}
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match="answers file .*broken.json is not JSON"):
        read_answers(broken, BOOK)


def test_a_grade_below_the_suggestion_needs_force() -> None:
    suggestion = suggest(parse_answers({"cascade_effect": "yes"}, BOOK), BOOK)
    assert check_grade(Grade.IMPORTANT, suggestion, force=False) is None
    assert check_grade(Grade.CORE, suggestion, force=False) is None
    with pytest.raises(ConfigError, match="grade general is lower than the suggested important.*--force"):
        check_grade(Grade.GENERAL, suggestion, force=False)
    warning = check_grade(Grade.GENERAL, suggestion, force=True)
    assert warning is not None and "registering as general because of --force" in warning


def _edited_rule_book(tmp_path: Path, edit: Any) -> Path:
    raw = json.loads((Path(__file__).parents[2] / "client" / "classification_rules.json").read_text("utf-8"))
    edit(raw)
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(raw, ensure_ascii=False))
    return path


def test_a_rule_book_with_a_rule_on_an_unknown_question_is_refused(tmp_path: Path) -> None:
    path = _edited_rule_book(tmp_path, lambda raw: raw["rules"][0]["when"].update({"weather": "fine"}))
    with pytest.raises(ConfigError, match="'weather' is not a question"):
        load_rules(path)


def test_a_rule_citing_an_unknown_source_is_refused(tmp_path: Path) -> None:
    path = _edited_rule_book(tmp_path, lambda raw: raw["rules"][0].update({"source": "ISO-9999"}))
    with pytest.raises(ConfigError, match="cites unknown source 'ISO-9999'"):
        load_rules(path)


def test_a_rule_book_without_a_catch_all_fails_loudly(tmp_path: Path) -> None:
    path = _edited_rule_book(tmp_path, lambda raw: raw["rules"].pop())
    book = load_rules(path)
    with pytest.raises(ConfigError, match="catch-all"):
        suggest({}, book)
