"""Hostile inputs for results stores, manifests, dataset imports and report outputs.

Each case feeds one bad input and checks the workbench's own message, the
exit code where a command is involved, and that no input file and no
earlier result changed.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from workbench import experiments
from workbench.cli import main
from workbench.datasets import ManifestEntry, ManifestError, load_manifest, read_manifest, write_manifest
from workbench.errors import OutputError
from workbench.experiments import ExperimentError, ResultsStore
from workbench.io import atomic_path, remove_stale_temps, write_text

GRID = {"resampler": ["soxr_hq"]}

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def wav(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.zeros(800, dtype=np.float32), 16_000, subtype="PCM_16", format="WAV")
    return path


def fake_run(self, task):
    """An instant stand-in for transcription, shaped like a real row."""
    return {
        "format": experiments.RESULTS_FORMAT,
        "key": task.key,
        "setting_id": task.setting_id,
        "clip": task.clip,
        "path": str(task.entry.path),
        "clip_language": task.entry.language,
        "reference": task.entry.reference,
        "settings": task.setting,
        "error": None,
        "hypothesis": "x",
        "metric": "cer",
        "error_rate": 0.25,
        "lenient_error_rate": 0.25,
        "errors": 1,
        "reference_length": 4,
        "breakdown": {},
        "timings": {"real_time_factor": 0.1},
    }


@pytest.fixture
def clips(tmp_path, monkeypatch):
    """Three clips, a manifest of them, and transcription replaced by :func:`fake_run`."""
    monkeypatch.setattr(experiments.Runner, "run", fake_run)
    folder = tmp_path / "data"
    for name in ("a", "b", "c"):
        wav(folder / f"{name}.wav")
    manifest = folder / "manifest.csv"
    manifest.write_text("path,language,reference\na.wav,en,one\nb.wav,en,two\nc.wav,en,three\n", encoding="utf-8")
    return manifest


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def config(tmp_path: Path, manifest: Path, results: str = "out/results.jsonl") -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(f"dataset: {manifest}\nresults: {results}\ngrid:\n  resampler: [soxr_hq]\n", encoding="utf-8")
    return path


def error_line(capsys) -> str:
    """The one ``error:`` line a command printed (and no traceback)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err
    return errors[0]


def make_cv(folder: Path, rows: list[str]) -> Path:
    (folder / "clips").mkdir(parents=True, exist_ok=True)
    (folder / "test.tsv").write_text("\n".join(["client_id\tpath\tsentence\tlocale", *rows]) + "\n", encoding="utf-8")
    return folder


# --------------------------------------------------------------------------
# outputs: never over an input, never over another kind of file unless --force
# --------------------------------------------------------------------------


def test_import_refuses_to_write_the_manifest_over_a_source_clip(tmp_path, capsys):
    cv = make_cv(tmp_path / "cv", ["c1\ta.wav\t你好\tzh-HK", "c2\tb.wav\t早晨\tzh-HK"])
    wav(cv / "clips" / "a.wav")
    wav(cv / "clips" / "b.wav")
    before = snapshot(cv)
    for out in (cv / "clips" / "a.wav", cv / "clips" / "sub" / ".." / "a.wav", cv / "test.tsv"):
        for force in ([], ["--force"]):  # --force never lets an output overwrite an input
            assert main(["import", "common-voice", str(cv), "--out", str(out), *force]) == 2
            assert "is also an input of this command" in error_line(capsys)
    assert snapshot(cv) == before


def test_import_refuses_another_kind_of_file_unless_forced(tmp_path, capsys):
    cv = make_cv(tmp_path / "cv", ["c1\ta.wav\t你好\tzh-HK"])
    wav(cv / "clips" / "a.wav")
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    assert main(["import", "common-voice", str(cv), "--out", str(notes)]) == 2
    assert "is not a .csv file" in error_line(capsys) and notes.read_text(encoding="utf-8") == "my notes\n"
    assert main(["import", "common-voice", str(cv), "--out", str(notes), "--force"]) == 0
    assert notes.read_text(encoding="utf-8").startswith("path,language,reference")
    manifest = tmp_path / "m.csv"
    assert main(["import", "common-voice", str(cv), "--out", str(manifest)]) == 0  # a CSV is this command's own kind
    assert main(["import", "common-voice", str(cv), "--out", str(manifest)]) == 0
    capsys.readouterr()


def test_import_refuses_a_manifest_name_read_back_as_another_format(tmp_path, capsys):
    cv = make_cv(tmp_path / "cv", ["c1\ta.wav\t你好\tzh-HK"])
    wav(cv / "clips" / "a.wav")
    assert main(["import", "common-voice", str(cv), "--out", str(tmp_path / "m.jsonl")]) == 2
    assert "name it .csv" in error_line(capsys)
    assert not (tmp_path / "m.jsonl").exists()


def test_import_under_a_file_is_refused_before_the_import(tmp_path, capsys):
    cv = make_cv(tmp_path / "cv", ["c1\ta.wav\t你好\tzh-HK"])
    wav(cv / "clips" / "a.wav")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    assert main(["import", "common-voice", str(cv), "--out", str(blocker / "out" / "m.csv")]) == 2
    assert f"{blocker} is a file, not a folder" in error_line(capsys)
    assert blocker.read_text(encoding="utf-8") == "x"


def test_import_hf_refuses_an_out_folder_inside_the_local_dataset(tmp_path):
    pytest.importorskip("datasets")
    from workbench.datasets import HubDatasetError, import_hf

    local = tmp_path / "local"
    wav(local / "x.wav")
    before = snapshot(local)
    with pytest.raises(HubDatasetError, match="inside the local dataset"):
        import_hf(local, local / "out", language="yue", progress=False)
    assert snapshot(local) == before


def test_write_manifest_refuses_to_overwrite_one_of_its_clips(tmp_path):
    clip = wav(tmp_path / "a.wav")
    before = clip.read_bytes()
    with pytest.raises(OutputError, match="also an input"):
        write_manifest([ManifestEntry(clip.resolve(), "en", "hi")], tmp_path / "a.wav")
    assert clip.read_bytes() == before


def test_results_outputs_are_checked_before_any_work(tmp_path, clips, capsys):
    store = tmp_path / "r.jsonl"
    experiments.run(clips, GRID, store, progress=False)
    before = store.read_bytes()
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    cases = [
        (["--chart", str(blocker / "chart.html")], f"{blocker} is a file, not a folder"),
        (["--parquet", str(blocker / "rows.parquet")], f"{blocker} is a file, not a folder"),
        (["--parquet", str(store)], "is also an input of this command"),
        (["--chart", str(store), "--force"], "is also an input of this command"),
        (["--chart", str(blocker)], "is not a .htm/.html file; choose another path, or pass --force"),
        (["--chart", str(tmp_path / "x.html"), "--parquet", str(tmp_path / "x.html")], "one file"),
    ]
    for options, message in cases:
        assert main(["results", str(store), *options]) == 2, options
        assert message in error_line(capsys), options
    assert store.read_bytes() == before and blocker.read_text(encoding="utf-8") == "x"
    assert not (tmp_path / "x.html").exists()
    assert main(["results", str(store), "--parquet", str(blocker), "--force"]) == 0  # forced: written
    assert len(pd.read_parquet(blocker)) == 3


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_results_chart_into_a_read_only_folder(tmp_path, clips, capsys):
    store = tmp_path / "r.jsonl"
    experiments.run(clips, GRID, store, progress=False)
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["results", str(store), "--chart", str(locked / "c.html")]) == 2
        assert "cannot write in" in error_line(capsys)
    finally:
        locked.chmod(0o700)


def test_run_refuses_a_results_store_that_is_an_input(tmp_path, clips, capsys):
    before = snapshot(clips.parent)
    with pytest.raises(OutputError, match="also an input"):
        experiments.run(clips, GRID, clips, progress=False)
    assert main(["run", str(config(tmp_path, clips, results=str(clips)))]) == 2
    assert "is also an input" in error_line(capsys)
    exp = config(tmp_path, clips, results="exp.yaml")  # the experiment file itself
    assert main(["run", str(exp), "--force"]) == 2
    assert "is also an input" in error_line(capsys)
    assert snapshot(clips.parent) == before


def test_run_refuses_to_append_to_another_kind_of_file_unless_forced(tmp_path, clips, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n", encoding="utf-8")
    assert main(["run", str(config(tmp_path, clips, results=str(notes)))]) == 2
    assert "pass --force" in error_line(capsys)
    assert notes.read_text(encoding="utf-8") == "keep me\n"


def test_demo_out_under_a_file_fails_before_any_work(tmp_path, monkeypatch, capsys):
    import workbench.diagnosis

    monkeypatch.setattr(workbench.diagnosis, "diagnose", lambda *a, **k: pytest.fail("the work started"))
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    assert main(["demo", "--out", str(blocker / "rep")]) == 2
    assert f"{blocker} is a file, not a folder" in error_line(capsys)
    assert blocker.read_text(encoding="utf-8") == "x"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_demo_into_a_read_only_folder_fails_before_any_work(tmp_path, monkeypatch, capsys):
    import workbench.diagnosis

    monkeypatch.setattr(workbench.diagnosis, "diagnose", lambda *a, **k: pytest.fail("the work started"))
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["demo", "--out", str(locked / "rep")]) == 2
        assert "cannot write" in error_line(capsys)
    finally:
        locked.chmod(0o700)


def test_demo_refuses_a_report_file_that_is_its_own_input(tmp_path, monkeypatch, capsys):
    import workbench.diagnosis

    monkeypatch.setattr(workbench.diagnosis, "diagnose", lambda *a, **k: pytest.fail("the work started"))
    wav(tmp_path / "a.wav")
    manifest = tmp_path / "en-diagnosis-runs.csv"  # where the demo would write its runs
    manifest.write_text("path,language,reference\na.wav,en,hello\n", encoding="utf-8")
    before = manifest.read_bytes()
    assert main(["demo", "--data", str(manifest), "--out", str(tmp_path)]) == 2
    assert "is also an input" in error_line(capsys)
    assert manifest.read_bytes() == before


def test_demo_keeps_the_runs_when_the_report_cannot_be_written(tmp_path, monkeypatch, capsys):
    import workbench.diagnosis
    import workbench.reports

    wav(tmp_path / "data" / "a.wav")
    manifest = tmp_path / "data" / "manifest.csv"
    manifest.write_text("path,language,reference\na.wav,en,hello\n", encoding="utf-8")
    runs = pd.DataFrame({"clip": ["a"], "resampler": ["soxr_vhq"], "cer": [0.1]})
    monkeypatch.setattr(workbench.diagnosis, "diagnose", lambda *a, **k: SimpleNamespace(runs=runs))

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / "en-diagnosis.html"))

    monkeypatch.setattr(workbench.reports, "write_diagnosis_report", disk_full)
    assert main(["demo", "--data", str(manifest), "--out", str(tmp_path / "out")]) == 2
    message = error_line(capsys)
    assert "No space left on device" in message and "the runs computed are saved in" in message
    saved = Path(message.split("saved in ")[1].split(";")[0])
    assert pd.read_csv(saved).equals(runs)
    saved.unlink()
    saved.parent.rmdir()


def test_main_turns_an_unexpected_os_error_into_one_line(tmp_path, monkeypatch, capsys):
    import workbench.experiments

    store = tmp_path / "r.jsonl"
    store.write_text('{"key":"a"}\n', encoding="utf-8")

    def broken(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "locked.jsonl"))

    monkeypatch.setattr(workbench.experiments, "summarise", broken, raising=False)  # the command looks it up there
    assert main(["results", str(store)]) == 2
    assert (
        error_line(capsys)
        == f"error: {tmp_path / 'locked.jsonl'}: Permission denied; check that the path exists and can be written, or choose another"
    )


# --------------------------------------------------------------------------
# temporary files of killed writes
# --------------------------------------------------------------------------


def test_stale_temporary_files_are_cleaned_and_reports_get_normal_permissions(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = int(done.stdout)
    old = time.time() - 3600
    stale = tmp_path / f".report.html.{dead}.abcd1234.partial.html"  # a killed writer's, an hour old
    fresh = tmp_path / f".report.html.{dead}.efgh5678.partial.html"  # as recent as a write in progress
    alive = tmp_path / f".report.html.{os.getpid()}.ijkl9012.partial.html"  # its writer still runs
    legacy = tmp_path / ".report.k2j3l4m5.html"  # the older naming, mkstemp's mode, two days old
    kept_legacy = tmp_path / ".report.notes123.html"  # same shape, but a file someone saved (0644)
    other = tmp_path / f".other.html.{dead}.abcd1234.partial.html"  # another target's
    for path in (stale, fresh, alive, legacy, kept_legacy, other):
        path.write_text("half a report", encoding="utf-8")
    for path in (stale, alive, other):
        os.utime(path, (old, old))
    os.utime(legacy, (old - 2 * 86400, old - 2 * 86400))
    os.utime(kept_legacy, (old - 2 * 86400, old - 2 * 86400))
    legacy.chmod(0o600)
    kept_legacy.chmod(0o644)
    assert sorted(p.name for p in remove_stale_temps(tmp_path / "report.html")) == sorted([stale.name, legacy.name, other.name])
    assert fresh.exists() and alive.exists() and kept_legacy.exists()

    stale.write_text("half a report", encoding="utf-8")
    os.utime(stale, (old, old))
    report = write_text(tmp_path / "fresh-folder" / "report.html", "<html></html>")
    umask = os.umask(0)
    os.umask(umask)
    assert (report.stat().st_mode & 0o777) == (0o666 & ~umask)
    write_text(tmp_path / "report.html", "<html></html>")  # the first write into a folder sweeps it
    assert not stale.exists() and fresh.exists() and alive.exists()
    assert ((tmp_path / "report.html").stat().st_mode & 0o777) == (0o666 & ~umask)


def test_a_failed_write_leaves_no_temporary_file_and_the_old_content(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("killed")
    assert target.read_text(encoding="utf-8") == "old" and [p.name for p in tmp_path.iterdir()] == ["report.html"]


# --------------------------------------------------------------------------
# the results store: one lock per real file, rows kept, bad lines skipped
# --------------------------------------------------------------------------


def test_the_store_lock_holds_however_the_path_is_spelled(tmp_path):
    real = tmp_path / "store" / "r.jsonl"
    real.parent.mkdir()
    (tmp_path / "link.jsonl").symlink_to(real)
    (tmp_path / "store" / "sub").mkdir()
    with ResultsStore(real) as store:
        store.append({"key": "a"})
        for other in (tmp_path / "link.jsonl", tmp_path / "store" / "sub" / ".." / "r.jsonl"):
            with pytest.raises(ExperimentError, match="another run is writing"):
                ResultsStore(other).open()
        os.link(real, tmp_path / "hard.jsonl")
        if __import__("filelock").has_fcntl:  # the OS lock is on the file itself: a hard link does not get around it
            with pytest.raises(ExperimentError, match="another run is writing"):
                ResultsStore(tmp_path / "hard.jsonl").open()
    assert lines(real) == [{"key": "a"}]
    with ResultsStore(tmp_path / "link.jsonl") as store:  # released on close
        store.append({"key": "b"})
    assert [r["key"] for r in lines(real)] == ["a", "b"]


def test_two_runs_through_a_symlink_do_not_both_write(tmp_path, clips):
    real = tmp_path / "r.jsonl"
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    with ResultsStore(real):
        with pytest.raises(ExperimentError, match="another run is writing"):
            experiments.run(clips, GRID, link, progress=False)
    assert real.read_bytes() == b""
    first = experiments.run(clips, GRID, link, progress=False)
    again = experiments.run(clips, GRID, real, progress=False)
    assert (first.computed, again.computed, again.skipped) == (3, 0, 3) and len(lines(real)) == 3


def test_a_complete_last_row_without_its_newline_is_kept(tmp_path, clips):
    store = tmp_path / "r.jsonl"
    experiments.run(clips, GRID, store, progress=False)
    full = store.read_bytes()
    store.write_bytes(full[:-1])  # the last row lost only its newline
    again = experiments.run(clips, GRID, store, progress=False)
    assert (again.computed, again.skipped) == (0, 3)
    assert store.read_bytes() == full


def test_a_torn_last_row_is_still_cut_and_computed_again(tmp_path, clips):
    store = tmp_path / "r.jsonl"
    experiments.run(clips, GRID, store, progress=False)
    full = store.read_bytes()
    kept = full[: full.rstrip(b"\n").rfind(b"\n") + 1]
    store.write_bytes(kept + full[len(kept) : len(kept) + 30])
    with pytest.warns(experiments.ExperimentWarning, match="cut 30 bytes"):
        again = experiments.run(clips, GRID, store, progress=False)
    assert again.computed == 1 and store.read_bytes().startswith(kept) and len(lines(store)) == 3


BAD_LINES = [
    b"\xff\xfe not utf-8 \xc3\x28\n",
    b"null\n",
    b'{"key": 7, "error_rate": 0.5}\n',
    b'{"key": "k", "settings": "soxr_hq"}\n',
    b'{"key": "k2", "error_rate": "low"}\n',
    b"[1, 2]\n",
    b"not json at all\n",
]


def test_bad_lines_are_skipped_counted_and_never_rewritten_by_run(tmp_path, clips):
    store = tmp_path / "r.jsonl"
    experiments.run(clips, GRID, store, progress=False)
    good = store.read_bytes()
    first, rest = good.split(b"\n", 1)
    damaged = first + b"\n" + b"".join(BAD_LINES) + rest
    store.write_bytes(damaged)
    with pytest.warns(experiments.ExperimentWarning, match=r"7 line\(s\) are not result rows") as caught:
        exp = experiments.run(clips, GRID, store, progress=False)
    assert (exp.computed, exp.skipped, exp.unreadable) == (0, 3, 7)
    message = str(caught[0].message)
    assert "line 2 (not UTF-8 text (byte 0xff))" in message and "line 3 (null, not a result object)" in message
    assert "'key' is a number, not text" in message and "and 2 more" in message
    assert store.read_bytes() == damaged
    with pytest.warns(experiments.ExperimentWarning, match="not result rows"):
        assert len(experiments.load_results(store)) == 3


def test_bad_lines_are_reported_by_results_and_run_commands(tmp_path, clips, capsys):
    cfg = config(tmp_path, clips)
    assert main(["run", str(cfg)]) == 0
    store = tmp_path / "out" / "results.jsonl"
    with open(store, "ab") as f:
        f.write(b"".join(BAD_LINES[:3]))
    damaged = store.read_bytes()
    assert main(["results", str(store)]) == 0
    out = capsys.readouterr()
    assert "3 line(s) are not result rows and were skipped" in out.err and "Traceback" not in out.err
    assert main(["run", str(cfg), "--json"]) == 0
    out = capsys.readouterr()
    counts = json.loads(out.out)
    assert (counts["computed"], counts["skipped"], counts["unreadable_lines"]) == (0, 3, 3)
    assert out.err.count("are not result rows") == 1  # reported once, not again by the summary
    assert store.read_bytes() == damaged


def test_a_full_disk_is_a_clear_error_and_the_run_resumes(tmp_path, clips, monkeypatch, capsys):
    import workbench.experiments.store as store_module

    cfg = config(tmp_path, clips)
    store = tmp_path / "out" / "results.jsonl"
    real_write, written = os.write, []

    def full_after_two(fd, data):
        try:
            ours = os.fstat(fd).st_ino == os.stat(store).st_ino
        except OSError:
            ours = False
        if not ours:
            return real_write(fd, data)
        if len(written) == 2:
            real_write(fd, bytes(data)[:10])  # part of the line made it to disk
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(data)
        return real_write(fd, data)

    monkeypatch.setattr(store_module.os, "write", full_after_two)
    assert main(["run", str(cfg)]) == 2
    message = error_line(capsys)
    assert f"cannot write to results store {store}: No space left on device" in message
    assert "the 2 result(s) this run wrote before are kept" in message and "run the same command again to resume" in message
    assert len(lines(store)) == 2  # two whole rows, not a byte of the third
    kept = store.read_bytes()
    monkeypatch.setattr(store_module.os, "write", real_write)
    assert main(["run", str(cfg), "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert (counts["computed"], counts["skipped"]) == (1, 2)
    assert store.read_bytes().startswith(kept) and len({r["key"] for r in lines(store)}) == 3


def test_a_second_writer_is_still_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsStore(path):
        with pytest.raises(ExperimentError, match="another run is writing"):
            ResultsStore(path).open()


def test_a_missing_store_is_named(tmp_path, capsys):
    assert main(["results", str(tmp_path / "nothing.jsonl")]) == 2
    assert "no results file here" in error_line(capsys)


# --------------------------------------------------------------------------
# manifests: refused at load, every bad row named; repeats run once
# --------------------------------------------------------------------------


def test_a_clip_listed_several_times_runs_once(tmp_path, clips):
    (clips.parent / "sub").mkdir()
    clips.write_text(
        "path,language,reference\na.wav,en,one\n./a.wav,en,one\nsub/../a.wav,en,uno\nb.wav,en,two\n",
        encoding="utf-8",
    )
    ds = load_manifest(clips)
    assert [e.name for e in ds] == ["a.wav", "b.wav"]
    assert len(ds.problems) == 2 and all("is listed again (first at" in p and "line 2" in p for p in ds.problems)
    assert "line 4" in ds.problems[1] and "with another reference" in ds.problems[1]
    store = tmp_path / "r.jsonl"
    with pytest.warns(experiments.ExperimentWarning, match="left out"):
        exp = experiments.run(clips, GRID, store, progress=False)
    assert exp.computed == 2 and len({r["key"] for r in lines(store)}) == len(lines(store)) == 2
    entries = read_manifest(clips)  # a plain list of entries runs each clip once too
    assert len(entries) == 4
    with pytest.warns(experiments.ExperimentWarning, match="listed again"):
        exp = experiments.run(entries, GRID, tmp_path / "r2.jsonl", progress=False)
    assert exp.computed == 2


def test_an_import_with_a_clip_listed_twice_keeps_it_once(tmp_path, capsys):
    cv = make_cv(tmp_path / "cv", ["c1\ta.wav\t你好\tzh-HK", "c2\ta.wav\t你好\tzh-HK"])
    wav(cv / "clips" / "a.wav")
    assert main(["import", "common-voice", str(cv)]) == 0
    assert "is listed again" in capsys.readouterr().err
    assert len(read_manifest(cv / "manifest.csv")) == 1


MANIFESTS = {
    "non-utf8.csv": (b"path,language,reference\na.wav,en,one\nb.wav,en,caf\xe9\n", "line 3: not UTF-8 text (byte 0xe9)"),
    "binary.csv": (None, "line 1: not UTF-8 text"),
    "short.csv": (b"path,language,reference\na.wav,en\n", "line 2: 2 field(s) where the header has 3"),
    "long.csv": (b"path,language,reference\na.wav,en,hello, world\n", "put quotes around a value holding a comma"),
    "nul.csv": (b"path,language,reference\na\x00.wav,en,hi\n", "line 2: a NUL byte"),
    "nul.jsonl": (b'{"path": "a\\u0000.wav", "text": "hi"}\n', "holds a NUL byte"),
    "reference.jsonl": (
        b'{"path": "a.wav", "text": {"x": 1}}\n{"path": "b.wav", "text": 5}\n{"path": "c.wav", "text": "ok"}\n',
        "2 bad rows, fix them and load it again: line 1: the reference must be text, got an object",
    ),
    "language.csv": (
        b"path,language,reference\na.wav,klingon,one\nb.wav,en,two\nc.wav,xx,three\n",
        "line 2: unknown language 'klingon'",
    ),
    "utf16.csv": ("path,language,reference\n".encode("utf-16"), "UTF-16 text; save it as UTF-8"),
}


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_a_bad_manifest_is_refused_at_load_naming_the_line(tmp_path, clips, capsys, name):
    data, message = MANIFESTS[name]
    manifest = clips.parent / name
    manifest.write_bytes((clips.parent / "a.wav").read_bytes() if data is None else data)
    with pytest.raises(ManifestError) as caught:
        load_manifest(manifest)
    assert message in str(caught.value) and str(manifest) in str(caught.value)
    assert "\n" not in str(caught.value)
    if name == "language.csv":
        assert "line 4: unknown language 'xx'" in str(caught.value)  # every bad row, not only the first
    before = snapshot(tmp_path)
    assert main(["run", str(config(tmp_path, manifest))]) == 2  # refused at load: no run, no store
    assert message in error_line(capsys)
    assert not (tmp_path / "out").exists() and snapshot(tmp_path) == {**before, "exp.yaml": (tmp_path / "exp.yaml").read_bytes()}


def test_a_good_manifest_still_loads(tmp_path, clips):
    (clips.parent / "quoted.csv").write_text(
        'path,language,reference,speaker\na.wav,Cantonese,"hello, world",s1\nb.wav,,two,\n\n', encoding="utf-8"
    )
    entries = read_manifest(clips.parent / "quoted.csv")
    assert [(e.language, e.reference) for e in entries] == [("Cantonese", "hello, world"), ("", "two")]
    assert entries[0].meta == {"speaker": "s1"}
