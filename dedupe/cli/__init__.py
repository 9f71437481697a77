"""The ``dedupe`` command: the click group in :mod:`dedupe.cli.main`, one module per command.

``main`` is re-exported here because it is the console script's entry point
(``dedupe.cli:main`` in pyproject.toml).
"""

from dedupe.cli.main import main

__all__ = ["main"]
