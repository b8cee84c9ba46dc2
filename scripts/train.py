"""`python scripts/train.py [OPTIONS]` is `mlgate train [OPTIONS]` (the seed guide's command)."""

import sys

from mlgate.cli import run

if __name__ == "__main__":
    script = "python scripts/train.py"
    args = sys.argv[1:]
    # click prints the usage as "python scripts/train.py train [OPTIONS]": that form works too.
    if args[:1] == ["train"]:
        args = args[1:]
    # The script stands for one subcommand: its usage errors point at the script's own --help.
    run(["train", *args], prog_name=script, obj={"script": script})
