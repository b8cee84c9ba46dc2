"""`python scripts/gate.py [OPTIONS]` is `mlgate gate [OPTIONS]` (the documented command)."""

import sys

from mlgate.cli import main

if __name__ == "__main__":
    sys.exit(main(["gate", *sys.argv[1:]], prog_name="python scripts/gate.py"))
