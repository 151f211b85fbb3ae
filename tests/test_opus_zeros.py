"""Opus decodes kept at 48 kHz of quiet or sparse music (issue 26): CELT codes each band as a
gain times a few whole pulses, so cut again at its grid, the band above the music's own low-pass
holds little but the decode's rounding, and less there than a shift of 32 to 128 samples finds
(``opus.zeros_z``; grid "opus_zeros", with levels of its own in the policy)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import ffmpeg_has, sparse_music, write_flac

from penthy_model.audio import read_windows
from penthy_model.constants import CODEC_MIN_Z, CODEC_SUPPORT_Z
from penthy_model.evidence import opus
from penthy_model.training import fakes

SR = 48000


@pytest.fixture(scope="module")
def decodes(tmp_path_factory):
    if not (ffmpeg_has("libopus") and ffmpeg_has("mp2")):
        pytest.skip("ffmpeg has no libopus or mp2 encoder")
    d = tmp_path_factory.mktemp("opus_zeros")
    src = write_flac(d / "sparse.flac", 0.3 * sparse_music(20.0, seed=5, sr=SR), SR)
    out = {"source": src}
    for name in ("opus48_128", "mp2_256"):  # MP2: a subband coder's own grid, every 32 samples
        fakes.make_fake(src, d / f"{name}.flac", fakes.MORE_CONDITIONS[name])
        out[name] = d / f"{name}.flac"
    return out


def _zeros(path):
    w = read_windows(path)
    return opus.zeros_z(w.samples, w.starts, w.sample_rate)


def test_a_sparse_decode_is_emptier_at_celts_grid_and_its_source_is_not(decodes):
    z, channel = _zeros(decodes["opus48_128"])
    assert z >= CODEC_MIN_Z[opus.ZEROS_GRID] and channel in opus.ZERO_CHANNELS, (z, channel)
    z, _ = _zeros(decodes["source"])
    assert not abs(z) >= CODEC_SUPPORT_Z[opus.ZEROS_GRID] / 2, z


def test_a_subband_coders_grid_is_no_celt_grid(decodes):
    z, _ = _zeros(decodes["mp2_256"])
    assert not z >= CODEC_SUPPORT_Z[opus.ZEROS_GRID] / 2, z


def test_a_steady_tone_on_whole_cycles_per_frame_is_no_grid():
    """A 19 kHz pilot (an FM capture) and a 375 Hz square's harmonics have whole cycles in every
    20 ms frame, so their coefficients' sizes at an alignment are the same in every block: a
    per-block test read them as a grid (z up to 21, rule 15); against the other alignments, where
    the tone comes round alike, they read as chance."""
    rng = np.random.default_rng(11)
    t = np.arange(12 * SR) / SR
    square = 0.02 * np.sign(np.sin(2 * np.pi * 375.0 * t))
    for tone in (0.02 * np.sin(2 * np.pi * 19000.0 * t), square):
        x = 0.3 * sparse_music(12.0, seed=4, sr=SR) + tone[:, None] + 2e-5 * rng.standard_normal((len(t), 2))
        w = x.reshape(12, SR, 2).astype(np.float32)
        z, _ = opus.zeros_z(w, [i * SR for i in range(12)], SR)
        assert abs(z) < CODEC_SUPPORT_Z[opus.ZEROS_GRID] / 2, z


def test_noise_reads_as_chance_and_other_rates_are_not_read():
    rng = np.random.default_rng(7)
    x = (0.05 * rng.standard_normal((6, SR, 2))).astype(np.float32)
    z, _ = opus.zeros_z(x, [i * SR for i in range(6)], SR)
    assert abs(z) < 4.0, z
    assert np.isnan(opus.zeros_z(x, [i * SR for i in range(6)], 44100)[0])


def test_the_engine_names_opus_in_that_decode_and_nothing_in_its_source(decodes, model_path):
    from penthy_model.analyze import Analyzer

    analyzer = Analyzer(model_path)
    result = analyzer.analyze(decodes["opus48_128"])
    assert result.verdict == "transcoded" and result.codec == "opus", result
    source = analyzer.analyze(decodes["source"])
    assert source.verdict != "transcoded" and source.codec is None, source
