"""The code stays as ruff's configuration in pyproject.toml says: checked and formatted."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT

PATHS = ["workbench", "tests", "data", "scripts", "benchmarks"]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    import importlib.util

    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed here: pip install -e '.[dev]'")
    paths = [p for p in PATHS if (ROOT / p).exists()]
    return subprocess.run([sys.executable, "-m", "ruff", *args, *paths], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_check_is_clean():
    result = _ruff("check", "--no-cache", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted():
    result = _ruff("format", "--check", "--no-cache")
    assert result.returncode == 0, "run `ruff format` on:\n" + result.stdout + result.stderr


def test_argparse_lives_only_under_the_cli():
    users = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "workbench").rglob("*.py")
        if "import argparse" in p.read_text(encoding="utf-8") and "cli" not in p.relative_to(ROOT / "workbench").parts
    ]
    assert users == []


def _module_name(path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _import_graph() -> dict[str, set[str]]:
    """Module -> workbench modules it imports when it is imported (module level, not inside functions)."""
    import ast

    files = {_module_name(p): p for p in (ROOT / "workbench").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:  # module level only: lazy imports inside functions break cycles
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    edges.add(sub if sub in files else target)
            elif isinstance(node, ast.Import):
                edges |= {alias.name for alias in node.names if alias.name in files}
        graph[name] = {e for e in edges if e in files and e != name}
    return graph


def test_no_import_cycle_between_modules():
    graph = _import_graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node, trail):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(trail[trail.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_every_module_imports():
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    modules = sorted(_import_graph())
    result = subprocess.run([sys.executable, "-c", code, *modules], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
