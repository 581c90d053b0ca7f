"""Contract handles: a web3 connection plus the deployment manifest of the chain it talks to."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from ..errors import ContractRevertError, DeploymentError, NodeUnreachableError
from ..settings import get_settings
from .abi import decode_log, event_topic
from .artifacts import DEPLOYABLE, load_artifact
from .logs import fetch_logs
from .manifest import Manifest
from .messages import is_named, remember_name, render
from .node import NODE_ERRORS, ChainConfig
from .sender import GAS_LIMIT, Sender, encode_call
from .transact import TxResult, guarded


@dataclass(frozen=True)
class OrgRef:
    """An organisation as records mention it: in JSON `{"orgNo", "orgId", "name"}` (the API's
    OrgRef), for people "ACME Steel (member 3)"."""

    org_no: int
    org_id: str | None
    name: str | None

    def __str__(self) -> str:
        return f"{self.name} (member {self.org_no})" if self.name else f"member {self.org_no}"


def default_rpc_url() -> str:
    """`IDSREG_RPC_URL`, else the local chain's address from `chain/local.toml`."""
    return get_settings().rpc_url or ChainConfig.load(get_settings().chain_config).rpc_url


def rpc_session(url: str) -> requests.Session:
    """An HTTP session for JSON-RPC requests to `url` whose proxy settings are read from the
    environment once, here: by default requests reads them again for every request, which
    cost more than a millisecond per call (a third of a registration's client time)."""
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(url))
    return session


def connect(rpc_url: str | None = None, timeout: float = 10.0) -> Web3:
    """A web3 connection to a node that answers; NodeUnreachableError otherwise."""
    url = rpc_url or default_rpc_url()
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}, session=rpc_session(url)))
    try:
        _ = w3.eth.chain_id  # a property that asks the node
    except NODE_ERRORS as exc:
        raise NodeUnreachableError(url, type(exc).__name__) from None
    return w3


#: Error arguments that hold a member number (IConsortium's orgNo).
ORG_NUMBER_FIELDS = frozenset(
    {
        "orgNo",
        "registrant",
        "holder",
        "offeredTo",
        "operator",
        "grantee",
        "grantor",
        "consumer",
        "provider",
        "claimant",
        "respondent",
        "anchoredBy",
    }
)


class Registry:
    """The deployed registry contracts on one chain."""

    def __init__(self, w3: Web3, manifest: Manifest) -> None:
        self.w3 = w3
        self.manifest = manifest
        self._contracts: dict[str, Contract] = {}
        self._senders: dict[str, Sender] = {}
        self._senders_lock = threading.Lock()
        self._members = _MemberNames(self)

    @classmethod
    def connect(cls, rpc_url: str | None = None, deployments: Path | None = None) -> Registry:
        """Connect to the node and load its chain's manifest; checks the contracts are there."""
        w3 = connect(rpc_url)
        manifest = Manifest.load(deployments or get_settings().deployments, int(w3.eth.chain_id))
        registry = cls(w3, manifest)
        stale = registry.stale_contracts()
        if stale:
            raise DeploymentError(
                f"{', '.join(stale)} on chain {manifest.chain_id} were deployed from other contract artifacts than "
                "this client's; deploy the current contracts with `idsreg deploy --force`"
            )
        missing = registry.missing_contracts()
        if missing:
            raise DeploymentError(
                f"the manifest for chain {manifest.chain_id} names {', '.join(missing)} but the chain has "
                "no code there (was the chain reset?); run `idsreg deploy --force`"
            )
        return registry

    @property
    def chain_id(self) -> int:
        return self.manifest.chain_id

    def contract(self, name: str) -> Contract:
        """The web3 handle of contract `name` at its manifest address."""
        if name not in self._contracts:
            self._contracts[name] = self.w3.eth.contract(
                address=Web3.to_checksum_address(self.manifest.address(name)), abi=load_artifact(name).abi
            )
        return self._contracts[name]

    @property
    def consortium(self) -> Contract:
        return self.contract("Consortium")

    def missing_contracts(self) -> list[str]:
        """Contracts the manifest names that have no code on this chain."""
        return [
            name
            for name, deployment in self.manifest.contracts.items()
            if len(self.w3.eth.get_code(Web3.to_checksum_address(deployment.address))) == 0
        ]

    def stale_contracts(self) -> list[str]:
        """Contracts whose manifest entry was deployed from another artifact than the committed one
        (or that this client expects but the manifest lacks)."""
        return [
            name
            for name in DEPLOYABLE
            if name not in self.manifest.contracts
            or self.manifest.contracts[name].artifact_digest != load_artifact(name).digest
        ]

    def sender(self, signer: LocalAccount) -> Sender:
        """The one `Sender` of `signer` on this chain (its nonce is counted here, once)."""
        with self._senders_lock:
            found = self._senders.get(signer.address)
            if found is None:
                found = self._senders[signer.address] = Sender(self.w3, signer, self.chain_id)
            return found

    def encode(self, contract: str, function: str, *args: Any) -> bytes:
        """The call data of `contract.function(*args)`."""
        return encode_call(self.contract(contract), contract, function, list(args))

    def transact(
        self, signer: LocalAccount, contract: str, function: str, *args: Any, gas: int = GAS_LIMIT
    ) -> TxResult:
        """Call `contract.function(*args)` in a transaction signed by `signer`; refusals raise
        ContractRevertError naming organisations (see client/chain/sender.py)."""
        data = self.encode(contract, function, *args)
        try:
            return self.sender(signer).transact(self.contract(contract).address, data, gas)
        except ContractRevertError as exc:
            raise self._explained(exc) from None

    def explained(self, exc: Exception) -> Exception:
        """A refusal as `transact` raises it (organisations named), other errors unchanged."""
        return self._explained(exc) if isinstance(exc, ContractRevertError) else exc

    def call(self, contract: str, function: str, *args: Any) -> Any:
        """Read `contract.function(*args)`; refusals raise ContractRevertError."""
        fn = getattr(self.contract(contract).functions, function)
        try:
            return guarded(lambda: fn(*args).call())
        except ContractRevertError as exc:
            raise self._explained(exc) from None

    def events(self, contract: str, event: str, *indexed: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Every `event` of `contract` since the deployment whose first indexed arguments are
        `indexed` (0x-hex topics), in chain order: (decoded arguments, raw log) pairs."""
        topics = [event_topic(contract, event), *indexed]
        address = self.contract(contract).address
        found = []
        for log in fetch_logs(self.w3, address, topics, self.manifest.deployment_block):
            decoded = decode_log(list(log["topics"]), bytes(log["data"]))
            if decoded is not None:
                found.append((decoded.args, dict(log)))
        return found

    def org_name(self, org_id: str) -> str | None:
        """The registered name of an organisation (from its admission event), if admitted."""
        found = self._members.by_id(org_id)
        return found[1] if found else None

    def org_ref(self, org_no: int) -> OrgRef:
        """The organisation with this member number: number, org id and registered name."""
        if not org_no:
            return OrgRef(0, None, None)
        found = self._members.by_no(org_no)
        if found:
            return OrgRef(org_no, found[0], found[1])
        org_id = "0x" + bytes(self.call("Consortium", "orgIdOf", org_no)).hex()
        return OrgRef(org_no, org_id, None)

    def org_label(self, org_no: int) -> str:
        """ "ACME Steel (member 3)" for a member number; "member 3" if it has no name."""
        return str(self.org_ref(org_no))

    def _explained(self, exc: ContractRevertError) -> ContractRevertError:
        """The same refusal, its message naming organisations instead of bare ids and numbers."""
        shown: dict[str, Any] = dict(exc.values)
        for key, value in exc.values.items():
            if (
                (key.lower().endswith("orgid") or key.endswith("Org") or key == "org")
                and isinstance(value, str)
                and not is_named(value)
            ):
                name = self.org_name(value)
                if name:
                    remember_name(value, name)
            elif key in ORG_NUMBER_FIELDS and isinstance(value, int) and value > 0:
                shown[key] = self.org_label(value)
        return ContractRevertError(exc.error_name, exc.values, render(exc.error_name, shown))


class _MemberNames:
    """Member numbers, org ids and names from `MemberAdmitted` events, read incrementally.

    A name is set once, by the admission that also fixes the member number (an org id cannot be
    admitted twice: ConsortiumOrgExists), and no other Consortium event changes either. So a
    member found here stays right; only a miss reads the chain: the logs after the last block
    read, one `eth_getLogs` per `LOG_RANGE` new blocks. If the last block read is no longer on the
    chain (a reorg, or a test node reverted to a snapshot), the next miss reads from the deployment
    again; members already found are not re-checked on every label."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._lock = threading.Lock()
        self._by_id: dict[str, tuple[int, str]] = {}
        self._by_no: dict[int, tuple[str, str]] = {}
        self._scanned: tuple[int, bytes] | None = None  # last block read: number, hash

    def by_id(self, org_id: str) -> tuple[int, str] | None:
        key = org_id.lower()
        with self._lock:
            if key not in self._by_id:
                self._catch_up()
            return self._by_id.get(key)

    def by_no(self, org_no: int) -> tuple[str, str] | None:
        with self._lock:
            if org_no not in self._by_no:
                self._catch_up()
            return self._by_no.get(org_no)

    def _catch_up(self) -> None:
        w3 = self._registry.w3
        head = w3.eth.get_block("latest")
        start = self._registry.manifest.deployment_block
        if self._scanned is not None:
            number, block_hash = self._scanned
            if number == head["number"] and block_hash == bytes(head["hash"]):
                return
            if number <= head["number"] and bytes(w3.eth.get_block(number)["hash"]) == block_hash:
                start = number + 1
            else:
                self._by_id.clear()
                self._by_no.clear()
        consortium = self._registry.contract("Consortium").address
        topics = [event_topic("Consortium", "MemberAdmitted")]
        for log in fetch_logs(w3, consortium, topics, start, int(head["number"])):
            decoded = decode_log(list(log["topics"]), bytes(log["data"]))
            if decoded is not None:
                org_id, org_no, name = (
                    str(decoded.args["orgId"]).lower(),
                    int(decoded.args["orgNo"]),
                    str(decoded.args["name"]),
                )
                self._by_id[org_id] = (org_no, name)
                self._by_no[org_no] = (org_id, name)
        self._scanned = (int(head["number"]), bytes(head["hash"]))
