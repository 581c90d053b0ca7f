"""`scripts/bench`: gas, throughput and hashing benchmarks that print tables (STYLE.md rule 14).

Each sub-benchmark returns `Table`s; `__main__` runs the ones asked for on one throw-away
anvil node and prints them as Rich tables, GitHub Markdown, or JSON rows.
"""
