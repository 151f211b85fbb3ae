"""Upsampling detection on generated signals: native hi-res vs resampled from 44.1/48/96 kHz.

Needs scipy (test-only): ``scipy.signal.resample_poly`` with a long Kaiser filter stands in
for a good resampler such as soxr (passband to 0.91 of the old Nyquist, stopband from it,
140 dB).
"""

from __future__ import annotations

from math import gcd

import numpy as np
import pytest
from scipy.signal import firwin, resample_poly

from penthy_model.upsampling import (
    CANDIDATE_RATES,
    content_bandwidth,
    find_wall,
    hires_content_hz,
    power_spectrum,
    upsampled_from,
)

WINDOW_SECONDS = 0.75
N_WINDOWS = 2  # the engine reads up to 12; two is the hardest case it can hand over


# --- signal helpers ----------------------------------------------------------------------
def music_like(
    rng: np.random.Generator,
    rate: int,
    *,
    corner_hz: float = 16000.0,
    slope_db_oct: float = -6.0,
    level_dbfs: float = -20.0,
    floor_dbfs: float = -115.0,
    channels: int = 2,
    top_hz: float | None = None,
    seconds: float = WINDOW_SECONDS * N_WINDOWS,
) -> np.ndarray:
    """Correlated-stereo noise with a pink tilt, a natural rolloff above ``corner_hz``
    (``slope_db_oct`` per octave), an amplitude envelope, and a white noise floor.

    ``top_hz`` adds an 8th-order-like steep (but analog) fall above that frequency.
    """
    n = int(round(seconds * rate))
    f = np.fft.rfftfreq(n, 1.0 / rate)
    gain_db = -3.0 * np.log2(np.maximum(f, 200.0) / 1000.0)
    gain_db += np.where(f > corner_hz, slope_db_oct * np.log2(np.maximum(f, corner_hz) / corner_hz), 0.0)
    gain = 10.0 ** (gain_db / 20.0)
    if top_hz is not None:
        gain /= np.sqrt(1.0 + (f / top_hz) ** 16)
    common = rng.standard_normal(n)
    x = np.stack(
        [np.fft.irfft(np.fft.rfft(common + rng.standard_normal(n)) * gain, n) for _ in range(channels)],
        axis=1,
    )
    # Envelope: a gain between 0 and -15 dB every 50 ms, interpolated linearly between.
    knots = np.arange(0.0, seconds + 0.1, 0.05)
    env_db = rng.uniform(-15.0, 0.0, knots.size)
    x *= 10.0 ** (np.interp(np.arange(n) / rate, knots, env_db) / 20.0)[:, None]
    x *= 10.0 ** (level_dbfs / 20.0) / np.sqrt(np.mean(x**2))
    return x + rng.standard_normal(x.shape) * 10.0 ** (floor_dbfs / 20.0)


def quantize(x: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    """TPDF-dithered quantization to ``bits``, returned as float32 (as read from the file)."""
    top = 2.0 ** (bits - 1)
    tpdf = rng.uniform(-0.5, 0.5, x.shape) + rng.uniform(-0.5, 0.5, x.shape)
    return (np.clip(np.round(x * top + tpdf), -top, top - 1) / top).astype(np.float32)


def good_resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Polyphase resampling with a soxr-like Kaiser filter: pass to 0.91, stop at 1.0 of
    the lower Nyquist frequency, 140 dB stopband."""
    g = gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    fs = rate_in * up
    nyq = min(rate_in, rate_out) / 2.0
    f_pass, f_stop, atten = 0.91 * nyq, nyq, 140.0
    numtaps = int(np.ceil((atten - 7.95) / (14.36 * (f_stop - f_pass) / fs))) | 1
    h = firwin(numtaps, (f_pass + f_stop) / 2.0, window=("kaiser", 0.1102 * (atten - 8.7)), fs=fs)
    return resample_poly(x, up, down, axis=0, window=h)


def linear_resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Linear interpolation: no anti-imaging filter worth the name."""
    t = np.arange(int(len(x) * rate_out / rate_in)) * rate_in / rate_out
    return np.stack([np.interp(t, np.arange(len(x)), x[:, c]) for c in range(x.shape[1])], axis=1)


def windows(x: np.ndarray, rate: int) -> list[np.ndarray]:
    size = int(WINDOW_SECONDS * rate)
    return [x[i : i + size] for i in range(0, len(x) - size + 1, size)]


def upsampled_cd(rng, rate_in, rate_out, *, output_bits=24, **kw) -> np.ndarray:
    """A 16-bit master at ``rate_in`` resampled to ``rate_out`` and stored at ``output_bits``."""
    master = quantize(music_like(rng, rate_in, **kw), 16, rng)
    return quantize(good_resample(master.astype(np.float64), rate_in, rate_out), output_bits, rng)


# --- upsampled files -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rate_in", "rate_out"),
    [(44100, 96000), (44100, 88200), (48000, 192000), (48000, 96000), (44100, 176400), (96000, 192000)],
)
def test_upsampled_files_report_their_source_rate(rate_in, rate_out):
    rng = np.random.default_rng(rate_in + rate_out)
    x = upsampled_cd(rng, rate_in, rate_out)
    assert upsampled_from(windows(x, rate_out), rate_out) == rate_in


def test_upsampled_bandwidth_is_the_old_nyquist():
    rng = np.random.default_rng(11)
    x = upsampled_cd(rng, 44100, 96000)
    bandwidth = content_bandwidth(windows(x, 96000), 96000)
    assert 20000.0 < bandwidth <= 22300.0, bandwidth
    wall = find_wall(power_spectrum(windows(x, 96000), 96000))
    assert wall is not None and wall.original_rate == 44100
    assert 0.9 * 22050 < wall.wall_hz < 1.03 * 22050
    assert wall.depth_db > 40.0


@pytest.mark.parametrize("channels", [1, 2])
def test_mono_and_stereo(channels):
    rng = np.random.default_rng(12 + channels)
    x = upsampled_cd(rng, 44100, 96000, channels=channels)
    assert x.shape[1] == channels
    assert upsampled_from(windows(x, 96000), 96000) == 44100
    # 1-D windows (mono read without a channel axis) work too.
    if channels == 1:
        assert upsampled_from([w[:, 0] for w in windows(x, 96000)], 96000) == 44100


def test_quiet_upsampled_signal_is_still_found():
    # -50 dBFS: the CD master's own dither floor stops at 22.05 kHz, the 24-bit floor
    # above it is 50 dB lower.
    rng = np.random.default_rng(13)
    x = upsampled_cd(rng, 44100, 96000, level_dbfs=-50.0)
    assert np.sqrt(np.mean(x.astype(np.float64) ** 2)) < 10 ** (-45 / 20)
    assert upsampled_from(windows(x, 96000), 96000) == 44100


def test_upsampled_then_redithered_at_16_bits_is_found():
    rng = np.random.default_rng(14)
    x = upsampled_cd(rng, 44100, 96000, output_bits=16)
    assert upsampled_from(windows(x, 96000), 96000) == 44100


def test_linear_interpolation_is_undecidable():
    # Images of the old spectrum fill the band above 22.05 kHz: no wall, so no claim.
    rng = np.random.default_rng(15)
    master = quantize(music_like(rng, 44100), 16, rng).astype(np.float64)
    x = quantize(linear_resample(master, 44100, 96000), 24, rng)
    assert upsampled_from(windows(x, 96000), 96000) is None


# --- native hi-res -------------------------------------------------------------------------
def test_native_96k_with_content_to_40k_is_not_upsampled():
    rng = np.random.default_rng(21)
    x = quantize(music_like(rng, 96000, corner_hz=40000.0, slope_db_oct=0.0, top_hz=40000.0), 24, rng)
    assert upsampled_from(windows(x, 96000), 96000) is None
    assert content_bandwidth(windows(x, 96000), 96000) > 38000.0


@pytest.mark.parametrize("rate", [88200, 96000, 192000])
@pytest.mark.parametrize("slope", [-6.0, -12.0, -24.0])
def test_native_natural_rolloff_is_not_upsampled(rate, slope):
    # Pink-ish music whose top end falls 6-24 dB/octave above 20 kHz, recorded at 24 bits.
    rng = np.random.default_rng(rate + int(slope))
    x = quantize(music_like(rng, rate, corner_hz=20000.0, slope_db_oct=slope, floor_dbfs=-125.0), 24, rng)
    w = windows(x, rate)
    assert upsampled_from(w, rate) is None
    # The content still stands well above the recording's floor at 30 kHz.
    floor_only = quantize(rng.standard_normal(x.shape) * 10 ** (-125.0 / 20.0), 24, rng)
    spec, floor_spec = power_spectrum(w, rate), power_spectrum(windows(floor_only, rate), rate)
    at_30k = np.searchsorted(spec.freqs, 30000.0)
    assert spec.db[at_30k] > floor_spec.db[at_30k] + 10.0


def test_native_with_steep_analog_lowpass_is_not_upsampled():
    # An 8th-order analog-style lowpass at 21 kHz (48 dB/octave) is steep, but nowhere near
    # a resampler's wall; the content fades into a -125 dBFS recording floor.
    rng = np.random.default_rng(22)
    x = quantize(music_like(rng, 96000, corner_hz=30000.0, top_hz=21000.0, floor_dbfs=-125.0), 24, rng)
    assert upsampled_from(windows(x, 96000), 96000) is None


def test_native_quiet_and_dull_recording_is_not_upsampled():
    # Little top end (-24 dB/octave from 12 kHz), -45 dBFS, fading into its noise floor.
    rng = np.random.default_rng(23)
    x = quantize(
        music_like(rng, 96000, corner_hz=12000.0, slope_db_oct=-24.0, level_dbfs=-45.0, floor_dbfs=-120.0),
        24,
        rng,
    )
    assert upsampled_from(windows(x, 96000), 96000) is None


# --- edges ---------------------------------------------------------------------------------
@pytest.mark.parametrize("rate_out", [44100, 48000])
def test_44k_and_48k_files_made_from_32k_report_it(rate_out):
    rng = np.random.default_rng(31)
    x = upsampled_cd(rng, 32000, rate_out, output_bits=16)  # a wall at 16 kHz
    assert upsampled_from(windows(x, rate_out), rate_out) == 32000


@pytest.mark.parametrize("cut_hz", [16800.0, 19000.0])
def test_a_lossy_encoders_lowpass_is_not_read_as_32k(cut_hz):
    # MP3 at 128k and up cuts at 16.6-20 kHz: above where a 32 kHz source's wall lies.
    rng = np.random.default_rng(int(cut_hz))
    master = music_like(rng, 44100)
    spec = np.fft.rfft(master, axis=0)
    spec[np.fft.rfftfreq(len(master), 1 / 44100) > cut_hz] = 0
    x = quantize(np.fft.irfft(spec, len(master), axis=0), 16, rng)
    assert upsampled_from(windows(x, 44100), 44100) is None


def test_other_low_rates_are_never_judged():
    rng = np.random.default_rng(32)
    x = upsampled_cd(rng, 22050, 32000)
    assert upsampled_from(windows(x, 32000), 32000) is None


@pytest.mark.parametrize(("rate_in", "rate_out"), [(44100, 96000), (44100, 88200), (48000, 96000), (44100, 192000)])
def test_ordinary_resamplers_gentle_cliff_is_upsampling(rate_in, rate_out):
    # scipy's default resample_poly leaves a 40-60 dB cliff a little above the old Nyquist.
    rng = np.random.default_rng(rate_in + rate_out + 1)
    master = quantize(music_like(rng, rate_in, corner_hz=20000.0), 16, rng).astype(np.float64)
    g = gcd(rate_in, rate_out)
    x = quantize(resample_poly(master, rate_out // g, rate_in // g, axis=0), 24, rng)
    assert upsampled_from(windows(x, rate_out), rate_out) == rate_in


def test_ffmpegs_default_resampler_is_upsampling(tmp_path):
    import shutil
    import subprocess

    import soundfile as sf

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    rng = np.random.default_rng(33)
    master = quantize(music_like(rng, 44100, corner_hz=20000.0, seconds=3.0), 16, rng)
    sf.write(tmp_path / "a.wav", master, 44100, subtype="PCM_16")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(tmp_path / "a.wav"), "-ar", "96000",
                    "-c:a", "pcm_s24le", str(tmp_path / "b.wav")], check=True)
    x, _ = sf.read(tmp_path / "b.wav", dtype="float32")
    assert upsampled_from(windows(x, 96000), 96000) == 44100


def test_native_hires_content_above_24k_is_a_fact_upsampled_files_lack():
    rng = np.random.default_rng(34)
    native = quantize(music_like(rng, 96000, corner_hz=40000.0, slope_db_oct=0.0, top_hz=40000.0), 24, rng)
    assert hires_content_hz(windows(native, 96000), 96000) > 30000.0
    assert hires_content_hz(windows(upsampled_cd(rng, 44100, 96000), 96000), 96000) is None
    assert hires_content_hz(windows(native[::2], 48000), 48000) is None  # not a hi-res rate


def test_silence_and_short_windows():
    silence = [np.zeros((72000, 2), dtype=np.float32)] * 3
    assert upsampled_from(silence, 96000) is None
    assert content_bandwidth(silence, 96000) is None
    assert upsampled_from([np.zeros((100, 2), dtype=np.float32)], 96000) is None
    assert upsampled_from([], 96000) is None
    assert power_spectrum([np.ones((100, 2))], 96000) is None


def test_candidates_are_ascending():
    assert list(CANDIDATE_RATES) == sorted(CANDIDATE_RATES)
