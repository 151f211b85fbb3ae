"""A picture of the evidence: the spectrogram of the windows a verdict rests on.

:func:`save_plot` re-reads the analysed windows of one file (``read_windows`` is
deterministic, so they are the windows the model saw) and draws them side by side in
time, full band from 0 Hz to Nyquist, in dB relative to the loudest cell. Marked on it:
the 16 kHz line (everything above is the band lossy encoders cut), the estimated cutoff,
and below the picture a strip with each window's score (red 0 = transcoded, green
1 = lossless). A 128 kbit/s MP3 shows as a black band above ~16-17 kHz across every
window; a genuine recording carries on to the top.

A file whose verdict a codec's frame grid proves (``Result.codec``) gets a second panel beside
the spectrogram, the proof itself: the grid's z at every alignment of the codec's hop
(``evidence.profile.grid_profile``, measured on the same windows), the codec's threshold from
``verdict.Policy``, and the spike at the codec's alignment. That matters most where the
spectrogram shows nothing, as for an MP3 at 320 kbit/s encoded without a low-pass. A verdict
a weaker grid backs (``Result.backed_by``) gets the same panel, with the level from which that
grid backs the network's verdict as well as the one that would name the codec.

matplotlib is an optional extra (``pip install 'penthy[plots]'``); it is imported only
when a picture is drawn, and :class:`PlotsUnavailable` says how to get it.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .audio import read_windows
from .constants import CODEC_MIN_Z, CODEC_SUPPORT_Z
from .result import ERROR, INCONCLUSIVE, LOSSLESS, TRANSCODED, Result

INSTALL_HINT = "pip install 'penthy[plots]'"

# --- the spectrogram ---------------------------------------------------------------
FFT_SECONDS = 1024 / 44100  # 43 Hz per bin at any rate, 513 rows at 44.1 kHz
HOP_SECONDS = 256 / 44100  # 5.8 ms: about 128 columns per 0.75 s window
DB_RANGE = 90.0  # dB below the loudest cell that map to black; 16-bit silence lands there
EVIDENCE_KHZ = 16.0  # the band above this is what lossy encoders remove

# --- the figure --------------------------------------------------------------------
WIDTH_PX, HEIGHT_PX, DPI = 1200, 600, 100
# Axes rectangles in figure fractions (left, bottom, width, height); the tests use
# ``layout(result).spectrum`` to find the pixels of a frequency band.
SPECTRUM_RECT = (0.055, 0.22, 0.815, 0.66)
SCORES_RECT = (0.055, 0.115, 0.815, 0.065)
COLORBAR_RECT = (0.935, 0.22, 0.012, 0.66)
WINDOW_GAP = 0.06  # blank space between windows, in window widths
COLORMAP = "magma"  # perceptually uniform; black = nothing, yellow-white = loud
SCORE_COLORMAP = "RdYlGn"  # red = transcoded (0), green = lossless (1)
CUTOFF_COLOR = "#22d3ee"
EVIDENCE_COLOR = "#ffffff"
BACKGROUND = "#ffffff"
VERDICT_COLORS = {TRANSCODED: "#c62828", LOSSLESS: "#2e7d32", INCONCLUSIVE: "#8d6e00", ERROR: "#555555"}
PROFILE_COLOR = "#1565c0"  # the grid's z across alignments (no blue in the spectrogram's colour map)
SPIKE_COLOR = "#c62828"
THRESHOLD_COLOR = "#555555"
PALETTE_COLORS = 256  # the PNG is stored with a palette of this many colours (keeps it small)
FACTS_CHARS = 200  # characters of the facts line under the title before it wraps (two lines at most)
NAME_CHARS = 60  # most characters of the audio file name kept in the picture's name


@dataclass(frozen=True)
class Layout:
    """Where a picture's axes go (figure fractions: left, bottom, width, height)."""

    spectrum: tuple
    scores: tuple
    colorbar: tuple
    proof: tuple | None = None  # the codec grid's z across alignments


PLAIN = Layout(SPECTRUM_RECT, SCORES_RECT, COLORBAR_RECT)
WITH_PROOF = Layout((0.055, 0.22, 0.5, 0.66), (0.055, 0.115, 0.5, 0.065), (0.635, 0.22, 0.01, 0.66),
                    (0.735, 0.22, 0.245, 0.6))


def proof_grid(result: Result) -> tuple[str, str] | None:
    """The grid ``result``'s picture draws beside the spectrogram, as (codec, "proof") for a
    verdict a codec's grid proves or (codec, "backing") for one a weaker grid backs; None
    for any other verdict."""
    if result.verdict != TRANSCODED:
        return None
    if result.codec:
        return result.codec, "proof"
    return (result.backed_by, "backing") if result.backed_by else None


def shows_proof(result: Result) -> bool:
    """Whether ``result``'s picture gets the proof panel (``proof_grid``)."""
    return proof_grid(result) is not None


def layout(result: Result) -> Layout:
    return WITH_PROOF if shows_proof(result) else PLAIN


class PlotsUnavailable(ImportError):
    """matplotlib is not installed; the message says how to get it."""

    def __init__(self, detail: str = ""):
        why = f" ({detail})" if detail else ""
        super().__init__(f"pictures need matplotlib, which is not installed{why}: {INSTALL_HINT}")


def _matplotlib():
    """Import what drawing needs, or raise :class:`PlotsUnavailable`."""
    try:
        import matplotlib  # noqa: F401  (imported first: a missing package fails here)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib import colormaps
    except ImportError as exc:
        raise PlotsUnavailable(str(exc)) from exc
    return Figure, FigureCanvasAgg, colormaps


def available() -> bool:
    """Whether pictures can be drawn here (matplotlib importable)."""
    try:
        _matplotlib()
    except PlotsUnavailable:
        return False
    return True


def require() -> None:
    """Raise :class:`PlotsUnavailable` now rather than after an analysis."""
    _matplotlib()


def plot_name(path: str) -> str:
    """PNG file name for an audio path: its safe stem plus a hash of the full path."""
    raw = os.fsencode(path)
    stem = os.path.splitext(os.path.basename(os.fsdecode(raw)))[0]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")[:NAME_CHARS] or "audio"
    digest = hashlib.sha1(raw).hexdigest()[:10]
    return f"{safe}-{digest}.png"


def spectrogram_db(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Power in dB of each window: (W, n, channels) -> (W, bins, frames), channels averaged."""
    n = int(round(FFT_SECONDS * sample_rate))
    hop = int(round(HOP_SECONDS * sample_rate))
    hann = np.hanning(n).astype(np.float32)
    out = []
    for window in samples:  # one window at a time keeps memory small for 192 kHz / many channels
        frames = np.lib.stride_tricks.sliding_window_view(window, n, axis=0)[::hop]  # (F, ch, n)
        spectrum = np.fft.rfft(frames * hann, axis=-1)
        power = (spectrum.real**2 + spectrum.imag**2).mean(axis=1)  # (F, bins)
        out.append((10.0 * np.log10(power + 1e-20)).T)
    return np.stack(out).astype(np.float32)


def save_plot(result: Result, directory, policy=None) -> Path | None:
    """Draw the picture of ``result`` into ``directory`` and return its path.

    Returns None when there is nothing to draw: error results, files without a usable
    window (too short, silent), and files that can no longer be read. Raises
    :class:`PlotsUnavailable` when matplotlib is missing. ``policy`` (a ``verdict.Policy``)
    gives the codec thresholds drawn in the proof panel; its defaults when None.
    """
    Figure, FigureCanvasAgg, colormaps = _matplotlib()
    if result.verdict == ERROR:
        return None
    try:
        windows = read_windows(os.fsencode(result.path))
    except (RuntimeError, OSError, ValueError, TypeError):  # LibsndfileError is a RuntimeError
        return None
    if windows.samples is None:
        return None
    sr = windows.sample_rate
    db = spectrogram_db(windows.samples, sr)
    db -= db.max()  # 0 dB = the loudest cell of these windows
    nyquist_khz = sr / 2000.0
    starts = [s / sr for s in windows.starts]
    same_windows = [round(s, 3) for s in starts] == list(result.window_starts)
    scores = result.window_scores if same_windows else []  # the file changed since: show no scores

    rects = layout(result)
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=BACKGROUND)
    FigureCanvasAgg(fig)
    ax = fig.add_axes(rects.spectrum)
    image = None
    for i, column in enumerate(db):
        image = ax.imshow(column, origin="lower", aspect="auto", cmap=COLORMAP, vmin=-DB_RANGE, vmax=0.0,
                          extent=(i + WINDOW_GAP / 2, i + 1 - WINDOW_GAP / 2, 0.0, nyquist_khz),
                          interpolation="antialiased")
    ax.set_xlim(0, len(db))
    ax.set_ylim(0, nyquist_khz)
    ax.set_facecolor(BACKGROUND)
    ax.set_xticks([])
    ax.set_ylabel("frequency (kHz)")
    ax.yaxis.set_major_locator(_khz_locator(nyquist_khz))
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    _mark_evidence_band(ax, nyquist_khz)
    _mark_cutoff(ax, result.cutoff_hz, nyquist_khz)

    bar = fig.colorbar(image, cax=fig.add_axes(rects.colorbar))
    bar.set_label(f"dB relative to the loudest cell (black: {DB_RANGE:.0f} dB down or less)", fontsize=8)
    bar.ax.tick_params(labelsize=8)

    _score_strip(fig.add_axes(rects.scores), scores, starts, windows.duration, colormaps[SCORE_COLORMAP])
    _titles(fig, result)
    if rects.proof is not None:
        from .evidence.profile import grid_profile

        codec, role = proof_grid(result)
        profile = None if _unprofiled_grid(result) else grid_profile(codec, windows.samples, windows.starts, sr,
                                                                     result.grid_alignment)
        backing = codec_threshold(codec, policy, True, result.grid) if role == "backing" else None
        _proof_panel(fig.add_axes(rects.proof), result, profile, codec_threshold(codec, policy, grid=result.grid),
                     backing)

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    target = out / plot_name(result.path)
    _write_png(fig, target)
    return target


def codec_threshold(codec: str, policy=None, support: bool = False, grid: str | None = None) -> float | None:
    """The z at which ``codec``'s grid is proof (with ``support``: at which it backs the
    network's transcoded verdict), from ``policy`` (a ``verdict.Policy``) or the policy's
    defaults (``constants.CODEC_MIN_Z``, ``CODEC_SUPPORT_Z``); a ``grid`` with levels of its
    own (one of a codec's several measures) by those."""
    from .verdict import level_for

    if policy is None:
        levels = CODEC_SUPPORT_Z if support else CODEC_MIN_Z
    else:
        levels = policy.codec_support_z if support else policy.codec_min_z
    return level_for(codec, grid, levels, missing=None)


def _unprofiled_grid(result: Result) -> bool:
    """Whether the grid ``result``'s verdict rests on is one of its codec's measures with no
    profile across alignments (Opus's frame edges above a low-pass, or at CELT's band end)."""
    from .evidence.profile import PROFILED

    return result.grid is not None and result.grid not in PROFILED


def _proof_panel(ax, result: Result, profile, threshold: float | None, backing: float | None = None) -> None:
    """The codec grid's z across the alignments of its hop, its threshold and the spike; for a
    verdict a weaker grid backs (``result.backed_by``), the level it backs from too."""
    from .result import CODEC_NAMES

    codec, role = proof_grid(result)
    name = CODEC_NAMES.get(codec, codec) if codec != "subband" else "MP2/Musepack"
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"{role}: the {name} frame grid", fontsize=10, loc="left", parse_math=False)
    verdict_z = "" if result.grid_z is None else f"the verdict's z {result.grid_z:g}"
    if profile is None:
        from .evidence.profile import PROFILED

        ax.set_axis_off()
        at = "" if result.grid_alignment is None else f"at alignment {result.grid_alignment}"
        note = ", ".join(part for part in (verdict_z, at) if part)
        if _unprofiled_grid(result):
            why = (f"no profile across alignments for this\nmeasure of {name}'s grid: it is read\n"
                   "only where known decoders put it")
        elif result.codec in PROFILED:
            why = "too little audio for a profile"
        else:
            why = (f"no profile across alignments for {name}:\nits detector measures only the\n"
                   "alignment known decoders use")
        ax.text(0.5, 0.5, f"{why}\n({note})" if note else why, transform=ax.transAxes, ha="center", va="center",
                fontsize=9, color="#333333", parse_math=False)
        return
    ax.tick_params(labelsize=8)
    ax.set_ylabel("z (standard deviations above chance)", fontsize=9)
    z = profile.z
    finite = z[np.isfinite(z)]
    top = max([*finite.tolist(), threshold or 0.0, 1.0])  # the backing level is under the threshold
    bottom = min([*finite.tolist(), 0.0])
    ax.plot(profile.alignments, z, color=PROFILE_COLOR, linewidth=0.9)
    ax.set_xlim(-0.03 * profile.hop, 1.03 * profile.hop)  # a spike at 0 (or hop - 1) clear of the axis
    ax.set_ylim(bottom - 0.05 * (top - bottom), top + 0.22 * (top - bottom))
    ax.set_xlabel(f"alignment (samples, mod {profile.hop})", fontsize=9)
    if threshold is not None:
        ax.axhline(threshold, color=THRESHOLD_COLOR, linestyle=(0, (4, 3)), linewidth=1.0)
        named = "proof" if role == "proof" else "names it"
        ax.text(1.0, threshold, f"{named} from z {threshold:g} ", transform=ax.get_yaxis_transform(), ha="right",
                va="bottom", fontsize=8, color=THRESHOLD_COLOR, parse_math=False)
    if backing is not None:
        ax.axhline(backing, color=THRESHOLD_COLOR, linestyle=(0, (1, 2)), linewidth=1.0)
        ax.text(1.0, backing, f"backs the model from z {backing:g} ", transform=ax.get_yaxis_transform(),
                ha="right", va="bottom", fontsize=8, color=THRESHOLD_COLOR, parse_math=False)
    alignment = result.grid_alignment if result.grid_alignment is not None else profile.peak
    if alignment is not None:
        spike = profile.at(alignment)
        measured = math.isfinite(spike)
        y = spike if measured else top
        ax.plot([alignment], [y], marker="v", markersize=7, color=SPIKE_COLOR, linestyle="none")
        right = alignment > 0.6 * profile.hop
        label = f"{name} at {alignment}, z {spike:.1f}" if measured else f"{name} at {alignment} (too quiet here)"
        ax.annotate(label, (alignment, y), xytext=(-6 if right else 6, 4),
                    textcoords="offset points", ha="right" if right else "left", va="bottom", fontsize=9,
                    color=SPIKE_COLOR, fontweight="bold", parse_math=False)
    caption = f"z of {profile.sign}, {profile.channel};\n{profile.read}"
    if verdict_z:
        caption += f"\n({verdict_z} is the detector's own reading)"
    ax.text(-0.2, -0.16, caption, transform=ax.transAxes, ha="left", va="top", fontsize=7, color="#333333",
            parse_math=False)


def _khz_locator(nyquist_khz: float):
    from matplotlib.ticker import MultipleLocator

    return MultipleLocator(2.0 if nyquist_khz <= 24.5 else 4.0 if nyquist_khz <= 50 else 10.0)


def _mark_evidence_band(ax, nyquist_khz: float) -> None:
    """A dashed line at 16 kHz and a bracket beside the band above it."""
    if nyquist_khz <= EVIDENCE_KHZ:
        return
    ax.axhline(EVIDENCE_KHZ, color=EVIDENCE_COLOR, linestyle=(0, (5, 4)), linewidth=1.0, alpha=0.85)
    side = ax.get_yaxis_transform()  # x in axes fractions, y in kHz
    ax.plot([1.008, 1.008], [EVIDENCE_KHZ, nyquist_khz], transform=side, color="#444444",
            linewidth=2.5, clip_on=False, solid_capstyle="butt")
    ax.text(1.02, (EVIDENCE_KHZ + nyquist_khz) / 2, f"{EVIDENCE_KHZ:g} kHz+\nlossy\ncuts here", transform=side,
            va="center", ha="left", fontsize=8, color="#333333", parse_math=False)


def _mark_cutoff(ax, cutoff_hz: int | None, nyquist_khz: float) -> None:
    if not cutoff_hz:
        return
    khz = cutoff_hz / 1000.0
    ax.axhline(khz, color=CUTOFF_COLOR, linewidth=1.6)
    below = khz > nyquist_khz * 0.94  # no room above the line: label it underneath
    ax.text(0.005, khz, f" cutoff {khz:.1f} kHz ", transform=ax.get_yaxis_transform(), fontsize=9,
            va="top" if below else "bottom", ha="left", color="#000000", parse_math=False,
            bbox=dict(boxstyle="square,pad=0.15", facecolor=CUTOFF_COLOR, edgecolor="none"))


def _score_strip(ax, scores: list[float], starts: list[float], duration: float, cmap) -> None:
    """One cell per window, coloured by its score, with the window's start time below."""
    count = len(starts)
    ax.set_xlim(0, count)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_ylabel("score", rotation=0, ha="right", va="center", fontsize=9)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    for i in range(count):
        left, width = i + WINDOW_GAP / 2, 1 - WINDOW_GAP
        if i < len(scores) and scores[i] is not None and math.isfinite(scores[i]):
            value = float(scores[i])
            colour = cmap(min(max(value, 0.0), 1.0))
            ax.add_patch(_rectangle(left, width, colour))
            ax.text(i + 0.5, 0.5, f"{value:.2f}", ha="center", va="center", fontsize=9, color="#000000",
                    parse_math=False)
        else:
            ax.add_patch(_rectangle(left, width, "#e0e0e0"))
            ax.text(i + 0.5, 0.5, "–", ha="center", va="center", fontsize=9, color="#666666")
    ax.set_xticks([i + 0.5 for i in range(count)])
    clock = duration >= 60
    ax.set_xticklabels([_clock(s) if clock else f"{s:.1f}" for s in starts], fontsize=8)
    ax.tick_params(axis="x", length=0)
    ax.set_xlabel(f"start of each 0.75 s window ({'m:ss' if clock else 's'}) of a {_clock(duration)} track"
                  "  ·  score: 0 = transcoded, 1 = lossless", fontsize=9)


def _rectangle(left: float, width: float, colour):
    from matplotlib.patches import Rectangle

    return Rectangle((left, 0.0), width, 1.0, facecolor=colour, edgecolor="none")


def _titles(fig, result: Result) -> None:
    score = "–" if result.score is None or not math.isfinite(result.score) else f"{result.score:.3f}"
    name = printable(os.path.basename(result.path))
    fig.text(0.055, 0.963, f"{result.verdict.upper()}  ·  score {score}  ·  {name}", fontsize=13,
             fontweight="bold", color=VERDICT_COLORS.get(result.verdict, "#000000"), ha="left", va="center",
             parse_math=False)
    lines = textwrap.wrap(printable(" · ".join(facts(result))), FACTS_CHARS, max_lines=2, placeholder=" …")
    fig.text(0.055, 0.938, "\n".join(lines), fontsize=8, color="#333333", ha="left", va="top",
             linespacing=1.25, parse_math=False)


def facts(result: Result) -> list[str]:
    """Short facts about the file for the picture's second line: the format, then the
    same facts the CLI prints beside a verdict."""
    out = []
    if result.sample_rate:
        out.append(f"{result.sample_rate / 1000:g} kHz")
    if result.bits:
        out.append(f"{result.bits} bit")
    if result.channels:
        out.append({1: "mono", 2: "stereo"}.get(result.channels, f"{result.channels} ch"))
    return out + result.facts()


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def printable(text: str) -> str:
    """``text`` with undecodable bytes of a path (surrogate escapes) written as ``\\xff``."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _write_png(fig, target: Path) -> None:
    """Render and store as a palette PNG (about a third the size of full colour)."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    try:
        from PIL import Image  # matplotlib depends on Pillow
    except ImportError:  # pragma: no cover - matplotlib always brings Pillow
        fig.savefig(target, format="png", dpi=DPI)
        return
    image = Image.fromarray(rgba[..., :3].copy(), "RGB")
    small = image.quantize(colors=PALETTE_COLORS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, target)
