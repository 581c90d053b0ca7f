"""IDS Registry API: the indexer (chain events → SQL) and the REST service over it.

Built in a later slice; it imports the chain bindings from `client.chain`.

- `settings`: `ApiSettings` (environment prefix `IDSREG_API_`), read once.
- `models`: the SQLModel tables (`RawEvent`, `IndexedBlock`, `Checkpoint`).
- `db`: engines (SQLite file with WAL by default, PostgreSQL via psycopg 3) and `init_db`.
- `store`: reads and writes of those tables; never commits.
- `indexer`: `Indexer`, which owns the transaction and commits each block range with its checkpoint.
"""
