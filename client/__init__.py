"""IDS Registry client: chain bindings, keys, hashing, signing and verification.

The command line `idsreg` lives in `client._cli`; library code here raises
`client.errors.IdsRegistryError` subclasses and never exits the process.
"""

__version__ = "0.1.0"
