"""`python scripts/manage_registry.py <command>` is `mlgate <command>` (the seed's documented
entry point): list, versions, promote, alias, compare, best and the rest of the CLI."""

import sys

from mlgate.cli import main

if __name__ == "__main__":
    sys.exit(main(prog_name="python scripts/manage_registry.py"))
