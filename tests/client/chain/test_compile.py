"""The committed artifacts are exactly what the pinned compiler makes of the sources."""

from __future__ import annotations

import json

from client.chain.compile import ARTIFACTS_DIR, BENCHMARK, DEPLOYABLE, SOLC_VERSION, compile_contracts, render


def test_fresh_compile_matches_committed_artifacts() -> None:
    fresh = compile_contracts()
    assert set(fresh) == set(DEPLOYABLE + BENCHMARK)
    for name, artifact in fresh.items():
        committed = (ARTIFACTS_DIR / f"{name}.json").read_text()
        assert render(artifact) == committed, f"contracts/artifacts/{name}.json is stale: run scripts/compile"


def test_artifacts_are_stamped_with_the_pinned_compiler() -> None:
    for name in DEPLOYABLE + BENCHMARK:
        raw = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())
        assert raw["compiler"]["version"].startswith(SOLC_VERSION + "+commit.")
        assert raw["compiler"]["settings"]["optimizer"]["enabled"] is True
        assert raw["bytecode"].startswith("0x") and len(raw["bytecode"]) > 100 and len(raw["abi"]) > 0
