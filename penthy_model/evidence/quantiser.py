"""Which member of the MDCT family made a grid: the lattice its quantiser puts the sizes on.

AAC and Vorbis both cut blocks of 2048 samples every 1024 and their decoders may put the grid
at the same alignment (FFmpeg's own Vorbis encoder codes long blocks only, at AAC's 0 mod
1024), so where the grid lies and the window that finds it can misname a decode. Their
quantisers differ, and re-applied at the grid with the coder's window the transform gives
back the sizes they rebuilt, up to the decode's rounding:

- AAC rebuilds a coefficient as q^(4/3) x 2^(sf/4) (integers q, sf): the commonest, q = 1,
  lie a whole number of quarter octaves apart in every band and block (log2 spacing 1/4);
- Vorbis multiplies small residue values by a floor read from a table of 256 levels in equal
  dB steps from 1.0649863e-07 to 1 (log2 spacing 0.0908): sizes a whole number of steps apart.

``lattice_z`` reads, per block and channel (in WINDOWS_READ windows), each coefficient of
FLOOR_LSB or more as a phase (log2 of its size over the spacing, mod 1) and measures how far
their resultant stands above random phases, pooled over blocks: (sum |S|^2 - sum n) /
sqrt(sum n^2), about 0 +- 1 for sizes off the lattice. A decode scores in the hundreds on its
own coder's lattice and a few to tens on the other's (measured on FFmpeg AAC, FFmpeg Vorbis
and libvorbis decodes).

``at_grid`` reads both at a grid the detector found; ``verdict.Policy.named`` names the
other member where its lattice reaches its level there and stands above the own's (the z stays
the grid's). The levels are the policy's (``constants.QUANTISER_LEVELS``).
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


def lattices(samples: np.ndarray, starts, offset: int,
             shapes: dict[str, tuple[str, ...]] = SHAPES) -> dict[str, float]:
    """Per codec, its lattice (``lattice_z``) at ``offset`` in WINDOWS_READ of the windows,
    spread over the track: the largest over its windows ``shapes``."""
    pick = spread_windows(len(samples), WINDOWS_READ)
    samples, starts = samples[pick], [starts[i] for i in pick]
    out = {}
    for codec, windows in shapes.items():
        zs = [lattice_z(coefficients(samples, starts, offset, shape), SPACING[codec]) for shape in windows]
        out[codec] = max((z for z in zs if np.isfinite(z)), default=float("nan"))
    return out


def at_grid(codec: str, samples: np.ndarray, starts, offset: int, shape: str) -> dict[str, float]:
    """Both lattices at a grid the detector found at ``offset`` for ``codec`` under its window
    ``shape``: ``codec``'s read under ``shape``, the other member's under each of its windows."""
    other = next(c for c in SHAPES if c != codec)
    return lattices(samples, starts, offset, {codec: (shape,), other: SHAPES[other]})
