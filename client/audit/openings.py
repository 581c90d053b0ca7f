"""The terms openings an exporting party holds: licence terms files (`grant issue` keeps them in
$IDSREG_HOME/terms), receipt files, or bare `{"terms", "salt"}` openings — all carry the terms
document and salt at their top level (client/terms.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ..errors import ConfigError, MalformedFileError, ProofError
from ..terms import Opening


def read_opening(path: Path) -> Opening:
    """The opening in a licence terms file, a receipt file or a bare opening file."""
    try:
        raw = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read terms file {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise MalformedFileError(f"terms file {path} is not JSON ({exc})") from None
    try:
        return Opening.from_dict(raw)
    except ProofError as exc:
        raise MalformedFileError(f"terms file {path} holds no terms opening: {exc}") from None


def held_openings(paths: Iterable[Path], folder: Path | None) -> list[Opening]:
    """The openings of `paths`, then of every `*.json` in `folder` (the party's own terms folder)
    that holds one; files there that hold none are passed over."""
    openings = [read_opening(p) for p in paths]
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            try:
                openings.append(read_opening(path))
            except (ConfigError, MalformedFileError):
                continue
    return openings
