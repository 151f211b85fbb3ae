"""The one feature function: windows of samples -> the model's input.

Training (``penthy_model.training.dataset``) and inference (``penthy_model.analyze``) both
call :func:`window_features`; nothing else turns audio into model input.

For each window the output holds two images, mid ``(L+R)/2`` and side ``(L-R)/2`` (mono
files have a silent side), each ``N_BANDS`` rows (9-24 kHz, fixed Hz per row whatever the
sample rate) by ``N_FRAMES`` columns (2.9 ms apart). A value is the power in that cell in
dB relative to the window's mean mid power per bin between 150 Hz and 14 kHz, clipped
to [-110, +10] dB and mapped to [0, 1]. Rows above the file's Nyquist frequency are 0.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .constants import FEATURES, FeatureParams


def frame_length(sample_rate: int, params: FeatureParams = FEATURES) -> int:
    return int(round(params.frame_seconds * sample_rate))


def hop_length(sample_rate: int, params: FeatureParams = FEATURES) -> int:
    return int(round(params.hop_seconds * sample_rate))


def window_length(sample_rate: int, params: FeatureParams = FEATURES) -> int:
    """Samples one window needs to give exactly ``n_frames`` spectrum frames."""
    return hop_length(sample_rate, params) * (params.n_frames - 1) + frame_length(sample_rate, params)


def band_centres(params: FeatureParams = FEATURES) -> np.ndarray:
    width = (params.band_high_hz - params.band_low_hz) / params.n_bands
    return params.band_low_hz + width * (np.arange(params.n_bands) + 0.5)


@lru_cache(maxsize=16)
def _band_matrix(sample_rate: int, params: FeatureParams) -> np.ndarray:
    """(n_bins, n_bands) weights that interpolate FFT-bin power onto the fixed Hz rows.

    Columns for rows above Nyquist are all zero, so those rows come out empty.
    """
    n = frame_length(sample_rate, params)
    bin_hz = sample_rate / n
    n_bins = n // 2 + 1
    pos = band_centres(params) / bin_hz  # fractional bin index of each row centre
    lo = np.floor(pos).astype(int)
    frac = pos - lo
    matrix = np.zeros((n_bins, params.n_bands), dtype=np.float32)
    cols = np.arange(params.n_bands)
    inside = lo + 1 < n_bins
    matrix[lo[inside], cols[inside]] = 1.0 - frac[inside]
    matrix[lo[inside] + 1, cols[inside]] = frac[inside]
    return matrix


@lru_cache(maxsize=16)
def _hann(n: int) -> np.ndarray:
    return np.hanning(n + 2)[1:-1].astype(np.float32)


def mid_side(windows: np.ndarray) -> np.ndarray:
    """(W, samples, channels) -> (W, 2, samples): mid and side of the first two channels."""
    if windows.shape[2] == 1:
        mid = windows[:, :, 0]
        return np.stack([mid, np.zeros_like(mid)], axis=1)
    left, right = windows[:, :, 0], windows[:, :, 1]
    return np.stack([(left + right) * 0.5, (left - right) * 0.5], axis=1)


def power_spectrogram(signals: np.ndarray, sample_rate: int, params: FeatureParams = FEATURES) -> np.ndarray:
    """(..., samples) -> (..., n_frames, n_bins) power of Hann-windowed frames."""
    n, hop = frame_length(sample_rate, params), hop_length(sample_rate, params)
    frames = np.lib.stride_tricks.sliding_window_view(signals, n, axis=-1)[..., ::hop, :]
    frames = frames[..., : params.n_frames, :] * _hann(n)
    spectrum = np.fft.rfft(frames, axis=-1)
    power = np.square(spectrum.real, dtype=np.float32)
    power += np.square(spectrum.imag, dtype=np.float32)
    return power


def reference_power(power: np.ndarray, sample_rate: int, params: FeatureParams = FEATURES) -> np.ndarray:
    """Mean power of the reference band over all frames: (..., frames, bins) -> (...)."""
    bin_hz = sample_rate / frame_length(sample_rate, params)
    lo = int(np.ceil(params.ref_low_hz / bin_hz))
    hi = int(np.floor(params.ref_high_hz / bin_hz)) + 1
    return power[..., lo:hi].mean(axis=(-1, -2))


def window_features(windows: np.ndarray, sample_rate: int, params: FeatureParams = FEATURES,
                    with_reference: bool = False):
    """Model input for a batch of windows.

    ``windows``: float32 (W, window_length(sample_rate), channels), full scale = 1.0.
    Returns float32 (W, 2, n_bands, n_frames) in [0, 1]. With ``with_reference`` it also
    returns each window's reference level in dBFS (the level of white noise with the same
    power per bin), which turns the relative values back into absolute ones.
    """
    windows = np.asarray(windows, dtype=np.float32)
    if windows.ndim != 3:
        raise ValueError(f"windows must be (W, samples, channels), got shape {windows.shape}")
    need = window_length(sample_rate, params)
    if windows.shape[1] != need:
        raise ValueError(f"a window at {sample_rate} Hz must hold {need} samples, got {windows.shape[1]}")
    power = power_spectrogram(mid_side(windows), sample_rate, params)  # (W, 2, T, bins)
    ref = reference_power(power[:, 0], sample_rate, params)  # (W,)
    # one 2-D matrix product: numpy runs a 4-D @ 2-D product as many tiny ones (30x slower)
    bands = (power.reshape(-1, power.shape[-1]) @ _band_matrix(sample_rate, params)).reshape(
        power.shape[:-1] + (params.n_bands,))  # (W, 2, T, n_bands)
    # in place from here on: each new array of this size costs the allocator fresh pages
    tiny = np.float32(10.0 ** (params.db_floor / 10.0))
    bands /= np.maximum(ref, 1e-20)[:, None, None, None]
    np.maximum(bands, tiny * 1e-3, out=bands)
    np.log10(bands, out=bands)
    bands *= 10.0
    np.clip(bands, params.db_floor, params.db_ceil, out=bands)
    bands -= params.db_floor
    bands /= params.db_ceil - params.db_floor
    bands[..., band_centres(params) >= sample_rate / 2] = 0.0  # above Nyquist
    features = np.ascontiguousarray(bands.transpose(0, 1, 3, 2), dtype=np.float32)
    if not with_reference:
        return features
    window_power = float(np.sum(_hann(frame_length(sample_rate, params)) ** 2))
    ref_dbfs = 10.0 * np.log10(np.maximum(ref / window_power, 1e-30))
    return features, ref_dbfs
