"""`python -m registry_api serve|index|reindex`: the service's own entry point.

`idsreg api …` runs these (the client package never imports the server). Errors are one line
on stderr with the client's exit codes: 2 bad configuration, 3 chain node unreachable or
registry not deployed, 130 interrupted.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from client.chain.registry import Registry
from client.exits import run_command_line

from .db import init_db, make_engine, reset_db
from .errors import LeadershipLost
from .indexer import Indexer, ScanResult, follow_chain
from .settings import ApiSettings

app = typer.Typer(
    help="The IDS Registry service: REST API and event indexer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")]


def _settings(**overrides: Any) -> ApiSettings:
    return ApiSettings(**{k: v for k, v in overrides.items() if v is not None})


@app.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Address to listen on [env: IDSREG_API_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [env: IDSREG_API_PORT].")] = None,
    index: Annotated[bool, typer.Option("--index/--no-index", help="Also follow the chain (the indexer).")] = True,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="API worker processes [env: IDSREG_API_WORKERS].")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Serve the REST API (worker processes) and index the chain (an indexer process) until
    interrupted; a process that dies is started again."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .service import serve

    settings = _settings(host=host, port=port, workers=workers)
    serve(settings, index=index, log_level=log_level)


def _catch_up(indexer: Indexer, as_json: bool, label: str) -> ScanResult:
    """Index up to the head with a progress bar (on stderr), once."""
    start = indexer.indexed_block()
    target = max(indexer.target(), start)
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("blocks"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=as_json, disable=not err.is_terminal) as bar:
        task = bar.add_task(label, total=max(target - start, 1))
        result = indexer.scan_once(progress=lambda r: bar.update(task, completed=r.end_block - start))
        bar.update(task, completed=max(target - start, 1))
    return result


def _report(result: ScanResult, as_json: bool) -> None:
    data = {
        "indexedBlock": result.end_block,
        "events": result.events,
        "ranges": result.ranges,
        "rolledBack": result.rolled_back,
        "lag": result.lag,
    }
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        err.print(
            f"indexed up to block {result.end_block}: {result.events} new events in {result.ranges} ranges, "
            f"lag {result.lag}"
        )


ParentOpt = Annotated[
    int | None, typer.Option("--parent", hidden=True, help="Stop when this process (the supervisor) is gone.")
]


@app.command("worker", hidden=True)
def worker_command(
    fd: Annotated[int, typer.Option("--fd", help="The listening socket, inherited from the supervisor.")],
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
    parent: ParentOpt = None,
) -> None:
    """One API worker process of `serve` (started by it)."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .service import run_worker, watch_parent

    watch_parent(parent)
    run_worker(fd, log_level)


@app.command("index")
def index_command(
    once: Annotated[bool, typer.Option("--once", help="Catch up with the chain, then exit.")] = False,
    as_json: JsonOpt = False,
    parent: ParentOpt = None,
) -> None:
    """Index the chain's events into the database (follow it, or catch up once). Following a
    PostgreSQL database, it first waits for the indexing lock: one indexer per database."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .leader import indexing_lock, schema_lock

    settings = _settings()
    engine = make_engine(settings.database_url)
    with schema_lock(engine):
        init_db(engine)
    if once:
        indexer = Indexer(Registry.connect(settings.rpc_url, settings.deployments), engine, settings)
        with indexing_lock(engine, settings.service):  # refused while a service indexes it
            _report(_catch_up(indexer, as_json, "indexing"), as_json)
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # finish the current range, then exit
    if parent is not None:
        from .service import watch_parent

        watch_parent(parent)
    try:
        # On PostgreSQL, several services may share the database: index only while holding its lock.
        with indexing_lock(engine, settings.service, stop) as fence:
            if stop.is_set():
                return
            follow_chain(settings, engine, stop)
            if fence is not None and fence.lost is not None:
                raise LeadershipLost(fence.lost)
    finally:
        stop.set()


@app.command("reindex")
def reindex_command(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before dropping the index.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Drop the index database's tables and rebuild them from the chain's events."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    registry = Registry.connect(settings.rpc_url, settings.deployments)
    shown = engine.url.render_as_string(hide_password=True)
    if not yes and not typer.confirm(f"Drop every table of {shown} and re-index chain {registry.chain_id}?", err=True):
        raise typer.Exit(1)
    from .leader import indexing_lock

    with indexing_lock(engine, settings.service):  # refused while a service indexes it
        reset_db(engine)
        init_db(engine)
        _report(_catch_up(Indexer(registry, engine, settings), as_json, "re-indexing"), as_json)


def main() -> None:
    run_command_line(app, err)
