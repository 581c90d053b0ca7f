"""The data plane client against a plain HTTP server serving the layout of the data plane
(/work/notes h16-shared: `<endpoint>/manifest`, `<endpoint>/files/<path>` with ranges).

The server here is a stdlib `http.server` over real files on disk, so each test can cut a
connection in the middle of a file or serve bytes that are not the dataset's; the provider's
own data plane and the whole path over two connectors are in test_fetch_e2e.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from eth_account import Account

from client.connector.fetch import (
    PROOF_HEADER,
    DataPlaneClient,
    DataPlaneError,
    RootMismatch,
    Verified,
    _StreamRoot,
)
from client.connector.identity import SCHEME, _parse
from client.connector.transfer import DataAddress
from client.directory import directory_manifest
from client.errors import OverwriteRefusedError
from client.hashing import CHUNK_SIZE, bytes_root, content_root, file_root

TOKEN = "transfer-token-1"


@dataclass
class Plane:
    """What the server serves and what it saw."""

    source: Path
    manifest: dict[str, Any]
    cut_after: int | None = None  # close the connection after this many bytes, once
    tamper: bool = False  # flip one byte of every file it serves
    refuse: int = 0  # answer every request with this status
    ranges: list[str] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)


def manifest_of(source: Path) -> dict[str, Any]:
    if source.is_dir():
        entries = directory_manifest(source).entries
        files = [{"path": e.path, "size": e.size, "root": "0x" + e.root.hex()} for e in entries]
        return {"root": "0x" + content_root(source).hex(), "kind": "directory", "files": files}
    root = "0x" + file_root(source).hex()
    return {"root": root, "kind": "file", "files": [{"path": source.name, "size": source.stat().st_size, "root": root}]}


def handler(plane: Plane) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            prefix = "/data/tp-1"
            proof = self.headers.get(PROOF_HEADER, "")
            if self.headers.get("Authorization") != f"Bearer {TOKEN}" or not proof.startswith(SCHEME):
                return self.reply(401, b'{"reason": ["no transfer token"]}')
            plane.audiences.append(str(_parse(proof)[0]["aud"]))
            if plane.refuse:
                return self.reply(plane.refuse, b'{"reason": ["the licence was revoked"]}')
            if self.path == prefix + "/manifest":
                return self.reply(200, json.dumps(plane.manifest).encode())
            path = unquote(self.path.removeprefix(prefix + "/files/"))
            file = plane.source / path if plane.source.is_dir() else plane.source
            data = bytearray(file.read_bytes())
            if plane.tamper and data:
                data[len(data) // 2] ^= 1
            start = 0
            wanted = self.headers.get("Range")
            if wanted:
                plane.ranges.append(f"{path} {wanted}")
                start = int(wanted.removeprefix("bytes=").partition("-")[0])
            body = bytes(data[start:])
            headers = {"Accept-Ranges": "bytes"}
            if wanted:
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            self.send_response(206 if wanted else 200)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if plane.cut_after is not None and len(body) > plane.cut_after:
                self.wfile.write(body[: plane.cut_after])
                plane.cut_after = None
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            self.wfile.write(body)

    return Handler


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(plane: Plane) -> DataAddress:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler(plane))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return DataAddress(f"http://127.0.0.1:{server.server_address[1]}/data/tp-1", TOKEN)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def client() -> DataPlaneClient:
    return DataPlaneClient(Account.create(), "0x" + "be" * 32, timeout=10)


def sample(path: Path, size: int, seed: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes((i * seed + i // 7) % 251 for i in range(size)))
    return path


def test_stream_root_is_the_file_root_whatever_the_pieces() -> None:
    for size in (0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5):
        data = bytes(i % 253 for i in range(size))
        for piece in (1000, 65536, CHUNK_SIZE + 7):
            hasher = _StreamRoot()
            for offset in range(0, size, piece):
                hasher.update(memoryview(data)[offset : offset + piece])
            assert hasher.root() == bytes_root(data), (size, piece)


def test_a_file_arrives_verified(serve: Any, client: DataPlaneClient, tmp_path: Path) -> None:
    source = sample(tmp_path / "src" / "sensor.csv", 2 * CHUNK_SIZE + 123)
    plane = Plane(source, manifest_of(source))
    address = serve(plane)
    out = tmp_path / "got.csv"
    seen: list[int] = []
    verified = client.fetch(address, file_root(source), out, progress=seen.append)
    assert out.read_bytes() == source.read_bytes()
    assert (verified.root, verified.kind, verified.size, verified.path) == (file_root(source), "file", sum(seen), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["got.csv", "src"]  # no partial left behind
    assert set(plane.audiences) == {address.endpoint}  # a fresh identity token for the endpoint, each request


def test_a_directory_arrives_verified(serve: Any, client: DataPlaneClient, tmp_path: Path) -> None:
    source = tmp_path / "src"
    sample(source / "a.csv", 10)
    sample(source / "deep" / "b é.bin", CHUNK_SIZE + 1, 3)
    (source / "empty.txt").write_bytes(b"")
    address = serve(Plane(source, manifest_of(source)))
    verified = client.fetch(address, content_root(source), tmp_path / "got")
    assert content_root(tmp_path / "got") == content_root(source) == verified.root
    assert [f.path for f in verified.files] == ["a.csv", "deep/b é.bin", "empty.txt"]


def test_a_connection_cut_mid_file_resumes_with_range(serve: Any, client: DataPlaneClient, tmp_path: Path) -> None:
    source = sample(tmp_path / "src" / "big.bin", 3 * CHUNK_SIZE + 17)
    plane = Plane(source, manifest_of(source), cut_after=CHUNK_SIZE + CHUNK_SIZE // 2)
    verified = client.fetch(serve(plane), file_root(source), tmp_path / "got.bin")
    assert plane.ranges and plane.ranges[0].startswith("big.bin bytes=")
    assert int(plane.ranges[0].split("=")[1].rstrip("-")) > 0
    assert (tmp_path / "got.bin").read_bytes() == source.read_bytes()
    assert verified.root == file_root(source)


def test_an_earlier_runs_partial_file_is_resumed(serve: Any, client: DataPlaneClient, tmp_path: Path) -> None:
    source = sample(tmp_path / "src" / "big.bin", 2 * CHUNK_SIZE + 5)
    root = file_root(source)
    partial = tmp_path / f".got.bin.{root.hex()[:16]}.partial"
    partial.write_bytes(source.read_bytes()[: CHUNK_SIZE + 3])
    plane = Plane(source, manifest_of(source))
    verified = client.fetch(serve(plane), root, tmp_path / "got.bin")
    assert plane.ranges == [f"big.bin bytes={CHUNK_SIZE + 3}-"]
    assert verified.files[0].resumed_at == CHUNK_SIZE + 3
    assert (tmp_path / "got.bin").read_bytes() == source.read_bytes()


def test_tampered_bytes_are_refused_and_kept_aside(serve: Any, client: DataPlaneClient, tmp_path: Path) -> None:
    source = sample(tmp_path / "src" / "data.bin", CHUNK_SIZE + 9)
    root = file_root(source)
    out = tmp_path / "got.bin"
    with pytest.raises(RootMismatch) as caught:
        client.fetch(serve(Plane(source, manifest_of(source), tamper=True)), root, out)
    tampered = bytearray(source.read_bytes())
    tampered[len(tampered) // 2] ^= 1
    message = str(caught.value)
    assert f"0x{root.hex()}" in message and f"0x{bytes_root(bytes(tampered)).hex()}" in message
    assert "nothing was signed" in message and str(caught.value.kept) in message
    assert not out.exists()
    assert caught.value.kept.read_bytes() == tampered
    assert caught.value.exit_code == 4


def test_a_manifest_that_is_not_the_dataset_is_refused_before_any_download(
    serve: Any, client: DataPlaneClient, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    sample(source / "a.csv", 10)
    sample(source / "b.csv", 20)
    manifest = manifest_of(source)
    manifest["files"][1]["size"] = 21  # the root it states is still the dataset's
    plane = Plane(source, manifest)
    with pytest.raises(RootMismatch, match="the manifest the provider sent has root 0x.*no file was downloaded"):
        client.fetch(serve(plane), content_root(source), tmp_path / "got")
    assert plane.ranges == [] and not (tmp_path / "got").exists()


def test_a_directory_file_with_other_bytes_names_it(serve: Any, client: DataPlaneClient, tmp_path: Path) -> None:
    source = tmp_path / "src"
    sample(source / "a.csv", 10)
    sample(source / "b.csv", 20)
    with pytest.raises(RootMismatch, match="file 'a.csv' has root") as caught:
        client.fetch(serve(Plane(source, manifest_of(source), tamper=True)), content_root(source), tmp_path / "got")
    assert caught.value.kept.is_dir() and not (tmp_path / "got").exists()


def test_refusals_and_bad_manifests_are_clear(serve: Any, client: DataPlaneClient, tmp_path: Path) -> None:
    source = sample(tmp_path / "src" / "a.csv", 10)
    root = file_root(source)
    (tmp_path / "exists").write_text("mine")
    with pytest.raises(OverwriteRefusedError, match="already exists"):
        client.fetch(serve(Plane(source, manifest_of(source))), root, tmp_path / "exists")
    assert (tmp_path / "exists").read_text() == "mine"
    with pytest.raises(DataPlaneError, match=r"HTTP 403\): the licence was revoked") as refused:
        client.fetch(serve(Plane(source, manifest_of(source), refuse=403)), root, tmp_path / "x")
    assert refused.value.status == 403
    escaping = manifest_of(source)
    escaping["files"][0]["path"] = "../../etc/passwd"
    with pytest.raises(DataPlaneError, match="not a clean relative path"):
        client.fetch(serve(Plane(source, escaping)), root, tmp_path / "y")


def test_only_the_download_makes_a_verified_delivery(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="only by DataPlaneClient.fetch"):
        Verified(b"\0" * 32, "file", tmp_path, 0, ())


def test_without_out_the_file_is_named_after_the_dataset_file(
    serve: Any, client: DataPlaneClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = sample(tmp_path / "src" / "readings.csv", 100)
    monkeypatch.chdir(tmp_path)
    totals: list[int] = []
    verified = client.fetch(serve(Plane(source, manifest_of(source))), file_root(source), None, on_total=totals.append)
    assert verified.path == tmp_path / "readings.csv" and totals == [100]
