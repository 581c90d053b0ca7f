"""The committed artifacts are what the pinned compiler makes of the sources as they are.

A full recompile (viaIR, 1,000,000 optimizer runs, in WebAssembly) takes about a minute, so
the default suite checks the cheap invariant — every artifact was built from exactly the
sources in the tree, with the project's settings — and CI runs the full comparison as a step
of its own (`scripts/compile --check`, in `.ci/run`), which exits 1 naming each artifact that
differs from a fresh compile.
"""

from __future__ import annotations

import json

from client.chain.artifacts import BENCHMARK, DEPLOYABLE
from scripts.compiler import ARTIFACTS_DIR, SETTINGS, SOLC_VERSION, source_digest


def test_artifacts_are_built_from_the_sources_in_the_tree() -> None:
    current = source_digest()
    for name in DEPLOYABLE + BENCHMARK:
        raw = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())
        assert raw["sourceDigest"] == current, f"contracts/artifacts/{name}.json is stale: run scripts/compile"
        assert raw["compiler"]["settings"] == SETTINGS, f"{name} was compiled with other settings"


def test_artifacts_are_stamped_with_the_pinned_compiler() -> None:
    for name in DEPLOYABLE + BENCHMARK:
        raw = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())
        assert raw["compiler"]["version"].startswith(SOLC_VERSION + "+commit.")
        assert raw["compiler"]["settings"]["optimizer"]["enabled"] is True
        assert raw["bytecode"].startswith("0x") and len(raw["bytecode"]) > 100 and len(raw["abi"]) > 0
