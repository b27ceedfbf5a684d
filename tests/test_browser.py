"""End to end in a real browser: JupyterLab on loopback, the playground notebook in
headless Chromium (Debian's package, driven by Playwright), the panel run, the
resampler changed, and the figure and transcript checked. A screenshot is kept
in test-artifacts/."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "test-artifacts"
NOTEBOOK = "notebooks/03_transcription_playground.ipynb"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 90
STEP_TIMEOUT_MS = 180_000

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    port, token = _free_port(), secrets.token_hex(16)
    home = tmp_path_factory.mktemp("jupyter")
    root = home / "lab"  # a copy, so the browser session never writes outputs into the project's notebooks
    (root / "notebooks").mkdir(parents=True)
    shutil.copy2(ROOT / NOTEBOOK, root / NOTEBOOK)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--allow-root",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.terminate()
                pytest.fail("JupyterLab did not start on loopback")
            time.sleep(0.5)
    yield base, token
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def test_playground_runs_in_a_real_browser(lab):
    from playwright.sync_api import expect, sync_playwright

    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.set_default_timeout(STEP_TIMEOUT_MS)
        try:
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}&reset")
            page.locator(".jp-Notebook").first.wait_for()
            expect(page.locator(".jp-StatusBar-Widget").filter(has_text="Idle").first).to_be_visible()
            # Run only the panel cell: select it, then Shift+Enter; retry until the kernel takes it.
            cell = page.locator(".jp-CodeCell").first
            for _ in range(10):
                cell.locator(".jp-InputArea-editor").click()
                page.keyboard.press("Shift+Enter")
                try:
                    expect(cell.locator(".jp-InputPrompt")).not_to_have_text("[ ]:", timeout=5_000)
                    break
                except AssertionError:
                    continue

            panel = page.locator(".widget-vbox").filter(has_text="Resampler").first
            panel.wait_for()
            plots = page.locator(".js-plotly-plot")
            expect(plots.first).to_be_visible()
            resampler = page.locator(".widget-dropdown").filter(has_text="Resampler").locator("select")
            label = next(t for t in resampler.locator("option").all_inner_texts() if t.startswith("naive_decimation"))
            resampler.select_option(label=label)
            expect(page.locator(".js-plotly-plot").filter(has_text="naive_decimation").first).to_be_visible(timeout=STEP_TIMEOUT_MS)

            page.get_by_role("button", name="Transcribe").first.click()
            page.locator(".lm-TabBar-tab, .p-TabBar-tab").filter(has_text="Transcript").first.click()
            expect(page.locator(".widget-html").filter(has_text="CER").first).to_be_visible(
                timeout=STEP_TIMEOUT_MS
            )  # transcribing takes seconds
            page.screenshot(path=str(ARTIFACTS / "playground.png"), full_page=True)

            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").filter(has_text="Traceback")
            assert errors.count() == 0
            assert page.locator(".jp-OutputArea-output").filter(has_text="Traceback").count() == 0
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "playground-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert (ARTIFACTS / "playground.png").stat().st_size > 10_000
