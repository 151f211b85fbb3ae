"""Which member of the MDCT family made a grid: the lattice its quantiser puts the sizes on.

AAC and Vorbis both cut blocks of 2048 samples every 1024 and their decoders may put the grid
at the same alignment (FFmpeg's own Vorbis encoder codes long blocks only, at AAC's 0 mod
1024), so where the grid lies and the window that finds it can misname a decode. Their
quantisers differ, and re-applied at the grid with the coder's window the transform gives
back the sizes they rebuilt, up to the decode's rounding:

- AAC rebuilds a coefficient as q^(4/3) x 2^(sf/4) (integers q, sf): the commonest, q = 1,
  lie a whole number of quarter octaves apart in every band and block (log2 spacing 1/4);
- Vorbis multiplies small residue values by a floor read from a table of 256 levels in equal
  dB steps from 1.0649863e-07 to 1 (log2 spacing 0.0908): sizes a whole number of steps apart;
- WMA, whose frame is the family's at 22.05 kHz (1024 new samples under a sine window), scales
  whole multiples of one step per band: nearby sizes at exactly 2, 3 or 3/2 times each other,
  where AAC's 4/3 power puts them 2.52, 4.33 and 1.72 apart. WMA's equal sizes and doubles also
  fill AAC's lattice, so the two are told apart by a mark of another kind, ``ratio_z``: how often
  nearby sizes stand at a quantiser's ratios (``RATIOS``), read for both.

``lattice_z`` reads, per block and channel (in WINDOWS_READ windows), each coefficient of
FLOOR_LSB or more as a phase (log2 of its size over the spacing, mod 1) and measures how far
their resultant stands above random phases, pooled over blocks: (sum |S|^2 - sum n) /
sqrt(sum n^2), about 0 +- 1 for sizes off the lattice. A decode scores in the hundreds on its
own coder's lattice and a few to tens on the other's (measured on FFmpeg AAC, FFmpeg Vorbis
and libvorbis decodes).

``at_grid`` reads both lattices at a grid the detector found, ``ratios_at_grid`` both ratio
marks where the rate gives WMA this frame; ``verdict.Policy.named`` names another member where
its mark reaches its level there and stands above the own's of the same kind (the z stays the
grid's). The levels are the policy's (``constants.QUANTISER_LEVELS``).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .mdct import BLOCK, HOP, WINDOWS, mdct, with_mid_side
from .stats import LSB, spread_windows

SPACING = {"AAC": 0.25, "Vorbis": float(np.log2(1 / 1.0649863e-07) / 255)}  # octaves between lattice sizes
SHAPES = {"AAC": ("kbd", "sine"), "Vorbis": ("vorbis",)}  # the windows each may use (the larger lattice counts)
FLOOR_LSB = 30.0  # sizes under this (16-bit steps) are left out: rounding would move them off the lattice
WINDOWS_READ = 3  # engine windows read, spread over the track (a decode's lattice stands in the hundreds)
# The ratio marks: pairs of sizes of RATIO_FLOOR_LSB or more at most RATIO_SPAN bins apart whose log2 ratio
# lies within RATIO_TOLERANCE of a quantiser's ratios (q = 2, 3, 3/2: WMA's linear steps, AAC's 4/3 power),
# against the same at RATIO_CONTROLS octaves off, under each one's windows
LINEAR_RATIOS = np.log2([2.0, 3.0, 1.5])
RATIOS = {"WMA": LINEAR_RATIOS, "AAC": LINEAR_RATIOS * 4 / 3}
RATIO_SHAPES = {"WMA": ("sine",), "AAC": ("kbd", "sine")}
RATIO_FLOOR_LSB = 20.0
RATIO_SPAN = 4
RATIO_TOLERANCE = 0.01
RATIO_CONTROLS = (-0.06, -0.04, 0.04, 0.06)


def coefficients(samples: np.ndarray, starts, offset: int, shape: str) -> np.ndarray:
    """The MDCT (under window ``shape``) of every block that starts at ``offset`` mod HOP in
    each window, in 16-bit steps, of left, right, mid and side (or of the one channel):
    (blocks x channels, HOP)."""
    out = []
    for x, start in zip(samples, starts):
        first = (offset - int(start)) % HOP
        count = (x.shape[0] - first - BLOCK) // HOP + 1
        if count <= 0:
            continue
        rows = first + HOP * np.arange(count)
        blocks = sliding_window_view(x.T.astype(np.float32) * np.float32(1 / LSB), BLOCK, axis=1)[:, rows]
        out.append(with_mid_side(mdct(blocks, WINDOWS[shape])).reshape(-1, HOP))  # (channels x blocks, HOP)
    return np.concatenate(out) if out else np.zeros((0, HOP), np.float32)


def lattice_z(coefs: np.ndarray, spacing: float) -> float:
    """How far the sizes of ``coefs`` (rows: blocks) of FLOOR_LSB or more lie on a lattice
    ``spacing`` octaves apart (see the module); NaN where none is that large."""
    size = np.abs(coefs)
    keep = size >= FLOOR_LSB
    n = keep.sum(axis=1).astype(np.float64)
    if n.sum() == 0:
        return float("nan")
    phase = np.log2(np.where(keep, size, 1.0)) * (2 * np.pi / spacing)
    s = (np.where(keep, np.cos(phase), 0.0).sum(axis=1), np.where(keep, np.sin(phase), 0.0).sum(axis=1))
    return float(((s[0] ** 2 + s[1] ** 2).sum() - n.sum()) / np.sqrt((n * n).sum()))


def ratio_z(coefs: np.ndarray, targets: np.ndarray) -> float:
    """How far nearby sizes of ``coefs`` (rows: blocks) stand at the log2 ratios ``targets``
    (see the module): (hits - c) / sqrt(c), c the mean count at the control ratios; NaN
    where no pair is large enough."""
    size = np.abs(coefs)
    found = []
    for d in range(1, RATIO_SPAN + 1):
        a, b = size[:, :-d], size[:, d:]
        both = (a >= RATIO_FLOOR_LSB) & (b >= RATIO_FLOOR_LSB)
        found.append(np.abs(np.log2(a[both] / b[both])))
    found = np.concatenate(found)
    if not found.size:
        return float("nan")

    def near(offset: float) -> int:
        return int(sum(np.count_nonzero(np.abs(found - (t + offset)) < RATIO_TOLERANCE) for t in targets))

    control = float(np.mean([near(o) for o in RATIO_CONTROLS]))
    return (near(0.0) - control) / np.sqrt(max(control, 1.0))


def _marks(samples: np.ndarray, starts, offset: int, shapes: dict[str, tuple[str, ...]], mark) -> dict[str, float]:
    """Per codec of ``shapes``, ``mark(coefficients, codec)`` at ``offset`` in WINDOWS_READ of
    the windows, spread over the track: the largest over the codec's windows."""
    pick = spread_windows(len(samples), WINDOWS_READ)
    samples, starts = samples[pick], [starts[i] for i in pick]
    out = {}
    for codec, windows in shapes.items():
        zs = [mark(coefficients(samples, starts, offset, shape), codec) for shape in windows]
        out[codec] = max((z for z in zs if np.isfinite(z)), default=float("nan"))
    return out


def lattices(samples: np.ndarray, starts, offset: int,
             shapes: dict[str, tuple[str, ...]] = SHAPES) -> dict[str, float]:
    """Per codec, its lattice (``lattice_z``) at ``offset``, the largest over its windows ``shapes``."""
    return _marks(samples, starts, offset, shapes, lambda coefs, codec: lattice_z(coefs, SPACING[codec]))


def at_grid(codec: str, samples: np.ndarray, starts, offset: int, shape: str) -> dict[str, float]:
    """Both lattices at a grid the detector found at ``offset`` for ``codec`` under its window
    ``shape``: ``codec``'s read under ``shape``, the other member's under each of its windows."""
    other = next(c for c in SHAPES if c != codec)
    return lattices(samples, starts, offset, {codec: (shape,), other: SHAPES[other]})


def ratios_at_grid(samples: np.ndarray, starts, offset: int, sample_rate: int) -> dict[str, float]:
    """WMA's and AAC's ratio marks (``ratio_z``) at a grid at ``offset``, each the largest under
    its windows, in WINDOWS_READ of the windows; none where ``sample_rate`` does not give WMA
    the family's frame."""
    from .wma import frame_length

    if frame_length(sample_rate) != HOP:
        return {}
    return _marks(samples, starts, offset, RATIO_SHAPES, lambda coefs, codec: ratio_z(coefs, RATIOS[codec]))
