"""The engine end to end with a hand-made model: verdicts, windows, bad input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from helpers import music, mp3_twin, write_flac
from penthy_model.analyze import Analyzer
from penthy_model.audio import read_windows
from penthy_model.cutoff import estimate_cutoff
from penthy_model.constants import FEATURES
from penthy_model.features import band_centres, window_features, window_length
from penthy_model.inference import Model, ModelError, write_sidecar, Thresholds


@pytest.fixture(scope="module")
def analyzer(model_path):
    return Analyzer(model_path)


def test_genuine_and_mp3_twin_get_opposite_verdicts(analyzer, pair):
    genuine, fake = pair
    g, f = analyzer.analyze(genuine), analyzer.analyze(fake)
    assert g.verdict == "lossless" and f.verdict == "transcoded"
    assert g.score > 0.7 > 0.3 > f.score
    assert len(g.window_scores) == len(g.window_starts) > 1
    assert 16000 < f.cutoff_hz < 17800 and g.cutoff_hz > 21000
    assert g.model == "tiny-test-1"


def test_windows_are_spread_over_the_whole_track(tmp_path):
    x = music(60.0, seed=2)
    path = write_flac(tmp_path / "long.flac", x)
    w = read_windows(path)
    starts = np.array(w.starts) / 44100
    assert len(starts) == 12 and starts[0] < 5 and starts[-1] > 50
    # the samples read are exactly the file's samples at those positions
    i = w.starts[5]
    ref = sf.read(str(path), start=i, frames=window_length(44100), dtype="float32")[0]
    np.testing.assert_allclose(w.samples[5], ref, atol=1e-4)


def test_silent_stretches_are_skipped(tmp_path):
    x = music(30.0, seed=3)
    x[: 15 * 44100] = 0.0  # first half is digital silence
    w = read_windows(write_flac(tmp_path / "half.flac", x))
    assert w.samples is not None
    assert min(w.starts) >= 15 * 44100 - window_length(44100)
    assert np.all(np.abs(w.samples).max(axis=(1, 2)) > 0)


def test_features_map_the_same_hz_to_the_same_rows():
    """A 18 kHz tone lands on the same row at 44.1, 48, 96 and 192 kHz."""
    rows = []
    for sr in (44100, 48000, 96000, 192000):
        n = window_length(sr)
        t = np.arange(n) / sr
        x = (0.3 * np.sin(2 * np.pi * 1000 * t) + 0.003 * np.sin(2 * np.pi * 18000 * t)).astype(np.float32)
        feats = window_features(np.stack([x, x], axis=1)[None], sr)
        assert feats.shape == (1, 2, FEATURES.n_bands, FEATURES.n_frames)
        rows.append(int(np.argmax(feats[0, 0].mean(axis=1))))
    assert len(set(rows)) == 1, rows
    assert abs(band_centres()[rows[0]] - 18000) < 160


def test_features_do_not_depend_on_gain_and_rows_above_nyquist_are_empty():
    x = music(1.0, seed=4)[: window_length(44100)][None]
    a, b = window_features(x, 44100), window_features(x * 0.05, 44100)
    np.testing.assert_allclose(a, b, atol=0.02)
    assert a[..., band_centres() > 22050, :].max() == 0.0  # rows above Nyquist
    assert a[..., band_centres() < 20000, :].mean() > 0.3


def test_cutoff_follows_the_encoder(tmp_path):
    g = write_flac(tmp_path / "g.flac", music(6.0, seed=5))
    cut128 = estimate_cutoff(read_windows(mp3_twin(g, tmp_path / "128.flac", 128)).samples, 44100)
    cut320 = estimate_cutoff(read_windows(mp3_twin(g, tmp_path / "320.flac", 320)).samples, 44100)
    assert 16000 < cut128 < 17800 < 19000 < cut320


@pytest.mark.parametrize("sr", [32000, 48000, 96000, 192000])
def test_sample_rates(analyzer, tmp_path, sr):
    r = analyzer.analyze(write_flac(tmp_path / f"{sr}.flac", music(3.0, sr=sr, seed=6), sr))
    assert r.sample_rate == sr and r.ok
    if sr < 44100:
        assert r.verdict == "inconclusive" and "sample rate" in r.reason
    else:
        assert r.score is not None and r.verdict in ("lossless", "inconclusive")


@pytest.mark.parametrize("subtype,bits", [("PCM_S8", 8), ("PCM_16", 16), ("PCM_24", 24)])
def test_bit_depths_are_read(analyzer, tmp_path, subtype, bits):
    fmt = "WAV" if subtype == "PCM_S8" else "FLAC"
    path = tmp_path / f"x.{fmt.lower()}"
    sf.write(str(path), music(3.0, seed=7), 44100, subtype=("PCM_U8" if fmt == "WAV" else subtype), format=fmt)
    r = analyzer.analyze(path)
    assert r.ok and r.bits == bits and r.score is not None


def test_mono_and_six_channels(analyzer, tmp_path):
    mono = analyzer.analyze(write_flac(tmp_path / "mono.flac", music(4.0, channels=1, seed=8)))
    six = analyzer.analyze(write_flac(tmp_path / "six.wav", music(4.0, channels=6, seed=9)))
    assert mono.channels == 1 and mono.verdict == "lossless"
    assert six.channels == 6 and six.verdict == "lossless"


def test_short_and_silent_files_are_inconclusive_with_a_reason(analyzer, tmp_path):
    short = analyzer.analyze(write_flac(tmp_path / "short.flac", music(0.5, seed=10)))
    assert short.verdict == "inconclusive" and short.reason.startswith("too short")
    one = analyzer.analyze(write_flac(tmp_path / "one.flac", music(1.0, seed=10)))
    assert one.ok and len(one.window_scores) == 1
    silent = analyzer.analyze(write_flac(tmp_path / "silent.flac", np.zeros((44100 * 5, 2), np.float32)))
    assert silent.verdict == "inconclusive" and silent.reason.startswith("silent")


def test_band_limited_genuine_is_not_called_lossless_without_evidence(analyzer, tmp_path):
    """Quiet tones with nothing above 16 kHz: there is no evidence either way."""
    t = np.arange(44100 * 6) / 44100
    x = (0.2 * np.sin(2 * np.pi * 440 * t))[:, None].repeat(2, axis=1).astype(np.float32)
    r = analyzer.analyze(write_flac(tmp_path / "tone.flac", x))
    assert r.verdict != "lossless"


@pytest.mark.parametrize("content", [b"", os.urandom(5000), b"fLaC" + os.urandom(3000)])
def test_unreadable_files_give_an_error_result(analyzer, tmp_path, content):
    path = tmp_path / "bad.flac"
    path.write_bytes(content)
    r = analyzer.analyze(path)
    assert r.verdict == "error" and r.reason and r.score is None


def test_truncated_flac_gives_a_result_not_a_traceback(analyzer, tmp_path, pair):
    data = pair[0].read_bytes()
    path = tmp_path / "cut.flac"
    path.write_bytes(data[: len(data) // 3])
    r = analyzer.analyze(path)
    assert r.verdict in ("error", "lossless", "inconclusive")  # libsndfile may read what is left
    assert r.verdict == "error" or r.duration is not None


def test_non_utf8_path(analyzer, tmp_path, pair):
    path = os.path.join(os.fsencode(tmp_path), b"caf\xe9.flac")
    with open(path, "wb") as fh:
        fh.write(pair[0].read_bytes())
    r = analyzer.analyze(path)
    assert r.verdict == "lossless"
    assert os.fsencode(r.path) == path
    json.dumps(r.to_dict())  # still serialisable


def test_batch_uses_one_session_and_keeps_order(model_path, pair):
    analyzer = Analyzer(model_path)
    paths = [pair[0], pair[1]] * 3
    results = list(analyzer.analyze_many(paths, jobs=3))
    assert [r.verdict for r in results] == ["lossless", "transcoded"] * 3
    assert analyzer.model._session is not None


def test_model_must_match_the_feature_parameters(tmp_path, model_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(model_path.read_bytes())
    meta = json.loads(model_path.with_suffix(".json").read_text())
    meta["features"]["n_bands"] = 80
    bad.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="feature parameters"):
        Model(bad)
    lonely = tmp_path / "lonely.onnx"
    lonely.write_bytes(model_path.read_bytes())
    with pytest.raises(ModelError, match="missing"):
        Model(lonely)
    with pytest.raises(ValueError):
        write_sidecar(tmp_path / "x.onnx", "v", Thresholds(0.8, 0.2))


def test_import_is_lazy():
    code = "import sys, penthy_model; print(any(m in sys.modules for m in ('numpy', 'onnxruntime', 'soundfile')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_batch_turns_an_unexpected_exception_into_an_error_result(model_path, pair, monkeypatch):
    analyzer = Analyzer(model_path)
    real = Analyzer.analyze

    def flaky(self, path):
        if str(path).endswith("fake.flac"):
            raise RuntimeError("engine bug")
        return real(self, path)

    monkeypatch.setattr(Analyzer, "analyze", flaky)
    for jobs in (1, 2):
        results = list(analyzer.analyze_many([pair[1], pair[0]], jobs=jobs))
        assert results[0].verdict == "error" and "RuntimeError: engine bug" in results[0].reason
        assert results[1].verdict == "lossless"


def test_closing_a_batch_early_does_not_analyse_the_rest(model_path, pair, monkeypatch):
    analyzer = Analyzer(model_path)
    seen = []
    real = Analyzer.analyze

    def counting(self, path):
        seen.append(path)
        return real(self, path)

    monkeypatch.setattr(Analyzer, "analyze", counting)
    stream = analyzer.analyze_many([pair[0]] * 40, jobs=2)
    next(stream)
    stream.close()
    assert len(seen) <= 2 * 2 + 2  # the bounded queue, not all 40


def test_files_without_evidence_need_the_low_content_threshold():
    from penthy_model.evidence import CodecEvidence, CodecMeasure
    from penthy_model.verdict import Findings, Policy, decide

    p = Policy.for_model(type("M", (), {"thresholds": Thresholds(0.5, 0.7, transcoded_low_content=0.2),
                                        "pooling": "mean"})())
    grid = CodecEvidence((CodecMeasure("mp3", 20.0, 48, 8),))  # proof, so only the model's reading is tested
    scores = np.full(8, 0.35)
    with_evidence, without = np.ones(8, bool), np.r_[np.ones(3, bool), np.zeros(5, bool)]
    assert decide(Findings(scores, with_evidence, texture=5.0), p)[0] == "transcoded"
    verdict, score, reason, *_ = decide(Findings(scores, without, texture=5.0), p)
    assert verdict == "inconclusive" and "little sound above 16 kHz (in 38% of windows;" in reason
    assert decide(Findings(np.full(8, 0.1), without, texture=5.0), p)[0] == "transcoded"
    assert decide(Findings(np.full(8, 0.1), without), p)[0] == "inconclusive"  # the model's word is no proof
    assert decide(Findings(np.full(8, 0.9), without), p)[0] == "inconclusive"  # nothing to vouch for it either
    assert decide(Findings(np.full(8, 0.9), with_evidence), p)[0] == "lossless"
    assert decide(Findings(np.full(8, 0.9), with_evidence, codec=grid), p)[0] == "transcoded"


def test_the_low_content_threshold_defaults_to_the_main_one_and_travels_in_the_sidecar(tmp_path, model_path):
    assert Thresholds(0.4, 0.6).transcoded_low_content == 0.4
    with pytest.raises(ValueError, match="transcoded_low_content"):
        Thresholds(0.4, 0.6, transcoded_low_content=0.7)
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(model_path.read_bytes())
    write_sidecar(onnx, "v", Thresholds(0.45, 0.6, 0.25))
    assert Model(onnx).thresholds == Thresholds(0.45, 0.6, 0.25)
    meta = json.loads(onnx.with_suffix(".json").read_text())
    del meta["thresholds"]["transcoded_low_content"]  # a sidecar written before the field existed
    onnx.with_suffix(".json").write_text(json.dumps(meta))
    assert Model(onnx).thresholds.transcoded_low_content == 0.45


def test_results_report_their_share_of_windows_with_high_band_sound(analyzer, pair, tmp_path):
    genuine, fake = pair
    assert analyzer.analyze(genuine).content_share > 0.9
    assert analyzer.analyze(fake).content_share > 0.9  # MP3 128 keeps 16-16.6 kHz: its cut is in view
    t = np.arange(44100 * 6) / 44100
    tone = (0.2 * np.sin(2 * np.pi * 440 * t))[:, None].repeat(2, axis=1).astype(np.float32)
    path = write_flac(tmp_path / "tone.flac", tone)
    plain = analyzer.analyze(path)
    # the tiny model's low score alone is no proof (no grid, no band under a cutoff to judge)
    assert plain.content_share == 0.0 and plain.verdict == "inconclusive" and plain.model_score < 0.3
    # with no evidence, the model reads it through the low-content threshold
    cautious = Analyzer(analyzer.model, thresholds=Thresholds(0.3, 0.7, transcoded_low_content=0.0))
    r = cautious.analyze(path)
    assert r.verdict == "inconclusive" and "little sound above 16 kHz" in r.reason


def test_pooling_window_scores():
    from penthy_model.verdict import pool

    scores = [0.9, 0.9, 0.01]
    assert pool(scores, "mean") == pytest.approx(0.6033, abs=1e-4)
    # log-odds: 2.197, 2.197, -4.595 -> mean -0.067: the sure window outweighs two leaning ones
    assert pool(scores, "logit_mean") == pytest.approx(1 / (1 + np.exp(0.0669)), abs=1e-3)
    assert pool(scores, "logit_mean") < 0.5 < pool(scores, "mean")
    assert pool([0.0, 1.0], "logit_mean") == pytest.approx(0.5)  # clipped, never infinite
    assert pool([0.0, 0.0], "logit_mean") < 1e-5
    assert np.isnan(pool([], "logit_mean"))
    with pytest.raises(ValueError, match="pooling"):
        pool(scores, "max")


def test_the_pooling_travels_in_the_sidecar_and_old_sidecars_mean_mean(tmp_path, model_path, pair):
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(model_path.read_bytes())
    write_sidecar(onnx, "v", Thresholds(0.45, 0.6), pooling="logit_mean")
    model = Model(onnx)
    assert model.pooling == "logit_mean"
    r = Analyzer(model).analyze(pair[1])
    from penthy_model.verdict import pool

    assert r.model_score == pytest.approx(pool(r.window_scores, "logit_mean"), abs=2e-4)
    meta = json.loads(onnx.with_suffix(".json").read_text())
    del meta["pooling"]  # penthy-1.2 and earlier were calibrated on the plain mean
    onnx.with_suffix(".json").write_text(json.dumps(meta))
    assert Model(onnx).pooling == "mean"
    meta["pooling"] = "vote"
    onnx.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="pooling"):
        Model(onnx)
    with pytest.raises(ValueError, match="pooling"):
        write_sidecar(onnx, "v", Thresholds(0.45, 0.6), pooling="vote")
