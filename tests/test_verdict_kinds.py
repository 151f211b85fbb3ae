"""Issue 25 end to end: genuine kinds unlike the training corpus are not accused; fakes still are.

Uses the shipped model, the genuine-kinds generator (needs scipy, a test and data-making
extra) and real encoders where installed.
"""

from __future__ import annotations

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
    assert "no codec frame grid" in r.reason and f"{r.cutoff_hz / 1000:.1f} kHz" in r.reason, r.reason


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
