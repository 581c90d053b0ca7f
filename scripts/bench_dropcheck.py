#!/usr/bin/env python3
"""Verify by drop on a large file: the browser's root against `idsreg hash`, its speed, and
how much memory Chromium takes meanwhile (docs/explorer-verify.md).

    .venv/bin/python scripts/bench_dropcheck.py [--size-mib 4096] [--dir DIR]

The file is sparse (holes read as zeros: the browser reads it slice by slice all the same),
so that a multi-GiB run needs no disk space. The page is served by the registry service over
an empty SQLite index (hashing needs no chain; the lookup that follows answers "not
registered"). Memory is the resident set (RSS) of all of Chromium's processes, sampled every
0.1 s from /proc: at rest on the page, and the peak while hashing; a page that read the whole
file would add the file's size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from registry_api.db import init_db, make_engine
from tests.browser import browser
from tests.registry_api.conftest import serving
from tests.registry_api.helpers import settings

_MiB = 1 << 20


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _chromium_rss_mib() -> float:
    """The resident memory of every Chromium process under this one."""
    total = 0
    for pid in _descendants(os.getpid()):
        try:
            if "chromium" not in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode():
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, IndexError):
            continue
    return total / _MiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=4096)
    parser.add_argument("--dir", type=Path, default=None, help="where to make the sparse file (a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / f"sparse-{args.size_mib}MiB.bin"
        with path.open("wb") as handle:
            handle.truncate(args.size_mib * _MiB)
        start = time.perf_counter()
        idsreg = Path(sys.executable).with_name("idsreg")
        done = subprocess.run([str(idsreg), "hash", "--json", str(path)], capture_output=True, text=True, check=True)
        cli_seconds = time.perf_counter() - start
        expected = json.loads(done.stdout)[0]["root"]

        database_url = f"sqlite:///{Path(tmp) / 'index.db'}"
        engine = make_engine(database_url)
        init_db(engine)
        with serving(settings(database_url=database_url), engine) as url, browser() as b:
            b.page.goto(f"{url}/verify")
            b.page.wait_for_selector("body[data-ready=true]")
            time.sleep(1)
            at_rest = _chromium_rss_mib()
            peak = [at_rest]
            stop = threading.Event()

            def sample() -> None:
                while not stop.is_set():
                    peak[0] = max(peak[0], _chromium_rss_mib())
                    time.sleep(0.1)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            start = time.perf_counter()
            b.page.set_input_files("#pick-file", str(path))
            b.page.wait_for_selector("body[data-state]", timeout=3_600_000)
            seconds = time.perf_counter() - start
            stop.set()
            sampler.join()
            root = b.page.locator("#root").inner_text()
        engine.dispose()
    print(
        "| size | browser s | browser MiB/s | `idsreg hash` s | same root | Chromium RSS at rest | peak while hashing |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {args.size_mib} MiB | {seconds:.1f} | {args.size_mib / seconds:.0f} | {cli_seconds:.1f} | "
        f"{'yes' if root == expected else f'NO: {root} vs {expected}'} | {at_rest:.0f} MiB | {peak[0]:.0f} MiB |"
    )
    if root != expected:
        sys.exit(1)


if __name__ == "__main__":
    main()
