"""The API fuzzed from its own OpenAPI schema (Schemathesis) with every check it has: whatever
arrives, the answer is never a 5xx; every answer conforms to the schema the API publishes
(status codes, bodies, headers); a request the schema calls valid is never refused as malformed
(so the schema says exactly what the server accepts) and one it calls invalid is refused.

The examples are derandomised, so a run is repeatable; set IDSREG_FUZZ_EXAMPLES for a longer hunt.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.registry_api.conftest import Served

EXAMPLES = int(os.environ.get("IDSREG_FUZZ_EXAMPLES", "10"))


@pytest.mark.parametrize("signed_in", [False, True])
def test_no_server_errors_and_answers_as_documented(api: Served, signed_in: bool) -> None:
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    headers = api.sign_in(api.story.auditor) if signed_in else {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers)

        try:
            check()
        except (AssertionError, BaseExceptionGroup) as exc:  # every operation's findings, not only the first
            failures.append(
                f"{operation.label}: {exc!r}\n" + "\n".join(f"  {e}" for e in getattr(exc, "exceptions", []))
            )
    assert not failures, "\n\n".join(failures)
