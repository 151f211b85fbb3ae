"""Where the content stops: the estimated high-frequency cutoff of a file, in Hz.

Lossy encoders low-pass the signal (MP3 128k near 16.6 kHz, 320k near 20 kHz, see the
field notes); genuine recordings usually run on to the anti-alias filter just under
Nyquist. The estimate is shown to people beside the model's score and is also one of the
two baselines the model is judged against (``training/baselines.py``).
"""

from __future__ import annotations

import numpy as np

FFT_SECONDS = 2048 / 44100  # 21.5 Hz per bin: fine enough to place a cliff
SMOOTH_HZ = 150.0  # moving-average width before looking for the edge
CLIFF_DB = 20.0  # a spectrum whose top band spans less than this never falls silent
ABOVE_FLOOR_DB = 12.0  # content is this far above the quietest part of the top band
SEARCH_FROM_HZ = 1000.0  # low enough to place the edge of music with nothing up high
MAX_WINDOWS = 6  # a long-term average needs no more; the model's windows are spread anyway


def average_spectrum(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean power spectrum (dB) over all windows and channels: returns (freqs_hz, db)."""
    n = int(round(FFT_SECONDS * sample_rate))
    samples = samples[:: max(1, -(-len(samples) // MAX_WINDOWS))]
    w, length, ch = samples.shape
    usable = (length // n) * n
    if usable == 0:
        raise ValueError("windows are shorter than one FFT frame")
    frames = samples[:, :usable, :].reshape(w, usable // n, n, ch)
    frames = frames * np.hanning(n).astype(np.float32)[None, None, :, None]
    spec = np.fft.rfft(frames, axis=2)
    power = (spec.real**2 + spec.imag**2).mean(axis=(0, 1, 3))
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    return freqs, 10.0 * np.log10(power + 1e-30)


def estimate_cutoff(samples: np.ndarray, sample_rate: int) -> int | None:
    """Highest frequency (Hz) with content; None when there is nothing to measure."""
    freqs, db = average_spectrum(samples, sample_rate)
    bin_hz = freqs[1]
    k = max(1, int(round(SMOOTH_HZ / bin_hz)))
    smooth = np.convolve(db, np.ones(k) / k, mode="same")
    search = (freqs >= SEARCH_FROM_HZ) & (freqs <= sample_rate / 2 - k * bin_hz)
    if not search.any():
        return None
    floor = smooth[search].min()
    if smooth[search].max() - floor < CLIFF_DB:  # never falls silent: content runs to the top
        return int(round(freqs[np.nonzero(search)[0][-1]] / 10.0) * 10)
    above = np.nonzero(search & (smooth > floor + ABOVE_FLOOR_DB))[0]
    if above.size == 0:
        return int(SEARCH_FROM_HZ)
    return int(round(freqs[above[-1]] / 10.0) * 10)
