"""The package layout keeps its rules: command modules share only dedupe.cli.common."""

from __future__ import annotations

import ast
from pathlib import Path

import dedupe

CLI = Path(dedupe.__file__).parent / "cli"
SHARED = {"dedupe.cli.common"}


def _dedupe_cli_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            # "from dedupe.cli import clean" imports the module dedupe.cli.clean.
            if node.module == "dedupe.cli":
                names = [f"dedupe.cli.{a.name}" for a in node.names]
            else:
                names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n for n in names if n.startswith("dedupe.cli.") or n == "dedupe.cli"}
    return found


def test_command_modules_do_not_import_each_other() -> None:
    commands = [p for p in CLI.glob("*.py") if p.stem not in ("__init__", "common", "main")]
    assert {p.stem for p in commands} >= {"clean", "corpus", "index"}
    for path in commands:
        assert _dedupe_cli_imports(path) <= SHARED, path.name


def test_the_group_imports_no_command_module() -> None:
    assert _dedupe_cli_imports(CLI / "main.py") <= SHARED
