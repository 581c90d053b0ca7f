"""The client's errors: one root, leaves that keep their values and say what went wrong.

Library code raises these; only the command line turns them into an exit code and one line
of text (`IdsRegistryError.diagnostics`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class IdsRegistryError(Exception):
    """Root of every error the client raises."""

    #: Exit code the command line uses for this kind of failure.
    exit_code: int = 1

    def diagnostics(self) -> str:
        """A human-readable account of the failure, for the command line."""
        return str(self)


class ConfigError(IdsRegistryError):
    """A setting, file or argument that the client cannot use (message names it)."""

    exit_code = 2


class OverwriteRefusedError(ConfigError):
    """A file of evidence or a key that a command would have replaced; it is kept as it is."""

    def __init__(self, what: str, path: Path) -> None:
        super().__init__(
            f"{what} {path} already exists; it is kept as it is (evidence and key files are never replaced)"
        )
        self.what = what
        self.path = path


class MalformedFileError(ConfigError):
    """A proof or receipt file that is not one (not JSON, wrong format, a field of the wrong
    shape): bad input (exit 2), not a failed verification (message names the field)."""


class UnknownRecordError(IdsRegistryError):
    """A record the chain does not have: a grant, a member, a dispute (message names it)."""

    exit_code = 6


class HashingError(IdsRegistryError):
    """A path that cannot be hashed (message names the path)."""

    exit_code = 2


class ProofError(IdsRegistryError):
    """An inclusion proof that does not verify (message says why)."""

    exit_code = 4


class NotRegisteredError(IdsRegistryError):
    """Content that is neither registered nor anchored on the chain."""

    exit_code = 6

    def __init__(self, root: str, path: str = "") -> None:
        what = f"{path} (content root {root})" if path else f"content root {root}"
        super().__init__(f"{what} is not registered or anchored on this chain")
        self.root = root


class NotAnchoredError(IdsRegistryError):
    """Content that no anchor in the member's anchor index holds."""

    exit_code = 6

    def __init__(self, root: str, index: Path, path: str = "") -> None:
        what = f"{path} (content root {root})" if path else root
        super().__init__(f"no anchor recorded in {index} holds {what}")
        self.root = root


class KeystoreError(IdsRegistryError):
    """A key that cannot be created, found or unlocked."""

    exit_code = 2


class WrongPasswordError(KeystoreError):
    """The password does not decrypt the keystore file."""

    def __init__(self, label: str) -> None:
        super().__init__(f"wrong password for key {label!r}")
        self.label = label


class ChainError(IdsRegistryError):
    """The chain node or the deployment cannot be used."""

    exit_code = 3


class NodeUnreachableError(ChainError):
    """No chain node answers at the configured address."""

    def __init__(self, rpc_url: str, reason: str = "") -> None:
        detail = f" ({reason})" if reason else ""
        super().__init__(f"no chain node answers at {rpc_url}{detail}; start one with `idsreg chain up`")
        self.rpc_url = rpc_url


class DeploymentError(ChainError):
    """The registry contracts are not deployed where the manifest says, or no manifest exists."""


class ContractRevertError(ChainError):
    """A contract refused a call with one of its custom errors.

    `error_name` is the Solidity error's name and `values` its arguments by parameter name,
    so callers and tests can check exactly what was refused.
    """

    exit_code = 5

    def __init__(self, error_name: str, values: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.values = values
        if error_name in NOT_REGISTERED_ERRORS:
            self.exit_code = 6  # the contract refused because what was named does not exist


#: Contract errors that mean "no such record" (exit 6, not registered) rather than a refusal.
NOT_REGISTERED_ERRORS = frozenset(
    {
        "DataRegistryUnknownDataset",
        "DataRegistryUnknownParent",
        "ConsortiumUnknownOrg",
        "ConsortiumUnknownProposal",
        "AccessRegistryUnknownGrant",
        "AnchorRegistryUnknownAnchor",
        "DisputeCourtUnknownDispute",
    }
)


class TransactionFailedError(ChainError):
    """A transaction reverted without a decodable reason, or could not be sent."""

    exit_code = 5


class CheckpointError(IdsRegistryError):
    """A checkpoint, cosignature, council file or block proof that does not hold.

    `reason` is a short code (``malformed``, ``bad-signature``, ``below-threshold``,
    ``wrong-origin``, ``not-included``, ``inconsistent``, ``council``, ``council-file``) and `values` the values
    that show it, so a bundle verifier can report the exact field; the message says it all in
    one sentence.
    """

    exit_code = 4

    def __init__(self, reason: str, message: str, **values: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values
