"""Start-up: how long `idsreg` commands take to answer, next to a bare `python -c pass`.

Each command runs as a user runs it (the `.venv/bin/idsreg` console script, a new process
each time), best and median of `repeats`. The chain command is pointed at a closed port, so
it measures everything up to the first request (imports, settings, connecting) and then
fails at once (exit 3), without a node's own latency.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from .report import Column, Table

IDSREG = Path(sys.executable).parent / "idsreg"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _times(args: list[str], env: dict[str, str], repeats: int, expect: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != expect:
            raise RuntimeError(f"{' '.join(args)} exited {done.returncode}, expected {expect}")
    return times


def startup_rows(repeats: int = 10) -> list[dict[str, str | float]]:
    """One row per command: best and median seconds, and the same less `python -c pass`."""
    with tempfile.TemporaryDirectory() as scratch:
        small = Path(scratch, "small.csv")
        small.write_text("sensor,value\n" + "".join(f"s{i},{i * 0.5}\n" for i in range(1000)))
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
        env["IDSREG_HOME"] = str(Path(scratch, "home"))
        rpc = f"http://127.0.0.1:{_closed_port()}"
        commands: list[tuple[str, list[str], int, str]] = [
            ("python -c pass (baseline)", [sys.executable, "-c", "pass"], 0, ""),
            ("idsreg --help", [str(IDSREG), "--help"], 0, "≤ 0.25"),
            ("idsreg hash small.csv (44 kB)", [str(IDSREG), "hash", str(small)], 0, "≤ 0.25"),
            (
                "idsreg dataset show ID (chain; closed port, exit 3)",
                [str(IDSREG), "dataset", "show", "0x" + "ab" * 32, "--rpc-url", rpc],
                3,
                "≤ 0.6",
            ),
        ]
        measured = [(name, _times(args, env, repeats, expect), target) for name, args, expect, target in commands]
    baseline = min(measured[0][1])
    return [
        {
            "command": name,
            "best": min(times),
            "median": statistics.median(times),
            "over_python": min(times) - baseline,
            "target": target,
        }
        for name, times, target in measured
    ]


def startup_table(console: Console, repeats: int = 10) -> Table:
    with console.status(f"start-up: each command {repeats} times"):
        rows = startup_rows(repeats)
    return Table(
        "startup",
        "Start-up of idsreg commands",
        [
            Column("command", "command"),
            Column("best", "best s", ".3f"),
            Column("median", "median s", ".3f"),
            Column("over_python", "best − python s", ".3f"),
            Column("target", "target s"),
        ],
        list(rows),
        [
            f"each a new process as a user runs it, {repeats} runs; `.venv/bin/idsreg`",
            "the targets (issue 14) are for the whole command: best s",
        ],
    )
