"""`idsreg register --batch LIST`: files named, own items skipped, others' refused, interruptions resumed."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.cli.conftest import IDSREG, User, assert_one_clear_line
from tests.cli.test_dataset_cli import members, root_of, write  # noqa: F401  (members: a fixture)


def listing(tmp_path: Path, name: str, files: list[Path]) -> Path:
    return write(tmp_path / name, "# readings\n" + "\n".join(str(f) for f in files) + "\n")


def test_batch_skips_what_is_yours_and_names_what_is_not(members: User, tmp_path: Path) -> None:  # noqa: F811
    files = [write(tmp_path / "bulk" / f"part-{i:02}.csv", f"part {i}\n") for i in range(12)]
    members.ok("register", str(files[1]), "--key", "conn")
    members.ok("register", str(files[7]), "--key", "acme")
    members.ok("register", str(files[4]), "--key", "beta")  # another organisation's
    batch = listing(tmp_path, "bulk.txt", files)

    first = members.run("register", "--batch", str(batch), "--chunk-size", "5", "--key", "conn", "--json")
    assert_one_clear_line(first, 5, "1 of 12 listed items not registered", str(files[4]), "Beta Motors")
    result = first.json()
    assert (result["registered"], result["skipped"], result["failed"]) == (9, 2, 1)
    assert result["resumed"] is False and len(result["transactions"]) == 2  # 9 items in chunks of 5
    status = {Path(d["path"]).name: d["status"] for d in result["datasets"]}
    assert status["part-01.csv"] == status["part-07.csv"] == "skipped"
    assert status["part-04.csv"] == "failed" and status["part-00.csv"] == "registered"
    assert [d["root"] for d in result["datasets"]] == [root_of(f) for f in files]
    for f in files:
        registrant = members.ok_json("dataset", "show", root_of(f))["registrant"]["name"]
        assert registrant == ("Beta Motors" if f == files[4] else "ACME Steel")

    # Again, as a person reads it: every item is now skipped but BETA's, named by its file.
    again = members.run("register", "--batch", str(batch), "--key", "conn")
    assert again.code == 5 and "Traceback" not in again.stderr
    assert "registered 0, skipped 11 already yours, failed 1" in again.stdout
    assert f"not registered {files[4]}: registered by Beta Motors (member 2)" in again.stdout

    mine = listing(tmp_path, "mine.txt", [f for f in files if f != files[4]])
    done = members.ok_json("register", "--batch", str(mine), "--key", "conn")
    assert (done["registered"], done["skipped"], done["failed"]) == (0, 11, 0) and done["transactions"] == []

    bad_size = members.run("register", "--batch", str(mine), "--chunk-size", "501", "--key", "conn")
    assert_one_clear_line(bad_size, 2, "--chunk-size 501")


def progress_record(home: Path) -> dict[str, Any] | None:
    found = list((home / "batches").glob("*.json")) if (home / "batches").is_dir() else []
    return json.loads(found[0].read_text()) if found else None


def test_a_killed_batch_resumes_where_it_stopped(members: User, tmp_path: Path) -> None:  # noqa: F811
    files = [write(tmp_path / "sensor" / f"r-{i:04}.json", f'{{"n": {i}}}\n') for i in range(1000)]
    batch = listing(tmp_path, "sensor.txt", files)
    command = [str(IDSREG), "register", "--batch", str(batch), "--chunk-size", "10", "--key", "conn", "--json"]
    process = subprocess.Popen(command, env=members.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            record = progress_record(members.home)
            if record and sum(i["status"] == "registered" for i in record["items"]) >= 30:
                break
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    record = progress_record(members.home)
    assert record is not None and record["complete"] is False
    before = sum(i["status"] == "registered" for i in record["items"])
    assert 30 <= before < 1000

    resumed = members.run("register", "--batch", str(batch), "--chunk-size", "100", "--key", "conn", "--json")
    assert resumed.code == 0, resumed.stderr
    assert "note: resuming the batch" in resumed.stderr
    result = resumed.json()
    assert result["resumed"] is True and result["run"] == 2
    assert result["registered"] == 1000 and result["skipped"] == 0 and result["failed"] == 0
    # What the killed run sent (even a transaction whose receipt it never saw) counts as this batch's.
    assert result["registeredEarlier"] >= before
    assert sum(len(tx["events"]) - 1 for tx in result["transactions"]) == 1000 - result["registeredEarlier"]
    final = progress_record(members.home)
    assert final is not None and final["complete"] is True
    assert all(i["status"] == "registered" and i["transaction"] for i in final["items"])
    assert members.ok_json("verify", str(files[999]))["registration"]["registrant"]["name"] == "ACME Steel"
