"""IDS Registry API: the indexer (chain events → SQL) and the REST service over it.

Built in a later slice; it imports the chain bindings from `client.chain`.
"""
