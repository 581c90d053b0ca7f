"""Background processes the command line starts and stops (the local chain node, the API):
their pid files and a graceful stop."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether process `pid` runs (reaping it first if it is our exited child)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def live_pid(pid_file: Path) -> int | None:
    """The pid in `pid_file` if that process runs."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def stop(pid_file: Path, sig: signal.Signals = signal.SIGINT, timeout: float = 15.0) -> bool:
    """Stop the process of `pid_file` with `sig`, then SIGKILL after `timeout` seconds; removes
    the pid file. Returns whether a process was running."""
    pid = live_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True
