"""A closed-loop HTTP load generator: N clients, each on its own keep-alive connection, each
sending its next GET as soon as the previous answer has arrived, for a fixed time.

Hand-written on asyncio streams on purpose: a general HTTP client costs more CPU per request
than the server under test spends on a lookup, and on a 2-core machine that CPU is taken from
the server. This one parses only what the API sends (a status line, a Content-Length body).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import uvloop


@dataclass
class LoadResult:
    """Latencies (seconds) of the requests answered inside the measured window."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.latencies) if self.latencies else float("nan")


async def _client(
    host: str,
    port: int,
    paths: Sequence[str],
    chooser: random.Random,
    until: float,
    warm_until: float,
    result: LoadResult,
) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        result.failures += 1
        return
    try:
        while True:
            path = paths[chooser.randrange(len(paths))]
            start = time.perf_counter()
            if start >= until:
                return
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            end = time.perf_counter()
            if start >= warm_until:
                result.latencies.append(end - start)
                result.statuses[status] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError):
        result.failures += 1
    finally:
        writer.close()


async def _run(url: str, paths: Sequence[str], clients: int, seconds: float, warmup: float, seed: int) -> LoadResult:
    site = urlsplit(url)
    host, port = site.hostname or "127.0.0.1", site.port or 80
    now = time.perf_counter()
    warm_until, until = now + warmup, now + warmup + seconds
    result = LoadResult(seconds)
    chooser = random.Random(seed)
    await asyncio.gather(
        *(
            _client(host, port, paths, random.Random(chooser.random()), until, warm_until, result)
            for _ in range(clients)
        )
    )
    return result


def run_load(
    url: str, paths: Sequence[str], *, clients: int = 32, seconds: float = 10.0, warmup: float = 2.0, seed: int = 7
) -> LoadResult:
    """`clients` concurrent clients GET random `paths` from `url` for `seconds` (after `warmup`)."""
    # libuv's event loop: the generator's own overhead is part of every latency it measures.
    return uvloop.run(_run(url, paths, clients, seconds, warmup, seed))
