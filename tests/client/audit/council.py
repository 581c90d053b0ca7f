"""A council whose membership changes after the workload story, witness keys for its governors
(Ed25519 seeds made for the test run only), and checkpoints they cosign over the test chain."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account.signers.local import LocalAccount
from web3 import Web3

from client.chain.enums import Action
from client.checkpoint_council import CouncilState, TrustedCouncil, dump_council_file
from client.checkpoints import Checkpoint, checkpoint_for, cosign, origin_for, signed_note
from tests.conftest import new_account
from tests.registry_api.workload import Story


def _seed(governor: LocalAccount) -> bytes:
    return hashlib.sha256(b"test-only witness seed " + bytes.fromhex(governor.address[2:])).digest()


def witness_key(governor: LocalAccount) -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(_seed(governor))
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass
class CouncilStory:
    """The story (its two governors' witness keys in the council file the auditor trusts, as of
    its last block), then a third governor joins and registers its witness key on chain, the
    council cosigns a checkpoint, and the second governor leaves: from then on a checkpoint
    needs the first and the third, and one cosigned by the governor who left no longer counts."""

    story: Story
    trusted_block: int = 0
    joined: LocalAccount = field(default_factory=new_account)
    #: The checkpoint the old council cosigned after the third governor's key was registered.
    handover: bytes = b""

    @property
    def w3(self) -> Web3:
        return self.story.w3

    @property
    def origin(self) -> str:
        return origin_for(self.story.registry.chain_id, self.story.registry.manifest.address("Consortium"))

    @property
    def left(self) -> LocalAccount:
        return self.story.governors[1]

    @property
    def current(self) -> list[LocalAccount]:
        return [self.story.governors[0], self.joined]

    def run(self) -> CouncilStory:
        self.trusted_block = int(self.w3.eth.block_number)
        self.story.govern(Action.ADD_GOVERNOR, self.joined.address)
        self.story.govern(Action.SET_WITNESS_KEY, self.joined.address, witness_key(self.joined))
        self.handover = self.note(self.checkpoint(), self.story.governors)
        self.story.govern(Action.REMOVE_GOVERNOR, self.left.address)
        return self

    def council_file(self) -> bytes:
        """The council an auditor trusts: the story's two governors and their keys, threshold 2."""
        governors = self.story.governors
        state = CouncilState(
            frozenset(g.address.lower() for g in governors), 2, {g.address.lower(): witness_key(g) for g in governors}
        )
        return dump_council_file(TrustedCouncil(self.origin, self.trusted_block, state))

    def checkpoint(self) -> Checkpoint:
        head = int(self.w3.eth.block_number)
        hashes = [bytes(self.w3.eth.get_block(n)["hash"]) for n in range(head + 1)]
        return checkpoint_for(self.origin, hashes)

    def note(self, checkpoint: Checkpoint, signers: Sequence[LocalAccount], timestamp: int = 1_780_000_000) -> bytes:
        return signed_note(checkpoint, [cosign(checkpoint, g.address.lower(), _seed(g), timestamp) for g in signers])

    def notes(self, signers: Sequence[LocalAccount] | None = None) -> list[bytes]:
        """The handover checkpoint and one of the head cosigned by `signers` (default: the current council)."""
        return [self.handover, self.note(self.checkpoint(), self.current if signers is None else signers)]
