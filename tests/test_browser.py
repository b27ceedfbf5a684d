"""End to end in a real browser: JupyterLab on loopback, the playground notebook in
headless Chromium (Debian's package, driven by Playwright), the panel run, the
resampler changed, and the figure and transcript checked: the resampler's figure
beside its controls, no label cut off, two resamplers in two colours in the chart
of runs, a readable table of runs and segment times. A screenshot is kept in
test-artifacts/."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from plotly.colors import hex_to_rgb

from workbench.figures import resampler_colour

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
#: How long a check waits for the page by default (the kernel and figures are slow on a busy machine).
EXPECT_TIMEOUT_MS = 60_000
#: Labels and buttons of the panel whose text does not fit their box (shown with an ellipsis).
CUT_TEXT_JS = """root => Array.from(root.querySelectorAll('.widget-label, .widget-label-basic, button, .widget-toggle-button'))
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.textContent.trim() || e.title)"""
#: Fill colours of the bars in a plotly chart.
BAR_FILLS_JS = "paths => paths.map(p => getComputedStyle(p).fill)"
#: Each table row's height, its cells' line height and their vertical padding (px).
ROW_HEIGHTS_JS = """rows => rows.map(r => {
    const style = getComputedStyle(r.cells[0]);
    const line = parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize);
    return [r.getBoundingClientRect().height, line, parseFloat(style.paddingTop) + parseFloat(style.paddingBottom)];
})"""
#: A number shown in full precision: many decimals, or an exponent.
LONG_NUMBER = re.compile(r"\d\.\d{5,}|\d(?:\.\d+)?e[-+]\d")

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
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
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
            choose_resampler(resampler, "naive_decimation")
            figure = page.locator(".js-plotly-plot").filter(has_text="naive_decimation").first
            expect(figure).to_be_visible(timeout=STEP_TIMEOUT_MS)
            # The figure that changed is in view, beside the control that changed it.
            expect(figure).to_be_in_viewport(ratio=0.9)
            fig_box, select_box = figure.bounding_box(), resampler.bounding_box()
            assert fig_box["x"] >= select_box["x"] + select_box["width"] - 1, (fig_box, select_box)
            assert fig_box["y"] < select_box["y"] + select_box["height"] and select_box["y"] < fig_box["y"] + fig_box["height"]
            title_box = figure.locator(".gtitle").first.bounding_box()
            assert fig_box["x"] <= title_box["x"] and title_box["x"] + title_box["width"] <= fig_box["x"] + fig_box["width"], title_box
            assert panel.evaluate(CUT_TEXT_JS) == []

            page.get_by_role("button", name="Transcribe").first.click()
            page.locator(".lm-TabBar-tab, .p-TabBar-tab").filter(has_text="Transcript").first.click()
            expect(page.locator(".widget-html").filter(has_text="CER").first).to_be_visible(
                timeout=STEP_TIMEOUT_MS
            )  # transcribing takes seconds
            timestamps = page.locator(".widget-dropdown").filter(has_text="Timestamps").locator("select").input_value()
            if timestamps != "none":
                expect(page.locator(".wb-segments .wb-time").first).to_have_text(re.compile(r"^\d+\.\d\d–\d+\.\d\d s$"))
            page.screenshot(path=str(ARTIFACTS / "playground-transcript.png"), full_page=True)

            # A second run with another resampler: the chart of runs shows the two in two colours.
            choose_resampler(resampler, "soxr_hq")
            expect(page.locator(".js-plotly-plot").filter(has_text="with soxr_hq").first).to_be_visible()
            page.get_by_role("button", name="Transcribe").first.click()
            page.locator(".lm-TabBar-tab, .p-TabBar-tab").filter(has_text="Compare runs").first.click()
            runs = page.locator("table.wb-runs tr.wb-run")
            expect(runs).to_have_count(2, timeout=STEP_TIMEOUT_MS)
            chart = page.locator(".js-plotly-plot").filter(has_text="coloured by resampler").first
            expect(chart).to_be_visible()
            fills = set(chart.locator(".barlayer .point path").evaluate_all(BAR_FILLS_JS))
            assert fills == {rgb(resampler_colour("naive_decimation")), rgb(resampler_colour("soxr_hq"))}, fills
            # The table: one line per run, the error rate in view without scrolling.
            for height, line, padding in runs.evaluate_all(ROW_HEIGHTS_JS):
                assert height < 2 * line + padding, (height, line, padding)
            box = page.locator(".wb-runs-box").first.bounding_box()
            heading = page.locator("table.wb-runs th").filter(has_text="error rate").first.bounding_box()
            assert box["x"] <= heading["x"] and heading["x"] + heading["width"] <= box["x"] + box["width"], (heading, box)
            shown = " ".join(page.locator(".widget-html-content, .widget-label").all_inner_texts())
            assert LONG_NUMBER.search(shown) is None, LONG_NUMBER.search(shown)
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


def choose_resampler(select, name: str) -> None:
    """Pick ``name`` in the resampler list (its options read "name (kind)", the space a no-break one)."""
    label = next(t for t in select.locator("option").all_inner_texts() if t.split()[0] == name)
    select.select_option(label=label)


def rgb(colour: str) -> str:
    """A ``#rrggbb`` colour as the browser reports a computed fill: ``rgb(r, g, b)``."""
    return "rgb({}, {}, {})".format(*hex_to_rgb(colour))
