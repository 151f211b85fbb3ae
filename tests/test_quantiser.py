"""Which member of the MDCT family made a grid (``evidence.quantiser``): AAC's sizes lie a whole
number of quarter octaves apart, Vorbis's on its floor table's 0.09-octave steps. FFmpeg's own
Vorbis encoder puts its blocks at AAC's alignment, and was named AAC until engine 0.2.15."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace

import numpy as np
import pytest
from helpers import ffmpeg_has, music, write_flac

from penthy_model.audio import read_windows
from penthy_model.constants import QUANTISER_LEVELS
from penthy_model.evidence import CodecEvidence, CodecMeasure, mdct, quantiser
from penthy_model.evidence.stats import REVIEW_Z
from penthy_model.result import CODEC_NAMES
from penthy_model.verdict import Findings, Policy, decide

SR = 44100
POLICY = Policy(0.3, 0.7, 0.3)


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


def test_ffmpegs_own_vorbis_is_named_vorbis_at_aacs_alignment(decodes):
    w = read_windows(decodes["vorbis"])
    best, _ = mdct.mdct_z(w.samples, w.starts, w.sample_rate)
    assert best["AAC"][0] >= REVIEW_Z and best["AAC"][1] == 0, best  # the grid sits where AAC's does
    found = quantiser.lattices(w.samples, w.starts, 0)
    assert found["Vorbis"] >= QUANTISER_LEVELS["vorbis"] and found["Vorbis"] > 10 * found["AAC"], found
    measures = {m.codec: m for m in mdct.measure(w.samples, w.starts, w.sample_rate)}
    grid = measures["aac"]  # the detector names it by its alignment and reports both lattices there
    assert grid.z == best["AAC"][0] and dict(grid.lattices)["vorbis"] >= QUANTISER_LEVELS["vorbis"], grid
    named = POLICY.named(grid)  # the policy names it by the lattice, z unchanged
    assert named.codec == "vorbis" and named.z == grid.z and "Vorbis's quantiser steps" in named.sign, named
    assert POLICY.proof(CodecEvidence(tuple(measures.values()))).codec == "vorbis"
    blind = replace(POLICY, quantiser_levels={"aac": np.inf, "vorbis": np.inf})  # without: by its alignment
    assert blind.named(grid) is grid and blind.proof(CodecEvidence(tuple(measures.values()))).codec == "aac"


def test_ffmpegs_aac_stays_aac(decodes):
    w = read_windows(decodes["aac"])
    best, _ = mdct.mdct_z(w.samples, w.starts, w.sample_rate)
    found = quantiser.lattices(w.samples, w.starts, best["AAC"][1])
    assert found["AAC"] > 10 * max(found["Vorbis"], 1.0), found
    measures = {m.codec: m for m in mdct.measure(w.samples, w.starts, w.sample_rate)}
    assert measures["aac"].z == best["AAC"][0] and dict(measures["aac"].lattices)["aac"] == found["AAC"]
    named = POLICY.named(measures["aac"])
    assert named is measures["aac"] and named.sign == "near-zero coefficients"


@pytest.mark.parametrize("lattices, codec", [
    ((("aac", 3.0), ("vorbis", 19.9)), "aac"),  # under Vorbis's level: named by the alignment
    ((("aac", 3.0), ("vorbis", 20.0)), "vorbis"),
    ((("aac", 400.0), ("vorbis", 60.0)), "aac"),  # the own lattice stands higher
    ((("aac", float("nan")), ("vorbis", 25.0)), "vorbis"),  # no size large enough for the own
    ((), "aac"),  # not read (a grid under REVIEW_Z)
])
def test_the_policy_names_by_the_levels_it_holds(lattices, codec):
    grid = CodecMeasure("aac", 30.0, 0, 12, "mid", lattices=lattices)
    assert POLICY.quantiser_levels["vorbis"] == 20.0
    named = POLICY.named(grid)
    assert (named.codec, named.z, named.alignment) == (codec, 30.0, 0)
    decision = decide(Findings([0.5] * 12, [True] * 12, codec=CodecEvidence((grid,))), POLICY)
    assert decision.proof.codec == codec and decision.reason.startswith(f"decoded from {CODEC_NAMES[codec]}")


def test_the_engine_names_that_decode_vorbis(decodes, model_path):
    from penthy_model.analyze import Analyzer

    result = Analyzer(model_path).analyze(decodes["vorbis"])
    assert result.verdict == "transcoded" and result.codec == "vorbis", result
    assert "decoded from Vorbis" in result.reason and "quantiser steps" in result.reason, result.reason
