"""`python scripts/train.py [OPTIONS]` is `mlgate train [OPTIONS]` (the seed guide's command)."""

import sys

from mlgate.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]], prog_name="python scripts/train.py"))
