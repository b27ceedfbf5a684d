"""Notebooks that travel: figures that survive export, numbers shown rounded, an offline HTML export.

:func:`setup`, called once at the top of a notebook, makes every plotly
figure carry, besides the interactive output JupyterLab draws, an HTML
version that draws itself with a copy of plotly.js included once in the
notebook. So ``jupyter nbconvert --to html`` and JupyterLab's "Export" keep
the figures, and no figure needs a CDN. It also shows pandas tables with
three decimals instead of ``1.845238`` or ``2.364972e-03``.

:func:`export_html` (``python -m workbench export NOTEBOOK``) goes one step
further: the page it writes loads nothing at all from the network (JupyterLab's
own template asks a CDN for require.js and MathJax, which the workbench's
notebooks do not need).
"""

from __future__ import annotations

from pathlib import Path

from .errors import WorkbenchError

#: The renderer :func:`setup` selects: JupyterLab's plotly output plus a self-contained HTML one.
RENDERER = "plotly_mimetype+workbench_notebook"
#: Digits pandas shows after the decimal point once :func:`setup` has run.
DISPLAY_PRECISION = 3
#: The nbconvert template :func:`export_html` uses (in ``workbench/static/nbconvert``).
TEMPLATE = "workbench_offline"


def _register_renderer() -> None:
    import plotly.io as pio
    from plotly.io._base_renderers import NotebookRenderer

    class OfflineNotebookRenderer(NotebookRenderer):
        """plotly's notebook renderer (plotly.js inlined once), without the MathJax it fetches from a CDN for every figure."""

        def to_mimebundle(self, fig_dict):
            from plotly.io import to_html

            html = to_html(
                fig_dict,
                config=self.config,
                auto_play=self.auto_play,
                include_plotlyjs=self.include_plotlyjs,
                include_mathjax=False,
                post_script=self.post_script,
                full_html=False,
                animation_opts=self.animation_opts,
                default_width="100%",
                default_height=525,
                validate=False,
            )
            return {"text/html": html}

    if "workbench_notebook" not in pio.renderers:
        pio.renderers["workbench_notebook"] = OfflineNotebookRenderer(connected=False)


def setup(*, precision: int = DISPLAY_PRECISION) -> None:
    """Prepare this notebook: exportable offline figures, rounded tables.

    Call it once, in the first cell (``wb.notebook_setup()``). It makes
    :data:`RENDERER` plotly's default (plotly.js is inlined in the first
    figure's output) and sets pandas' display of floats.

    Parameters
    ----------
    precision : int
        Digits after the decimal point in pandas tables (very small values keep
        that many significant digits instead of showing 0.000).
    """
    import plotly.io as pio

    _register_renderer()
    pio.renderers.default = RENDERER
    try:
        import pandas as pd
    except ImportError:  # tables are pandas; without it there is nothing to round
        return
    pd.set_option("display.precision", precision)
    pd.set_option("display.float_format", lambda v: f"{v:.{precision}f}" if v == 0 or abs(v) >= 10**-precision else f"{v:.{precision}g}")


def export_html(notebook, out=None, *, execute: bool = False, timeout: int = 1200) -> Path:
    """Write ``notebook`` as one HTML page that opens offline, figures included.

    Parameters
    ----------
    notebook : path
        An ``.ipynb`` file.
    out : path, optional
        The page; default the notebook's name with ``.html``, beside it.
    execute : bool
        Run the notebook first (in its own folder, as Jupyter would), so the
        page shows fresh outputs; the notebook file itself is not changed.
    timeout : int
        Seconds a cell may run when executing.

    Returns
    -------
    Path
        The page written.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from .io import check_output, write_text

    src = Path(notebook)
    if not src.is_file() or src.suffix != ".ipynb":
        raise WorkbenchError(f"export: {notebook} is not a notebook (.ipynb) file; pass one, e.g. notebooks/01_quick_start.ipynb")
    target = check_output(out or src.with_suffix(".html"), inputs=[src], suffixes=(".html", ".htm"), option="--out")
    try:
        nb = nbformat.read(src, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several kinds for a damaged file
        raise WorkbenchError(
            f"export: {src} is not a readable notebook ({type(exc).__name__}: {exc}); open it in Jupyter to repair it"
        ) from exc
    if execute:
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(src.parent)}}).execute()
        except CellExecutionError as exc:
            raise WorkbenchError(f"export: a cell of {src} failed: {str(exc).strip().splitlines()[-1]}") from exc
    exporter = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(Path(__file__).parent / "static" / "nbconvert")])
    body, _ = exporter.from_notebook_node(nb)
    return write_text(target, body)
