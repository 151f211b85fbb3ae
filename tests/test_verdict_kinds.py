"""Issue 25 end to end: genuine kinds unlike the training corpus are not accused; fakes still are.

Uses the shipped model, the genuine-kinds generator (needs scipy, a test and data-making
extra) and real encoders where installed.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("scipy")

from penthy_model.analyze import Analyzer  # noqa: E402
from penthy_model.texture import measure  # noqa: E402
from penthy_model.training import genuine_kinds as gk  # noqa: E402
from penthy_model.training.fakes import to_pcm16  # noqa: E402
from penthy_model.verdict import TEXTURE_MIN_DB  # noqa: E402

SR = 44100


def _spectrum_db(x: np.ndarray, sr: int):
    f = np.fft.rfftfreq(len(x), 1 / sr)
    p = np.abs(np.fft.rfft(x[:, 0] * np.blackman(len(x)))) ** 2
    return f, 10 * np.log10(p + 1e-30)


@pytest.mark.parametrize("design", ["kaiser", "ls", "minphase", "ellip", "cheby2", "butter"])
def test_every_lowpass_design_is_steep(design):
    x = gk.music("noise_bursts", np.random.default_rng(1), SR, 2.0)
    y = gk.steep_lowpass(x, SR, 17000.0, design, 500.0)
    f, db, (_, ref) = *_spectrum_db(y, SR), _spectrum_db(x, SR)
    passed = np.median(db[(f > 14000) & (f < 16000)] - ref[(f > 14000) & (f < 16000)])
    stopped = np.median(db[(f > 17500) & (f < 21000)] - ref[(f > 17500) & (f < 21000)])
    assert passed > -3.0 and stopped < -60.0, (passed, stopped)


def test_kinds_are_what_they_claim():
    x, sr, info = gk.make_clip("from32k", "drums", 3, 2.0)
    f, db = _spectrum_db(x, sr)
    assert sr == 44100 and np.median(db[(f > 17000) & (f < 21000)]) < np.median(db[(f > 12000) & (f < 15000)]) - 50
    x, sr, info = gk.make_clip("hires", "electronic", 4, 1.0)
    f, db = _spectrum_db(x, sr)
    assert sr in gk.HIRES_RATES and np.median(db[(f > 26000) & (f < 40000)]) > np.median(db[(f > 2000) & (f < 14000)]) - 60
    for style in gk.MUSIC_STYLES:
        if style == "fluidsynth":
            continue
        y = gk.music(style, np.random.default_rng(5), SR, 1.5)
        assert y.shape == (int(1.5 * SR), 2) and np.isfinite(y).all() and np.max(np.abs(y)) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def tracks(tmp_path_factory):
    """A 40 s synthetic track through a steep 15 kHz low-pass (genuine), the same track full
    band, and an MP3 of it (libsndfile's LAME, 192k CBR)."""
    d = tmp_path_factory.mktemp("kinds")
    rng = np.random.default_rng(25)
    x = 0.5 * gk.music("harmonic_bursts", rng, SR, 40.0)
    out = {}
    for name, y in (("steep15k", gk.steep_lowpass(x, SR, 15000.0, "kaiser", 300.0)), ("full", x)):
        out[name] = d / f"{name}.flac"
        sf.write(out[name], to_pcm16(y, rng), SR, subtype="PCM_16")
    mp3 = d / "fake.mp3"
    sf.write(mp3, x.astype(np.float32), SR, format="MP3", bitrate_mode="CONSTANT",
             compression_level=1 - (192 - 32) / 288)
    y, _ = sf.read(mp3, dtype="float32")
    out["mp3"] = d / "mp3.flac"
    sf.write(out["mp3"], to_pcm16(y[: len(x)], rng), SR, subtype="PCM_16")
    return out


@pytest.fixture(scope="module")
def shipped():
    return Analyzer()


def test_a_steep_15k_lowpass_of_a_genuine_track_is_not_accused(tracks, shipped):
    r = shipped.analyze(tracks["steep15k"])
    assert r.verdict != "transcoded" and r.codec is None, r
    # ...whatever the model reads: with its word alone as proof it would be
    strict = Analyzer(shipped.model, policy=shipped.policy.with_threshold(0.99))
    r = strict.analyze(tracks["steep15k"])
    assert r.verdict == "inconclusive" and r.model_score < 0.99, r
    # the reason names the wall where it is (a steep 15 kHz low-pass and a resampler from 32 kHz look alike)
    assert "no codec frame grid" in r.reason and re.search(r"1[45]\.\d kHz", r.reason), r.reason


def test_a_steady_filter_shows_no_lossy_texture(tracks):
    from penthy_model.audio import read_windows
    from penthy_model.cutoff import estimate_cutoff

    scores = {}
    for name in ("steep15k", "full", "mp3"):
        w = read_windows(str(tracks[name]))
        t = measure(w.samples, w.sample_rate, estimate_cutoff(w.samples, w.sample_rate))
        scores[name] = t.score if t else None
    assert scores["steep15k"] is not None and scores["steep15k"] < TEXTURE_MIN_DB, scores
    assert scores["full"] is None or scores["full"] < TEXTURE_MIN_DB, scores
    assert scores["mp3"] is not None and scores["mp3"] > scores["steep15k"], scores


def test_the_mp3_is_still_caught(tracks, shipped):
    r = shipped.analyze(tracks["mp3"])
    assert r.verdict == "transcoded" and r.model_score is not None, r


@pytest.fixture(scope="module")
def hiss_transfer(tmp_path_factory):
    """20 s of music fading out from 14.5 to 15.5 kHz with hiss at -84 dBFS over it, through
    an anti-alias wall at 20 kHz (a tape or vinyl transfer at 48 kHz), 16-bit: genuine."""
    from penthy_model.demo import music

    sr = 48000
    rng = np.random.default_rng(61)
    x = music(20.0, sr=sr, seed=61).astype(np.float64)
    hz = np.fft.rfftfreq(len(x), 1 / sr)
    spectrum = np.fft.rfft(x, axis=0) * np.clip((15500 - hz) / 1000, 0, 1)[:, None]
    y = np.fft.irfft(spectrum, len(x), axis=0) + 10 ** (-84 / 20) * rng.standard_normal(x.shape)
    spectrum = np.fft.rfft(y, axis=0)
    spectrum[hz > 20000] = 0
    path = tmp_path_factory.mktemp("hiss") / "transfer.flac"
    sf.write(path, np.fft.irfft(spectrum, len(x), axis=0), sr, subtype="PCM_16")
    return path


def test_a_top_band_of_steady_hiss_is_not_judged_for_texture(hiss_transfer, shipped, monkeypatch):
    """The band under the wall holds only hiss, steady, while the band under it follows the
    music: judged anyway, its texture reads as a lossy coder's; as steady as a noise floor, it
    is not judged (engine 0.2.12), and the network's low score alone accuses nothing."""
    from penthy_model import texture
    from penthy_model.audio import read_windows
    from penthy_model.cutoff import estimate_cutoff

    w = read_windows(str(hiss_transfer))
    cutoff = estimate_cutoff(w.samples, w.sample_rate)
    assert measure(w.samples, w.sample_rate, cutoff) is None
    monkeypatch.setattr(texture, "STEADY_DB", 0.0)
    judged = measure(w.samples, w.sample_rate, cutoff)
    assert judged is not None and judged.score >= TEXTURE_MIN_DB, judged
    monkeypatch.undo()
    r = shipped.analyze(hiss_transfer)
    assert r.verdict != "transcoded" and r.codec is None and r.backed_by is None, r
