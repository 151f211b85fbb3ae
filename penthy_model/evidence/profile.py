"""A codec grid's profile: its z at every alignment of the codec's hop, for the picture of a proof.

A detector (see :mod:`penthy_model.evidence`) reports one z, at the alignment where the
codec's grid stands highest. A person checking the verdict wants to see the others too: in a
decode, one alignment (or, for Vorbis, whose grid moves by 128 after short blocks, a few)
stands far above a floor of chance; in genuine audio none does. :func:`grid_profile` measures
that curve for one named codec, with each detector's own counts and ``stats.chance_z``, so its
z's are in the detector's units (standard deviations above the alignments no coder used):

- ``mp3``: all 576 granule alignments, from the first ``mp3.SCAN_SAMPLES`` samples of every
  window, in the mix (the detector's thorough scan), near-zero lines and equal pairs of lines
  (``mp3.line_counts``), each against the alignments at least ``mp3.EXCLUDE`` from its best;
- ``aac``, ``vorbis``: every ``MDCT_STEP``-th of the 1024 block alignments, the codec's own
  and two either side of the detector's, one block at each in every window (its first
  ``BLOCK + HOP - 1`` samples), near-zero coefficients (``stats.near_zero_counts``) in the
  window shape and channel where the codec's alignment stands highest, against the
  alignments no codec uses (more than 8 from any, as the detector's baseline);
- ``ac3``: all 256 alignments, one block at each in every window (``mdctgrid.scan``), the
  larger of the near-zero and equal-pair z (``mdctgrid.grid_z``) against the alignments at
  least a sixteenth of the hop from the scan's best;
- ``mp2``, ``musepack``, ``subband``: all 32 subband phases, in the stretch of every window
  the detector confirms on (``layer2``), equal pairs against the phases at least
  ``layer2.EXCLUDE`` from the best;
- ``opus``: the bursts above 20 kHz (``opus.burst_z``'s t, without its checks) at places a
  fifth of a burst apart over the whole 20 ms frame, each shown at the grid alignment whose
  window slope starts there (at 48 kHz, a burst at 648 is the grid at 228).

WMA has none (``PROFILED`` lists those that do): its detector measures only the alignment
known decoders use, because a look at every alignment costs a transform per sample. A
profile reads fewer samples than the detector did (a share of each window, to stay within
about a second for a file), so its z at the codec's alignment is
usually lower than the verdict's; what it shows is the shape. It measures and decides
nothing, and runs only when a picture is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from .stats import LSB, MIN_ACTIVE, chance_z

MDCT_STEP = 2  # AAC/Vorbis: every other alignment (a block per alignment and window costs an MDCT)
AROUND = 2  # ...plus this many either side of the detector's alignment
COARSE_STEP = 16  # AAC's window shape (KBD or sine) is picked on every this-many-th alignment first


@dataclass(frozen=True)
class GridProfile:
    """One codec's z at the alignments measured (``alignments`` ascending, mod ``hop``)."""

    codec: str
    hop: int  # alignments are sample offsets from the file's start, mod this
    alignments: np.ndarray
    z: np.ndarray  # NaN where too little sound was counted
    channel: str  # where it was measured ("mix", "left", "mid", ...)
    sign: str  # what was counted
    read: str  # which samples, in words

    @property
    def peak(self) -> int | None:
        """The alignment with the largest z (None when none could be measured)."""
        if not np.isfinite(self.z).any():
            return None
        return int(self.alignments[int(np.nanargmax(self.z))])

    def at(self, alignment: int) -> float:
        """The z at ``alignment`` (mod hop); NaN when it was not measured."""
        hit = np.flatnonzero(self.alignments == alignment % self.hop)
        return float(self.z[hit[0]]) if len(hit) else float("nan")


def _far_from(hop: int, alignments: np.ndarray, centres: Sequence[int], distance: int) -> np.ndarray:
    """Indices of ``alignments`` at least ``distance`` (circularly, mod ``hop``) from every centre."""
    c = np.asarray(list(centres))
    if len(c) == 0:
        return np.arange(len(alignments))
    gap = np.abs((alignments[:, None] - c[None, :] + hop // 2) % hop - hop // 2).min(axis=1)
    return np.flatnonzero(gap >= distance)


def _share_z(active: np.ndarray, small: np.ndarray, null: np.ndarray) -> np.ndarray:
    """``chance_z`` of every column's share small/active against the ``null`` columns (NaN
    under MIN_ACTIVE active counts)."""
    share = small / np.maximum(active, 1)
    if len(null) == 0 or active[null].min() < MIN_ACTIVE:
        return np.full(len(share), np.nan)
    return np.array([chance_z(float(share[i]), share[null], float(active[i])) if active[i] >= MIN_ACTIVE
                     else np.nan for i in range(len(share))])


def _best_of(*zs: np.ndarray) -> np.ndarray:
    """Elementwise the larger of several z rows (NaN only where all are)."""
    stack = np.vstack(zs)
    out = np.full(stack.shape[1], np.nan)
    some = np.isfinite(stack).any(axis=0)
    out[some] = np.nanmax(stack[:, some], axis=0)
    return out


# --- MP3 -------------------------------------------------------------------------------------

def _mp3(samples, starts, sample_rate, alignment) -> GridProfile:
    from . import mp3

    counts = np.zeros((4, mp3.GRANULE))  # active, near-zero, pairs of big lines, equal pairs
    lo = mp3.low_band(sample_rate)
    for x, start in zip(samples, starts):
        lines = mp3.every_alignment_lines(x[:mp3.SCAN_SAMPLES].mean(axis=1) / np.float32(LSB))
        if lines is None:
            continue
        for p, at in enumerate(mp3.alignments(int(start))):
            counts[:, at] += mp3.line_counts(lines[p], lo)
    all_ = np.arange(mp3.GRANULE)
    zs = []
    for n, k in ((0, 1), (2, 3)):
        share = counts[k] / np.maximum(counts[n], 1)
        best = int(np.argmax(np.where(counts[n] >= MIN_ACTIVE, share, -1.0)))
        zs.append(_share_z(counts[n], counts[k], _far_from(mp3.GRANULE, all_, [best], mp3.EXCLUDE)))
    return GridProfile("mp3", mp3.GRANULE, all_, _best_of(*zs), "mix", "near-zero lines or equal pairs of lines",
                       f"first {mp3.SCAN_SAMPLES} samples of each of {len(samples)} windows")


# --- AAC and Vorbis ----------------------------------------------------------------------------

def _mdct(codec: str):
    def profile(samples, starts, sample_rate, alignment) -> GridProfile | None:
        from . import mdct

        spec = next(c for c in mdct.CODECS if c.name.lower() == codec)
        hop = mdct.HOP
        length = mdct.BLOCK + hop - 1  # one block at every alignment
        if samples.shape[1] < length:
            return None
        centre = spec.offsets[0] if alignment is None else int(alignment) % hop
        aligns = np.unique(np.concatenate([
            np.arange(0, hop, MDCT_STEP), spec.offsets, (centre + np.arange(-AROUND, AROUND + 1)) % hop]))
        channels = ("left", "right", "mid", "side") if samples.shape[2] == 2 else ("mix",)

        def counts(at: np.ndarray, shapes) -> dict:
            """Per window shape: (2, channels, len(at)) active and near-zero coefficients."""
            out = {name: np.zeros((2, len(channels), len(at))) for name in shapes}
            for x, start in zip(samples, starts):
                y = x[:length].astype(np.float32) / np.float32(LSB)
                for name, found in mdct.chunk_counts(y, int(start), sample_rate, at, shapes).items():
                    out[name] += np.stack(found).sum(axis=-1)  # one block per alignment
            return out

        def strongest(at: np.ndarray, found: dict):
            """(z at the centre, z row, shape, channel) where the centre stands highest."""
            unused = np.flatnonzero([all(abs(int(o) - u) > 8 for u in mdct._USED) for o in at])
            i_centre = int(np.flatnonzero(at == centre)[0])
            best = None
            for name, c in found.items():
                for i, channel in enumerate(channels):
                    z = _share_z(c[0, i], c[1, i], unused)
                    if best is None or (np.isfinite(z[i_centre]) and not best[0] >= z[i_centre]):
                        best = (z[i_centre], z, name, channel)
            return best

        shapes = spec.windows
        if len(shapes) > 1:  # AAC: the window shape picked on a coarse look, to spare a dense MDCT
            coarse = np.unique(np.concatenate([np.arange(0, hop, COARSE_STEP), [centre]]))
            shapes = (strongest(coarse, counts(coarse, shapes))[2],)
        _, z, shape, channel = strongest(aligns, counts(aligns, shapes))
        return GridProfile(codec, hop, aligns, z, f"{channel} ({shape} window)", "near-zero coefficients",
                           f"one block at each alignment in each of {len(samples)} windows")

    return profile


# --- AC3 ---------------------------------------------------------------------------------------

def _ac3(samples, starts, sample_rate, alignment) -> GridProfile | None:
    from . import ac3, mdctgrid

    grid = replace(ac3.GRID, scan_windows=len(samples))
    if samples.shape[1] < grid.block + grid.hop - 1:
        return None
    counts = mdctgrid.scan(samples, starts, sample_rate, grid)
    aligns = np.arange(grid.hop)
    null = _far_from(grid.hop, aligns, [mdctgrid.candidate(counts)], max(2, round(grid.hop * mdctgrid.EXCLUDE_SHARE)))
    z = np.array([mdctgrid.grid_z(counts, a, null) for a in aligns])
    return GridProfile("ac3", grid.hop, aligns, z, "left and right", "near-zero coefficients or equal pairs",
                       f"one block at each alignment in each of {len(samples)} windows")


# --- MP2 and Musepack (the subband grid) --------------------------------------------------------

def _subband(codec: str):
    def profile(samples, starts, sample_rate, alignment) -> GridProfile | None:
        from . import layer2

        offset = layer2.TAPS - 1 + layer2.BANDS - 1 + layer2.SCAN_RUNS * layer2.RUN * layer2.BANDS
        phases = np.arange(layer2.BANDS)
        counts = layer2._stretch_counts(samples, starts, range(len(samples)), offset, phases, layer2.CONFIRM_RUNS)
        if counts is None:
            return None
        pooled = counts.sum(axis=(0, 3))  # (2, 32): pairs, equal pairs
        best = int(np.argmax(pooled[1] / np.maximum(pooled[0], 1)))
        z = _share_z(pooled[0], pooled[1], _far_from(layer2.BANDS, phases, [best], layer2.EXCLUDE))
        return GridProfile(codec, layer2.BANDS, phases, z, "left, right, mid and side", "equal pairs of subband samples",
                           f"{layer2.CONFIRM_RUNS * layer2.RUN} subband samples at each phase in each of "
                           f"{len(samples)} windows")

    return profile


# --- Opus (its frame edges) ------------------------------------------------------------------------

def _opus(samples, starts, sample_rate, alignment) -> GridProfile | None:
    from . import opus

    found = opus.frame_edges(samples, sample_rate, control=False)
    if found is None:
        return None
    period, slope, bands = found
    places = np.arange(0, period, max(1, slope // 5))
    t = opus.burst_t(bands, starts, period, places, slope)
    lead = int(round(opus.SLOPE_LEAD * sample_rate / opus.SAMPLE_RATE))
    aligns = (places - lead) % period
    order = np.argsort(aligns)
    lo, hi = opus.burst_band(sample_rate)
    return GridProfile("opus", period, aligns[order], t[order], "left and right",
                       "bursts of energy above 20 kHz at the window slopes",
                       f"every 20 ms frame of each of {len(samples)} windows, band {lo / 1000:g}-{hi / 1000:.1f} kHz")


PROFILES: dict[str, Callable] = {"mp3": _mp3, "aac": _mdct("aac"), "vorbis": _mdct("vorbis"), "ac3": _ac3,
                                 "mp2": _subband("mp2"), "musepack": _subband("musepack"),
                                 "subband": _subband("subband"), "opus": _opus}
PROFILED = frozenset(PROFILES)


def grid_profile(codec: str, samples: np.ndarray, starts: Sequence[int], sample_rate: int,
                 alignment: int | None = None) -> GridProfile | None:
    """The z of ``codec``'s grid at every alignment of its hop (see the module for which
    alignments and samples), from windows ``samples`` (W, length, channels) float in [-1, 1]
    starting at ``starts``. ``alignment``: the detector's (``Result.grid_alignment``), always
    measured. None for a codec without a profile (not in ``PROFILED``) or too little audio."""
    profile = PROFILES.get(codec)
    if profile is None or samples is None or len(samples) == 0:
        return None
    return profile(samples, list(starts), sample_rate, alignment)


__all__ = ["GridProfile", "PROFILED", "grid_profile"]
