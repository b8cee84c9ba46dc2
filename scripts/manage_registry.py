"""`python scripts/manage_registry.py <command>` is `mlgate <command>` (the seed's documented
entry point): list, versions, promote, alias, compare, best and the rest of the CLI."""

from mlgate.cli import run

if __name__ == "__main__":
    run(prog_name="python scripts/manage_registry.py")
