"""What counts as evidence above 16 kHz: music does, a floor of noise-shaped dither does not."""

import numpy as np
import pytest

from penthy_model.audio import read_windows
from penthy_model.constants import CONTENT_DBFS
from penthy_model.demo import music
from penthy_model.features import window_features
from penthy_model.training.shaped import shaped_noise
from penthy_model.verdict import content_flags, high_band_db, rising_noise_floor

from helpers import write_flac

SR = 44100


def lowpassed(x: np.ndarray, sr: int, cutoff: float) -> np.ndarray:
    """A brick-wall lowpass: a renderer whose instruments stop at ``cutoff``."""
    spec = np.fft.rfft(x, axis=0)
    spec[np.fft.rfftfreq(len(x), 1.0 / sr) > cutoff] = 0.0
    return np.fft.irfft(spec, n=len(x), axis=0).astype(np.float32)


def features_of(path):
    w = read_windows(path)
    features, ref = window_features(w.samples, w.sample_rate, with_reference=True)
    return features, ref, w.sample_rate


def dithered(x: np.ndarray, sr: int, seed: int, knee: float = 14000.0, rise: float = 4.0) -> np.ndarray:
    """``x`` quantised to 16 bits with dither whose spectrum climbs ``rise`` dB/kHz above ``knee``."""
    noise = shaped_noise(len(x), x.shape[1], sr, knee, rise, np.random.default_rng(seed))
    return (np.round(x * 32767 + noise) / 32767).astype(np.float32)


@pytest.mark.parametrize("sr", [44100, 48000])
def test_a_floor_of_noise_shaped_dither_over_band_limited_music_is_no_evidence(tmp_path, sr):
    x = lowpassed(music(12.0, sr=sr, seed=3), sr, 12000.0)
    features, ref, _ = features_of(write_flac(tmp_path / "shaped.flac", dithered(x, sr, 1), sr))
    loud = high_band_db(features, sr) + ref > CONTENT_DBFS
    assert loud.mean() > 0.9  # the floor is well over the plain 16-bit one: the old rule took it for music
    assert rising_noise_floor(features, sr).all()
    assert not content_flags(features, ref, sr).any()


def test_music_above_16_khz_still_counts_under_the_same_dither(tmp_path):
    x = music(12.0, sr=SR, seed=3)  # full band: cymbal-like noise bursts up to Nyquist
    features, ref, sr = features_of(write_flac(tmp_path / "full.flac", dithered(x, SR, 1), SR))
    assert content_flags(features, ref, sr).mean() > 0.9
    assert not rising_noise_floor(features, sr).any()


def test_a_steady_floor_that_does_not_climb_still_counts(tmp_path):
    # steady hiss up to Nyquist, flat or falling (tape, a noisy room): sound the encoder would cut
    rng = np.random.default_rng(5)
    hiss = lowpassed(rng.standard_normal((SR * 8, 2)).astype(np.float32) * 0.003, SR, 21000.0)
    x = lowpassed(music(8.0, sr=SR, seed=4), SR, 12000.0) + hiss
    features, ref, sr = features_of(write_flac(tmp_path / "hiss.flac", x, SR))
    assert content_flags(features, ref, sr).all()
    assert not rising_noise_floor(features, sr).any()


def test_a_floor_that_climbs_but_is_not_steady_counts(tmp_path):
    # bursts of noise that climbs with frequency, on and off every 50 ms: sound, not a floor
    rng = np.random.default_rng(6)
    n = SR * 8
    climbing = shaped_noise(n, 2, SR, 14000.0, 4.0, rng) / 32767 * 30
    gate = (np.arange(n) // (SR // 20) % 2).astype(np.float32)[:, None]
    x = lowpassed(music(8.0, sr=SR, seed=4), SR, 12000.0) + climbing * gate
    features, ref, sr = features_of(write_flac(tmp_path / "bursts.flac", x.astype(np.float32), SR))
    assert content_flags(features, ref, sr).all()
    assert not rising_noise_floor(features, sr).any()


def test_the_engine_calls_shaped_dither_over_sparse_music_inconclusive_not_lossless(model_path, tmp_path):
    from penthy_model.analyze import Analyzer
    from penthy_model.inference import Thresholds

    x = lowpassed(music(12.0, sr=SR, seed=3), SR, 12000.0)
    path = write_flac(tmp_path / "shaped.flac", dithered(x, SR, 1), SR)
    # thresholds that would call it lossless if its floor were taken for evidence
    lenient = Analyzer(model_path, thresholds=Thresholds(0.0, 0.0))
    r = lenient.analyze(path)
    assert r.content_share == 0.0
    assert r.verdict == "inconclusive" and "noise-shaped dither does not count" in r.reason
