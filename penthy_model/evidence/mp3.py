"""The MP3 frame grid: whether a file's samples were decoded from MP3.

An MP3 encoder splits the signal into 32 bands with the polyphase filter bank of ISO/IEC
11172-3, cuts each band into granules of 18 samples (576 input samples), transforms each with
an 18-line MDCT under a sine window, folds neighbouring bands together with the standard's
alias-reduction butterflies, and quantises the 576 lines. Lines that round to zero stay zero
in the decode. So the same analysis, re-applied to a decoded file where the encoder applied
it, finds those lines again as nothing but the decode's 16-bit rounding noise, between
neighbours that carry music; at any other alignment, and in genuine audio at every one, such
lines are only as common as chance. The same lines carry a second sign of the coder: a
decoder rebuilds every line of a scalefactor band as a whole power (4/3) of its quantised
value times one step, so at the coder's alignment nearby lines of the same value have
exactly equal sizes, far more often than chance makes them. That sign remains where the
encoder had bits to spare and zeroed few lines (320 kbit/s, sparse music). It is the MP3
counterpart of :mod:`.mdct` (AAC, Vorbis), whose plain MDCT cannot see through MP3's
two-stage filter bank.

The 576 alignments fall into 32 phases (alignment mod 32) of 18: the filter bank's outputs
at one phase serve all 18, so a phase is tested at 1/32 of the cost of all alignments.
``phase_counts`` counts, at the 18 alignments of a phase, near-zero lines and equal pairs in
left, right, mid and side together (a stereo encoder codes some granules as left/right and
others as mid/side, and the zeros are exact only in the channels it coded); the phase's
best alignment is measured against its 17 neighbours (``phase_z``). Where the granules lie
depends on encoder and decoder delays: LAME and shine decodes through ffmpeg, libsndfile
and LAME's own decoder all land at alignment 48, so that phase is tested first. A cheap
scan of all 576 alignments on a short stretch of the mix (``scan``) names one more candidate
phase, for decoders and edits that put the grid elsewhere. Only long blocks are modelled;
granules the encoder coded as short blocks just add nothing.

``measure`` screens a few windows first and stops when the answer is clear either way; only
an unclear file is read further (see :mod:`penthy_model.evidence`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from .stats import LOW_HZ, LSB, MIN_ACTIVE, REVIEW_Z, chance_z, shares_z, spread_windows

GRANULE = 576  # input samples per granule: 32 bands x 18 lines
BANDS, LINES = 32, 18
PHASE_ALIGNMENTS = GRANULE // BANDS  # 18 alignments share each phase (alignment mod 32)
TAPS = 512
SMALL_LSB = 0.5  # a line under this many 16-bit steps (noise-normalised) is "nothing there"
ACTIVE_LSB = 8.0  # ...counted only in a band whose 18 lines carry this much (RMS, in steps)
EXCLUDE = 24  # alignments this close to the scan's best are not part of its baseline
DECODER_AT = 48  # where LAME and shine decodes land (through ffmpeg, libsndfile, LAME's decoder)
SCAN_SAMPLES = 6000  # first samples of each window the scan of all 576 alignments reads (thorough only)
SCREEN_WINDOWS = 3  # windows the screen reads (spread over the track)...
SCREEN_SAMPLES = 3072  # ...this many samples of each, then of the others while unclear
SCREEN_CHUNKS = 6  # "absent" is believed only after this many windows' first samples (or all)...
SCREEN_ACTIVE = 4000  # ...with this many active lines, and pairs of big lines, at every alignment
# Equal neighbours: two lines of one band of a granule at most EQUAL_SPAN apart (mostly inside
# one scalefactor band), both at least EQUAL_MIN_LSB, whose sizes differ by under EQUAL_LSB
# (16-bit steps, noise-normalised as SMALL_LSB).
EQUAL_SPAN = 2
EQUAL_MIN_LSB = 6.0
EQUAL_LSB = 0.25
# RMS of a line for white noise of unit RMS: the transform's gain, so that thresholds are in
# 16-bit steps (tests/test_mp3_grid.py measures it).
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
_HALVES = (np.ascontiguousarray(LINE_TRANSFORMS[:, :LINES, :] / NOISE_GAIN),
           np.ascontiguousarray(LINE_TRANSFORMS[:, LINES:, :] / NOISE_GAIN))
# (512, 32): a frame of 512 samples ending at t, times this, is the bands' output at t
TAPS_BY_BAND = np.ascontiguousarray(FILTERS[:, ::-1].T).astype(np.float32)
_CI = np.array(ALIAS_CI)
_CS = (1 / np.sqrt(1 + _CI ** 2)).astype(np.float32)
_CA = (_CI / np.sqrt(1 + _CI ** 2)).astype(np.float32)


@lru_cache(maxsize=4)
def _filter_spectra(nfft: int) -> np.ndarray:
    return np.fft.rfft(FILTERS, nfft, axis=-1).astype(np.complex64)


def band_samples(x: np.ndarray) -> np.ndarray:
    """(32, len(x) - 511) outputs of the analysis bands at every sample (not decimated):
    column j is the output at sample 511 + j of ``x``, the first with a full history."""
    nfft = 1 << int(np.ceil(np.log2(len(x) + TAPS)))
    spectrum = np.fft.rfft(np.asarray(x, np.float32), nfft)[None] * _filter_spectra(nfft)
    return np.fft.irfft(spectrum, nfft, axis=-1)[:, TAPS - 1:len(x)].astype(np.float32)


def phase_band_samples(x: np.ndarray, first: int) -> np.ndarray:
    """Outputs of the analysis bands at samples ``first``, ``first + 32``, ... of ``x``
    (``first`` >= 511: each needs its 511 samples of history): (32, n) for mono ``x``,
    (channels, 32, n) for ``x`` (length, channels)."""
    x = np.asarray(x, np.float32)
    frames = sliding_window_view(x, TAPS, axis=0)[first - (TAPS - 1)::BANDS]  # (n, [channels,] 512)
    return np.moveaxis(frames @ TAPS_BY_BAND, 0, -1)


def granule_lines(bands: np.ndarray) -> np.ndarray:
    """Lines of the granules that start at every band sample of ``bands`` (..., 32, L), in
    16-bit steps normalised by NOISE_GAIN, after the alias-reduction butterflies, arranged
    by the granule's start mod 18: (..., 32 bands, 18 starts, G granules, 18 lines); start k,
    granule g begins at band sample k + 18 g (G = (L - 17) // 18 - 1)."""
    bands = np.ascontiguousarray(bands, dtype=np.float32)
    g = (bands.shape[-1] - (LINES - 1)) // LINES - 1
    if g < 1:
        return np.zeros(bands.shape[:-1] + (LINES, 0, LINES), np.float32)
    # halves[k, i] = bands[k + 18 i : k + 18 i + 18]: rows of 18 in memory order (a BLAS operand)
    step = bands.strides[-1]
    halves = as_strided(bands, bands.shape[:-1] + (LINES, g + 1, LINES),
                        bands.strides[:-1] + (step, LINES * step, step), writeable=False)
    top, bottom = (np.matmul(halves, h[:, None]) for h in _HALVES)  # (..., 32, 18, g + 1, 18)
    lines = np.add(top[..., :-1, :], bottom[..., 1:, :])
    # the butterflies: line 17 - i of each band with line i of the band above, all at once
    upper = lines[..., :-1, :, :, LINES - 1:LINES - 1 - len(ALIAS_CI):-1]
    lower = lines[..., 1:, :, :, :len(ALIAS_CI)]
    new_upper = upper * _CS + lower * _CA
    lower[...] = lower * _CS - upper * _CA
    upper[...] = new_upper
    return lines


def low_band(sample_rate: int) -> int:
    """The first band counted: the one holding LOW_HZ."""
    return int(LOW_HZ / (sample_rate / 2) * BANDS)


def line_counts(lines: np.ndarray, lo: int) -> np.ndarray:
    """(4, 18): per start (axis -3 of ``lines`` (..., 32, 18, G, 18), from band ``lo`` up)
    active lines (in bands whose 18 lines carry ACTIVE_LSB RMS), near-zero lines among them
    (under SMALL_LSB), pairs of big lines (see EQUAL_*) and equal pairs among them."""
    lines = lines[..., lo:, :, :, :]
    mag = np.abs(lines)
    work = np.square(mag)  # then the differences of neighbours: two arrays this size in all
    active = work.sum(axis=-1) >= LINES * ACTIVE_LSB ** 2  # (..., bands, 18, G)
    flat = mag.shape[:-2] + (-1,)  # each start's lines, granule after granule
    out = np.empty((4, PHASE_ALIGNMENTS))
    out[0] = _per_start(active) * LINES
    flag = np.less(mag, SMALL_LSB)
    flag &= active[..., None]
    out[1] = _per_start(flag.reshape(flat))
    # pairs along each start's lines, granule after granule (a pair across two granules'
    # edge is as likely equal as chance: it only dilutes)
    mag, both, diff = mag.reshape(flat), flag.reshape(flat), work.reshape(flat)
    big = mag >= EQUAL_MIN_LSB
    pairs = equal = 0
    for d in range(1, EQUAL_SPAN + 1):
        np.logical_and(big[..., :-d], big[..., d:], out=both[..., :-d])
        both[..., -d:] = False
        pairs = pairs + _per_start(both)
        step = np.subtract(mag[..., :-d], mag[..., d:], out=diff[..., :-d])
        close = np.abs(step, out=step) < EQUAL_LSB
        close &= both[..., :-d]
        equal = equal + _per_start(close)
    out[2], out[3] = pairs, equal
    return out


def _per_start(flags: np.ndarray) -> np.ndarray:
    """Per start (axis -2 of ``flags`` (..., 18, n)): how many are set. Counted a start at a
    time: a count over the whole of a slice is several times faster than one along axes."""
    return np.array([np.count_nonzero(flags[..., k, :]) for k in range(flags.shape[-2])])


def _mid_side(lines: np.ndarray) -> np.ndarray:
    """Left and right lines (2, ...) -> mid and side (2, ...); the transform is linear, so
    mid and side need no transform of their own."""
    out = np.empty_like(lines)
    np.multiply(np.add(lines[0], lines[1], out=out[0]), 0.5, out=out[0])
    np.multiply(np.subtract(lines[0], lines[1], out=out[1]), 0.5, out=out[1])
    return out


# Per sign, the rows of ``phase_counts`` holding the lines counted and those showing it.
SIGN_ROWS = {"near-zero lines": (0, 1), "equal pairs of lines": (2, 3)}


def phase_counts(x: np.ndarray, start: int, sample_rate: int, phase: int) -> np.ndarray:
    """For a stretch (length, channels) in 16-bit steps that starts at sample ``start`` of the
    file: the counts of ``line_counts`` at the 18 alignments of ``phase`` (column k is
    alignment ``phase + 32 k``), over left, right, mid and side (stereo) or the mix."""
    counts = np.zeros((4, PHASE_ALIGNMENTS))
    first = TAPS - 1 + (phase - start) % BANDS  # the first output whose granule has that phase
    if len(x) < first + GRANULE * 2:
        return counts
    mixes = x if x.shape[1] == 2 else x.mean(axis=1, keepdims=True)
    lines = granule_lines(phase_band_samples(mixes, first))  # (channels, 32, 18, G, 18)
    found = line_counts(lines, low_band(sample_rate))
    if len(lines) == 2:  # counts add up over channels: mid and side apart, with no copy of all four
        found += line_counts(_mid_side(lines), low_band(sample_rate))
    k0 = ((start + first - (TAPS - 1)) % GRANULE) // BANDS  # the alignment of start 0
    return np.roll(found, k0, axis=1)


def phase_z(counts: np.ndarray) -> tuple[float, int, str]:
    """From a phase's pooled counts (``phase_counts``): the larger of the near-zero and the
    equal-pair z of the phase's best alignment against its 17 neighbours, which alignment
    (0..17) and which sign (NaN when neither has MIN_ACTIVE lines or pairs there)."""
    best = (float("nan"), -1, "")
    for sign, (total, found) in SIGN_ROWS.items():
        n = counts[total]
        at = int(np.argmax(np.where(n >= MIN_ACTIVE, counts[found] / np.maximum(n, 1), -1.0)))
        z = shares_z(n, counts[found], at)  # NaN under MIN_ACTIVE there
        if np.isfinite(z) and not best[0] >= z:
            best = (z, at, sign)
    return best


def scan_counts(x: np.ndarray, start: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """All 576 alignments on a stretch of mono samples in 16-bit steps that starts at sample
    ``start`` of the file: per alignment (mod 576 from the file's start), its active lines
    and the near-zero ones among them (as ``line_counts``, in the mix alone)."""
    n, k = np.zeros(GRANULE), np.zeros(GRANULE)
    lines = every_alignment_lines(x)
    if lines is None:
        return n, k
    mag = np.abs(lines[:, low_band(sample_rate):])
    active = np.square(mag).sum(axis=-1) >= LINES * ACTIVE_LSB ** 2
    small = np.less(mag, SMALL_LSB)
    small &= active[..., None]
    small = small.reshape(small.shape[:-2] + (-1,))
    at = alignments(start)
    n[at] = np.stack([_per_start(a) for a in active]) * LINES
    k[at] = np.stack([_per_start(s) for s in small])
    return n, k


def every_alignment_lines(x: np.ndarray) -> np.ndarray | None:
    """The lines of the granules at every alignment of a mono stretch (16-bit steps):
    (32 phases, 32 bands, 18 starts, G, 18), phase p and start s being the file alignment
    ``alignments(start)[p, s]``; None when the stretch is too short."""
    bands = band_samples(x)  # column c: output at sample 511 + c, alignment (start + c) mod 576
    per_phase = bands.shape[1] // BANDS
    if per_phase < 3 * LINES:
        return None
    return granule_lines(bands[:, :per_phase * BANDS].reshape(BANDS, per_phase, BANDS).transpose(2, 0, 1))


def alignments(start: int) -> np.ndarray:
    """(32 phases, 18 starts): the file alignment mod 576 of ``every_alignment_lines``' granules
    for a stretch that starts at sample ``start`` of the file."""
    return (start + np.arange(BANDS)[:, None] + BANDS * np.arange(PHASE_ALIGNMENTS)[None, :]) % GRANULE


def best_alignment(n: np.ndarray, k: np.ndarray) -> tuple[float, int]:
    """How many standard deviations the best alignment's share of near-zero lines stands
    above the alignments at least EXCLUDE away, and that alignment (NaN, -1 under
    MIN_ACTIVE active lines there)."""
    share = k / np.maximum(n, 1)
    best = int(np.argmax(share))
    if n[best] < MIN_ACTIVE:
        return float("nan"), -1
    distance = np.abs((np.arange(GRANULE) - best + GRANULE // 2) % GRANULE - GRANULE // 2)
    return chance_z(share[best], share[distance >= EXCLUDE], n[best]), best


class Finding(NamedTuple):
    z: float  # NaN: too little sound at any tested alignment
    alignment: int  # 0..575 (-1: none)
    sign: str
    windows: int  # windows with sound counted


def mp3_z(samples: np.ndarray, starts, sample_rate: int, clear_z: float = np.inf,
          absent_z: float = -np.inf, thorough: bool = False) -> Finding:
    """The MP3 finding for windows ``samples`` (W, length, channels) float in [-1, 1] that
    start at ``starts``.

    Quick (the default): the screen counts the decoders' phase in the first SCREEN_SAMPLES
    of each window (SCREEN_WINDOWS spread over the track first) and stops once the z is at
    least ``clear_z``, or under ``absent_z`` with SCREEN_CHUNKS windows and SCREEN_ACTIVE
    active lines and pairs counted at every alignment (a granule the encoder coded as short
    blocks shows nothing: one loud stretch is not enough); else the rest of every window. ``thorough``: first the
    scan of all 576 alignments on the first SCAN_SAMPLES of every window names a candidate,
    then the decoders' phase and the candidate's are counted in the rest of every window
    (so the candidate is measured on samples it was not chosen on)."""
    w = len(samples)
    used = np.zeros(w, bool)
    phases = [DECODER_AT % BANDS]
    skip = 0
    if thorough:
        n, k = np.zeros(GRANULE), np.zeros(GRANULE)
        for i in range(w):
            a, b = scan_counts(samples[i, :SCAN_SAMPLES].mean(axis=1) / np.float32(LSB), int(starts[i]), sample_rate)
            n += a
            k += b
        candidate = best_alignment(n, k)[1]
        if candidate >= 0 and candidate % BANDS not in phases:
            phases.append(candidate % BANDS)
        skip = SCAN_SAMPLES - (TAPS - 1)
    counts = np.zeros((len(phases), 4, PHASE_ALIGNMENTS))

    def count(i: int, lo: int, hi: int) -> None:
        x = samples[i, lo:hi].astype(np.float32) / np.float32(LSB)
        for p, phase in enumerate(phases):
            c = phase_counts(x, int(starts[i]) + lo, sample_rate, phase)
            counts[p] += c
            used[i] |= bool(c[0].any())

    def best() -> Finding:
        found = Finding(float("nan"), -1, "", int(used.sum()))
        for p, phase in enumerate(phases):
            z, k, sign = phase_z(counts[p])
            if np.isfinite(z) and not found.z >= z:
                found = Finding(z, phase + BANDS * k, sign, int(used.sum()))
        return found

    if w == 0:
        return best()
    spread = spread_windows(w, SCREEN_WINDOWS).tolist()
    order = list(dict.fromkeys(spread + list(range(w))))
    if thorough:
        chunks = [(i, skip, samples.shape[1]) for i in order]
    else:  # the first SCREEN_SAMPLES of each window, the screened windows first; then the rest
        rest = SCREEN_SAMPLES - (TAPS - 1)  # with the history its first granule needs
        chunks = [(i, 0, SCREEN_SAMPLES) for i in order] + [(i, rest, samples.shape[1]) for i in order]
    for n, (i, lo, hi) in enumerate(chunks, 1):
        count(i, lo, hi)
        if not thorough and n >= len(spread):
            found = best()
            if found.z >= clear_z or (found.z < absent_z and n >= min(SCREEN_CHUNKS, w) and counts[:, ::2].min() >= SCREEN_ACTIVE):
                return found
    return best()


SHARP_WINDOWS = 4  # windows ``sharp_z`` reads whole (each of its three alignments costs a full count)


def sharp_z(samples: np.ndarray, starts, sample_rate: int, alignment: int, sign: str) -> float:
    """How far the z at ``alignment`` (mod 576) stands above the z one sample to either side,
    all three counted on every sample of SHARP_WINDOWS windows spread over the track (those
    of a quick screen and others). A coder's grid is one sample wide
    (selection MP3 decodes: 83-393 at the alignment, under 6 one sample off); a genuine
    look-alike is a hump (FM synthesis whose sidebands pair up: 7.3 at the screen's
    alignment, 7.5 and 7.0 beside it), and a screen's chance high is not there at all."""
    z = []
    read = spread_windows(len(samples), SHARP_WINDOWS)
    for d in (-1, 0, 1):
        a = (alignment + d) % GRANULE
        counts = np.zeros((4, PHASE_ALIGNMENTS))
        for x, start in zip(samples[read], np.asarray(starts)[read]):
            counts += phase_counts(x.astype(np.float32) / np.float32(LSB), int(start), sample_rate, a % BANDS)
        total, found = SIGN_ROWS[sign]
        z.append(shares_z(counts[total], counts[found], a // BANDS))
    side = max((v for v in (z[0], z[2]) if np.isfinite(v)), default=0.0)
    return z[1] - max(side, 0.0)


def measure(samples: np.ndarray, starts, sample_rate: int, clear_z: float = np.inf,
            absent_z=None, thorough: bool = False, requires=None) -> list:
    """The detector (see :mod:`penthy_model.evidence`): the MP3 measure. Where it reaches
    REVIEW_Z, its z is at most ``sharp_z``: the grid must stand above its neighbours."""
    from . import CodecMeasure

    absent = -np.inf if absent_z is None else absent_z["mp3"]
    found = mp3_z(samples, starts, sample_rate, clear_z, absent, thorough)
    if found.z >= REVIEW_Z and found.alignment >= 0:
        found = found._replace(z=min(found.z, sharp_z(samples, starts, sample_rate, found.alignment, found.sign)))
    where = "left, right, mid and side" if samples.shape[2] == 2 else "mix"
    return [CodecMeasure("mp3", found.z, found.alignment if found.alignment >= 0 else None, found.windows, where,
                         found.sign or "near-zero lines")]
