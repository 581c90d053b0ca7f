"""`python -m registry_api`: see `registry_api.cli`."""

from registry_api.cli import main

main()
