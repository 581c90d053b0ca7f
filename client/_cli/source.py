"""Where the read commands (`dataset show`, `member list|show|proposals`) read: the registry API
when one is configured, else the chain.

An API is configured when `--api-url` or IDSREG_API_URL names one, or `idsreg api login` left
a session (its API is then the one asked, if it answers: a session outlives `idsreg api stop`,
and then the chain is read, with a note). `--source chain` reads the chain whatever is
configured; `--source api` asks the API (the local `idsreg api serve` if none is configured).
Both give the same output; the API answers from its index, so it may lag the chain by the
blocks `idsreg api status` reports. Verification commands (`verify`, `receipt verify`,
`grant check`) always ask the chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

if TYPE_CHECKING:
    from ..api_models import MemberDetailPublic, OrgRef
    from ..registry_client import RegistryClient

SourceOpt = Annotated[
    str,
    typer.Option(
        "--source",
        help="Read from the registry API or the chain (auto: the API when one is configured, "
        "by --api-url, IDSREG_API_URL or `idsreg api login`).",
    ),
]


def read_source(source: str, given_url: str | None) -> str | None:
    """The URL of the API to read from, or None to read the chain."""
    from ..errors import ConfigError
    from ..registry_client import load_session
    from ..settings import get_settings

    chosen = source.lower()
    if chosen not in ("auto", "api", "chain"):
        raise ConfigError(f"source {source!r} is not one of auto, api, chain")
    kind: Literal["auto", "api", "chain"] = chosen  # type: ignore[assignment]
    if kind == "chain":
        return None
    settings = get_settings()
    if given_url:
        return given_url.rstrip("/")
    if settings.api_base:
        return settings.api_base.rstrip("/")
    session = load_session(settings.api_session)
    if session is not None:
        if kind == "auto" and not _answers(session.url):
            # A session outlives the API it was made with (`idsreg api stop`): only an API
            # named on purpose (--api-url, IDSREG_API_URL, --source api) must answer.
            from .common import err_console

            err_console.print(
                f"note: the registry API of your `idsreg api login` session ({session.url}) does not answer; "
                "reading the chain",
                soft_wrap=True,
            )
            return None
        return session.url
    return settings.api_url if kind == "api" else None


def _answers(url: str) -> bool:
    """Whether anything answers HTTP at the API's status route (a quick look, 2 s at most)."""
    import httpx

    try:
        httpx.get(f"{url}/v1/status", timeout=2.0)
    except httpx.HTTPError:
        return False
    return True


# ----- the chain's records, as the API gives them ---------------------------------------------
# Each returns what the chain-reading command prints with --json (`jsonable` of the SDK's
# record), so that one printer serves both sources.


def _org(ref: OrgRef) -> dict[str, Any]:
    return {"orgNo": ref.org_no, "orgId": ref.org_id, "name": ref.name}


def dataset_record(api: RegistryClient, root: str) -> dict[str, Any]:
    """`client.datasets.DatasetInfo` of a dataset, as JSON, from the API."""
    from ..errors import ConfigError

    d = api.dataset(root)
    # The registration's block hash is in its event, the first of the dataset's history.
    block_hash = next(
        (
            e.block_hash
            for e in api.history(d.root)
            if e.event == "DatasetRegistered"
            and e.tx_hash == d.registered.tx_hash
            and e.args is not None
            and str(e.args.get("root", "")).lower() == d.root
        ),
        None,
    )
    if block_hash is None:
        raise ConfigError(f"dataset {d.root} has no registration event in the registry API's history")
    return {
        "root": d.root,
        "grade": d.grade,
        "registrant": _org(d.registrant),
        "registeredAt": d.registered_at,
        "holders": {right: _org(getattr(d.holders, right)) for right in ("holding", "processing", "operation")},
        "offers": {right: _org(org) for right, org in d.offers.items()},
        "metadataHash": d.metadata_hash,
        "metadataUri": d.metadata_uri,
        "parents": d.parents,
        "transaction": d.registered.tx_hash,
        "blockNumber": d.registered.block_number,
        "blockHash": block_hash,
        "children": api.children(d.root) if d.child_count > len(d.children) else d.children,
    }


def _member(m: MemberDetailPublic) -> dict[str, Any]:
    return {
        "orgId": m.org_id,
        "orgNo": m.org_no,
        "name": m.name,
        "admin": m.admin,
        "level": m.level,
        "certifiedUntil": m.certified_until,
        "status": m.status,
        "connectors": [k.address for k in m.keys if k.role == "connector"],
    }


def member_record(api: RegistryClient, org: str) -> dict[str, Any]:
    """`client.consortium.MemberInfo` of an organisation, as JSON, from the API."""
    return _member(api.member(org))


def member_listing(api: RegistryClient) -> dict[str, Any]:
    """What `member list --json` prints, from the API: members, role holders, thresholds."""
    roles = api.roles()
    return {
        "members": [_member(api.member(str(m.org_no))) for m in api.members()],
        "roles": {
            "governor": sorted(roles.governors, key=str.lower),
            "auditor": sorted(roles.auditors, key=str.lower),
            "arbiter": sorted(roles.arbiters, key=str.lower),
        },
        "thresholds": {"governor": roles.thresholds.get("governor", 0), "arbiter": roles.thresholds.get("arbiter", 0)},
    }


def proposal_records(api: RegistryClient, *, open_only: bool) -> list[dict[str, Any]]:
    """What `member proposals --json` prints (`ProposalInfo`s, oldest first), from the API."""
    threshold = api.roles().thresholds.get("governor", 0)
    found = list(api.proposals(status="open" if open_only else None))
    return [
        {
            "proposalId": p.proposal_id,
            "action": p.action,
            "status": p.status,
            "proposer": p.proposer,
            "createdAt": p.created_at,
            "approvals": p.approvals,
            "threshold": threshold,
            "args": p.args,
        }
        for p in reversed(found)
    ]
