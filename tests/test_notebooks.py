"""Notebooks run top to bottom headless, and are stored without outputs."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has stored outputs"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


def _scripts_from_network(html: str) -> list[str]:
    return re.findall(r'<script[^>]*\bsrc="(?:https?:)?//[^"]*"', html)


@pytest.mark.parametrize(
    "path",
    # the quick start stays in the quick loop as a smoke test of every notebook's machinery; the others are slow
    [p if p.name.startswith("01_") else pytest.param(p, marks=pytest.mark.slow) for p in NOTEBOOKS],
    ids=lambda p: p.name,
)
def test_notebook_runs(path, tmp_path):
    """Each notebook runs from a folder of its own, not the repository's: bundled data is found through the package."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors[0].get("evalue") if errors else ""
    for i, cell in enumerate(nb.cells):
        last = cell.source.strip().splitlines()[-1] if cell.cell_type == "code" and cell.source.strip() else ""
        if last.startswith("figures.") or "_chart(" in last:  # a cell that ends by showing a figure
            data = [o.get("data", {}) for o in cell.outputs]
            assert any("application/vnd.plotly.v1+json" in d for d in data), f"{path.name} cell {i} shows no figure"
            # ...and an HTML version of it, which survives nbconvert and JupyterLab's export
            assert any("Plotly.newPlot" in d.get("text/html", "") for d in data), f"{path.name} cell {i}: no exportable figure"
    if path.name.startswith("01_"):
        _check_export(nb, tmp_path)


def _check_export(nb, tmp_path):
    """Exported, notebook 01 keeps its figures offline: plotly.js inlined once, no script from a CDN."""
    from nbconvert import HTMLExporter

    from workbench.notebook import export_html

    figures = sum("application/vnd.plotly.v1+json" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert figures >= 1
    plain, _ = HTMLExporter().from_notebook_node(nb)  # what `jupyter nbconvert --to html` writes
    assert plain.count("Plotly.newPlot") == figures  # each figure's data and drawing code
    assert "cdn.plot.ly" not in "".join(_scripts_from_network(plain))  # plotly.js is in the page, not fetched
    assert re.search(r"plotly\.js v\d", plain), "plotly.js is not inlined"
    executed = tmp_path / "executed.ipynb"
    nbformat.write(nb, executed)
    page = export_html(executed, tmp_path / "page.html").read_text(encoding="utf-8")
    assert page.count("Plotly.newPlot") == figures
    assert _scripts_from_network(page) == []


def test_export_command_checks_its_input_and_output(tmp_path, capsys):
    from workbench.cli import main

    nb = tmp_path / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title")]), nb)
    before = nb.read_bytes()
    assert main(["export", str(nb), "--out", str(nb)]) == 2
    assert "is also an input of this command" in capsys.readouterr().err
    assert nb.read_bytes() == before
    text = tmp_path / "notes.txt"
    text.write_text("not a notebook", encoding="utf-8")
    assert main(["export", str(text)]) == 2
    assert "is not a notebook (.ipynb) file" in capsys.readouterr().err
    assert main(["export", str(nb)]) == 0
    page = (tmp_path / "n.html").read_text(encoding="utf-8")
    assert "Title" in page and _scripts_from_network(page) == []
