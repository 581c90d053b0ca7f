"""`idsreg metadata reveal | verify`: a dataset's metadata document and salt against its on-chain commitment."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ConfigError
from ..files import create_new
from .common import JsonOpt, RpcOpt, console, emit, registry

app = typer.Typer(
    help="Reveal a dataset's metadata document with its salt, and check one against the chain.", no_args_is_help=True
)

IdArg = Annotated[str, typer.Argument(help="Dataset id: its content root, 0x followed by 64 hex digits.")]


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None


@app.command("reveal")
def reveal(
    dataset: IdArg,
    document: Annotated[
        Path | None,
        typer.Option(help="The metadata document as registered (default: the file named in the salt record)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the reveal file here (default: print it).")
    ] = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reveal the metadata document and salt of a dataset your organisation registered (from your salt records)."""
    from ..datasets import hex32, metadata_commitment, parse_root
    from ..metadata import MetadataMismatchError, Reveal, on_chain, parse_salt, salt_records
    from ..settings import get_settings

    root = parse_root(dataset)
    reg = registry(rpc_url)
    chain = on_chain(reg, root)
    if chain.commitment == bytes(32):
        raise ConfigError(f"dataset {hex32(root)} was registered without metadata: there is nothing to reveal")
    folder = get_settings().registrations_dir
    records = [
        r
        for r in salt_records(folder, root)
        if r.get("chainId") == reg.chain_id and str(r.get("metadataHash", "")).lower() == hex32(chain.commitment)
    ]
    if not records:
        raise ConfigError(
            f"no salt record for dataset {hex32(root)}'s metadata in {folder}: only the registrant keeps the salt, "
            "in the home folder it registered from"
        )
    record = records[-1]
    salt = parse_salt(str(record["metadataSalt"]))
    source = document or (Path(record["metadataFile"]) if record.get("metadataFile") else None)
    if source is None:
        raise ConfigError(f"the salt record {record['_file']} names no metadata file; pass --document FILE")
    content = _read(source, "metadata document")
    if metadata_commitment(content, salt) != chain.commitment:
        raise MetadataMismatchError(
            f"{source} is not the metadata document registered for {hex32(root)} (changed since?): with the recorded "
            "salt it does not make the on-chain commitment; pass --document with the document as registered"
        )
    revealed = Reveal(
        hex32(root), reg.chain_id, hex32(chain.commitment), str(record["metadataSalt"]), content, chain.uri
    )
    text = revealed.to_json()
    if out is None:
        sys.stdout.write(text)
        return
    create_new(out, text, what="metadata reveal file")
    data = {
        "root": hex32(root),
        "out": str(out),
        "metadataHash": hex32(chain.commitment),
        "salt": revealed.salt,
        "document": str(source),
        "documentSha256": revealed.document_sha256,
        "saltRecord": record["_file"],
    }
    emit(
        as_json,
        data,
        lambda: console.print(
            f"[green]✓[/] revealed the metadata of {hex32(root)} in {out} ({source}, {len(content)} bytes, with "
            f"its salt)\n  anyone can check it: idsreg metadata verify {hex32(root)} --revealed {out}",
            soft_wrap=True,
        ),
    )


@app.command("verify")
def verify(
    dataset: IdArg,
    revealed: Annotated[Path | None, typer.Option(help="A reveal file from `idsreg metadata reveal`.")] = None,
    document: Annotated[Path | None, typer.Option(help="The metadata document (instead of the revealed one).")] = None,
    salt: Annotated[
        str | None, typer.Option(help="The salt, 0x + 64 hex digits (instead of the revealed one).")
    ] = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a metadata document and salt against the dataset's on-chain commitment. Exit 0 match, 4 not (says which
    part), 6 not registered."""
    from ..hashing import hex32, parse_root
    from ..metadata import Reveal, check, on_chain, parse_salt, salt_records
    from ..settings import get_settings

    root = parse_root(dataset)
    if revealed is None and (document is None or salt is None):
        raise ConfigError("give --revealed FILE, or --document FILE and --salt HEX")
    given_salt = parse_salt(salt) if salt is not None else None
    opened = Reveal.read(revealed) if revealed is not None else None
    if document is not None:
        content = _read(document, "metadata document")
    else:
        assert opened is not None  # checked above: --revealed is given
        content = opened.document
    if given_salt is not None:
        used_salt = given_salt
    else:
        assert opened is not None
        used_salt = parse_salt(opened.salt)
    chain = on_chain(registry(rpc_url), root)
    known = [parse_salt(str(r["metadataSalt"])) for r in salt_records(get_settings().registrations_dir, root)]
    check(chain, content, used_salt, reveal=opened, known_salts=known)
    data: dict[str, Any] = {
        "verified": True,
        "root": hex32(root),
        "metadataHash": hex32(chain.commitment),
        "metadataUri": chain.uri or None,
        "registration": chain.transaction,
        "document": {
            "source": str(document or revealed),
            "size": len(content),
            "sha256": "0x" + hashlib.sha256(content).hexdigest(),
        },
    }
    emit(
        as_json,
        data,
        lambda: console.print(
            f"[green]✓ metadata verified[/] for {hex32(root)}: the document ({len(content)} bytes) and salt make the "
            f"on-chain commitment {hex32(chain.commitment)}",
            soft_wrap=True,
        ),
    )
