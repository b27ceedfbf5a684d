"""The conda environments must pin exactly what pyproject.toml pins."""

from __future__ import annotations

import tomllib

import pytest
import yaml

from .conftest import ROOT


def pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    reqs = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["dev"]
    pins = {}
    for req in reqs:
        name, sep, version = req.partition("==")
        assert sep, f"pyproject.toml: {req!r} is not pinned with =="
        pins[name.strip().lower()] = version.strip()
    return pins


@pytest.mark.parametrize("name", ["environment-linux.yml", "environment-windows.yml"])
def test_conda_environment_pins_match_pyproject(name):
    env = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    deps = env["dependencies"]
    assert "python=3.11" in deps
    assert any(isinstance(d, str) and d.startswith("ffmpeg") for d in deps), f"{name}: FFmpeg must come from conda"
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    pins = {}
    for req in pip:
        if req.startswith("-e"):
            continue
        pkg, sep, version = req.partition("==")
        assert sep, f"{name}: {req!r} is not pinned with =="
        pins[pkg.strip().lower()] = version.strip()
    assert pins == pyproject_pins()


def test_torch_pair_is_the_supported_one():
    pins = pyproject_pins()
    assert pins["torch"] == pins["torchaudio"] == "2.9.1"
    assert pins["torchcodec"].startswith("0.9.")  # TorchCodec 0.9 is the release built for torch 2.9


def _imported_top_level_modules() -> dict[str, set[str]]:
    """Every absolute import in the package: top-level module -> files importing it."""
    import ast

    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "workbench").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_package_the_code_imports_is_declared():
    """A module that arrives only through another package breaks when that package changes its own dependencies."""
    import importlib.metadata
    import sys

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {req.partition("==")[0].strip().lower().replace("_", "-") for req in data["project"]["dependencies"]}
    for extra in data["project"]["optional-dependencies"].values():
        declared |= {req.partition("==")[0].strip().lower().replace("_", "-") for req in extra}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for module, files in _imported_top_level_modules().items():
        if module in sys.stdlib_module_names or module in ("workbench", "__future__"):
            continue
        owners = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
        if not owners:
            undeclared[module] = f"not installed here (imported by {', '.join(sorted(files))})"
        elif not owners & declared:
            undeclared[module] = f"from {', '.join(sorted(owners))}, imported by {', '.join(sorted(files))}"
    assert not undeclared, "imported but not declared in pyproject.toml: " + "; ".join(f"{m} ({why})" for m, why in undeclared.items())
