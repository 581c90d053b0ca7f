"""A hashing worker process, and the work both it and its parent do.

`client._hashpool` starts each worker as ``python -S -c "...serve()"`` with only the folder
holding the ``client`` package on ``sys.path``: no site packages, no ``__main__`` re-run, no
CLI, web3 or multiprocessing, so a worker hashes within milliseconds of being started. It
imports this module, `client._chunks`, `client.merkle` and `client.errors`, which import only
the standard library; tests/client/test_hashing.py checks that it stays so.

The parent sends requests and the worker answers each in order over its stdin and stdout,
as length-prefixed pickles of plain tuples (both ends are this module):

- request ``("range", path, size, mtime_ns, first, count)``: the leaf hashes of chunks
  ``first .. first + count - 1`` of a big file;
- request ``("batch", ((path, size, mtime_ns), ...))``: the roots of small files;
- answer ``(True, hashes)`` with the 32-byte hashes concatenated, or ``(False, message)``
  with the `HashingError` message. End of input: the worker exits.

Part of `client.hashing`, which is the public interface.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
from typing import IO, Any

from client._chunks import CHUNK_SIZE, File, hash_file, leaf_hashes, open_checked
from client.errors import HashingError

_LENGTH = struct.Struct(">I")

Request = tuple[Any, ...]


def run(request: Request, buffer: bytearray) -> list[bytes]:
    """Carry out one request in this process; raises `HashingError`."""
    if request[0] == "batch":
        return [hash_file(File(*entry), buffer, None) for entry in request[1]]
    _, path, size, mtime_ns, first, count = request
    file = File(path, size, mtime_ns)
    fd = open_checked(file)
    try:
        return list(leaf_hashes(fd, file, first, count, buffer, None))
    finally:
        os.close(fd)


def send(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:  # An unbuffered pipe may take part of the data at a time.
        view = view[stream.write(view) or 0 :]
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    parts: list[bytes] = []
    while size:
        part = stream.read(size)
        if not part:
            return None
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def receive(stream: IO[bytes]) -> Any:
    """The next message, or None at end of input."""
    header = _read_exactly(stream, _LENGTH.size)
    if header is None:
        return None
    data = _read_exactly(stream, _LENGTH.unpack(header)[0])
    return None if data is None else pickle.loads(data)


def serve() -> None:
    """The worker's main loop: answer requests from stdin on stdout until stdin ends."""
    # Ctrl-C reaches the whole process group; the parent handles it and stops its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    buffer = bytearray(CHUNK_SIZE)
    while (request := receive(requests)) is not None:
        try:
            answer: tuple[bool, bytes | str] = (True, b"".join(run(request, buffer)))
        except HashingError as error:
            answer = (False, str(error))
        send(answers, answer)
