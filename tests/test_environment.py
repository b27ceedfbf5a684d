"""The environment doctor: stable report shape, honest statuses, plain-words failures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import namedtuple
from datetime import datetime
from pathlib import Path

import pytest

from workbench import environment, ffmpeg
from workbench.environment import GIB, DoctorReport, Finding, run_doctor
from workbench.ffmpeg import explain_torchcodec_error

ROOT = Path(__file__).resolve().parents[1]

EXPECTED_IDS = [
    "os",
    "python",
    "torch",
    "gpu",
    "torchaudio",
    "torchcodec",
    "soundfile",
    "pyav",
    "ffmpeg_binary",
    "transformers",
    "modelscope",
    "faster_whisper",
    "ctranslate2",
    "resamplers",
    "memory",
    "disk",
    "non_ascii_paths",
    "cjk_font",
]

TORCHCODEC_LOAD_ERROR = (
    "Could not load libtorchcodec. Likely causes:\n"
    "  1. FFmpeg is not properly installed in your environment.\n"
    "  2. The PyTorch version (2.9.1) is not compatible with this version of TorchCodec."
)

VirtualMemory = namedtuple("VirtualMemory", "total available")
DiskUsage = namedtuple("DiskUsage", "total used free")


@pytest.fixture(scope="module")
def report() -> DoctorReport:
    return run_doctor()


def _only(finding_id: str) -> Finding:
    return run_doctor([finding_id]).get(finding_id)


# --------------------------------------------------------------------------
# The report as a whole
# --------------------------------------------------------------------------


def test_report_has_every_check_in_a_stable_order(report):
    assert [f.id for f in report.findings] == EXPECTED_IDS
    assert list(environment.CHECK_IDS) == EXPECTED_IDS


def test_subset_of_checks_keeps_the_standard_order():
    sub = run_doctor(["memory", "os"])
    assert [f.id for f in sub.findings] == ["os", "memory"]
    with pytest.raises(ValueError, match="no_such_check"):
        run_doctor(["no_such_check"])


def test_to_dict_is_json_with_schema_and_matching_counts(report):
    data = json.loads(json.dumps(report.to_dict()))
    assert data["schema"] == "workbench.doctor/1"
    created = datetime.fromisoformat(data["created"].replace("Z", "+00:00"))
    assert created.utcoffset().total_seconds() == 0
    statuses = [f["status"] for f in data["findings"]]
    summary = data["summary"]
    assert {k: summary[k] for k in ("ok", "warning", "problem")} == {s: statuses.count(s) for s in ("ok", "warning", "problem")}
    assert summary["ok"] + summary["warning"] + summary["problem"] == len(EXPECTED_IDS)
    worst = "problem" if "problem" in statuses else "warning" if "warning" in statuses else "ok"
    assert summary["status"] == worst == report.status
    for finding in data["findings"]:
        assert set(finding) == {"id", "title", "status", "summary", "details", "remedy"}
        assert isinstance(finding["details"], dict)


def test_findings_have_valid_status_one_line_summary_and_a_remedy_when_not_ok(report):
    for f in report.findings:
        assert f.status in ("ok", "warning", "problem"), f.id
        assert f.title and f.summary and "\n" not in f.summary, f.id
        if f.status == "ok":
            assert f.remedy == "", f.id
        else:
            assert f.remedy.strip() and "\n" not in f.remedy, f.id


def test_this_environment_has_the_core_stack(report):
    """The project's own environment: torch, decoders and model library all present."""
    for finding_id in ("torch", "torchaudio", "soundfile", "transformers", "non_ascii_paths"):
        assert report.get(finding_id).status == "ok", report.get(finding_id).summary
    assert report.get("torch").details["version"]
    assert report.get("soundfile").details["reads_mp3"] is True


def test_exit_code_and_status_follow_the_worst_finding():
    ok = Finding("a", "A", "ok", "fine", {}, "")
    warn = Finding("b", "B", "warning", "slow", {}, "do x")
    bad = Finding("c", "C", "problem", "broken", {}, "do y")
    assert (DoctorReport([ok]).status, DoctorReport([ok]).exit_code) == ("ok", 0)
    assert (DoctorReport([ok, warn]).status, DoctorReport([ok, warn]).exit_code) == ("warning", 0)
    assert (DoctorReport([bad, ok, warn]).status, DoctorReport([bad, ok, warn]).exit_code) == ("problem", 1)
    with pytest.raises(ValueError):
        Finding("d", "D", "fine", "not a status", {}, "")


def test_format_text_shows_every_finding_and_remedies_for_non_ok_ones():
    findings = [
        Finding("a", "Alpha", "ok", "all good", {}, ""),
        Finding("b", "A much longer title", "warning", "runs on CPU", {}, "install a driver"),
        Finding("c", "Gamma", "problem", "missing", {}, "pip install gamma"),
    ]
    text = DoctorReport(findings).format_text()
    lines = text.splitlines()
    rows = [line for line in lines if line.split(maxsplit=1)[:1] in (["ok"], ["warning"], ["problem"])]
    assert len(rows) == 3
    # the summary column starts at the same place on every row
    assert len({row.index(summary) for row, summary in zip(rows, ("all good", "runs on CPU", "missing"), strict=True)}) == 1
    assert "fix: install a driver" in text and "fix: pip install gamma" in text
    assert text.count("fix:") == 2
    assert "problem" in lines[-1]


def test_a_crashing_check_becomes_a_finding(monkeypatch):
    import psutil

    def boom():
        raise RuntimeError("sensor exploded")

    monkeypatch.setattr(psutil, "virtual_memory", boom)
    finding = _only("memory")
    assert finding.status == "warning"
    assert "sensor exploded" in finding.summary
    assert finding.remedy


def test_importing_the_module_does_not_import_heavy_libraries():
    code = "import sys, workbench.environment; print(sorted(m for m in ('torch', 'transformers', 'torchcodec', 'av') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------
# Individual checks under simulated conditions
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "fix"),
    [("Linux", "apt-get install ffmpeg"), ("Windows", "conda install -c conda-forge"), ("Darwin", "brew install ffmpeg")],
)
def test_torchcodec_load_failure_is_a_warning_in_plain_words(monkeypatch, system, fix):
    reason = explain_torchcodec_error(RuntimeError(TORCHCODEC_LOAD_ERROR))
    monkeypatch.setattr(environment.libraries, "torchcodec_status", lambda: (False, reason))
    monkeypatch.setattr(ffmpeg.platform, "system", lambda: system)
    finding = _only("torchcodec")
    assert finding.status == "warning"
    assert "FFmpeg shared libraries" in finding.summary and "missing" in finding.summary
    assert fix in finding.remedy
    if system != "Windows":
        assert "conda install -c conda-forge" in finding.remedy
    assert finding.details["status"] == reason


def test_torchcodec_that_loads_reports_its_ffmpeg(report):
    finding = report.get("torchcodec")
    if finding.status != "ok":
        pytest.skip(f"TorchCodec does not load here: {finding.summary}")
    assert isinstance(finding.details["ffmpeg_major_version"], int)
    assert "ffmpeg_version" in finding.details["ffmpeg_library_versions"]
    assert f"FFmpeg {finding.details['ffmpeg_major_version']}" in finding.summary


def test_missing_ffmpeg_binary_is_reported(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    sub = run_doctor(["ffmpeg_binary", "non_ascii_paths"])
    ffmpeg = sub.get("ffmpeg_binary")
    assert ffmpeg.status == "warning"
    assert "not on PATH" in ffmpeg.summary
    assert "ffmpeg" in ffmpeg.remedy
    non_ascii = sub.get("non_ascii_paths")
    assert non_ascii.status == "ok"
    assert non_ascii.details["round_trips"]["ffmpeg"].startswith("skipped")


def test_non_ascii_check_really_writes_and_reads_a_non_ascii_path(monkeypatch):
    import soundfile as sf

    written, read = [], []
    real_write, real_read = sf.write, sf.read
    monkeypatch.setattr(sf, "write", lambda file, *a, **k: (written.append(str(file)), real_write(file, *a, **k))[1])
    monkeypatch.setattr(sf, "read", lambda file, *a, **k: (read.append(str(file)), real_read(file, *a, **k))[1])
    finding = _only("non_ascii_paths")
    assert finding.status == "ok", finding.summary
    assert written and written == read
    folder = Path(written[0]).parent
    assert folder.name == "粤语测试" and not Path(written[0]).name.isascii()
    assert not Path(written[0]).exists(), "the probe folder is cleaned up"
    assert finding.details["round_trips"]["soundfile"] == "ok"
    assert finding.details["filesystem_encoding"]
    if shutil.which("ffmpeg"):
        assert finding.details["round_trips"]["ffmpeg"] == "ok"


def test_non_ascii_round_trip_failure_is_a_problem(monkeypatch):
    import soundfile as sf

    def unreadable(file, *args, **kwargs):
        raise sf.LibsndfileError(2, prefix=f"Error opening {file!r}: ")

    monkeypatch.setattr(sf, "read", unreadable)
    finding = _only("non_ascii_paths")
    assert finding.status == "problem"
    assert "soundfile" in finding.summary
    assert "ASCII" in finding.remedy


def test_cuda_build_without_gpu_warns_that_it_runs_on_cpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(environment.machine, "_nvidia_smi_gpus", lambda: [])
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    finding = _only("gpu")
    assert finding.status == "warning" and "runs on CPU" in finding.summary
    monkeypatch.setattr(torch.version, "cuda", None)
    finding = _only("gpu")
    assert finding.status == "ok" and "CPU" in finding.summary


def test_missing_torch_is_a_problem(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes "import torch" raise ImportError
    sub = run_doctor(["torch", "gpu"])
    assert sub.get("torch").status == "problem"
    assert "pip install" in sub.get("torch").remedy and "torch" in sub.get("torch").remedy
    assert sub.get("gpu").status != "ok"
    assert sub.exit_code == 1


def test_torchaudio_not_matching_torch_is_a_problem(monkeypatch):
    import torch
    import torchaudio

    monkeypatch.setattr(torchaudio, "__version__", "2.0.0")
    finding = _only("torchaudio")
    assert finding.status == "problem"
    assert "does not match torch" in finding.summary
    assert f"torchaudio=={torch.__version__.split('+')[0]}" in finding.remedy


def test_absent_faster_whisper_is_an_optional_warning(monkeypatch):
    real = environment.libraries._installed_version
    monkeypatch.setattr(environment.libraries, "_installed_version", lambda d: None if d == "faster-whisper" else real(d))
    finding = _only("faster_whisper")
    assert finding.status == "warning"
    assert finding.remedy == "pip install faster-whisper"


def test_version_drift_from_the_pins_is_a_warning(monkeypatch):
    if environment._pin("transformers") is None:
        pytest.skip("the workbench's distribution metadata is not installed")
    real = environment.libraries._installed_version
    monkeypatch.setattr(environment.libraries, "_installed_version", lambda d: "4.0.0" if d == "transformers" else real(d))
    finding = _only("transformers")
    assert finding.status == "warning"
    assert finding.remedy.startswith("pip install") and environment._pin("transformers") in finding.remedy


@pytest.mark.parametrize(("available_gib", "status"), [(4, "warning"), (16, "ok")])
def test_low_memory_warns(monkeypatch, available_gib, status):
    import psutil

    monkeypatch.setattr(psutil, "virtual_memory", lambda: VirtualMemory(32 * GIB, available_gib * GIB))
    finding = _only("memory")
    assert finding.status == status
    assert finding.details["available_gib"] == pytest.approx(available_gib)
    if status == "warning":
        assert "large-v3" in finding.summary


@pytest.mark.parametrize(("free_gib", "status"), [(5, "warning"), (50, "ok")])
def test_low_disk_in_the_cache_warns(monkeypatch, free_gib, status):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: DiskUsage(100 * GIB, (100 - free_gib) * GIB, free_gib * GIB))
    finding = _only("disk")
    assert finding.status == status
    assert finding.details["cache_dirs"][0]["free_gib"] == pytest.approx(free_gib)


FC_LIST_WITH_NOTO = (
    "Noto Sans CJK SC,Noto Sans CJK SC Regular\n"
    "Noto Sans CJK TC,Noto Sans CJK TC Regular\n"
    "Noto Serif CJK SC\n"
    "Noto Sans CJK SC,Noto Sans CJK SC Bold\n"
)


def _fake_fontconfig(monkeypatch, stdout: str | None, returncode: int = 0):
    """Linux with ``fc-list`` answering ``stdout`` (``None``: fc-list not installed); records the calls."""
    calls = []
    real_which = shutil.which
    monkeypatch.setattr(ffmpeg.platform, "system", lambda: "Linux")
    monkeypatch.setattr(
        shutil,
        "which",
        lambda name, *a, **k: (None if stdout is None else "/usr/bin/fc-list") if name == "fc-list" else real_which(name, *a, **k),
    )

    def fake_run(args, **kwargs):
        calls.append(list(args))
        return subprocess.CompletedProcess(args, returncode, stdout or "", "fc-list: broken cache" if returncode else "")

    monkeypatch.setattr(environment.machine, "_run", fake_run)
    return calls


def test_cjk_font_present_is_ok(monkeypatch):
    calls = _fake_fontconfig(monkeypatch, FC_LIST_WITH_NOTO)
    finding = _only("cjk_font")
    assert calls == [["/usr/bin/fc-list", ":lang=zh", "family"]]
    assert finding.status == "ok" and finding.remedy == ""
    assert finding.details["families"] == ["Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Serif CJK SC"]
    assert finding.summary.startswith("3 font families") and "Noto Sans CJK SC" in finding.summary


def test_no_cjk_font_warns_that_chinese_renders_as_boxes(monkeypatch):
    _fake_fontconfig(monkeypatch, "")
    finding = _only("cjk_font")
    assert finding.status == "warning"
    assert "no CJK font" in finding.summary and "boxes" in finding.summary
    assert "apt-get install fonts-noto-cjk" in finding.remedy and "\n" not in finding.remedy
    assert finding.details["families"] == []


def test_missing_fc_list_warns_and_says_what_to_install(monkeypatch):
    calls = _fake_fontconfig(monkeypatch, None)
    finding = _only("cjk_font")
    assert calls == []
    assert finding.status == "warning" and "fc-list" in finding.summary
    assert "fonts-noto-cjk" in finding.remedy and "fontconfig" in finding.remedy
    assert finding.details["families"] is None


def test_failing_fc_list_becomes_a_warning_not_a_crash(monkeypatch):
    _fake_fontconfig(monkeypatch, "", returncode=1)
    finding = _only("cjk_font")
    assert finding.status == "warning" and "fc-list" in finding.summary and "broken cache" in finding.summary
    assert "fc-cache" in finding.remedy


@pytest.mark.parametrize(("system", "name"), [("Windows", "Windows"), ("Darwin", "macOS")])
def test_windows_and_macos_ship_cjk_fonts(monkeypatch, system, name):
    calls = _fake_fontconfig(monkeypatch, "")  # fc-list would find nothing: it must not be asked
    monkeypatch.setattr(ffmpeg.platform, "system", lambda: system)
    finding = _only("cjk_font")
    assert calls == []
    assert finding.status == "ok" and f"{name} ships CJK fonts" in finding.summary


def _fake_bin(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.mark.parametrize(("action", "wanted"), [("demo", True), ("test", True), ("setup", False)])
def test_setup_script_installs_a_cjk_font_for_the_demo_and_tests(tmp_path, action, wanted):
    """Run scripts/setup.sh against stand-in system tools: root, apt-get present, no CJK font."""
    bash = shutil.which("bash")
    if bash is None or sys.platform == "win32":
        pytest.skip("needs bash and a POSIX shell")
    fake = tmp_path / "bin"
    fake.mkdir()
    for tool in ("dirname", "cat", "sha256sum", "cut", "grep"):
        found = shutil.which(tool)
        if found is None:
            pytest.skip(f"{tool} is not on PATH")
        (fake / tool).symlink_to(found)
    record = tmp_path / "record"
    _fake_bin(fake, "id", "echo 0")  # root: installs without sudo
    _fake_bin(fake, "apt-get", f'echo "apt-get $*" >> "{record}"')
    _fake_bin(fake, "fc-list", "exit 0")  # fontconfig without any font
    for present in ("ffmpeg", "chromium", "espeak-ng"):
        _fake_bin(fake, present, "exit 0")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    _fake_bin(venv / "bin", "python", f'echo "python $*" >> "{record}"')
    stamp = subprocess.run(["sha256sum", ROOT / "pyproject.toml"], capture_output=True, text=True, check=True).stdout.split()[0]
    (venv / ".workbench-installed").write_text(stamp + "\n")
    env = {"PATH": str(fake), "WORKBENCH_VENV": str(venv), "HOME": str(tmp_path)}
    proc = subprocess.run([bash, ROOT / "scripts" / "setup.sh", action], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    installs = [line for line in (record.read_text().splitlines() if record.exists() else []) if line.startswith("apt-get install")]
    assert bool(installs) == wanted, (installs, proc.stderr)
    if wanted:
        assert installs[0].split()[-1] == "fonts-noto-cjk"  # ffmpeg, chromium and espeak-ng are "present"
    if action == "demo":
        assert "python -m workbench demo" in record.read_text()


# --------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------


def test_cli_doctor_json_prints_the_report():
    proc = subprocess.run([sys.executable, "-m", "workbench", "doctor", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    assert data["schema"] == "workbench.doctor/1"
    assert [f["id"] for f in data["findings"]] == EXPECTED_IDS
    assert proc.returncode == (1 if data["summary"]["status"] == "problem" else 0)
