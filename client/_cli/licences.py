"""`idsreg grant …`, `idsreg revoke` and `idsreg receipt …`: licences and signed delivery receipts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..chain.enums import Party, label
from ..errors import ConfigError, ProofError
from ..files import create_new, private_folder, replace
from ..times import iso, parse_time
from .common import (
    JsonOpt,
    KeyOpt,
    PasswordFileOpt,
    RpcOpt,
    console,
    emit,
    err_console,
    evidence_hash,
    registry,
    signer,
)
from .datasets import hash_path
from .session import ApiUrlOpt, client_for
from .tx import print_tx, tx_json

if TYPE_CHECKING:
    from ..chain.registry import Registry
    from ..receipts import ReceiptFile, Receipts
    from ..terms import Terms

grant_app = typer.Typer(help="Licence datasets to other organisations (grants).", no_args_is_help=True)
receipt_app = typer.Typer(help="Draft, sign, submit and verify delivery receipts.", no_args_is_help=True)

IdArg = Annotated[str, typer.Argument(help="Dataset id (0x + 64 hex digits).")]
OrgArg = Annotated[str, typer.Argument(help="Organisation identifier (e.g. LEI:…) or 0x org id.")]
FileArg = Annotated[Path, typer.Argument(help="A receipt file.")]
ClaimedOpt = Annotated[
    Path | None,
    typer.Option(
        "--terms",
        help="The terms you agreed to (a terms document, licence terms file or receipt file): name each field "
        "that differs.",
    ),
]
NoteOpt = Annotated[str, typer.Option(help="Free text for the confidential terms (never on chain).")]


def claimed_terms(path: Path | None) -> Terms | None:
    """The terms document in `path`: bare, or inside a licence terms or receipt file."""
    if path is None:
        return None
    try:
        raw = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read terms file {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"terms file {path} is not JSON: {exc}") from None
    document = raw.get("terms", raw) if isinstance(raw, dict) else raw
    from ..terms import Terms

    try:
        return Terms.from_document(document)
    except ProofError as exc:
        raise ConfigError(f"terms file {path}: {exc}") from None


@grant_app.command("issue")
def issue(
    dataset: IdArg,
    org: OrgArg,
    permissions: Annotated[str, typer.Option(help="Comma-separated: read, derive, reshare, commercial.")] = "read",
    purpose: Annotated[str, typer.Option(help="Purpose code, e.g. QUALITY-ANALYSIS (confidential terms).")] = "",
    valid_from: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Start, UTC (ISO date or date-time; a bare date means 00:00:00 of that day; "
            "default: the chain's current time).",
        ),
    ] = None,
    valid_until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="End, UTC, included (ISO date or date-time; a bare date means the whole day, to 23:59:59; "
            "default: one year after the start).",
        ),
    ] = None,
    policy: Annotated[
        str, typer.Option(help="Usage-policy document (file; its SHA-256 goes into the terms) or 0x hash.")
    ] = "",
    price: Annotated[int | None, typer.Option(help="Licence fee in the currency unit agreed (terms).", min=0)] = None,
    note: NoteOpt = "",
    terms_out: Annotated[
        Path | None,
        typer.Option(
            help="Licence terms file to write (never overwritten; "
            "default $IDSREG_HOME/terms/licence-COMMITMENT.terms.json)."
        ),
    ] = None,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Grant ORG a licence on a dataset your organisation operates (core data is refused).

    Purpose, policy, price and note stay off chain: the chain records a salted commitment, and
    the opening goes to a private licence terms file, written before the transaction is sent."""
    from ..grants import Grants, parse_permissions
    from ..hashing import hex32, parse_root
    from ..terms import Opening, Terms

    root, flags = parse_root(dataset), parse_permissions(permissions)
    reg = registry(rpc_url)
    start = parse_time(valid_from) if valid_from else chain_now(reg)
    end = parse_time(valid_until, end_of_day=True) if valid_until else start + 365 * 24 * 3600
    policy_hash = "0x" + evidence_hash(policy).hex() if policy else ""
    opening = Opening.new(Terms.licence(purpose=purpose, policy=policy_hash, price=price, note=note))
    grants = Grants(reg)
    account = signer(key, password_file)
    out = terms_out or _terms_folder() / f"licence-{opening.commitment.hex()[:16]}.terms.json"
    create_new(out, grants.terms_file(root, org, opening).to_json(), what="licence terms file", mode=0o600)
    tx = grants.grant(account, root, org, flags, start, end, opening.commitment)
    issued = tx.event("GrantIssued").args
    state = label(issued["status"])

    def human() -> None:
        print_tx(tx, f"grant {issued['serial']} on {hex32(root)} to {org}: {state}")
        console.print(f"  terms kept in {out} (send it to {org}; the chain holds only their commitment)")
        if state == "pending":
            console.print("  important data: the grant takes effect when an auditor approves it")

    emit(
        as_json,
        {
            "serial": issued["serial"],
            "status": state,
            "termsFile": out,
            "termsCommitment": "0x" + opening.commitment.hex(),
            **tx_json(tx),
        },
        human,
    )


@grant_app.command("verify-terms")
def verify_terms(
    file: Annotated[Path, typer.Argument(help="A licence terms file (`grant issue` writes it).")],
    claimed: ClaimedOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a licence terms file: its terms and salt open the commitment of a grant on chain. Exit 4 if not."""
    from ..grants import Grants, LicenceTermsFile
    from ..hashing import hex32

    terms_file = LicenceTermsFile.read(file)
    evidence = Grants(registry(rpc_url)).verify_terms(terms_file, claimed_terms(claimed))
    emit(
        as_json,
        {"verified": True, "terms": terms_file.opening.terms.document(), "grant": evidence},
        lambda: console.print(
            f"[green]✓ verified[/] terms of grant {evidence.serial} on {hex32(terms_file.root)}: "
            f"{_terms_text(terms_file.opening.terms)} (issued in block {evidence.block_number})"
        ),
    )


def _terms_folder() -> Path:
    """$IDSREG_HOME/terms, a 0700 folder: openings are as private as the deals they record."""
    from ..settings import get_settings

    folder = get_settings().terms_dir
    private_folder(folder)
    return folder


def _terms_text(terms: Terms) -> str:
    return ", ".join(f"{k} {v}" for k, v in terms.fields.items()) or "no fields"


SerialOpt = Annotated[
    int,
    typer.Option(
        "--serial",
        min=1,
        help="The serial of the grant you reviewed (`idsreg grant show`); refused if the grant was replaced since.",
    ),
]


def _auditor_command(name: str, doc: str) -> None:
    def command(
        dataset: IdArg,
        org: OrgArg,
        serial: SerialOpt,
        key: KeyOpt = None,
        password_file: PasswordFileOpt = None,
        rpc_url: RpcOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        from ..grants import Grants
        from ..hashing import parse_root

        grants = Grants(registry(rpc_url))
        action = grants.approve if name == "approve" else grants.reject
        tx = action(signer(key, password_file), parse_root(dataset), org, serial)
        emit(as_json, tx_json(tx), lambda: print_tx(tx, f"grant {serial} on {dataset} to {org} {name}d"))

    grant_app.command(name, help=doc)(command)


_auditor_command("approve", "Approve a pending grant on important data (auditors).")
_auditor_command("reject", "Reject a pending grant on important data (auditors).")


@grant_app.command("check")
def check(
    dataset: IdArg,
    org: OrgArg,
    permission: Annotated[
        str, typer.Argument(help="read, derive, reshare or commercial (comma-separated for several).")
    ],
    at: Annotated[str | None, typer.Option(help="Time to check (ISO; default: the chain's current time).")] = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask the chain whether ORG may use a dataset with PERMISSION, and why. Exit 0 yes, 4 no.

    With --json, `reason` is one of: authorized, not-a-member, org-suspended, org-expelled,
    certification-expired, core-data, no-licence, superseded, pending-approval, rejected,
    revoked, not-yet-valid, expired, permission-not-granted."""
    from ..grants import Grants, parse_permissions
    from ..hashing import parse_root

    reg = registry(rpc_url)
    moment = parse_time(at) if at else chain_now(reg)
    verdict = Grants(reg).check(parse_root(dataset), org, parse_permissions(permission), moment)

    def human() -> None:
        if verdict.authorized:
            console.print(f"{org} may {permission} {dataset} at {iso(moment)}")
        else:
            console.print(f"{org} may not {permission} {dataset} at {iso(moment)}: {verdict.explanation}")

    emit(as_json, verdict, human)
    if not verdict.authorized:
        raise typer.Exit(4)


@grant_app.command("show")
def show(dataset: IdArg, org: OrgArg, rpc_url: RpcOpt = None, as_json: JsonOpt = False) -> None:
    """Show the current grant on a dataset to ORG."""
    from ..grants import Grants
    from ..hashing import parse_root

    info = Grants(registry(rpc_url)).show(parse_root(dataset), org)
    emit(
        as_json,
        info,
        lambda: console.print(
            f"grant {info.serial} on {info.root} to {info.grantee} by {info.grantor}: {label(info.status)}, "
            f"{', '.join(info.permissions)}, {iso(info.valid_from)} – {iso(info.valid_until)}"
        ),
    )


def revoke(
    dataset: IdArg,
    org: OrgArg,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke the grant your organisation gave ORG on a dataset."""
    from ..grants import Grants
    from ..hashing import parse_root

    tx = Grants(registry(rpc_url)).revoke(signer(key, password_file), parse_root(dataset), org)
    emit(as_json, tx_json(tx), lambda: print_tx(tx, f"grant on {dataset} to {org} revoked"))


def chain_now(reg: Registry) -> int:
    """The chain's current time (its latest block's): the clock the contracts judge by, so
    "now" in a grant window or a delivery time means the same to the client and the chain."""
    return int(reg.w3.eth.get_block("latest")["timestamp"])


# ----- receipts -----


@receipt_app.command("draft")
def draft(
    dataset: Annotated[str, typer.Option(help="Dataset id.")],
    provider: Annotated[str, typer.Option(help="Providing organisation.")],
    consumer: Annotated[str, typer.Option(help="Consuming organisation.")],
    out: Annotated[Path, typer.Option(help="Receipt file to write.")],
    delivered: Annotated[Path | None, typer.Option(help="The delivered file or folder (hashed).")] = None,
    delivered_root: Annotated[str | None, typer.Option(help="Content root of the delivered data.")] = None,
    size: Annotated[int | None, typer.Option(help="Bytes delivered (default: size of --delivered).", min=0)] = None,
    price: Annotated[int, typer.Option(help="Price in the smallest currency unit agreed.", min=0)] = 0,
    note: NoteOpt = "",
    grant: Annotated[
        int | None, typer.Option(help="Grant serial (default: the consumer's current grant).", min=1)
    ] = None,
    at: Annotated[str | None, typer.Option(help="Delivery time (ISO; default: the chain's current time).")] = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Draft a receipt file for a delivery, to be signed by both organisations.

    Size, price and note are the receipt's confidential terms: the file carries them with their
    salt, the chain only the commitment both signatures cover."""
    from ..hashing import parse_root
    from ..receipts import Receipts

    if (delivered is None) == (delivered_root is None):
        raise ConfigError("give exactly one of --delivered PATH or --delivered-root ID")
    root = parse_root(dataset)
    content = hash_path(delivered, not as_json) if delivered is not None else parse_root(str(delivered_root))
    if size is None:
        if delivered is None or not delivered.is_file():
            raise ConfigError("give --size (bytes delivered)")
        size = delivered.stat().st_size
    receipts = Receipts(registry(rpc_url))
    file = receipts.draft_delivery(
        root,
        provider,
        consumer,
        content,
        size,
        price=price,
        note=note,
        grant=grant,
        delivered_at=parse_time(at) if at else None,
    )
    create_new(out, file.to_json(), what="receipt file")
    warn_if_refused(receipts, file)
    emit(
        as_json,
        {"file": out, "digest": "0x" + file.digest.hex()},
        lambda: console.print(
            f"drafted receipt {out} (digest 0x{file.digest.hex()}); now both sides run `idsreg receipt sign {out}`"
        ),
    )


@receipt_app.command("sign")
def sign(
    file: FileArg,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add your organisation's signature (provider or consumer side, found from your key).

    The file only grows: a signature already in it is never replaced."""
    from ..receipts import ReceiptFile, Receipts

    receipt_file = ReceiptFile.read(file)
    receipt_file.check_terms()  # nobody signs a commitment the file's terms do not open
    receipts = Receipts(registry(rpc_url))
    account = signer(key, password_file)
    party = receipts.party_of(account, receipt_file)
    try:
        signed = receipt_file.signed(party, account)
    except ConfigError as exc:
        raise ConfigError(f"{file}: {exc}") from None
    if signed != receipt_file:
        if ReceiptFile.read(file) != receipt_file:
            raise ConfigError(f"{file} changed while it was being signed; sign it again")
        replace(file, signed.to_json(), what="receipt file")
    warn_if_refused(receipts, signed)
    missing = [p.name.lower() for p in Party if p.name.lower() not in signed.signatures]
    emit(
        as_json,
        {"party": label(party), "key": account.address, "missing": missing},
        lambda: console.print(
            f"signed {file} as {label(party)} with {account.address} (terms: {_terms_text(signed.opening.terms)})"
            + (f"; waiting for the {missing[0]}'s signature" if missing else "; ready: `idsreg receipt submit`")
        ),
    )


def warn_if_refused(receipts: Receipts, file: ReceiptFile) -> None:
    """One line on stderr if the ledger would refuse this delivery today (the command goes on:
    a receipt may be signed before its licence starts or is approved)."""
    objection = receipts.objection(file)
    if objection is not None:
        err_console.print(f"[yellow]warning:[/] the ledger would refuse this receipt now: {objection}", soft_wrap=True)


@receipt_app.command("submit")
def submit(
    file: FileArg,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a receipt signed by both organisations on the ledger."""
    from ..receipts import ReceiptFile, Receipts

    receipt_file = ReceiptFile.read(file)
    receipts = Receipts(registry(rpc_url))
    receipt_file.verify_offline(receipts.key_owner)
    tx = receipts.submit(signer(key, password_file), receipt_file)
    digest = "0x" + receipt_file.digest.hex()
    emit(as_json, {"digest": digest, **tx_json(tx)}, lambda: print_tx(tx, f"receipt {digest} recorded"))


@receipt_app.command("verify")
def verify(
    file: FileArg,
    offline: Annotated[bool, typer.Option("--offline", help="Check terms and signatures only; no chain.")] = False,
    claimed: ClaimedOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify a receipt: terms opening, signatures and typed data offline, then its record on the chain.

    Exit 4 if not, naming the terms field that differs from --terms."""
    from ..receipts import ReceiptFile, Receipts

    receipt_file = ReceiptFile.read(file)
    agreed = claimed_terms(claimed)
    terms = receipt_file.opening.terms
    if offline:
        signers = receipt_file.verify_offline(claimed=agreed)
        emit(
            as_json,
            {"verified": True, "signers": signers, "terms": terms.document()},
            lambda: console.print(
                f"[green]✓[/] terms ({_terms_text(terms)}) and signatures valid: "
                f"provider key {signers['provider']}, consumer key {signers['consumer']}"
            ),
        )
        return
    receipts = Receipts(registry(rpc_url))
    signers = receipt_file.verify_offline(receipts.key_owner, agreed)
    evidence = receipts.verify_on_chain(receipt_file, agreed)
    emit(
        as_json,
        {"verified": True, "signers": signers, "terms": terms.document(), "record": evidence},
        lambda: console.print(
            f"[green]✓ verified[/] receipt {evidence.digest}: {evidence.provider} → {evidence.consumer}, "
            f"terms {_terms_text(terms)}, recorded in block {evidence.block_number} ({evidence.transaction})"
        ),
    )


# ----- disclosure to the registry API -----


@receipt_app.command("disclose")
def disclose_receipt(
    file: FileArg,
    url: ApiUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Disclose a recorded receipt's terms to the registry API (needs `idsreg api login` as a party).

    The service checks them against the commitment; its parties, auditors and governors see them."""
    from ..receipts import ReceiptFile

    receipt_file = ReceiptFile.read(file)
    receipt_file.check_terms()
    digest = "0x" + receipt_file.digest.hex()
    with client_for(url, token_required=True) as api:
        shown = api.disclose_receipt_terms(digest, receipt_file.opening.to_dict())
    emit(as_json, shown, lambda: console.print(f"disclosed the terms of receipt {digest} to the registry API"))


@grant_app.command("disclose")
def disclose_grant(
    file: Annotated[Path, typer.Argument(help="A licence terms file (`grant issue` writes it).")],
    serial: Annotated[int, typer.Option("--serial", min=1, help="The serial of the grant these terms are of.")],
    url: ApiUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Disclose a grant's terms to the registry API (grantor or grantee, logged in), e.g. for the
    auditors who review a pending grant on important data."""
    from ..grants import LicenceTermsFile
    from ..hashing import hex32

    terms_file = LicenceTermsFile.read(file)
    dataset, grantee = hex32(terms_file.root), "0x" + terms_file.grantee.hex()
    with client_for(url, token_required=True) as api:
        shown = api.disclose_grant_terms(dataset, grantee, serial, terms_file.opening.to_dict())
    emit(
        as_json, shown, lambda: console.print(f"disclosed the terms of grant {serial} on {dataset} to the registry API")
    )
