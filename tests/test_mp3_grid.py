"""The MP3 granule grid: LAME decodes show it at the decoders' alignment (and, looked for
thoroughly, wherever they start), genuine audio does not (the engine's use of it is tested
with the other grids in test_mdct_grid.py)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from helpers import mp3_twin, sparse_music, write_flac

from penthy_model.audio import read_windows
from penthy_model.constants import MP3_GRID_MIN_Z
from penthy_model.evidence.mp3 import (
    _CA, _CS, ALIAS_CI, BANDS, EQUAL_LSB, EQUAL_MIN_LSB, EQUAL_SPAN, GRANULE, LINE_TRANSFORMS, LINES,
    NOISE_GAIN, analysis_window, band_samples, granule_lines, line_counts, mp3_z, phase_band_samples,
    phase_counts, sharp_z)

SR = 44100
LAME_ALIGNMENT = 48  # where LAME's granules fall after a decoder that trims its delay


def test_the_analysis_window_is_the_standards():
    c = analysis_window()
    assert len(c) == 512 and c[0] == 0.0
    # a few entries of ISO/IEC 11172-3 Table C.1 as printed
    for i, v in [(1, -0.000000477), (64, 0.000101566), (128, 0.000971317), (255, -0.035758972),
                 (256, 0.035780907), (257, 0.035758972), (448, 0.000101566), (511, 0.000000477)]:
        assert c[i] == pytest.approx(v, abs=6e-10), i
    i = np.arange(1, 256)
    np.testing.assert_array_equal(np.abs(c[512 - i]), np.abs(c[i]))


def test_each_band_holds_its_own_frequencies():
    t = np.arange(8192) / SR
    for band in (0, 5, 20, 31):
        tone = np.sin(2 * np.pi * (band + 0.5) * SR / 64 * t)
        power = (band_samples(tone)[:, 600:] ** 2).mean(axis=1)
        assert np.argmax(power) == band
        near = [b for b in (band - 1, band, band + 1) if 0 <= b < BANDS]
        assert power[band] > 100 * np.delete(power, near).max()  # beyond the neighbours: stop band


def test_lines_are_in_16_bit_steps_for_white_noise():
    noise = np.random.default_rng(0).standard_normal(40000)
    lines = granule_lines(band_samples(noise)[:, ::BANDS])  # (bands, 18 starts, granules, 18 lines)
    assert np.sqrt(np.mean(lines[1:31] ** 2)) == pytest.approx(1.0, rel=0.05)


def test_granule_lines_are_the_encoders_transform_at_every_start():
    """The strided products give, for a granule at any band sample, what a plain
    transform of its 36 band samples per band and the standard's butterflies give."""
    bands = np.random.default_rng(5).standard_normal((BANDS, 200)).astype(np.float32)
    lines = granule_lines(bands)
    for j in (0, 7, 18, 61, 18 * (lines.shape[2] - 1) + 17):
        plain = np.einsum("bt,btl->bl", bands[:, j:j + 2 * LINES], LINE_TRANSFORMS) / NOISE_GAIN
        for i in range(len(ALIAS_CI)):
            up, low = plain[:-1, LINES - 1 - i].copy(), plain[1:, i].copy()
            plain[:-1, LINES - 1 - i], plain[1:, i] = up * _CS[i] + low * _CA[i], low * _CS[i] - up * _CA[i]
        np.testing.assert_allclose(lines[:, j % LINES, j // LINES], plain, rtol=1e-4, atol=1e-4)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("mp3grid")
    genuine = write_flac(d / "genuine.flac", sparse_music())
    mp3 = mp3_twin(genuine, d / "mp3.flac", kbps=192)
    x, _ = sf.read(str(mp3), dtype="float32")
    # an MP3 decode in the left channel beside a right one that never was one: the mix
    # hides its zeroed lines under the right channel's music, the left channel does not
    other = sparse_music(seed=8)[:, 1]
    return {"genuine": genuine, "mp3": mp3, "mp3_cut": write_flac(d / "mp3_cut.flac", x[100:]),
            "mp3_left": write_flac(d / "mp3_left.flac", np.stack([x[:, 0], other[:len(x)]], axis=1)),
            "mp3_320": mp3_twin(genuine, d / "mp3_320.flac", kbps=320)}


def _z(path, **kw):
    w = read_windows(str(path))
    return mp3_z(w.samples, w.starts, w.sample_rate, **kw)


def test_band_samples_in_one_phase_are_those_of_every_sample():
    x = np.random.default_rng(2).standard_normal(5000)
    every = band_samples(x)  # column j: the output at sample 511 + j
    for first in (511, 530, 1000):
        np.testing.assert_allclose(phase_band_samples(x, first), every[:, first - 511::BANDS], rtol=1e-3, atol=1e-3)


def test_genuine_music_shows_no_mp3_grid(files):
    for thorough in (False, True):
        found = _z(files["genuine"], thorough=thorough)
        assert found.windows >= 3 and found.z < 5.0, found


@pytest.mark.parametrize("name", ["mp3", "mp3_left", "mp3_320"])
def test_an_mp3_decode_shows_its_grid_at_the_decoders_alignment(files, name):
    """LAME through libsndfile lands at 48; a grid in one channel shows in that channel's
    lines; at 320 kbit/s few lines are zero, but equal pairs stand out."""
    found = _z(files[name])
    assert found.z >= MP3_GRID_MIN_Z and found.alignment == LAME_ALIGNMENT, found
    if name == "mp3_320":
        assert found.sign == "equal pairs of lines"


def test_a_decode_that_starts_elsewhere_is_found_when_looked_for_thoroughly(files):
    found = _z(files["mp3_cut"], thorough=True)
    assert found.z >= MP3_GRID_MIN_Z and found.alignment == (LAME_ALIGNMENT - 100) % GRANULE, found


def test_the_screen_stops_as_soon_as_the_answer_is_clear(files):
    clear = _z(files["mp3"], clear_z=2 * MP3_GRID_MIN_Z, absent_z=MP3_GRID_MIN_Z / 2)
    whole = _z(files["mp3"])
    assert clear.z >= 2 * MP3_GRID_MIN_Z and clear.windows < whole.windows


def test_too_little_sound_is_not_judged():
    silent = np.zeros((4, 20000, 2), np.float32)
    found = mp3_z(silent, [0, 1, 2, 3], SR)
    assert np.isnan(found.z) and found.windows == 0
    counts = phase_counts(np.full((7000, 2), 2.0), 0, SR, LAME_ALIGNMENT)  # 2 steps: nothing is "active"
    assert counts.shape == (4, GRANULE // BANDS) and not counts.any()


def test_line_counts_count_active_zero_big_and_equal_lines():
    rng = np.random.default_rng(4)
    lines = rng.uniform(-40, 40, (1, BANDS, LINES, 3, LINES)).astype(np.float32)
    lines[0, 5, 2, 1, :] = 0.1  # a silent band: not active
    lines[0, 7, 4, 0, 3:6] = 0.2  # three near-zero lines in an active band
    counts = line_counts(lines, 2)
    mag = np.abs(lines[0, 2:])
    active = (mag ** 2).sum(axis=-1) >= LINES * 64
    np.testing.assert_array_equal(counts[0], active.sum(axis=(0, 2)) * LINES)
    np.testing.assert_array_equal(counts[1], ((mag < 0.5) & active[..., None]).sum(axis=(0, 2, 3)))
    assert counts[1, 4] >= 3
    flat = mag.reshape(mag.shape[0], LINES, -1)  # per band and start, its granules' lines in a row
    for k in (0, 4):
        want = [(a, b) for band in flat[:, k] for i, a in enumerate(band) for b in band[i + 1:i + EQUAL_SPAN + 1]
                if a >= EQUAL_MIN_LSB and b >= EQUAL_MIN_LSB]
        assert counts[2, k] == len(want)
        assert counts[3, k] == sum(abs(a - b) < EQUAL_LSB for a, b in want)
    # continuous sizes are rarely equal; a decoder's, whole powers of a few values times one
    # step, often are
    assert counts[3].sum() / counts[2].sum() < 0.03
    q = rng.integers(-3, 4, lines.shape)
    decoded = np.sign(q) * np.abs(q) ** (4 / 3) * 7.0 + rng.normal(0, 0.05, lines.shape)
    c = line_counts(decoded.astype(np.float32), 2)
    assert c[3].sum() / c[2].sum() > 0.2


def test_a_decodes_grid_is_one_sample_wide(files):
    """``sharp_z``: an MP3 decode's grid stands far above the alignments one sample either
    side; one sample off, the grid itself is the neighbour, so nothing stands out there."""
    w = read_windows(str(files["mp3"]))
    found = mp3_z(w.samples, w.starts, w.sample_rate)
    assert found.alignment == LAME_ALIGNMENT
    assert sharp_z(w.samples, w.starts, SR, LAME_ALIGNMENT, found.sign) >= MP3_GRID_MIN_Z
    for off in (LAME_ALIGNMENT - 1, LAME_ALIGNMENT + 1):
        assert sharp_z(w.samples, w.starts, SR, off, found.sign) < 0


def test_fm_synthesis_whose_sidebands_pair_up_is_not_named_mp3(tmp_path, monkeypatch):
    """A genuine FM clip of issue 25's test5 split (48 kHz, network 0.98): its symmetric
    sidebands make equal pairs of lines in a hump around alignment 427, and the quick screen,
    which stops once a z reaches 20, read 20.2 at 432 and named MP3. The z one sample either
    side is as high, so ``sharp_z`` takes it away; without the check it is named."""
    from penthy_model.analyze import analyze
    from penthy_model.evidence import mp3
    from penthy_model.training import fakes, genuine_kinds

    seed = 2750025  # bench/d25_make.py: test5's full-band FM clip 25
    x, sr, _ = genuine_kinds.make_clip("full", "fm", seed, 10.0, 48000)
    path = write_flac(tmp_path / "fm.flac", fakes.to_pcm16(x, np.random.default_rng(seed + 7)), sr)
    r = analyze(path)
    assert r.codec is None and r.verdict != "transcoded", (r.verdict, r.codec, r.grid_z)
    monkeypatch.setattr(mp3, "sharp_z", lambda *a: np.inf)
    assert analyze(path).codec == "mp3"
