"""Contract errors read as sentences with their times in ISO 8601 UTC."""

from __future__ import annotations

import re

from client.chain.artifacts import all_artifacts
from client.chain.messages import TIME_ARGS, render

#: Argument names that hold a time: a moment (…At, …Time) or a window's end (valid…, …Until).
_TIME_NAME = re.compile(r"(At|Time|Until|From)$")


def test_every_time_argument_of_every_error_is_shown_as_a_date() -> None:
    named_as_times = {
        arg["name"]
        for artifact in all_artifacts().values()
        for item in artifact.abi
        if item["type"] == "error"
        for arg in item["inputs"]
        if arg["type"].startswith("uint") and _TIME_NAME.search(arg["name"])
    }
    assert {"validFrom", "validUntil", "frozenUntil"} <= named_as_times
    assert named_as_times == TIME_ARGS


def test_a_validity_window_reads_as_dates() -> None:
    message = render("AccessRegistryInvalidWindow", {"validFrom": 1782864000, "validUntil": 1767225599})
    assert message == "the validity window 2026-07-01T00:00:00Z to 2025-12-31T23:59:59Z is empty or already over"
