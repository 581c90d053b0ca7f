"""IDS Registry service: the indexer (chain events → SQL) and the REST API over it.

It imports the chain bindings from `client.chain`; the client never imports this package.

- `settings`: `ApiSettings` (environment prefix `IDSREG_API_`), read once.
- `models`: the indexer's bookkeeping tables (raw events, block window, undo log, checkpoint)
  and the API's sign-in challenges; `domain`: the domain tables the API serves.
- `db`: engines (SQLite file with WAL by default, PostgreSQL via psycopg 3) and `init_db`.
- `projection` (one handler per event) and `changes` (a range's rows, read and written in bulk).
- `store`: reads and writes of the bookkeeping tables; never commits.
- `indexer`: `Indexer`, which owns the transaction and commits each block range with its checkpoint.
- `api`: the FastAPI app (`create_app`), `auth` (sign-in and tokens), `metrics` (Prometheus),
  `chainview` (the API's node connection).
- `service` and `cli`: `python -m registry_api serve|index|reindex`, what `idsreg api` runs.
"""
