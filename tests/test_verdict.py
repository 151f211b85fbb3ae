"""The verdict policy (issue 25): `transcoded` needs proof, one Policy holds every threshold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from penthy_model.constants import GRID_MIN_Z, MP3_GRID_MIN_Z

from penthy_model.inference import Model, Thresholds, write_sidecar
from penthy_model.evidence import CodecEvidence, CodecMeasure
from penthy_model.verdict import Findings, Policy, decide


def ev(*measures) -> CodecEvidence:
    return CodecEvidence(tuple(measures))

POLICY = Policy(transcoded=0.3, lossless=0.7, transcoded_low_content=0.2, pooling="mean", texture_min=1.0)  # round numbers for the tests
LOW = np.full(8, 0.05)  # the CNN reads "transcoded"
HIGH = np.full(8, 0.95)
CONTENT = np.ones(8, bool)


def findings(scores=LOW, content=CONTENT, **kw) -> Findings:
    kw.setdefault("sample_rate", 44100)
    return Findings(scores, content, **kw)


def test_a_codec_grid_is_proof_whatever_the_model_says():
    mp3 = ev(CodecMeasure("mp3", 14.0, 48, 12, "mid"))
    for scores in (LOW, HIGH):
        verdict, score, reason, *_ = decide(findings(scores, codec=mp3, cutoff_hz=16500), POLICY)
        assert verdict == "transcoded" and score == 0.0
        assert reason.startswith("decoded from MP3: its frame grid shows in 12 windows of the mid channel "
                                 "(near-zero coefficients at alignment 48, z 14.0)")


@pytest.mark.parametrize("evidence,named", [
    (CodecMeasure("aac", GRID_MIN_Z - 0.1, 0, 12), False),
    (CodecMeasure("aac", GRID_MIN_Z, 0, 12), True),
    (CodecMeasure("vorbis", GRID_MIN_Z, 0, 12), True),
    (CodecMeasure("mp3", MP3_GRID_MIN_Z - 0.1, 48, 12), False),
    (CodecMeasure("mp3", MP3_GRID_MIN_Z, 48, 12), True),
    (CodecMeasure("mp3", float("nan"), None, 12), False),
    (CodecMeasure("unknown", 99.0, 0, 12), False),  # a codec the policy has no threshold for
])
def test_each_codec_has_its_own_threshold(evidence, named):
    """A grid at its codec's threshold proves a transcode and names the codec, whatever the
    network says; under it, a file the network vouches for stays lossless."""
    decision = decide(findings(HIGH, codec=ev(evidence), cutoff_hz=20000), POLICY)
    assert decision.verdict == ("transcoded" if named else "lossless")
    assert (decision.proof is not None and decision.proof.codec) == (named and evidence.codec)


def test_a_weak_grid_backs_the_network_but_names_no_codec():
    """Issue 25: a grid at its codec's support level (too weak to name the codec) is lossy
    evidence no steady filter leaves, so it backs the network's "transcoded"; under that
    level, or where the network vouches for the file, or with content no lossy stream
    carries, it does not."""
    support = POLICY.codec_support_z["opus"]
    assert support < POLICY.codec_min_z["opus"]
    weak = ev(CodecMeasure("opus", support, None, 12, "", "bursts of energy above 20 kHz at its 20 ms frame edges"))
    decision = decide(findings(cutoff_hz=20400, texture=0.1, codec=weak), POLICY)
    assert decision.verdict == "transcoded" and decision.proof is None and decision.support.codec == "opus"
    assert decision.score == pytest.approx(0.05)
    assert decision.reason == (f"the model scored 0.05, and Opus's frame grid shows weakly in the samples (bursts of energy "
                               f"above 20 kHz at its 20 ms frame edges, z {support:.1f}): no steady filter leaves one, "
                               f"but it is too weak to name the codec (z {POLICY.codec_min_z['opus']:.1f} would)")
    under = ev(CodecMeasure("opus", support - 0.1, None, 12))
    assert decide(findings(cutoff_hz=20400, texture=0.1, codec=under), POLICY).verdict == "inconclusive"
    assert decide(findings(HIGH, cutoff_hz=20400, codec=weak), POLICY).verdict == "lossless"
    hires = findings(sample_rate=96000, hires_content_hz=43000.0, codec=weak)
    assert decide(hires, POLICY).verdict == "inconclusive"


def test_a_weak_grid_decides_a_file_the_network_leaves_undecided():
    """Engine 0.2.9: where the network neither reads "transcoded" nor vouches for the file (its
    score between its thresholds, or too little sound above 16 kHz with a score under
    ``lossless``), a grid at its support level decides it; the support levels were set on
    every genuine selection file, whatever the network said of it."""
    support = POLICY.codec_support_z["opus"]
    weak = ev(CodecMeasure("opus", support, None, 12, "", "bursts of energy above 20 kHz at its 20 ms frame edges"))
    middle = np.full(8, 0.5)
    decision = decide(findings(middle, codec=weak), POLICY)
    assert decision.verdict == "transcoded" and decision.proof is None and decision.support.codec == "opus"
    assert decision.score == pytest.approx(0.5)
    assert decision.reason.startswith("the model scored 0.50, too low to vouch for the file, and Opus's frame grid "
                                      "shows weakly in the samples")
    sparse = findings(middle, np.zeros(8, bool), codec=weak)
    assert decide(sparse, POLICY).verdict == "transcoded"
    under = ev(CodecMeasure("opus", support - 0.1, None, 12))
    assert decide(findings(middle, codec=under), POLICY).verdict == "inconclusive"
    # a score at the lossless threshold is no doubt of the network's, with or without sound above 16 kHz
    at_lossless = np.full(8, POLICY.lossless)
    assert decide(findings(at_lossless, codec=weak), POLICY).verdict == "lossless"
    assert decide(findings(at_lossless, np.zeros(8, bool), codec=weak), POLICY).verdict == "inconclusive"
    hires = findings(middle, sample_rate=96000, hires_content_hz=43000.0, codec=weak)
    assert decide(hires, POLICY).verdict == "inconclusive"


def test_a_steady_lowpass_without_a_grid_is_inconclusive_with_a_checkable_reason():
    verdict, score, reason, *_ = decide(findings(cutoff_hz=20000, texture=0.1, texture_band_hz=(17100, 19600),
                                             codec=ev(CodecMeasure("mp3", 3.0, 48, 12))), POLICY)
    assert verdict == "inconclusive" and score == pytest.approx(0.05)
    assert reason.startswith("a steady low-pass at 20.0 kHz and no codec frame grid: a mastering or resampling "
                             "filter looks the same")
    assert "lossy texture 0.10 dB, under 1.00" in reason


def test_lossy_texture_backs_the_models_verdict():
    verdict, score, reason, *_ = decide(findings(cutoff_hz=19000, texture=2.5, texture_band_hz=(16100, 18600)), POLICY)
    assert verdict == "transcoded" and score == pytest.approx(0.05)
    assert "changes from frame to frame as a lossy coder's does (lossy texture 2.50 dB" in reason
    # ...but only backs it: texture with a model that reads lossless is no accusation
    assert decide(findings(HIGH, cutoff_hz=19000, texture=2.5), POLICY)[0] == "lossless"
    assert decide(findings(cutoff_hz=19000, texture=0.99), POLICY)[0] == "inconclusive"


def test_no_band_to_judge_is_no_proof():
    verdict, _, reason, *_ = decide(findings(cutoff_hz=12000, texture=None), POLICY)
    assert verdict == "inconclusive" and "no band under the cutoff to judge its texture" in reason


def test_little_content_above_16k_needs_proof_too():
    """A genuine track through a steep 15 kHz low-pass scored 0.12 (under the low-content
    threshold) and was called transcoded; without a grid or texture it is not."""
    none = np.zeros(8, bool)
    verdict, _, reason, *_ = decide(findings(np.full(8, 0.12), none, cutoff_hz=15000, texture=0.2), POLICY)
    assert verdict == "inconclusive" and "a steady low-pass at 15.0 kHz" in reason
    assert decide(findings(np.full(8, 0.12), none, cutoff_hz=15000, texture=3.0), POLICY)[0] == "transcoded"
    verdict, _, reason, *_ = decide(findings(np.full(8, 0.25), none, cutoff_hz=15000), POLICY)
    assert verdict == "inconclusive" and "little sound above 16 kHz" in reason
    assert decide(findings(HIGH, none), POLICY)[0] == "inconclusive"  # nothing to vouch for it either


def test_hires_content_above_24k_is_never_accused_on_the_models_word():
    f = findings(sample_rate=96000, cutoff_hz=45000, hires_content_hz=43000.0, texture=5.0)
    verdict, _, reason, *_ = decide(f, POLICY)
    assert verdict == "inconclusive"
    assert "content runs on to 43.0 kHz in a 96 kHz file: no MP3, Opus or 44.1/48 kHz AAC/Vorbis" in reason
    grid = ev(CodecMeasure("aac", 30.0, 0, 12))
    assert decide(findings(sample_rate=96000, hires_content_hz=43000.0, codec=grid), POLICY)[0] == "transcoded"


def test_resampling_is_named_in_the_reason():
    verdict, _, reason, *_ = decide(findings(cutoff_hz=15900, upsampled_from=32000, texture=0.0), POLICY)
    assert verdict == "inconclusive"
    assert "a brick wall at 15.9 kHz, as resampling from 32 kHz leaves, and no codec frame grid" in reason


def test_lossless_and_between_thresholds():
    assert decide(findings(HIGH), POLICY)[:3] == ("lossless", pytest.approx(0.95), None)
    verdict, _, reason, *_ = decide(findings(np.full(8, 0.5)), POLICY)
    assert verdict == "inconclusive" and reason == "score 0.50 is between the thresholds"
    verdict, _, reason, *_ = decide(findings(np.array([])), POLICY)
    assert verdict == "inconclusive" and "0 usable window" in reason


def test_policy_comes_from_the_sidecar_and_overrides_go_through_it(tmp_path, model_path):
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(model_path.read_bytes())
    write_sidecar(onnx, "v", Thresholds(0.25, 0.6, 0.15), pooling="logit_mean")
    policy = Policy.for_model(Model(onnx))
    assert (policy.transcoded, policy.lossless, policy.transcoded_low_content, policy.pooling) == \
        (0.25, 0.6, 0.15, "logit_mean")
    p = policy.with_threshold(0.8)  # the CLI's --threshold: lossless is raised to it
    assert (p.transcoded, p.lossless, p.transcoded_low_content) == (0.8, 0.8, 0.8)
    assert p.texture_min == policy.texture_min and p.codec_min_z == policy.codec_min_z  # the rest stays
    p = policy.with_threshold({"lossless": 0.9})
    assert (p.transcoded, p.lossless, p.transcoded_low_content) == (0.25, 0.9, 0.15)
    p = policy.with_threshold({"transcoded": 0.1})
    assert (p.transcoded, p.lossless, p.transcoded_low_content) == (0.1, 0.6, 0.1)
    with pytest.raises(ValueError):
        policy.with_threshold({"transcoded": 0.9, "lossless": 0.5})
    with pytest.raises(ValueError, match="not bogus"):
        policy.with_threshold({"bogus": 0.5})
    assert json.loads(onnx.with_suffix(".json").read_text())["thresholds"]["transcoded"] == 0.25


def test_the_policy_is_frozen():
    with pytest.raises(Exception):
        POLICY.texture_min = 0.0  # type: ignore[misc]


def test_below_the_policys_lowest_rate_only_a_codec_grid_decides():
    """A 32 kHz file has no band above 16 kHz for the network: decide() says so, and a codec
    grid still proves a transcode (the one place a verdict is made, for every rate)."""
    verdict, score, reason, *_ = decide(Findings((), (), sample_rate=32000), POLICY)
    assert (verdict, score) == ("inconclusive", None)
    assert reason == "sample rate 32000 Hz: there is no band above 16 kHz to judge"
    mp2 = ev(CodecMeasure("mp2", 25.0, 7, 12))
    verdict, score, reason, *_ = decide(Findings((), (), sample_rate=32000, codec=mp2), POLICY)
    assert (verdict, score) == ("transcoded", 0.0)
    assert reason.startswith("decoded from MP2") and "spectrogram model" not in reason
    lower = Policy(**{**POLICY.__dict__, "min_sample_rate": 22050})
    assert decide(Findings(HIGH, CONTENT, sample_rate=32000), lower)[0] == "lossless"


def test_the_result_gives_the_z_of_the_grid_its_verdict_rests_on(tmp_path):
    """A stronger grid of another codec, under its own levels, does not stand in the result
    for the one that backs the verdict: grid_z and grid_alignment are the backing grid's, and
    no codec is named."""
    from penthy_model.analyze import Analyzer
    from penthy_model.result import Result

    from helpers import tiny_model

    analyzer = Analyzer(tiny_model(tmp_path / "tiny.onnx"), policy=POLICY)
    opus = CodecMeasure("opus", POLICY.codec_support_z["opus"] + 0.2, 228, 12)
    wma = CodecMeasure("wma", POLICY.codec_support_z["wma"] - 0.1, 512, 12)
    result = Result("x.flac", "inconclusive", grid_z=round(wma.z, 1), grid_alignment=512)
    analyzer._decided(result, findings(cutoff_hz=20400, codec=ev(wma, opus)))
    assert (result.verdict, result.codec, result.backed_by) == ("transcoded", None, "opus")
    assert (result.grid_z, result.grid_alignment, result.grid) == (round(opus.z, 1), 228, None)
    low = CodecMeasure("opus", POLICY.codec_support_z["opus_lowpass_low"], None, 12, grid="opus_lowpass_low")
    analyzer._decided(result, findings(cutoff_hz=20400, codec=ev(low)))
    assert (result.verdict, result.backed_by, result.grid, result.grid_alignment) == (
        "transcoded", "opus", "opus_lowpass_low", None)


def test_at_celts_band_end_the_low_pass_frame_edges_name_opus_from_their_backing_level():
    """Engine 0.2.11: the frame edges above a source's low-pass, at the z from which they only
    back a transcoded verdict, name Opus where the noise floor also has CELT's band end (grid
    "opus_bandend"), even where the network would vouch for the file; under that z they do not."""
    level = POLICY.codec_support_z["opus_lowpass_low"]
    assert POLICY.codec_min_z["opus_bandend"] == level < POLICY.codec_min_z["opus_lowpass_low"]
    low = CodecMeasure("opus", level, None, 24, sign="bursts", grid="opus_lowpass_low")
    end = CodecMeasure("opus", level, None, 24, sign="bursts, over a noise floor", grid="opus_bandend")
    backed = decide(findings(codec=ev(low)), POLICY)
    assert (backed.verdict, backed.proof, backed.support) == ("transcoded", None, low)
    named = decide(findings(HIGH, codec=ev(low, end)), POLICY)
    assert (named.verdict, named.proof) == ("transcoded", end) and "decoded from Opus" in named.reason
    weaker = CodecMeasure("opus", level - 0.1, None, 24, grid="opus_bandend")
    assert decide(findings(HIGH, codec=ev(weaker)), POLICY).proof is None
