"""`/v1/classify`: the classification assistant over real HTTP (stateless, so one store is enough)."""

from __future__ import annotations

import pytest

from .conftest import Served

pytestmark = pytest.mark.parametrize("served", ["sqlite"], indirect=True)


def test_questions_and_a_suggestion(api: Served) -> None:
    questions = api.http.get("/v1/classify/questions")
    assert questions.status_code == 200
    assert {"id": "designated", "answers": ["none", "important", "core"]}.items() <= questions.json()[11].items()

    answered = api.http.post(
        "/v1/classify", json={"answers": {"harm_economic_operation": "serious", "large_scale": True}}
    )
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["grade"] == "important"
    assert body["decidedBy"]["id"] == "GBT-table-economy-serious"
    assert body["decidedBy"]["clause"].startswith("6.5, table 2")
    assert "harm_national_security" in body["assumed"] and "large_scale" not in body["assumed"]


@pytest.mark.parametrize(
    ("answers", "fragment"),
    [
        ({"harm_rights": "awful"}, "answers.harm_rights 'awful': Input should be 'none', 'general'"),
        ({"large_scale": None}, "answers.large_scale"),
        ({"weather": "fine"}, "answers.weather 'fine': Extra inputs are not permitted"),
    ],
)
def test_bad_answers_are_a_422_naming_them(api: Served, answers: dict[str, str | None], fragment: str) -> None:
    refused = api.http.post("/v1/classify", json={"answers": answers})
    assert refused.status_code == 422
    assert fragment in refused.json()["error"]
    assert api.http.post("/v1/classify", json={"answers": {}, "grade": "core"}).status_code == 422
