"""`idsreg classify` and the grade check of `idsreg register`, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import User, assert_one_clear_line


@pytest.fixture
def members(user: User) -> User:
    """gov deploys; ACME Steel (admin key acme) is a member."""
    user.add_key("gov"), user.add_key("acme")
    user.ok("deploy", "--key", "gov")
    user.admit("DEMO:ACME", "ACME Steel", "acme")
    return user


def test_classify_says_which_rule_decided(user: User) -> None:
    human = user.ok("classify", "--no-ask", "-a", "industry_serious_impact=yes", "-a", "harm_rights=serious").stdout
    assert "Suggested grade: important" in human
    assert "decided by MIIT-art10-industry-impact" in human and "article 10(2)" in human
    assert "also applies: GBT-table-rights-only (general)" in human
    assert "not answered (counted as none/no):" in human

    body = user.ok_json("classify", "-a", "harm_rights=particularly_serious", "-a", "large_scale=yes")
    assert body["grade"] == "core"
    assert body["decidedBy"]["id"] == "GBT-aggregation-large-scale-particularly-serious"
    assert body["decidedBy"]["source"].startswith("GB/T 43697-2024")


def test_classify_lists_its_questions(user: User) -> None:
    assert "large_scale [no/yes]" in user.ok("classify", "--questions").stdout
    listing = user.ok_json("classify", "--questions")
    assert [q["id"] for q in listing][:2] == ["harm_national_security", "harm_economic_operation"]
    assert {"id": "large_scale", "answers": ["no", "yes"]}.items() <= listing[5].items()


def test_classify_asks_what_was_not_answered(user: User, tmp_path: Path) -> None:
    saved = tmp_path / "answers.json"
    # The first question (national security) answered "general", the rest left at their defaults.
    answers = "general\n" + "\n" * 20
    result = user.run("classify", "--ask", "--save", str(saved), stdin=answers)
    assert result.code == 0, result.stderr
    assert "Suggested grade: important" in result.stdout
    assert "GBT-table-national-security-general" in result.stdout
    document = json.loads(saved.read_text())
    assert document["format"] == "idsreg-classification-answers/1"
    assert document["answers"]["harm_national_security"] == "general"
    assert document["answers"]["large_scale"] is False

    again = user.run("classify", "--no-ask", "-a", "cascade_effect=yes", "--save", str(saved))
    assert_one_clear_line(again, 2, str(saved))
    assert json.loads(saved.read_text()) == document


def test_classify_refuses_bad_answers_by_name(user: User, tmp_path: Path) -> None:
    assert_one_clear_line(
        user.run("classify", "--no-ask", "-a", "harm_rights=terrible"), 2, "answer 'terrible' to harm_rights"
    )
    assert_one_clear_line(user.run("classify", "--no-ask", "-a", "mood=bad"), 2, "'mood' is not a question")
    missing = tmp_path / "nowhere.json"
    assert_one_clear_line(user.run("classify", "--answers", str(missing)), 2, f"cannot read answers file {missing}")


def test_register_refuses_a_grade_below_the_suggestion(members: User, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    members.ok("classify", "--no-ask", "-a", "cascade_effect=yes", "--save", str(answers))
    data = tmp_path / "line4.csv"
    data.write_text("t,torque\n1,42\n")

    refused = members.run("register", str(data), "--answers", str(answers), "--key", "acme")
    assert_one_clear_line(refused, 2, "grade general is lower than the suggested important", "--force")
    root = members.ok_json("hash", str(data))[0]["root"]
    assert members.run("dataset", "show", root).code == 6  # nothing was registered

    forced = members.run("register", str(data), "--answers", str(answers), "--force", "--key", "acme", "--json")
    assert forced.code == 0, forced.stderr
    assert "registering as general because of --force" in forced.stderr
    assert forced.json()["root"] == root
    assert members.ok_json("dataset", "show", root)["grade"] == "general"


def test_register_reads_the_answers_in_the_metadata(members: User, tmp_path: Path) -> None:
    data = tmp_path / "grid.csv"
    data.write_text("substation,load\nA,7\n")
    meta = tmp_path / "grid.meta.json"
    meta.write_text(json.dumps({"title": "grid loads", "classification": {"large_scale_shutdown": "yes"}}))
    refused = members.run("register", str(data), "--meta", str(meta), "--grade", "important", "--key", "acme")
    assert_one_clear_line(refused, 2, "lower than the suggested core")
    registered = members.ok_json("register", str(data), "--meta", str(meta), "--grade", "core", "--key", "acme")
    assert members.ok_json("dataset", "show", registered["root"])["grade"] == "core"
