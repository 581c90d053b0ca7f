"""Files written whole or not at all, never replaced (client.files)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.errors import ConfigError, OverwriteRefusedError
from client.files import append_line, create_new, private_folder, replace


def test_create_new_never_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = create_new(tmp_path / "sub" / "a.proof.json", "first\n", what="proof file")
    assert target.read_text() == "first\n" and stat.S_IMODE(target.stat().st_mode) == 0o644
    with pytest.raises(OverwriteRefusedError, match=f"proof file {target} already exists") as refused:
        create_new(target, "second\n", what="proof file", mode=0o600)
    assert refused.value.path == target and refused.value.exit_code == 2
    assert target.read_text() == "first\n"
    assert [p.name for p in target.parent.iterdir()] == ["a.proof.json"]
    secret = create_new(tmp_path / "salt.json", "{}", what="salt record", mode=0o600)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600


def test_create_new_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    """A name taken by a symlink, even one pointing nowhere, is taken: nothing is written through it."""
    link = tmp_path / "a.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(OverwriteRefusedError):
        create_new(link, "x", what="receipt file")
    assert not (tmp_path / "elsewhere.json").exists()


def test_unwritable_folder_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=f"cannot write proof file {blocker}/a.json"):
        create_new(blocker / "a.json", "x", what="proof file")


def test_replace_and_append_line(tmp_path: Path) -> None:
    target = tmp_path / "allowlist.toml"
    replace(target, "one\n", what="allowlist")
    replace(target, "two\n", what="allowlist")
    assert target.read_text() == "two\n" and [p.name for p in tmp_path.iterdir()] == ["allowlist.toml"]

    log = tmp_path / "anchors.jsonl"
    append_line(log, '{"n": 1}', what="anchor index")
    with log.open("a") as handle:
        handle.write('{"n": 2, "cut sh')  # a crash in the middle of a line
    append_line(log, '{"n": 3}', what="anchor index")
    assert log.read_text().splitlines() == ['{"n": 1}', '{"n": 2, "cut sh', '{"n": 3}']
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_private_folder(tmp_path: Path) -> None:
    new = tmp_path / "new"
    assert private_folder(new) is None and stat.S_IMODE(new.stat().st_mode) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o755)
    assert private_folder(loose) == 0o755 and stat.S_IMODE(loose.stat().st_mode) == 0o700
    assert private_folder(loose) is None


def test_bytes_and_chunks_are_written_whole(tmp_path: Path) -> None:
    state = replace(tmp_path / "state.json", b'{"block": 1}', what="chain state")
    assert state.read_bytes() == b'{"block": 1}'
    data = replace(tmp_path / "data.bin", (bytes([i]) * 1000 for i in range(3)), what="benchmark data file")
    assert data.read_bytes() == b"\x00" * 1000 + b"\x01" * 1000 + b"\x02" * 1000
    secret = create_new(tmp_path / "secret", "é\n".encode() + b"\xff", what="secret", mode=0o600)
    assert secret.read_bytes() == b"\xc3\xa9\n\xff" and stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin", "secret", "state.json"]


def test_a_failing_chunk_source_leaves_the_old_file(tmp_path: Path) -> None:
    target = replace(tmp_path / "manifest.json", "old\n", what="deployment manifest")

    def chunks() -> Iterator[bytes]:
        yield b"new, half"
        raise OSError(28, "No space left on device")

    with pytest.raises(ConfigError, match=f"cannot write deployment manifest {target}: No space left on device"):
        replace(target, chunks(), what="deployment manifest")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
