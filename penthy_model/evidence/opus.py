"""The Opus (CELT) frame grid: in a decode kept at 48 kHz, and its frame edges in one resampled.

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
and opusdec's trimming of the encoder's pre-skip put libopus's grid at 228 (``KNOWN``), and
only there is it measured: a scan of all 960 alignments with one block each missed it (most
blocks have nothing above 20 kHz to leak), and more blocks cost more than the bars allow.

A decode resampled afterwards (to 44.1 kHz, as most Opus-to-FLAC transcodes are) has no grid
left to cut at, but it keeps the grid in time: within a frame's flat part the decode is a
sum of cosines under 20 kHz, and what leaks above 20 kHz comes from the window's slopes, in
a burst of about 2.5 ms every 20 ms, at the same place in every frame. ``burst_z`` reads the
band from 20.2 kHz to 23.5 kHz (or 0.98 of Nyquist), at any rate where 20 ms is a whole
number of samples, at the slopes of the known grid (648 samples at 48 kHz, give or take
1 ms): per frame with energy there, the log ratio of its energy in 2.5 ms to the same 2.5 ms
two slopes before and after, and how far their mean over frames stands above 0 (a t
statistic). Three things make bursts that come back every 20 ms in genuine audio, and
each is taken out: a wave whose period divides 40 ms (a 50 Hz square; the part of the band
that repeats exactly every 40 ms, its median at each place, is removed, and the burst must
stand with and without it); a click, a gate or a note's attack on a tempo grid (those reach
below 20 kHz too: the same statistic in the band from 16 to 19.5 kHz, at the same place, is
taken off); a few loud frames (each frame counts at most one e-fold). Measured on the
selection decodes of issues 25 and 26: libopus 96-256 kbit/s decodes at 44.1 and 48 kHz z 6-75
where anything near 20 kHz leaks; genuine audio and other codecs' decodes at most 2.84.

A decode leaks in few frames, so the z grows with the audio read: a file left undecided is
read in twice the windows where the track holds them (``evidence.WIDE``). Decodes of 90 s of
FM, additive, plucked and electronic music at 128-192 kbit/s read z -0.3..17.9 on 12 windows
and 5.1..33.6 on 48; genuine files and other codecs' decodes of the selection sets read at
most 3.25 on 24 windows (the naming level is twice that).

A decode of a low-passed source (a steep mastering filter, a 32 kHz master) has nothing near
20 kHz to leak. But the coder fills the bands above the source's cutoff with its own noise,
and at every frame edge the slopes spread the music under the cutoff over it: ``lowpass_z``
reads the frame edges in the band from 0.3 to 3.3 kHz above the steepest drop of the file's
mean spectrum between 12 and 19.5 kHz, with a control band as far under it. Music cut hard on
the frame grid (a gate) splatters over the cutoff too, but its band under the cutoff falls or
rises at the same places: where that band's t reaches 4 either way, the measure says nothing
(and where it moves 13 or more, as no coder's frame edges move it, neither do the other two).
It is a measure of its own (grid "opus_lowpass") with levels of its own: the selection's
genuine files read at most 3.06, other codecs' decodes 2.79; libopus decodes of low-passed
sources up to 11.5 (most of those the frame edges above 20 kHz cannot see). Dull or quiet
music low-passed under 12 kHz leaves the same trace just above its cutoff: the edge is also
looked for between 6 and 12 kHz, a third measure (grid "opus_lowpass_low") with levels of its
own (issue 26's selection: genuine files at most 3.22, other codecs' decodes 3.49; sparse
decodes kept at 48 kHz 5.0-6.6 when read in 24 windows).

Those levels are high because the frame edges of 20 ms alone do not say which coder made
them, and chance lifts some other codecs' decodes to 3.5. A decode kept at 48 kHz says more:
CELT codes nothing above 20 kHz, so there only the decode's own rounding is left, over the
coder's noise under it. In the windows' mean spectrum its floor steps down sharply at 20 kHz
and stays level above (``band_end_step``: 2.9-7.2 dB in issue 26's sparse decodes, 3 dB being
two roundings over one); no genuine file or other codec's decode of the selection has that
shape at 2.5 dB or more (the largest, 1.37 dB, an AAC decode). Where it holds, the stronger of
the two low-pass measures is a fourth measure (grid "opus_bandend") that names Opus from the
level at which they already decide a file transcoded.

Kept at 48 kHz, a decode of quiet music also shows the grid under 20 kHz (``zeros_z``, grid
"opus_zeros"): CELT codes each band as a gain times a few whole pulses, so re-applied at the
grid, the band over quiet or absent music holds mostly empty coefficients, while 64 or 128
samples off it each takes a share of its neighbours' coded noise. The same difference at the
frame's other alignments, 64 samples apart, is what the grid's is measured against: a steady
tone's pattern comes round among them (read against the shifts alone, block by block, an FM
capture's 19 kHz pilot stood out at z 13-21). Shifts of whole multiples of 32 samples keep a
subband coder's (MP2, Musepack) own grid alike on both sides. Issues 25 and 26's selection:
libopus decodes 1.6-19.3 (most 8.5-13), genuine files and other codecs' decodes at most 4.16.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from penthy_model.constants import DETECTOR_REQUIRES, OPUS_BAND_END_DB
from penthy_model.evidence.mdct import mdct
from penthy_model.evidence.stats import LSB, REVIEW_Z, spread_windows

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
# The frame-edge bursts (``burst_z``), at any rate where a 20 ms frame is whole samples:
FRAME_SECONDS = 0.02
SLOPE_SECONDS = OVERLAP / SAMPLE_RATE  # 2.5 ms: a burst's length...
SLOPE_LEAD = (FRAME - OVERLAP) // 2  # a block's first slope starts this far into it (48 kHz samples)
BURST_AT = (KNOWN[0] + SLOPE_LEAD) / SAMPLE_RATE  # ...so a burst starts here, in s mod 20 ms
BURST_SLACK = 0.001  # tried this far either side (a resampler's delay), in steps of a fifth of a burst
BURST_BAND_HZ = (20200.0, 23500.0)  # the band read (capped at BURST_NYQUIST of Nyquist)...
CONTROL_BAND_HZ = (16000.0, 19500.0)  # ...and the band under 20 kHz that must not burst with it
BURST_NYQUIST = 0.98
MIN_BAND_HZ = 500.0  # a narrower band (a 32 kHz file): nothing to read
BURST_LEVEL = 0.05  # a frame counts where the band carries this much (16-bit steps squared per
# sample and channel); 16-bit dither puts 0.03 in it at 44.1 kHz
BURST_FLOOR = 0.01  # energy floor of the log ratios
BURST_CLIP = 1.0  # no frame counts for more than this many e-folds
MIN_SPREAD = 0.25  # the t statistic's spread is at least this (a wave without dither has none)
MIN_FRAMES = 20  # frames with energy in the band needed for a z
REPEAT_PERIODS = 256  # the 40 ms repeats are the median of at most this many periods, spread evenly
# The frame-edge bursts just above the source's own low-pass (``lowpass_z``):
LOWPASS_GRID = "opus_lowpass"  # the measure's grid: its levels in the policy are its own
LOW_LOWPASS_GRID = "opus_lowpass_low"  # the same measure above a source's low-pass under 12 kHz
EDGE_RANGE_HZ = (12000.0, 19500.0)  # where the source's low-pass is looked for...
LOW_EDGE_RANGE_HZ = (6000.0, 12000.0)  # ...and, for the grid LOW_LOWPASS_GRID, a low-pass of quiet, dull music...
EDGE_FFT_SECONDS = 4096 / 44100  # ...in the mean spectrum of frames this long...
EDGE_SIDE_HZ = 500.0  # ...as the steepest drop from the mean dB over this much under a frequency
EDGE_GAP_HZ = 100.0  # to the mean over as much above it, each this far from it
ABOVE_EDGE_HZ = (300.0, 3300.0)  # the band read above the edge (and the control band, as far under it)
LOWPASS_TOP_HZ = 19900.0  # under CELT's last band, where ``burst_z`` reads
CONTROL_VETO = 4.0  # a control band whose t reaches this either way at a place tried vetoes the measure
MOVES_VETO = 13.0  # the band under the source's edge moving this much at the frame edges vetoes the other
# Opus measures too (2 x 6.4, the most it moves in the selection's Opus decodes; a 50 Hz gate: about 60)
# CELT's band end in the noise floor (``band_end_step``), at 48 kHz only, from the windows' mean spectrum:
BANDEND_GRID = "opus_bandend"  # the low-pass measures' frame edges where the floor has CELT's band end
STEP_BANDS_HZ = ((19000.0, 19900.0), (20100.0, 23500.0))  # the step: the floor under 20 kHz over the floor above
SHARP_BANDS_HZ = ((19750.0, 19950.0), (20050.0, 20250.0))  # at least SHARP_SHARE of it within 100 Hz of 20 kHz...
SHARP_SHARE = 0.75
FLAT_BANDS_HZ = ((20100.0, 21500.0), (22000.0, 23500.0))  # ...and a floor above that stays level (within FLAT_DB)
FLAT_DB = 0.5  # (the least step that counts is the policy's: ``detect``'s ``requires``, constants.OPUS_BAND_END_DB)
# Small coefficients at CELT's grid under 20 kHz (``zeros_z``, 48 kHz only):
ZEROS_GRID = "opus_zeros"  # the measure's grid: its levels in the policy are its own
ZERO_BINS = (500, 790)  # the band read, 12.5 to 19.75 kHz: where quiet or sparse music leaves CELT's coded noise
ZERO_STEP = 64  # alignments read 64 samples apart: the grid and FRAME / ZERO_STEP - 1 controls...
ZERO_SHIFTS = (-2, -1, 1, 2)  # ...each against its neighbours this many steps away (a subband coder's own
# 32-sample grid, MP2's or Musepack's, looks alike at each)
ZERO_SCREEN_WINDOWS = 3  # read in this many windows first (spread over the track)...
ZERO_SCREEN_Z = 2.0  # ...and in all of them only where the z there reaches this (a decode's stands in every window)
ZERO_EPS = 0.05  # added to each coefficient's size before its log (the decode's rounding leaves about 0.5)
ZERO_CHANNELS = ("mix", "side")


@lru_cache(maxsize=1)
def celt_window() -> np.ndarray:
    """The 1920-sample window of a 960-coefficient CELT MDCT: zeros, a 120-sample
    power-complementary slope, ones, the slope reversed, zeros."""
    n = np.arange(OVERLAP)
    slope = np.sin(0.5 * np.pi * np.sin(np.pi * (n + 0.5) / (2 * OVERLAP)) ** 2)
    return np.concatenate([np.zeros(SLOPE_LEAD), slope, np.ones(FRAME - OVERLAP), slope[::-1], np.zeros(SLOPE_LEAD)])


def _preemphasised(v: np.ndarray) -> np.ndarray:
    """One channel ``v`` pre-emphasised as CELT does (float32); sample i of the result is
    sample i + 1 of ``v``."""
    return (v[1:] - PREEMPHASIS * v[:-1]).astype(np.float32)


def _emphasised(x: np.ndarray) -> np.ndarray:
    """The mix of a window (length, channels) in 16-bit steps, pre-emphasised (``_preemphasised``)."""
    mix = x[:, 0].astype(np.float64)
    for c in range(1, x.shape[1]):  # the channels added (a mean over the short axis is slow)
        mix += x[:, c]
    mix *= 1.0 / (x.shape[1] * LSB)
    return _preemphasised(mix)


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


def zeros_z(samples: np.ndarray, starts: list[int], sample_rate: int) -> tuple[float, str]:
    """(z, channel): how much smaller the coefficients from 12.5 to 19.75 kHz (ZERO_BINS) are at
    CELT's grid than at its neighbours ZERO_SHIFTS steps of ZERO_STEP samples off, against the
    same at the other alignments ZERO_STEP apart, in the channel where that stands out most;
    (NaN, "") at other rates than 48 kHz or under MIN_BLOCKS blocks at an alignment.

    CELT codes each band as a gain times a vector of whole pulses: where music is quiet or
    absent (above a sparse source's own low-pass) the few pulses leave most coefficients empty,
    and cut again at the grid they come back as the decode's rounding alone; cut anywhere else
    every coefficient carries a share of its neighbours' coded noise. Per block, L = the mean
    log(|c| + ZERO_EPS) over the band; at each alignment a, S(a) = the mean over blocks of L at
    a less the mean of L at its neighbours; z = how far S at the grid stands from S at the
    other alignments (their mean, standard deviation). A steady tone makes L depend on the
    alignment alike in every block (its cycles per frame are whole at any multiple of 50 Hz),
    but the same way at the other alignments its period brings round, so they stand as high.
    CELT codes mid and side band by band: each of ZERO_CHANNELS is read (mid as the mix)."""
    if sample_rate != SAMPLE_RATE or _too_short(samples, sample_rate):
        return float("nan"), ""
    return _zeros_from(*_zero_sums(samples, starts))


def _zero_sums(samples: np.ndarray, starts: list[int]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """For ``zeros_z``, over these windows: per channel, the sum over blocks of the difference
    at each alignment (the grid's first), and how many blocks each alignment has. Sums over
    different windows add up."""
    step, per = ZERO_STEP, FRAME // ZERO_STEP  # alignments a frame holds, the grid's first
    near = np.array(ZERO_SHIFTS)
    window = celt_window()
    lo, hi = ZERO_BINS
    sums = {c: np.zeros(per) for c in ZERO_CHANNELS}
    counts = np.zeros(per)
    for x, start in zip(samples, starts):
        x = x.astype(np.float64) * (1.0 / LSB)
        first = (KNOWN[0] - (int(start) + 1)) % FRAME  # the grid's first block in the pre-emphasised samples
        n = (x.shape[0] - 1 - 2 * FRAME - first) // step + 1  # blocks every ``step`` samples
        j = np.arange(-near.min(), n - near.max())  # blocks with all their neighbours inside the window
        if len(j) == 0:
            continue
        mid = x.mean(axis=1)
        views = {"mix": mid} if x.shape[1] == 1 else {"mix": mid, "side": 0.5 * (x[:, 0] - x[:, 1])}
        for name, v in views.items():
            blocks = sliding_window_view(_preemphasised(v), 2 * FRAME)[first + step * np.arange(n)]
            level = np.log(np.abs(mdct(blocks, window)[:, lo:hi]) + ZERO_EPS).mean(axis=1)
            diff = level[j] - level[j[:, None] + near[None, :]].mean(axis=1)
            sums[name] += np.bincount(j % per, diff, minlength=per)
        counts += np.bincount(j % per, minlength=per)
    return sums, counts


def _zeros_from(sums: dict[str, np.ndarray], counts: np.ndarray) -> tuple[float, str]:
    """``zeros_z``'s (z, channel) from ``_zero_sums``."""
    best = (float("nan"), "")
    if counts.min() < MIN_BLOCKS:
        return best
    for name, total in sums.items():
        if not total.any():
            continue
        s = total / counts
        spread = s[1:].std()
        if not spread > 0:
            continue
        z = float((s[1:].mean() - s[0]) / spread)  # smaller at the grid: a positive z
        if not best[0] >= z:
            best = (z, name)
    return best


def _fast_length(n: int) -> int:
    """The smallest length of at least ``n`` with no prime factor above 5 (a fast FFT)."""
    best, p2 = 2 * n, 1
    while p2 < 2 * n:
        p3 = p2
        while p3 < 2 * n:
            p5 = p3
            while p5 < n:
                p5 *= 5
            best = min(best, p5)
            p3 *= 3
        p2 *= 2
    return best


def _spectrum(x: np.ndarray) -> tuple[np.ndarray, int]:
    """(spectrum, FFT length) of a window (length, channels) in 16-bit steps, for ``_bands``."""
    size = _fast_length(len(x))
    return np.fft.rfft(x.astype(np.float64) * (1.0 / LSB), size, axis=0), size


class WindowSpectra:
    """Each window's ``_spectrum``, made the first time a measure asks for it and kept, so the
    measures that cut bands out of the same windows share one forward FFT per window."""

    def __init__(self, samples: np.ndarray):
        self._samples, self._made = samples, {}

    def of(self, i: int) -> tuple[np.ndarray, int]:
        if i not in self._made:
            self._made[i] = _spectrum(self._samples[i])
        return self._made[i]


def _bands(x: np.ndarray, sample_rate: int, *bands: tuple[float, float],
           spectrum: tuple[np.ndarray, int] | None = None) -> list[np.ndarray]:
    """The parts of a window (length, channels) in each band (lo, hi) Hz, in 16-bit steps
    (``spectrum``: the window's ``_spectrum``, where already made)."""
    spectrum, size = spectrum or _spectrum(x)
    hz = np.fft.rfftfreq(size, 1.0 / sample_rate)
    return [np.fft.irfft(np.where(((hz >= lo) & (hz <= hi))[:, None], spectrum, 0), size, axis=0)[:len(x)]
            for lo, hi in bands]


def _without_repeats(bands: list[np.ndarray], starts, period: int) -> list[np.ndarray]:
    """The windows' band less what repeats exactly every ``period`` samples of the file: its
    median, over every whole period of every window (at most REPEAT_PERIODS of them, spread
    evenly), at each place in the period (a wave whose period divides it; next to nothing of
    anything else)."""
    from .repeats import laid_along, stack_periods

    stack = stack_periods(bands, starts, period, min_periods=1)
    if stack is None:
        return bands
    stack = stack[::-(-len(stack) // REPEAT_PERIODS)]
    repeat = np.median(stack, axis=0)
    return [h - laid_along(repeat, start, len(h)) for h, start in zip(bands, starts)]


def burst_t(bands: list[np.ndarray], starts, period: int, at: np.ndarray, slope: int,
             level_min: float = BURST_LEVEL) -> np.ndarray:
    """Per place in ``at`` (file sample mod ``period``): the t statistic, over frames whose
    band carries ``level_min``, of log(band energy in ``slope`` samples from there / the
    geometric mean of the same 2 slopes before and after), each clipped to BURST_CLIP; NaN
    under MIN_FRAMES such frames."""
    n, total, square = (np.zeros(len(at)) for _ in range(3))
    reach = 2 * slope
    for h, start in zip(bands, starts):
        e = np.einsum("ij,ij->i", h, h)
        if len(e) < period + 2 * reach + slope:
            continue
        cum = np.concatenate([[0.0], np.cumsum(e)])
        level = np.log((cum[slope:] - cum[:-slope]) / slope + BURST_FLOOR)  # from each sample on
        lo, hi = max(reach, period // 2), min(len(level) - reach, len(e) - (period + 1) // 2)
        first = lo + (at - int(start) - lo) % period  # each place's first frame
        j = first[:, None] + period * np.arange((hi - lo) // period + 1)[None, :]
        valid = j < hi
        j = np.where(valid, j, lo)
        ratio = np.clip(level[j] - 0.5 * (level[j - reach] + level[j + reach]), -BURST_CLIP, BURST_CLIP)
        around = (cum[j + (period + 1) // 2] - cum[j - period // 2]) / period
        keep = valid & (around >= level_min * h.shape[1])
        n += keep.sum(axis=1)
        total += np.where(keep, ratio, 0).sum(axis=1)
        square += np.where(keep, ratio * ratio, 0).sum(axis=1)
    mean = total / np.maximum(n, 1)
    spread = np.maximum(np.sqrt(np.maximum(square / np.maximum(n, 1) - mean * mean, 0)), MIN_SPREAD)
    return np.where(n >= MIN_FRAMES, mean * np.sqrt(n) / spread, np.nan)


def burst_band(sample_rate: int) -> tuple[float, float]:
    """The band the bursts are read in at ``sample_rate`` (Hz): BURST_BAND_HZ, capped at
    BURST_NYQUIST of Nyquist."""
    return BURST_BAND_HZ[0], min(BURST_BAND_HZ[1], BURST_NYQUIST * sample_rate / 2)


def frame_edges(samples: np.ndarray, sample_rate: int, control: bool = True, spectra: WindowSpectra | None = None):
    """(period, slope, per window the band above 20 kHz, and with ``control`` also the band
    under it, in 16-bit steps) for ``burst_z``; None where 20 ms is not a whole number of
    samples or the rate leaves no band above 20 kHz. ``spectra``: the windows' spectra, to share."""
    period = sample_rate * FRAME_SECONDS
    band = burst_band(sample_rate)
    if samples is None or abs(period - round(period)) > 1e-9 or band[1] - band[0] < MIN_BAND_HZ:
        return None
    period, slope = int(round(period)), int(round(SLOPE_SECONDS * sample_rate))
    ranges = [band] + ([CONTROL_BAND_HZ] if control else [])
    bands = [_bands(x, sample_rate, *ranges, spectrum=spectra.of(i) if spectra else None)
             for i, x in enumerate(samples)]
    return period, slope, bands if control else [b[0] for b in bands]


def _places(sample_rate: int) -> tuple[int, int, np.ndarray]:
    """(period, slope, the places tried mod period) of the frame edges at ``sample_rate``."""
    period, slope = int(round(sample_rate * FRAME_SECONDS)), int(round(SLOPE_SECONDS * sample_rate))
    slack = int(round(BURST_SLACK * sample_rate))
    at = int(round(BURST_AT * sample_rate)) + np.arange(-slack, slack + 1, max(1, slope // 5))
    return period, slope, at % period


def _under_t(control: list[np.ndarray], starts, sample_rate: int) -> np.ndarray:
    """Per place tried, the t of a control band less its 40 ms repeats, every frame counted
    (0 where too few)."""
    period, slope, at = _places(sample_rate)
    t = burst_t(_without_repeats(control, starts, 2 * period), starts, period, at, slope, level_min=-1.0)
    return np.nan_to_num(t, nan=0.0)


def _checked_t(both, starts, sample_rate: int, level_min: float, either_way: bool = False,
               under_t: Callable[[], np.ndarray] | None = None) -> float:
    """The frame edges' t of ``both`` (per window: (the band read, the control band)), checked
    as ``burst_z`` says: the largest, over the places tried, of the smaller t of the band as
    read and less its 40 ms repeats, less the control band's t there (where positive); NaN with
    too few frames, and with ``either_way`` where the control band's t reaches CONTROL_VETO
    either way at any place tried (the music there rises or falls at the frame edges). A t
    under REVIEW_Z is not checked: the checks only lower it, and no Opus level is under it.
    ``under_t``: gives the control band's t (``_under_t``) where it is already kept."""
    period, slope, at = _places(sample_rate)
    bands = [b for b, _ in both]
    t = burst_t(bands, starts, period, at, slope, level_min=level_min)
    if np.nanmax(t, initial=-np.inf) >= REVIEW_Z:  # the checks only lower t, and nothing is decided under it
        t = np.minimum(t, burst_t(_without_repeats(bands, starts, 2 * period), starts, period, at, slope,
                                  level_min=level_min))
        under = under_t() if under_t else _under_t([c for _, c in both], starts, sample_rate)
        if either_way and np.abs(under).max() >= CONTROL_VETO:
            return float("nan")  # the music itself changes at the frame edges: the bursts say nothing
        t = t - np.maximum(under, 0.0)
    return float(np.nanmax(t)) if np.isfinite(t).any() else float("nan")


def burst_z(samples: np.ndarray, starts, sample_rate: int, spectra: WindowSpectra | None = None) -> float:
    """How far the band above 20 kHz bursts at CELT's frame edges, in every frame (see the
    module): the largest, over the places tried, of the smaller t of the band as read and of
    the band less its 40 ms repeats, less the band under 20 kHz's t there (where positive).
    NaN where 20 ms is not a whole number of samples, where the rate leaves no band above
    20 kHz, or with too few frames carrying it."""
    found = frame_edges(samples, sample_rate, spectra=spectra)
    if found is None:
        return float("nan")
    return _checked_t(found[2], starts, sample_rate, BURST_LEVEL)


def mean_spectrum(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float] | None:
    """(dB per bin, Hz per bin) of the windows' mean spectrum in frames of EDGE_FFT_SECONDS;
    None for windows shorter than a frame."""
    n = int(round(EDGE_FFT_SECONDS * sample_rate))
    mix = samples.mean(axis=2)
    usable = mix.shape[1] // n * n
    if usable == 0:
        return None
    spectrum = np.fft.rfft(mix[:, :usable].reshape(-1, n) * np.hanning(n), axis=-1)
    return 10 * np.log10((spectrum.real ** 2 + spectrum.imag ** 2).mean(axis=0) + 1e-20), sample_rate / n


def source_edge(samples: np.ndarray, sample_rate: int, hz_range: tuple[float, float] = EDGE_RANGE_HZ,
                mean: tuple[np.ndarray, float] | None = None) -> float | None:
    """Where the windows' mean spectrum (``mean_spectrum``, or ``mean`` where already made)
    drops most steeply in ``hz_range`` (Hz): the frequency with the largest mean dB over
    EDGE_SIDE_HZ under it (EDGE_GAP_HZ away) less the mean over as much above it; None for
    windows shorter than a frame."""
    mean = mean or mean_spectrum(samples, sample_rate)
    if mean is None:
        return None
    db, step = mean
    side, gap = int(round(EDGE_SIDE_HZ / step)), int(round(EDGE_GAP_HZ / step))
    i = np.arange(int(hz_range[0] / step), int(hz_range[1] / step))
    if i[-1] + gap + side > len(db) or i[0] < gap + side:
        return None
    cum = np.concatenate([[0.0], np.cumsum(db)])
    drop = (cum[i - gap] - cum[i - gap - side]) - (cum[i + gap + side] - cum[i + gap])
    return float(i[np.argmax(drop)] * step)


def lowpass_band(edge: float, sample_rate: int) -> tuple[float, float]:
    """The band read above a source's low-pass at ``edge`` Hz: ABOVE_EDGE_HZ over it, under
    LOWPASS_TOP_HZ and BURST_NYQUIST of Nyquist."""
    return edge + ABOVE_EDGE_HZ[0], min(edge + ABOVE_EDGE_HZ[1], LOWPASS_TOP_HZ, BURST_NYQUIST * sample_rate / 2)


@dataclass
class EdgeRead:
    """What ``lowpass_z`` and ``edge_moves`` read at a source's low-pass (``read_edge``)."""

    edge: float  # Hz (``source_edge``)
    above: list | None  # per window the band above it (``lowpass_band``); None where under MIN_BAND_HZ wide
    under: list  # per window the control band under it (``under_edge``)
    starts: list  # where the windows start (file samples)
    sample_rate: int

    @cached_property
    def under_t(self) -> np.ndarray:
        """The control band's t per place tried (``_under_t``), worked out once for both readers."""
        return _under_t(self.under, self.starts, self.sample_rate)


def _too_short(samples: np.ndarray | None, sample_rate: int) -> bool:
    """Whether there is too little to count: no windows, or windows under 8 frames."""
    return samples is None or len(samples) == 0 or samples.shape[1] < 8 * sample_rate * FRAME_SECONDS


def read_edge(samples: np.ndarray, starts, sample_rate: int, hz_range: tuple[float, float] = EDGE_RANGE_HZ,
              mean: tuple[np.ndarray, float] | None = None, spectra: WindowSpectra | None = None
              ) -> EdgeRead | None:
    """The source's low-pass (looked for in ``hz_range``) and the bands either side of it, in
    16-bit steps; None where 20 ms is not a whole number of samples, the windows are too short,
    or no edge can be placed. ``mean``: ``mean_spectrum``'s, and ``spectra`` the windows' own
    spectra, where already made."""
    period = sample_rate * FRAME_SECONDS
    if _too_short(samples, sample_rate) or abs(period - round(period)) > 1e-9:
        return None
    edge = source_edge(samples, sample_rate, hz_range, mean)
    if edge is None:
        return None
    band = lowpass_band(edge, sample_rate)
    wide = band[1] - band[0] >= MIN_BAND_HZ
    parts = [_bands(x, sample_rate, *([band] if wide else []), under_edge(edge),
                    spectrum=spectra.of(i) if spectra else None) for i, x in enumerate(samples)]
    return EdgeRead(edge, [p[0] for p in parts] if wide else None, [p[-1] for p in parts], list(starts), sample_rate)


def lowpass_z(samples: np.ndarray, starts, sample_rate: int,
              read: EdgeRead | None = None) -> tuple[float, float | None]:
    """(z, edge Hz): how far the band just above the source's own low-pass (``source_edge``)
    bursts at CELT's frame edges, checked as ``burst_z`` with a control band as far under the
    edge. A decode of a low-passed source has nothing above 20 kHz to leak, but the coder
    fills the bands above the cutoff with its own noise, and the window slopes spread the
    music under the cutoff over it at every frame edge. NaN where ``read_edge`` reads nothing
    or the band is narrower than MIN_BAND_HZ. Music that is cut hard on the frame grid (a gate)
    splatters over the edge too, but its band under the edge falls or rises there, so the
    control band's t counts either way. ``read``: ``read_edge``'s, where already made."""
    read = read or read_edge(samples, starts, sample_rate)
    if read is None or read.above is None:
        return float("nan"), None if read is None else read.edge
    both = list(zip(read.above, read.under))
    return _checked_t(both, starts, sample_rate, 0.0, either_way=True, under_t=lambda: read.under_t), read.edge


def under_edge(edge: float) -> tuple[float, float]:
    """The control band under a source's low-pass at ``edge`` Hz (ABOVE_EDGE_HZ, mirrored)."""
    return edge - ABOVE_EDGE_HZ[1], edge - ABOVE_EDGE_HZ[0]


def edge_moves(samples: np.ndarray, starts, sample_rate: int, read: EdgeRead | None = None) -> float:
    """How far the music under the source's low-pass rises or falls at CELT's frame edges: the
    largest size of the control band's t over the places tried (0 where it cannot be read).
    A coder's frame edges move it a little (at most 6.4 in the selection's Opus decodes); music
    gated hard on the frame grid moves it far more, and splatters above 20 kHz and over any
    low-pass at the same places. ``read``: ``read_edge``'s, where already made."""
    read = read or read_edge(samples, starts, sample_rate)
    if read is None:
        return 0.0
    return float(np.abs(read.under_t).max())


def band_end_step(mean: tuple[np.ndarray, float] | None, sample_rate: int,
                  least: float = OPUS_BAND_END_DB) -> float | None:
    """The step (dB) down which the windows' mean spectrum (``mean_spectrum``) falls at 20 kHz,
    where it has the shape of CELT's band end in a decode's noise floor: nothing coded above
    20 kHz, so only the decode's own rounding is left there (level from 20.1 to 23.5 kHz),
    over the coder's noise under it, with the step sharp (SHARP_SHARE of it within 100 Hz of
    20 kHz) and ``least`` or more (the policy's level); None otherwise, and at rates other than 48 kHz.
    A genuine floor is level there; a mastering filter or a resampler falls over hundreds of
    Hz, and music falls on above 20 kHz."""
    if mean is None or sample_rate != SAMPLE_RATE:
        return None
    db, step = mean
    power = 10.0 ** (db / 10.0)

    def level(band: tuple[float, float]) -> float:
        return 10.0 * np.log10(power[int(np.ceil(band[0] / step)):int(np.ceil(band[1] / step))].mean())

    drop, sharp, flat = (level(lo) - level(hi) for lo, hi in (STEP_BANDS_HZ, SHARP_BANDS_HZ, FLAT_BANDS_HZ))
    if drop < least or sharp < SHARP_SHARE * drop or abs(flat) > FLAT_DB:
        return None
    return float(drop)


NOTCH_SIGN = "near-zero coefficients above 20 kHz"
BURST_SIGN = "bursts of energy above 20 kHz at its 20 ms frame edges"
ZEROS_SIGN = "small coefficients from 12.5 to 19.75 kHz"


def lowpass_sign(edge: float) -> str:
    """What ``lowpass_z`` saw, for a reason."""
    return f"bursts of energy just above the source's low-pass at {edge / 1000:.1f} kHz at its 20 ms frame edges"


def find(samples: np.ndarray, starts: list[int], sample_rate: int, thorough: bool = False,
         read: EdgeRead | None = None, spectra: WindowSpectra | None = None) -> tuple[float, int | None, str]:
    """(z, alignment mod 960 at 48 kHz, sign): the larger of the notch (48 kHz only) and the
    frame-edge bursts (any rate with whole 20 ms frames), at the known alignment; (NaN,
    None, "") with too little to count, or where a z of REVIEW_Z or more comes with music
    under the source's edge that moves MOVES_VETO far at the frame edges (``edge_moves``, from
    ``read`` where already made; ``spectra``: the windows' spectra, to share). ``thorough``
    changes nothing."""
    if _too_short(samples, sample_rate):
        return float("nan"), None, ""
    best = (float("nan"), None, "")
    if sample_rate == SAMPLE_RATE:
        for c in KNOWN:
            z = notch_z(log_ratios(samples, starts, c))
            if np.isfinite(z) and not best[0] >= z:
                best = (z, int(c), NOTCH_SIGN)
    z = burst_z(samples, starts, sample_rate, spectra)
    if np.isfinite(z) and not best[0] >= z:
        best = (z, KNOWN[0] if sample_rate == SAMPLE_RATE else None, BURST_SIGN)
    if best[0] >= REVIEW_Z and edge_moves(samples, starts, sample_rate, read) >= MOVES_VETO:
        return float("nan"), None, ""  # music gated on the frame grid: neither measure says anything
    return best


def measure(samples: np.ndarray, starts: list[int], sample_rate: int,
            thorough: bool = False) -> tuple[float, int | None]:
    """(z, alignment) of ``find``."""
    return find(samples, starts, sample_rate, thorough)[:2]


def detect(samples, starts, sample_rate, clear_z, absent_z, thorough, requires=DETECTOR_REQUIRES) -> list:
    """The detector (see :mod:`penthy_model.evidence`): the grid or frame edges (``find``), and
    the frame edges just above the source's low-pass (``lowpass_z``): one between 12 and 19.5
    kHz (grid LOWPASS_GRID), one between 6 and 12 kHz (grid LOW_LOWPASS_GRID); and at 48 kHz the
    stronger of those two again where the noise floor has CELT's band end at 20 kHz
    (``band_end_step``; grid BANDEND_GRID): the frame edges say a coder with 20 ms frames, the
    band end which one (``requires[BANDEND_GRID]``: the least step, the policy's); and at 48 kHz
    the small coefficients at CELT's grid under 20 kHz (``zeros_z``; grid ZEROS_GRID)."""
    from . import CodecMeasure

    mean = None if _too_short(samples, sample_rate) else mean_spectrum(samples, sample_rate)
    spectra = None if samples is None else WindowSpectra(samples)  # one forward FFT per window for all three

    def above_lowpass(read: EdgeRead | None, grid: str) -> CodecMeasure:
        low, edge = lowpass_z(samples, starts, sample_rate, read) if read else (float("nan"), None)
        return CodecMeasure(CODEC, float(low), None, len(samples), "", lowpass_sign(edge) if edge else "", grid=grid)

    read = read_edge(samples, starts, sample_rate, EDGE_RANGE_HZ, mean, spectra)  # the others' gate veto reads it too
    z, alignment, sign = find(samples, starts, sample_rate, thorough, read, spectra)
    lows = [above_lowpass(read, LOWPASS_GRID),
            above_lowpass(read_edge(samples, starts, sample_rate, LOW_EDGE_RANGE_HZ, mean, spectra), LOW_LOWPASS_GRID)]
    step = band_end_step(mean, sample_rate, requires.get(BANDEND_GRID, OPUS_BAND_END_DB))
    at_48k = ([_at_band_end(lows, step), _zeros(samples, starts)]
              if sample_rate == SAMPLE_RATE else [])
    return [CodecMeasure(CODEC, float(z), alignment, len(samples), "", sign or NOTCH_SIGN), *lows, *at_48k]


def _zeros(samples: np.ndarray, starts: list[int]):
    """The measure of grid ZEROS_GRID (``zeros_z``, at 48 kHz): read in ZERO_SCREEN_WINDOWS windows
    first, and in all of them where it reaches ZERO_SCREEN_Z there."""
    from . import CodecMeasure

    if _too_short(samples, SAMPLE_RATE):
        return CodecMeasure(CODEC, float("nan"), None, 0, "", "", grid=ZEROS_GRID)
    pick = spread_windows(len(samples), ZERO_SCREEN_WINDOWS)
    sums, counts = _zero_sums(samples[pick], [starts[i] for i in pick])
    z, channel = _zeros_from(sums, counts)
    read = len(pick)
    if z >= ZERO_SCREEN_Z and read < len(samples):  # the rest of the windows, added to the screen's
        rest = np.setdiff1d(np.arange(len(samples)), pick)
        more, more_counts = _zero_sums(samples[rest], [starts[i] for i in rest])
        sums, counts = {c: sums[c] + more[c] for c in sums}, counts + more_counts
        (z, channel), read = _zeros_from(sums, counts), len(samples)
    found = np.isfinite(z)
    return CodecMeasure(CODEC, z, KNOWN[0] if found else None, read, channel, ZEROS_SIGN if found else "",
                        grid=ZEROS_GRID)


def _at_band_end(lows: list, step: float | None):
    """The stronger measured of the low-pass measures ``lows`` as grid BANDEND_GRID where the
    floor steps ``step`` dB at CELT's band end (``band_end_step``); not measured (NaN) where it
    does not, or where neither was measured."""
    measured = [m for m in lows if m.measured]
    if step is None or not measured:
        return replace(lows[-1], z=float("nan"), sign="", grid=BANDEND_GRID)
    best = max(measured, key=lambda m: m.z)
    floor = f"over a noise floor that drops {step:.1f} dB at 20 kHz, where its coded bands end"
    return replace(best, grid=BANDEND_GRID, sign=f"{best.sign}, {floor}")
