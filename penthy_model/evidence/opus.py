"""The Opus (CELT) frame grid in a decode kept at 48 kHz.

CELT pre-emphasises the signal (x[n] - 0.85 x[n-1]), cuts it into frames of 960 samples
(20 ms, libopus's default) and transforms each with an MDCT of 1920 samples under a
low-overlap window (flat, with 120-sample power-complementary slopes), and codes bands up
to 20 kHz only: every coefficient above bin 800 is zero. The decoder's overlap-add of the
windowed inverse transforms puts some energy back above 20 kHz (the slopes spread every
frame's spectrum), but the same transform, re-applied at the coder's alignment to the
decode (pre-emphasised again, which undoes the decoder's de-emphasis), finds those
coefficients empty again, up to rounding noise. One sample to either side the leakage comes
back in full: the grid is a notch one sample wide in the energy above 20 kHz, tens of
times deep (measured on libopus decodes at 96-256 kbit/s). Genuine audio, cut off at
20 kHz or not, has no such notch: its energy there changes smoothly with the alignment.

The z sums, over blocks whose neighbours carry energy above 20 kHz, log(energy at the
alignment / energy one sample to either side), negated (see ``notch_z``); the energy 32
samples on must show the notch too (an MP2 decode has notches every 32 samples). ffmpeg's
and opusdec's trimming of the encoder's pre-skip put libopus's grid at 228 (``KNOWN``), and only there is it measured: a
scan of all 960 alignments with one block each missed it (most blocks have nothing above
20 kHz to leak), and more blocks cost more than the bars allow.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from penthy_model.evidence.mdct import mdct
from penthy_model.evidence.stats import LSB

CODEC = "opus"
SAMPLE_RATE = 48000
FRAME = 960  # coefficients per 20 ms frame at 48 kHz
OVERLAP = 120
PREEMPHASIS = 0.85000610  # CELT's coefficient (libopus: QCONST16(.85000610f, 15))
TOP_BIN = 800  # 20 kHz: CELT codes nothing above
FIRST_BIN = TOP_BIN + 12  # the band measured: from a little above 20 kHz...
LAST_BIN = 940  # ...to 23.5 kHz
KNOWN = (228,)  # where libopus decodes land after ffmpeg's or opusdec's pre-skip trimming
NEIGHBOURS = (-1, 1)  # the notch is measured against these alignments...
FAR = (32,)  # ...and against these: an MP2 decode (32-sample subband grid) has notches every 32
LEAKAGE = 0.5  # a block counts where its neighbours carry this much energy above 20 kHz (16-bit
# steps squared per coefficient; the decode's rounding noise, pre-emphasised, gives 0.14)
CONFIRM_BLOCKS = 32  # blocks per window the notch is measured on (every one, to the end)
FLOOR = 0.05  # energy floor (16-bit steps squared) of the log ratio
SPREAD = 1.0  # the unit of the z (a log ratio of one e-fold)
CLIP = 4.0  # no block counts for more than this many e-folds
MIN_BLOCKS = 12  # blocks with leakage needed for a z


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
    """Per block at ``alignment`` (after each window's first 3 frames, every block, at
    most CONFIRM_BLOCKS per window) whose NEIGHBOURS carry LEAKAGE: log of its energy
    above 20 kHz over the mean at its NEIGHBOURS, or over the mean at the FAR alignments,
    whichever notch is shallower."""
    out = []
    shifts = np.array((0, *NEIGHBOURS, *FAR))
    reach = max(abs(s) for s in shifts)
    near = slice(1, 1 + len(NEIGHBOURS))
    far = slice(1 + len(NEIGHBOURS), None)
    first = 3 * FRAME + reach
    for x, start in zip(samples, starts):
        y = _emphasised(x)
        s0 = first + (alignment - (int(start) + 1) - first) % FRAME
        k = np.arange((len(y) - 2 * FRAME - s0 - reach) // FRAME + 1)[:CONFIRM_BLOCKS]
        if len(k) == 0:
            continue
        idx = s0 + FRAME * k[:, None] + shifts[None, :]
        e = high_energy(sliding_window_view(y, 2 * FRAME)[idx])  # (blocks, shifts)
        around = e[:, near].mean(axis=1)
        keep = around >= LEAKAGE
        ratio = np.maximum(np.log((e[:, 0] + FLOOR) / (around + FLOOR)),
                           np.log((e[:, 0] + FLOOR) / (e[:, far].mean(axis=1) + FLOOR)))
        out.append(ratio[keep])
    return np.concatenate(out) if out else np.zeros(0)


def notch_z(ratios: np.ndarray) -> float:
    """-sum / sqrt(n) of the log ratios (each clipped to +-CLIP), in units of SPREAD: how many
    e-folds deep the notch is on average, times sqrt(n). In genuine audio the ratios scatter
    by about 0.1 around 0 (the energy above 20 kHz changes smoothly with the alignment), so
    a unit spread is far on the safe side; in a decode they are -2 to -6 where anything
    above 20 kHz leaks, and a spread measured on them would hide the notch."""
    if len(ratios) < MIN_BLOCKS:
        return float("nan")
    return float(-np.clip(ratios, -CLIP, CLIP).sum() / (SPREAD * np.sqrt(len(ratios))))


def measure(samples: np.ndarray, starts: list[int], sample_rate: int,
            thorough: bool = False) -> tuple[float, int | None]:
    """(z, alignment mod 960) of the CELT grid in a 48 kHz file (NaN, None at any other
    rate, or with too little to count). ``thorough`` changes nothing: only the known
    alignment is ever measured."""
    if sample_rate != SAMPLE_RATE or samples is None or len(samples) == 0 or samples.shape[1] < 8 * FRAME:
        return float("nan"), None
    candidates = KNOWN
    best = (float("nan"), None)
    for c in candidates:
        z = notch_z(log_ratios(samples, starts, c))
        if np.isfinite(z) and not best[0] >= z:
            best = (z, int(c))
    return best
