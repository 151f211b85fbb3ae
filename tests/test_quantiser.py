"""Which member of the MDCT family made a grid (``evidence.quantiser``): AAC's sizes lie a whole
number of quarter octaves apart, Vorbis's on its floor table's 0.09-octave steps. FFmpeg's own
Vorbis encoder puts its blocks at AAC's alignment, and was named AAC until engine 0.2.15."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from helpers import ffmpeg_has, music, write_flac

from penthy_model.audio import read_windows
from penthy_model.evidence import mdct, quantiser
from penthy_model.evidence.stats import REVIEW_Z

SR = 44100


def _sizes(rng, spacing: float, shape=(400, 1024)) -> np.ndarray:
    """Coefficients whose sizes (30 to 3000) lie on a lattice ``spacing`` octaves apart, the
    lattice's phase the same in every row, with random signs; None spacing: anywhere."""
    octaves = rng.uniform(np.log2(30), np.log2(3000), shape)
    if spacing is not None:
        octaves = np.round(octaves / spacing) * spacing + 0.3 * spacing
    return rng.choice([-1.0, 1.0], shape) * 2 ** octaves


def test_the_lattice_is_read_where_the_sizes_lie_and_hardly_elsewhere():
    """Sizes on a lattice read hundreds of times higher on it than on the other (where only
    sizes that repeat within a row add up); sizes anywhere read as chance on both."""
    rng = np.random.default_rng(1)
    aac, vorbis = quantiser.SPACING["AAC"], quantiser.SPACING["Vorbis"]
    on_aac, on_vorbis, anywhere = _sizes(rng, aac), _sizes(rng, vorbis), _sizes(rng, None)
    assert quantiser.lattice_z(on_aac, aac) > 100 * abs(quantiser.lattice_z(on_aac, vorbis)) > 0
    assert quantiser.lattice_z(on_vorbis, vorbis) > 100 * abs(quantiser.lattice_z(on_vorbis, aac)) > 0
    assert abs(quantiser.lattice_z(anywhere, aac)) < 5 and abs(quantiser.lattice_z(anywhere, vorbis)) < 5
    small = on_aac * (20.0 / np.abs(on_aac).max())  # every size under FLOOR_LSB: nothing to read
    assert np.isnan(quantiser.lattice_z(small, aac))


def _through(codec: str, args: list[str], src, dst):
    """``src`` through ffmpeg's encoder ``codec`` and back to a 16-bit FLAC at its rate."""
    if not ffmpeg_has(codec) or shutil.which("ffmpeg") is None:
        pytest.skip(f"ffmpeg has no {codec} encoder")
    coded = dst.with_suffix(".ogg" if codec == "vorbis" else ".m4a")
    for cmd in (["-i", str(src), "-c:a", codec, *args, str(coded)],
                ["-i", str(coded), "-sample_fmt", "s16", str(dst)]):
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *cmd], check=True)
    return dst


@pytest.fixture(scope="module")
def decodes(tmp_path_factory):
    d = tmp_path_factory.mktemp("lattice")
    src = write_flac(d / "music.flac", music(8.0, sr=SR, seed=21), SR)
    return {"vorbis": _through("vorbis", ["-strict", "-2", "-q:a", "5"], src, d / "ffvorbis.flac"),
            "aac": _through("aac", ["-b:a", "128k"], src, d / "aac.flac")}


def test_ffmpegs_own_vorbis_is_named_vorbis_at_aacs_alignment(decodes, monkeypatch):
    w = read_windows(decodes["vorbis"])
    best, _ = mdct.mdct_z(w.samples, w.starts, w.sample_rate)
    assert best["AAC"][0] >= REVIEW_Z and best["AAC"][1] == 0, best  # the grid sits where AAC's does
    found = quantiser.lattices(w.samples, w.starts, 0)
    assert found["Vorbis"] >= quantiser.LEVELS["Vorbis"] and found["Vorbis"] > 10 * found["AAC"], found
    measures = {m.codec: m for m in mdct.measure(w.samples, w.starts, w.sample_rate)}
    assert measures["vorbis"].z == best["AAC"][0] and "Vorbis's quantiser steps" in measures["vorbis"].sign
    assert not measures["aac"].measured  # the grid it had is Vorbis's
    monkeypatch.setitem(quantiser.LEVELS, "Vorbis", np.inf)  # without the lattice: named by its alignment
    assert {m.codec: m for m in mdct.measure(w.samples, w.starts, w.sample_rate)}["aac"].z == best["AAC"][0]


def test_ffmpegs_aac_stays_aac(decodes):
    w = read_windows(decodes["aac"])
    best, _ = mdct.mdct_z(w.samples, w.starts, w.sample_rate)
    found = quantiser.lattices(w.samples, w.starts, best["AAC"][1])
    assert found["AAC"] > 10 * max(found["Vorbis"], 1.0), found
    measures = {m.codec: m for m in mdct.measure(w.samples, w.starts, w.sample_rate)}
    assert measures["aac"].z == best["AAC"][0] and measures["aac"].sign == "near-zero coefficients"


def test_the_engine_names_that_decode_vorbis(decodes, model_path):
    from penthy_model.analyze import Analyzer

    result = Analyzer(model_path).analyze(decodes["vorbis"])
    assert result.verdict == "transcoded" and result.codec == "vorbis", result
    assert "decoded from Vorbis" in result.reason and "quantiser steps" in result.reason, result.reason
