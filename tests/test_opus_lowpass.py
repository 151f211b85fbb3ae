"""Opus decodes of low-passed sources (issues 25 and 26): nothing above 20 kHz to leak, but
CELT's frame edges burst just above the source's own low-pass (``opus.lowpass_z``; grid
"opus_lowpass" for a low-pass at 12-19.5 kHz, "opus_lowpass_low" at 6-12 kHz, each with levels
of its own in the policy); at 48 kHz, the decode's noise floor ends where CELT's coded bands do
(``opus.band_end_step``), which names the codec those frame edges belong to (grid "opus_bandend")."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from helpers import ffmpeg_has, music, write_flac

from penthy_model.audio import read_windows
from penthy_model.constants import CODEC_MIN_Z, CODEC_SUPPORT_Z, OPUS_BAND_END_DB
from penthy_model.evidence import CodecEvidence, CodecMeasure, find_codec, opus
from penthy_model.training import fakes
from penthy_model.verdict import Policy, level_of

SR = 44100
NAMING = CODEC_MIN_Z[opus.LOWPASS_GRID]


def _low_passed(x: np.ndarray, cut: float, sr: int = SR) -> np.ndarray:
    """``x`` through a brick wall at ``cut`` Hz (a steep linear-phase low-pass)."""
    spectrum = np.fft.rfft(x, axis=0)
    spectrum[np.fft.rfftfreq(len(x), 1 / sr) > cut] = 0
    return np.clip(np.fft.irfft(spectrum, len(x), axis=0), -1, 1)


@pytest.fixture(scope="module")
def low_passed(tmp_path_factory):
    d = tmp_path_factory.mktemp("opus_lowpass")
    return write_flac(d / "music_16k.flac", _low_passed(music(10.0, sr=SR, seed=11), 16000.0), SR)


def test_the_source_edge_is_found_where_the_low_pass_is():
    rng = np.random.default_rng(4)
    for cut in (13000.0, 16000.0, 18500.0):
        x = _low_passed(0.1 * rng.standard_normal((SR * 3, 2)), cut) + 1e-5 * rng.standard_normal((SR * 3, 2))
        edge = opus.source_edge(x.reshape(3, SR, 2).astype(np.float32), SR)
        assert abs(edge - cut) < 200, (cut, edge)
    assert opus.source_edge(np.zeros((2, 1000, 2), np.float32), SR) is None  # shorter than a frame


@pytest.fixture(scope="module")
def decode(low_passed, tmp_path_factory):
    """A libopus decode (96 kbit/s, resampled to 44.1 kHz) of ``low_passed``."""
    if not ffmpeg_has("libopus"):
        pytest.skip("ffmpeg has no libopus encoder")
    dst = tmp_path_factory.mktemp("opus_lowpass_decode") / "decode.flac"
    fakes.make_fake(low_passed, dst, fakes.CONDITIONS["opus_96"])
    return dst


def test_a_decode_of_a_low_passed_source_bursts_just_above_its_edge(low_passed, decode):
    """Music low-passed at 16 kHz and its Opus decode: the band above 20 kHz holds nothing
    (``burst_z`` cannot tell), the band just above 16 kHz bursts at the frame edges over the
    naming level; the source itself reads under half of it."""
    w = read_windows(decode)
    z, edge = opus.lowpass_z(w.samples, w.starts, w.sample_rate)
    assert z >= NAMING and abs(edge - 16000) < 500, (z, edge)
    assert not opus.burst_z(w.samples, w.starts, w.sample_rate) >= CODEC_SUPPORT_Z["opus"]
    found = find_codec(w.samples, w.starts, w.sample_rate, detectors=(opus.detect,))
    low = next(m for m in found.measures if m.grid == opus.LOWPASS_GRID)
    assert low.codec == "opus" and low.z == z and "16." in low.sign
    assert Policy(0.05, 0.5, 0.05).proof(found) == low
    source = read_windows(low_passed)
    assert not opus.lowpass_z(source.samples, source.starts, SR)[0] >= NAMING / 2


def test_the_engine_names_opus_in_that_decode_and_not_in_its_source(low_passed, decode, model_path):
    from penthy_model.analyze import Analyzer

    analyzer = Analyzer(model_path)
    fake = analyzer.analyze(decode)
    assert fake.verdict == "transcoded" and fake.codec == "opus" and "low-pass at 16." in fake.reason, fake
    genuine = analyzer.analyze(low_passed)
    assert genuine.verdict != "transcoded" and genuine.codec is None, genuine


@pytest.mark.parametrize("sr,cut", [(44100, 16000.0), (48000, 16000.0), (48000, 10000.0)])
def test_clicks_and_gates_on_the_frame_grid_are_not_opus(sr, cut, tmp_path):
    """A low-passed genuine track with clicks or a hard gate exactly where CELT's frame edges
    would be (every 20 ms, or on a 16th-note grid at 125 BPM, six frames): they splatter over
    the low-pass and above 20 kHz, but they reach under the low-pass too, and the control band
    there takes them out (the 50 Hz gate read z 25 above 20 kHz at 48 kHz before that check).
    Low-passed at 10 kHz, the same for the measure above a low-pass under 12 kHz."""
    rng = np.random.default_rng(6)
    n = 10 * sr
    bed = _low_passed(music(10.0, sr=sr, seed=12), cut, sr)
    period = int(sr * opus.FRAME_SECONDS)
    edges = np.arange(int(round(opus.BURST_AT * sr)), n - period, period)
    gate, beat, clicks = np.ones(n), np.ones(n), np.zeros(n)
    for e in edges:
        gate[e:e + period // 2] = 0.0
    for e in edges[::6]:
        beat[e:e + 3 * period] = 0.0
        clicks[e:e + 200] = rng.standard_normal(200) * np.exp(-np.arange(200) / 30) * 0.5
    for i, x in enumerate((bed * gate[:, None], bed * beat[:, None], bed + _low_passed(clicks[:, None], cut, sr))):
        x = fakes.to_pcm16(np.clip(x, -1, 1), rng).astype(np.float32) / 32768
        w = read_windows(write_flac(tmp_path / f"{i}.flac", x, sr))
        for grid, hz in ((opus.LOWPASS_GRID, opus.EDGE_RANGE_HZ), (opus.LOW_LOWPASS_GRID, opus.LOW_EDGE_RANGE_HZ)):
            z, _ = opus.lowpass_z(w.samples, w.starts, sr, opus.read_edge(w.samples, w.starts, sr, hz))
            assert not z >= CODEC_SUPPORT_Z[grid], (i, grid, z)
        z, _, sign = opus.find(w.samples, w.starts, sr)  # the gate splatters above 20 kHz too
        assert not z >= CODEC_SUPPORT_Z["opus"], (i, z, sign)
    assert opus.edge_moves(w.samples, w.starts, sr) < opus.MOVES_VETO  # clicks: the usual measures stand


def test_the_policy_reads_a_grid_by_its_own_levels():
    """A measure with a grid the policy has levels for is judged by them, not by its codec's:
    the same z backs the network as Opus's frame edges above 20 kHz but not as those above a
    low-pass, whose genuine ceiling is higher."""
    policy = Policy(0.05, 0.5, 0.05)
    z = (policy.codec_support_z["opus"] + policy.codec_support_z[opus.LOWPASS_GRID]) / 2
    plain = CodecMeasure("opus", z, None, 12)
    low = CodecMeasure("opus", z, None, 12, grid=opus.LOWPASS_GRID)
    assert level_of(low, policy.codec_support_z) == CODEC_SUPPORT_Z[opus.LOWPASS_GRID]
    assert policy.support(CodecEvidence((plain,))) == plain
    assert policy.support(CodecEvidence((low,))) is None
    assert level_of(CodecMeasure("mp2", 1.0, grid="subband"), policy.codec_min_z) == CODEC_MIN_Z["subband"]


def test_a_wider_read_keeps_each_grid_apart():
    """``find_codec``'s wider read keeps the higher z per grid: the low-pass measure of one read
    never stands in for the other measure of the same codec."""
    from penthy_model.evidence import _stronger

    plain = CodecMeasure("opus", 2.0, None, 12)
    low = CodecMeasure("opus", 3.0, None, 12, grid=opus.LOWPASS_GRID)
    wider = [CodecMeasure("opus", float("nan"), None, 24), CodecMeasure("opus", 9.0, None, 24, grid=opus.LOWPASS_GRID)]
    assert _stronger(plain, wider) == plain
    assert _stronger(low, wider) == wider[1]


@pytest.fixture(scope="module")
def dull(tmp_path_factory):
    """20 s of music low-passed at 11 kHz at 48 kHz (nothing above 16 kHz for the network), and
    its libopus decode kept at 48 kHz (128 kbit/s)."""
    if not ffmpeg_has("libopus"):
        pytest.skip("ffmpeg has no libopus encoder")
    d = tmp_path_factory.mktemp("opus_lowpass_low")
    src = write_flac(d / "dull.flac", _low_passed(music(20.0, sr=48000, seed=3), 11000.0, 48000), 48000)
    dst = d / "dull_opus.flac"
    fakes.make_fake(src, dst, fakes.MORE_CONDITIONS["opus48_128"])
    return src, dst


def test_a_decode_of_dull_music_bursts_just_above_its_low_pass_under_12_khz(dull):
    """Engine 0.2.10: the frame edges just above a low-pass between 6 and 12 kHz are a measure
    of their own (grid "opus_lowpass_low"): read in 24 windows, the decode stands over its
    backing level just above 11 kHz; its source reads under half that."""
    src, dst = dull
    support = CODEC_SUPPORT_Z[opus.LOW_LOWPASS_GRID]
    w = read_windows(dst, max_windows=24)
    found = {m.grid or m.codec: m for m in opus.detect(w.samples, w.starts, w.sample_rate, 20.0, {}, True)}
    assert set(found) == {"opus", opus.LOWPASS_GRID, opus.LOW_LOWPASS_GRID, opus.BANDEND_GRID, opus.ZEROS_GRID}
    low = found[opus.LOW_LOWPASS_GRID]
    assert low.z >= support and "low-pass at 11." in low.sign, low
    assert not found["opus"].z >= CODEC_SUPPORT_Z["opus"]  # nothing near 20 kHz to leak
    end = found[opus.BANDEND_GRID]  # engine 0.2.11: the floor steps at 20 kHz, so the same z names Opus
    assert end.z == low.z and end.z >= CODEC_MIN_Z[opus.BANDEND_GRID], end
    assert low.sign in end.sign and "drops 3." in end.sign, end.sign  # two roundings over one: 3 dB
    w = read_windows(src, max_windows=24)
    z, edge = opus.lowpass_z(w.samples, w.starts, w.sample_rate,
                             opus.read_edge(w.samples, w.starts, w.sample_rate, opus.LOW_EDGE_RANGE_HZ))
    assert abs(edge - 11000) < 300 and not z >= support / 2, (z, edge)
    assert opus.band_end_step(opus.mean_spectrum(w.samples, w.sample_rate), w.sample_rate) is None


def test_the_band_end_step_the_detector_requires_is_the_policys(dull):
    """The least step at 20 kHz is the policy's (``Policy.detector_requires``), passed down to
    the detector as ``requires``: the decode's step, about 3 dB, counts at 2.5 and not at 10."""
    _, dst = dull
    w = read_windows(dst, max_windows=24)

    def end(requires):
        found = opus.detect(w.samples, w.starts, w.sample_rate, 20.0, {}, True, requires)
        return next(m for m in found if m.grid == opus.BANDEND_GRID)

    assert Policy(0.3, 0.7, 0.3).detector_requires == {opus.BANDEND_GRID: OPUS_BAND_END_DB}
    assert end({opus.BANDEND_GRID: OPUS_BAND_END_DB}).measured
    assert not end({opus.BANDEND_GRID: 10.0}).measured


def test_the_engine_calls_that_decode_transcoded_and_not_its_source(dull, model_path):
    from penthy_model.analyze import Analyzer

    analyzer = Analyzer(model_path)
    src, dst = dull
    fake = analyzer.analyze(dst)  # engine 0.2.17: the small coefficients at CELT's grid stand out more
    assert fake.verdict == "transcoded" and fake.codec == "opus" and fake.grid == opus.ZEROS_GRID, fake
    policy = analyzer.policy  # without that measure, the frame edges over the band end name it
    blind = {**policy.codec_min_z, opus.ZEROS_GRID: np.inf}, {**policy.codec_support_z, opus.ZEROS_GRID: np.inf}
    fake = Analyzer(model_path, policy=replace(policy, codec_min_z=blind[0], codec_support_z=blind[1])).analyze(dst)
    assert fake.verdict == "transcoded" and fake.codec == "opus" and fake.grid == opus.BANDEND_GRID, fake
    assert "low-pass at 11." in fake.reason and "where its coded bands end" in fake.reason, fake.reason
    genuine = analyzer.analyze(src)
    assert genuine.verdict != "transcoded" and genuine.codec is None and genuine.backed_by is None, genuine


def _floor_windows(shape_db, sr: int = 48000, seed: int = 5) -> np.ndarray:
    """Four 1 s windows, 16-bit: a few quiet tones under 11 kHz (so that rounding is white) and a
    noise floor of 0.5 of a 16-bit step rms whose spectrum is ``shape_db(hz)`` dB, rounded."""
    rng = np.random.default_rng(seed)
    t = np.arange(4 * sr) / sr
    tones = sum(0.01 * np.sin(2 * np.pi * f * t) for f in (220.0, 1870.0, 6100.0, 10400.0))
    noise = rng.standard_normal((4 * sr, 2))
    spectrum = np.fft.rfft(noise, axis=0)
    spectrum *= 10 ** (shape_db(np.fft.rfftfreq(len(noise), 1 / sr)) / 20)[:, None]
    floor = np.fft.irfft(spectrum, len(noise), axis=0) * (0.5 / 32768)
    x = np.round((tones[:, None] + floor) * 32768) / 32768
    return x.reshape(4, sr, 2).astype(np.float32)


def test_the_band_end_is_a_sharp_step_at_20_khz_over_a_level_floor():
    """``band_end_step``: a floor cut at 20 kHz before the last rounding (a decode: the coder's
    noise under CELT's last band, the decode's rounding alone above) steps about 6 dB here; a
    level floor, one that falls over 2 kHz (a resampler's filter), one still falling above 20
    kHz (music, another coder's roll-off) and any rate but 48 kHz give None."""
    sr = 48000

    def step(shape, rate=sr):
        w = _floor_windows(shape, rate)
        return opus.band_end_step(opus.mean_spectrum(w, rate), rate)

    cut = step(lambda hz: np.where(hz < 20000, 0.0, -200.0))
    assert cut is not None and 5.0 < cut < 7.0, cut
    assert step(lambda hz: np.zeros_like(hz)) is None
    # a filter falling 100 dB from 19.5 to 21.5 kHz: the floor steps 4.4 dB from 19-19.9 kHz to above 20.1 kHz,
    # but not within 100 Hz of 20 kHz
    assert step(lambda hz: np.clip((hz - 19500) / 2000, 0, 1) * -100.0) is None
    assert step(lambda hz: np.where(hz < 20000, 0.0, np.where(hz < 22000, -3.0, -200.0))) is None  # not level
    w = _floor_windows(lambda hz: np.where(hz < 20000, 0.0, -200.0), 44100)
    assert opus.band_end_step(opus.mean_spectrum(w, 44100), 44100) is None
