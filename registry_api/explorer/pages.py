"""The explorer's routes: each reads through the API (`reads.Reader`) and renders a template."""

from __future__ import annotations

import json
import re
import shlex
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jwt
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from client.classify import answers_document, answers_in_document
from client.errors import ConfigError

from ..api.routes.audit import may_audit
from ..auth import redeem_link
from ..chainview import ChainView
from ..domain import Dataset
from ..errors import ApiError
from . import reads
from .reads import PageError, Reader

router = APIRouter(include_in_schema=False)
TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES)

#: The browser's session: an API bearer token, never readable by the page's scripts.
COOKIE = "idsreg_explorer"
#: Scripts, styles and data only from this service; nothing inline, no framing, forms only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Referrer-Policy": "no-referrer"}
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
#: The timeline's kinds of event, by contract and event name.
_KINDS = {
    "DataRegistry": "registration",
    "AccessRegistry": "licence",
    "ExchangeLedger": "delivery",
    "AnchorRegistry": "anchor",
    "DisputeCourt": "dispute",
}
_MOVES = ("RightTransferred", "RightAwarded")


def _seg(value: str) -> str:
    """`value` as one path segment of an API route (a slash or dots in it stay in it)."""
    return quote(value, safe="")


def _time(value: int | None) -> str:
    if not value:
        return "-"
    return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _short(value: str | None) -> str:
    if not value:
        return "-"
    return value if len(value) <= 14 else f"{value[:8]}…{value[-4:]}"


def _org(ref: dict[str, Any] | None) -> str:
    if not ref or not ref.get("orgNo"):
        return "-"
    return str(ref.get("name") or f"member {ref['orgNo']}")


templates.env.filters.update(time=_time, short=_short, org=_org)


async def _caller(request: Request, reader: Reader) -> dict[str, Any] | None:
    """Who the browser's session stands for (the API's `/v1/auth/me`), None when signed out or
    when its token is no longer good."""
    if reader.token is None:
        return None
    me: dict[str, Any] | None = await reader.maybe("/v1/auth/me")
    if me is None:
        reader.token = None
    return me


async def _render(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
    page = templates.TemplateResponse(request, name, context, status_code=code, headers=_HEADERS)
    if request.cookies.get(COOKIE) and context.get("caller") is None:
        page.delete_cookie(COOKIE, path="/")  # a stale session: forget it
    return page


async def _view(request: Request, name: str, build: Any) -> HTMLResponse:
    """Render `name` with what `build(reader)` reads; the API's refusal as an error page of
    the same 4xx status (the API's 5xx as a 503 page)."""
    async with reads.api_client(request.app) as client:
        reader = Reader(client, request.cookies.get(COOKIE))
        caller = await _caller(request, reader)
        try:
            context = await build(reader, caller)
        except PageError as exc:
            status = exc.status if 400 <= exc.status < 500 else 503
            return await _render(request, "error.html", status, caller=caller, status=status, message=exc.message)
    return await _render(request, name, caller=caller, **context)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    """Chain and index status, counts, the latest registrations, moves, deliveries and disputes."""
    engine = request.app.state.engine

    async def build(reader: Reader, caller: dict[str, Any] | None) -> dict[str, Any]:
        # Counting scans whole tables (unlike the API's bounded reads): off the event loop.
        moves = await run_in_threadpool(reads.latest_moves, engine)
        counted = await run_in_threadpool(reads.counts, engine)
        refs = {}
        for move in moves:
            for side in ("from_org", "to_org"):
                number = move[side]
                if number not in refs:
                    refs[number] = await reader.maybe(f"/v1/members/{number}") or {"orgNo": number}
        return {
            "status": await reader.get("/v1/status"),
            "counts": counted,
            "datasets": (await reader.get("/v1/datasets", limit=8))["data"],
            "moves": [move | {"from": refs[move["from_org"]], "to": refs[move["to_org"]]} for move in moves],
            "receipts": (await reader.get("/v1/receipts", limit=8))["data"] if caller else None,
            "disputes": (await reader.get("/v1/disputes", limit=8))["data"],
        }

    return await _view(request, "home.html", build)


@router.get("/search", response_class=HTMLResponse, response_model=None)
async def search(request: Request, q: str = "") -> Response:
    """A content root or org id goes to its page; an organisation to its page; else datasets by URI text."""
    text = q.strip()

    async def build(reader: Reader, caller: dict[str, Any] | None) -> dict[str, Any]:
        found: dict[str, Any] = {"q": text, "datasets": [], "member": None, "go": None}
        if not text:
            return found
        if len(text) > 200:
            raise PageError(422, f"the search text is {len(text)} characters long; at most 200 are searched")
        if _HEX32.match(text) and await reader.maybe(f"/v1/datasets/{_seg(text)}") is not None:
            found["go"] = f"/datasets/{text.lower()}"
            return found
        try:
            member = await reader.maybe(f"/v1/members/{_seg(text)}")
        except PageError as exc:  # not an organisation's identifier, id or number: search the URIs
            if exc.status != 422:
                raise
            member = None
        if member is not None:
            found["go"] = f"/orgs/{member['orgNo']}"
            return found
        found["datasets"] = (await reader.get("/v1/datasets", q=text, limit=50))["data"]
        return found

    page = await _view(request, "search.html", build)
    return page


@router.get("/datasets/{root}", response_class=HTMLResponse)
async def dataset(request: Request, root: str, depth: int = 2) -> HTMLResponse:
    """A dataset: identity, grade, holders, offers, freezes, lineage graph and timeline."""

    async def build(reader: Reader, caller: dict[str, Any] | None) -> dict[str, Any]:
        if not 1 <= depth <= 10:
            raise PageError(422, f"depth {depth} is out of range: the lineage is drawn 1 to 10 steps out")
        d = await reader.get(f"/v1/datasets/{_seg(root)}")
        key = d["root"]
        history = await reader.get(f"/v1/datasets/{key}/history", limit=500)
        lineage = await reader.get(f"/v1/datasets/{key}/lineage", depth=depth, direction="both")
        grants = (await reader.get("/v1/grants", dataset=key, limit=100))["data"] if caller else None
        receipts = (await reader.get("/v1/receipts", dataset=key, limit=100))["data"] if caller else None
        disputes = (await reader.get("/v1/disputes", dataset=key, limit=50))["data"]
        return {
            "d": d,
            "depth": depth,
            "timeline": [_entry(e) for e in history["data"]],
            "members": await _members(reader, history["data"]),
            "org_args": ORG_ARGS,
            "more_history": history["nextCursor"] is not None,
            "lineage": lineage,
            "graph": json.dumps(_graph(lineage)),
            "grants": grants,
            "receipts": receipts,
            "disputes": disputes,
            "audit": await run_in_threadpool(_may_audit, request.app.state.engine, caller, key),
        }

    return await _view(request, "dataset.html", build)


def _entry(event: dict[str, Any]) -> dict[str, Any]:
    """A history entry with its kind on the timeline."""
    name = event["event"]
    if "Offer" in name or name in _MOVES:
        kind = "transfer"
    elif name in ("RightFrozen", "RightUnfrozen"):
        kind = "dispute"
    else:
        kind = _KINDS.get(event["contract"], "other")
    return event | {"kind": kind}


#: Event arguments that hold a member number.
ORG_ARGS = frozenset(
    {"registrant", "grantee", "grantor", "provider", "consumer", "from", "to", "claimant", "respondent", "holder"}
)


async def _members(reader: Reader, events: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The organisations the events' arguments name by member number, by number."""
    numbers = {
        int(value)
        for e in events
        for name, value in (e["args"] or {}).items()
        if name in ORG_ARGS and isinstance(value, int) and value > 0
    }
    found = {n: await reader.maybe(f"/v1/members/{n}") for n in sorted(numbers)}
    return {n: m for n, m in found.items() if m is not None}


def _graph(lineage: dict[str, Any]) -> dict[str, Any]:
    """The lineage as graph-library elements: nodes by content root, edges parent → child."""
    nodes = [
        {
            "data": {
                "id": n["root"],
                "label": _short(n["root"]),
                "grade": n["grade"],
                "distance": n["distance"],
                "registrant": _org(n["registrant"]),
            }
        }
        for n in lineage["nodes"]
    ]
    edges = [
        {"data": {"id": f"{e['parent']}-{e['child']}", "source": e["parent"], "target": e["child"]}}
        for e in lineage["edges"]
    ]
    return {"root": lineage["root"], "depth": lineage["depth"], "nodes": nodes, "edges": edges}


def _may_audit(engine: Any, caller: dict[str, Any] | None, root: str) -> bool:
    """Whether to offer the audit report and bundle: by the API's own rule (auditors and
    governors; a member party to the dataset and to each of its grants and receipts), so that
    the links are shown exactly to those they answer."""
    if caller is None:
        return False
    org = (caller.get("org") or {}).get("orgNo")
    with Session(engine) as session:
        dataset = session.get(Dataset, root)
        sees_everything = bool({"auditor", "governor"} & set(caller["roles"]))
        return dataset is not None and may_audit(session, sees_everything, org, dataset)


@router.get("/orgs/{org}", response_class=HTMLResponse)
async def organisation(request: Request, org: str) -> HTMLResponse:
    """An organisation: membership, keys, datasets, licences, deliveries (need-to-know)."""

    async def build(reader: Reader, caller: dict[str, Any] | None) -> dict[str, Any]:
        m = await reader.get(f"/v1/members/{_seg(org)}")
        number = m["orgNo"]
        licences: dict[str, Any] | None = None
        deliveries: dict[str, Any] | None = None
        if caller:
            licences = {
                "given": (await reader.get("/v1/grants", grantor=number, limit=100))["data"],
                "received": (await reader.get("/v1/grants", grantee=number, limit=100))["data"],
            }
            deliveries = {
                "provided": (await reader.get("/v1/receipts", provider=number, limit=100))["data"],
                "consumed": (await reader.get("/v1/receipts", consumer=number, limit=100))["data"],
            }
        partners = sorted(
            {
                (p["orgNo"], _org(p))
                for group in (licences or {}).values()
                for g in group
                for p in (g["grantor"], g["grantee"])
                if p["orgNo"] != number
            }
            | {
                (p["orgNo"], _org(p))
                for group in (deliveries or {}).values()
                for r in group
                for p in (r["provider"], r["consumer"])
                if p["orgNo"] != number
            }
        )
        return {
            "m": m,
            "registered": await reader.get("/v1/datasets", registrant=number, limit=100),
            "held": await reader.get("/v1/datasets", holder=number, limit=100),
            "anchors": (await reader.get("/v1/anchors", org=number, limit=50))["data"],
            "licences": licences,
            "deliveries": deliveries,
            "partners": partners,
        }

    return await _view(request, "org.html", build)


@router.get("/exchanges", response_class=HTMLResponse)
async def exchanges(request: Request, org: str = "", other: str = "", dataset: str = "") -> HTMLResponse:
    """Licences and deliveries between two organisations or on one dataset, over time."""

    async def build(reader: Reader, caller: dict[str, Any] | None) -> dict[str, Any]:
        context: dict[str, Any] = {"org": org, "other": other, "dataset": dataset, "entries": None, "chart": "{}"}
        if not caller or not (dataset or (org and other)):
            return context
        grants: list[dict[str, Any]] = []
        receipts: list[dict[str, Any]] = []
        if dataset:
            grants = (await reader.get("/v1/grants", dataset=dataset, limit=500))["data"]
            receipts = (await reader.get("/v1/receipts", dataset=dataset, limit=500))["data"]
        if org and other:
            a, b = await reader.get(f"/v1/members/{_seg(org)}"), await reader.get(f"/v1/members/{_seg(other)}")
            context["pair"] = (a, b)
            pairs = ((a["orgNo"], b["orgNo"]), (b["orgNo"], a["orgNo"]))
            both: dict[str, Any] = {"dataset": dataset or None, "limit": 500}
            found_grants = [(await reader.get("/v1/grants", grantor=x, grantee=y, **both))["data"] for x, y in pairs]
            found_receipts = [
                (await reader.get("/v1/receipts", provider=x, consumer=y, **both))["data"] for x, y in pairs
            ]
            grants = [g for group in found_grants for g in group]
            receipts = [r for group in found_receipts for r in group]
        entries = [{"time": g["issuedAt"], "kind": "licence", "item": g, "ref": g["issued"]} for g in grants] + [
            {"time": r["recordedAt"], "kind": "delivery", "item": r, "ref": r["recorded"]} for r in receipts
        ]
        entries.sort(key=lambda e: (e["ref"]["blockNumber"], e["kind"]))
        context["entries"] = entries
        context["chart"] = json.dumps(_volumes(entries))
        return context

    return await _view(request, "exchanges.html", build)


def _volumes(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Licences and deliveries per day (UTC), for the chart: the chain records no sizes or
    prices (confidential terms), so a volume is a number of exchanges."""
    days = sorted({_day(e["time"]) for e in entries})
    counted = Counter((_day(e["time"]), e["kind"]) for e in entries)
    return {
        "labels": days,
        "licences": [counted[(day, "licence")] for day in days],
        "deliveries": [counted[(day, "delivery")] for day in days],
    }


def _day(value: int) -> str:
    return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%d")


@router.get("/tx/{tx_hash}", response_class=HTMLResponse)
async def transaction(request: Request, tx_hash: str) -> HTMLResponse:
    """A transaction as the chain node has it (public: anyone with the node sees it)."""
    chain: ChainView = request.app.state.chain

    async def build(reader: Reader, caller: dict[str, Any] | None) -> dict[str, Any]:
        if not _HEX32.match(tx_hash):
            raise PageError(422, f"tx {tx_hash!r} is not a transaction hash (0x and 64 hex digits)")
        tx = await _from_node(chain.transaction, tx_hash)
        if tx is None:
            raise PageError(404, f"the chain node knows no transaction {tx_hash.lower()}")
        return {"tx": tx, "contract": _contract_name(chain, tx["to"])}

    return await _view(request, "tx.html", build)


@router.get("/blocks/{number}", response_class=HTMLResponse)
async def block(request: Request, number: str) -> HTMLResponse:
    """A block as the chain node has it: hash, parent, time, transactions."""
    chain: ChainView = request.app.state.chain

    async def build(reader: Reader, caller: dict[str, Any] | None) -> dict[str, Any]:
        if not number.isdigit() or len(number) > 18:
            raise PageError(422, f"block {number!r} is not a block number (1 to 18 digits)")
        found = await _from_node(chain.block, int(number))
        if found is None:
            raise PageError(404, f"block {int(number)} is beyond the chain node's head")
        return {"block": found}

    return await _view(request, "block.html", build)


async def _from_node(read: Any, *args: Any) -> Any:
    """`read(*args)` in the thread pool (it waits for the node); the node down as a 503 page."""
    try:
        return await run_in_threadpool(read, *args)
    except ApiError as exc:
        raise PageError(exc.status, str(exc)) from None


def _contract_name(chain: ChainView, address: str) -> str | None:
    manifest = chain.manifest()
    if manifest is None:
        return None
    return next((name for name, c in manifest.contracts.items() if c.address.lower() == address.lower()), None)


#: The most text the registration helper takes as an answers file or metadata document.
_ANSWERS_TEXT_LIMIT = 20_000


async def _classification(reader: Reader, request: Request) -> dict[str, Any]:
    """The questionnaire and, when the form was sent, the answers it holds (a pasted answers
    file or metadata document first, the form's choices winning) with the API's suggestion.
    A bad answer or bad JSON is a 422 page naming it."""
    questions: list[dict[str, Any]] = await reader.get("/v1/classify/questions")
    form = request.query_params
    text = form.get("document", "").strip()
    chosen: dict[str, str] = {}
    if text:
        chosen = _document_answers(text, questions)
    for q in questions:
        value = form.get(q["id"], "").strip()
        if value:
            if value not in q["answers"]:
                raise PageError(422, f"answer {value!r} to {q['id']} is not one of {', '.join(q['answers'])}")
            chosen[q["id"]] = value
    context: dict[str, Any] = {
        "questions": questions,
        "chosen": chosen,
        "document": text,
        "file": form.get("file", "").strip(),
        "file_arg": shlex.quote(form.get("file", "").strip()) if form.get("file", "").strip() else "FILE",
        "sent": "sent" in form,
        "suggestion": None,
    }
    if not context["sent"]:
        return context
    answers = {qid: _as_json(value) for qid, value in chosen.items()}
    context["suggestion"] = await reader.post("/v1/classify", {"answers": answers})
    context["answers_json"] = json.dumps(answers_document(answers), indent=2, ensure_ascii=False)
    context["download"] = "/register/answers.json?" + urlencode({"sent": "1", **chosen})
    return context


def _document_answers(text: str, questions: list[dict[str, Any]]) -> dict[str, str]:
    """The answers (as the questionnaire's words) of a pasted answers file or metadata document."""
    if len(text) > _ANSWERS_TEXT_LIMIT:
        raise PageError(422, f"the pasted document is {len(text)} characters long; at most {_ANSWERS_TEXT_LIMIT}")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PageError(422, f"the pasted document is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PageError(422, "the pasted document is not a JSON object")
    try:
        found = answers_in_document(document, "the pasted document")
    except ConfigError as exc:
        raise PageError(422, str(exc)) from None
    known = {q["id"]: q for q in questions}
    words: dict[str, str] = {}
    for qid, value in found.items():
        if qid not in known:
            raise PageError(422, f"the pasted document answers {qid!r}, which is no question of the questionnaire")
        word = ("yes" if value else "no") if isinstance(value, bool) else str(value).strip()
        if word not in known[qid]["answers"]:
            raise PageError(422, f"answer {value!r} to {qid} is not one of {', '.join(known[qid]['answers'])}")
        words[qid] = word
    return words


def _as_json(word: str) -> str | bool:
    """An answer word as the API takes it: yes/no questions as JSON booleans."""
    return word == "yes" if word in ("yes", "no") else word


@router.get("/register", response_class=HTMLResponse)
async def register_helper(request: Request) -> HTMLResponse:
    """The registration helper: the classification questionnaire, the suggested grade with the
    deciding rule, and the `idsreg register` command line with the answers file to go with it."""

    async def build(reader: Reader, caller: dict[str, Any] | None) -> dict[str, Any]:
        return await _classification(reader, request)

    return await _view(request, "register.html", build)


@router.get("/register/answers.json", response_model=None)
async def register_answers(request: Request) -> Response:
    """The helper's answers as an answers file (`idsreg register --answers`), to save."""
    async with reads.api_client(request.app) as client:
        reader = Reader(client, None)
        try:
            context = await _classification(reader, request)
        except PageError as exc:
            status = exc.status if 400 <= exc.status < 500 else 503
            return await _render(request, "error.html", status, caller=None, status=status, message=exc.message)
    body = json.dumps(answers_document({k: _as_json(v) for k, v in context["chosen"].items()}), indent=2)
    return Response(
        body + "\n",
        media_type="application/json",
        headers=_HEADERS | {"Content-Disposition": 'attachment; filename="answers.json"'},
    )


@router.get("/signin", response_class=HTMLResponse)
def sign_in(request: Request, code: str = "") -> HTMLResponse:
    """Trade a one-time sign-in code (from `idsreg api login --link`) for a session cookie."""
    if not code:
        return templates.TemplateResponse(request, "signin.html", {"caller": None, "error": None}, headers=_HEADERS)
    try:
        with Session(request.app.state.engine) as session:
            token = redeem_link(session, code)
    except ApiError as exc:
        return templates.TemplateResponse(
            request, "signin.html", {"caller": None, "error": str(exc)}, status_code=401, headers=_HEADERS
        )
    page = templates.TemplateResponse(
        request, "signin.html", {"caller": None, "error": None, "signed_in": True}, headers=_HEADERS
    )
    expires = _token_expiry(token)
    page.set_cookie(
        COOKIE, token, max_age=max(expires - int(time.time()), 0), path="/", httponly=True, samesite="strict"
    )
    return page


def _token_expiry(token: str) -> int:
    return int(jwt.decode(token, options={"verify_signature": False})["exp"])


@router.post("/signout")
async def sign_out() -> RedirectResponse:
    """Forget the browser's session."""
    page = RedirectResponse("/", status_code=303)
    page.delete_cookie(COOKIE, path="/")
    return page
