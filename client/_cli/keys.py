"""`idsreg key …`: encrypted keystores. Secrets are never printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import ConfigError
from .common import (
    JsonOpt,
    PasswordFileOpt,
    console,
    emit,
    err_console,
    keystore,
    password,
    private_keystore,
    read_password_file,
)

if TYPE_CHECKING:
    from ..keys import KeyEntry

app = typer.Typer(help="Create, import and list the keys in the local keystore.", no_args_is_help=True)

LabelArg = Annotated[str, typer.Argument(help="Name of the key in the keystore.")]


def _entry_json(entry: KeyEntry) -> dict[str, str]:
    return {"label": entry.label, "address": entry.address, "file": str(entry.path)}


@app.command("new")
def new(label: LabelArg, password_file: PasswordFileOpt = None, as_json: JsonOpt = False) -> None:
    """Generate a key and store it encrypted under LABEL."""
    store = private_keystore()
    entry = store.create(label, password(f"new key {label!r}", password_file, confirm=True))
    emit(as_json, _entry_json(entry), lambda: console.print(f"created key {entry.label!r}: {entry.address}"))


@app.command("import")
def import_(
    label: LabelArg,
    private_key_file: Annotated[
        Path | None, typer.Option(help="File holding a hex private key (keep it out of shell history).")
    ] = None,
    keystore_file: Annotated[Path | None, typer.Option(help="Web3 Secret Storage (JSON keystore) file.")] = None,
    keystore_password_file: Annotated[
        Path | None, typer.Option(help="Password of --keystore-file (default: prompt).")
    ] = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a key from a private-key file or another keystore file, stored encrypted under LABEL."""
    if (private_key_file is None) == (keystore_file is None):
        raise ConfigError("give exactly one of --private-key-file or --keystore-file")
    store = private_keystore()
    if private_key_file is not None:
        secret = read_password_file(private_key_file)  # first line of the file
        entry = store.import_private_key(label, secret, password(f"new key {label!r}", password_file, confirm=True))
    else:
        assert keystore_file is not None
        try:
            raw = json.loads(keystore_file.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read keystore file {keystore_file}: {exc}") from None
        old = (
            read_password_file(keystore_password_file)
            if keystore_password_file
            else password(f"keystore file {keystore_file}", None)
        )
        entry = store.import_keystore(label, raw, old, password(f"new key {label!r}", password_file, confirm=True))
    emit(as_json, _entry_json(entry), lambda: console.print(f"imported key {entry.label!r}: {entry.address}"))


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List the keys in the keystore (labels and addresses). Exit 2 if a keystore file is unreadable."""
    store = keystore()
    entries, unreadable = store.scan()
    listed: list[dict[str, str | None]] = [{**_entry_json(e)} for e in entries]
    listed += [{"label": u.label, "address": None, "file": str(u.path), "unreadable": u.reason} for u in unreadable]
    listed.sort(key=lambda e: str(e["label"]))

    def human() -> None:
        if not entries and not unreadable:
            console.print(f"no keys in {store.directory} (create one with `idsreg key new LABEL`)")
        for entry in listed:
            console.print(f"{entry['label']:<24} {entry['address'] or 'unreadable: ' + str(entry['file'])}")

    emit(as_json, listed, human)
    for damaged in unreadable:
        err_console.print(f"[red]error:[/] {damaged}", soft_wrap=True)
    if unreadable:
        raise typer.Exit(2)


@app.command("export-address")
def export_address(label: LabelArg, as_json: JsonOpt = False) -> None:
    """Print the address of a key (never its secret)."""
    entry = keystore().find(label)
    emit(as_json, _entry_json(entry), lambda: console.print(entry.address))
