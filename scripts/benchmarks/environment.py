"""The machine and toolchain a benchmark ran on, for the report's header."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from importlib.metadata import version

from client.chain.artifacts import BENCHMARK, DEPLOYABLE, load_artifact
from client.chain.node import anvil_binary
from client.errors import ConfigError
from client.locations import artifacts_dir

from .report import Column, Row, Table


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or platform.machine()
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def _memory() -> str:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / (1 << 20):.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _anvil_version() -> str:
    try:
        out = subprocess.run([str(anvil_binary()), "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    first = out.splitlines()[0] if out else "unknown"
    return first.removeprefix("anvil Version:").strip()


def _contracts() -> str:
    """Which contracts were measured: the commit, whether they differ from it, artifact digests."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        changed = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--", "contracts"],
            capture_output=True,
            text=True,
            check=True,
        )
        commit = head.stdout.strip() + (" + uncommitted changes" if changed.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        commit = "not a git checkout"
    digests = ", ".join(f"{name} {_short_digest(name)}" for name in DEPLOYABLE + BENCHMARK)
    return f"{commit}; artifact sha256 {digests}"


def _short_digest(name: str) -> str:
    try:
        return load_artifact(name).digest[:10]
    except ConfigError:
        return "(no artifact)"


def _compiler() -> str:
    """solc's version and the optimizer settings the measured artifacts were built with."""
    try:
        raw = json.loads((artifacts_dir() / "DataRegistry.json").read_text())["compiler"]
    except (OSError, ValueError, KeyError):
        return "(no artifact)"
    settings = raw.get("settings", {})
    optimizer = settings.get("optimizer", {})
    shown = f"optimizer runs {optimizer.get('runs'):,}" if optimizer.get("enabled") else "optimizer off"
    via_ir = ", via IR" if settings.get("viaIR") else ""
    return f"{raw.get('version')}, {shown}{via_ir}, EVM {settings.get('evmVersion', 'default')}"


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def environment_table(hardfork: str | None, load_at_start: str) -> Table:
    """Date, CPU, cores, memory, Python, anvil and solc, and the load before and after the run."""
    rows: list[Row] = [
        {"item": "date (UTC)", "value": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")},
        {"item": "CPU", "value": f"{_cpu_model()}, {cores()} cores (nproc)"},
        {"item": "memory", "value": _memory()},
        {"item": "OS", "value": f"{platform.system()} {platform.release()}"},
        {"item": "Python", "value": f"{platform.python_version()}, web3.py {version('web3')}"},
        {"item": "anvil", "value": _anvil_version() + (f", hardfork {hardfork}" if hardfork else "")},
        {"item": "solc", "value": _compiler()},
        {"item": "contracts", "value": _contracts()},
        {"item": "load average 1/5/15 min", "value": f"{load_at_start} at start, {load_average()} at end"},
    ]
    return Table("environment", "Machine", [Column("item", "item"), Column("value", "value")], rows)
