"""The one place where a command line's errors become an exit code and one line on stderr.

Used by `idsreg` (client/_cli) and by the service's `python -m registry_api`. The table
(README, "Exit codes"): 0 success; 1 unexpected failure; 2 bad input or configuration;
3 chain node unreachable or registry not deployed; 4 verification failed; 5 refused by a
contract; 6 not registered; 130 interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

from rich.console import Console

from .chain.node import CONNECTION_ERRORS
from .errors import IdsRegistryError

OK = 0
UNEXPECTED = 1
BAD_INPUT = 2
CHAIN_UNREACHABLE = 3
NOT_VERIFIED = 4
REFUSED = 5
NOT_REGISTERED = 6
INTERRUPTED = 130


def fail(err: Console, message: str, code: int) -> NoReturn:
    """One line on stderr, then exit with `code`."""
    err.print(f"[red]error:[/] {message}", soft_wrap=True)
    sys.exit(code)


def run_command_line(app: Callable[[], Any], err: Console) -> None:
    """Run a Typer app in standalone mode (it reports usage errors itself, exit 2), turning the
    client's errors, a lost node connection and Ctrl-C into the table's exit codes."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(INTERRUPTED)
    except IdsRegistryError as exc:
        fail(err, exc.diagnostics(), exc.exit_code)
    except CONNECTION_ERRORS as exc:
        # The node went away in the middle of a command (refused connection, time-out).
        fail(err, f"lost the connection to the chain node ({type(exc).__name__})", CHAIN_UNREACHABLE)
