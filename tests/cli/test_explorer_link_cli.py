"""`idsreg api login --link`, run as a user runs it: the CLI signs in with the member's key and
prints a one-time link that signs a real browser in to the explorer (the key never enters it)."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.browser import browser
from tests.cli.story import Served, person, served

__all__ = ["person", "served"]  # fixtures


def test_login_link_signs_a_browser_in_once(person: Any, served: Served) -> None:
    beta = person("beta", "BETA")
    signed = beta.ok_json("api", "login", "--key", "beta", "--link")
    link = signed["signInLink"]
    assert re.fullmatch(re.escape(served.url) + r"/signin\?code=[A-Za-z0-9_-]{32}", link["url"])
    assert time.time() < link["expiresAt"] <= time.time() + 61
    human = beta.ok("api", "login", "--key", "beta", "--link").stdout
    printed = re.search(r"^(http://\S+/signin\?code=\S+)$", human, re.MULTILINE)
    assert printed is not None and "works once" in human
    with browser() as b:
        b.page.goto(printed.group(1))
        assert b.page.locator("#signed-in").count() == 1
        b.page.click("#continue")
        assert b.page.locator("#signed-in-as").inner_text() == "BETA"
        assert b.refused == []
    with browser() as b:  # the same link again: refused
        answer = b.page.goto(printed.group(1))
        assert answer is not None and answer.status == 401
        assert "used already" in b.page.locator("#error").inner_text()
    # Without --link nothing is issued, and the human output names no link.
    assert "signin?code=" not in beta.ok("api", "login", "--key", "beta").stdout
    assert "signInLink" not in beta.ok_json("api", "login", "--key", "beta")
