"""`idsreg watch`, run as a user runs it against the workload story on the test chain."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import time
from typing import Any

from web3 import Web3

from client.chain.enums import Permission, Right
from client.datasets import Datasets
from client.grants import Grants
from tests.cli.conftest import IDSREG, assert_one_clear_line
from tests.cli.story import Served, person, served
from tests.conftest import chain_time
from tests.registry_api.workload import h, hx

__all__ = ["person", "served"]  # fixtures

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


# ----- watch ------------------------------------------------------------------------------


def _notices(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_watch_once_tells_what_concerns_the_organisation(person: Any, served: Served) -> None:
    s = served.story
    beta = person("beta", "BETA")
    notices = _notices(beta.ok("watch", "--key", "beta", "--once", "--json").stdout)
    kinds = [n["kind"] for n in notices]
    assert sorted(set(kinds)) == ["receiptRecorded", "rightOffered"]
    offer = next(n for n in notices if n["kind"] == "rightOffered")
    assert offer["dataset"] == hx(s.roots["weld parameters"]) and offer["right"] == "holding"
    assert offer["offeredBy"]["name"] == "ALPHA" and isinstance(offer["time"], int) and offer["txHash"].startswith("0x")
    receipt = next(n for n in notices if n["kind"] == "receiptRecorded")
    assert set(receipt["consumer"]) == {"orgNo", "orgId", "name"} and receipt["consumer"]["name"] == "BETA"
    assert receipt["termsCommitment"] == hx(s.openings[-1].commitment)  # the price stays with the parties
    # The offers that were accepted, cancelled or rejected since are not news.
    assert kinds.count("rightOffered") == 1

    alpha = person("alpha", "ALPHA")
    told = _notices(alpha.ok("watch", "--key", "alpha", "--once", "--json", "--expiring-within", "400d").stdout)
    opened = [n for n in told if n["kind"] == "disputeOpened"]
    assert sorted(n["right"] for n in opened) == ["holding", "operation", "processing"]
    expiring = [n for n in told if n["kind"] == "licenceExpiring"]
    assert sorted((n["grantee"]["name"], n["serial"]) for n in expiring) == [("BETA", 2), ("GAMMA", 1)]
    assert next(n for n in told if n["kind"] == "receiptRecorded")["provider"]["name"] == "ALPHA"
    # The default window (7 days) holds none of the year-long licences.
    assert "licenceExpiring" not in alpha.ok("watch", "--key", "alpha", "--once", "--json").stdout

    lines = alpha.ok("watch", "--key", "alpha", "--once").stdout.splitlines()
    assert lines and all(ISO.match(line) for line in lines)
    assert any("opened by GAMMA (member" in line and "against your operation right" in line for line in lines)
    # --from-block: only what came after.
    head = served.story.w3.eth.block_number
    assert alpha.ok("watch", "--key", "alpha", "--once", "--from-block", str(head + 1)).stdout == ""
    # --org instead of the key's organisation.
    as_beta = _notices(alpha.ok("watch", "--key", "alpha", "--org", "DEMO:BETA", "--once", "--json").stdout)
    assert [n["kind"] for n in as_beta] == kinds


def test_watch_tells_an_auditor_of_pending_approvals(person: Any, served: Served, w3: Web3) -> None:
    s = served.story
    auditor = person("auditor", auditor=True)
    assert auditor.ok("watch", "--key", "auditor", "--once").stdout == ""  # the story's were decided
    now = chain_time(w3)
    weld = s.roots["weld parameters"]
    Grants(s.registry).grant(s.key("ALPHA"), weld, "DEMO:BETA", Permission.READ, now, now + 3 * 86400, h("terms"))
    notices = _notices(auditor.ok("watch", "--key", "auditor", "--once", "--json").stdout)
    assert [n["kind"] for n in notices] == ["approvalPending"]
    assert notices[0]["serial"] == 2 and notices[0]["grantee"]["name"] == "BETA"
    assert notices[0]["permissions"] == ["read"]
    # Approved: no longer pending; and for the organisations, a licence ending within 7 days.
    Grants(s.registry).approve(s.auditor, weld, "DEMO:BETA", 2)
    assert auditor.ok("watch", "--key", "auditor", "--once").stdout == ""
    beta = person("beta", "BETA")
    expiring = [
        n
        for n in _notices(beta.ok("watch", "--key", "beta", "--once", "--json").stdout)
        if n["kind"] == "licenceExpiring"
    ]
    assert len(expiring) == 1 and expiring[0]["dataset"] == hx(weld) and expiring[0]["grantor"]["name"] == "ALPHA"
    line = next(x for x in beta.ok("watch", "--key", "beta", "--once").stdout.splitlines() if "expires" in x)
    assert "from ALPHA (member" in line and "to you" in line


def test_watch_refusals(person: Any, served: Served) -> None:
    user = person("gamma", "GAMMA")
    user.add_key("nobody")
    assert_one_clear_line(user.run("watch", "--once"), 2, "--key", "--org")
    assert_one_clear_line(user.run("watch", "--key", "nobody", "--once"), 2, "no member organisation")
    assert_one_clear_line(user.run("watch", "--org", "99", "--once"), 2, "99")
    assert_one_clear_line(user.run("watch", "--org", "DEMO:NOBODY", "--once"), 2, "DEMO:NOBODY")
    assert_one_clear_line(user.run("watch", "--key", "gamma", "--expiring-within", "soon", "--once"), 2, "soon")


def test_watch_follows_new_events_until_interrupted(person: Any, served: Served) -> None:
    s = served.story
    beta = person("beta", "BETA")
    head = s.w3.eth.block_number
    process = subprocess.Popen(
        [str(IDSREG), "watch", "--key", "beta", "--json", "--interval", "0.2", "--from-block", str(head + 1)],
        env=beta.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        time.sleep(0.5)
        Datasets(s.registry).offer(s.key("ALPHA"), s.roots["turbine scans"], Right.OPERATION, "DEMO:BETA")
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "no notice within 60 s"
        notice = json.loads(process.stdout.readline())
        assert notice["kind"] == "rightOffered" and notice["right"] == "operation"
        assert notice["dataset"] == hx(s.roots["turbine scans"])
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, err
    assert "Traceback" not in out + err
