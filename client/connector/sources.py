"""Where a provider's datasets are on disk: each one checked against its registered root.

`connector serve --data PATH` (or `--data 0xROOT=PATH`) names a file or directory whose bytes
the data plane may serve. At start-up the connector hashes it (docs/hashing.md), refuses it
unless its root is a dataset registered on chain (and, with `0xROOT=`, exactly that root), and
keeps each file's size and modification time: a file changed on disk since is refused at the
next request (409) rather than served under a root it no longer has.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..chain.registry import Registry
from ..errors import ConfigError, IdsRegistryError
from ..hashing import directory_manifest, file_root, hex32, parse_root


class DataChanged(IdsRegistryError):
    """A dataset file that is not what was hashed at start-up (answered 409)."""


@dataclass(frozen=True)
class ServedFile:
    """One file of a dataset: its manifest entry and where it is on disk."""

    path: str  # relative, '/' separators, NFC
    size: int
    root: bytes
    local: Path
    mtime_ns: int

    def entry(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "root": hex32(self.root)}

    def open(self) -> int:
        """An open descriptor on the file, refused with DataChanged if it changed since it was hashed."""
        try:
            fd = os.open(self.local, os.O_RDONLY)
        except OSError as exc:
            raise DataChanged(f"file {self.path} of the dataset cannot be read now ({exc.strerror})") from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (info.st_size, info.st_mtime_ns) != (self.size, self.mtime_ns):
            os.close(fd)
            raise DataChanged(
                f"file {self.path} of the dataset changed on disk since its root was checked "
                "(restart the connector to check it again)"
            )
        return fd


@dataclass(frozen=True)
class LocalDataset:
    """A dataset whose bytes this connector holds."""

    root: bytes
    kind: str  # "file" | "directory"
    path: Path
    files: tuple[ServedFile, ...]

    def manifest(self) -> dict[str, Any]:
        """The data plane's manifest (docs/connector.md, "Data plane")."""
        return {"root": hex32(self.root), "kind": self.kind, "files": [f.entry() for f in self.files]}

    def file(self, path: str) -> ServedFile | None:
        return next((f for f in self.files if f.path == path), None)


def local_dataset(path: Path) -> LocalDataset:
    """Hash the file or directory at `path` and note its files; HashingError naming what is wrong."""
    info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        manifest = directory_manifest(path)
        files = []
        for entry in manifest.entries:
            local = path.joinpath(*entry.path.split("/"))
            if not local.is_file():  # a name stored decomposed (NFD): not served, not guessed at
                raise ConfigError(f"{local} of dataset {path} is not found under its NFC name; rename it in NFC")
            files.append(ServedFile(entry.path, entry.size, entry.root, local, local.stat().st_mtime_ns))
        return LocalDataset(manifest.root(), "directory", path, tuple(files))
    root = file_root(path)
    name = unicodedata.normalize("NFC", path.name)
    served = ServedFile(name, info.st_size, root, path, info.st_mtime_ns)
    return LocalDataset(root, "file", path, (served,))


class DataSources:
    """The datasets this connector serves, by root."""

    def __init__(self, datasets: Iterable[LocalDataset] = ()) -> None:
        self._by_root = {d.root: d for d in datasets}

    def get(self, root: bytes) -> LocalDataset | None:
        return self._by_root.get(root)

    def __len__(self) -> int:
        return len(self._by_root)

    def add(self, dataset: LocalDataset) -> None:
        self._by_root[dataset.root] = dataset

    @classmethod
    def load(cls, specs: Iterable[str], registry: Registry) -> DataSources:
        """The datasets of `--data` options (`PATH` or `0xROOT=PATH`), each hashed and checked on
        chain; ConfigError naming the path and both roots when one does not match."""
        sources = cls()
        for spec in specs:
            expected: bytes | None = None
            text = spec
            if spec.startswith("0x") and "=" in spec:
                root_text, _, text = spec.partition("=")
                expected = parse_root(root_text)
            path = Path(text).expanduser()
            if not path.exists():
                raise ConfigError(f"--data {spec!r}: {path} does not exist")
            dataset = local_dataset(path)
            if expected is not None and dataset.root != expected:
                raise ConfigError(
                    f"--data {spec!r}: {path} hashes to {hex32(dataset.root)}, not to the named root {hex32(expected)}"
                )
            if not registry.call("DataRegistry", "isRegistered", dataset.root):
                raise ConfigError(f"--data {spec!r}: {path} hashes to {hex32(dataset.root)}, which is not registered")
            sources.add(dataset)
        return sources
