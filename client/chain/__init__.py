"""Chain bindings: the one home of compiled artifacts, deployment manifests, contract handles,
transaction sending, event decoding and revert-error decoding. Nothing outside this package
parses an ABI or imports `web3.exceptions`.
"""
