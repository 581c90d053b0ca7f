"""`idsreg classify`: suggest a dataset's grade from its metadata and a short questionnaire."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import ConfigError
from .common import JsonOpt, console, emit, err_console

if TYPE_CHECKING:
    from ..classify import Answer, RuleBook, Suggestion

MetaOpt = Annotated[
    Path | None,
    typer.Option("--meta", help="Metadata document whose `classification` object holds answers."),
]
AnswersOpt = Annotated[
    Path | None,
    typer.Option("--answers", help="Answers file (written by `idsreg classify --save`) or metadata document."),
]
AnswerOpt = Annotated[
    list[str],
    typer.Option("--answer", "-a", help="One answer, QUESTION=ANSWER (repeat); see --questions."),
]


def gather_answers(
    meta: Path | None, answers_file: Path | None, answer: list[str], book: RuleBook
) -> dict[str, Answer]:
    """Answers from a metadata document, an answers file and `--answer` flags, later ones winning."""
    from ..classify import parse_assignments, read_answers

    gathered: dict[str, Answer] = {}
    for path in (meta, answers_file):
        if path is not None:
            gathered.update(read_answers(path, book))
    gathered.update(parse_assignments(answer, book))
    return gathered


def _ask(book: RuleBook, answers: dict[str, Answer]) -> None:
    """Ask each question not answered yet, on the terminal."""
    for question in book.questions:
        if question.id in answers:
            continue
        options = "/".join(question.options)
        while True:
            value = typer.prompt(f"{question.text}\n  [{options}]", default=str(question.options[0]), err=True)
            try:
                answers[question.id] = question.parse(value)
                break
            except ConfigError as exc:
                err_console.print(str(exc))


def _show(suggestion: Suggestion) -> None:
    rule = suggestion.deciding
    console.print(f"Suggested grade: [bold]{suggestion.grade.name.lower()}[/bold]")
    console.print(f"  decided by {rule.id}: {rule.because}", soft_wrap=True, markup=False)
    console.print(f"  source: {suggestion.book.sources[rule.source]}, {rule.clause}", soft_wrap=True, markup=False)
    others = [r for r in suggestion.applied if r is not rule and r.when]
    for other in others:
        console.print(
            f"  also applies: {other.id} ({other.grade.name.lower()}): {other.because}", soft_wrap=True, markup=False
        )
    if suggestion.assumed:
        console.print(
            f"  not answered (counted as none/no): {', '.join(suggestion.assumed)}", soft_wrap=True, markup=False
        )


def classify(
    meta: MetaOpt = None,
    answers_file: AnswersOpt = None,
    answer: AnswerOpt = [],  # noqa: B006
    ask: Annotated[
        bool | None,
        typer.Option("--ask/--no-ask", help="Ask unanswered questions (default: when stdin is a terminal)."),
    ] = None,
    questions: Annotated[bool, typer.Option("--questions", help="List the questions and their answers.")] = False,
    save: Annotated[Path | None, typer.Option("--save", help="Write the answers to a new answers file.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Suggest a grade (general, important, core) by MIIT 2022 and GB/T 43697-2024, saying which rule decided."""
    from ..classify import answers_document, load_rules, suggest, suggestion_json
    from ..files import create_new

    book = load_rules()
    if questions:
        listing = [{"id": q.id, "answers": list(q.options), "question": q.text} for q in book.questions]

        def show() -> None:
            for q in listing:
                console.print(f"{q['id']} [{'/'.join(q['answers'])}]\n  {q['question']}", soft_wrap=True, markup=False)

        emit(as_json, listing, show)
        return
    answers = gather_answers(meta, answers_file, answer, book)
    if ask if ask is not None else (sys.stdin.isatty() and not as_json):
        _ask(book, answers)
    suggestion = suggest(answers, book)
    if save is not None:
        create_new(save, json.dumps(answers_document(answers), indent=2) + "\n", what="answers file")
    emit(as_json, suggestion_json(suggestion), lambda: _show(suggestion))
    if save is not None and not as_json:
        err_console.print(f"answers saved to {save} (give it to `idsreg register --answers`)")
