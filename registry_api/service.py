"""Running the registry service: a supervisor process, the indexer process and the API worker
processes, each restarted when it dies.

`serve` is the supervisor. It opens the listening socket, then starts the indexer
(`python -m registry_api index`, exactly one) and `settings.workers` API workers
(`python -m registry_api worker`, uvicorn on the inherited socket: the kernel shares incoming
connections among them). A child that dies is logged and started again after a back-off
(0.5 s, doubling up to 30 s; back to 0.5 s once it ran a minute), so a crash of one worker
(a request that kills its process) costs neither the indexer nor the other workers, and a
crashed indexer does not stop the API. SIGINT or SIGTERM stop the supervisor: it asks every
child to finish (SIGTERM: uvicorn completes the requests in flight, the indexer its current
range or drops it uncommitted), waits, and exits 0. A child whose supervisor is gone stops by
itself (`watch_parent`).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .db import init_db, make_engine
from .errors import ServiceConfigError
from .leader import schema_lock
from .settings import ApiSettings

log = logging.getLogger(__name__)

#: Back-off before a restart: the first delay, the longest, and how long a child must run to
#: count as healthy again (its next crash then waits the first delay again).
FIRST_DELAY, LONGEST_DELAY, HEALTHY_AFTER = 0.5, 30.0, 60.0
#: Seconds the children get to stop before they are killed.
STOP_TIMEOUT = 20.0


@dataclass
class Child:
    """One supervised process: its kind, its command, and its restart state."""

    kind: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    crashes: int = 0
    due: float = 0.0
    pass_fds: tuple[int, ...] = field(default_factory=tuple)

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(self.command, env=env, pass_fds=self.pass_fds)
        self.started = time.monotonic()
        log.info("%s started (pid %d)", self.kind, self.process.pid)

    def reap(self, now: float) -> None:
        """If the process ended: log it and schedule its restart."""
        if self.process is None or (code := self.process.poll()) is None:
            return
        ran = now - self.started
        self.crashes = 0 if ran >= HEALTHY_AFTER else self.crashes + 1
        delay = min(LONGEST_DELAY, FIRST_DELAY * 2 ** max(self.crashes - 1, 0))
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        log.warning(
            "%s (pid %d) %s after %.1f s; restarting it in %.1f s", self.kind, self.process.pid, how, ran, delay
        )
        self.process = None
        self.due = now + delay


def _environment(settings: ApiSettings, metrics_dir: str | None) -> dict[str, str]:
    """The children's environment: these settings (whatever set them), as `IDSREG_API_*`."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        secret = getattr(value, "get_secret_value", None)
        env[f"IDSREG_API_{name.upper()}"] = str(secret() if secret is not None else value)
    if metrics_dir is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    return env


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServiceConfigError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(settings: ApiSettings, *, index: bool = True, log_level: str = "info") -> None:
    """Serve the API on settings.host:port with settings.workers worker processes (and follow the
    chain in an indexer process, unless `index` is False) until SIGINT or SIGTERM."""
    engine = make_engine(settings.database_url)
    with schema_lock(engine):  # once, before the children (and other services) race to create the tables
        init_db(engine)
    engine.dispose()
    sock = _listen(settings.host, settings.port)
    metrics_dir = tempfile.mkdtemp(prefix="idsreg-metrics-") if settings.workers > 1 else None
    env = _environment(settings, metrics_dir)
    service = [sys.executable, "-m", "registry_api"]
    parent = ["--parent", str(os.getpid())]
    children = [Child("indexer", [*service, "index", *parent])] if index else []
    children += [
        Child(
            "API worker",
            [*service, "worker", "--fd", str(sock.fileno()), "--log-level", log_level, *parent],
            pass_fds=(sock.fileno(),),
        )
        for _ in range(settings.workers)
    ]
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    log.info(
        "registry service on http://%s:%d: %d API worker(s)%s",
        settings.host,
        settings.port,
        settings.workers,
        " and the indexer" if index else "",
    )
    try:
        while not stop.is_set():
            now = time.monotonic()
            for child in children:
                child.reap(now)
                if child.process is None and now >= child.due:
                    child.start(env)
            stop.wait(0.2)
    finally:
        _stop_all(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _stop_all(children: list[Child]) -> None:
    running = [c.process for c in children if c.process is not None and c.process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in running:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            log.warning("pid %d did not stop within %.0f s; killing it", process.pid, STOP_TIMEOUT)
            process.kill()
            process.wait()


def watch_parent(parent: int | None) -> None:
    """Stop this process (SIGTERM to itself) once `parent`, its supervisor, is gone."""
    if parent is None:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        log.warning("the supervisor (pid %d) is gone; stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run_worker(fd: int, log_level: str) -> None:
    """One API worker: uvicorn serving the app (settings from the environment) on socket `fd`."""
    import uvicorn  # the web stack, only in workers

    options: dict[str, Any] = {"log_level": log_level, "access_log": False, "timeout_graceful_shutdown": 5}
    uvicorn.run("registry_api.api:app_from_environment", factory=True, fd=fd, **options)
