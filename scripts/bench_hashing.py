#!/usr/bin/env python3
"""Hashing throughput: `idsreg hash` and `client.hashing.content_root` against
`openssl dgst -sha256` and `sha256sum` on the same file, in the same run.

    .venv/bin/python scripts/bench_hashing.py [--size-mib 1024] [--cache-dir DIR]

Every tool is timed best of three with the file already in the page cache (it is read once
before timing), so the table compares hashing, not the disk. The external tools run as
subprocesses, so their times include starting the process (a few milliseconds); so does
`idsreg hash FILE`, the command a user runs (Python, the CLI's imports and the worker
processes); the `content_root` rows are the library call in this process.
`ratio_vs_openssl` is openssl's time divided by the tool's: above 1 is faster than openssl.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from client.files import replace
from client.hashing import CHUNK_SIZE, content_root

Row = dict[str, str | float]

_MiB = 1 << 20


def _data_file(directory: Path, size_mib: int) -> Path:
    """A file of ``size_mib`` MiB of random bytes in ``directory``, reused if already there."""
    path = directory / f"bench-hashing-{size_mib}MiB.bin"
    if path.exists() and path.stat().st_size == size_mib * _MiB:
        return path
    # 64 MiB of random data repeated at shifting offsets: incompressible enough for a hash
    # benchmark, and quick to write even for large sizes.
    pool = os.urandom(64 * _MiB + _MiB)
    starts = ((i * 4099) % (64 * _MiB) for i in range(size_mib))
    chunks = (pool[start : start + _MiB] for start in starts)
    return replace(path, chunks, what="benchmark data file")


def _warm(path: Path) -> None:
    with path.open("rb", buffering=0) as handle:
        buffer = bytearray(CHUNK_SIZE)
        while handle.readinto(buffer):
            pass


def _best_of(repeats: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _command(args: list[str]) -> Callable[[], object]:
    def run() -> object:
        return subprocess.run(args, check=True, stdout=subprocess.DEVNULL)

    return run


def bench_hashing(size_mib: int = 1024, cache_dir: Path | None = None, repeats: int = 3) -> list[Row]:
    """Time each tool on one ``size_mib`` MiB file; one row per tool.

    Rows have ``tool``, ``seconds`` (best of ``repeats``), ``MiB/s`` and
    ``ratio_vs_openssl`` (openssl's seconds / this tool's seconds). The data file is kept in
    ``cache_dir`` for the next run when given, else made in a temporary folder and removed.
    """
    with tempfile.TemporaryDirectory() as scratch:
        path = _data_file(cache_dir or Path(scratch), size_mib)
        _warm(path)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        idsreg = Path(sys.executable).parent / "idsreg"
        timings: list[tuple[str, float]] = [
            (f"idsreg hash ({cores} processes)", _best_of(repeats, _command([str(idsreg), "hash", str(path)]))),
            (
                f"content_root ({cores} processes)",
                _best_of(repeats, lambda: content_root(path)),
            ),
            ("content_root (1 process)", _best_of(repeats, lambda: content_root(path, workers=1))),
        ]
        for tool, args in (
            ("openssl dgst -sha256", ["openssl", "dgst", "-sha256", str(path)]),
            ("sha256sum", ["sha256sum", str(path)]),
        ):
            if shutil.which(args[0]):
                timings.append((tool, _best_of(repeats, _command(args))))
    openssl = dict(timings).get("openssl dgst -sha256")
    return [
        {
            "tool": tool,
            "seconds": round(seconds, 3),
            "MiB/s": round(size_mib / seconds, 1),
            "ratio_vs_openssl": round(openssl / seconds, 2) if openssl else float("nan"),
        }
        for tool, seconds in timings
    ]


def _markdown(rows: list[Row]) -> str:
    columns = ["tool", "seconds", "MiB/s", "ratio_vs_openssl"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[column]) for column in columns) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=1024, help="file size (default 1024)")
    parser.add_argument("--cache-dir", type=Path, help="keep the data file here between runs")
    parser.add_argument("--repeats", type=int, default=3, help="runs per tool (best is kept)")
    options = parser.parse_args()
    rows = bench_hashing(options.size_mib, options.cache_dir, options.repeats)
    openssl_version = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=False).stdout.strip()
    print(
        f"{options.size_mib} MiB file, page cache warm, best of {options.repeats}; "
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, {openssl_version or 'no openssl'}\n"
    )
    print(_markdown(rows))


if __name__ == "__main__":
    main()
