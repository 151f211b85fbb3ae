"""The MP3 frame grid: whether a file's samples were decoded from MP3.

An MP3 encoder splits the signal into 32 bands with the polyphase filter bank of ISO/IEC
11172-3, cuts each band into granules of 18 samples (576 input samples), transforms each with
an 18-line MDCT under a sine window, folds neighbouring bands together with the standard's
alias-reduction butterflies, and quantises the 576 lines. Lines that round to zero stay zero
in the decode. So the same analysis, re-applied to a decoded file where the encoder applied
it, finds those lines again as nothing but the decode's 16-bit rounding noise, between
neighbours that carry music; at any other alignment, and in genuine audio at every one, such
lines are only as common as chance. It is the MP3 counterpart of :mod:`.mdct` (AAC, Vorbis),
whose plain MDCT cannot see through MP3's two-stage filter bank.

Where the grid lies depends on encoder and decoder delays (LAME through ffmpeg, libsndfile
and LAME's own decoder, and shine through ffmpeg, all give alignment 48 below), so every
one of the 576 alignments is tried and the best is measured against the others: a file's
finding does not depend on knowing its decoder. Only long blocks are modelled; granules the
encoder coded as short blocks just add nothing.

Where that scan is not sure, a second look settles more files: at a few candidate
alignments (the scan's best, and 48), the rest of each window (samples the scan did not
read) is analysed at the 18 alignments that share the candidate's phase, in left, right,
mid and side together, since a stereo encoder codes some granules as left/right and others
as mid/side, and the zeros are exact only in the channels it coded. A candidate chosen
before these samples are read is measured against its 17 neighbours, with no search to
inflate it, so much weaker grids stand out. The same lines are also counted for a second
sign of the coder: a decoder rebuilds every line of a scalefactor band as a whole power
(4/3) of its quantised value times one step, so at the coder's alignment nearby lines of the
same value have exactly equal sizes, far more often than chance makes them. That sign
remains where the encoder had bits to spare and zeroed few lines (320 kbit/s, sparse music).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .mdct import GRID_WINDOWS, GridFinding
from .stats import LOW_HZ, LSB, MIN_ACTIVE, chance_z, near_zero_counts

GRANULE = 576  # input samples per granule: 32 bands x 18 lines
BANDS, LINES = 32, 18
TAPS = 512
SEGMENT = 6000  # samples of each engine window examined (the first ones)
SMALL_LSB = 0.5  # a line under this many 16-bit steps (noise-normalised) is "nothing there"
EXCLUDE = 24  # alignments this close to the best are not part of its baseline
CONFIRM_AT = 48  # where LAME and shine decodes land (through ffmpeg, libsndfile, LAME's decoder)
# Equal neighbours: two lines of a granule at most EQUAL_SPAN apart (mostly inside one
# scalefactor band), both at least EQUAL_MIN_LSB, whose sizes differ by under EQUAL_LSB
# (16-bit steps, noise-normalised as SMALL_LSB).
EQUAL_SPAN = 6
EQUAL_MIN_LSB = 6.0
EQUAL_LSB = 0.25
# LOW_HZ, MIN_ACTIVE (here: at the best alignment, pooled over the file) and GRID_WINDOWS
# are the AAC/Vorbis grid's.
# RMS of a line for white noise of unit RMS: the transform's gain, so that thresholds are in
# 16-bit steps (tests/test_mp3grid.py measures it).
NOISE_GAIN = 0.53

# ISO/IEC 11172-3 Table C.1, the analysis window C[0..256] in units of 2**-21 (each entry of
# the standard's table is an exact multiple). The rest follows from its symmetry:
# C[512 - i] = -C[i], except at multiples of 64 where the sign stays.
_HALF_WINDOW = (
    0, -1, -1, -1, -1, -1, -1, -2, -2, -2, -2, -3, -3, -4, -4, -5,
    -5, -6, -7, -7, -8, -9, -10, -11, -13, -14, -16, -17, -19, -21, -24, -26,
    -29, -31, -35, -38, -41, -45, -49, -53, -58, -63, -68, -73, -79, -85, -91, -97,
    -104, -111, -117, -125, -132, -139, -147, -154, -161, -169, -176, -183, -190, -196, -202, -208,
    213, 218, 222, 225, 227, 228, 228, 227, 224, 221, 215, 208, 200, 189, 177, 163,
    146, 127, 106, 83, 57, 29, -2, -36, -72, -111, -153, -197, -244, -294, -347, -401,
    -459, -519, -581, -645, -711, -779, -848, -919, -991, -1064, -1137, -1210, -1283, -1356, -1428, -1498,
    -1567, -1634, -1698, -1759, -1817, -1870, -1919, -1962, -2001, -2032, -2057, -2075, -2085, -2087, -2080, -2063,
    2037, 2000, 1952, 1893, 1822, 1739, 1644, 1535, 1414, 1280, 1131, 970, 794, 605, 402, 185,
    -45, -288, -545, -814, -1095, -1388, -1692, -2006, -2330, -2663, -3004, -3351, -3705, -4063, -4425, -4788,
    -5153, -5517, -5879, -6237, -6589, -6935, -7271, -7597, -7910, -8209, -8491, -8755, -8998, -9219, -9416, -9585,
    -9727, -9838, -9916, -9959, -9966, -9935, -9863, -9750, -9592, -9389, -9139, -8840, -8492, -8092, -7640, -7134,
    6574, 5959, 5288, 4561, 3776, 2935, 2037, 1082, 70, -998, -2122, -3300, -4533, -5818, -7154, -8540,
    -9975, -11455, -12980, -14548, -16155, -17799, -19478, -21189, -22929, -24694, -26482, -28289, -30112, -31947, -33791, -35640,
    -37489, -39336, -41176, -43006, -44821, -46617, -48390, -50137, -51853, -53534, -55178, -56778, -58333, -59838, -61289, -62684,
    -64019, -65290, -66494, -67629, -68692, -69679, -70590, -71420, -72169, -72835, -73415, -73908, -74313, -74630, -74856, -74992,
    75038,
)
ALIAS_CI = (-0.6, -0.535, -0.33, -0.185, -0.095, -0.041, -0.0142, -0.0037)  # the standard's c_i


def analysis_window() -> np.ndarray:
    """The standard's 512-tap analysis window C[i]."""
    half = np.array(_HALF_WINDOW, dtype=np.float64) / 2.0 ** 21
    c = np.zeros(TAPS)
    c[:257] = half
    i = np.arange(1, 256)
    c[TAPS - i] = np.where(i % 64 == 0, half[i], -half[i])
    return c


def _filters() -> np.ndarray:
    """(32, 512) impulse responses of the polyphase analysis bands: output k at time t is
    the sum over n of h[k, n] x[t - n]."""
    n = np.arange(TAPS)
    prototype = analysis_window() * np.where((n // 64) % 2 == 0, 1.0, -1.0)
    return prototype * np.cos((2 * np.arange(BANDS)[:, None] + 1) * (n - 16) * np.pi / 64)


def _line_transforms() -> np.ndarray:
    """(32, 36, 18): per band, 36 band samples to 18 MDCT lines under the sine window, with
    odd bands frequency-inverted (every other sample negated) as the encoder does."""
    t, k = np.arange(2 * LINES), np.arange(LINES)
    window = np.sin(np.pi / (2 * LINES) * (t + 0.5))
    mdct = np.cos(np.pi / (4 * LINES) * (2 * t[:, None] + 1 + LINES) * (2 * k[None, :] + 1)) * window[:, None]
    inverted = mdct * np.where(t % 2 == 1, -1.0, 1.0)[:, None]
    return np.stack([inverted if b % 2 else mdct for b in range(BANDS)]).astype(np.float32)


FILTERS = _filters()
LINE_TRANSFORMS = _line_transforms()
# (512, 32): a frame of 512 samples ending at t, times this, is the bands' output at t
TAPS_BY_BAND = np.ascontiguousarray(FILTERS[:, ::-1].T)
_CI = np.array(ALIAS_CI)
_CS = (1 / np.sqrt(1 + _CI ** 2)).astype(np.float32)
_CA = (_CI / np.sqrt(1 + _CI ** 2)).astype(np.float32)


@lru_cache(maxsize=4)
def _filter_spectra(nfft: int) -> np.ndarray:
    return np.fft.rfft(FILTERS, nfft, axis=-1)


def band_samples(x: np.ndarray) -> np.ndarray:
    """(32, len(x) - 511) outputs of the analysis bands at every sample (not decimated):
    column j is the output at sample 511 + j of ``x``, the first with a full history."""
    nfft = 1 << int(np.ceil(np.log2(len(x) + TAPS)))
    spectrum = np.fft.rfft(x, nfft)[None] * _filter_spectra(nfft)
    return np.fft.irfft(spectrum, nfft, axis=-1)[:, TAPS - 1:len(x)].astype(np.float32)


def granule_lines(bands: np.ndarray) -> np.ndarray:
    """(J, 576) lines of the granules that start at every band sample of ``bands`` (32, L),
    J = L - 35, after the alias-reduction butterflies, in the encoder's order (low to high)."""
    starts = np.arange(bands.shape[1] - 2 * LINES + 1)
    frames = bands[:, starts[:, None] + np.arange(2 * LINES)]  # (32, J, 36)
    lines = np.matmul(frames, LINE_TRANSFORMS).transpose(1, 0, 2).copy()  # (J, 32, 18)
    for i in range(len(ALIAS_CI)):
        upper, lower = lines[:, :-1, LINES - 1 - i].copy(), lines[:, 1:, i].copy()
        lines[:, :-1, LINES - 1 - i] = upper * _CS[i] + lower * _CA[i]
        lines[:, 1:, i] = lower * _CS[i] - upper * _CA[i]
    return lines.reshape(len(starts), GRANULE)


def alignment_counts(x: np.ndarray, start: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """For a stretch of mono samples in 16-bit steps that starts at sample ``start`` of the
    file: per granule alignment (0..575, mod 576 from the file's start), how many active
    lines its granules have from LOW_HZ up, and how many of those are near zero."""
    active, small = np.zeros(GRANULE), np.zeros(GRANULE)
    if len(x) < TAPS + GRANULE * 2:
        return active, small
    bands = band_samples(np.asarray(x, dtype=np.float64)) / np.float32(NOISE_GAIN)
    lo = int(LOW_HZ / (sample_rate / 2) * GRANULE)
    for phase in range(BANDS):
        a, s = near_zero_counts(granule_lines(bands[:, phase::BANDS]), lo, SMALL_LSB)
        at = (start + phase + BANDS * np.arange(len(a))) % GRANULE
        active += np.bincount(at, a, GRANULE)
        small += np.bincount(at, s, GRANULE)
    return active, small


def phase_band_samples(x: np.ndarray, first: int) -> np.ndarray:
    """(32, n) outputs of the analysis bands at samples ``first``, ``first + 32``, ... of
    ``x`` (``first`` >= 511: each needs its 511 samples of history)."""
    frames = sliding_window_view(x, TAPS)[first - (TAPS - 1)::BANDS]
    return (frames @ TAPS_BY_BAND).T.astype(np.float32)


def equal_pairs(lines: np.ndarray, lo: int) -> tuple[np.ndarray, np.ndarray]:
    """Per granule (last axis: its lines in 16-bit steps): how many pairs of lines from
    ``lo`` up, at most EQUAL_SPAN apart, are both at least EQUAL_MIN_LSB, and how many of
    those have sizes within EQUAL_LSB of each other."""
    mag = np.abs(lines[..., lo:])
    big = mag >= EQUAL_MIN_LSB
    last = np.flatnonzero(big.reshape(-1, big.shape[-1]).any(axis=0))
    width = last[-1] + 1 if len(last) else 0  # lines above the last big one pair with nothing
    mag, big = mag[..., :width], big[..., :width]
    both, same, gap = np.empty(mag.shape, bool), np.empty(mag.shape, bool), np.empty(mag.shape, mag.dtype)
    pairs, equal = np.zeros(mag.shape, np.uint8), np.zeros(mag.shape, np.uint8)  # per line: its pairs to the right
    for d in range(1, EQUAL_SPAN + 1):
        n = width - d
        if n <= 0:
            break
        b = np.logical_and(big[..., :-d], big[..., d:], out=both[..., :n])
        g = np.abs(np.subtract(mag[..., :-d], mag[..., d:], out=gap[..., :n]), out=gap[..., :n])
        e = np.logical_and(np.less(g, EQUAL_LSB, out=same[..., :n]), b, out=same[..., :n])
        np.add(pairs[..., :n], b, out=pairs[..., :n], casting="unsafe")
        np.add(equal[..., :n], e, out=equal[..., :n], casting="unsafe")
    return pairs.sum(axis=-1, dtype=int), equal.sum(axis=-1, dtype=int)


class Confirmation(NamedTuple):
    z: float  # how far the alignment stands above the 17 others of its phase (NaN: too little to count)
    alignment: int  # the candidate that stood highest (-1: none could be counted)
    windows: int  # windows with sound at that alignment


def phase_counts(x: np.ndarray, start: int, sample_rate: int, alignment: int) -> np.ndarray:
    """For a window (length, channels) in 16-bit steps that starts at sample ``start`` of the
    file: at the 18 granule alignments with the phase of ``alignment`` (column k is alignment
    ``alignment % 32 + 32 k``), the granules that read no sample before SEGMENT, counted over
    left, right, mid and side (a stereo window; mid and side from the left and right lines)
    or over the mix (any other layout). Rows: active lines, near-zero ones among them (see
    ``near_zero_counts``), pairs of big lines and equal pairs among them (``equal_pairs``)."""
    counts = np.zeros((4, GRANULE // BANDS))
    first = SEGMENT + TAPS - 1
    first += (alignment - start - first + TAPS - 1) % BANDS  # the first output in that phase
    if len(x) < first + GRANULE * 2:
        return counts
    mixes = [x[:, 0], x[:, 1]] if x.shape[1] == 2 else [x.mean(axis=1)]
    coded = [granule_lines(phase_band_samples(np.asarray(c, dtype=np.float64), first) / np.float32(NOISE_GAIN))
             for c in mixes]
    lines = np.empty((4 if len(coded) == 2 else 1, *coded[0].shape), coded[0].dtype)  # (channels, granules, 576)
    lines[:len(coded)] = coded
    if len(coded) == 2:  # mid and side, from the left and right lines, in place
        np.multiply(np.add(lines[0], lines[1], out=lines[2]), 0.5, out=lines[2])
        np.multiply(np.subtract(lines[0], lines[1], out=lines[3]), 0.5, out=lines[3])
    lo = int(LOW_HZ / (sample_rate / 2) * GRANULE)
    at = ((start + first - (TAPS - 1) + BANDS * np.arange(lines.shape[1])) % GRANULE) // BANDS
    for row, per_granule in enumerate((*near_zero_counts(lines, lo, SMALL_LSB), *equal_pairs(lines, lo))):
        counts[row] = np.bincount(at, per_granule.sum(axis=0), counts.shape[1])
    return counts


def confirm_z(active: np.ndarray, small: np.ndarray, alignment: int) -> float:
    """How many standard deviations the share of near-zero lines (or of equal pairs) at
    ``alignment`` stands above the 17 other alignments of its phase (NaN under MIN_ACTIVE
    active lines or pairs)."""
    k = (alignment % GRANULE) // BANDS
    if active[k] < MIN_ACTIVE:
        return float("nan")
    share = small / np.maximum(active, 1)
    return chance_z(share[k], np.delete(share, k), active[k])


def mp3_confirm_z(samples: np.ndarray, starts: list[int], sample_rate: int,
                  alignments: list[int]) -> tuple[Confirmation, Confirmation]:
    """Near-zero lines, then equal pairs: for each, the largest ``confirm_z`` over the
    candidate ``alignments``, pooled over the windows (see ``phase_counts``)."""
    candidates = list(dict.fromkeys(a % GRANULE for a in alignments))
    counts = np.zeros((len(candidates), 4, GRANULE // BANDS))
    used = np.zeros(len(candidates), int)
    for block, start in zip(samples, starts):
        x = block.astype(np.float64) / LSB
        for i, alignment in enumerate(candidates):
            c = phase_counts(x, int(start), sample_rate, alignment)
            counts[i] += c
            used[i] += bool(c[0].any())
    found = []
    for rows in ((0, 1), (2, 3)):
        best = Confirmation(float("nan"), -1, 0)
        for i, alignment in enumerate(candidates):
            z = confirm_z(counts[i, rows[0]], counts[i, rows[1]], alignment)
            if np.isfinite(z) and not best.z >= z:
                best = Confirmation(z, alignment, int(used[i]))
        found.append(best)
    return found[0], found[1]


def best_alignment(active: np.ndarray, small: np.ndarray) -> tuple[float, int]:
    """How many standard deviations the share of near-zero lines at the best alignment
    stands above the alignments at least EXCLUDE samples away, and that alignment
    (NaN when it has fewer than MIN_ACTIVE active lines)."""
    share = small / np.maximum(active, 1)
    best = int(np.argmax(share))
    if active[best] < MIN_ACTIVE:
        return float("nan"), best
    distance = np.abs((np.arange(GRANULE) - best + GRANULE // 2) % GRANULE - GRANULE // 2)
    return chance_z(share[best], share[distance >= EXCLUDE], active[best]), best


def mp3_grid_z(samples: np.ndarray, starts: list[int], sample_rate: int) -> tuple[float, int, int]:
    """The file's z (pooled over its windows), its best alignment and how many windows had
    sound to count. ``samples`` is (W, length, channels) float in [-1, 1]."""
    active, small, used = np.zeros(GRANULE), np.zeros(GRANULE), 0
    for block, start in zip(samples, starts):
        mono = block[:SEGMENT].astype(np.float64).mean(axis=1) / LSB
        a, s = alignment_counts(mono, int(start), sample_rate)
        active += a
        small += s
        used += bool(a.any())
    z, best = best_alignment(active, small)
    return z, best, used


def find_mp3_grid(samples: np.ndarray, starts: list[int], sample_rate: int, min_z: float,
                  confirm_min_z: float = float("inf"), equal_min_z: float = float("inf")) -> GridFinding | None:
    """An MP3 finding when at least GRID_WINDOWS windows had sound and the scan's z reaches
    ``min_z``, or, failing that, the second look (``mp3_confirm_z`` at the scan's best
    alignment and at CONFIRM_AT) reaches ``confirm_min_z`` in near-zero lines or
    ``equal_min_z`` in equal pairs."""
    z, best, used = mp3_grid_z(samples, starts, sample_rate)
    if used >= GRID_WINDOWS and np.isfinite(z) and z >= min_z:
        return GridFinding("MP3", z, used, "mid" if samples.shape[2] == 2 else "mix")
    if not (np.isfinite(confirm_min_z) or np.isfinite(equal_min_z)):
        return None
    where = "left, right, mid and side" if samples.shape[2] == 2 else "mix"
    for found, threshold in zip(mp3_confirm_z(samples, starts, sample_rate, [best, CONFIRM_AT]),
                                (confirm_min_z, equal_min_z)):
        if found.windows >= GRID_WINDOWS and found.z >= threshold:
            return GridFinding("MP3", found.z, found.windows, where)
    return None


def measure(samples: np.ndarray, starts, sample_rate: int, clear_z: float = float("inf")) -> list:
    """The detector (see :mod:`penthy_model.evidence`): the MP3 measure."""
    from . import CodecMeasure

    starts = list(starts)
    z, best, used = mp3_grid_z(samples, starts, sample_rate)
    found = [CodecMeasure("mp3", z, best, used, "mid" if samples.shape[2] == 2 else "mix", "near-zero lines")]
    where = "left, right, mid and side" if samples.shape[2] == 2 else "mix"
    for c, sign in zip(mp3_confirm_z(samples, starts, sample_rate, [best, CONFIRM_AT]),
                       ("near-zero lines", "equal pairs of lines")):
        found.append(CodecMeasure("mp3", c.z, c.alignment, c.windows, where, sign))
    found = [m for m in found if m.windows >= GRID_WINDOWS and np.isfinite(m.z)] or found[:1]
    return [max(found, key=lambda m: m.z if np.isfinite(m.z) else -np.inf)]
