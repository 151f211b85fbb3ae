"""The MP3 granule grid: LAME decodes show it wherever they start, genuine audio does not
(the engine's use of it is tested with the other grids in test_grid.py)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from helpers import mp3_twin, sparse_music, write_flac

from penthy_model.audio import read_windows
from penthy_model.constants import MP3_CONFIRM_Z, MP3_EQUAL_Z, MP3_GRID_MIN_Z
from penthy_model.evidence.mp3 import (
    BANDS, EQUAL_LSB, EQUAL_MIN_LSB, EQUAL_SPAN, GRANULE, NOISE_GAIN, alignment_counts, analysis_window,
    band_samples, equal_pairs, find_mp3_grid, granule_lines, mp3_confirm_z, mp3_grid_z, phase_band_samples,
    phase_counts)

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
    lines = granule_lines(band_samples(noise)[:, ::BANDS]) / NOISE_GAIN
    assert np.sqrt(np.mean(lines[:, 20:560] ** 2)) == pytest.approx(1.0, rel=0.05)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("mp3grid")
    genuine = write_flac(d / "genuine.flac", sparse_music())
    mp3 = mp3_twin(genuine, d / "mp3.flac", kbps=192)
    x, _ = sf.read(str(mp3), dtype="float32")
    # an MP3 decode in the left channel beside a right one that never was one: the mix the
    # scan reads hides its zeroed lines under the right channel's music
    other = sparse_music(seed=8)[:, 1]
    return {"genuine": genuine, "mp3": mp3, "mp3_cut": write_flac(d / "mp3_cut.flac", x[100:]),
            "mp3_left": write_flac(d / "mp3_left.flac", np.stack([x[:, 0], other[:len(x)]], axis=1)),
            "mp3_left_cut": write_flac(d / "mp3_left_cut.flac", np.stack([x[100:, 0], other[:len(x) - 100]], axis=1)),
            "mp3_320": mp3_twin(genuine, d / "mp3_320.flac", kbps=320)}


def _z(path):
    w = read_windows(str(path))
    return mp3_grid_z(w.samples, w.starts, w.sample_rate), w


def test_band_samples_in_one_phase_are_those_of_every_sample():
    x = np.random.default_rng(2).standard_normal(5000)
    every = band_samples(x)  # column j: the output at sample 511 + j
    for first in (511, 530, 1000):
        np.testing.assert_allclose(phase_band_samples(x, first), every[:, first - 511::BANDS], rtol=1e-4, atol=1e-4)


def test_genuine_music_shows_no_mp3_grid(files):
    (z, best, windows), w = _z(files["genuine"])
    assert windows >= 3 and z < 5.0
    zero, equal = mp3_confirm_z(w.samples, w.starts, w.sample_rate, [best, LAME_ALIGNMENT])
    assert zero.windows >= 3 and zero.z < 5.0
    assert equal.windows >= 3 and equal.z < 5.0
    assert find_mp3_grid(w.samples, w.starts, w.sample_rate, MP3_GRID_MIN_Z, MP3_CONFIRM_Z, MP3_EQUAL_Z) is None


@pytest.mark.parametrize("name,alignment", [("mp3_left", LAME_ALIGNMENT),
                                            ("mp3_left_cut", (LAME_ALIGNMENT - 100) % GRANULE)])
def test_the_second_look_finds_a_grid_the_scan_misses(files, name, alignment):
    """Only the left channel was an MP3: the scan's mix hides it, the four channels do not,
    at 48 or wherever the scan's best alignment is."""
    (z, best, _), w = _z(files[name])
    assert z < MP3_GRID_MIN_Z
    confirmed, at, used = mp3_confirm_z(w.samples, w.starts, w.sample_rate, [best, LAME_ALIGNMENT])[0]
    assert at == alignment and used >= 3 and confirmed >= MP3_CONFIRM_Z
    # ...and it measures the candidate against its own phase only: one sample off, nothing
    assert all(c.z < 5.0 for c in mp3_confirm_z(w.samples, w.starts, w.sample_rate, [alignment + 1]))
    found = find_mp3_grid(w.samples, w.starts, w.sample_rate, MP3_GRID_MIN_Z, MP3_CONFIRM_Z)
    assert found is not None and found.codec == "MP3" and found.z == confirmed
    assert find_mp3_grid(w.samples, w.starts, w.sample_rate, MP3_GRID_MIN_Z) is None  # the scan alone


@pytest.mark.parametrize("name,alignment", [("mp3", LAME_ALIGNMENT), ("mp3_cut", (LAME_ALIGNMENT - 100) % GRANULE)])
def test_an_mp3_decode_shows_its_grid_wherever_it_starts(files, name, alignment):
    (z, best, _), w = _z(files[name])
    assert z >= MP3_GRID_MIN_Z and best == alignment
    found = find_mp3_grid(w.samples, w.starts, w.sample_rate, MP3_GRID_MIN_Z)
    assert found is not None and found.codec == "MP3"


def test_too_little_sound_is_not_judged():
    quiet = np.random.default_rng(1).standard_normal(20000) * 2.0  # 2 steps: nothing is "active"
    active, _ = alignment_counts(quiet, 0, SR)
    assert active.sum() == 0
    (z, _, windows) = mp3_grid_z(np.zeros((4, 20000, 2), np.float32), [0, 1, 2, 3], SR)
    assert np.isnan(z) and windows == 0
    silent = np.zeros((4, 20000, 2))
    assert all(np.isnan(c.z) and c.windows == 0 for c in mp3_confirm_z(silent, [0, 1, 2, 3], SR, [LAME_ALIGNMENT]))
    counts = phase_counts(np.zeros((7000, 2)), 0, SR, LAME_ALIGNMENT)  # nothing after the scan's part
    assert counts.shape == (4, GRANULE // BANDS) and not counts.any()


def test_equal_pairs_counts_big_neighbours_of_the_same_size():
    rng = np.random.default_rng(4)
    lines = rng.uniform(-40, 40, (3, 50, GRANULE)).astype(np.float32)
    pairs, equal = equal_pairs(lines, 10)
    mag = np.abs(lines[..., 10:])
    for g in [(0, 0), (2, 49)]:  # a plain count, pair by pair
        m = mag[g]
        want = [(m[i], m[j]) for i in range(len(m)) for j in range(i + 1, min(i + EQUAL_SPAN + 1, len(m)))
                if m[i] >= EQUAL_MIN_LSB and m[j] >= EQUAL_MIN_LSB]
        assert pairs[g] == len(want)
        assert equal[g] == sum(abs(a - b) < EQUAL_LSB for a, b in want)
    # continuous sizes are rarely equal; a decoder's, whole powers of a few values times one
    # step, often are
    assert equal.sum() / pairs.sum() < 0.03
    q = rng.integers(-3, 4, lines.shape)
    decoded = np.sign(q) * np.abs(q) ** (4 / 3) * 7.0 + rng.normal(0, 0.05, lines.shape)
    p, e = equal_pairs(decoded.astype(np.float32), 10)
    assert e.sum() / p.sum() > 0.2


def test_a_320k_decode_shows_equal_neighbours_far_above_chance(files):
    """At 320 kbit/s LAME zeroes few lines of sparse music, but the lines it keeps are
    whole powers of their quantised values: equal sizes stand out more than zeros."""
    (z, best, _), w = _z(files["mp3_320"])
    zero, equal = mp3_confirm_z(w.samples, w.starts, w.sample_rate, [best, LAME_ALIGNMENT])
    assert equal.alignment == LAME_ALIGNMENT and equal.windows >= 3
    assert equal.z >= MP3_EQUAL_Z and equal.z > 2 * zero.z
    found = find_mp3_grid(w.samples, w.starts, w.sample_rate, float("inf"), float("inf"), MP3_EQUAL_Z)
    assert found is not None and found.codec == "MP3" and found.z == equal.z
