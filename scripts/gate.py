"""`python scripts/gate.py [OPTIONS]` is `mlgate gate [OPTIONS]` (the seed guide's command)."""

import sys

from mlgate.cli import run

if __name__ == "__main__":
    script = "python scripts/gate.py"
    args = sys.argv[1:]
    # click prints the usage as "python scripts/gate.py gate [OPTIONS]": that form works too.
    if args[:1] == ["gate"]:
        args = args[1:]
    # The script stands for one subcommand: its usage errors point at the script's own --help.
    run(["gate", *args], prog_name=script, obj={"script": script})
