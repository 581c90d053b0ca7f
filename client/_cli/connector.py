"""`idsreg connector serve`: run this organisation's data connector (DSP 2025-1) over HTTP.

Heavy modules (web3, the connector package, uvicorn) are imported inside the command, so
`idsreg --help` stays fast (tests/cli/test_startup.py).
"""

from __future__ import annotations

import threading
from typing import Annotated

import typer

from ..errors import ConfigError
from .common import KeyOpt, PasswordFileOpt, RpcOpt, err_console, registry, signer

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
