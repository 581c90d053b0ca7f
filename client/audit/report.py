"""The audit report: one self-contained HTML page a person can read, built from a verified bundle
(docs/audit.md, "The report").

The page holds the dataset's identity, its current right holders and licences, its lineage as
an inline SVG picture, the exchange timeline, every fact with its verification status and its
evidence (block, transaction, log index), and what the bundle could not prove. It loads nothing:
no script, no style sheet, no font, no image from elsewhere. Every value from the bundle is
HTML-escaped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from .bundle import args_json
from .evidence import decode_header
from .facts import ORG_FIELDS, Fact, org_names
from .lineage_svg import Lineage, lineage, short, svg
from .verify import COMMITTING_EVENTS, Verified

RIGHTS = ("Holding", "Processing", "Operation")
#: Facts about the dataset that make up its exchange timeline (rights, licences, deliveries, disputes).
EXCHANGE_CONTRACTS = frozenset({"DataRegistry", "AccessRegistry", "ExchangeLedger", "DisputeCourt"})

RIGHTS_HEAD = ("Right", "Held by", "Frozen")
LICENCES_HEAD = ("Licensee", "Serial", "Permissions", "Valid", "Status")
TIMELINE_HEAD = ("Time (block)", "Block", "Event", "What it says")
FACTS_HEAD = ("#", "About", "Event", "What it says", "Verification", "Evidence")
FACTS_INTRO = (
    "Each was proved from the bundle alone: its log decoded from the transaction receipt, the "
    "receipt proved under the block header's receiptsRoot, the header hashed and chained by "
    "parentHash to the last block; and no block whose logs bloom could hold a fact was left out."
)

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #111; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; } code { font-size: .85em; word-break: break-all; }
.proved { color: #166534; } .open { color: #b45309; } dl { display: grid; grid-template-columns: 14rem 1fr; }
dt { font-weight: 600; } dd { margin: 0 0 .3rem 0; }
"""


@dataclass(frozen=True)
class Unproven:
    """Something the bundle could not prove, and why."""

    what: str
    why: str


def _time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _code(value: object) -> str:
    return f"<code>{escape(str(value))}</code>"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], css: str) -> str:
    """A table of already-escaped cells."""
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


class Page:
    """The facts of one verified bundle, read for the page."""

    def __init__(self, verified: Verified) -> None:
        self.verified = verified
        self.bundle = verified.bundle
        self.root = "0x" + self.bundle.dataset.hex()
        self.names = org_names(verified.facts)
        self.times = {
            f.block: decode_header(self.bundle.headers[f.block - self.bundle.first_block]).timestamp
            for f in verified.facts
        }
        self.undisclosed = {fact.place: commitment for fact, commitment in verified.undisclosed}
        self.mine = [f for f in verified.facts if f.about == "dataset"]

    def org(self, number: int) -> str:
        if number == 0:
            return "nobody"
        name = self.names.get(number)
        return f"{name} (member {number})" if name else f"member {number} (admission not in the bundle)"

    def describe(self, fact: Fact) -> str:
        """The fact's arguments as escaped HTML, organisations by name."""
        parts = []
        for key, value in args_json(fact.args).items():
            if key in ORG_FIELDS and isinstance(value, int):
                shown = escape(self.org(value))
            elif isinstance(value, list):
                shown = ", ".join(_code(v) for v in value) or "none"
            elif isinstance(value, str) and value.startswith("0x"):
                shown = _code(value)
            else:
                shown = escape(str(value))
            parts.append(f"{escape(key)}: {shown}")
        return "; ".join(parts)

    def evidence(self, fact: Fact) -> str:
        return f"block {fact.block}, transaction {fact.tx}, log {fact.index}"

    def summary(self) -> str:
        """The line under the title."""
        v = self.verified
        return (
            f"Built from an audit bundle that verified: {len(v.facts)} facts, "
            f"{v.blocks_checked} headers and {v.receipts_checked} receipts checked."
        )

    def status(self, fact: Fact) -> str:
        proved = (
            f'<span class="proved">proved</span>: receipt {fact.tx} under block {fact.block}\'s receiptsRoot, '
            "the header chained to the last block"
        )
        if fact.event in COMMITTING_EVENTS:
            if fact.place in self.undisclosed:
                return proved + '; <span class="open">terms not disclosed</span>'
            return proved + "; terms disclosed and opened"
        return proved

    # ----- sections -----

    def identity_rows(self) -> list[tuple[str, str]]:
        """(label, escaped HTML value) of the dataset's identity and the bundle's coverage."""
        registrations = [f for f in self.mine if f.event == "DatasetRegistered"]
        rows = [("Dataset (content root)", _code(self.root))]
        if registrations:
            args = args_json(registrations[-1].args)
            rows += [
                ("Registrant", escape(self.org(int(args["registrant"])))),
                ("Registered at", escape(_time(int(args["registeredAt"])))),
                ("Grade", escape(str(args["grade"]))),
                ("Metadata hash", _code(args["metadataHash"])),
                ("Parents", ", ".join(_code(p) for p in args["parents"]) or "none"),
            ]
        uris = [str(f.args["metadataURI"]) for f in self.mine if f.event == "MetadataPublished"]
        if uris:
            rows.append(("Metadata URI", _code(uris[-1])))
        superseded = [f for f in self.mine if f.event == "RegistrationSuperseded"]
        if superseded:
            rows.append(("Registration superseded", f"{len(superseded)} time(s); see the timeline"))
        b = self.bundle
        rows += [
            ("Chain", escape(str(b.chain_id))),
            ("Blocks covered", escape(f"{b.first_block}..{b.last_block} ({len(b.headers)} headers)")),
            ("Last block hash", _code("0x" + self.verified.head.hash.hex())),
            ("Last block authenticated by", escape(self.verified.authenticated_by or "nothing (see below)")),
            ("Lineage depth", escape(str(b.depth))),
            ("Bundle SHA-256", _code(hashlib.sha256(b.to_bytes()).hexdigest())),
        ]
        return rows

    def identity(self) -> str:
        items = "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in self.identity_rows())
        return f'<section id="identity"><h2>Identity</h2><dl>{items}</dl></section>'

    def holdings(self) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
        """The rows (escaped HTML cells) of the current right holders and of the licences."""
        holder: dict[str, int] = {}
        frozen: dict[str, str] = {}
        for fact in self.mine:
            args = args_json(fact.args)
            right = str(args.get("right", "")).capitalize()
            if fact.event == "DatasetRegistered":
                holder, frozen = dict.fromkeys(RIGHTS, int(args["registrant"])), {}
            elif fact.event in ("RightTransferred", "RightAwarded"):
                holder[right] = int(args["to"])
            elif fact.event == "RightFrozen":
                frozen[right] = f"frozen until {_time(int(args['until']))} (dispute {args['disputeId']})"
            elif fact.event == "RightUnfrozen":
                frozen.pop(right, None)
        rights: list[tuple[str, ...]] = [
            (escape(r), escape(self.org(holder[r])), escape(frozen.get(r, "no"))) for r in RIGHTS if r in holder
        ]
        licences: dict[tuple[int, int], dict[str, Any]] = {}
        for fact in self.mine:
            args = args_json(fact.args)
            if fact.event == "GrantIssued":
                for (grantee, _), earlier in licences.items():
                    if grantee == int(args["grantee"]) and earlier["status"] in ("issued", "approved"):
                        earlier["status"] = f"replaced by serial {args['serial']}"
                licences[(int(args["grantee"]), int(args["serial"]))] = dict(args, status="issued")
            elif fact.event in ("GrantApproved", "GrantRejected", "GrantRevoked"):
                decided = licences.get((int(args["grantee"]), int(args["serial"])))
                if decided is not None:
                    decided["status"] = fact.event.removeprefix("Grant").lower()
        granted: list[tuple[str, ...]] = [
            (
                escape(self.org(grantee)),
                escape(str(serial)),
                escape(str(entry["permissions"])),
                escape(f"{_time(int(entry['validFrom']))} to {_time(int(entry['validUntil']))}"),
                escape(entry["status"]),
            )
            for (grantee, serial), entry in licences.items()
        ]
        return rights, granted

    def holders(self) -> str:
        held, granted = self.holdings()
        rights = _table(RIGHTS_HEAD, held, "holders")
        table = _table(LICENCES_HEAD, granted, "licences")
        return (
            f'<section id="holders"><h2>Current holders</h2><p>As of block {self.bundle.last_block}.</p>{rights}'
            f"<h3>Licences</h3>{table if granted else '<p>None.</p>'}</section>"
        )

    def lineage(self) -> Lineage:
        return lineage(self.root, [f for f in self.verified.facts if f.about in ("dataset", "lineage")])

    def lineage_caption(self) -> str:
        return (
            f"Parents above, children below, to depth {self.bundle.depth}; a dashed arrow is a parent "
            "named by a registration later superseded."
        )

    def picture(self) -> str:
        return (
            f'<section id="lineage"><h2>Lineage</h2><p>{escape(self.lineage_caption())}</p>'
            f"{svg(self.lineage(), self.names)}</section>"
        )

    def timeline_rows(self) -> list[tuple[str, ...]]:
        return [
            (
                escape(_time(self.times[f.block])),
                escape(str(f.block)),
                escape(f"{f.contract}.{f.event}"),
                self.describe(f),
            )
            for f in self.verified.facts
            if f.about in ("dataset", "dispute") and f.contract in EXCHANGE_CONTRACTS
        ]

    def timeline(self) -> str:
        table = _table(TIMELINE_HEAD, self.timeline_rows(), "timeline")
        return f'<section id="timeline"><h2>Exchange timeline</h2>{table}</section>'

    def fact_rows(self) -> list[tuple[str, ...]]:
        return [
            (
                escape(str(n)),
                escape(f.about),
                escape(f"{f.contract}.{f.event}"),
                self.describe(f),
                self.status(f),
                escape(self.evidence(f)),
            )
            for n, f in enumerate(self.verified.facts)
        ]

    def facts(self) -> str:
        table = _table(FACTS_HEAD, self.fact_rows(), "facts")
        return (
            f'<section id="facts"><h2>Every fact ({len(self.verified.facts)})</h2>'
            f"<p>{escape(FACTS_INTRO)}</p>{table}</section>"
        )

    def unproven(self) -> list[Unproven]:
        found = [
            Unproven(
                f"the terms of {fact} (commitment {commitment})",
                "the bundle carries no opening of this terms commitment: its terms were not disclosed",
            )
            for fact, commitment in self.verified.undisclosed
        ]
        if self.verified.authenticated_by is None:
            found.append(
                Unproven(
                    f"the hash of the last block, {self.bundle.last_block}",
                    "neither a cosigned checkpoint nor a node vouched for it: the whole chain of headers "
                    "may be another chain's",
                )
            )
        found.append(
            Unproven(
                f"anything after block {self.bundle.last_block}",
                "the bundle ends there; later facts (transfers, revocations, disputes) are not covered",
            )
        )
        found.append(
            Unproven(
                f"lineage beyond {self.bundle.depth} generation(s)",
                "the bundle was exported to this depth; further ancestors and descendants were not collected",
            )
        )
        if any(f.event == "MetadataPublished" for f in self.mine):
            found.append(
                Unproven(
                    "the metadata document behind the URI",
                    "the chain holds its hash and URI, not the document; fetch it and compare the hash",
                )
            )
        return found

    def could_not_prove(self) -> str:
        items = "".join(f"<li><strong>{escape(u.what)}</strong>: {escape(u.why)}</li>" for u in self.unproven())
        return f'<section id="unproven"><h2>What the bundle could not prove</h2><ul>{items}</ul></section>'


def render(verified: Verified) -> str:
    """The report's HTML page (UTF-8 text) for a verified bundle."""
    page = Page(verified)
    short_root = escape(short(page.root))
    sections = (page.identity, page.holders, page.picture, page.timeline, page.facts, page.could_not_prove)
    body = "\n".join(section() for section in sections)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>Audit report: dataset {short_root}</title>'
        f"<style>{STYLE}</style></head><body>\n"
        f"<h1>Audit report: dataset {short_root}</h1>\n"
        f"<p>{escape(page.summary())}</p>\n"
        f"{body}\n</body></html>\n"
    )
