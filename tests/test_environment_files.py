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
