"""The statistics every codec detector shares: near-zero counts and how far above chance.

A lossy decoder rebuilds its transform's coefficients from quantised values, so where a
detector re-applies the codec's transform at the codec's alignment, the coefficients the
encoder rounded to zero come back as nothing but the decode's rounding noise (under one
16-bit step) between neighbours that carry music. ``near_zero_counts`` counts them;
``chance_z`` says how far a share of them at one alignment stands above the same share at
alignments no coder used; ``spread_windows`` picks the windows a detector reads first.
Samples reach the detectors in 16-bit steps (``LSB``).
"""

from __future__ import annotations

import numpy as np

LSB = 1.0 / 32768.0  # one 16-bit step, the unit of the thresholds below
SMALL_LSB = 1.0  # a coefficient under this many steps is "nothing there" (decode noise)
ACTIVE_LSB = 8.0  # ...counted only where its NEIGHBOURS carry this much (RMS, in steps)
NEIGHBOURS = 16
LOW_HZ = 2000.0  # coefficients from here to Nyquist are counted
MIN_ACTIVE = 300  # fewer active coefficients at an alignment: not judged
REPEAT_LSB = 2.0  # samples that come back within this RMS (16-bit steps) a lag later repeat
REVIEW_Z = 4.0  # a codec measured this high is checked against what can fake a grid: windows
# that repeat, are hard-gated or hold few sample levels, a wave under the music (``repeats``),
# a grid's shifted alignments (``mdct.shifted_z``, ``mp3.sharp_z``); at or under every codec's
# support level and under every threshold, and only files that reach it pay the checks


def near_zero_counts(coefs: np.ndarray, lo: int, small_lsb: float = SMALL_LSB) -> tuple[np.ndarray, np.ndarray]:
    """Per block (last axis: coefficients, in 16-bit steps): how many coefficients from bin
    ``lo`` up are active (in a run of NEIGHBOURS that carries ACTIVE_LSB RMS), and how many
    of those are under ``small_lsb``."""
    n = (coefs.shape[-1] - lo) // NEIGHBOURS * NEIGHBOURS
    mag = np.abs(coefs[..., lo:lo + n]).reshape(coefs.shape[:-1] + (n // NEIGHBOURS, NEIGHBOURS))
    active = np.square(mag).sum(axis=-1) >= NEIGHBOURS * ACTIVE_LSB ** 2
    small = np.less(mag, small_lsb)
    small &= active[..., None]
    return np.count_nonzero(active, axis=-1) * NEIGHBOURS, small.reshape(coefs.shape[:-1] + (n,)).sum(axis=-1)


def chance_z(share: float, null: np.ndarray, n: float) -> float:
    """How many standard deviations ``share`` (a share of near-zero coefficients among ``n``
    active ones) stands above the same share at alignments no coder used (``null``): their
    spread, floored by the binomial spread of a share of ``n``."""
    mean = float(np.mean(null))
    binom = np.sqrt(max(mean * (1 - mean), 1e-6) / max(n, 1.0))
    return float((share - mean) / max(float(np.std(null)), binom))


def shares_z(active: np.ndarray, small: np.ndarray, k: int, others: np.ndarray | None = None) -> float:
    """``chance_z`` of the share small/active at row ``k`` against the rows ``others`` (all
    other rows by default); NaN when row ``k`` has fewer than MIN_ACTIVE active counts."""
    if active[k] < MIN_ACTIVE:
        return float("nan")
    share = small / np.maximum(active, 1)
    null = np.delete(share, k) if others is None else share[others]
    return chance_z(share[k], null, float(active[k]))


def spread_windows(windows: int, count: int) -> np.ndarray:
    """Indices of ``count`` of ``windows`` windows (all where fewer), spread evenly over the
    track, first and last included."""
    return np.unique(np.linspace(0, windows - 1, min(count, windows)).round().astype(int))
