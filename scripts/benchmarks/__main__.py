"""scripts/bench [gas|throughput|hashing|startup|registry|audit|connector|all] [--markdown] [--json] [--size-mib N]

Runs the benchmarks on a throw-away anvil node (from the project's genesis, on a free port,
stopped at the end whatever happens) and prints their tables: Rich tables on a terminal, or
GitHub Markdown with --markdown. With --json the tables go to stderr and a JSON document with
every row goes to stdout, so `scripts/bench gas --json > gas.json` keeps both.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from types import FrameType

from rich.console import Console

from client.errors import IdsRegistryError

from .audit import audit_table
from .chain import bench_chain
from .connector import connector_table
from .environment import environment_table, load_average
from .gas import gas_tables
from .hashing import hashing_table
from .registry import SCENARIOS, registry_tables
from .report import Table, json_ready, render_markdown, render_rich
from .startup import startup_table
from .throughput import throughput_table

BENCHMARKS = ("gas", "throughput", "hashing", "startup", "registry", "audit", "connector")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description=(
            "Gas, throughput, hashing, start-up, registry-service and connector benchmarks of the IDS Registry; "
            "prints tables."
        ),
    )
    parser.add_argument("benchmark", nargs="?", default="all", choices=[*BENCHMARKS, "all"])
    parser.add_argument("--markdown", action="store_true", help="print GitHub Markdown tables")
    parser.add_argument("--json", action="store_true", help="JSON rows on stdout (tables go to stderr)")
    gas = parser.add_argument_group("gas")
    gas.add_argument("--samples", type=int, default=5, help="transactions per operation, median kept (default 5)")
    throughput = parser.add_argument_group("throughput")
    throughput.add_argument("--singles", type=int, default=200, help="sequential register calls (default 200)")
    throughput.add_argument("--batches", type=int, default=20, help="register_batch calls (default 20)")
    throughput.add_argument("--batch-size", type=int, default=100, help="datasets per batch (default 100)")
    throughput.add_argument(
        "--bulk", type=int, default=20_000, help="datasets through register_batches and its baseline (default 20,000)"
    )
    throughput.add_argument(
        "--window", type=int, default=8, help="register_batches: transactions in flight (default 8)"
    )
    hashing = parser.add_argument_group("hashing")
    hashing.add_argument("--size-mib", type=int, default=1024, help="file size in MiB (default 1024)")
    hashing.add_argument("--repeats", type=int, default=3, help="runs per tool, best kept (default 3)")
    hashing.add_argument("--cache-dir", type=Path, help="keep the hashing data file here between runs")
    startup = parser.add_argument_group("startup")
    startup.add_argument("--runs", type=int, default=10, help="runs per idsreg command (default 10)")
    service = parser.add_argument_group("registry (indexer and API)")
    service.add_argument(
        "--datasets",
        type=_sizes,
        default=(100_000,),
        help="datasets on the chain; several sizes, comma-separated (100000,300000), measure each in one run "
        "with a growth table (default 100,000)",
    )
    service.add_argument("--transfers", type=int, default=300, help="rights offered and accepted (default 300)")
    service.add_argument("--clients", type=int, default=32, help="concurrent API clients (default 32)")
    service.add_argument(
        "--api-workers",
        type=_worker_counts,
        nargs="+",
        default=[(1, 2)],
        help="API worker processes to measure, comma- or space-separated; 'default' is the service's own "
        "(one per core) (default 1,2)",
    )
    service.add_argument("--api-seconds", type=float, default=10.0, help="seconds per API scenario (default 10)")
    service.add_argument(
        "--api-scenarios",
        type=_scenarios,
        default=tuple(SCENARIOS),
        help=f"API scenarios to measure, comma-separated, of {', '.join(SCENARIOS)} (default all)",
    )
    service.add_argument(
        "--api-baseline",
        type=_checkout,
        metavar="DIR",
        help="another checkout (git worktree add --detach DIR main; its own scripts/setup) whose API is measured "
        "in the same run on the same databases, rows labelled with its revision",
    )
    audit = parser.add_argument_group("audit")
    audit.add_argument("--audit-facts", type=int, default=1_000, help="facts about the dataset (default 1,000)")
    audit.add_argument("--audit-noise", type=int, default=1_000, help="blocks about other datasets (default 1,000)")
    connector = parser.add_argument_group("connector")
    connector.add_argument(
        "--connector-mib", type=int, default=1024, help="the dataset moved between two connectors, MiB (default 1024)"
    )
    connector.add_argument(
        "--connector-runs", type=int, default=3, help="transfers and curls, interleaved, best kept (default 3)"
    )
    return parser


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of dataset counts: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"dataset counts must be positive: {text!r}")
    return sizes


def _worker_counts(text: str) -> tuple[int | None, ...]:
    counts: list[int | None] = []
    for part in text.split(","):
        if part.strip() == "default":
            counts.append(None)
            continue
        try:
            count = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a worker count or 'default': {part!r} in {text!r}") from None
        if count < 1:
            raise argparse.ArgumentTypeError(f"worker counts must be positive: {part!r} in {text!r}")
        counts.append(count)
    return tuple(counts)


def _scenarios(text: str) -> tuple[str, ...]:
    keys = tuple(part.strip() for part in text.split(","))
    unknown = [key for key in keys if key not in SCENARIOS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown API scenario {unknown[0]!r} in {text!r}; choose from {', '.join(SCENARIOS)}"
        )
    return tuple(dict.fromkeys(keys))


def _checkout(text: str) -> Path:
    path = Path(text).expanduser().resolve()
    if not (path / "registry_api" / "__main__.py").is_file():
        raise argparse.ArgumentTypeError(
            f"not a checkout of this project (no registry_api/__main__.py): {text!r}; "
            "make one with `git worktree add --detach DIR main` and run its scripts/setup"
        )
    return path


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so that the node is stopped on the way out.
    raise SystemExit(128 + signum)


def run(options: argparse.Namespace, tables_console: Console, progress: Console) -> list[Table]:
    """Run the chosen benchmarks, printing each table as soon as it is ready."""
    chosen = BENCHMARKS if options.benchmark == "all" else (options.benchmark,)
    load_at_start = load_average()
    tables: list[Table] = []

    def show(new: list[Table]) -> None:
        tables.extend(new)
        for table in new:
            if options.markdown:
                print(render_markdown(table), file=tables_console.file, flush=True)
            else:
                render_rich(table, tables_console)

    hardfork = None
    # Each on a fresh node: gas needs opcode tracing, which would slow the throughput run.
    if "gas" in chosen:
        with bench_chain(progress, steps_tracing=True) as chain:
            hardfork = chain.hardfork
            show(gas_tables(chain, progress, options.samples))
    if "throughput" in chosen:
        with bench_chain(progress) as chain:
            hardfork = chain.hardfork
            show(
                [
                    throughput_table(
                        chain,
                        progress,
                        options.singles,
                        options.batches,
                        options.batch_size,
                        options.bulk,
                        options.window,
                    )
                ]
            )
    if "registry" in chosen:
        with bench_chain(progress) as chain:
            hardfork = chain.hardfork
            show(
                registry_tables(
                    chain,
                    progress,
                    options.datasets,
                    options.transfers,
                    options.clients,
                    options.api_seconds,
                    tuple(dict.fromkeys(count for group in options.api_workers for count in group)),
                    options.api_scenarios,
                    options.api_baseline,
                    show=show,
                )
            )
    if "audit" in chosen:
        with bench_chain(progress) as chain:
            hardfork = chain.hardfork
            show([audit_table(chain, progress, options.audit_facts, options.audit_noise)])
    if "connector" in chosen:
        with bench_chain(progress) as chain:
            hardfork = chain.hardfork
            show([connector_table(chain, progress, options.connector_mib, options.connector_runs)])
    if "hashing" in chosen:
        show([hashing_table(progress, options.size_mib, options.cache_dir, options.repeats)])
    if "startup" in chosen:
        show([startup_table(progress, options.runs)])
    show([environment_table(hardfork, load_at_start)])
    return tables


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    progress = Console(stderr=True)
    tables_console = Console(stderr=True) if options.json else Console()
    if not tables_console.is_terminal:
        # Piped or redirected: do not squeeze the wide tables into 80 columns.
        tables_console.width = 200
    try:
        tables = run(options, tables_console, progress)
    except IdsRegistryError as exc:
        progress.print(f"[red]benchmark failed:[/red] {exc.diagnostics()}", highlight=False)
        return 1
    except KeyboardInterrupt:
        progress.print("[red]interrupted[/red]")
        return 130
    if options.json:
        document = {table.key: table.rows for table in tables}
        json.dump(json_ready(document), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
