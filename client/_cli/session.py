"""`idsreg api login|logout|whoami`: a bearer token of the registry API for the CLI's later calls.

`login` signs the API's EIP-4361 challenge with a member key (or an auditor's, governor's or
arbiter's) and keeps the token in `$IDSREG_HOME/api-session.json` (mode 0600), which the list
commands send with their requests to that API. A later `login` replaces that file; any other
file at its place is kept as it is (the command refuses). `logout` deletes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..times import iso
from .common import JsonOpt, KeyOpt, PasswordFileOpt, console, emit, keystore, signer

if TYPE_CHECKING:
    from ..registry_client import ApiSession, RegistryClient

ApiUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--api-url", help="The registry API's address (env IDSREG_API_URL; default: the local `idsreg api serve`)."
    ),
]


def api_url(given: str | None) -> str:
    from ..settings import get_settings

    return (given or get_settings().api_url).rstrip("/")


def org_text(org: dict[str, Any] | None) -> str:
    """ "ACME Steel (member 3)", "member 3", or "-"."""
    if not org or not org.get("orgNo"):
        return "-"
    return f"{org['name']} (member {org['orgNo']})" if org.get("name") else f"member {org['orgNo']}"


def session_for(url: str, *, required: bool) -> ApiSession | None:
    """The stored session for the API at `url`, if it is usable; NotSignedInError when
    `required` and there is none, or it expired, or it is for another API."""
    from ..registry_client import LOGIN_HINT, NotSignedInError, load_session
    from ..settings import get_settings

    path = get_settings().api_session
    session = load_session(path)
    if session is not None and session.url == url and not session.expired:
        return session
    if not required:
        return None
    if session is None:
        raise NotSignedInError(f"not logged in to the registry API at {url}: {LOGIN_HINT.replace('again ', '')}")
    if session.url != url:
        raise NotSignedInError(f"the stored API token is for {session.url}, not {url}; {LOGIN_HINT}")
    raise NotSignedInError(f"the API token of key {session.key!r} expired at {iso(session.expires_at)}; {LOGIN_HINT}")


def client_for(url: str | None, *, token_required: bool = False) -> RegistryClient:
    """A client of the configured API, with the stored token when there is a usable one."""
    from ..registry_client import RegistryClient

    base = api_url(url)
    session = session_for(base, required=token_required)
    return RegistryClient(base, session.access_token if session is not None else None)


def _session_json(session: ApiSession, path: str) -> dict[str, Any]:
    return {
        "url": session.url,
        "address": session.address,
        "key": session.key,
        "org": session.org,  # the API's {"orgNo", "orgId", "name"}, as every --json gives organisations
        "roles": session.roles,
        "expiresAt": session.expires_at,
        "sessionFile": path,
    }


LinkOpt = Annotated[
    bool,
    typer.Option(
        "--link",
        help="Also print a one-time link that signs a browser in to the explorer (open it within a minute; "
        "it works once). The key never enters the browser.",
    ),
]


def login(
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    url: ApiUrlOpt = None,
    link: LinkOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Sign in to the registry API with a key (EIP-4361 challenge) and keep the token for later
    commands, in $IDSREG_HOME/api-session.json (mode 0600); `--link` also prints a one-time
    sign-in link for the explorer in a browser."""
    from ..registry_client import RegistryClient, load_session, save_session
    from ..settings import get_settings

    account = signer(key, password_file)
    label = keystore().find(key or get_settings().key or account.address).label
    path = get_settings().api_session
    load_session(path)  # an unrelated file there: refuse before signing anything
    with RegistryClient(api_url(url)) as api:
        session = api.sign_in(account, label)
        browser = api.sign_in_link() if link else None
    save_session(path, session)
    roles = f", roles {', '.join(session.roles)}" if session.roles else ""
    data = _session_json(session, str(path))
    if browser is not None:
        data["signInLink"] = {"url": browser.url, "expiresAt": browser.expires_at}

    def human() -> None:
        console.print(
            f"signed in to {session.url} as {session.address} (key {label!r}, {org_text(session.org)}{roles}) "
            f"until {iso(session.expires_at)}; token kept in {path}",
            soft_wrap=True,
        )
        if browser is not None:
            console.print(f"explorer sign-in link (works once, until {iso(browser.expires_at)}):")
            console.print(browser.url, soft_wrap=True, markup=False, highlight=False)

    emit(as_json, data, human)


def logout(as_json: JsonOpt = False) -> None:
    """Forget the registry API token (delete $IDSREG_HOME/api-session.json)."""
    from ..registry_client import delete_session
    from ..settings import get_settings

    path = get_settings().api_session
    session = delete_session(path)
    emit(
        as_json,
        {"loggedOut": session is not None, "url": session.url if session else None},
        lambda: console.print(f"logged out of {session.url}" if session else "not logged in to a registry API"),
    )


def whoami(url: ApiUrlOpt = None, as_json: JsonOpt = False) -> None:
    """Who the stored API token stands for (asked of the API) and when it expires. Exit 2 if
    there is none or it is no longer good."""
    from ..registry_client import ApiSession, RegistryClient
    from ..settings import get_settings

    base = api_url(url)
    session = session_for(base, required=True)
    assert session is not None
    with RegistryClient(base, session.access_token) as api:
        caller = api.me()
    current = ApiSession(
        session.url,
        session.access_token,
        session.expires_at,
        caller.address,
        caller.org.model_dump() if caller.org is not None else None,
        list(caller.roles),
        session.key,
    )
    roles = f", roles {', '.join(current.roles)}" if current.roles else ""
    emit(
        as_json,
        _session_json(current, str(get_settings().api_session)),
        lambda: console.print(
            f"{current.address} (key {current.key!r}, {org_text(current.org)}{roles}) at {current.url}; "
            f"token expires {iso(current.expires_at)}",
            soft_wrap=True,
        ),
    )
