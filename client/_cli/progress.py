"""Rich progress bars for long work (hashing, batches), shown only on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .common import err_console

#: Below this many bytes a hash finishes too fast for a bar to help.
BAR_MIN_BYTES = 64 << 20


@contextmanager
def byte_progress(description: str, total: int, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A callback that advances a bytes bar (on stderr, only when it is a terminal)."""
    if not enabled or total < BAR_MIN_BYTES or not err_console.is_terminal:
        yield lambda _done: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.advance(task, done)


@contextmanager
def count_progress(description: str, total: int, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A callback that advances an items bar (on stderr, only when it is a terminal)."""
    if not enabled or total < 2 or not err_console.is_terminal:
        yield lambda _done: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.advance(task, done)
