"""`idsreg watch`: follow the chain for what concerns my organisation, one line per notice.

Reads the chain directly (client/watch.py), polling every `--interval` seconds; `--once`
prints what the blocks from `--from-block` (default: the deployment's first) hold, and the
licences about to expire, then exits. Ctrl-C stops it (exit 130).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated

import typer

from ..chain.enums import Role
from ..errors import ConfigError
from .common import JsonOpt, KeyOpt, RpcOpt, account, err_console, registry


def watch(
    key: KeyOpt = None,
    org: Annotated[
        str | None,
        typer.Option("--org", help="Watch this organisation instead of the key's: member number, LEI:… or 0x org id."),
    ] = None,
    expiring_within: Annotated[
        str, typer.Option("--expiring-within", help="Warn of licences ending within this time (7d, 12h, 30m).")
    ] = "7d",
    from_block: Annotated[
        int | None, typer.Option("--from-block", min=0, help="First block to read (default: the deployment's).")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Print what is there now and exit (for scripts).")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, max=3600, help="Seconds between polls of the chain.")
    ] = 2.0,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Follow the events that concern your organisation (the --key's, or --org): disputes against
    your rights, offers to you, licences about to expire, approvals pending (auditors), receipts
    recorded with you as party. One line each with its UTC time; --json: one JSON object per line."""
    from ..consortium import Consortium
    from ..settings import get_settings
    from ..watch import Interest, Watcher, parse_duration

    window = parse_duration(expiring_within)
    chosen = key or get_settings().key
    if org is None and not chosen:
        raise ConfigError("whose events? pass --key LABEL (or set IDSREG_KEY) or --org ORG")
    reg = registry(rpc_url)
    address = account(chosen) if chosen else None
    if org is not None:
        auditor = address is not None and Consortium(reg).has_role(Role.AUDITOR, address)
        interest = Interest.of_org(reg, org, auditor)
    else:
        assert address is not None
        interest = Interest.of_key(reg, address)
    watcher = Watcher(
        reg,
        interest,
        expiring_within=window,
        from_block=from_block if from_block is not None else reg.manifest.deployment_block,
    )
    if not as_json:
        whom = watcher.org_text(interest.org_no) if interest.org_no is not None else "no organisation"
        err_console.print(
            f"watching for {whom}{' and auditor approvals' if interest.auditor else ''} from block "
            f"{watcher.next_block}{'' if once else ' (Ctrl-C to stop)'}",
            soft_wrap=True,
        )
    while True:
        for notice in watcher.poll():
            line = json.dumps(notice.to_json()) if as_json else notice.line()
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        if once:
            return
        time.sleep(interval)
