"""`idsreg member …`: governance proposals and approvals, member organisations and their keys."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..chain.enums import Action, Role, label
from ..jsonable import jsonable
from ..times import iso, parse_time
from .common import (
    JsonOpt,
    KeyOpt,
    PasswordFileOpt,
    RpcOpt,
    account,
    console,
    emit,
    evidence_hash,
    registry,
    signer,
)
from .session import ApiUrlOpt, client_for
from .source import SourceOpt, member_listing, member_record, proposal_records, read_source
from .tx import print_tx, tx_json

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from ..chain.transact import TxResult
    from ..consortium import Consortium, ProposalOutcome

app = typer.Typer(help="Member organisations, their keys, and governance proposals.", no_args_is_help=True)
propose_app = typer.Typer(
    help="Open a governance proposal (executes at once when the threshold is 1).", no_args_is_help=True
)
key_app = typer.Typer(help="Manage your organisation's keys (run with its admin key).", no_args_is_help=True)
app.add_typer(propose_app, name="propose")
app.add_typer(key_app, name="key")

OrgArg = Annotated[str, typer.Argument(help="Organisation identifier (e.g. LEI:5493001KJTIIGC8Y1R12) or 0x org id.")]
AccountArg = Annotated[str, typer.Argument(help="Account address or keystore label.")]
ProposalArg = Annotated[int, typer.Argument(help="Proposal number.", min=1)]
LevelOpt = Annotated[int, typer.Option(help="Certification level (1 or more).", min=1, max=255)]
EvidenceOpt = Annotated[
    str, typer.Option(help="Certification evidence: a file (its SHA-256 is recorded) or a 0x hash.")
]
ExpiresOpt = Annotated[
    str | None,
    typer.Option(help="Certification expiry (UTC); a bare date such as 2027-12-31 means its end (default: one year)."),
]


def _expiry(value: str | None) -> int:
    return parse_time(value, end_of_day=True) if value else int(time.time()) + 365 * 24 * 3600


def _show_outcome(outcome: ProposalOutcome, as_json: bool, what: str) -> None:
    data = {"proposalId": outcome.proposal_id, "executed": outcome.executed, **tx_json(outcome.tx)}

    def human() -> None:
        state = "executed" if outcome.executed else "open, waiting for more approvals"
        print_tx(outcome.tx, f"proposal {outcome.proposal_id} ({what}): {state}")

    emit(as_json, data, human)


def _propose(
    key: str | None, password_file: Any, rpc_url: str | None, as_json: bool, action: Action, *values: Any
) -> None:
    from ..consortium import Consortium

    consortium = Consortium(registry(rpc_url))
    outcome = consortium.propose(signer(key, password_file), action, *values)
    _show_outcome(outcome, as_json, label(action))


@propose_app.command("admit")
def propose_admit(
    org: OrgArg,
    name: Annotated[str, typer.Option(help="Registered name of the organisation.")],
    admin: Annotated[str, typer.Option(help="The organisation's admin key: address or keystore label.")],
    evidence: EvidenceOpt,
    level: LevelOpt = 1,
    expires: ExpiresOpt = None,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose admitting an organisation with its certification."""
    from ..consortium import Consortium

    consortium = Consortium(registry(rpc_url))
    outcome = consortium.propose_admission(
        signer(key, password_file), org, name, account(admin), level, evidence_hash(evidence), _expiry(expires)
    )
    _show_outcome(outcome, as_json, f"admit {org}")


def _status_command(action: Action, doc: str) -> None:
    def command(
        org: OrgArg,
        key: KeyOpt = None,
        password_file: PasswordFileOpt = None,
        rpc_url: RpcOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        from ..consortium import org_id

        _propose(key, password_file, rpc_url, as_json, action, org_id(org))

    propose_app.command(label(action).split()[0], help=doc)(command)


_status_command(Action.SUSPEND_MEMBER, "Propose suspending a member (its keys stop acting).")
_status_command(Action.REINSTATE_MEMBER, "Propose reinstating a suspended member.")
_status_command(Action.EXPEL_MEMBER, "Propose expelling a member for good.")


@propose_app.command("recertify")
def propose_recertify(
    org: OrgArg,
    evidence: EvidenceOpt,
    level: LevelOpt = 1,
    expires: ExpiresOpt = None,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose renewing or changing a member's certification."""
    from ..consortium import org_id

    _propose(
        key,
        password_file,
        rpc_url,
        as_json,
        Action.RECERTIFY_MEMBER,
        org_id(org),
        level,
        evidence_hash(evidence),
        _expiry(expires),
    )


@propose_app.command("replace-admin")
def propose_replace_admin(
    org: OrgArg,
    new_admin: AccountArg,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose replacing a member's admin key (for a lost or compromised key)."""
    from ..consortium import checksum, org_id

    _propose(key, password_file, rpc_url, as_json, Action.REPLACE_ADMIN, org_id(org), checksum(account(new_admin)))


def _role_command(name: str, action: Action, doc: str) -> None:
    def command(
        target: AccountArg,
        key: KeyOpt = None,
        password_file: PasswordFileOpt = None,
        rpc_url: RpcOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        _propose(key, password_file, rpc_url, as_json, action, account(target))

    propose_app.command(name, help=doc)(command)


_role_command("appoint-auditor", Action.APPOINT_AUDITOR, "Propose appointing an auditor.")
_role_command("remove-auditor", Action.REMOVE_AUDITOR, "Propose removing an auditor.")
_role_command("appoint-arbiter", Action.APPOINT_ARBITER, "Propose appointing an arbiter.")
_role_command("remove-arbiter", Action.REMOVE_ARBITER, "Propose removing an arbiter.")
_role_command("add-governor", Action.ADD_GOVERNOR, "Propose adding a governor to the council.")
_role_command("remove-governor", Action.REMOVE_GOVERNOR, "Propose removing a governor from the council.")


def _threshold_command(name: str, action: Action, doc: str) -> None:
    def command(
        threshold: Annotated[int, typer.Argument(help="New threshold.", min=1)],
        key: KeyOpt = None,
        password_file: PasswordFileOpt = None,
        rpc_url: RpcOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        _propose(key, password_file, rpc_url, as_json, action, threshold)

    propose_app.command(name, help=doc)(command)


_threshold_command("threshold", Action.SET_THRESHOLD, "Propose a new governor approval threshold.")
_threshold_command("arbiter-threshold", Action.SET_ARBITER_THRESHOLD, "Propose a new arbiter ruling threshold.")


@app.command("approve")
def approve(
    proposal: ProposalArg,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a proposal as a governor (executes it at the threshold)."""
    from ..consortium import Consortium

    consortium = Consortium(registry(rpc_url))
    _show_outcome(consortium.approve(signer(key, password_file), proposal), as_json, "approved")


@app.command("execute")
def execute(
    proposal: ProposalArg,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Execute a proposal whose approvals reach a lowered threshold."""
    from ..consortium import Consortium

    consortium = Consortium(registry(rpc_url))
    _show_outcome(consortium.execute(signer(key, password_file), proposal), as_json, "executed")


@app.command("cancel")
def cancel(
    proposal: ProposalArg,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel a proposal you opened."""
    from ..consortium import Consortium

    tx = Consortium(registry(rpc_url)).cancel(signer(key, password_file), proposal)
    emit(as_json, {"proposalId": proposal, **tx_json(tx)}, lambda: print_tx(tx, f"proposal {proposal} cancelled"))


@app.command("proposals")
def proposals(
    open_only: Annotated[bool, typer.Option("--open", help="Only open proposals.")] = False,
    rpc_url: RpcOpt = None,
    url: ApiUrlOpt = None,
    source: SourceOpt = "auto",
    as_json: JsonOpt = False,
) -> None:
    """List governance proposals with their approvals. From the registry API when one is
    configured (--source), else from the chain."""
    api_url = read_source(source, url)
    if api_url is not None:
        with client_for(api_url) as api:
            found = proposal_records(api, open_only=open_only)
    else:
        from ..consortium import Consortium

        found = jsonable(Consortium(registry(rpc_url)).proposals(open_only=open_only))

    def human() -> None:
        from rich.table import Table

        table = Table("#", "action", "status", "approvals", "proposer", "arguments")
        for p in found:
            args = ", ".join(f"{k}={v}" for k, v in p["args"].items())
            table.add_row(
                str(p["proposalId"]),
                p["action"].replace("_", " "),
                p["status"],
                f"{p['approvals']}/{p['threshold']}",
                p["proposer"],
                args,
            )
        console.print(table)

    emit(as_json, found, human)


@app.command("list")
def list_(rpc_url: RpcOpt = None, url: ApiUrlOpt = None, source: SourceOpt = "auto", as_json: JsonOpt = False) -> None:
    """List member organisations and the consortium's roles. From the registry API when one is
    configured (--source), else from the chain."""
    api_url = read_source(source, url)
    if api_url is not None:
        with client_for(api_url) as api:
            listing = member_listing(api)
    else:
        from ..consortium import Consortium

        consortium = Consortium(registry(rpc_url))
        listing = {
            "members": jsonable(consortium.members()),
            # By address: the order of neither the contract's sets nor the index is meaningful.
            "roles": {label(r): sorted(consortium.role_holders(r), key=str.lower) for r in Role},
            "thresholds": {label(r): consortium.threshold(r) for r in (Role.GOVERNOR, Role.ARBITER)},
        }

    def human() -> None:
        from rich.table import Table

        table = Table("no", "name", "org id", "status", "level", "certified until", "admin")
        for m in listing["members"]:
            table.add_row(
                str(m["orgNo"]),
                m["name"],
                m["orgId"][:18] + "…",
                m["status"],
                str(m["level"]),
                iso(m["certifiedUntil"]),
                m["admin"],
            )
        console.print(table)
        thresholds = listing["thresholds"]
        for role, holders in listing["roles"].items():
            suffix = f" (threshold {thresholds[role]})" if role in thresholds else ""
            console.print(f"{role}s{suffix}: {', '.join(holders) or 'none'}")

    emit(as_json, listing, human)


@app.command("show")
def show(
    org: OrgArg, rpc_url: RpcOpt = None, url: ApiUrlOpt = None, source: SourceOpt = "auto", as_json: JsonOpt = False
) -> None:
    """Show one organisation: status, certification, admin and connector keys. From the registry
    API when one is configured (--source), else from the chain."""
    api_url = read_source(source, url)
    if api_url is not None:
        with client_for(api_url) as api:
            member = member_record(api, org)
    else:
        from ..consortium import Consortium

        member = jsonable(Consortium(registry(rpc_url)).member(org))
    emit(as_json, member, lambda: _print_member(member))


def _print_member(m: dict[str, Any]) -> None:
    """An organisation as `member show` prints it, from its JSON form (either source's)."""
    console.print(f"[bold]{m['name']}[/] (member {m['orgNo']})")
    console.print(f"  org id       {m['orgId']}")
    console.print(f"  status       {m['status']}")
    console.print(f"  certified    level {m['level']} until {iso(m['certifiedUntil'])}")
    console.print(f"  admin key    {m['admin']}")
    for k in m["connectors"] or ["none"]:
        console.print(f"  connector    {k}")


#: The `member key` commands: the `Consortium` method making the change, the JSON field
#: naming its key, what it reports.
_KEY_CHANGES: dict[str, tuple[str, str, str]] = {
    "add": ("add_connector", "connector", "connector {} added"),
    "remove": ("remove_connector", "connector", "connector {} removed"),
    "transfer-admin": ("transfer_admin", "newAdmin", "admin role handed to {}"),
}


def _change_key(
    command: str, target: str, key: str | None, password_file: Path | None, rpc_url: str | None, as_json: bool
) -> None:
    """Run one of the `member key` commands on the key `target` (an address or keystore label)."""
    from ..consortium import Consortium

    method, field, done = _KEY_CHANGES[command]
    change: Callable[[Consortium, LocalAccount, str], TxResult] = getattr(Consortium, method)
    address = account(target)
    tx = change(Consortium(registry(rpc_url)), signer(key, password_file), address)
    emit(as_json, {field: address, **tx_json(tx)}, lambda: print_tx(tx, done.format(address)))


@key_app.command("add")
def key_add(
    connector: AccountArg,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a connector key to your organisation."""
    _change_key("add", connector, key, password_file, rpc_url, as_json)


@key_app.command("remove")
def key_remove(
    connector: AccountArg,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a connector key from your organisation."""
    _change_key("remove", connector, key, password_file, rpc_url, as_json)


@key_app.command("transfer-admin")
def key_transfer_admin(
    new_admin: AccountArg,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hand your organisation's admin role to another key."""
    _change_key("transfer-admin", new_admin, key, password_file, rpc_url, as_json)


@propose_app.command("dispute-period")
def propose_dispute_period(
    days: Annotated[int, typer.Argument(help="Days a dispute may freeze a right: 1 to 365.", min=1, max=365)],
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose a new dispute period: how long an open dispute freezes a right at most."""
    _propose(key, password_file, rpc_url, as_json, Action.SET_DISPUTE_PERIOD, days * 24 * 3600)
