"""Plotly figures of waveforms and spectrograms.

Every function returns a :class:`plotly.graph_objects.Figure`: interactive in
a notebook, and written to a self-contained HTML file by :func:`to_html`.
The numbers come from :mod:`workbench.spectra`; this module only lays them
out. Inputs may be a :class:`~workbench.audio.Clip`, a ``(samples, sr)``
pair, an array with ``sr=``, or an already computed
:class:`~workbench.spectra.Spectrogram`. Spectrograms are max-pooled to at
most :data:`~workbench.spectra.MAX_BINS` x :data:`~workbench.spectra.MAX_FRAMES`
cells and waveforms to a min/max envelope of
:data:`~workbench.spectra.MAX_POINTS` points, so a 10-minute clip draws as
quickly as a 10-second one.

Examples
--------
>>> import numpy as np
>>> from scipy.signal import resample_poly
>>> sr = 48_000
>>> x = np.random.default_rng(0).normal(0, 0.1, 5 * sr).astype("float32")
>>> fig = before_after_figure((x, sr), (resample_poly(x, 1, 3), 16_000))
>>> [trace.type for trace in fig.data]
['heatmap', 'heatmap']
>>> to_html(fig, "before_after.html")            # doctest: +SKIP
"""

from __future__ import annotations

import math
from numbers import Real
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from .errors import FigureError
from .io import atomic_path
from .spectra import (
    MAX_BINS,
    MAX_FRAMES,
    MAX_POINTS,
    N_MELS,
    WHISPER_SAMPLE_RATE,
    Spectrogram,
    as_mono,
    downsample_for_display,
    log_mel_spectrogram,
    spectral_difference,
    stft_spectrogram,
    waveform_envelope,
)

#: Range of the colour scale below the loudest cell (dB).
DYNAMIC_RANGE_DB = 100.0
#: Colour scale limit (+/- dB) of a difference view.
DIFFERENCE_LIMIT_DB = 40.0
#: Range of Whisper's normalised log-mel values: 8 decades of power / 4.
LOG_MEL_RANGE = 2.0
SPECTROGRAM_COLORSCALE = "Magma"
DIFFERENCE_COLORSCALE = "RdBu_r"
NYQUIST_LINE = {"color": "#00e5ff", "width": 1.5, "dash": "dash"}
#: Mel-axis ticks (Hz) for log-mel figures.
MEL_TICKS_HZ = (100, 250, 500, 1000, 2000, 4000, 8000)

#: One fixed colour per registered resampler, by name (never by position, so a
#: resampler keeps its colour in every chart): greens and blues for the
#: quality methods, ambers for the common ones, reds for the bad ones.
RESAMPLER_COLOURS = {
    "soxr_vhq": "#1b7837",
    "soxr_hq": "#5aae61",
    "torchaudio_kaiser_best": "#2166ac",
    "librosa_soxr_hq": "#4393c3",
    "librosa_kaiser_best": "#92c5de",
    "ffmpeg_soxr": "#35978f",
    "torchaudio_default": "#e08214",
    "scipy_poly": "#b35806",
    "librosa_polyphase": "#fdb863",
    "ffmpeg_swr": "#8073ac",
    "linear": "#d6604d",
    "naive_decimation": "#b2182b",
    "mislabelled": "#67001f",
}
#: Colour for a name the table does not know.
OTHER_COLOUR = "#777777"


def resampler_colour(name: str) -> str:
    """The fixed colour of a resampler (grey for an unknown name).

    >>> resampler_colour("soxr_hq") != resampler_colour("naive_decimation")
    True
    """
    return RESAMPLER_COLOURS.get(name, OTHER_COLOUR)


FIGURE_HEIGHT = 420
SUBPLOT_HEIGHT = 300


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


def _is_clip(x) -> bool:
    return hasattr(x, "samples") and hasattr(x, "sample_rate") and not isinstance(x, np.ndarray)


def _samples_and_rate(x, sr, what: str = "samples") -> tuple[np.ndarray, int]:
    """Samples and rate from a Clip, a ``(samples, sr)`` pair or an array plus ``sr``."""
    if _is_clip(x):
        if sr is not None and int(sr) != int(x.sample_rate):
            raise FigureError(f"{what}: the clip is at {x.sample_rate} Hz but sr={sr} was given")
        return np.asarray(x.samples), int(x.sample_rate)
    if isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], Real):
        if sr is not None and int(sr) != int(x[1]):
            raise FigureError(f"{what}: the pair says {x[1]} Hz but sr={sr} was given")
        return np.asarray(x[0]), int(x[1])
    if sr is None:
        raise FigureError(f"{what}: an array needs its sample rate; pass sr=<Hz>, a (samples, sr) pair or a Clip")
    return np.asarray(x), int(sr)


def _spectrogram(x, sr, what: str) -> Spectrogram:
    if isinstance(x, Spectrogram):
        return x
    samples, rate = _samples_and_rate(x, sr, what)
    return stft_spectrogram(samples, rate)


def _clip_label(x) -> str | None:
    """Short description of where a Clip came from: file name and last resampling step."""
    if not _is_clip(x):
        return None
    info = getattr(x, "info", None)
    parts = []
    path = getattr(info, "path", None)
    if path:
        parts.append(Path(str(path)).name)
    for step in reversed(getattr(info, "history", None) or []):
        if step.get("step") == "resample":
            parts.append(f"{step.get('method')}, {_khz(step.get('from_rate'))} to {_khz(step.get('to_rate'))}")
            break
    return " - ".join(parts) or None


def _khz(rate) -> str:
    return f"{rate / 1000:g} kHz" if isinstance(rate, Real) else str(rate)


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------


def _heatmap(spec: Spectrogram, *, panel: int = 1, name: str | None = None, y=None) -> go.Heatmap:
    if spec.kind == "log-mel":
        hover = "t=%{x:.2f} s<br>mel bin %{y}<br>%{z:.3f}<extra></extra>"
    else:
        hover = "t=%{x:.2f} s<br>f=%{y:.0f} Hz<br>%{z:.1f} " + spec.units.split(" ")[0] + "<extra></extra>"
    return go.Heatmap(
        z=np.asarray(spec.values, dtype=np.float32),
        x=np.asarray(spec.times, dtype=np.float32),
        y=np.asarray(spec.freqs if y is None else y, dtype=np.float32),
        xaxis=_axis_id("x", panel),
        yaxis=_axis_id("y", panel),
        coloraxis="coloraxis",
        name=name,
        hovertemplate=hover,
    )


def _db_range(specs, dynamic_range_db: float) -> tuple[float, float]:
    top = max(float(np.nanmax(s.values)) for s in specs)
    top = math.ceil(top) if math.isfinite(top) else 0.0
    return top - float(dynamic_range_db), top


def _nyquist_marker(freq: float, panel: int = 1, text: str | None = None) -> tuple[dict, dict]:
    """Shape and label of a dashed horizontal line at ``freq`` Hz across one panel."""
    xref = f"{_axis_id('x', panel)} domain"
    yref = _axis_id("y", panel)
    shape = {"type": "line", "name": "nyquist", "xref": xref, "x0": 0, "x1": 1, "yref": yref, "y0": freq, "y1": freq, "line": NYQUIST_LINE}
    label = {
        "text": text or f"Nyquist {freq / 1000:g} kHz",
        "xref": xref,
        "x": 1,
        "xanchor": "right",
        "yref": yref,
        "y": freq,
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"color": NYQUIST_LINE["color"], "size": 11},
    }
    return shape, label


def _axis_id(axis: str, panel: int) -> str:
    """``"x"``, ``"x2"``...: how traces and shapes name panel ``panel``'s axes."""
    return axis if panel == 1 else f"{axis}{panel}"


def _grid_layout(rows: int, cols: int, titles, *, shared_y: bool = False, hspace: float = 0.04, vspace: float = 0.12) -> dict:
    """Layout of a ``rows x cols`` grid with one panel per title, numbered row by row.

    Written out directly rather than with ``make_subplots`` and
    ``update_*`` calls: one validation pass instead of dozens, which is
    most of the time a figure takes to build.
    """
    width = (1 - hspace * (cols - 1)) / cols
    height = (1 - vspace * (rows - 1)) / rows
    layout: dict = {"annotations": [], "shapes": []}
    for i in range(len(titles)):
        row, col = divmod(i, cols)
        panel = i + 1
        x0 = col * (width + hspace)
        y1 = 1 - row * (height + vspace)
        xaxis = {"domain": [x0, x0 + width], "anchor": _axis_id("y", panel)}
        yaxis = {"domain": [y1 - height, y1], "anchor": _axis_id("x", panel)}
        if shared_y and panel > 1:
            yaxis.update(matches="y", showticklabels=False)
        layout["xaxis" + _axis_id("x", panel)[1:]] = xaxis
        layout["yaxis" + _axis_id("y", panel)[1:]] = yaxis
        layout["annotations"].append(
            {
                "text": titles[i],
                "xref": "paper",
                "yref": "paper",
                "x": x0 + width / 2,
                "y": y1,
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 14},
            }
        )
    return layout


def _coloraxis(zmin: float, zmax: float, units: str, colorscale: str = SPECTROGRAM_COLORSCALE, **extra) -> dict:
    return {"colorscale": colorscale, "cmin": zmin, "cmax": zmax, "colorbar": {"title": {"text": units}}, **extra}


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


def waveform_figure(samples_or_clip, sr: int | None = None, *, title: str | None = None, max_points: int = MAX_POINTS) -> go.Figure:
    """Waveform against time, one trace per channel.

    Clips longer than ``max_points`` samples are drawn as a min/max envelope
    (:func:`~workbench.spectra.waveform_envelope`), so the figure stays the
    same size however long the audio is.

    Examples
    --------
    >>> import numpy as np
    >>> fig = waveform_figure(np.zeros(16_000 * 600), sr=16_000)
    >>> len(fig.data[0].x) <= 4000
    True
    """
    samples, rate = _samples_and_rate(samples_or_clip, sr, "waveform_figure")
    channels = samples[None, :] if samples.ndim == 1 else samples
    traces = []
    peak = 1.0
    for i, channel in enumerate(channels):
        t, v = waveform_envelope(channel, rate, max_points)
        if len(v):
            peak = max(peak, float(np.max(np.abs(v))))
        name = f"channel {i}" if len(channels) > 1 else "samples"
        traces.append(go.Scatter(x=t, y=v, mode="lines", line={"width": 1}, name=name))
    duration = channels.shape[1] / rate
    label = _clip_label(samples_or_clip)
    layout = {
        "title": {"text": title or f"Waveform{' - ' + label if label else ''} ({_khz(rate)}, {duration:.2f} s)"},
        "xaxis": {"title": {"text": "Time (s)"}},
        "yaxis": {"title": {"text": "Amplitude (full scale = 1)"}, "range": [-1.05 * peak, 1.05 * peak]},
        "showlegend": len(channels) > 1,
        "height": FIGURE_HEIGHT,
    }
    return go.Figure(data=traces, layout=layout)


def spectrogram_figure(
    spec_or_clip,
    sr: int | None = None,
    *,
    title: str | None = None,
    nyquist: float | None = None,
    max_frames: int = MAX_FRAMES,
    max_bins: int = MAX_BINS,
    dynamic_range_db: float = DYNAMIC_RANGE_DB,
) -> go.Figure:
    """Heatmap of a linear STFT spectrogram (dBFS), frequency in Hz against time.

    Parameters
    ----------
    spec_or_clip : Spectrogram, Clip, (samples, sr) or array
        A log-mel :class:`~workbench.spectra.Spectrogram` is drawn as
        :func:`log_mel_figure` does.
    nyquist : float, optional
        Draw a dashed line at this frequency (Hz), e.g. ``16_000 / 2`` to
        show what a resampler to 16 kHz will keep.

    Examples
    --------
    >>> import numpy as np
    >>> fig = spectrogram_figure(np.random.default_rng(0).normal(0, 0.1, 48_000), sr=48_000, nyquist=8000)
    >>> fig.data[0].type, fig.layout.shapes[0].y0
    ('heatmap', 8000.0)
    """
    spec = _spectrogram(spec_or_clip, sr, "spectrogram_figure")
    if spec.kind == "log-mel":
        return _log_mel_layout(spec, title, max_frames)
    if spec.kind == "difference":
        return _difference_layout(spec, title, DIFFERENCE_LIMIT_DB, max_frames, max_bins)
    shown = downsample_for_display(spec, max_frames, max_bins)
    zmin, zmax = _db_range([shown], dynamic_range_db)
    label = _clip_label(spec_or_clip)
    layout = {
        "title": {
            "text": title or f"Spectrogram{' - ' + label if label else ''} ({_khz(spec.sample_rate)}, {spec.hop_seconds * 1000:g} ms hop)"
        },
        "xaxis": {"title": {"text": "Time (s)"}},
        "yaxis": {"title": {"text": "Frequency (Hz)"}, "range": [0, spec.nyquist]},
        "coloraxis": _coloraxis(zmin, zmax, spec.units),
        "height": FIGURE_HEIGHT,
    }
    if nyquist is not None:
        shape, marker_label = _nyquist_marker(float(nyquist), text=f"{float(nyquist) / 1000:g} kHz (Nyquist of {_khz(2 * float(nyquist))})")
        layout.update(shapes=[shape], annotations=[marker_label])
    return go.Figure(data=[_heatmap(shown)], layout=layout)


def before_after_figure(
    before,
    after,
    *,
    before_sr: int | None = None,
    after_sr: int | None = None,
    title: str | None = None,
    labels: tuple[str, str] = ("before", "after"),
    max_frames: int = MAX_FRAMES,
    max_bins: int = MAX_BINS,
    dynamic_range_db: float = DYNAMIC_RANGE_DB,
) -> go.Figure:
    """Spectrograms of the same audio before and after resampling, side by side.

    Both panels share the frequency axis (0 to the higher Nyquist frequency)
    and one colour scale, so what a resampler removed is blank in the
    "after" panel and what it added (aliasing, imaging) is a line that is
    not in the "before" one. The lower Nyquist frequency is marked with a
    dashed line on both panels.

    Parameters
    ----------
    before, after : Clip, (samples, sr), array or Spectrogram
        Arrays need ``before_sr`` / ``after_sr``.
    labels : (str, str)
        Panel titles; each is followed by the sample rate.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(0, 0.1, 48_000).astype("float32")
    >>> fig = before_after_figure(x, x[::3], before_sr=48_000, after_sr=16_000)
    >>> [s.y0 for s in fig.layout.shapes]
    [8000.0, 8000.0]
    """
    b = _spectrogram(before, before_sr, "before")
    a = _spectrogram(after, after_sr, "after")
    shown = [downsample_for_display(s, max_frames, max_bins) for s in (b, a)]
    zmin, zmax = _db_range(shown, dynamic_range_db)
    names = []
    for label, spec, src in zip(labels, (b, a), (before, after), strict=True):
        extra = _clip_label(src)
        names.append(f"{label}: {_khz(spec.sample_rate)}" + (f" ({extra})" if extra else ""))

    layout = _grid_layout(1, 2, names, shared_y=True, hspace=0.03)
    traces = [_heatmap(spec, panel=panel, name=name) for panel, (spec, name) in enumerate(zip(shown, names, strict=True), start=1)]
    top = max(b.nyquist, a.nyquist)
    low = min(b.nyquist, a.nyquist)
    for axis in ("xaxis", "xaxis2"):
        layout[axis]["title"] = {"text": "Time (s)"}
    layout["yaxis"].update(range=[0, top], title={"text": "Frequency (Hz)"})
    layout.update(
        title={"text": title or f"Before and after resampling {_khz(b.sample_rate)} to {_khz(a.sample_rate)}"},
        coloraxis=_coloraxis(zmin, zmax, b.units),
        height=FIGURE_HEIGHT,
    )
    if low < top:
        text = f"new Nyquist {low / 1000:g} kHz" if a.nyquist < b.nyquist else f"old Nyquist {low / 1000:g} kHz"
        for panel in (1, 2):
            shape, marker_label = _nyquist_marker(low, panel, text)
            layout["shapes"].append(shape)
            layout["annotations"].append(marker_label)
    return go.Figure(data=traces, layout=layout)


def difference_figure(
    before,
    after,
    *,
    before_sr: int | None = None,
    after_sr: int | None = None,
    title: str | None = None,
    max_freq: float | None = None,
    limit_db: float = DIFFERENCE_LIMIT_DB,
    dynamic_range_db: float = DYNAMIC_RANGE_DB,
    max_frames: int = MAX_FRAMES,
    max_bins: int = MAX_BINS,
) -> go.Figure:
    """Heatmap of ``after - before`` in dB, up to the lower Nyquist frequency.

    Red: the resampled audio is louder there (aliasing, imaging, ringing);
    blue: quieter (the anti-aliasing filter's roll-off). Cells where both
    are more than ``dynamic_range_db`` below the loudest cell are left
    blank (grey), since two noise floors differing is not a change anyone
    can hear. Long clips keep, per displayed cell, the largest change.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.signal import resample_poly
    >>> x = np.random.default_rng(0).normal(0, 0.1, 48_000)
    >>> fig = difference_figure((x, 48_000), (resample_poly(x, 1, 3), 16_000))
    >>> float(max(fig.data[0].y))
    8000.0
    """
    b = _spectrogram(before, before_sr, "before")
    a = _spectrogram(after, after_sr, "after")
    _, top = _db_range([b, a], dynamic_range_db)
    diff = spectral_difference(b, a, max_freq=max_freq, floor_db=top - dynamic_range_db)
    return _difference_layout(
        diff,
        title or f"Change made by resampling {_khz(b.sample_rate)} to {_khz(a.sample_rate)} (after - before)",
        limit_db,
        max_frames,
        max_bins,
    )


def _difference_layout(diff: Spectrogram, title, limit_db, max_frames, max_bins) -> go.Figure:
    shown = downsample_for_display(diff, max_frames, max_bins)
    layout = {
        "title": {"text": title or "Spectral difference (after - before)"},
        "xaxis": {"title": {"text": "Time (s)"}},
        "yaxis": {"title": {"text": "Frequency (Hz)"}, "range": [0, float(diff.freqs[-1])]},
        "coloraxis": _coloraxis(-float(limit_db), float(limit_db), diff.units, DIFFERENCE_COLORSCALE, cmid=0.0),
        "plot_bgcolor": "#d9d9d9",
        "height": FIGURE_HEIGHT,
    }
    return go.Figure(data=[_heatmap(shown)], layout=layout)


def log_mel_figure(
    samples,
    sr: int | None = WHISPER_SAMPLE_RATE,
    n_mels: int = N_MELS,
    *,
    title: str | None = None,
    feature_extractor=None,
    max_frames: int = MAX_FRAMES,
) -> go.Figure:
    """Whisper's log-mel features as the model receives them.

    Rows are mel bins in order (the model's view: evenly spaced on the mel
    scale), with their centre frequencies as tick labels. The colour scale
    spans Whisper's clipped range: its maximum down to 2 below it.

    Parameters
    ----------
    samples : Clip, (samples, sr), array or log-mel Spectrogram
        Audio at 16 kHz; other rates raise ``ValueError`` (resample first).
    n_mels : int
        80, or 128 for large-v3.

    Examples
    --------
    >>> import numpy as np
    >>> fig = log_mel_figure(np.random.default_rng(0).normal(0, 0.1, 16_000), 16_000, n_mels=128)
    >>> fig.data[0].z.shape
    (128, 100)
    """
    if isinstance(samples, Spectrogram):
        spec = samples
        if spec.kind != "log-mel":
            raise FigureError(f"log_mel_figure needs a log-mel spectrogram; got kind={spec.kind!r}")
    else:
        if _is_clip(samples) or isinstance(samples, tuple):
            sr = None
        x, rate = _samples_and_rate(samples, sr, "log_mel_figure")
        spec = log_mel_spectrogram(as_mono(x), rate, n_mels, feature_extractor=feature_extractor)
    label = _clip_label(samples)
    return _log_mel_layout(spec, title or f"Whisper log-mel input{' - ' + label if label else ''} ({spec.n_bins} mel bins)", max_frames)


def _log_mel_layout(spec: Spectrogram, title, max_frames) -> go.Figure:
    shown = downsample_for_display(spec, max_frames, max_bins=spec.n_bins)
    bins = np.arange(shown.n_bins)
    zmax = float(np.max(shown.values)) if shown.values.size else 0.0
    ticks = [int(np.argmin(np.abs(spec.freqs - f))) for f in MEL_TICKS_HZ if f <= spec.freqs[-1] * 1.05]
    layout = {
        "title": {"text": title or f"Whisper log-mel input ({spec.n_bins} mel bins)"},
        "xaxis": {"title": {"text": "Time (s)"}},
        "yaxis": {
            "title": {"text": "Mel bin (centre frequency, Hz)"},
            "tickvals": ticks,
            "ticktext": [f"{spec.freqs[i]:.0f}" for i in ticks],
        },
        "coloraxis": _coloraxis(zmax - LOG_MEL_RANGE, zmax, "log10 mel<br>(Whisper-normalised)"),
        "height": FIGURE_HEIGHT,
    }
    return go.Figure(data=[_heatmap(shown, y=bins)], layout=layout)


def sweep_figure(
    results: dict,
    *,
    title: str | None = None,
    cols: int | None = None,
    nyquist: float | None = None,
    max_frames: int = MAX_FRAMES // 2,
    max_bins: int = MAX_BINS,
    dynamic_range_db: float = DYNAMIC_RANGE_DB,
) -> go.Figure:
    """Spectrograms of one log sweep through several resamplers, one panel each.

    A sweep rises smoothly through every frequency, so a resampler's
    aliasing is easy to see: a second line that falls while the sweep rises,
    mirrored about the new Nyquist frequency. A good resampler shows one
    line that stops at the Nyquist frequency; a naive one shows the mirror
    image as bright as the sweep itself.

    Parameters
    ----------
    results : dict
        Panel title (e.g. resampler name) to ``(samples, sr)``, a Clip or a
        Spectrogram. Include the original to compare against.
    cols : int, optional
        Panels per row (default: up to 3).
    nyquist : float, optional
        Frequency marked on panels whose own Nyquist is higher; defaults to
        the lowest Nyquist among the results.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.signal import chirp
    >>> t = np.arange(2 * 48_000) / 48_000
    >>> sweep = chirp(t, 50, t[-1], 23_000, method="logarithmic").astype("float32")
    >>> fig = sweep_figure({"original": (sweep, 48_000), "naive x[::3]": (sweep[::3], 16_000)})
    >>> [a.text for a in fig.layout.annotations][:2]
    ['original (48 kHz)', 'naive x[::3] (16 kHz)']
    """
    if not results:
        raise FigureError("sweep_figure needs at least one result")
    specs = {name: _spectrogram(value, None, str(name)) for name, value in results.items()}
    shown = {name: downsample_for_display(s, max_frames, max_bins) for name, s in specs.items()}
    zmin, zmax = _db_range(shown.values(), dynamic_range_db)
    n = len(specs)
    cols = min(n, 3) if cols is None else int(cols)
    rows = math.ceil(n / cols)
    names = [f"{name} ({_khz(s.sample_rate)})" for name, s in specs.items()]
    layout = _grid_layout(rows, cols, names, hspace=0.05, vspace=0.15 if rows > 1 else 0.1)
    marked = min(s.nyquist for s in specs.values()) if nyquist is None else float(nyquist)
    traces = []
    for i, ((name, spec), label) in enumerate(zip(shown.items(), names, strict=True)):
        panel = i + 1
        traces.append(_heatmap(spec, panel=panel, name=label))
        suffix = _axis_id("x", panel)[1:]
        layout["yaxis" + suffix]["range"] = [0, specs[name].nyquist]
        if i % cols == 0:
            layout["yaxis" + suffix]["title"] = {"text": "Frequency (Hz)"}
        if i + cols >= n:
            layout["xaxis" + suffix]["title"] = {"text": "Time (s)"}
        if specs[name].nyquist > marked:
            shape, marker_label = _nyquist_marker(marked, panel, f"{marked / 1000:g} kHz")
            layout["shapes"].append(shape)
            layout["annotations"].append(marker_label)
    layout.update(
        title={"text": title or "Log sweep through each resampler: aliasing shows as mirrored lines"},
        coloraxis=_coloraxis(zmin, zmax, "dBFS"),
        height=max(FIGURE_HEIGHT, SUBPLOT_HEIGHT * rows),
    )
    return go.Figure(data=traces, layout=layout)


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------


def to_html(fig: go.Figure, path, *, include_plotlyjs: bool | str = True) -> Path:
    """Write ``fig`` to a self-contained HTML file that opens offline.

    plotly.js is embedded (about 4.5 MB) unless ``include_plotlyjs`` says
    otherwise. The file is written next to ``path`` under a temporary name
    and renamed into place, so ``path`` is never left half-written.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> to_html(waveform_figure(np.zeros(1600), sr=16_000), "silence.html")   # doctest: +SKIP
    PosixPath('silence.html')
    """
    with atomic_path(path) as tmp:
        fig.write_html(str(tmp), include_plotlyjs=include_plotlyjs, full_html=True)
    return Path(path)
