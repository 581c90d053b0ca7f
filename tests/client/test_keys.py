"""Encrypted keystores (test-only keys and passwords)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from eth_account import Account

from client.errors import KeystoreError, WrongPasswordError
from client.keys import Keystore

FAST = 2**10  # a weak scrypt work factor, for test keystores only
TEST_PASSWORD = "test-only-password"


def test_create_find_unlock(tmp_path: Path) -> None:
    store = Keystore(tmp_path / "keystore")
    entry = store.create("alice", TEST_PASSWORD, scrypt_n=FAST)
    assert store.find("alice") == entry
    assert store.find(entry.address.lower()) == entry
    assert store.unlock(entry, TEST_PASSWORD).address == entry.address
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o600
    text = entry.path.read_text()
    assert TEST_PASSWORD not in text and json.loads(text)["crypto"]["kdf"] == "scrypt"


def test_wrong_password(tmp_path: Path) -> None:
    store = Keystore(tmp_path)
    entry = store.create("alice", TEST_PASSWORD, scrypt_n=FAST)
    with pytest.raises(WrongPasswordError, match="wrong password for key 'alice'"):
        store.unlock(entry, "not-it")


@pytest.mark.parametrize("label", ["", "-dash-first", "has space", "a/b", "x" * 65])
def test_bad_label_is_refused(tmp_path: Path, label: str) -> None:
    with pytest.raises(KeystoreError, match="not valid"):
        Keystore(tmp_path).create(label, TEST_PASSWORD, scrypt_n=FAST)
    assert list(tmp_path.iterdir()) == []


def test_duplicates_are_refused(tmp_path: Path) -> None:
    store = Keystore(tmp_path)
    entry = store.create("alice", TEST_PASSWORD, scrypt_n=FAST)
    with pytest.raises(KeystoreError, match="already exists"):
        store.create("alice", TEST_PASSWORD, scrypt_n=FAST)
    secret = store.unlock(entry, TEST_PASSWORD).key.hex()
    with pytest.raises(KeystoreError, match="already in the keystore as 'alice'"):
        store.import_private_key("alice2", secret, TEST_PASSWORD, scrypt_n=FAST)


def test_import_private_key_and_keystore(tmp_path: Path) -> None:
    store = Keystore(tmp_path)
    account = Account.create()
    entry = store.import_private_key("imported", account.key.hex(), TEST_PASSWORD, scrypt_n=FAST)
    assert entry.address == account.address
    other = Account.create()
    foreign = Account.encrypt(other.key, "their-test-password", kdf="pbkdf2", iterations=1000)
    with pytest.raises(WrongPasswordError):
        store.import_keystore("foreign", foreign, "wrong", TEST_PASSWORD, scrypt_n=FAST)
    assert (
        store.import_keystore("foreign", foreign, "their-test-password", TEST_PASSWORD, scrypt_n=FAST).address
        == other.address
    )
    with pytest.raises(KeystoreError, match="valid private key"):
        store.import_private_key("bad", "0x1234", TEST_PASSWORD, scrypt_n=FAST)
    assert {e.label for e in store.entries()} == {"imported", "foreign"}


def test_unknown_key(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="no key 'bob'"):
        Keystore(tmp_path).find("bob")


def test_a_key_file_created_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    """Another process writing the same label between the check and the write keeps its file."""

    class Racing(Keystore):
        def entries(self):  # type: ignore[no-untyped-def]
            (self.directory / "alice.json").write_text('{"address": "the other process\'s key"}')
            return []

    store = Racing(tmp_path)
    with pytest.raises(KeystoreError, match="already exists"):
        store.create("alice", TEST_PASSWORD, scrypt_n=FAST)
    assert (tmp_path / "alice.json").read_text() == '{"address": "the other process\'s key"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.json"]
