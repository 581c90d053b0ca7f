"""Compile the Solidity sources with the pinned solc-js compiler through py-solc-x (`scripts/compile`).

py-solc-x drives a native `solc`; `scripts/solc-js` is a small Node front that answers the two
calls py-solc-x makes (`--version` and `--standard-json`) with the npm `solc` package's
WebAssembly compiler, whose version `package.json` pins.

A build tool of the checkout, not part of the SDK: the SDK only reads the artifacts this writes
(`client/chain/artifacts.py`), so an installed wheel needs neither Node nor py-solc-x.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import solcx

from client.chain.artifacts import BENCHMARK, DEPLOYABLE
from client.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
ARTIFACTS_DIR = CONTRACTS_DIR / "artifacts"
SOLC_SHIM = PROJECT_ROOT / "scripts" / "solc-js"

#: The compiler version every artifact is built with; `package.json` pins the same.
SOLC_VERSION = "0.8.28"

# The IR pipeline with a high `runs` gives the cheapest execution (the contracts are deployed
# once and called often): it keeps a batch anchor under 50,000 gas (docs/benchmarks.md).
SETTINGS: dict[str, Any] = {
    "viaIR": True,
    "optimizer": {"enabled": True, "runs": 1_000_000},
    "evmVersion": "cancun",
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                # Where the runtime code holds immutables, which the constructor fills in: masked
                # when deployed code is compared with the artifact (`idsreg chain verify-contracts`).
                "evm.deployedBytecode.immutableReferences",
            ]
        }
    },
}


def source_files() -> list[Path]:
    """The project's Solidity sources, in a stable order."""
    return sorted(CONTRACTS_DIR.glob("*.sol")) + sorted(CONTRACTS_DIR.glob("bench/*.sol"))


def compile_contracts() -> dict[str, dict[str, Any]]:
    """Compile every source and return the artifact of each deployable contract by name."""
    if not SOLC_SHIM.exists() or not (PROJECT_ROOT / "node_modules" / "solc").exists():
        raise ConfigError("the Solidity compiler is not installed; run scripts/setup first")
    sources = _sources()
    standard_input = {"language": "Solidity", "sources": sources, "settings": SETTINGS}
    output = solcx.compile_standard(
        standard_input, solc_binary=SOLC_SHIM, base_path=str(PROJECT_ROOT), allow_empty=True
    )
    problems = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if problems:
        raise ConfigError("\n".join(e.get("formattedMessage", e["message"]) for e in problems))
    version = solcx.wrapper.get_version_str_from_solc_binary(SOLC_SHIM)
    if not version.startswith(SOLC_VERSION + "+"):
        raise ConfigError(f"solc {version} is installed but the project pins {SOLC_VERSION}; run scripts/setup")
    digest = _digest_sources(sources)
    artifacts: dict[str, dict[str, Any]] = {}
    for source_name, contracts in output["contracts"].items():
        for name, compiled in contracts.items():
            if name not in DEPLOYABLE + BENCHMARK:
                continue
            artifacts[name] = {
                "contractName": name,
                "sourceName": source_name,
                "abi": compiled["abi"],
                "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
                "immutableReferences": compiled["evm"]["deployedBytecode"].get("immutableReferences", {}),
                "compiler": {"version": version, "settings": SETTINGS},
                "sourceDigest": digest,
            }
    missing = set(DEPLOYABLE + BENCHMARK) - set(artifacts)
    if missing:
        raise ConfigError(f"no compiled output for {sorted(missing)}")
    return artifacts


def source_digest() -> str:
    """The digest of the sources in the tree, as every artifact built from them records it."""
    return _digest_sources(_sources())


def render(artifact: dict[str, Any]) -> str:
    """The artifact's canonical file text (stable key order, newline-terminated)."""
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def write_artifacts(artifacts: dict[str, dict[str, Any]], directory: Path = ARTIFACTS_DIR) -> list[Path]:
    """Write each artifact as `<Name>.json`; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, artifact in sorted(artifacts.items()):
        path = directory / f"{name}.json"
        path.write_text(render(artifact))
        written.append(path)
    return written


def _sources() -> dict[str, dict[str, str]]:
    return {p.relative_to(PROJECT_ROOT).as_posix(): {"content": p.read_text()} for p in source_files()}


def _digest_sources(sources: dict[str, dict[str, str]]) -> str:
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name]["content"].encode() + b"\0")
    return digest.hexdigest()


def stale_artifacts(artifacts: dict[str, dict[str, Any]], directory: Path = ARTIFACTS_DIR) -> list[str]:
    """The names whose committed artifact is missing or differs from `artifacts` (a fresh compile)."""
    return [
        name
        for name, artifact in sorted(artifacts.items())
        if not (directory / f"{name}.json").is_file() or render(artifact) != (directory / f"{name}.json").read_text()
    ]


def main(args: list[str]) -> int:
    """`scripts/compile` rewrites the artifacts; `scripts/compile --check` compares them instead
    and exits 1 naming every artifact that differs from a fresh compile (CI runs this)."""
    if args not in ([], ["--check"]):
        print(f"usage: scripts/compile [--check]  (got {args})", file=sys.stderr)
        return 2
    try:
        compiled = compile_contracts()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args == ["--check"]:
        stale = stale_artifacts(compiled)
        for name in stale:
            print(f"contracts/artifacts/{name}.json differs from a fresh compile: run scripts/compile", file=sys.stderr)
        print("compiled artifacts: " + ("stale" if stale else "match a fresh compile"))
        return 1 if stale else 0
    for path in write_artifacts(compiled):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
