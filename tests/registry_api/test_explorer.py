"""The explorer's pages (`registry_api/explorer/`) in a real Chromium, over the workload story on
the test chain, indexed and served over HTTP: every page renders from the service's own assets,
links lead where they say, the lineage graph holds the lineage, need-to-know holds in the
browser, sign-in links work once, and bad input gets a 4xx page. Screenshots of every page go
to build/screenshots/ (README, "Explorer")."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

import registry_api.auth
from registry_api.indexer import Indexer
from tests.browser import Browser, browser
from tests.registry_api.conftest import Served, api_settings_for, databases, serving
from tests.registry_api.workload import Story, hx

#: Where the test run leaves a screenshot of each page, for people to look at.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@pytest.fixture(scope="module")
def site(told_story: Story, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The story indexed into a fresh SQLite database and served (pages and API) over HTTP."""
    folder = tmp_path_factory.mktemp("explorer")
    with databases("sqlite", folder) as make:
        engine = make()
        deployments = folder / "deployments"
        told_story.registry.manifest.save(deployments)
        settings = api_settings_for(told_story.registry, engine, deployments)
        Indexer(told_story.registry, engine, settings).scan_once()
        with serving(settings, engine) as url, httpx.Client(base_url=url, timeout=30) as http:
            yield Served(told_story, engine, url, http, "sqlite")


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def watch_errors(b: Browser) -> list[str]:
    """Script errors and console errors (a Content-Security-Policy refusal is one) of the page."""
    errors: list[str] = []
    b.page.on("pageerror", lambda exc: errors.append(str(exc)))
    b.page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


def link_for(site: Served, org: str) -> str:
    """A one-time sign-in link for the connector key of `org`, as `idsreg api login --link` asks for it."""
    headers = site.sign_in(site.story.key(org))
    answer = site.http.post("/v1/auth/link", headers=headers)
    assert answer.status_code == 200, answer.text
    link: dict[str, Any] = answer.json()
    assert link["url"] == f"{site.url}/signin?code={link['code']}"
    return str(link["url"])


def sign_in(b: Browser, site: Served, org: str) -> None:
    b.page.goto(link_for(site, org))
    assert b.page.locator("#signed-in").count() == 1
    b.page.click("#continue")
    assert b.page.locator("#signed-in-as").inner_text() == org


def token(site: Served, org: str) -> dict[str, str]:
    return site.sign_in(site.story.key(org))


def root(s: Story, name: str) -> str:
    return hx(s.roots[name])


def test_home_shows_status_counts_and_latest(site: Served) -> None:
    status = site.http.get("/v1/status").json()
    datasets = site.http.get("/v1/datasets", params={"limit": 8}).json()["data"]
    with browser() as b:
        errors = watch_errors(b)
        b.page.goto(f"{site.url}/")
        assert b.page.locator("#indexed-block").inner_text() == str(status["indexedBlock"])
        assert b.page.locator("#count-datasets").inner_text() == str(
            site.http.get("/v1/datasets", params={"limit": 500}).json()["data"].__len__()
        )
        assert int(b.page.locator("#count-members").inner_text()) == 4
        assert int(b.page.locator("#count-disputes").inner_text()) == 3
        shown = b.page.locator("#latest-registrations a.root")
        assert [shown.nth(i).get_attribute("href") for i in range(shown.count())] == [
            f"/datasets/{d['root']}" for d in datasets
        ]
        # The moves of rights: Beta took the processing right of the turbine scans, Gamma won
        # the operation of the prototype drawings by dispute.
        moves = b.page.locator("#latest-transfers").inner_text()
        assert "awarded (dispute" in moves and "transferred" in moves
        assert b.page.locator("#latest-deliveries .need-sign-in").count() == 1
        assert b.page.locator("#latest-disputes tbody tr").count() == 3
        for name, address in status["contracts"].items():
            assert address in (b.page.locator("#contracts").text_content() or ""), name
        # Navigation: Verify a file goes to /verify (another package serves it), API docs to /docs.
        assert b.page.get_by_role("link", name="Verify a file").get_attribute("href") == "/verify"
        shoot(b.page, "home")
        b.page.click(f"#latest-registrations a[href='/datasets/{datasets[0]['root']}']")
        b.page.wait_for_url(f"{site.url}/datasets/{datasets[0]['root']}")
        assert b.page.locator("#dataset-root").inner_text() == datasets[0]["root"]
        b.page.click("nav >> text=API docs")
        b.page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
        assert b.refused == [] and errors == []


def graph_of(page: Page) -> tuple[set[str], set[tuple[str, str]]]:
    """The nodes and edges (parent, child) of the lineage graph object in the page."""
    nodes = page.evaluate("window.lineageGraph.nodes().map(n => n.id())")
    edges = page.evaluate("window.lineageGraph.edges().map(e => [e.source().id(), e.target().id()])")
    return set(nodes), {(p, c) for p, c in edges}


def test_dataset_page_lineage_graph_and_timeline(site: Served) -> None:
    s = site.story
    blade, scans, weld, plan = (
        root(s, n) for n in ("blade wear model", "turbine scans", "weld parameters", "maintenance plan")
    )
    with browser() as b:
        errors = watch_errors(b)
        b.page.goto(f"{site.url}/datasets/{blade}?depth=2")
        b.page.wait_for_function("window.lineageGraph !== undefined")
        nodes, edges = graph_of(b.page)
        assert nodes == {blade, scans, weld, plan}
        assert edges == {(scans, blade), (weld, blade), (blade, plan)}
        # The same graph as the API's lineage.
        api = site.http.get(f"/v1/datasets/{blade}/lineage", params={"depth": 2}).json()
        assert nodes == {n["root"] for n in api["nodes"]}
        assert edges == {(e["parent"], e["child"]) for e in api["edges"]}
        assert b.page.locator("#lineage-graph p.none").count() == 0  # drawn: the note is gone
        # Parents above the dataset, children below it.
        y = b.page.evaluate("Object.fromEntries(window.lineageGraph.nodes().map(n => [n.id(), n.position('y')]))")
        assert y[scans] == y[weld] < y[blade] < y[plan]
        assert b.page.locator("#grade").inner_text() == "general"
        assert b.page.locator("#right-holding").inner_text().split("\t")[1] == "BETA"
        shoot(b.page, "dataset")

        # Clicking a node follows it, at the same depth.
        position = b.page.evaluate(
            f"(() => {{ const p = window.lineageGraph.$id('{scans}').renderedPosition(); return [p.x, p.y]; }})()"
        )
        box = b.page.locator("#lineage-graph").bounding_box()
        assert box is not None
        b.page.mouse.click(box["x"] + position[0], box["y"] + position[1])
        b.page.wait_for_url(f"{site.url}/datasets/{scans}?depth=2")
        b.page.wait_for_function("window.lineageGraph !== undefined")
        nodes, edges = graph_of(b.page)
        # (The gear test bench no longer derives from it: Beta's reveal superseded Alpha's registration.)
        derived = {root(s, n) for n in ("line sensor 0", "blade wear model")}
        assert nodes >= {scans} | derived and {(scans, d) for d in derived} <= edges
        assert plan in nodes  # two steps down: blade wear model → maintenance plan

        # The timeline: every history entry, in chain order, linked to its block and transaction.
        history = site.http.get(f"/v1/datasets/{scans}/history", params={"limit": 500}).json()["data"]
        entries = b.page.locator(".timeline li")
        assert entries.count() == len(history)
        assert [entries.nth(i).get_attribute("data-event") for i in range(entries.count())] == [
            e["event"] for e in history
        ]
        kinds = set(b.page.evaluate("[...document.querySelectorAll('.timeline li')].map(li => li.classList[1])"))
        assert {"registration", "transfer", "licence", "delivery", "dispute"} <= kinds
        # Signed out: the licence and delivery entries say that their details are not shown.
        redacted = [e for e in history if e["redacted"]]
        assert redacted and b.page.locator(".timeline .redacted").count() == len(redacted)
        # Member numbers in the events' arguments are shown as organisations, linked to their pages.
        moved = b.page.locator(".timeline li[data-event=RightTransferred] a.org")
        assert [moved.nth(i).inner_text() for i in range(moved.count())] == ["ALPHA", "BETA"]
        assert b.page.locator("#more-history").count() == 0  # every event is on the page
        first = history[0]
        b.page.locator(".timeline li").first.locator("a.tx-link").click()
        b.page.wait_for_url(f"{site.url}/tx/{first['txHash']}")
        assert b.page.locator("#tx-hash").inner_text() == first["txHash"]
        assert b.page.locator("#tx-block").inner_text() == str(first["blockNumber"])
        shoot(b.page, "transaction")
        b.page.click("#tx-block")
        assert b.page.locator("#block-number").inner_text() == str(first["blockNumber"])
        assert b.page.locator("#block-hash").inner_text() == first["blockHash"]
        assert b.page.locator(f"a.tx-link[href='/tx/{first['txHash']}']").count() == 1
        shoot(b.page, "block")
        assert b.refused == [] and errors == []


def test_without_the_graph_library_the_page_says_so_and_lists_the_lineage(site: Served) -> None:
    blade = root(site.story, "blade wear model")
    with browser() as b:
        b.page.route("**/cytoscape.min.js", lambda route: route.abort())  # as if `npm ci` never ran
        b.page.goto(f"{site.url}/datasets/{blade}")
        assert "needs cytoscape" in b.page.locator("#lineage-graph").inner_text()
        assert b.page.locator("#lineage-list a.root").count() == 4


def test_need_to_know_holds_in_the_browser(site: Served) -> None:
    s = site.story
    scans = root(s, "turbine scans")
    for org in ("ALPHA", "GAMMA"):
        headers = token(site, org)
        grants = site.http.get("/v1/grants", params={"dataset": scans}, headers=headers).json()["data"]
        receipts = site.http.get("/v1/receipts", params={"dataset": scans}, headers=headers).json()["data"]
        with browser() as b:
            errors = watch_errors(b)
            sign_in(b, site, org)
            b.page.goto(f"{site.url}/datasets/{scans}")
            rows = b.page.locator("#dataset-grants tr.grant")
            assert rows.count() == len(grants)
            grantees = {rows.nth(i).locator("td").nth(2).inner_text() for i in range(rows.count())}
            if org == "ALPHA":  # the grantor sees every licence it gave, and its delivery
                assert grantees == {"BETA", "GAMMA"} and len(receipts) == 1
                assert b.page.locator("#dataset-receipts tr.receipt").count() == 1
                assert b.page.locator("#audit-report").get_attribute("href") == f"/v1/datasets/{scans}/audit/report"
                assert b.page.locator("#audit-bundle").get_attribute("href") == f"/v1/datasets/{scans}/audit/bundle"
                shoot(b.page, "dataset-signed-in")
            else:  # Gamma sees its own (revoked) licence, not Beta's, and no delivery
                assert grantees == {"GAMMA"} and receipts == []
                assert b.page.locator("#dataset-receipts").count() == 0
                assert "None you may see." in b.page.locator("#deliveries").inner_text()
                assert b.page.locator("#audit-links").count() == 0
            b.page.goto(f"{site.url}/orgs/DEMO:BETA")
            given = site.http.get("/v1/grants", params={"grantee": "DEMO:BETA"}, headers=headers).json()["data"]
            assert b.page.locator("#licences-received tr.grant").count() == len(given)
            assert (org == "ALPHA") == (len(given) > 0)
            assert b.refused == [] and errors == []
    with browser() as b:  # signed out: no licence or delivery at all
        b.page.goto(f"{site.url}/datasets/{scans}")
        assert b.page.locator("tr.grant, tr.receipt").count() == 0
        assert b.page.locator(".need-sign-in").count() == 2 and b.page.locator("#audit-links").count() == 0
        b.page.goto(f"{site.url}/orgs/DEMO:ALPHA")
        assert b.page.locator("tr.grant, tr.receipt").count() == 0


def test_an_auditor_sees_every_licence_and_delivery(site: Served) -> None:
    s = site.story
    scans = root(s, "turbine scans")
    headers = site.sign_in(s.auditor)
    link = site.http.post("/v1/auth/link", headers=headers).json()["url"]
    grants = site.http.get("/v1/grants", params={"dataset": scans}, headers=headers).json()["data"]
    with browser() as b:
        b.page.goto(link)
        b.page.click("#continue")
        assert b.page.locator("#signed-in-as").inner_text() == "auditor"
        b.page.goto(f"{site.url}/datasets/{scans}")
        assert b.page.locator("#dataset-grants tr.grant").count() == len(grants) == 3
        assert b.page.locator("#dataset-receipts tr.receipt").count() == 1
        assert b.page.locator(".timeline .redacted").count() == 0
        assert b.page.locator("#audit-links").count() == 1
        b.page.goto(f"{site.url}/")
        assert b.page.locator("#home-receipts tr.receipt").count() == 1


def test_organisation_page(site: Served) -> None:
    s = site.story
    member = site.http.get("/v1/members/DEMO:ALPHA").json()
    with browser() as b:
        errors = watch_errors(b)
        sign_in(b, site, "ALPHA")
        b.page.click("#signed-in-as")
        b.page.wait_for_url(f"{site.url}/orgs/{member['orgNo']}")  # a loaded machine: wait for the page
        assert b.page.locator("#org-name").inner_text() == "ALPHA"
        assert b.page.locator("#member-status").inner_text() == "active"
        keys = b.page.locator("#keys tr.key")
        assert keys.count() == len(member["keys"])
        assert s.key("ALPHA").address in b.page.locator("#keys").inner_text()
        assert "removed" in b.page.locator("#keys").inner_text()  # the spare connector, and the first admin
        registered = site.http.get("/v1/datasets", params={"registrant": "DEMO:ALPHA", "limit": 500}).json()["data"]
        assert b.page.locator("#registered a.root").count() == len(registered)
        headers = token(site, "ALPHA")
        given = site.http.get("/v1/grants", params={"grantor": "DEMO:ALPHA"}, headers=headers).json()["data"]
        assert b.page.locator("#licences-given tr.grant").count() == len(given) > 0
        assert b.page.locator("#deliveries-provided tr.receipt").count() == 1
        shoot(b.page, "organisation")
        b.page.click("#partners a.pair >> text=BETA")
        b.page.wait_for_url("**/exchanges?org=*")
        assert b.page.locator("#pair").inner_text().startswith("Between ALPHA and BETA")
        assert b.page.input_value("#exchange-form input[name=org]") == str(member["orgNo"])
        b.page.wait_for_function("window.volumeChart !== undefined")
        assert b.page.locator("#chart-missing").count() == 0
        totals = b.page.evaluate("window.volumeChart.data.datasets.map(d => d.data.reduce((a, b) => a + b, 0))")
        beta = site.http.get("/v1/members/DEMO:BETA").json()["orgNo"]
        pair_grants = [g for g in given if g["grantee"]["orgNo"] == beta]
        assert totals == [len(pair_grants), 1]  # licences, deliveries
        assert b.page.locator("#exchange-timeline li").count() == len(pair_grants) + 1
        shoot(b.page, "exchanges")
        b.page.goto(f"{site.url}/exchanges?dataset={root(s, 'turbine scans')}")
        b.page.wait_for_function("window.volumeChart !== undefined")
        assert b.page.locator("#exchange-timeline li.delivery").count() == 1
        b.page.click("#sign-out")
        b.page.wait_for_url(f"{site.url}/")
        assert b.page.locator("#sign-in").count() == 1
        b.page.goto(f"{site.url}/exchanges?org=DEMO:ALPHA&other=DEMO:BETA")
        assert b.page.locator("#exchange-timeline").count() == 0 and b.page.locator(".need-sign-in").count() == 1
        assert b.refused == [] and errors == []


def test_sign_in_link_works_once_and_expires(site: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    link = link_for(site, "BETA")
    with browser() as b:
        b.page.goto(link)
        assert b.page.locator("#signed-in").count() == 1
        cookie = next(c for c in b.page.context.cookies() if c["name"] == "idsreg_explorer")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert b.page.evaluate("document.cookie") == ""  # no script reads the token
        shoot(b.page, "signed-in")
    with browser() as b:
        answer = b.page.goto(link)
        assert answer is not None and answer.status == 401
        assert "used already" in b.page.locator("#error").inner_text()
        assert b.page.locator("#sign-in").count() == 1
        shoot(b.page, "sign-in-refused")
    monkeypatch.setattr(registry_api.auth, "LINK_TTL", -1)  # the server runs in this process
    stale = link_for(site, "BETA")
    with browser() as b:
        answer = b.page.goto(stale)
        assert answer is not None and answer.status == 401
        assert "expired" in b.page.locator("#error").inner_text()
    assert httpx.get(f"{site.url}/signin", params={"code": "x" * 32}).status_code == 401
    assert site.http.post("/v1/auth/link").status_code == 401  # only a signed-in caller gets a link


def test_search(site: Served) -> None:
    s = site.story
    with browser() as b:
        b.page.goto(f"{site.url}/")
        b.page.fill("nav input[name=q]", root(s, "weld parameters").upper().replace("0X", "0x"))
        b.page.press("nav input[name=q]", "Enter")
        b.page.wait_for_url(f"{site.url}/datasets/{root(s, 'weld parameters')}")
        b.page.fill("nav input[name=q]", "DEMO:GAMMA")
        b.page.press("nav input[name=q]", "Enter")
        b.page.wait_for_selector("#org-name")
        assert b.page.locator("#org-name").inner_text() == "GAMMA"
        b.page.goto(f"{site.url}/search?q=turbine")
        assert b.page.locator("#results a.root").count() == 1
        assert b.page.locator("#results").inner_text().count("ipfs://alpha/turbine-scans.json") == 1
        shoot(b.page, "search")
        b.page.goto(f"{site.url}/search?q=no-such-thing")
        assert b.page.locator("#no-results").count() == 1
        assert b.refused == []


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/datasets/0x12", 422, "0x12"),
        ("/datasets/" + "0x" + "00" * 32, 404, "0x" + "00" * 32),
        ("/datasets/not-a-root", 422, "not-a-root"),
        ("/orgs/DEMO:NOBODY", 404, "DEMO:NOBODY"),
        ("/orgs/4294967296", 404, "4294967296"),
        ("/orgs/%20", 422, ""),
        ("/tx/0x1234", 422, "0x1234"),
        ("/tx/0x" + "ab" * 32, 404, "0x" + "ab" * 32),
        ("/blocks/abc", 422, "abc"),
        ("/blocks/999999999", 404, "999999999"),
        ("/exchanges?org=DEMO:NOBODY&other=DEMO:BETA", 200, ""),
        ("/search?q=" + "x" * 201, 422, "201"),
    ],
)
def test_bad_input_gets_a_4xx_page(site: Served, path: str, status: int, says: str) -> None:
    page = httpx.get(f"{site.url}{path}")
    assert page.status_code == status, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert says in page.text


def test_bad_input_signed_in(site: Served) -> None:
    with browser() as b:
        sign_in(b, site, "ALPHA")
        answer = b.page.goto(f"{site.url}/exchanges?org=DEMO:NOBODY&other=DEMO:BETA")
        assert answer is not None and answer.status == 404
        assert "DEMO:NOBODY" in b.page.locator("#error").inner_text()
        answer = b.page.goto(f"{site.url}/exchanges?dataset=0xnope")
        assert answer is not None and answer.status == 422
        answer = b.page.goto(f"{site.url}/datasets/{root(site.story, 'weld parameters')}?depth=11")
        assert answer is not None and answer.status == 422
        assert "depth 11" in b.page.locator("#error").inner_text()
        shoot(b.page, "error")


def test_pages_keep_a_strict_content_security_policy(site: Served) -> None:
    scans = root(site.story, "turbine scans")
    for path in ("/", f"/datasets/{scans}", "/orgs/DEMO:ALPHA", "/exchanges", "/signin", "/search?q=x", "/register"):
        page = httpx.get(f"{site.url}{path}")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe" not in policy, path
        assert "cdn" not in page.text.lower() and "<script>" not in page.text, path
    for asset in ("/assets/npm/cytoscape/cytoscape.min.js", "/assets/npm/chart.js/chart.umd.js"):
        answer = httpx.get(f"{site.url}{asset}")
        assert answer.status_code == 200 and len(answer.content) > 100_000, asset


def test_registration_helper_suggests_the_grade_and_the_command(site: Served) -> None:
    questions = site.http.get("/v1/classify/questions").json()
    with browser() as b:
        errors = watch_errors(b)
        b.page.goto(f"{site.url}/")
        b.page.get_by_role("link", name="Register a dataset").click()
        assert b.page.url == f"{site.url}/register"
        assert b.page.locator("#questions select").count() == len(questions)
        assert b.page.locator("#suggestion").count() == 0
        # Serious harm to the economy makes data important (GB/T 43697-2024 table 2); harm to
        # rights alone makes it general, a rule that applies too but does not decide.
        b.page.select_option("#q-harm_economic_operation", "serious")
        b.page.select_option("#q-harm_rights", "general")
        b.page.select_option("#q-large_scale", "no")
        b.page.fill("#file", "turbine scans/")
        b.page.click("#suggest")
        api = site.http.post(
            "/v1/classify",
            json={"answers": {"harm_economic_operation": "serious", "harm_rights": "general", "large_scale": False}},
        ).json()
        assert api["grade"] == "important"
        assert b.page.locator("#suggested-grade").inner_text() == "important"
        decided = api["decidedBy"]
        assert b.page.locator("#deciding-rule").inner_text() == decided["id"] == "GBT-table-economy-serious"
        assert b.page.locator("#deciding-because").inner_text() == decided["because"]
        assert b.page.locator("#deciding-source").inner_text() == decided["source"]
        assert b.page.locator("#deciding-clause").inner_text() == decided["clause"]
        others = [r["id"] for r in api["applied"] if r["id"] != decided["id"]]
        assert others and b.page.locator("#also-applies tbody tr td.mono").all_inner_texts() == others
        assert b.page.locator("#not-answered").inner_text() == ", ".join(api["assumed"])
        command = b.page.locator("#register-command").inner_text()
        assert command == "idsreg register 'turbine scans/' --grade important --answers answers.json"
        shown = json.loads(b.page.locator("#answers-json").inner_text())
        assert shown == {
            "format": "idsreg-classification-answers/1",
            "answers": {"harm_economic_operation": "serious", "harm_rights": "general", "large_scale": False},
        }
        # The form keeps the answers; the answers file to save is the one shown.
        assert b.page.locator("#q-harm_economic_operation").input_value() == "serious"
        saved = httpx.get(site.url + (b.page.locator("#answers-download").get_attribute("href") or ""))
        assert saved.status_code == 200 and saved.json() == shown
        assert saved.headers["content-disposition"].startswith("attachment")
        shoot(b.page, "register")
        assert b.refused == [] and errors == []


def test_registration_helper_reads_a_pasted_document(site: Served) -> None:
    metadata = {"title": "grid loads", "classification": {"large_scale_shutdown": "yes", "harm_rights": "serious"}}
    with browser() as b:
        b.page.goto(f"{site.url}/register")
        b.page.fill("#document", json.dumps(metadata))
        b.page.select_option("#q-harm_rights", "none")  # the form wins over the document
        b.page.click("#suggest")
        api = site.http.post(
            "/v1/classify", json={"answers": {"large_scale_shutdown": True, "harm_rights": "none"}}
        ).json()
        assert b.page.locator("#suggested-grade").inner_text() == api["grade"] == "core"
        assert b.page.locator("#deciding-rule").inner_text() == api["decidedBy"]["id"] == "MIIT-art11-shutdown"
        assert (
            "idsreg register FILE --grade core --answers answers.json"
            in b.page.locator("#register-command").inner_text()
        )


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"sent": "1", "harm_rights": "terrible"}, "'terrible' to harm_rights"),
        ({"sent": "1", "large_scale": "maybe"}, "'maybe' to large_scale"),
        ({"sent": "1", "document": "{not json"}, "not JSON"),
        ({"sent": "1", "document": "[1, 2]"}, "not a JSON object"),
        ({"sent": "1", "document": '{"answers": {"colour": "red"}}'}, "'colour'"),
        ({"sent": "1", "document": '{"answers": {"designated": "secret"}}'}, "'secret' to designated"),
        ({"sent": "1", "document": '{"classification": 3}'}, "not an object"),
        ({"sent": "1", "document": "x" * 20_001}, "20001 characters"),
    ],
)
def test_registration_helper_bad_input_gets_a_4xx_page(site: Served, query: dict[str, str], says: str) -> None:
    for path in ("/register", "/register/answers.json"):
        page = httpx.get(f"{site.url}{path}", params=query)
        assert page.status_code == 422, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert says in html.unescape(page.text), path
