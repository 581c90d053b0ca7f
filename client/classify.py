"""The classification assistant: suggest a dataset's grade from a short questionnaire.

The rules live in one data file, `classification_rules.json` (package data), each with its
source: MIIT's 2022 data-security measures for the industrial and IT sector (general, important
and core data, articles 9-11) and GB/T 43697-2024's level table (the object harmed × the degree
of harm; aggregated and derived data). Every rule that matches the answers gives a grade; the
highest grade wins ("就高从严", GB/T 43697-2024 clause 4), and among the rules giving it the
first in the file decides. docs/classification.md explains each rule.

>>> book = load_rules()
>>> suggestion = suggest(parse_answers({"industry_serious_impact": "yes"}, book), book)
>>> suggestion.grade.name, suggestion.deciding.id
('IMPORTANT', 'MIIT-art10-industry-impact')
>>> suggest(parse_answers({}, book), book).grade.name
'GENERAL'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from .chain.enums import Grade
from .errors import ConfigError

RULES_FORMAT = "idsreg-classification-rules/1"
ANSWERS_FORMAT = "idsreg-classification-answers/1"
#: Harm degrees, least first (GB/T 43697-2024 6.4: general, serious, particularly serious).
DEGREES = ("none", "general", "serious", "particularly_serious")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}

Answer = str | bool


@dataclass(frozen=True)
class Question:
    """One question of the questionnaire: a harm degree, a yes/no, or one of a few choices."""

    id: str
    kind: str  # "degree" | "bool" | "choice"
    text: str
    choices: tuple[str, ...] = ()

    @property
    def options(self) -> tuple[str, ...]:
        """The answers this question takes, as words."""
        if self.kind == "degree":
            return DEGREES
        if self.kind == "bool":
            return ("no", "yes")
        return self.choices

    @property
    def unanswered(self) -> Answer:
        """What an unanswered question counts as: no harm, no, none."""
        return False if self.kind == "bool" else self.options[0]

    def parse(self, value: object) -> Answer:
        """The answer `value` (a word, or a JSON boolean) in this question's terms."""
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word in _TRUE or word in _FALSE:
                return word in _TRUE
            raise ConfigError(f"answer {value!r} to {self.id} is not yes or no")
        word = str(value).strip().lower().replace(" ", "_").replace("-", "_")
        if isinstance(value, bool) or word not in self.options:
            raise ConfigError(f"answer {value!r} to {self.id} is not one of {', '.join(self.options)}")
        return word


@dataclass(frozen=True)
class Rule:
    """If every condition of `when` holds, the data is at least `grade`, for the reason `because`."""

    id: str
    when: Mapping[str, tuple[Answer, ...]]
    grade: Grade
    source: str
    clause: str
    because: str

    def matches(self, answers: Mapping[str, Answer]) -> bool:
        return all(answers[question] in accepted for question, accepted in self.when.items())


@dataclass(frozen=True)
class RuleBook:
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]
    sources: Mapping[str, str]

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        known = ", ".join(q.id for q in self.questions)
        raise ConfigError(f"{question_id!r} is not a question of the classification questionnaire ({known})")


@dataclass(frozen=True)
class Suggestion:
    """The suggested grade, the rule that decided it, the others that applied, what was assumed."""

    grade: Grade
    deciding: Rule
    applied: tuple[Rule, ...]
    assumed: tuple[str, ...]
    book: RuleBook

    def reason(self) -> str:
        """One sentence: the grade, the rule's source and clause, and why."""
        rule = self.deciding
        return f"{self.grade.name.lower()}: {rule.because} ({_short(rule.source)}, {rule.clause})"


def _short(source: str) -> str:
    return {"MIIT-2022": "MIIT 2022 measures", "GBT-43697-2024": "GB/T 43697-2024"}.get(source, source)


def load_rules(path: Path | None = None) -> RuleBook:
    """The rule book: the installed `classification_rules.json`, or the file at `path`."""
    text = (
        path.read_text("utf-8")
        if path is not None
        else files("client").joinpath("classification_rules.json").read_text("utf-8")
    )
    raw = json.loads(text)
    if raw.get("format") != RULES_FORMAT:
        raise ConfigError(f"classification rules have format {raw.get('format')!r}, expected {RULES_FORMAT}")
    questions = tuple(Question(q["id"], q["kind"], q["text"], tuple(q.get("choices", ()))) for q in raw["questions"])
    book = RuleBook(questions, (), dict(raw["sources"]))
    rules = []
    for r in raw["rules"]:
        when: dict[str, tuple[Answer, ...]] = {}
        for question_id, accepted in r["when"].items():
            question = book.question(question_id)
            values = accepted if isinstance(accepted, list) else [accepted]
            when[question_id] = tuple(question.parse(v) for v in values)
        if r["source"] not in book.sources:
            raise ConfigError(f"classification rule {r['id']} cites unknown source {r['source']!r}")
        rules.append(Rule(r["id"], when, Grade[r["grade"].upper()], r["source"], r["clause"], r["because"]))
    return RuleBook(questions, tuple(rules), book.sources)


def parse_answers(raw: Mapping[str, object], book: RuleBook) -> dict[str, Answer]:
    """Answers keyed by question id, checked: an unknown question or a bad answer is refused by name."""
    return {question_id: book.question(question_id).parse(value) for question_id, value in raw.items()}


def parse_assignments(items: Sequence[str], book: RuleBook) -> dict[str, Answer]:
    """Answers given as `QUESTION=ANSWER` words (the command line's `--answer`)."""
    raw: dict[str, str] = {}
    for item in items:
        question_id, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"answer {item!r} is not QUESTION=ANSWER")
        raw[question_id.strip()] = value
    return parse_answers(raw, book)


def answers_in_document(document: Mapping[str, Any], where: str) -> Mapping[str, object]:
    """The answers an answers file or a metadata document carries (its `answers` or `classification`)."""
    found = document.get("answers", document.get("classification", {}))
    if not isinstance(found, Mapping):
        raise ConfigError(f"{where}: its classification answers are not an object of QUESTION: ANSWER")
    return found


def read_answers(path: Path, book: RuleBook) -> dict[str, Answer]:
    """The answers of an answers file (`idsreg classify --save`) or of a metadata document."""
    try:
        document = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read answers file {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"answers file {path} is not JSON: {exc}") from None
    if not isinstance(document, Mapping):
        raise ConfigError(f"answers file {path} is not a JSON object")
    return parse_answers(answers_in_document(document, str(path)), book)


def answers_document(answers: Mapping[str, Answer]) -> dict[str, Any]:
    """What `idsreg classify --save` writes: the answers, readable by `--answers`."""
    return {"format": ANSWERS_FORMAT, "answers": dict(answers)}


def suggest(answers: Mapping[str, Answer], book: RuleBook | None = None) -> Suggestion:
    """The grade the rules give for `answers` (unanswered questions count as no harm, no, none)."""
    book = book or load_rules()
    complete = {q.id: answers.get(q.id, q.unanswered) for q in book.questions}
    applied = tuple(rule for rule in book.rules if rule.matches(complete))
    if not applied:  # the rule book ends with a catch-all; a rule file without one is a defect
        raise ConfigError("no classification rule applies: the rule book needs a catch-all rule for general data")
    grade = max(rule.grade for rule in applied)
    deciding = next(rule for rule in applied if rule.grade == grade)
    assumed = tuple(q.id for q in book.questions if q.id not in answers)
    return Suggestion(grade, deciding, applied, assumed, book)


def suggestion_json(suggestion: Suggestion) -> dict[str, Any]:
    """The suggestion as docs/json.md writes things (camelCase)."""

    def rule_json(rule: Rule) -> dict[str, Any]:
        return {
            "id": rule.id,
            "grade": rule.grade.name.lower(),
            "source": suggestion.book.sources[rule.source],
            "clause": rule.clause,
            "because": rule.because,
        }

    return {
        "grade": suggestion.grade.name.lower(),
        "reason": suggestion.reason(),
        "decidedBy": rule_json(suggestion.deciding),
        "applied": [rule_json(r) for r in suggestion.applied],
        "assumed": list(suggestion.assumed),
    }


def check_grade(chosen: Grade, suggestion: Suggestion, force: bool) -> str | None:
    """Refuse a grade below the suggestion unless forced; forced, the warning to show."""
    if chosen >= suggestion.grade:
        return None
    message = f"grade {chosen.name.lower()} is lower than the suggested {suggestion.reason()}"
    if not force:
        raise ConfigError(
            f"{message}; register with --grade {suggestion.grade.name.lower()}, "
            f"or add --force to keep {chosen.name.lower()}"
        )
    return f"warning: {message}; registering as {chosen.name.lower()} because of --force"
