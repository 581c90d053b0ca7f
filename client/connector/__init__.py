"""The data connector: Eclipse Dataspace Protocol 2025-1 (catalog, contract negotiation) over the ledger.

Small modules, each owning one thing: `identity` (who is talking: signed request tokens checked
against the Consortium), `schemas` (the official JSON Schemas, loaded locally), `odrl` (ODRL
policies and the on-chain grant), `catalog` (what the organisation may offer), `negotiation`
(the state machine and its SQLite store), `provider` (the provider's decisions), `client` (the
consumer side), `app` (the HTTP binding). See docs/connector.md.
"""
