"""`idsreg demo`: a local consortium ready to use, in one command.

Starts the local chain, creates the demo keys, deploys the registry, admits one member
organisation, registers a sample dataset and leaves the registry API running on localhost.
Run again, it reuses whatever already exists.
"""

from __future__ import annotations

import secrets
import shlex
import shutil
import sys
import time
from pathlib import Path

from ..chain.enums import Grade
from ..errors import ContractRevertError
from ..files import create_new
from ..hashing import content_root
from .api import start_background
from .chain import local_chain
from .common import JsonOpt, console, emit, private_keystore, read_password_file
from .datasets import print_verdict

GOVERNOR, MEMBER_ADMIN, MEMBER_CONNECTOR = "governor", "acme-admin", "acme-connector"
DEMO_ORG, DEMO_ORG_NAME = "DEMO:ACME-STEEL", "ACME Steel Works"


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
    for label in (GOVERNOR, MEMBER_ADMIN, MEMBER_CONNECTOR):
        if label not in known:
            known[label] = store.create(label, pw)
    governor = store.unlock(known[GOVERNOR], pw)
    w3 = connect(status.rpc_url)
    manifest = existing_deployment(w3, settings.deployments)
    if manifest is None:
        manifest = deploy_registry(w3, governor, [governor.address], 1, settings.deployments)
    consortium = Consortium(Registry(w3, manifest))
    try:
        consortium.propose_admission(
            governor,
            DEMO_ORG,
            DEMO_ORG_NAME,
            known[MEMBER_ADMIN].address,
            2,
            bytes(32),
            int(time.time()) + 365 * 24 * 3600,
        )
    except ContractRevertError as exc:
        if exc.error_name != "ConsortiumOrgExists":
            raise
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
    api_url, api_pid, _started = start_background()
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
        console.print(f"[green]✓[/] registry API running at {api_url} (OpenAPI docs at {api_url}/docs)")
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
            f"curl {api_url}/v1/datasets/{verdict.content_root}",
            f"{idsreg} api status",
            f"{idsreg} api stop",
            f"{idsreg} chain status",
            f"{idsreg} chain down",
        ]
        console.print("\nNext steps:")
        for step in steps:
            # One command per line, never wrapped, so that each can be copied whole.
            console.print(f"  {step}", soft_wrap=True, markup=False, highlight=False)

    emit(as_json, data, human)


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
