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


def test_no_subpackage_shadows_a_public_name() -> None:
    # Importing dedupe.X binds the attribute X of dedupe to the submodule, so a
    # package named like a public function (dedupe/clean/) would replace
    # dedupe.clean once anything imported it.
    import importlib
    import pkgutil
    import types

    # __main__ runs the command; the others need optional extras.
    skip = {
        "dedupe.__main__",
        "dedupe.contrib.scrapy",
        "dedupe.corpus.dask",
        "dedupe.executors_dask",
    }
    for info in pkgutil.walk_packages(dedupe.__path__, "dedupe."):
        if info.name not in skip:
            importlib.import_module(info.name)
    for name in dedupe.__all__:
        assert not isinstance(getattr(dedupe, name), types.ModuleType), name
