"""``python -m dedupe``: the ``dedupe`` command."""

from dedupe.cli import main

main(prog_name="dedupe")
