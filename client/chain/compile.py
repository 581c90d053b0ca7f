"""Compile the Solidity sources with the pinned solc-js compiler through py-solc-x.

py-solc-x drives a native `solc`; `scripts/solc-js` is a small Node front that answers the two
calls py-solc-x makes (`--version` and `--standard-json`) with the npm `solc` package's
WebAssembly compiler, whose version `package.json` pins.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import solcx

from ..errors import ConfigError
from ..settings import PROJECT_ROOT

CONTRACTS_DIR = PROJECT_ROOT / "contracts"
ARTIFACTS_DIR = CONTRACTS_DIR / "artifacts"
SOLC_SHIM = PROJECT_ROOT / "scripts" / "solc-js"

#: The compiler version every artifact is built with; `package.json` pins the same.
SOLC_VERSION = "0.8.28"

#: Contracts that `idsreg deploy` deploys, in deployment order.
DEPLOYABLE = ("Consortium", "DataRegistry", "AnchorRegistry", "AccessRegistry", "ExchangeLedger", "DisputeCourt")
#: Benchmark baselines (contracts/bench/): compiled with the same settings, never deployed.
BENCHMARK = ("MinimalRegistry",)

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
