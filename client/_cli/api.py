"""`idsreg api serve|stop|status|index|reindex`: the registry service (REST API and indexer).

The service is the `registry_api` package, run as `python -m registry_api`; the client only
starts, stops and asks it (it never imports the server). A background service keeps its pid
file and log in `$IDSREG_HOME/api/`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Annotated

import httpx
import typer

from ..errors import ChainError, ConfigError
from ..processes import live_pid, stop
from ..settings import get_settings
from .common import JsonOpt, console, emit

app = typer.Typer(
    help="Run the registry service: the REST API over an index of the chain's events.", no_args_is_help=True
)

HostOpt = Annotated[str | None, typer.Option("--host", help="Address to listen on [env: IDSREG_API_HOST].")]
PortOpt = Annotated[int | None, typer.Option("--port", help="Port to listen on [env: IDSREG_API_PORT].")]


def _service(*args: str) -> list[str]:
    return [sys.executable, "-m", "registry_api", *args]


def _env(host: str | None, port: int | None) -> dict[str, str]:
    env = dict(os.environ)
    if host is not None:
        env["IDSREG_API_HOST"] = host
    if port is not None:
        env["IDSREG_API_PORT"] = str(port)
    return env


def _url(host: str | None, port: int | None) -> str:
    settings = get_settings()
    return f"http://{host or settings.api_host}:{port or settings.api_port}"


def api_status(url: str, timeout: float = 2.0) -> dict[str, object] | None:
    """The API's /v1/status at `url`, or None if nothing answers there."""
    try:
        response = httpx.get(f"{url}/v1/status", timeout=timeout)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    status: dict[str, object] = response.json()
    return status


def start_background(
    host: str | None = None, port: int | None = None, extra: list[str] | None = None, timeout: float = 30.0
) -> tuple[str, int, bool]:
    """Start the service in the background unless it runs; (URL, pid, whether it was started)."""
    settings = get_settings()
    url = _url(host, port)
    pid_file, log_file = settings.api_dir / "api.pid", settings.api_dir / "api.log"
    running = live_pid(pid_file)
    if running is not None:
        return url, running, False
    if api_status(url) is not None:
        raise ChainError(f"another registry API already answers at {url}; stop it or choose --port")
    settings.api_dir.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            _service("serve", "--log-level", "warning", *(extra or [])),
            env=_env(host, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file.unlink(missing_ok=True)
            tail = " | ".join(log_file.read_text(errors="replace").strip().splitlines()[-3:])
            raise ChainError(f"the registry API exited at start (code {process.returncode}): {tail}")
        if api_status(url, timeout=0.5) is not None:
            return url, process.pid, True
        time.sleep(0.2)
    stop(pid_file, signal.SIGTERM)
    raise ChainError(f"the registry API did not answer at {url} within {timeout:.0f} s (log: {log_file})")


@app.command("serve")
def serve(
    host: HostOpt = None,
    port: PortOpt = None,
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Run in the background (pid and log in $IDSREG_HOME/api/).")
    ] = False,
    index: Annotated[bool, typer.Option("--index/--no-index", help="Also follow the chain (the indexer).")] = True,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, max=64, help="API worker processes [env: IDSREG_API_WORKERS].")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Serve the REST API and index the chain (separate processes, each restarted if it dies) until
    interrupted, or in the background."""
    extra = ["--workers", str(workers)] if workers is not None else []
    if detach:
        url, pid, started = start_background(host, port, extra)
        emit(
            as_json,
            {"url": url, "pid": pid, "started": started},
            lambda: console.print(
                f"{'registry API started' if started else 'registry API already running'} at {url} (pid {pid}; "
                f"docs at {url}/docs, log in {get_settings().api_dir / 'api.log'})"
            ),
        )
        return
    args = _service("serve", *extra) + ([] if index else ["--no-index"])
    os.execve(sys.executable, args, _env(host, port))


@app.command("stop")
def stop_command(as_json: JsonOpt = False) -> None:
    """Stop the background registry API."""
    stopped = stop(get_settings().api_dir / "api.pid", signal.SIGTERM)
    emit(
        as_json,
        {"stopped": stopped},
        lambda: console.print("registry API stopped" if stopped else "registry API was not running"),
    )


@app.command("status")
def status(
    url: Annotated[str | None, typer.Option("--url", help="The API's address (default: the local one).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask the registry API how far its index reaches. Exit 3 if it, or its chain node, does not answer."""
    base = (url or get_settings().api_url).rstrip("/")
    found = api_status(base)
    if found is None:
        raise ChainError(f"no registry API answers at {base}; start one with `idsreg api serve --detach`")

    if not found["nodeReachable"]:
        if as_json:
            emit(True, {"url": base, **found}, lambda: None)
        indexed = found["indexedBlock"]
        reached = f"its index reaches block {indexed}" if indexed is not None else "it has indexed nothing yet"
        raise ChainError(
            f"the registry API at {base} answers, but its chain node does not ({reached}); "
            "start the node (`idsreg chain up`) or check the service's IDSREG_API_RPC_URL"
        )

    def human() -> None:
        console.print(
            f"registry API at {base}: chain {found['chainId']}, indexed block {found['indexedBlock']}, "
            f"chain head {found['chainHead']} (lag {found['lag']}), node up"
        )

    emit(as_json, {"url": base, **found}, human)


@app.command("index")
def index(
    once: Annotated[bool, typer.Option("--once", help="Catch up with the chain, then exit.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run only the indexer: follow the chain (or catch up once) into the index database."""
    args = _service("index") + (["--once"] if once else []) + (["--json"] if as_json else [])
    raise typer.Exit(subprocess.call(args))


@app.command("reindex")
def reindex(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before dropping the index.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Drop the index and rebuild it from the chain's events (stop the service first)."""
    if live_pid(get_settings().api_dir / "api.pid") is not None:
        raise ConfigError("the background registry API is running; stop it first (`idsreg api stop`)")
    args = _service("reindex") + (["--yes"] if yes else []) + (["--json"] if as_json else [])
    raise typer.Exit(subprocess.call(args))
