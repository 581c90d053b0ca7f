"""The data plane client: download a dataset from a provider's data plane, verifying it while it streams.

The provider's TransferStartMessage hands over a `DataAddress` (HttpData-PULL): an endpoint
`<provider>/data/<providerPid>` and a short-lived transfer token. `DataPlaneClient.fetch` reads
`GET <endpoint>/manifest`, then each file of it with `GET <endpoint>/files/<path>` into a partial
location next to the destination, hashing each file's 1 MiB chunks as they arrive
(docs/hashing.md): no byte is read twice, no file is held in memory. A connection cut in the
middle of a file resumes with `Range: bytes=<offset>-`; a partial file left by an earlier run
for the same dataset is hashed again and resumed the same way.

The result is a `Verified` delivery only when every file's root equals its manifest entry and
the root of the whole (the file's root, or the directory root of the manifest entries) equals
the dataset's id, which the caller has checked is registered on chain: the manifest's own claim
is never trusted. Otherwise `RootMismatch` (exit code 4) names both roots and where the
received bytes were kept aside, and nothing is signed: a consumer signs a receipt only for a
`Verified` delivery (client/connector/receipt.py), which only this module can make.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import queue
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

from eth_account.signers.local import LocalAccount

from .._chunks import CHUNK_SIZE
from ..directory import ContentManifest, ManifestEntry
from ..errors import ConfigError, HashingError, IdsRegistryError, OverwriteRefusedError, ProofError
from ..merkle import MerkleAccumulator
from .identity import issue_token
from .transfer import DataAddress

#: The header carrying the consumer connector's identity token on every data-plane request
#: (the data plane server's name for it too: client/connector/dataplane.py).
PROOF_HEADER = "X-Idsreg-Proof"
#: How much one read asks of the socket: large reads keep Python's per-call cost negligible.
READ_SIZE = 4 * CHUNK_SIZE
#: Buffers in flight between the socket reader and the hasher (see `_pull`).
BUFFERS = 3
#: Reconnections with `Range` for one file before giving up.
RETRIES = 5

Progress = Callable[[int], None]


class DataPlaneError(IdsRegistryError):
    """The data plane did not answer, refused a request, or sent something that is not the dataset."""

    exit_code = 3

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class RootMismatch(ProofError):
    """Bytes whose root is not the dataset's: nothing signed, the bytes kept aside at `kept`."""

    def __init__(self, expected: bytes, computed: bytes, kept: Path | None, what: str) -> None:
        where = f"the received bytes are kept aside at {kept}" if kept else "no file was downloaded"
        super().__init__(
            f"the bytes received for dataset 0x{expected.hex()} do not match it: {what} has root "
            f"0x{computed.hex()}, expected 0x{expected.hex()}; nothing was signed, {where}"
        )
        self.expected = expected
        self.computed = computed
        self.kept = kept


@dataclass(frozen=True)
class FileVerified:
    path: str
    size: int
    root: bytes
    resumed_at: int = 0


#: Only this module makes `Verified` values (see the module docstring).
_ISSUER = object()


@dataclass(frozen=True)
class Verified:
    """A delivery whose bytes were checked against the dataset's root, now at `path`."""

    root: bytes
    kind: str  # "file" | "directory"
    path: Path
    size: int
    files: tuple[FileVerified, ...]
    _issuer: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._issuer is not _ISSUER:
            raise TypeError("a Verified delivery is made only by DataPlaneClient.fetch, after checking the bytes")


class _StreamRoot:
    """A file's content root, fed its bytes in pieces of any size (docs/hashing.md)."""

    def __init__(self) -> None:
        self._tree = MerkleAccumulator()
        self._leaf = hashlib.sha256(b"\x00")
        self._filled = 0

    def update(self, data: memoryview) -> None:
        while data:
            take = min(CHUNK_SIZE - self._filled, len(data))
            self._leaf.update(data[:take])
            self._filled += take
            data = data[take:]
            if self._filled == CHUNK_SIZE:
                self._tree.append(self._leaf.digest())
                self._leaf = hashlib.sha256(b"\x00")
                self._filled = 0

    def root(self) -> bytes:
        if self._filled or self._tree.size == 0:  # the last, shorter chunk; an empty file is one empty chunk
            self._tree.append(self._leaf.digest())
            self._filled = 0
        return self._tree.root()


def _clean_path(path: Any) -> str:
    if not isinstance(path, str) or path != unicodedata.normalize("NFC", path):
        raise DataPlaneError(f"the manifest's path {path!r} is not an NFC string")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts) or "\\" in path or "\x00" in path:
        raise DataPlaneError(f"the manifest's path {path!r} is not a clean relative path")
    return path


def parse_manifest(body: Any) -> tuple[str, bytes, list[ManifestEntry]]:
    """(kind, claimed root, entries) of a data-plane manifest; DataPlaneError naming what is wrong."""
    try:
        kind = body["kind"]
        claimed = bytes.fromhex(str(body["root"]).removeprefix("0x"))
        entries = [
            ManifestEntry(_clean_path(f["path"]), int(f["size"]), bytes.fromhex(str(f["root"]).removeprefix("0x")))
            for f in body["files"]
        ]
    except (KeyError, TypeError, ValueError, HashingError) as exc:
        raise DataPlaneError(f"the data plane's manifest is malformed: {exc}") from None
    if kind not in ("file", "directory") or len(claimed) != 32:
        raise DataPlaneError(f"the data plane's manifest has kind {kind!r} and root {body.get('root')!r}")
    if kind == "file" and len(entries) != 1:
        raise DataPlaneError(f"the manifest of a file lists {len(entries)} files")
    if not entries:
        raise DataPlaneError("the manifest lists no file")
    return kind, claimed, entries


class DataPlaneClient:
    """Pulls transfers for organisation `org_id`, proving itself with its connector `key`."""

    def __init__(self, key: LocalAccount, org_id: str, *, timeout: float = 60.0, retries: int = RETRIES) -> None:
        self.key = key
        self.org_id = org_id.lower()
        self.timeout = timeout
        self.retries = retries

    # ----- HTTP -----

    def _headers(self, address: DataAddress, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {address.token}",
            PROOF_HEADER: issue_token(self.key, self.org_id, address.endpoint),
            **(extra or {}),
        }

    def _open(self, address: DataAddress, path: str, extra: dict[str, str] | None = None) -> http.client.HTTPResponse:
        """The response to `GET <endpoint><path>`, its status a 2xx (DataPlaneError otherwise)."""
        url = urlsplit(address.endpoint)
        kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        connection = kind(url.hostname or "", url.port, timeout=self.timeout)
        target = url.path + path
        try:
            connection.request("GET", target, headers=self._headers(address, extra))
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise DataPlaneError(f"the data plane at {address.endpoint} did not answer: {type(exc).__name__}: {exc}")
        if response.status >= 300:
            body = response.read(64 * 1024)
            connection.close()
            raise DataPlaneError(
                f"the data plane refused GET {address.endpoint}{path} (HTTP {response.status}): {_reason(body)}",
                response.status,
            )
        return response

    def manifest(self, address: DataAddress) -> tuple[str, bytes, list[ManifestEntry]]:
        response = self._open(address, "/manifest")
        try:
            body = json.loads(response.read(16 * 1024 * 1024))
        except (ValueError, OSError, http.client.HTTPException) as exc:
            raise DataPlaneError(f"the data plane's manifest could not be read: {exc}") from None
        finally:
            response.close()
        return parse_manifest(body)

    # ----- the download -----

    def fetch(
        self,
        address: DataAddress,
        dataset: bytes,
        out: Path | None,
        *,
        progress: Progress | None = None,
        on_total: Progress | None = None,
    ) -> Verified:
        """Download the transfer at `address` to `out` (which must not exist; None: in the
        current folder, named after the file, or `dataset-<root>` for a directory), checking it
        is dataset `dataset` (its registered root); RootMismatch otherwise. `on_total` is told
        the number of bytes to come, `progress` each piece that arrived."""
        if out is not None:
            check_destination(out)
        kind, claimed, entries = self.manifest(address)
        if out is None:
            out = Path(entries[0].path.rsplit("/", 1)[-1] if kind == "file" else f"dataset-{dataset.hex()[:12]}")
            check_destination(out)
        if on_total is not None:
            on_total(sum(e.size for e in entries))
        out = out.absolute()
        partial = out.parent / f".{out.name}.{dataset.hex()[:16]}.partial"
        if kind == "directory":
            manifest_root = ContentManifest(entries).root()
            if manifest_root != dataset:
                raise RootMismatch(dataset, manifest_root, None, "the manifest the provider sent")
            partial.mkdir(exist_ok=True)
        elif partial.is_dir():
            shutil.rmtree(partial)
        if claimed != dataset:
            raise RootMismatch(dataset, claimed, None, "the manifest's stated root")
        done = []
        for entry in entries:
            target = partial / entry.path if kind == "directory" else partial
            target.parent.mkdir(parents=True, exist_ok=True)
            root, resumed = self._download(address, entry, target, progress)
            expected = entry.root if kind == "directory" else dataset
            if root != expected:
                raise RootMismatch(dataset, root, _aside(partial), f"file {entry.path!r}")
            done.append(FileVerified(entry.path, entry.size, root, resumed))
        os.replace(partial, out)
        return Verified(dataset, kind, out, sum(e.size for e in entries), tuple(done), _ISSUER)

    def _download(
        self, address: DataAddress, entry: ManifestEntry, target: Path, progress: Progress | None
    ) -> tuple[bytes, int]:
        """Stream one file to `target`, resuming what is there; (its root, the offset resumed at)."""
        hasher = _StreamRoot()
        offset = _rehash(target, entry.size, hasher)
        resumed_at = offset
        if progress is not None and offset:
            progress(offset)
        attempts = 0
        with open(target, "r+b" if offset else "wb") as sink:
            sink.seek(offset)
            sink.truncate()
            while offset < entry.size:
                extra = {"Range": f"bytes={offset}-"} if offset else None
                try:
                    response = self._open(address, "/files/" + quote(entry.path, safe="/"), extra)
                except DataPlaneError as exc:
                    if exc.status or attempts >= self.retries:
                        raise
                    attempts += 1
                    time.sleep(0.2 * attempts)
                    continue
                try:
                    start = _start(response, offset, entry)
                    if start != offset:  # the server sent the whole file again: start over
                        hasher, offset = _StreamRoot(), 0
                        sink.seek(0)
                        sink.truncate()
                    # A connection cut in the middle ends the body early; `_pull` says where.
                    offset = _pull(response, sink, hasher, offset, entry.size, progress)
                except OSError as exc:  # the socket's errors stay in `_pull`: this is the disk
                    raise ConfigError(f"cannot write the download to {target}: {exc.strerror or exc}") from None
                finally:
                    response.close()
                if offset < entry.size:
                    attempts += 1
                    if attempts > self.retries:
                        raise DataPlaneError(
                            f"the download of {entry.path!r} broke off at byte {offset} of {entry.size} "
                            f"{attempts} times; run the command again to resume it"
                        )
        return hasher.root(), resumed_at


def _pull(
    response: http.client.HTTPResponse,
    sink: BinaryIO,
    hasher: _StreamRoot,
    offset: int,
    size: int,
    progress: Progress | None,
) -> int:
    """Hash and write the body of `response` (the file from `offset` on); the offset reached.

    A thread reads the socket into a few rotating buffers while this one hashes and writes the
    previous ones, so the network keeps flowing while a write waits for the disk (on a busy
    machine that is what makes the difference to a plain download). A connection that breaks
    ends the body early: the caller resumes from the offset returned.
    """
    free: queue.Queue[bytearray] = queue.Queue()
    full: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
    for _ in range(BUFFERS):
        free.put(bytearray(READ_SIZE))
    stop = threading.Event()

    def read() -> None:
        remaining = size - offset
        try:
            while remaining > 0:
                buffer = free.get()
                if stop.is_set():
                    return
                n = response.readinto(memoryview(buffer)[: min(READ_SIZE, remaining)])
                if not n:
                    break
                remaining -= n
                full.put((buffer, n))
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            # Cut in the middle (or closed under it, see below): the caller asks again from
            # where the bytes stop.
            pass
        finally:
            full.put(None)

    reader = threading.Thread(target=read, name="dataplane-read", daemon=True)
    reader.start()
    try:
        while (item := full.get()) is not None:
            buffer, n = item
            piece = memoryview(buffer)[:n]
            hasher.update(piece)
            sink.write(piece)
            piece.release()
            offset += n
            free.put(buffer)
            if progress is not None:
                progress(n)
    finally:
        stop.set()
        free.put(bytearray(0))  # a reader waiting for a buffer wakes up and sees `stop`
        if reader.is_alive() and full.empty():
            response.close()  # a reader blocked on the socket gets an error and ends
        reader.join(timeout=30)
    return offset


def check_destination(out: Path) -> None:
    """Refuse a destination that exists (nothing is overwritten) or whose folder does not."""
    if out.exists() or out.is_symlink():
        raise OverwriteRefusedError("the download's destination", out)
    if not out.absolute().parent.is_dir():
        raise ConfigError(f"the folder {out.absolute().parent} of {out} does not exist")


def _start(response: http.client.HTTPResponse, offset: int, entry: ManifestEntry) -> int:
    """Where the response's bytes begin in the file: `offset` for a 206, 0 for a 200."""
    if response.status == 200:
        return 0
    content_range = response.getheader("Content-Range", "")
    unit, _, rest = content_range.partition(" ")
    first = rest.partition("-")[0]
    if response.status != 206 or unit != "bytes" or not first.isdigit() or int(first) != offset:
        raise DataPlaneError(
            f"the data plane answered the range request for {entry.path!r} at byte {offset} with "
            f"HTTP {response.status} and Content-Range {content_range!r}"
        )
    return offset


def _rehash(target: Path, size: int, hasher: _StreamRoot) -> int:
    """Feed the bytes of a partial file left by an earlier run to `hasher`; how many there were."""
    try:
        have = target.stat().st_size
    except FileNotFoundError:
        return 0
    if have > size:
        return 0  # not a prefix of this file: download it again
    with open(target, "rb") as source:
        buffer = bytearray(READ_SIZE)
        view = memoryview(buffer)
        done = 0
        while done < have:
            n = source.readinto(view[: min(READ_SIZE, have - done)])
            if not n:
                break
            hasher.update(view[:n])
            done += n
    return done


def _aside(partial: Path) -> Path:
    """Move the partial download out of the way of a retry, to a new name; that name."""
    for n in range(1, 1000):
        kept = partial.with_name(partial.name.removesuffix(".partial") + (f".rejected-{n}" if n > 1 else ".rejected"))
        if not kept.exists():
            os.replace(partial, kept)
            return kept
    return partial


def _reason(body: bytes) -> str:
    try:
        parsed = json.loads(body)
        reasons = parsed.get("reason") if isinstance(parsed, dict) else None
        if isinstance(reasons, list) and reasons:
            return "; ".join(str(r) for r in reasons)
        if isinstance(parsed, dict) and "detail" in parsed:
            return str(parsed["detail"])
    except ValueError:
        pass
    return body[:200].decode("utf-8", "replace") or "(no reason given)"
