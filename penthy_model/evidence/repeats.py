"""Windows whose waveform repeats: they carry no frame-grid evidence.

Every grid detector counts blocks cut at one alignment as independent draws. A waveform that
repeats exactly (a square wave or wavetable of a whole number of samples, a copied sample
loop, an undithered chip voice) gives the same few blocks over and over, so one chance
pattern at one alignment is counted a hundred times, and a coder's alignment that happens
to fall on the waveform's edges stands out by z in the hundreds. A lossy decode never
repeats: the coder's quantisation noise differs in every frame.

Two more kinds of window make the same few blocks over and over: music gated to exact
digital silence and back (``gated``), and voices of a few levels, chip tunes and 8-bit
sources left undithered (``few_levels``).

``repeating`` finds such windows: the lag where the start of each channel best correlates
with itself (an FFT, lags MIN_LAG to half the stretch, or as far as a shorter window leaves
TAIL samples to compare), then whether the whole window comes back at that lag (or one of the
next best) to within REPEAT_LSB RMS.
"""

from __future__ import annotations

import numpy as np

from .stats import LSB, REPEAT_LSB

MIN_LAG = 16  # shorter periods than this are tones, not repeats that line up with a codec's blocks
STRETCH = 16384  # samples of each channel searched for the lag (lags up to half of it)...
TAIL = 1024  # ...or, in a shorter window (8 kHz: 5911 samples), up to where this many are left to compare
LAGS_TRIED = 3  # best-correlated lags whose repeat is checked on the whole window
MIN_CORRELATION = 0.9  # a lag correlating less than this is not a repeat


def _lags(x: np.ndarray) -> np.ndarray:
    """The LAGS_TRIED lags (MIN_LAG to ``max_lag``) where ``x`` best correlates with itself,
    among those at MIN_CORRELATION or more (normalised by the energy of the overlap)."""
    n = len(x)
    spec = np.fft.rfft(x, 2 * n)
    r = np.fft.irfft(spec * np.conj(spec), 2 * n)[:max(max_lag(n), 0) + 1]
    energy = np.cumsum(x[::-1] ** 2)[::-1]  # energy of x[lag:] (the overlap's tail)...
    head = np.cumsum(x ** 2)  # ...and of x[:n - lag]
    lags = np.arange(len(r))
    norm = np.sqrt(energy[lags] * head[n - 1 - lags]) + 1e-9
    corr = r / norm
    corr[:MIN_LAG] = -1
    best = np.argsort(-corr)[:LAGS_TRIED]
    return best[corr[best] >= MIN_CORRELATION]


def max_lag(length: int) -> int:
    """The longest lag searched in a window of ``length`` samples: half the stretch, as far as
    the window leaves TAIL samples to compare (a loop of 4096 samples at 8 kHz is found)."""
    return min(STRETCH // 2, length - TAIL)


def _repeats(channel: np.ndarray) -> bool:
    """Whether one channel of a window (float in [-1, 1]) comes back whole, within REPEAT_LSB
    RMS, at one of its best-correlated lags. Silence does not: nothing to count, nothing to drop."""
    y = channel.astype(np.float64) / LSB
    if not np.any(y):
        return False
    for lag in _lags(y[:STRETCH]):
        d = y[lag:] - y[:-lag]
        if float(np.sqrt(np.mean(d * d))) < REPEAT_LSB:
            return True
    return False


def repeating(samples: np.ndarray) -> np.ndarray:
    """Which windows (``samples`` (W, length, channels) float in [-1, 1]) repeat in any channel."""
    return np.array([any(_repeats(x[:, c]) for c in range(x.shape[1])) for x in samples], bool)


GATED_RUN = 64  # samples of exact digital silence (every channel) beside sound: a hard gate


def gated(samples: np.ndarray) -> np.ndarray:
    """Which windows hold a run of GATED_RUN or more samples that are exactly zero in every
    channel, and sound elsewhere. Music cut to exact silence and back (a hard gate every 1024
    or 2048 samples, a stutter edit) puts its edges where a coder's blocks would fall, at one
    alignment, as sharply as a grid; a lossy decode fills every block it codes with its own
    noise, so it has such runs only where the music itself stops for a while."""
    silent = ~np.any(samples != 0, axis=2)  # (W, length)
    out = np.zeros(len(samples), bool)
    for i, s in enumerate(silent):
        if s.all() or not s.any():
            continue
        edges = np.diff(np.concatenate([[0], s.view(np.int8), [0]]))
        out[i] = int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max()) >= GATED_RUN
    return out


MAX_LEVELS = 256  # a window whose samples take this few values (8-bit audio has 256)...
MIN_SPAN = 4096  # ...over this many 16-bit steps (levels 16 steps apart on average) is no decode
LEVELS_SCREEN = 16  # every this many samples are looked at first


def few_levels(samples: np.ndarray) -> np.ndarray:
    """Which windows' samples (every channel, in 16-bit steps) take at most MAX_LEVELS values
    over a span of MIN_SPAN steps or more: chip voices and 8-bit sources, undithered. A lossy
    decode sums many windowed cosines and, rounded, takes nearly every value in its span; the
    few levels of a square-wave voice make the same blocks again and again, and one window of
    them read a subband grid at z 42 (a chip tune of 12 levels at 48 kHz)."""
    out = np.zeros(len(samples), bool)
    for i, x in enumerate(samples):
        if len(np.unique(x[::LEVELS_SCREEN])) > MAX_LEVELS:
            continue  # a part already takes more values than that, so the whole does (a sixteenth sorted)
        values = np.unique(x)
        out[i] = len(values) <= MAX_LEVELS and (values[-1] - values[0]) / LSB >= MIN_SPAN
    return out


# A wave under the music: a part of the samples that repeats exactly every PERIOD samples of
# the file, whatever plays over it (a square or wavetable oscillator of a whole number of
# samples, a loop under a vocal). Its edges fall on the same places of every block a coder of
# a related hop would cut, and can lift that alignment as a coder's quantisation does.
FAR_LAGS = (2048, 8192)  # a period is scored by the correlation at its multiples in here, where
# the music's own has died away (ending TAIL samples before a shorter window's end)...
MAX_PERIOD = 2048  # ...for periods up to this...
MIN_MULTIPLES = 4  # ...with at least this many multiples there...
PERIOD_STEP = 16  # ...and a multiple of this. Only a wave whose period is commensurate with a
# coder's hop (all of them multiples of 32 samples) falls the same way on many of its blocks;
# music's own loops have any length, and taking one out takes a decode's grid with it (a
# soundfont loop of 1135 samples: an AC3 decode's z 162 -> 1.3, an MP3 decode's 284 -> 7).
PERIODIC_RATIO = 25.0  # the median period must carry this many times the energy chance leaves in it
MIN_PERIODS = 32  # whole periods needed to take a median


def far_lags(length: int) -> tuple[int, int]:
    """The lags (lo, hi) a period's multiples are scored in, for windows of ``length`` samples:
    FAR_LAGS, ending at least TAIL samples before the window's end."""
    return FAR_LAGS[0], min(FAR_LAGS[1], length - TAIL)


def _period(samples: np.ndarray) -> int | None:
    """The period (a multiple of PERIOD_STEP up to MAX_PERIOD, with MIN_MULTIPLES multiples
    within ``far_lags``) whose multiples there correlate best, over the first STRETCH samples
    of every window's mix; None where the windows are too short for any period to have them."""
    lo, hi = far_lags(min(samples.shape[1], STRETCH))
    periods = np.arange(PERIOD_STEP, MAX_PERIOD + 1, PERIOD_STEP)
    first = -(-lo // periods) * periods  # each period's first multiple in the far lags
    keep = (hi - first) // periods + 1 >= MIN_MULTIPLES
    if not keep.any():
        return None
    periods, first = periods[keep], first[keep]
    total = np.zeros(hi + 1)
    for x in samples:  # the far lags end TAIL samples before the stretch read
        y = x[:STRETCH].astype(np.float64).mean(axis=1)
        n = len(y)
        spec = np.fft.rfft(y, 2 * n)
        r = np.fft.irfft(spec * np.conj(spec), 2 * n)[:hi + 1]
        total += r / (r[0] + 1e-12) * n / (n - np.arange(hi + 1))  # per lag, as a share of the energy
    score = np.array([total[f:hi + 1:p].mean() for f, p in zip(first, periods)])
    return int(periods[np.argmax(score)])


def stack_periods(windows, starts, period: int, min_periods: int = MIN_PERIODS) -> np.ndarray | None:
    """(periods, period, channels): every whole ``period`` of every window ((length, channels)
    each, starting at ``starts`` in the file), file-aligned (the first sample of each is 0 mod
    ``period`` in the file); None under ``min_periods`` of them."""
    stack = []
    for x, start in zip(windows, starts):
        first = (-int(start)) % period
        k = (len(x) - first) // period
        if k > 0:
            stack.append(x[first:first + k * period].reshape(k, period, x.shape[1]))
    if not stack or sum(len(p) for p in stack) < min_periods:
        return None
    return np.concatenate(stack)


def laid_along(repeat: np.ndarray, start: int, length: int) -> np.ndarray:
    """``repeat`` (period, ...) laid along ``length`` samples from sample ``start`` of the file:
    sample i holds ``repeat[(start + i) % period]`` (tiled: a tenth of the cost of indexing)."""
    shift = int(start) % len(repeat)
    reps = -(-(shift + length) // len(repeat))
    return np.tile(repeat, (reps,) + (1,) * (repeat.ndim - 1))[shift:shift + length]


def _median_period(samples: np.ndarray, starts, period: int, screen: bool = False) -> tuple[np.ndarray, float]:
    """The median over every whole ``period`` (``stack_periods``), at each place in it, and its
    energy over the energy a median of music leaves (the samples' energy over the periods
    stacked); ratio 0 with under MIN_PERIODS periods. With ``screen``, the mean over the
    periods is tried first (a tenth of the cost), and where it carries under a quarter of
    PERIODIC_RATIO the median is not taken (ratio 0)."""
    stack = stack_periods(samples, starts, period)
    if stack is None:
        return np.zeros((period, samples.shape[2])), 0.0
    chance = max(float(np.mean(np.square(stack, dtype=np.float64))) / len(stack), 1e-30)
    if screen and float(np.mean(np.square(stack.mean(axis=0, dtype=np.float64)))) < PERIODIC_RATIO / 4 * chance:
        return np.zeros((period, samples.shape[2])), 0.0
    repeat = np.median(stack, axis=0).astype(np.float64)
    return repeat, float(np.mean(repeat * repeat)) / chance


def periodic_part(samples: np.ndarray, starts) -> np.ndarray | None:
    """The part of the windows (``samples`` (W, length, channels) float in [-1, 1], each
    starting at ``starts`` in the file) that repeats exactly at one period of the file (see
    ``_period``): the median at each place in the period, laid back over the windows. None
    where nothing does: where that median carries under PERIODIC_RATIO times the energy a
    median of music gives, or where, in the samples' first differences, a period one sample
    longer or shorter fits half as well or better (music's own loops, and smooth waves,
    which fake no grid, are not exact to the sample)."""
    if samples is None or len(samples) == 0:
        return None
    period = _period(samples)
    if period is None:
        return None
    repeat, ratio = _median_period(samples, starts, period, screen=True)
    if ratio < PERIODIC_RATIO:
        return None
    edges = np.diff(samples, axis=1)  # exactness is judged on the edges: a smooth wave drifts slowly
    exact = _median_period(edges, starts, period)[1]
    if any(_median_period(edges, starts, period + d)[1] * 2 > exact for d in (-1, 1)):
        return None
    return np.stack([laid_along(repeat, start, samples.shape[1]) for start in starts]).astype(samples.dtype)
