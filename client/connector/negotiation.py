"""Contract negotiations: the DSP 2025-1 state machine and the SQLite file that keeps them.

The state machine, exactly as the specification draws it (C: sent by the consumer, P: by the
provider); a message in any other state is an invalid transition (HTTP 400):

| message                                   | by | from                    | to         |
|-------------------------------------------|----|-------------------------|------------|
| ContractRequestMessage                    | C  | (new), OFFERED          | REQUESTED  |
| ContractOfferMessage                      | P  | (new), REQUESTED        | OFFERED    |
| ContractNegotiationEventMessage ACCEPTED  | C  | OFFERED                 | ACCEPTED   |
| ContractAgreementMessage                  | P  | REQUESTED, ACCEPTED     | AGREED     |
| ContractAgreementVerificationMessage      | C  | AGREED                  | VERIFIED   |
| ContractNegotiationEventMessage FINALIZED | P  | VERIFIED                | FINALIZED  |
| ContractNegotiationTerminationMessage     | C/P| any but FINALIZED, TERMINATED | TERMINATED |

Both connectors keep the same rows: a provider keeps the negotiations consumers opened with it,
a consumer those it opened. Every change is committed before it is acknowledged, so a restart
loses nothing.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..errors import IdsRegistryError
from .work import SqliteFile


class State(StrEnum):
    REQUESTED = "REQUESTED"
    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    AGREED = "AGREED"
    VERIFIED = "VERIFIED"
    FINALIZED = "FINALIZED"
    TERMINATED = "TERMINATED"


FINAL = frozenset({State.FINALIZED, State.TERMINATED})


class Role(StrEnum):
    PROVIDER = "provider"
    CONSUMER = "consumer"


#: message name → (who sends it, states it may arrive in (None: it opens a negotiation), resulting state)
TRANSITIONS: dict[str, tuple[Role, frozenset[State | None], State]] = {
    "request": (Role.CONSUMER, frozenset({None, State.OFFERED}), State.REQUESTED),
    "offer": (Role.PROVIDER, frozenset({None, State.REQUESTED}), State.OFFERED),
    "accepted": (Role.CONSUMER, frozenset({State.OFFERED}), State.ACCEPTED),
    "agreement": (Role.PROVIDER, frozenset({State.REQUESTED, State.ACCEPTED}), State.AGREED),
    "verification": (Role.CONSUMER, frozenset({State.AGREED}), State.VERIFIED),
    "finalized": (Role.PROVIDER, frozenset({State.VERIFIED}), State.FINALIZED),
    "termination": (Role.CONSUMER, frozenset(set(State) - FINAL), State.TERMINATED),
}
#: Termination may come from either side.
EITHER_SIDE = frozenset({"termination"})


class NegotiationError(IdsRegistryError):
    """A message the negotiation cannot take: `status` 400 (invalid transition or message) or 404."""

    exit_code = 2

    def __init__(self, status: int, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code or str(status)


def next_state(message: str, sender: Role, current: State | None) -> State:
    """The state `message` from `sender` leads to from `current`; NegotiationError (400) otherwise."""
    role, allowed, result = TRANSITIONS[message]
    if sender != role and message not in EITHER_SIDE:
        raise NegotiationError(400, f"a {message} message is sent by the {role}, not by the {sender}", "invalid-sender")
    if current not in allowed:
        shown = "a new negotiation" if current is None else current.value
        expected = ", ".join(sorted("(new)" if s is None else s.value for s in allowed))
        raise NegotiationError(
            400, f"a {message} message cannot arrive in state {shown} (only in {expected})", "invalid-transition"
        )
    return result


@dataclass(frozen=True)
class Negotiation:
    """One contract negotiation as one side keeps it."""

    role: Role
    provider_pid: str
    consumer_pid: str
    state: State
    #: The other side's organisation (0x org id) and its callback (consumer) or base (provider) URL.
    counterparty: str
    peer_url: str
    dataset: str  # 0x root
    #: The latest offer (ODRL, with target) and who made it.
    offer: dict[str, Any]
    offer_by: Role
    agreement: dict[str, Any] | None = None
    #: What the provider recorded on chain for the agreement (grant serial, tx, terms opening…).
    grant: dict[str, Any] | None = None
    reason: str = ""
    #: How many requests (counter-offers) the consumer sent.
    requests: int = 0
    created_at: int = 0
    updated_at: int = 0

    @property
    def own_pid(self) -> str:
        return self.provider_pid if self.role == Role.PROVIDER else self.consumer_pid

    def ack(self) -> dict[str, Any]:
        """The ContractNegotiation resource (the ACK of every message)."""
        return {
            "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
            "@type": "ContractNegotiation",
            "providerPid": self.provider_pid,
            "consumerPid": self.consumer_pid,
            "state": self.state.value,
        }


def new_pid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


_COLUMNS = (
    "role",
    "provider_pid",
    "consumer_pid",
    "state",
    "counterparty",
    "peer_url",
    "dataset",
    "offer",
    "offer_by",
    "agreement",
    "grant_record",
    "reason",
    "requests",
    "created_at",
    "updated_at",
)
#: One row per negotiation and side, keyed by the pid this side chose (`pid`).
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS negotiations (
    pid TEXT NOT NULL, {" TEXT, ".join(_COLUMNS[:-3])} TEXT,
    requests INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (role, pid)
);
CREATE INDEX IF NOT EXISTS negotiations_state ON negotiations (role, state);
"""


class NegotiationStore(SqliteFile):
    """Negotiations in one SQLite file, safe to share between the server's threads (`SqliteFile`)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def insert(self, negotiation: Negotiation) -> Negotiation:
        now = int(time.time())
        row = replace(negotiation, created_at=now, updated_at=now)
        with self._lock:
            self._db.execute(
                f"INSERT INTO negotiations (pid, {', '.join(_COLUMNS)}) VALUES (?, {', '.join('?' * len(_COLUMNS))})",
                [row.own_pid, *_values(row)],
            )
        return row

    def update(self, negotiation: Negotiation, **changes: Any) -> Negotiation:
        row = replace(negotiation, **changes, updated_at=int(time.time()))
        names = [c for c in _COLUMNS if c not in ("role", "created_at")]
        values = dict(zip(_COLUMNS, _values(row), strict=True))
        with self._lock:
            self._db.execute(
                f"UPDATE negotiations SET {', '.join(f'{n} = ?' for n in names)} WHERE role = ? AND pid = ?",
                [values[n] for n in names] + [row.role.value, negotiation.own_pid],
            )
        return row

    def by_pid(self, role: Role, pid: str) -> Negotiation | None:
        """The negotiation this side knows by its own pid (provider: providerPid; consumer: consumerPid)."""
        with self._lock:
            found = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM negotiations WHERE role = ? AND pid = ?", (role.value, pid)
            ).fetchone()
        return _row(found) if found else None

    def in_state(self, role: Role, state: State) -> list[Negotiation]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM negotiations WHERE role = ? AND state = ? ORDER BY created_at",
                (role.value, state.value),
            ).fetchall()
        return [_row(r) for r in rows]


def _values(n: Negotiation) -> list[Any]:
    return [
        n.role.value,
        n.provider_pid,
        n.consumer_pid,
        n.state.value,
        n.counterparty,
        n.peer_url,
        n.dataset,
        json.dumps(n.offer),
        n.offer_by.value,
        None if n.agreement is None else json.dumps(n.agreement),
        None if n.grant is None else json.dumps(n.grant),
        n.reason,
        n.requests,
        n.created_at,
        n.updated_at,
    ]


def _row(r: tuple[Any, ...]) -> Negotiation:
    return Negotiation(
        role=Role(r[0]),
        provider_pid=r[1],
        consumer_pid=r[2],
        state=State(r[3]),
        counterparty=r[4],
        peer_url=r[5],
        dataset=r[6],
        offer=json.loads(r[7]),
        offer_by=Role(r[8]),
        agreement=None if r[9] is None else json.loads(r[9]),
        grant=None if r[10] is None else json.loads(r[10]),
        reason=r[11] or "",
        requests=int(r[12]),
        created_at=int(r[13]),
        updated_at=int(r[14]),
    )
