"""Hashing throughput: `scripts/bench_hashing.py`'s table (idsreg hash and content_root vs openssl and sha256sum)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from rich.console import Console

from scripts.bench_hashing import bench_hashing

from .report import Column, Table


def hashing_table(console: Console, size_mib: int = 1024, cache_dir: Path | None = None, repeats: int = 3) -> Table:
    """Hash one `size_mib` MiB file with each tool (best of `repeats`, page cache warm)."""
    with console.status(f"hashing: {size_mib:,} MiB file, each tool best of {repeats} (no per-step progress)"):
        rows = bench_hashing(size_mib, cache_dir, repeats)
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=False).stdout.strip()
    return Table(
        "hashing",
        f"Hashing a {size_mib:,} MiB file",
        [
            Column("tool", "tool"),
            Column("seconds", "seconds", ".3f"),
            Column("MiB/s", "MiB/s", ",.1f"),
            Column("ratio_vs_openssl", "× openssl", ".2f"),
        ],
        list(rows),
        [
            f"file in the page cache, best of {repeats}; {openssl or 'openssl not found'}",
            (
                "content_root is the RFC 6962 root over 1 MiB SHA-256 chunks (scripts/bench_hashing.py); "
                "external tools are timed as subprocesses, so they include process start-up"
            ),
        ],
    )
