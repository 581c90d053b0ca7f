"""Small helpers of the registry API tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

from registry_api.settings import ApiSettings


def settings(**overrides: Any) -> ApiSettings:
    """Settings for an indexer or API under test (small ranges, so that a workload spans several)."""
    values: dict[str, Any] = {
        "database_url": "sqlite://",
        "rpc_url": "http://unused",
        "deployments": Path("."),
        "initial_range": 8,
    }
    return ApiSettings(**(values | overrides))


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    """A node call outside web3's eth namespace (anvil_reorg, evm_mine); the call must succeed."""
    response = w3.provider.make_request(RPCEndpoint(method), list(params))
    assert "error" not in response, response
    return response["result"]
