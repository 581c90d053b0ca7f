"""The `idsreg` command line. Library code raises; only client/exits.py turns errors into exit codes.

Exit codes (the README's table, followed by every command): 0 success; 1 unexpected failure;
2 bad input or configuration (usage, keys, values, malformed proof or receipt files, a file
that would be overwritten); 3 chain node unreachable or registry not deployed; 4 verification
failed; 5 refused by a contract; 6 not registered (unknown dataset, member, grant, dispute,
anchor); 130 interrupted. `--json` output follows docs/json.md.
"""

from __future__ import annotations

import typer

from ..exits import run_command_line
from . import (
    anchors,
    api,
    audit,
    chain,
    checkpoints,
    classify,
    connector,
    contracts,
    datasets,
    demo,
    disputes,
    keys,
    licences,
    lists,
    member,
    metadata,
    session,
    watch,
)
from .common import err_console

app = typer.Typer(
    name="idsreg",
    help="IDS Registry: provenance and rights of industrial datasets on a permissioned ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(chain.app, name="chain")
chain.app.command("verify-contracts")(contracts.verify_contracts)
app.command("deploy")(chain.deploy)
app.add_typer(keys.app, name="key")
app.add_typer(member.app, name="member")
app.command("demo")(demo.demo)
app.command("hash")(datasets.hash_)
app.command("register")(datasets.register)
app.command("classify")(classify.classify)
app.add_typer(anchors.app, name="anchor")
app.command("verify")(datasets.verify)
app.add_typer(datasets.dataset_app, name="dataset")
app.add_typer(metadata.app, name="metadata")
app.add_typer(datasets.right_app, name="right")
app.add_typer(licences.grant_app, name="grant")
app.command("revoke")(licences.revoke)
app.add_typer(licences.receipt_app, name="receipt")
app.add_typer(disputes.app, name="dispute")
app.add_typer(api.app, name="api")
app.add_typer(checkpoints.app, name="checkpoint")
api.app.command("login")(session.login)
api.app.command("logout")(session.logout)
api.app.command("whoami")(session.whoami)
datasets.dataset_app.command("list")(lists.dataset_list)
licences.grant_app.command("list")(lists.grant_list)
licences.receipt_app.command("list")(lists.receipt_list)
disputes.app.command("list")(lists.dispute_list)
app.command("watch")(watch.watch)
app.add_typer(audit.app, name="audit")
app.add_typer(connector.app, name="connector")


def main() -> None:
    """Entry point of the `idsreg` console script."""
    run_command_line(app, err_console)
