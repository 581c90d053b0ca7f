"""Transfer processes: the DSP 2025-1 state machine and the SQLite file that keeps them.

The state machine, exactly as the specification draws it (C: sent by the consumer, P: by the
provider); a message in any other state, or from the other side, is an invalid transition
(HTTP 400, `TransferError`):

| message                    | by  | from                          | to         |
|----------------------------|-----|-------------------------------|------------|
| TransferRequestMessage     | C   | (new)                         | REQUESTED  |
| TransferStartMessage       | P   | REQUESTED, SUSPENDED          | STARTED    |
| TransferStartMessage       | C   | SUSPENDED                     | STARTED    |
| TransferSuspensionMessage  | C/P | STARTED                       | SUSPENDED  |
| TransferCompletionMessage  | C/P | STARTED                       | COMPLETED  |
| TransferTerminationMessage | C/P | REQUESTED, STARTED, SUSPENDED | TERMINATED |

Both connectors keep the same rows: a provider the transfers consumers asked it for, a
consumer those it asked for. Every change is committed before it is acknowledged, so a
restart loses nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from .negotiation import Role
from .work import SqliteFile

CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]
#: The one transfer format this connector offers: the consumer pulls over HTTP(S).
FORMAT = "HttpData-PULL"
#: The endpoint type of the data address (DSP's HTTP data address).
ENDPOINT_TYPE = "https://w3id.org/idsa/v4.1/HTTP"


class TransferState(StrEnum):
    REQUESTED = "REQUESTED"
    STARTED = "STARTED"
    SUSPENDED = "SUSPENDED"
    COMPLETED = "COMPLETED"
    TERMINATED = "TERMINATED"


FINAL = frozenset({TransferState.COMPLETED, TransferState.TERMINATED})
_LIVE = frozenset(set(TransferState) - FINAL)

#: message → ({sender: states it may arrive in (None: it opens a transfer)}, resulting state)
TRANSITIONS: dict[str, tuple[dict[Role, frozenset[TransferState | None]], TransferState]] = {
    "request": ({Role.CONSUMER: frozenset({None})}, TransferState.REQUESTED),
    "start": (
        {
            Role.PROVIDER: frozenset({TransferState.REQUESTED, TransferState.SUSPENDED}),
            Role.CONSUMER: frozenset({TransferState.SUSPENDED}),
        },
        TransferState.STARTED,
    ),
    "suspension": (
        {Role.PROVIDER: frozenset({TransferState.STARTED}), Role.CONSUMER: frozenset({TransferState.STARTED})},
        TransferState.SUSPENDED,
    ),
    "completion": (
        {Role.PROVIDER: frozenset({TransferState.STARTED}), Role.CONSUMER: frozenset({TransferState.STARTED})},
        TransferState.COMPLETED,
    ),
    "termination": ({Role.PROVIDER: _LIVE, Role.CONSUMER: _LIVE}, TransferState.TERMINATED),
}
#: The message types of the table above.
MESSAGE_TYPES = {
    "request": "TransferRequestMessage",
    "start": "TransferStartMessage",
    "suspension": "TransferSuspensionMessage",
    "completion": "TransferCompletionMessage",
    "termination": "TransferTerminationMessage",
}


class TransferError(Exception):
    """A message the transfer cannot take: `status` 400 (invalid transition or message) or 404.

    Not an IdsRegistryError on purpose: the HTTP layer answers it with a `TransferError` body,
    while the SDK's callers see `TransferFailed`."""

    def __init__(self, status: int, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code or str(status)


def next_transfer_state(message: str, sender: Role, current: TransferState | None) -> TransferState:
    """The state `message` from `sender` leads to from `current`; TransferError (400) otherwise."""
    senders, result = TRANSITIONS[message]
    allowed = senders.get(sender)
    shown = "a new transfer process" if current is None else current.value
    if allowed is None:
        raise TransferError(400, f"a {MESSAGE_TYPES[message]} is not the {sender}'s to send", "invalid-sender")
    if current not in allowed:
        expected = ", ".join(sorted("(new)" if s is None else s.value for s in allowed))
        raise TransferError(
            400,
            f"a {MESSAGE_TYPES[message]} from the {sender} cannot arrive in state {shown} (only in {expected})",
            "invalid-transition",
        )
    return result


@dataclass(frozen=True)
class DataAddress:
    """Where and how the consumer pulls the bytes (the start message's `dataAddress`)."""

    endpoint: str
    token: str

    def to_message(self) -> dict[str, Any]:
        return {
            "@type": "DataAddress",
            "endpointType": ENDPOINT_TYPE,
            "endpoint": self.endpoint,
            "endpointProperties": [
                {"@type": "EndpointProperty", "name": "authorization", "value": self.token},
                {"@type": "EndpointProperty", "name": "authType", "value": "bearer"},
            ],
        }

    @classmethod
    def from_message(cls, value: Any) -> DataAddress:
        """The address of a start message; TransferError (400) naming what is missing."""
        if not isinstance(value, dict):
            raise TransferError(400, "the start message carries no dataAddress", "bad-message")
        if value.get("endpointType") != ENDPOINT_TYPE:
            raise TransferError(
                400, f"the data address's endpointType {value.get('endpointType')!r} is not {ENDPOINT_TYPE}"
            )
        endpoint = value.get("endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise TransferError(400, f"the data address's endpoint {endpoint!r} is not an http(s) URL", "bad-message")
        properties = {
            p.get("name"): p.get("value") for p in value.get("endpointProperties") or [] if isinstance(p, dict)
        }
        token = properties.get("authorization")
        if properties.get("authType", "bearer") != "bearer" or not isinstance(token, str) or not token:
            raise TransferError(400, "the data address carries no bearer authorization token", "bad-message")
        return cls(endpoint, token)


@dataclass(frozen=True)
class Transfer:
    """One transfer process as one side keeps it."""

    role: Role
    provider_pid: str
    consumer_pid: str
    state: TransferState
    #: The other side's organisation (0x org id) and its callback (provider) or base (consumer) URL.
    counterparty: str
    peer_url: str
    agreement_id: str
    dataset: str  # 0x root
    #: The provider's pid of the negotiation whose agreement this is (provider side), or the
    #: consumer's (consumer side).
    negotiation: str
    #: The connector key that asked for the transfer: the data plane serves only that key.
    consumer_key: str = ""
    #: Provider: the id of the transfer token in force ("" before a start). Consumer: unused.
    token_id: str = ""
    #: Consumer: the data address of the latest start message.
    data_address: dict[str, Any] | None = None
    reason: str = ""
    history: list[str] = field(default_factory=list)
    created_at: int = 0
    updated_at: int = 0

    @property
    def own_pid(self) -> str:
        return self.provider_pid if self.role == Role.PROVIDER else self.consumer_pid

    def ack(self) -> dict[str, Any]:
        """The TransferProcess resource (the ACK of every message)."""
        return {
            "@context": CONTEXT,
            "@type": "TransferProcess",
            "providerPid": self.provider_pid,
            "consumerPid": self.consumer_pid,
            "state": self.state.value,
        }

    def address(self) -> DataAddress | None:
        return None if self.data_address is None else DataAddress.from_message(self.data_address)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS transfers (
    role TEXT NOT NULL, pid TEXT NOT NULL, state TEXT NOT NULL, agreement_id TEXT NOT NULL,
    record TEXT NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (role, pid)
);
CREATE INDEX IF NOT EXISTS transfers_state ON transfers (role, state);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


class TransferStore(SqliteFile):
    """Transfer processes in one SQLite file, safe to share between the server's threads
    (`SqliteFile`). The file also keeps the provider's token secret, so transfer tokens outlive
    a restart."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def secret(self, name: str, make: bytes) -> bytes:
        """The secret `name`, stored as `make` the first time it is asked for."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, make))
            row = self._db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        return bytes(row[0])

    def insert(self, transfer: Transfer) -> Transfer:
        now = int(time.time())
        row = replace(transfer, created_at=now, updated_at=now, history=[transfer.state.value])
        with self._lock:
            self._db.execute(
                "INSERT INTO transfers (role, pid, state, agreement_id, record, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (row.role.value, row.own_pid, row.state.value, row.agreement_id, _dump(row), now),
            )
        return row

    def update(self, transfer: Transfer, **changes: Any) -> Transfer:
        row = replace(transfer, **changes, updated_at=int(time.time()))
        if row.state != transfer.state:
            row = replace(row, history=[*transfer.history, row.state.value])
        with self._lock:
            self._db.execute(
                "UPDATE transfers SET state = ?, record = ?, updated_at = ? WHERE role = ? AND pid = ?",
                (row.state.value, _dump(row), row.updated_at, row.role.value, transfer.own_pid),
            )
        return row

    def by_pid(self, role: Role, pid: str) -> Transfer | None:
        """The transfer this side knows by its own pid (provider: providerPid; consumer: consumerPid)."""
        with self._lock:
            found = self._db.execute(
                "SELECT record FROM transfers WHERE role = ? AND pid = ?", (role.value, pid)
            ).fetchone()
        return _load(found[0]) if found else None

    def in_state(self, role: Role, *states: TransferState) -> list[Transfer]:
        marks = ", ".join("?" * len(states))
        with self._lock:
            rows = self._db.execute(
                f"SELECT record FROM transfers WHERE role = ? AND state IN ({marks}) ORDER BY rowid",
                (role.value, *(s.value for s in states)),
            ).fetchall()
        return [_load(r[0]) for r in rows]


def _dump(t: Transfer) -> str:
    return json.dumps({**asdict(t), "role": t.role.value, "state": t.state.value})


def _load(text: str) -> Transfer:
    record = json.loads(text)
    return Transfer(**{**record, "role": Role(record["role"]), "state": TransferState(record["state"])})
