"""`idsreg connector serve`: run this organisation's data connector (DSP 2025-1) over HTTP.

Heavy modules (web3, the connector package, uvicorn) are imported inside the command, so
`idsreg --help` stays fast (tests/cli/test_startup.py).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError
from .common import JsonOpt, KeyOpt, PasswordFileOpt, RpcOpt, console, emit, err_console, registry, signer

app = typer.Typer(
    help="The data connector: offer datasets and negotiate licences in the Dataspace Protocol.", no_args_is_help=True
)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8700,
    url: Annotated[
        str | None,
        typer.Option(help="The connector's base URL as others reach it (default http://HOST:PORT)."),
    ] = None,
    purpose: Annotated[str, typer.Option(help="Purpose the catalog's offers name (confidential terms).")] = "",
    permissions: Annotated[
        str, typer.Option(help="Permissions the offers grant, comma-separated: read, derive, reshare, commercial.")
    ] = "read",
    days: Annotated[int, typer.Option(help="How long an agreed licence runs, in days.", min=1)] = 30,
    poll_seconds: Annotated[
        float, typer.Option(help="How often verified agreements waiting for an auditor are re-checked.", min=0.1)
    ] = 5.0,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            help="A dataset whose bytes the data plane serves: PATH or 0xROOT=PATH (a file or directory; "
            "repeatable). Hashed at start-up and refused unless its root is registered.",
        ),
    ] = None,
    token_minutes: Annotated[
        int, typer.Option(help="How long a transfer's data-address token is valid, in minutes.", min=1)
    ] = 60,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
) -> None:
    """Serve this organisation's connector, acting with one of its connector keys (--key).

    The catalog lists the datasets the organisation may offer, each with one offer (--permissions,
    --purpose, --days); an agreement is issued as a licence on chain. A finalized agreement's
    dataset is transferred (HttpData-PULL) from the --data paths. Negotiations and transfers are
    kept in $IDSREG_HOME/connector/. See docs/connector.md.
    """
    import uvicorn

    from ..chain.enums import KeyRole
    from ..connector.app import create_app, make_connector
    from ..connector.odrl import OfferTerms
    from ..connector.schemas import find_release, load
    from ..connector.sources import DataSources
    from ..consortium import Consortium
    from ..grants import parse_permissions
    from ..settings import get_settings

    account = signer(key, password_file)
    chain = registry(rpc_url)
    org, role = Consortium(chain).key_info(account.address)
    if org is None or role != KeyRole.CONNECTOR:
        raise ConfigError(f"key {account.address} is not a connector key of a member (see `idsreg member key add`)")
    terms = OfferTerms(parse_permissions(permissions), purpose, days * 24 * 3600)
    base_url = (url or f"http://{host}:{port}").rstrip("/")
    sources = DataSources.load(data or [], chain)
    release = find_release()
    if release is None:
        err_console.print(
            "note: the DSP 2025-1 schemas are not at ../shared/dsp/2025-1; messages are checked by shape only"
        )
    connector = make_connector(
        chain,
        account,
        org,
        base_url,
        get_settings().home / "connector",
        terms,
        schemas=None if release is None else load(release),
        auto=True,
        sources=sources,
        token_seconds=token_minutes * 60,
    )
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(poll_seconds):
            connector.provider.poll_pending()

    poller = threading.Thread(target=poll, name="dsp-pending", daemon=True)
    poller.start()
    err_console.print(f"connector of {org} at {base_url} (key {account.address}), serving {len(sources)} dataset(s)")
    try:
        uvicorn.run(create_app(connector), host=host, port=port, log_level="warning")
    finally:
        stop.set()
        connector.close()


@app.command("fetch")
def fetch(
    provider_url: Annotated[str, typer.Argument(help="The providing organisation's connector (its base URL).")],
    dataset: Annotated[str, typer.Argument(help="Dataset id (its content root, 0x…).")],
    out: Annotated[
        Path | None,
        typer.Option(help="Where to put the bytes (must not exist; default: the file's name, or dataset-<id>)."),
    ] = None,
    purpose: Annotated[
        str | None, typer.Option(help="What the data is for: the provider's offer must name this purpose.")
    ] = None,
    host: Annotated[str, typer.Option(help="Address this connector listens on for the provider's callbacks.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port for the callbacks (default: a free one).", min=0, max=65535)] = 0,
    url: Annotated[
        str | None,
        typer.Option(help="This connector's base URL as the provider reaches it (default http://HOST:PORT)."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each step of the provider.", min=1)] = 120.0,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Get a dataset from another organisation's connector, verified, with a receipt on chain.

    Catalog → contract (the licence on chain) → transfer → the bytes, checked against the
    dataset's registered root while they stream → both organisations sign the receipt, which is
    submitted to the ExchangeLedger. Bytes that do not match: nothing is signed, exit 4, and
    the error says where the received bytes were kept. See docs/connector.md.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from ..chain.enums import KeyRole
    from ..chain.node import free_port
    from ..connector.app import create_app, make_connector
    from ..connector.delivery import BackgroundServer, fetch_dataset
    from ..connector.odrl import OfferTerms
    from ..connector.schemas import find_release, load
    from ..consortium import Consortium
    from ..grants import parse_permissions
    from ..hashing import parse_root
    from ..settings import get_settings

    root = parse_root(dataset)
    account = signer(key, password_file)
    chain = registry(rpc_url)
    org, role = Consortium(chain).key_info(account.address)
    if org is None or role != KeyRole.CONNECTOR:
        raise ConfigError(f"key {account.address} is not a connector key of a member (see `idsreg member key add`)")
    port = port or free_port()
    base_url = (url or f"http://{host}:{port}").rstrip("/")
    release = find_release()
    home = get_settings().home / "connector"
    home.mkdir(parents=True, exist_ok=True)
    terms = OfferTerms(parse_permissions("read"), "", 24 * 3600)  # unused: this connector offers nothing here
    connector = make_connector(
        chain, account, org, base_url, home, terms, schemas=None if release is None else load(release), auto=True
    )
    server = BackgroundServer(create_app(connector), host, port)
    server.start()
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        console=err_console,
        disable=as_json,
        transient=True,
    )
    task = bar.add_task("downloading and verifying", total=None)
    try:
        with bar:
            delivery = fetch_dataset(
                connector,
                provider_url,
                root,
                out,
                purpose=purpose,
                progress=lambda n: bar.advance(task, n),
                on_total=lambda total: bar.update(task, total=total),
                on_step=None if as_json else lambda text: err_console.print(text, soft_wrap=True),
                timeout=timeout,
            )
    finally:
        server.stop()
        connector.close()
    v = delivery.verified
    emit(
        as_json,
        delivery.to_dict(),
        lambda: console.print(
            f"verified {v.kind} 0x{v.root.hex()} ({v.size:,} bytes) → {v.path}\n"
            f"receipt 0x{delivery.receipt.digest.hex()} recorded in transaction {delivery.receipt_transaction}",
            soft_wrap=True,
        ),
    )
