"""The AC3 grid's mantissa lattice: high-rate AC3 decodes of sparse music, which leave too few
coefficients at zero for the near-zero counts, are still named by the power-of-two lattice
their coefficients sit on; the same music before encoding is not. A waveform that repeats
in whole hops is not taken for a grid."""

from __future__ import annotations


import numpy as np
import pytest
from helpers import ffmpeg_has, sparse_music, write_flac

from penthy_model.audio import read_windows
from penthy_model.constants import CODEC_MIN_Z
from penthy_model.evidence import ac3
from penthy_model.evidence.mdctgrid import lattice_sums
from penthy_model.training import fakes


def test_lattice_sums_see_a_power_of_two_lattice_and_not_chance():
    rng = np.random.default_rng(0)
    step = ac3.LATTICE
    # coefficients coded with steps of 2^j lattice units (j = 0..3), plus the decode's rounding
    units = rng.integers(8, 400, 20000) * (2 ** rng.integers(0, 4, 20000)) * rng.choice([-1, 1], 20000)
    coded = units * step + rng.normal(0, 0.29, 20000)
    chance = rng.laplace(0, 300, 20000)
    for x, lo, hi in ((coded, 0.6, 1.0), (chance, -0.03, 0.03)):
        weight, cos, _, weight2 = lattice_sums(x[None].astype(np.float32), step)[:, 0]
        assert weight > 5000 and lo < cos / weight < hi
    # off the lattice's scale (a gain of 0.7), the phase is chance again
    weight, cos, half, _ = lattice_sums((0.7 * coded)[None].astype(np.float32), step)[:, 0]
    assert abs(cos / weight) < 0.05 and abs(half / weight) < 0.05


def test_sparse_music_at_448k_is_named_and_its_source_is_not(tmp_path):
    """Sparse (11 kHz low-passed) music through ffmpeg's AC3 at 448 kbit/s: the near-zero
    counts stand at z 2-6 there; the lattice names it. (At 640 kbit/s the same music decodes
    to 96-98% of its samples unchanged: no reading of the decode can tell it.)"""
    if not ffmpeg_has("ac3"):
        pytest.skip("ffmpeg has no ac3 encoder")
    src = write_flac(tmp_path / "sparse.flac", sparse_music(10.0, seed=3), 44100)
    dst = tmp_path / "sparse_ac3_448.flac"
    fakes.make_fake(src, dst, "ac3_448")
    w = read_windows(dst)
    z, alignment = ac3.measure(w.samples, w.starts, w.sample_rate)
    assert z >= 2 * CODEC_MIN_Z["ac3"] and alignment == 0
    w = read_windows(src)
    z, _ = ac3.measure(w.samples, w.starts, w.sample_rate)
    assert not z >= CODEC_MIN_Z["ac3"] / 2


@pytest.mark.parametrize("period", [64, 512])
def test_a_waveform_repeating_in_whole_hops_is_not_a_grid(tmp_path, period):
    """A square wave of 64 or 512 samples gives the same block at each alignment again and
    again; its exact zeros once stood thousands of standard deviations "above chance"."""
    sr = 44100
    t = np.arange(10 * sr) / sr
    square = 0.25 * np.sign(np.sin(2 * np.pi * sr / period * t + 0.1))
    w = read_windows(write_flac(tmp_path / "square.flac", np.stack([square, square], 1), sr))
    for thorough in (False, True):
        z, _ = ac3.measure(w.samples, w.starts, w.sample_rate, thorough=thorough)
        assert not z >= CODEC_MIN_Z["ac3"] / 2


def test_a_square_wave_under_music_is_not_a_grid_in_the_thorough_scan(tmp_path):
    """Music over a square wave of 32 samples: the six-window scan finds an alignment where
    the wave's harmonics make equal pairs (z 40 before the check), and as many a quarter,
    half and three quarters of a hop away; a coder's grid is at one alignment only."""
    from helpers import music

    sr, n = 44100, 10 * 44100
    wave = np.sign(np.sin(2 * np.pi * (np.arange(n) + 0.3) / 32))
    x = 0.5 * music(10.0, sr=sr, seed=9) + 0.12 * np.stack([wave, wave], 1)
    w = read_windows(write_flac(tmp_path / "square_music.flac", x, sr))
    z, _ = ac3.measure(w.samples, w.starts, w.sample_rate, thorough=True)
    assert not z >= CODEC_MIN_Z["ac3"] / 2


@pytest.mark.parametrize("period", [256, 512])
def test_a_wave_of_a_hop_or_two_under_music_is_not_a_grid(tmp_path, period):
    """Music over a square wave of 256 or 512 samples (172 or 86 Hz at 44.1 kHz, a wavetable's
    own pitch): its exact zeros stood at the known alignment 0 at z 13-16, above the threshold,
    and as high a quarter and half a hop away; a coder's grid is one spike."""
    from helpers import music

    sr, n = 44100, 10 * 44100
    wave = np.sign(np.sin(2 * np.pi * (np.arange(n) + 0.3) / period))
    x = 0.5 * music(10.0, sr=sr, seed=9) + 0.12 * np.stack([wave, wave], 1)
    w = read_windows(write_flac(tmp_path / "wave_music.flac", x, sr))
    for thorough in (False, True):
        z, _ = ac3.measure(w.samples, w.starts, w.sample_rate, thorough=thorough)
        assert not z >= CODEC_MIN_Z["ac3"] / 2


def test_one_quiet_window_does_not_carry_the_grid_of_a_genuine_file(tmp_path, monkeypatch):
    """A genuine clip of issue 25's test8 split (synthesised drums through a minimum-phase
    low-pass, 44.1 kHz): in one of its 12 windows the confirmed blocks fall in a quiet decay
    whose few big coefficients pair up at one alignment (22% equal against 3.5% elsewhere),
    and the pooled counts let that window name AC3 at z 14.7 in the wider scan (confirming 6
    blocks of each alignment a window, as thorough looks did until engine 0.2.18). Left out one
    window at a time, the grid is gone; a decode shows it in every window. The 40 blocks a
    thorough look confirms now do not reach the review level either."""
    from dataclasses import replace

    from penthy_model.evidence.stats import REVIEW_Z
    from penthy_model.training import genuine_kinds

    pytest.importorskip("scipy")
    seed = 4252002  # bench/d25_make.py: test8's minimum-phase drums clip 2
    x, sr, _ = genuine_kinds.make_clip("lp_minphase", "drums", seed, 10.0, 44100)
    path = write_flac(tmp_path / "drums.flac", fakes.to_pcm16(x, np.random.default_rng(seed + 7)), sr)
    w = read_windows(str(path))
    z, _ = ac3.measure(w.samples, list(w.starts), sr, thorough=True)
    assert not z >= REVIEW_Z, z
    few = replace(ac3.THOROUGH, confirm_blocks=6)
    monkeypatch.setattr(ac3, "THOROUGH", few)
    z, _ = ac3.measure(w.samples, list(w.starts), sr, thorough=True)
    assert not z >= REVIEW_Z, z
    monkeypatch.setattr(ac3, "THOROUGH", replace(few, every_window=False))
    z_pooled, _ = ac3.measure(w.samples, list(w.starts), sr, thorough=True)
    assert z_pooled >= CODEC_MIN_Z["ac3"], z_pooled
