"""Windows whose waveform repeats: they carry no frame-grid evidence.

Every grid detector counts blocks cut at one alignment as independent draws. A waveform that
repeats exactly (a square wave or wavetable of a whole number of samples, a copied sample
loop, an undithered chip voice) gives the same few blocks over and over, so one chance
pattern at one alignment is counted a hundred times, and a coder's alignment that happens
to fall on the waveform's edges stands out by z in the hundreds. A lossy decode never
repeats: the coder's quantisation noise differs in every frame.

``repeating`` finds such windows: the lag where the start of each channel best correlates
with itself (an FFT, lags MIN_LAG to half the stretch), then whether the whole window comes
back at that lag (or one of the next best) to within REPEAT_LSB RMS.
"""

from __future__ import annotations

import numpy as np

from .stats import LSB, REPEAT_LSB

MIN_LAG = 16  # shorter periods than this are tones, not repeats that line up with a codec's blocks
STRETCH = 16384  # samples of each channel searched for the lag (lags up to half of it)
LAGS_TRIED = 3  # best-correlated lags whose repeat is checked on the whole window
MIN_CORRELATION = 0.9  # a lag correlating less than this is not a repeat


def _lags(x: np.ndarray) -> np.ndarray:
    """The LAGS_TRIED lags (MIN_LAG to len/2) where ``x`` best correlates with itself, among
    those at MIN_CORRELATION or more (normalised by the energy of the overlap)."""
    n = len(x)
    spec = np.fft.rfft(x, 2 * n)
    r = np.fft.irfft(spec * np.conj(spec), 2 * n)[:n // 2 + 1]
    energy = np.cumsum(x[::-1] ** 2)[::-1]  # energy of x[lag:] (the overlap's tail)...
    head = np.cumsum(x ** 2)  # ...and of x[:n - lag]
    lags = np.arange(len(r))
    norm = np.sqrt(energy[lags] * head[n - 1 - lags]) + 1e-9
    corr = r / norm
    corr[:MIN_LAG] = -1
    best = np.argsort(-corr)[:LAGS_TRIED]
    return best[corr[best] >= MIN_CORRELATION]


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
