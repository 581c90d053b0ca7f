"""`idsreg demo`: a local consortium ready to use, in one command.

Starts the local chain, creates the demo keys, deploys the registry, admits three member
organisations and appoints an auditor, registers a sample dataset, and leaves the registry API
running on localhost. Then two members exchange the dataset under confidential terms: ACME
licenses it to Beta with a price, both sign a delivery receipt with size and price, and the
chain records only the terms' commitment; the parties disclose the receipt's terms to the API,
where the auditor reads the price and the third member finds no such receipt.
Run again, it reuses whatever already exists (the same licence and receipt).
"""

from __future__ import annotations

import json
import secrets
import shlex
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..chain.enums import Action, Grade, Party, Permission, Role
from ..errors import ChainError, ContractRevertError, ProofError
from ..files import create_new, private_folder, replace
from ..hashing import content_root
from .api import start_background
from .chain import local_chain
from .common import JsonOpt, console, emit, private_keystore, read_password_file
from .datasets import print_verdict

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from ..chain.registry import Registry
    from ..consortium import Consortium
    from ..registry_client import RegistryClient

GOVERNOR, MEMBER_ADMIN, MEMBER_CONNECTOR = "governor", "acme-admin", "acme-connector"
BETA_CONNECTOR = "beta-connector"
DEMO_ORG, DEMO_ORG_NAME = "DEMO:ACME-STEEL", "ACME Steel Works"
# The exchange: ACME licenses its dataset to Beta and delivers it; Gamma is a member too, but
# no party to the deal; the auditor is appointed by governance and sees every receipt.
BETA_ADMIN, BETA_ORG, BETA_ORG_NAME = "beta-admin", "DEMO:BETA-MOTORS", "Beta Motors"
GAMMA_ADMIN, GAMMA_ORG, GAMMA_ORG_NAME = "gamma-admin", "DEMO:GAMMA-LOGISTICS", "Gamma Logistics"
AUDITOR = "auditor"
KEY_LABELS = (GOVERNOR, MEMBER_ADMIN, MEMBER_CONNECTOR, BETA_ADMIN, BETA_CONNECTOR, GAMMA_ADMIN, AUDITOR)
LICENCE_PRICE, DELIVERY_PRICE = 48_000, 12_750


def _demo_password(home: Path) -> tuple[str, Path | None]:
    """IDSREG_PASSWORD / IDSREG_PASSWORD_FILE if set; else a random password kept in a private file."""
    from ..settings import get_settings

    settings = get_settings()
    if settings.password is not None:
        return settings.password.get_secret_value(), None
    if settings.password_file is not None:
        return read_password_file(settings.password_file), settings.password_file
    path = home / "demo-password"
    if not path.exists():
        create_new(path, secrets.token_urlsafe(24) + "\n", what="demo password file", mode=0o600)
    return read_password_file(path), path


SAMPLE_ROWS = [
    "timestamp,line,station,temperature_c",
    *(f"2026-11-01T08:{m:02d}:00Z,L2,press-4,{61 + m % 7}.5" for m in range(60)),
]


def _sample_dataset(home: Path) -> Path:
    """A small sensor-data file to register (the same bytes every time, so a re-run reuses it)."""
    path = home / "demo" / "press-4-temperatures.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(SAMPLE_ROWS) + "\n")
    return path


def demo(as_json: JsonOpt = False) -> None:
    """Start the local chain, deploy the registry and set up a demo consortium."""
    from ..anchors import Anchors
    from ..chain.deploy import deploy_registry, existing_deployment
    from ..chain.registry import Registry, connect
    from ..consortium import Consortium
    from ..datasets import Datasets, Registration
    from ..settings import get_settings
    from ..verify import verify_root

    settings = get_settings()
    chain = local_chain()
    status = chain.up()
    pw, pw_file = _demo_password(settings.home)
    store = private_keystore()
    known = {e.label: e for e in store.entries()}
    for label in KEY_LABELS:
        if label not in known:
            known[label] = store.create(label, pw)
    governor = store.unlock(known[GOVERNOR], pw)
    w3 = connect(status.rpc_url)
    manifest = existing_deployment(w3, settings.deployments)
    if manifest is None:
        manifest = deploy_registry(w3, governor, [governor.address], 1, settings.deployments)
    consortium = Consortium(Registry(w3, manifest))
    for org, name, admin in (
        (DEMO_ORG, DEMO_ORG_NAME, MEMBER_ADMIN),
        (BETA_ORG, BETA_ORG_NAME, BETA_ADMIN),
        (GAMMA_ORG, GAMMA_ORG_NAME, GAMMA_ADMIN),
    ):
        _admit(consortium, governor, org, name, known[admin].address)
    if not consortium.has_role(Role.AUDITOR, known[AUDITOR].address):
        consortium.propose(governor, Action.APPOINT_AUDITOR, known[AUDITOR].address)
    member = consortium.member(DEMO_ORG)
    if known[MEMBER_CONNECTOR].address not in member.connectors:
        consortium.add_connector(store.unlock(known[MEMBER_ADMIN], pw), known[MEMBER_CONNECTOR].address)
        member = consortium.member(DEMO_ORG)
    sample = _sample_dataset(settings.home)
    registry = consortium.registry
    datasets, anchors = Datasets(registry), Anchors(registry)
    root = content_root(sample)
    if not datasets.is_registered(root):
        datasets.register(store.unlock(known[MEMBER_CONNECTOR], pw), Registration(root, Grade.GENERAL))
    verdict = verify_root(datasets, anchors, root, str(sample))
    unlocked = {label: store.unlock(known[label], pw) for label in (MEMBER_CONNECTOR, BETA_ADMIN, GAMMA_ADMIN, AUDITOR)}
    deal = _exchange(registry, unlocked[MEMBER_CONNECTOR], unlocked[BETA_ADMIN], root, sample)
    # A loaded machine takes more than the default 30 s to import and start the service.
    api_url, api_pid, _started = start_background(timeout=120)
    shown = _disclose_and_read(api_url, deal, unlocked)
    audit = _audit(registry, root, [deal.licence_file, deal.receipt_file], settings.home / "demo" / "audit")
    beta_connector = _beta_connector(consortium, store.unlock(known[BETA_ADMIN], pw), known[BETA_CONNECTOR].address)
    moved = _connector_exchange(
        registry, unlocked[MEMBER_CONNECTOR], store.unlock(known[BETA_CONNECTOR], pw), beta_connector, settings.home
    )
    data = {
        "rpcUrl": status.rpc_url,
        "chainId": manifest.chain_id,
        "contracts": {n: c.address for n, c in manifest.contracts.items()},
        "keys": {label: entry.address for label, entry in known.items()},
        "passwordFile": pw_file,
        "member": member,
        "sampleDataset": {"path": sample, "root": verdict.content_root},
        "apiUrl": api_url,
        "apiPid": api_pid,
        "exchange": {
            "provider": DEMO_ORG,
            "consumer": BETA_ORG,
            "licence": {
                "serial": deal.serial,
                "termsFile": deal.licence_file,
                "termsCommitment": deal.licence_commitment,
                "transaction": deal.licence_tx,
                "terms": deal.licence_terms,
            },
            "receipt": {
                "file": deal.receipt_file,
                "digest": deal.digest,
                "termsCommitment": deal.receipt_commitment,
                "transaction": deal.receipt_tx,
                "blockNumber": deal.receipt_block,
                "terms": deal.receipt_terms,
            },
            "pricesOnChain": deal.prices_on_chain,
            "auditorSees": shown["auditor"],
            "outsiderSees": shown["outsider"],
        },
        "audit": audit,
        "connectorExchange": moved,
    }

    def human() -> None:
        console.print(f"[green]✓[/] local chain {manifest.chain_id} running at {status.rpc_url}")
        console.print(
            f"[green]✓[/] registry deployed at block {manifest.deployment_block}: "
            + ", ".join(f"{n} {c.address}" for n, c in manifest.contracts.items())
        )
        console.print(f"[green]✓[/] governor key '{GOVERNOR}' {governor.address} (threshold 1)")
        console.print(
            f"[green]✓[/] member '{member.name}' ({DEMO_ORG}) admitted, admin key '{MEMBER_ADMIN}', "
            f"connector key '{MEMBER_CONNECTOR}'"
        )
        console.print(f"[green]✓[/] sample dataset {sample} registered by the member's connector key:")
        print_verdict(verdict)
        console.print(
            f"[green]✓[/] members '{BETA_ORG_NAME}' ({BETA_ORG}, admin key '{BETA_ADMIN}') and '{GAMMA_ORG_NAME}' "
            f"({GAMMA_ORG}, admin key '{GAMMA_ADMIN}') admitted; key '{AUDITOR}' appointed auditor",
            soft_wrap=True,
        )
        console.print(f"[green]✓[/] registry API running at {api_url} (OpenAPI docs at {api_url}/docs)")
        for line in _exchange_lines(deal, shown):
            console.print(line, soft_wrap=True, highlight=False)
        console.print(
            f"[green]✓[/] audit bundle of the sample dataset: {audit['facts']} facts, verified against the "
            f"local node; bundle {audit['bundle']}, report {audit['report']} and {audit['pdf']}",
            soft_wrap=True,
            highlight=False,
        )
        console.print(
            f"[green]✓[/] {BETA_ORG_NAME}'s connector fetched the dataset {moved['dataset']} ({moved['kind']}, "
            f"{moved['size']} bytes) from {DEMO_ORG_NAME}'s connector in the Dataspace Protocol: contract as "
            f"licence grant {moved['grantSerial']}, bytes verified against the registered root into {moved['path']}, "
            f"receipt signed by both connectors in transaction {moved['receiptTransaction']}",
            soft_wrap=True,
            highlight=False,
        )
        if pw_file is not None:
            console.print(f"  the demo keys' password is in {pw_file} (readable only by you)")
        idsreg = _invocation()
        steps = [f"export IDSREG_PASSWORD_FILE={pw_file}"] if pw_file is not None else []
        steps += [
            f"{idsreg} verify {sample}",
            f"{idsreg} register FILE --key {MEMBER_CONNECTOR}",
            f"{idsreg} anchor FILE... --key {MEMBER_CONNECTOR}",
            f"{idsreg} member list",
            f"{idsreg} member show {DEMO_ORG}",
            f"{idsreg} key new my-key",
            (
                f"{idsreg} member propose admit LEI:5493001KJTIIGC8Y1R12 --name 'My Org' --admin my-key "
                f"--evidence 0x{'00' * 32} --key {GOVERNOR}"
            ),
            f"{idsreg} receipt verify {deal.receipt_file} --terms {deal.agreed_file}",
            f"{idsreg} grant verify-terms {deal.licence_file}",
            f"curl {api_url}/v1/datasets/{verdict.content_root}",
            f"{idsreg} api login --key {AUDITOR}",
            f"{idsreg} receipt list --json",
            f"{idsreg} audit verify {audit['bundle']} --online --report audit-report.pdf",
            f"{idsreg} api status",
            f"{idsreg} api stop",
            f"{idsreg} chain status",
            f"{idsreg} chain down",
        ]
        console.print("\nNext steps:")
        for step in steps:
            # One command per line, never wrapped, so that each can be copied whole.
            console.print(f"  {step}", soft_wrap=True, markup=False, highlight=False)
        # Last, so that the main command's output ends with what to open in a browser.
        console.print(f"\nExplorer: {api_url}/", soft_wrap=True, markup=False, highlight=False)

    emit(as_json, data, human)


def _admit(consortium: Consortium, governor: LocalAccount, org: str, name: str, admin: str) -> None:
    """Admit `org` (the governor alone reaches the demo's threshold of 1), unless it was admitted."""
    try:
        consortium.propose_admission(governor, org, name, admin, 2, bytes(32), int(time.time()) + 365 * 24 * 3600)
    except ContractRevertError as exc:
        if exc.error_name != "ConsortiumOrgExists":
            raise


@dataclass(frozen=True)
class Deal:
    """The demo's exchange as recorded: the licence, the receipt, where their openings are kept."""

    serial: int
    licence_file: Path
    licence_commitment: str
    licence_tx: str
    licence_terms: dict[str, str]
    receipt_file: Path
    agreed_file: Path
    digest: str
    receipt_commitment: str
    receipt_tx: str
    receipt_block: int
    receipt_terms: dict[str, str]
    #: Each confidential figure found in the calldata or the events of the transactions that
    #: recorded the licence and the receipt (as a 32-byte word or in decimal): none, if all is well.
    prices_on_chain: list[str]


def _exchange(registry: Registry, provider: LocalAccount, consumer: LocalAccount, root: bytes, sample: Path) -> Deal:
    """ACME licenses the sample dataset to Beta with a price and delivers it under a receipt
    both sign; the openings stay in files of the demo folder (0700). A re-run reuses them."""
    from ..consortium import org_id
    from ..eip712 import Receipt
    from ..grants import Grants, LicenceTermsFile
    from ..receipts import ReceiptFile, Receipts
    from ..terms import Opening, Terms
    from .licences import chain_now

    # One folder a deployment: files made for an earlier chain are kept, and not reused on a new one.
    folder = sample.parent / f"exchange-{registry.manifest.deployment_block_hash.removeprefix('0x')[:12]}"
    private_folder(folder)
    grants, receipts = Grants(registry), Receipts(registry)
    licence_path = folder / "licence.terms.json"
    if licence_path.exists():
        terms_file = LicenceTermsFile.read(licence_path)
    else:
        opening = Opening.new(Terms.licence(purpose="QUALITY-ANALYSIS", price=LICENCE_PRICE))
        terms_file = grants.terms_file(root, BETA_ORG, opening)
        create_new(licence_path, terms_file.to_json(), what="licence terms file", mode=0o600)
    try:
        issued = grants.verify_terms(terms_file)
    except ProofError:  # written, but not issued yet (or the earlier run stopped in between)
        start = chain_now(registry)
        grants.grant(provider, root, BETA_ORG, Permission.READ, start, start + 365 * 24 * 3600, terms_file.commitment)
        issued = grants.verify_terms(terms_file)
    receipt_path, agreed_path = folder / "delivery.receipt.json", folder / "agreed-delivery-terms.json"
    if receipt_path.exists():
        receipt_file = ReceiptFile.read(receipt_path)
    else:
        opening = Opening.new(Terms.receipt(size=sample.stat().st_size, price=DELIVERY_PRICE))
        receipt = Receipt(
            dataset=root,
            grant_serial=issued.serial,
            provider=org_id(DEMO_ORG),
            consumer=org_id(BETA_ORG),
            delivered_root=root,
            terms_commitment=opening.commitment,
            delivered_at=chain_now(registry),
            nonce=int.from_bytes(secrets.token_bytes(16), "big"),
        )
        receipt_file = receipts.draft(receipt, opening)
        create_new(receipt_path, receipt_file.to_json(), what="receipt file")
    if not agreed_path.exists():  # what Beta's order says it agreed to: the terms `receipt verify --terms` checks
        create_new(agreed_path, json.dumps(receipt_file.opening.terms.document(), indent=2) + "\n", what="terms file")
    signed = receipt_file.signed(Party.PROVIDER, provider).signed(Party.CONSUMER, consumer)
    if signed != receipt_file:
        replace(receipt_path, signed.to_json(), what="receipt file")
    if not registry.call("ExchangeLedger", "isRecorded", signed.digest):
        receipts.submit(consumer, signed)
    recorded = receipts.verify_on_chain(signed)
    figures = {"licence price": LICENCE_PRICE, "delivery price": DELIVERY_PRICE, "delivery size": sample.stat().st_size}
    found = {
        name
        for tx in (issued.transaction, recorded.transaction)
        for name, value in figures.items()
        if _mentions(registry, tx, value)
    }
    return Deal(
        serial=issued.serial,
        licence_file=licence_path,
        licence_commitment="0x" + terms_file.commitment.hex(),
        licence_tx=issued.transaction,
        licence_terms=terms_file.opening.terms.document(),
        receipt_file=receipt_path,
        agreed_file=agreed_path,
        digest=recorded.digest,
        receipt_commitment="0x" + signed.receipt.terms_commitment.hex(),
        receipt_tx=recorded.transaction,
        receipt_block=recorded.block_number,
        receipt_terms=signed.opening.terms.document(),
        prices_on_chain=sorted(found),
    )


def _beta_connector(consortium: Consortium, beta_admin: LocalAccount, connector: str) -> str:
    """Beta's connector key, added by Beta's admin unless it is there; Beta's org id."""
    member = consortium.member(BETA_ORG)
    if connector not in member.connectors:
        consortium.add_connector(beta_admin, connector)
    return str(member.org_id)


VIBRATION_FILES = {
    "press-4/vibration-x.csv": "\n".join(f"{m},{(m * 37) % 101 / 10}" for m in range(500)) + "\n",
    "press-4/vibration-y.csv": "\n".join(f"{m},{(m * 53) % 97 / 10}" for m in range(500)) + "\n",
    "README.txt": "Line 2, press 4: accelerometer readings, one row a second (t,mm/s).\n",
}


def _connector_exchange(
    registry: Registry, acme_connector: LocalAccount, beta_connector: LocalAccount, beta_org: str, home: Path
) -> dict[str, Any]:
    """ACME's and Beta's connectors, each a DSP server on loopback, move a second sample dataset
    (a folder) from ACME to Beta: catalog, contract (the licence on chain), transfer, the bytes
    verified against the registered root while they stream, a receipt both connectors sign.
    A re-run reuses what the first run recorded for this deployment."""
    folder = home / "demo" / f"connector-{registry.manifest.deployment_block_hash.removeprefix('0x')[:12]}"
    record = folder / "delivery.json"
    if record.exists():  # before the imports: the connector's modules take seconds to load
        recorded: dict[str, Any] = json.loads(record.read_text())
        return recorded
    from ..chain.node import free_port
    from ..connector.app import create_app, make_connector
    from ..connector.delivery import BackgroundServer, fetch_dataset
    from ..connector.odrl import OfferTerms
    from ..connector.schemas import find_release, load
    from ..connector.sources import DataSources, local_dataset
    from ..consortium import org_id
    from ..datasets import Datasets, Registration

    source = home / "demo" / "press-4-vibration"
    for name, text in VIBRATION_FILES.items():
        path = source / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    dataset = local_dataset(source)
    datasets = Datasets(registry)
    if not datasets.is_registered(dataset.root):
        datasets.register(acme_connector, Registration(dataset.root, Grade.GENERAL))
    release = find_release()
    schemas = None if release is None else load(release)
    terms = OfferTerms(Permission.READ, "QUALITY-ANALYSIS", 30 * 24 * 3600)
    folder.mkdir(parents=True, exist_ok=True)
    running = []
    try:
        for key, org, served in (
            (acme_connector, "0x" + org_id(DEMO_ORG).hex(), DataSources([dataset])),
            (beta_connector, beta_org, DataSources()),
        ):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            side_home = folder / ("acme" if served else "beta")
            side_home.mkdir(exist_ok=True)
            connector = make_connector(registry, key, org, url, side_home, terms, schemas=schemas, sources=served)
            server = BackgroundServer(create_app(connector), "127.0.0.1", port)
            running.append((url, connector, server))
            server.start()
        (acme_url, _acme, _s), (_beta_url, beta, _t) = running
        delivery = fetch_dataset(beta, acme_url, dataset.root, folder / "received-press-4-vibration", timeout=120)
    finally:
        for _url, connector, server in running:
            server.stop()
            connector.close()
    result = delivery.to_dict()
    create_new(record, json.dumps(result, indent=2) + "\n", what="connector delivery record")
    return result


def _mentions(registry: Registry, tx_hash: str, value: int) -> bool:
    """Whether a transaction's calldata or events carry `value`, as any member's node sees them:
    as a 32-byte word (how the ABI encodes a number) or written out in decimal."""
    tx = registry.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    logs = registry.w3.eth.get_transaction_receipt(tx_hash)["logs"]  # type: ignore[arg-type]
    blobs = [bytes(tx["input"])] + [bytes(log["data"]) + b"".join(bytes(t) for t in log["topics"]) for log in logs]
    needles = (value.to_bytes(32, "big"), str(value).encode())
    return any(needle in blob for blob in blobs for needle in needles)


def _disclose_and_read(api_url: str, deal: Deal, keys: dict[str, LocalAccount]) -> dict[str, Any]:
    """Beta discloses the receipt's terms to the API; then what the auditor and Gamma, each
    signed in with its own key, get for that receipt: its terms, or the API's refusal."""
    from ..receipts import ReceiptFile
    from ..registry_client import ApiRefusedError, RegistryClient

    def signed_in(label: str) -> RegistryClient:
        with RegistryClient(api_url) as anonymous:
            session = anonymous.sign_in(keys[label], label)
        return RegistryClient(api_url, session.access_token)

    with RegistryClient(api_url) as anonymous:
        deadline = time.monotonic() + 60
        # Members sign in, and find the receipt, once the API has indexed the block recording it.
        while (anonymous.status().indexed_block or 0) < deal.receipt_block:
            if time.monotonic() > deadline:
                raise ChainError(f"the registry API at {api_url} did not index block {deal.receipt_block} in 60 s")
            time.sleep(0.25)
    with signed_in(BETA_ADMIN) as beta:
        beta.disclose_receipt_terms(deal.digest, ReceiptFile.read(deal.receipt_file).opening.to_dict())
    shown: dict[str, Any] = {}
    for party, label in (("auditor", AUDITOR), ("outsider", GAMMA_ADMIN)):
        with signed_in(label) as api:
            try:
                receipt = api.get(f"/v1/receipts/{deal.digest}")
                shown[party] = {"status": 200, "terms": receipt.get("terms")}
            except ApiRefusedError as exc:
                shown[party] = {"status": exc.status, "error": str(exc)}
    return shown


def _exchange_lines(deal: Deal, shown: dict[str, Any]) -> list[str]:
    """The exchange, a line a step, as the person running the demo reads it."""
    licence_price, price = deal.licence_terms.get("price"), deal.receipt_terms.get("price")
    on_chain = (
        f"[red]✗[/] but the chain carries the {', '.join(deal.prices_on_chain)}"
        if deal.prices_on_chain
        else "neither price nor size appears in any calldata or event of either transaction"
    )
    auditor, outsider = shown["auditor"], shown["outsider"]
    seen = auditor.get("terms") or {}
    licensed = (
        f"[green]✓[/] {DEMO_ORG_NAME} licensed the sample dataset to {BETA_ORG_NAME} (grant {deal.serial}, "
        f"read, price {licence_price}); the opening of its terms is kept in {deal.licence_file}"
    )
    drafted = (
        f"[green]✓[/] receipt drafted with size {deal.receipt_terms.get('size')} bytes and price {price}, "
        f"signed by {MEMBER_CONNECTOR} and {BETA_ADMIN}, submitted: {deal.receipt_file}"
    )
    chain = (
        f"[green]✓[/] on chain, as any member's node reads it: receipt {deal.digest} in block {deal.receipt_block} "
        f"records terms commitment {deal.receipt_commitment} only; {on_chain}"
    )
    disclosed = (
        f"[green]✓[/] {BETA_ORG_NAME} disclosed the receipt's terms to the registry API "
        "(which checked them against the commitment)"
    )
    if auditor["status"] == 200 and seen:
        audited = (
            f"[green]✓[/] auditor '{AUDITOR}' reads through the API: price {seen.get('price')}, size {seen.get('size')}"
        )
    else:
        audited = f"[red]✗[/] auditor '{AUDITOR}' sees no terms: {auditor.get('error', 'none disclosed')}"
    if outsider["status"] == 404:
        outside = f"[green]✓[/] {GAMMA_ORG_NAME}, no party to the deal, asks the API for it: 404, no such receipt"
    else:
        outside = f"[red]✗[/] {GAMMA_ORG_NAME}, no party to the deal, gets {outsider}"
    return [licensed, drafted, chain, disclosed, audited, outside]


def _audit(registry: Registry, root: bytes, terms: list[Path], folder: Path) -> dict[str, Any]:
    """The dataset's audit bundle (with the openings in the `terms` files), verified against the
    local node, and its HTML and PDF reports, in `folder`/block-N (N its last block; a re-run at
    the same block verifies the files there again)."""
    from ..audit.export import export_bundle
    from ..audit.online import by_node
    from ..audit.openings import held_openings
    from ..audit.report import render
    from ..audit.report_pdf import render_pdf
    from ..audit.verify import verify_bytes

    last = int(registry.w3.eth.block_number)
    here = folder / f"block-{last}"
    bundle, html, pdf = here / "bundle.json", here / "report.html", here / "report.pdf"
    if not bundle.exists():
        openings = held_openings(terms, None)
        data = export_bundle(registry, root, 1, last_block=last, openings=openings).to_bytes()
        here.mkdir(parents=True, exist_ok=True)
        create_new(bundle, data, what="audit bundle")
    verified = verify_bytes(bundle.read_bytes(), authenticate=by_node(registry.w3))
    if not html.exists():
        create_new(html, render(verified), what="report")
    if not pdf.exists():
        create_new(pdf, render_pdf(verified), what="report")
    return {
        "bundle": bundle,
        "report": html,
        "pdf": pdf,
        "facts": len(verified.facts),
        "lastBlock": last,
        "authenticatedBy": verified.authenticated_by,
    }


def _invocation() -> str:
    """How the person who ran the demo starts `idsreg` from where they are: the bare name when
    their PATH finds this very installation, otherwise the script's path (relative to the
    working folder when it lies below it, as `.venv/bin/idsreg` does after `scripts/setup`)."""
    script = Path(sys.executable).parent / "idsreg"
    found = shutil.which("idsreg")
    if found is not None and Path(found).resolve() == script.resolve():
        return "idsreg"
    try:
        shown = str(Path(".") / script.relative_to(Path.cwd()))
        shown = shown if "/" in shown else f"./{shown}"
    except ValueError:
        shown = str(script)
    return shlex.quote(shown)
