"""The subband grid of MPEG-1 Layer II (MP2) and Musepack, and which of the two it is.

Both split the signal with the 32-band polyphase filter bank of ISO/IEC 11172-3 (the one
:mod:`penthy_model.mp3grid` re-applies before MP3's MDCT) and quantise the band samples
themselves: in each band, runs of 12 samples share a scalefactor and a quantiser, so a
decoder rebuilds them as whole multiples of one step. Re-applied to a decoded file at the
coder's phase (the output sample's position mod 32), the filter bank finds the band samples
again, up to the decode's rounding and the bank's own tiny reconstruction error: nearby
samples of a band with the same quantised value have equal sizes, far more often than
chance makes them. At the other 31 phases, and in genuine audio at all of them, they do not.

Two looks, as in :mod:`penthy_model.evidence.mdctgrid`: the scan counts every phase in a
short stretch at the start of a few windows and picks the best; the confirmation counts
in a stretch of every window the scan did not read the scan's phase, the known one
(``KNOWN``: where ffmpeg's decoders put it) and BASELINE phases at least ``EXCLUDE`` away,
and measures how far each candidate stands above the baseline. The band samples are
computed for all the frames at once with the filter bank's polyphase form: window, fold to
64 sums, one 64x32 cosine matrix.

Which codec: Layer II codes a stereo pair as left and right (or, in joint stereo, one
signal with two scalefactors: left and right still each show the grid). Musepack codes each
band of a frame as left/right or as mid/side. So runs where mid or side show equal pairs
and neither left nor right does are a Musepack trait; their share at the coder's phase,
against the same share at the baseline phases, names it (``MS_Z``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from penthy_model.grid import LSB, MIN_ACTIVE, chance_z
from penthy_model.mp3grid import BANDS, FILTERS, TAPS, analysis_window

RUN = 12  # band samples per scalefactor (Layer II and Musepack)
SCAN_RUNS = 3  # runs of band samples per phase the scan reads in a window
SCAN_WINDOWS = 2  # windows the scan reads (spread over the file)
CONFIRM_RUNS = 4  # runs per phase the confirmation reads in every window
BASELINE = 8  # phases the candidates are measured against
KNOWN = (0,)  # phases where ffmpeg's mp2 and Musepack decoders put the grid (measured)
EXCLUDE = 3  # baseline phases are at least this far from a candidate
EQUAL_SPAN = 3  # pairs of band samples at most this far apart in a run
EQUAL_MIN_LSB = 6.0  # both at least this (16-bit steps, noise-normalised)
EQUAL_LSB = 0.25  # ...and sizes within this
MS_Z = 8.02  # mid/side-only runs standing this far above chance name Musepack (rule: newcodecs_thresholds)
# RMS of a band sample for white noise of unit RMS (the bank's gain, averaged over bands):
# the band samples are divided by it so the thresholds are in 16-bit steps.
NOISE_GAIN = float(np.sqrt((FILTERS ** 2).sum(axis=1).mean()))


@lru_cache(maxsize=1)
def _polyphase() -> tuple[np.ndarray, np.ndarray]:
    """The analysis window reversed (applied to a frame in time order) and the (64, 32)
    cosine matrix of the folded sums, scaled to 16-bit steps."""
    m = np.arange(64)
    cosines = np.cos((2 * np.arange(BANDS)[None, :] + 1) * (m[:, None] - 16) * np.pi / 64)
    return (analysis_window()[::-1].astype(np.float32),
            (cosines[::-1] / NOISE_GAIN).astype(np.float32))


def band_samples_every(x: np.ndarray) -> np.ndarray:
    """(len(x) - 511, 32) outputs of the analysis bands at every sample of ``x`` from 511
    on (row j: the output whose last input is sample 511 + j), noise-normalised; the same
    as ``mp3grid.band_samples`` (tests check it)."""
    frames = sliding_window_view(np.ascontiguousarray(x, dtype=np.float32), TAPS)
    return _bands(frames)


def _bands(frames: np.ndarray) -> np.ndarray:
    """(..., 32) band outputs of frames (..., 512) of samples in time order: windowed,
    folded to 64 sums (the eight 64-sample pieces added), times the cosine matrix."""
    window, cosines = _polyphase()
    folded = frames[..., :64] * window[:64]
    for j in range(64, TAPS, 64):
        folded += frames[..., j:j + 64] * window[j:j + 64]
    return folded @ cosines


def phase_bands(x: np.ndarray, start: int, offset: int, phases: np.ndarray, runs: int) -> np.ndarray:
    """(channels, phases, runs, RUN, 32) band samples of a window ``x`` (length, channels)
    in 16-bit steps that starts at file sample ``start``: at each phase, ``runs`` runs of
    RUN consecutive band samples (one every 32 samples) from the first output whose frame
    begins at or after ``offset``. Channels: left, right, mid, side (or the mix)."""
    first = offset + TAPS - 1 + (phases - start - offset - (TAPS - 1)) % BANDS  # last input of each first frame
    idx = first[:, None] - (TAPS - 1) + BANDS * np.arange(runs * RUN)[None, :]  # frame starts
    chans = [x[:, 0], x[:, 1]] if x.shape[1] == 2 else [x.mean(axis=1)]
    out = []
    for c in chans:
        frames = sliding_window_view(np.ascontiguousarray(c, dtype=np.float32), TAPS)[idx]
        out.append(_bands(frames))
    if len(out) == 2:
        out += [(out[0] + out[1]) * 0.5, (out[0] - out[1]) * 0.5]
    return np.stack(out).reshape(len(out), len(phases), runs, RUN, BANDS)


def run_counts(bands: np.ndarray) -> np.ndarray:
    """(channels, 2, phases, cells): pairs of big band samples and equal pairs among them
    (at most EQUAL_SPAN apart), per run of a band (cells: runs x bands), from the output
    of ``phase_bands``."""
    per = np.abs(bands).transpose(0, 1, 2, 4, 3)  # (ch, phases, runs, bands, RUN)
    big = per >= EQUAL_MIN_LSB
    pairs = np.zeros(per.shape[:-1], np.int16)
    equal = np.zeros(per.shape[:-1], np.int16)
    for d in range(1, EQUAL_SPAN + 1):
        both = big[..., :-d] & big[..., d:]
        pairs += both.sum(axis=-1, dtype=np.int16)
        equal += (both & (np.abs(per[..., :-d] - per[..., d:]) < EQUAL_LSB)).sum(axis=-1, dtype=np.int16)
    ch, ph = per.shape[:2]
    return np.stack([pairs, equal], axis=1).reshape(ch, 2, ph, -1)


def _stretch_counts(samples: np.ndarray, starts: list[int], which, offset: int, phases: np.ndarray,
                    runs: int) -> np.ndarray | None:
    """run_counts of ``runs`` runs at each of ``phases`` in the windows ``which``, from
    sample ``offset`` of each on, joined along the cells."""
    need = offset + TAPS - 1 + BANDS - 1 + runs * RUN * BANDS
    cells = []
    for i in which:
        if need > samples.shape[1]:
            continue
        x = samples[i] / np.float32(LSB)
        cells.append(run_counts(phase_bands(x, int(starts[i]), offset, phases, runs)))
    return np.concatenate(cells, axis=-1) if cells else None


def _z(counts: np.ndarray, candidate: int, base: np.ndarray) -> float:
    """z of the equal-pair share in column ``candidate`` of ``counts`` (2, phases: pairs and
    equal pairs pooled) over the ``base`` columns (NaN under MIN_ACTIVE pairs)."""
    pairs, equal = counts
    if pairs[candidate] < MIN_ACTIVE or pairs[base].min() < MIN_ACTIVE:
        return float("nan")
    share = equal / np.maximum(pairs, 1)
    return chance_z(float(share[candidate]), share[base], float(pairs[candidate]))


def _baseline(candidates: list[int]) -> np.ndarray:
    """BASELINE phases spread over the 32, each at least EXCLUDE from every candidate."""
    c = np.array(candidates)
    dist = np.abs((np.arange(BANDS)[:, None] - c[None, :] + BANDS // 2) % BANDS - BANDS // 2).min(axis=1)
    far = np.flatnonzero(dist >= EXCLUDE)
    return far[np.round(np.linspace(0, len(far) - 1, BASELINE)).astype(int)]


class Finding(NamedTuple):
    z: float  # the subband grid's z (see ``measure``)
    phase: int | None
    codec: str | None  # "musepack" where mid_side_z reaches MS_Z, else "mp2" (None: no finding)
    mid_side_z: float  # see ``mid_side_z``


NOTHING = Finding(float("nan"), None, None, float("nan"))


def identify(samples: np.ndarray, starts: list[int], sample_rate: int) -> Finding:
    """The subband grid's z and phase (see ``measure``) and which coder made it: "musepack"
    where mid/side-only runs show it (``MS_Z``), else "mp2"."""
    if samples is None or len(samples) == 0:
        return NOTHING
    pick = np.unique(np.linspace(0, len(samples) - 1, min(SCAN_WINDOWS, len(samples))).round().astype(int))
    scanned = _stretch_counts(samples, starts, pick.tolist(), 0, np.arange(BANDS), SCAN_RUNS)
    if scanned is None:
        return NOTHING
    lr = scanned[:2].sum(axis=(0, 3))  # (2, 32): left and right carry Layer II's grid
    candidates = list(dict.fromkeys([*KNOWN, int(np.argmax(lr[1] / np.maximum(lr[0], 1)))]))
    phases = np.concatenate([candidates, _baseline(candidates)])
    offset = TAPS - 1 + BANDS - 1 + SCAN_RUNS * RUN * BANDS  # after the scan's samples
    confirmed = _stretch_counts(samples, starts, range(len(samples)), offset, phases, CONFIRM_RUNS)
    if confirmed is None:
        return NOTHING
    pooled = confirmed.sum(axis=(0, 3))
    base = np.arange(len(candidates), len(phases))
    best = (float("nan"), None)
    for i, c in enumerate(candidates):
        z = _z(pooled, i, base)
        if np.isfinite(z) and not best[0] >= z:
            best = (z, i)
    if best[1] is None:
        return NOTHING
    ms = mid_side_z(confirmed, best[1], base)
    return Finding(best[0], int(candidates[best[1]]), "musepack" if ms >= MS_Z else "mp2", ms)


def mid_side_z(confirmed: np.ndarray, column: int, base: np.ndarray) -> float:
    """How far the share of runs (of a band) with equal pairs in mid or side and none in
    left or right stands above chance in phase column ``column`` of ``confirmed`` (against
    the ``base`` columns; NaN for one channel)."""
    if confirmed.shape[0] != 4:
        return float("nan")
    equal = confirmed[:, 1]  # (4, 32, cells)
    lr = (equal[0] + equal[1]) > 0
    ms = (equal[2] + equal[3]) >= 2
    any_pairs = confirmed[:, 0].sum(axis=0) > 0  # cells with big samples to pair
    counts = np.stack([any_pairs.sum(axis=-1), (ms & ~lr & any_pairs).sum(axis=-1)]).astype(float)
    return _z(counts, column, base)


def measure(samples: np.ndarray, starts: list[int], sample_rate: int) -> tuple[float, int | None]:
    """(z, phase) of the polyphase subband grid shared by MP2 and Musepack: the phase (the
    band outputs' last input sample mod 32, from the file's start) and how far its share
    of equal pairs stands above the phases at least EXCLUDE away, on samples the scan that
    chose it did not read; (NaN, None) when too little could be counted."""
    found = identify(samples, starts, sample_rate)
    return found.z, found.phase
