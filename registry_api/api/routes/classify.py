"""`/v1/classify`: the classification assistant (client/classify.py) for pages and applications.

Stateless: the answers in, the suggested grade with the rule that decided it out. Nothing is
read from the index or the chain.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, create_model

from client.classify import load_rules, parse_answers, suggest, suggestion_json

from ..limits import BODY_RESPONSES
from ..schemas import Public, Request

router = APIRouter(prefix="/v1", tags=["classify"])


def _answers_model() -> type[BaseModel]:
    """The answers as a schema: one optional field per question, taking exactly that question's
    answers (so the OpenAPI document says what is accepted), named by question id as the CLI names them."""
    fields: dict[str, Any] = {}
    for question in load_rules().questions:
        kind: Any = bool if question.kind == "bool" else Literal[question.options]
        # Left out means unanswered; typed without None so that the schema refuses a null.
        fields[question.id] = (kind, Field(default=None, description=question.text))
    model: type[BaseModel] = create_model(
        "ClassifyAnswers",
        __config__=ConfigDict(extra="forbid"),
        __doc__="Answers by question id; a question left out counts as none / no.",
        **fields,
    )
    return model


ClassifyAnswers = _answers_model()


class ClassifyRequest(Request):
    """Answers to the questionnaire (`GET /v1/classify/questions`)."""

    answers: ClassifyAnswers = Field(  # type: ignore[valid-type]
        examples=[{"harm_economic_operation": "serious", "large_scale": True}]
    )


class QuestionPublic(Public):
    id: str
    answers: list[str]
    question: str


class RulePublic(Public):
    id: str
    grade: str = Field(examples=["important"])
    source: str
    clause: str
    because: str


class ClassificationPublic(Public):
    """The suggested grade, the rule that decided it, every rule that applied, the unanswered questions."""

    grade: str = Field(examples=["important"])
    reason: str
    decided_by: RulePublic
    applied: list[RulePublic]
    assumed: list[str]


@router.get("/classify/questions", response_model=list[QuestionPublic])
def questions() -> list[QuestionPublic]:
    """The questionnaire: each question's id, the answers it takes and its text."""
    return [QuestionPublic(id=q.id, answers=list(q.options), question=q.text) for q in load_rules().questions]


@router.post("/classify", response_model=ClassificationPublic, responses=BODY_RESPONSES)
def classify(body: ClassifyRequest) -> ClassificationPublic:
    """Suggest a grade (general, important, core) by MIIT 2022 and GB/T 43697-2024, with the deciding rule."""
    book = load_rules()
    # The schema holds each answer to its question's words, so these parse.
    answers = parse_answers(body.answers.model_dump(exclude_none=True), book)  # type: ignore[attr-defined]
    return ClassificationPublic.model_validate(suggestion_json(suggest(answers, book)))
