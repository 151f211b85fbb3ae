"""The Opus (CELT) frame grid in a decode kept at 48 kHz.

CELT pre-emphasises the signal (x[n] - 0.85 x[n-1]), cuts it into frames of 960 samples
(20 ms, libopus's default) and transforms each with an MDCT of 1920 samples under a
low-overlap window (flat, with 120-sample power-complementary slopes), and codes bands up
to 20 kHz only: every coefficient above bin 800 is zero. The decoder's overlap-add of the
windowed inverse transforms puts some energy back above 20 kHz (the slopes spread every
frame's spectrum), but the same transform, re-applied at the coder's alignment to the
decode (pre-emphasised again, which undoes the decoder's de-emphasis), finds those
coefficients empty again, up to rounding noise. One sample to either side the leakage comes
back in full: the grid is a notch ``NOTCH`` samples wide in the energy above 20 kHz, tens
of times deep (measured on libopus decodes at 96-256 kbit/s). Genuine audio, cut off at
20 kHz or not, has no such notch: its energy there changes smoothly with the alignment.

The z is a t statistic (with a robust spread, see ``notch_z``) over blocks of
log(energy at the alignment / energy at its neighbours 1 and 2 samples away), negated. ffmpeg's and opusdec's trimming of the
encoder's pre-skip put libopus's grid at 228 (``KNOWN``), and only there is it measured: a
scan of all 960 alignments with one block each missed it (most blocks have nothing above
20 kHz to leak), and more blocks cost more than the bars allow.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from penthy_model.grid import LSB, mdct

CODEC = "opus"
SAMPLE_RATE = 48000
FRAME = 960  # coefficients per 20 ms frame at 48 kHz
OVERLAP = 120
PREEMPHASIS = 0.85000610  # CELT's coefficient (libopus: QCONST16(.85000610f, 15))
TOP_BIN = 800  # 20 kHz: CELT codes nothing above
FIRST_BIN = TOP_BIN + 12  # the band measured: from a little above 20 kHz...
LAST_BIN = 940  # ...to 23.5 kHz
KNOWN = (228,)  # where libopus decodes land after ffmpeg's or opusdec's pre-skip trimming
NEIGHBOURS = (-2, -1, 1, 2)
CONFIRM_BLOCKS = 8  # blocks per window the confirmation reads (every other one)
FLOOR = 0.05  # energy floor (16-bit steps squared) of the log ratio
SPREAD_FLOOR = 0.15  # the spread is never taken below this (a log of a mean of 128 noise powers: ~0.13)
MIN_BLOCKS = 12


@lru_cache(maxsize=1)
def celt_window() -> np.ndarray:
    """The 1920-sample window of a 960-coefficient CELT MDCT: zeros, a 120-sample
    power-complementary slope, ones, the slope reversed, zeros."""
    n = np.arange(OVERLAP)
    slope = np.sin(0.5 * np.pi * np.sin(np.pi * (n + 0.5) / (2 * OVERLAP)) ** 2)
    pad = (FRAME - OVERLAP) // 2
    return np.concatenate([np.zeros(pad), slope, np.ones(FRAME - OVERLAP), slope[::-1], np.zeros(pad)])


def _emphasised(x: np.ndarray) -> np.ndarray:
    """The mix of a window (length, channels) in 16-bit steps, pre-emphasised; sample i of
    the result is sample i + 1 of the window."""
    mix = x[:, 0].astype(np.float64)
    for c in range(1, x.shape[1]):  # the channels added (a mean over the short axis is slow)
        mix += x[:, c]
    mix *= 1.0 / (x.shape[1] * LSB)
    return (mix[1:] - PREEMPHASIS * mix[:-1]).astype(np.float32)


def high_energy(blocks: np.ndarray) -> np.ndarray:
    """Mean energy per coefficient from FIRST_BIN to LAST_BIN of each block's MDCT."""
    c = mdct(blocks, celt_window())[..., FIRST_BIN:LAST_BIN]
    return np.einsum("...i,...i->...", c, c) / c.shape[-1]


def log_ratios(samples: np.ndarray, starts: list[int], alignment: int) -> np.ndarray:
    """Per block at ``alignment`` (after each window's first 3 frames, every other block,
    at most CONFIRM_BLOCKS per window): log of its energy above 20 kHz over the mean at its
    NEIGHBOURS."""
    out = []
    shifts = np.array((0, *NEIGHBOURS))
    first = 3 * FRAME + max(NEIGHBOURS)
    for x, start in zip(samples, starts):
        y = _emphasised(x)
        s0 = first + (alignment - (int(start) + 1) - first) % FRAME
        k = np.arange(0, (len(y) - 2 * FRAME - s0 - max(NEIGHBOURS)) // FRAME + 1, 2)[:CONFIRM_BLOCKS]
        if len(k) == 0:
            continue
        idx = s0 + FRAME * k[:, None] + shifts[None, :]
        e = np.log(high_energy(sliding_window_view(y, 2 * FRAME)[idx]) + FLOOR)  # (blocks, 5)
        out.append(e[:, 0] - np.log(np.exp(e[:, 1:]).mean(axis=1)))
    return np.concatenate(out) if out else np.zeros(0)


def notch_z(ratios: np.ndarray) -> float:
    """-mean / (spread / sqrt(n)) of the log ratios. The spread is the ratios' MAD (as a
    standard deviation), floored at SPREAD_FLOOR: in a decode most blocks with nothing above
    20 kHz give ratios near 0 and the others deep notches, whose spread would hide them."""
    if len(ratios) < MIN_BLOCKS:
        return float("nan")
    mad = 1.4826 * float(np.median(np.abs(ratios - np.median(ratios))))
    return float(-ratios.mean() / max(mad, SPREAD_FLOOR) * np.sqrt(len(ratios)))


def measure(samples: np.ndarray, starts: list[int], sample_rate: int) -> tuple[float, int | None]:
    """(z, alignment mod 960) of the CELT grid in a 48 kHz file (NaN, None at any other
    rate, or with too little to count)."""
    if sample_rate != SAMPLE_RATE or samples is None or len(samples) == 0 or samples.shape[1] < 8 * FRAME:
        return float("nan"), None
    candidates = KNOWN
    best = (float("nan"), None)
    for c in candidates:
        z = notch_z(log_ratios(samples, starts, c))
        if np.isfinite(z) and not best[0] >= z:
            best = (z, int(c))
    return best
