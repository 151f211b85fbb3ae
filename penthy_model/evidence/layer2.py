"""The subband grid of MPEG-1 Layer II (MP2) and Musepack, and which of the two it is.

Both split the signal with the 32-band polyphase filter bank of ISO/IEC 11172-3 (the one
:mod:`penthy_model.evidence.mp3` re-applies before MP3's MDCT) and quantise the band samples
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

Which codec: both scale a run's quantised values by a scalefactor, Layer II's in steps of
2 dB (a third of an octave), Musepack's in steps of 1.59 dB (0.264 octave). So between
neighbouring runs of a band coded with the same quantiser, the ratio of the steps is a
whole number of the coder's scalefactor steps. ``scalefactor_combs`` finds each run's step
at the coder's phase and measures how coherently those ratios fall on either grid; the
more coherent one names the codec.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from penthy_model.evidence.stats import LSB, MIN_ACTIVE, chance_z, spread_windows
from penthy_model.evidence.mp3 import BANDS, FILTERS, TAPS, analysis_window

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
# Naming (see ``scalefactor_combs``): a run's step is found where all its samples lie within
# LATTICE_LSB of multiples of it (at most MAX_LEVEL, the step at least MIN_STEP_LSB), from at
# least MIN_BIG samples of at least EQUAL_MIN_LSB; NAME_WINDOWS windows are read, left
# channel (or the mix).
LATTICE_LSB = 1.0  # the bank's reconstruction error and the decode's rounding (measured: +-0.5)
MAX_LEVEL = 255
MAX_DIVISOR = 12
MIN_STEP_LSB = 4.0  # a finer step would fit noise: 12 samples within +-1 of a 4-step grid by chance: 0.5**12
MIN_BIG = 4
NAME_WINDOWS = 6
MIN_RATIOS = 20  # step ratios needed to name the codec (fewer: not named)
NAME_Z = 6.0  # naming costs a few times the grid: only a grid standing this far out is named
MP2_SCF_OCTAVES = 1 / 3  # Layer II's scalefactors: steps of 2 dB (ISO/IEC 11172-3 Table B.1)
MUSEPACK_SCF_OCTAVES = -float(np.log2(0.83298066476582673961))  # Musepack's: 1.59 dB (libmpcdec)
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
    as ``evidence.mp3.band_samples`` (tests check it)."""
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
    codec: str | None  # "musepack" where its scalefactor comb is the more coherent, else "mp2"
    # (None under NAME_Z)
    mp2_comb: float  # see ``scalefactor_combs``
    musepack_comb: float


NOTHING = Finding(float("nan"), None, None, float("nan"), float("nan"))
# The rates the two code at: MPEG-1 Layer II 32, 44.1, 48 kHz and MPEG-2's half rates 16,
# 22.05, 24 kHz; Musepack 32, 37.8, 44.1, 48 kHz. At any other rate there is nothing to name.
RATES = frozenset({16000, 22050, 24000, 32000, 37800, 44100, 48000})


def identify(samples: np.ndarray, starts: list[int], sample_rate: int) -> Finding:
    """The subband grid's z and phase (see ``measure``) and which coder made it: "musepack"
    where the steps of its runs follow Musepack's scalefactor grid more closely than Layer
    II's (``scalefactor_combs``), else "mp2". Nothing at a rate neither codes at (``RATES``)."""
    if samples is None or len(samples) == 0 or sample_rate not in RATES:
        return NOTHING
    pick = spread_windows(len(samples), SCAN_WINDOWS)
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
    phase = int(candidates[best[1]])
    if not best[0] >= NAME_Z:
        return Finding(best[0], phase, None, float("nan"), float("nan"))
    mp2, mpc = scalefactor_combs(samples, starts, phase)
    codec = None if np.isnan(mp2) else "musepack" if mpc > mp2 else "mp2"  # too few steps: not named
    return Finding(best[0], phase, codec, mp2, mpc)


def run_steps(runs: np.ndarray) -> np.ndarray:
    """The quantiser step of each run (last axis: its RUN band samples), where all of them
    lie within LATTICE_LSB of multiples of one step of at least MIN_STEP_LSB, at most
    MAX_LEVEL steps; NaN elsewhere. Trial steps: the smallest big sample divided by 1 to
    MAX_DIVISOR, each refitted to all the samples by least squares; the largest that fits."""
    v = np.abs(runs)
    big = v >= EQUAL_MIN_LSB
    enough = big.sum(axis=-1) >= MIN_BIG
    smallest = np.where(big, v, np.inf).min(axis=-1, keepdims=True)
    smallest = np.where(enough[..., None], smallest, 1.0)  # runs without a step: any finite value
    step = np.full(v.shape[:-1], np.nan)
    for k in range(MAX_DIVISOR, 0, -1):  # the largest step that fits wins: written last
        levels = np.round(v / (smallest / k))  # the smallest big sample taken as k steps
        fitted = (v * levels).sum(axis=-1, keepdims=True) / np.maximum((levels * levels).sum(axis=-1, keepdims=True), 1)
        fitted = np.maximum(fitted, 1e-6)  # runs of zeros: no step (MIN_STEP_LSB rules them out)
        levels = np.round(v / fitted)  # the step refitted to all samples (least squares)
        fits = (np.abs(v - levels * fitted) < LATTICE_LSB).all(axis=-1) & (levels.max(axis=-1) <= MAX_LEVEL)
        fits &= enough & (fitted[..., 0] >= MIN_STEP_LSB)
        step = np.where(fits, fitted[..., 0], step)
    return step


def scalefactor_combs(samples: np.ndarray, starts: list[int], phase: int) -> tuple[float, float]:
    """``_combs`` over NAME_WINDOWS windows' left channel (or mix) or, where those give
    fewer than MIN_RATIOS step ratios (fine quantisers: few runs with a step), over every
    window and both channels; (NaN, NaN) where that too gives too few."""
    combs = _combs(samples, starts, phase, NAME_WINDOWS, both=False)
    if np.isnan(combs[0]) and (len(samples) > NAME_WINDOWS or samples.shape[2] == 2):
        combs = _combs(samples, starts, phase, len(samples), both=True)
    return combs


def _combs(samples: np.ndarray, starts: list[int], phase: int, windows: int, both: bool) -> tuple[float, float]:
    """How coherently the step ratios of neighbouring runs of a band fall on Layer II's
    scalefactor grid (1/3 octave) and on Musepack's (0.264 octave): the length of the mean
    of exp(2 pi i log2(ratio) / grid) over all ratios (1: all on the grid; about
    1/sqrt(n) for ratios that know nothing of it). Runs are cut where the equal pairs say
    the coder's runs begin (the offset, mod RUN band samples, with the most)."""
    pick = spread_windows(len(samples), windows)
    per_window = []
    for i in pick:
        x = samples[i] / np.float32(LSB)
        if x.shape[1] == 2:
            channels = [x[:, 0], x[:, 1]] if both else [x[:, 0]]
        else:
            channels = [x.mean(axis=1)]
        first = TAPS - 1 + (phase - int(starts[i]) - (TAPS - 1)) % BANDS  # last input of the first frame
        index = (int(starts[i]) + first - phase) // BANDS  # the file's band-sample count at the first
        for c in channels:
            n = (len(c) - first - 1) // BANDS + 1
            frames = sliding_window_view(np.ascontiguousarray(c, dtype=np.float32), TAPS)[first - (TAPS - 1)::BANDS][:n]
            per_window.append((_bands(frames), index))
    # the run offset: the one whose runs hold the most equal pairs (in the first window)
    scores = np.zeros(RUN)
    for bands, index in per_window[:1]:
        for o in range(RUN):
            skip = (o - index) % RUN
            m = (len(bands) - skip) // RUN * RUN
            counts = run_counts(bands[None, None, skip:skip + m].reshape(1, 1, -1, RUN, BANDS))
            scores[o] += counts[0, 1].sum() / max(counts[0, 0].sum(), 1)
    o = int(np.argmax(scores))
    ratios = []
    for bands, index in per_window:
        skip = (o - index) % RUN
        m = (len(bands) - skip) // RUN * RUN
        steps = run_steps(bands[skip:skip + m].reshape(-1, RUN, BANDS).transpose(2, 0, 1))  # (bands, runs)
        r = np.log2(steps[:, :-1] / steps[:, 1:]).ravel()
        ratios.append(r[np.isfinite(r) & (np.abs(r) > 0.01)])
    r = np.concatenate(ratios) if ratios else np.zeros(0)
    if len(r) < MIN_RATIOS:
        return float("nan"), float("nan")
    return (float(np.abs(np.exp(2j * np.pi * r / MP2_SCF_OCTAVES).mean())),
            float(np.abs(np.exp(2j * np.pi * r / MUSEPACK_SCF_OCTAVES).mean())))


def measure(samples: np.ndarray, starts: list[int], sample_rate: int) -> tuple[float, int | None]:
    """(z, phase) of the polyphase subband grid shared by MP2 and Musepack: the phase (the
    band outputs' last input sample mod 32, from the file's start) and how far its share
    of equal pairs stands above the phases at least EXCLUDE away, on samples the scan that
    chose it did not read; (NaN, None) when too little could be counted."""
    found = identify(samples, starts, sample_rate)
    return found.z, found.phase
