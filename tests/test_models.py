"""The model cache when several callers (threads here; processes take the same file lock) ask for one model at once."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from workbench import conversion, models
from workbench.io import atomic_folder

#: How long each fake build takes: long enough for the second caller to arrive while the first builds.
BUILD_SECONDS = 0.5


def concurrently(call, n: int = 2) -> list:
    """Run ``call`` in ``n`` threads released at the same moment; its results, or the first exception raised."""
    start = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []

    def work(i: int) -> None:
        start.wait()
        try:
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def fake_embedded_packages(root: Path, monkeypatch) -> bytes:
    """Tiny stand-ins for the two PyPI packages of the embedded model; returns the model.bin they make."""
    blob = bytes(range(256)) * 40
    folders = []
    for i, half in enumerate((blob[:4000], blob[4000:]), start=1):
        data = root / f"part{i}" / "data"
        data.mkdir(parents=True)
        (data / models.EMBEDDED_PARTS[i - 1]).write_bytes(half)
        folders.append(data)
    for name in models.EMBEDDED_FILES:
        (folders[0] / name).write_text("{}")
    sources = {
        name: (4000 if i == 0 else len(blob) - 4000, hashlib.sha256(half).hexdigest())
        for i, (name, half) in enumerate(zip(models.EMBEDDED_PARTS, (blob[:4000], blob[4000:]), strict=True))
    }
    sources.update({name: (2, hashlib.sha256(b"{}").hexdigest()) for name in models.EMBEDDED_FILES})
    monkeypatch.setattr(models, "_package_data", lambda package: folders[models.EMBEDDED_PACKAGES.index(package)])
    monkeypatch.setattr(models, "EMBEDDED_SIZE", len(blob))
    monkeypatch.setattr(models, "EMBEDDED_SHA256", hashlib.sha256(blob).hexdigest())
    monkeypatch.setattr(models, "EMBEDDED_SOURCES", sources)
    return blob


def test_two_callers_assembling_the_embedded_model_build_it_once(tmp_path, monkeypatch):
    blob = fake_embedded_packages(tmp_path / "packages", monkeypatch)
    builds = []
    real_assemble = models._assemble_embedded

    def slow_assemble(folder, sources):
        builds.append(folder)
        time.sleep(BUILD_SECONDS)
        return real_assemble(folder, sources)

    monkeypatch.setattr(models, "_assemble_embedded", slow_assemble)
    cache = tmp_path / "cache"
    first, second = concurrently(lambda: models.embedded_ctranslate2_dir(cache))

    assert first == second == cache / "models" / f"{models.EMBEDDED_NAME}-ctranslate2"
    assert len(builds) == 1
    assert (first / "model.bin").read_bytes() == blob
    assert models.cache_problem(first, {"embedded": models.EMBEDDED_SHA256}, thorough=True) is None
    assert [p.name for p in (cache / "models").iterdir()] == [first.name]  # no temporary folder left


def test_two_callers_converting_one_model_build_it_once(tmp_path, monkeypatch):
    source = tmp_path / "whisper-tiny-ct2"
    source.mkdir()
    for name in ("model.bin", "config.json", "tokenizer.json"):
        (source / name).write_text("{}")
    builds = []

    def fake_convert(ct2_dir, out_dir, **kwargs):
        builds.append(out_dir)
        time.sleep(BUILD_SECONDS)
        with atomic_folder(out_dir) as tmp:
            for name in ("config.json", "preprocessor_config.json"):
                (tmp / name).write_text("{}")
            (tmp / "model.safetensors").write_bytes(b"weights")
        return out_dir

    monkeypatch.setattr(conversion, "convert_ctranslate2_to_transformers", fake_convert)
    cache = tmp_path / "cache"
    first, second = concurrently(lambda: models.resolve_model(str(source), engine="transformers", cache=cache))

    assert first == second
    assert first.layout == "transformers" and first.path.parent == cache / "models"
    assert len(builds) == 1
    assert [p.name for p in (cache / "models").iterdir()] == [first.path.name]
