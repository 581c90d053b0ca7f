"""RFC 6962 Merkle tree hashing, inclusion and consistency proofs (SHA-256).

One tree serves three purposes in the registry: the content root of a file (leaves are its
1 MiB chunks), the root of a directory manifest, and batch anchors (leaves are the anchored
hashes). Because it is exactly the Certificate Transparency tree, any RFC 6962 / RFC 9162
tool can check our proofs.

The definitions, from RFC 6962 section 2.1:

- ``MTH({}) = SHA-256()``
- ``MTH({d0}) = SHA-256(0x00 || d0)`` (a leaf)
- ``MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`` with ``k`` the largest power
  of two strictly smaller than ``n``.

The 0x00 / 0x01 prefixes keep leaves and inner nodes apart, so a leaf can never be passed off
as a subtree (the second-preimage attack on naive Merkle trees).

Functions here take *leaf hashes* (``leaf_hash(data)``), not leaf data: that is what gets
stored, anchored and sent in proof files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from client.errors import ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleAccumulator",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_and_proofs",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

#: Size in bytes of every hash in the tree (SHA-256).
HASH_SIZE = 32

#: Root of the tree with no leaves: SHA-256 of the empty string (RFC 6962 ``MTH({})``).
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes | bytearray | memoryview) -> bytes:
    """Hash one leaf: ``SHA-256(0x00 || data)``.

    >>> leaf_hash(b"").hex()
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'
    """
    # Two update calls rather than concatenating, so a 1 MiB chunk is not copied.
    digest = hashlib.sha256(_LEAF_PREFIX)
    digest.update(data)
    return digest.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash an inner node from its two children: ``SHA-256(0x01 || left || right)``.

    >>> node_hash(leaf_hash(b""), leaf_hash(b"\\x00")).hex()
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'
    """
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``): RFC 6962's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleAccumulator:
    """Builds an RFC 6962 root from leaf hashes appended one at a time, in O(log n) memory.

    The stack holds the roots of the complete (power-of-two) subtrees that the leaves seen so
    far decompose into, largest first; their sizes are the set bits of ``size``. Appending a
    leaf merges equal-size neighbours like a binary counter carries. The RFC tree of ``n``
    leaves is exactly those subtrees folded together right to left, because its split point
    ``k`` is always the largest complete subtree on the left.

    >>> acc = MerkleAccumulator()
    >>> for data in (b"", b"\\x00", b"\\x10"):
    ...     acc.append(leaf_hash(data))
    >>> acc.size
    3
    >>> acc.root().hex()
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77'
    """

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        self._size = 0
        self._stack: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append(self, leaf: bytes) -> None:
        """Append the hash of the next leaf (as returned by `leaf_hash`)."""
        _check_hash(leaf, "leaf hash")
        node = leaf
        # Each trailing 1 bit of the old size is a complete subtree of the same size as the
        # one being carried, so it merges, exactly like adding 1 to a binary counter.
        carries = self._size
        while carries & 1:
            node = node_hash(self._stack.pop(), node)
            carries >>= 1
        self._stack.append(node)
        self._size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append several leaf hashes in order."""
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """The RFC 6962 root of the leaves appended so far (`EMPTY_ROOT` if none).

        The accumulator is not changed; more leaves may be appended afterwards.
        """
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1]
        for subtree in reversed(self._stack[:-1]):
            root = node_hash(subtree, root)
        return root


def root_from_leaf_hashes(hashes: Iterable[bytes]) -> bytes:
    """The RFC 6962 root over leaf hashes, in order.

    >>> root_from_leaf_hashes([]).hex()
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    >>> root_from_leaf_hashes([leaf_hash(b"")]).hex()
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'
    """
    acc = MerkleAccumulator()
    acc.extend(hashes)
    return acc.root()


def inclusion_proof(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree over ``hashes`` (RFC 6962 ``PATH(m, D[n])``).

    The path lists sibling subtree roots from the leaf up to the root. Building one proof
    costs O(n) hashes; use `root_and_proofs` for proofs of every leaf.

    >>> leaves = [leaf_hash(bytes([i])) for i in range(3)]
    >>> [h.hex()[:8] for h in inclusion_proof(leaves, 2)]
    ['a20bf9a7']
    >>> verify_inclusion(leaves[2], 2, 3, inclusion_proof(leaves, 2),
    ...                  root_from_leaf_hashes(leaves))
    """
    n = len(hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} is out of range for a tree of {n} leaves")
    for position, leaf in enumerate(hashes):
        _check_hash(leaf, f"leaf hash {position}")
    path: list[bytes] = []
    lo, hi = 0, n
    # Walk down from the root, recording the sibling subtree at each split; reversed at the
    # end because the RFC lists the path from the leaf upwards.
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(root_from_leaf_hashes(hashes[lo + k : hi]))
            hi = lo + k
        else:
            path.append(root_from_leaf_hashes(hashes[lo : lo + k]))
            lo += k
    path.reverse()
    return path


def root_and_proofs(hashes: Sequence[bytes]) -> tuple[bytes, list[list[bytes]]]:
    """The root over ``hashes`` and the audit path of every leaf, in O(n log n).

    Each subtree's root is computed once and appended to the paths of all leaves on the other
    side of its parent, so a batch of 10,000 leaves costs 9,999 node hashes plus the path
    lists themselves, instead of 10,000 separate tree builds.

    >>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
    >>> root, proofs = root_and_proofs(leaves)
    >>> root == root_from_leaf_hashes(leaves)
    True
    >>> all(proofs[i] == inclusion_proof(leaves, i) for i in range(5))
    True
    """
    for position, leaf in enumerate(hashes):
        _check_hash(leaf, f"leaf hash {position}")
    if not hashes:
        return EMPTY_ROOT, []
    proofs: list[list[bytes]] = [[] for _ in hashes]

    # Depth is log2(n), so recursion is safe even for millions of leaves.
    def build(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return hashes[lo]
        mid = lo + _split(hi - lo)
        left = build(lo, mid)
        right = build(mid, hi)
        # Children are built before their parent, so appending here yields leaf-to-root order.
        for i in range(lo, mid):
            proofs[i].append(right)
        for i in range(mid, hi):
            proofs[i].append(left)
        return node_hash(left, right)

    return build(0, len(hashes)), proofs


def _audit_path_length(index: int, tree_size: int) -> int:
    """How many hashes the audit path of leaf ``index`` in a tree of ``tree_size`` has."""
    length = 0
    while tree_size > 1:
        k = _split(tree_size)
        if index < k:
            tree_size = k
        else:
            index -= k
            tree_size -= k
        length += 1
    return length


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    Returns ``None`` when the proof holds and raises `ProofError` saying why when it does
    not. This is the RFC 9162 section 2.1.3.2 algorithm, which recomputes the root bottom-up
    from the index bits and so shares no code with `inclusion_proof`.

    >>> leaves = [leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")]
    >>> root = root_from_leaf_hashes(leaves)
    >>> verify_inclusion(leaves[0], 0, 3, [leaves[1], leaves[2]], root)
    >>> verify_inclusion(leaves[1], 0, 3, [leaves[1], leaves[2]], root)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    client.errors.ProofError: inclusion proof does not verify: leaf 0 of a tree of 3 leads to root ...
    """
    for value, what in ((leaf_hash, "leaf hash"), (root, "root")):
        if len(value) != HASH_SIZE:
            raise ProofError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")
    for position, sibling in enumerate(path):
        if len(sibling) != HASH_SIZE:
            raise ProofError(f"path element {position} must be {HASH_SIZE} bytes, got {len(sibling)}")
    if tree_size < 1:
        raise ProofError(f"a tree of size {tree_size} contains no leaf to prove")
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} is out of range for a tree of {tree_size} leaves")
    expected_length = _audit_path_length(index, tree_size)
    if len(path) != expected_length:
        raise ProofError(
            f"inclusion proof for leaf {index} of a tree of {tree_size} must have "
            f"{expected_length} hashes, got {len(path)}"
        )

    # RFC 9162 2.1.3.2, step by step. fn is the node's index at the current level, sn the
    # index of the last node at that level.
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in path:
        if sn == 0:
            raise ProofError(f"inclusion proof for leaf {index} of {tree_size} is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # A node on the right edge with no sibling at this level was carried up
            # unchanged by the RFC's uneven split; skip the levels where it had none.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof for leaf {index} of {tree_size} is too short")
    if r != root:
        raise ProofError(
            f"inclusion proof does not verify: leaf {index} of a tree of {tree_size} leads to "
            f"root {r.hex()}, not the expected root {root.hex()}"
        )


def _subtree_root(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    return root_from_leaf_hashes(hashes[lo:hi])


def consistency_proof(hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """The RFC 6962 consistency proof ``PROOF(m, D[n])`` from the tree of the first
    ``old_size`` leaves to the tree over all of ``hashes`` (section 2.1.2).

    Empty when ``old_size`` is 0 or equals ``len(hashes)`` (nothing to prove).

    >>> leaves = [leaf_hash(bytes([i])) for i in range(7)]
    >>> proof = consistency_proof(leaves, 3)
    >>> verify_consistency(3, 7, root_from_leaf_hashes(leaves[:3]), root_from_leaf_hashes(leaves), proof)
    """
    n = len(hashes)
    if not 0 <= old_size <= n:
        raise ValueError(f"old tree size {old_size} is out of range for a tree of {n} leaves")
    for position, leaf in enumerate(hashes):
        _check_hash(leaf, f"leaf hash {position}")
    if old_size in (0, n):
        return []
    proof: list[bytes] = []

    # SUBPROOF(m, D[lo:hi], b) of the RFC, iteratively: walk down while recording the
    # siblings, then reverse (the RFC lists them from the bottom up).
    def subproof(m: int, lo: int, hi: int, complete: bool) -> None:
        size = hi - lo
        if m == size:
            if not complete:
                proof.append(_subtree_root(hashes, lo, hi))
            return
        k = _split(size)
        if m <= k:
            subproof(m, lo, lo + k, complete)
            proof.append(_subtree_root(hashes, lo + k, hi))
        else:
            subproof(m - k, lo + k, hi, False)
            proof.append(_subtree_root(hashes, lo, lo + k))

    subproof(old_size, 0, n, True)
    return proof


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree of ``new_size`` with ``new_root`` extends the tree of ``old_size``
    with ``old_root`` (RFC 9162 section 2.1.4.2). Returns ``None`` or raises `ProofError`.

    >>> leaves = [leaf_hash(bytes([i])) for i in range(7)]
    >>> verify_consistency(4, 7, root_from_leaf_hashes(leaves[:4]), root_from_leaf_hashes(leaves[:6]),
    ...                    consistency_proof(leaves, 4))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    client.errors.ProofError: consistency proof from size 4 to size 7 does not verify: ...
    """
    for value, what in ((old_root, "old root"), (new_root, "new root")):
        if len(value) != HASH_SIZE:
            raise ProofError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")
    for position, node in enumerate(proof):
        if len(node) != HASH_SIZE:
            raise ProofError(f"consistency proof element {position} must be {HASH_SIZE} bytes, got {len(node)}")
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of size {old_size} cannot be extended to a smaller size {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError(f"a consistency proof between equal sizes {old_size} must be empty")
        if old_root != new_root:
            raise ProofError(
                f"trees of the same size {old_size} have different roots {old_root.hex()} and {new_root.hex()}"
            )
        return
    if old_size == 0:
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError(f"consistency proof from size {old_size} to size {new_size} is empty")
    # RFC 9162 2.1.4.2, step by step.
    nodes = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first subtree
        nodes.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof from size {old_size} to size {new_size} is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"consistency proof from size {old_size} to size {new_size} is too short")
    if fr != old_root or sr != new_root:
        raise ProofError(
            f"consistency proof from size {old_size} to size {new_size} does not verify: it leads to "
            f"old root {fr.hex()} and new root {sr.hex()}, not {old_root.hex()} and {new_root.hex()}"
        )
