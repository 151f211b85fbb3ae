"""The picture of a codec grid proof (issue 27): a codec's z at every alignment of its hop
(``evidence.profile``) spikes at the detector's alignment in a decode and nowhere in the
music before encoding, and a transcoded file's picture shows that profile beside its
spectrogram, while a genuine file's picture stays as it was."""

from __future__ import annotations

import base64
import re
from dataclasses import replace

import numpy as np
import pytest
from helpers import ffmpeg_has, music, need, write_flac

from penthy_model import plots
from penthy_model.analyze import Analyzer
from penthy_model.audio import read_windows
from penthy_model.evidence.profile import PROFILED, grid_profile
from penthy_model.report import write_report
from penthy_model.result import TRANSCODED, Result
from penthy_model.training import fakes

SECONDS = 10.0


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return write_flac(tmp_path_factory.mktemp("proof") / "music.flac", music(SECONDS, seed=21))


@pytest.fixture(scope="module")
def mp3_320(source):
    """LAME at 320 kbit/s with its low-pass off: content to 22 kHz, no cutoff to see."""
    need("lame", "ffmpeg")
    dst = source.with_name("mp3_320_nolowpass.flac")
    fakes.make_fake(source, dst, "mp3_320_nolowpass_lame")
    return dst


@pytest.fixture(scope="module")
def analysed(source, mp3_320, model_path):
    analyzer = Analyzer(model_path)
    return analyzer.analyze(source), analyzer.analyze(mp3_320)


def _profile(path, codec, alignment=None):
    w = read_windows(path)
    return grid_profile(codec, w.samples, w.starts, w.sample_rate, alignment)


# --- the profile ---------------------------------------------------------------------

def test_mp3_320_without_lowpass_is_proved_by_its_grid(analysed):
    genuine, fake = analysed
    assert fake.verdict == TRANSCODED and fake.codec == "mp3" and fake.grid_alignment is not None
    assert fake.cutoff_hz is None or fake.cutoff_hz > 21000  # nothing for the spectrogram to show
    assert genuine.verdict != TRANSCODED and genuine.codec is None


def test_mp3_profile_spikes_at_the_detectors_alignment(analysed):
    genuine, fake = analysed
    p = _profile(fake.path, "mp3", fake.grid_alignment)
    threshold = plots.codec_threshold("mp3")
    assert len(p.alignments) == p.hop == 576
    assert p.peak == fake.grid_alignment
    assert p.at(p.peak) >= threshold
    assert np.nanmedian(p.z) < threshold / 4  # the other alignments sit at chance
    assert np.count_nonzero(p.z >= threshold) <= 3  # one spike (its immediate neighbours at most)
    # the same music before encoding: no alignment stands out
    assert np.nanmax(_profile(genuine.path, "mp3").z) < threshold


@pytest.mark.parametrize("condition,codec", [("aac_256", "aac"), ("vorbis_q6", "vorbis")])
def test_mdct_profiles_spike_where_the_detector_found_the_grid(source, tmp_path, model_path, condition, codec):
    encoder = fakes.CONDITIONS[condition].args[1]
    if not ffmpeg_has(encoder):
        pytest.skip(f"ffmpeg has no {encoder} encoder")
    path = tmp_path / f"{condition}.flac"
    fakes.make_fake(source, path, condition)
    result = Analyzer(model_path).analyze(path)
    assert result.codec == codec
    p = _profile(path, codec, result.grid_alignment)
    threshold = plots.codec_threshold(codec)
    assert p.at(result.grid_alignment) >= threshold
    assert np.nanmedian(p.z) < threshold / 4
    if codec == "aac":
        assert p.peak == result.grid_alignment
    else:  # Vorbis's grid moves by 128 after short blocks: every spike is on its lattice
        assert all(a % 128 == 64 for a in p.alignments[p.z >= threshold])
    assert np.nanmax(_profile(source, codec).z) < threshold


@pytest.mark.parametrize("condition,codec", [("ac3_384", "ac3"), ("mp2_384", "mp2")])
def test_ac3_and_subband_profiles(source, tmp_path, condition, codec):
    encoder = fakes.MORE_CONDITIONS[condition].args[1]
    if not ffmpeg_has(encoder):
        pytest.skip(f"ffmpeg has no {encoder} encoder")
    path = tmp_path / f"{condition}.flac"
    fakes.make_fake(source, path, condition)
    p = _profile(path, codec)
    threshold = plots.codec_threshold(codec)
    assert p.peak == 0 and p.at(0) >= threshold  # where ffmpeg's decoders put both grids
    assert np.nanmedian(p.z) < threshold / 4
    assert np.nanmax(_profile(source, codec).z) < threshold


def test_opus_profile_in_a_decode_resampled_to_44k(source, tmp_path):
    """Opus's frame edges across the 20 ms frame: a hump at the grid the detector reads
    (the window slope starting 420 samples after alignment 228 at 48 kHz), nothing in the source."""
    if not ffmpeg_has("libopus"):
        pytest.skip("ffmpeg has no libopus encoder")
    path = tmp_path / "opus_128.flac"
    fakes.make_fake(source, path, "opus_128")
    p = _profile(path, "opus")
    threshold = plots.codec_threshold("opus")
    assert p.hop == 882 and abs(p.peak - round(228 * 44100 / 48000)) <= 44  # within the 1 ms tried
    assert p.at(p.peak) >= threshold and np.nanmedian(p.z) < 0
    assert np.nanmax(_profile(source, "opus").z) < threshold


def test_codecs_without_a_profile_say_so(source):
    assert {"mp3", "aac", "vorbis", "opus"} <= PROFILED
    assert _profile(source, "wma") is None
    assert grid_profile("mp3", None, [], 44100) is None


# --- the picture -----------------------------------------------------------------------

def _blue_pixels(png) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the pixels drawn in the profile's colour."""
    import matplotlib.colors
    import matplotlib.image

    rgb = matplotlib.image.imread(png)[..., :3]
    target = np.array(matplotlib.colors.to_rgb(plots.PROFILE_COLOR))
    return np.nonzero(np.abs(rgb - target).max(axis=-1) < 0.06)


def test_the_picture_of_a_proof_has_the_profile_beside_the_spectrogram(analysed, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image

    genuine, fake = analysed
    assert plots.layout(fake) is plots.WITH_PROOF and plots.layout(genuine) is plots.PLAIN
    proof, plain = plots.save_plot(fake, tmp_path), plots.save_plot(genuine, tmp_path)
    assert matplotlib.image.imread(proof).shape[:2] == (plots.HEIGHT_PX, plots.WIDTH_PX)
    rows, cols = _blue_pixels(proof)
    left, bottom, width, height = plots.WITH_PROOF.proof
    inside = (cols >= left * plots.WIDTH_PX) & (cols <= (left + width) * plots.WIDTH_PX)
    assert inside.sum() > 300 and inside.mean() > 0.95  # the curve, in the panel and nowhere else
    # its highest point is the spike, at the detector's alignment on the panel's axis
    top = cols[np.argmin(rows)]
    hop = 576
    x0, x1 = -0.03 * hop, 1.03 * hop  # the panel's limits
    alignment = x0 + (top / plots.WIDTH_PX - left) / width * (x1 - x0)
    assert abs(alignment - fake.grid_alignment) < 0.02 * hop
    # a genuine file's picture has no profile
    assert len(_blue_pixels(plain)[0]) == 0


def test_a_codec_without_a_profile_gets_a_note_not_a_curve(analysed, tmp_path):
    pytest.importorskip("matplotlib")
    genuine, _ = analysed
    claimed = Result(genuine.path, TRANSCODED, score=0.0, codec="wma", grid_z=14.2, grid_alignment=0,
                     window_starts=genuine.window_starts, window_scores=genuine.window_scores)
    picture = plots.save_plot(claimed, tmp_path)
    assert picture is not None and len(_blue_pixels(picture)[0]) == 0


def test_the_report_says_which_pictures_hold_a_proof(analysed, tmp_path):
    pytest.importorskip("matplotlib")
    genuine, fake = analysed
    pictures = {r.path: plots.save_plot(r, tmp_path / "pictures") for r in analysed}
    page = write_report([genuine, fake], tmp_path / "report.html", pictures).read_text(encoding="utf-8")
    alts = re.findall(r'<img class="thumb" src="data:image/png;base64,([^"]+)" alt="([^"]+)"', page)
    assert sorted(alt.split(" of ")[0] for _, alt in alts) == ["spectrogram", "spectrogram and mp3 grid proof"]
    assert all(base64.b64decode(data)[:4] == b"\x89PNG" for data, _ in alts)


def test_a_verdict_a_weak_grid_backs_gets_its_panel(analysed, tmp_path):
    """A transcoded verdict a grid too weak to name its codec backs (``backed_by``) shows that
    grid's profile beside the spectrogram, and the report says it is a backing, not a proof."""
    pytest.importorskip("matplotlib")
    genuine, fake = analysed
    backed = replace(fake, codec=None, backed_by=fake.codec, score=fake.model_score)
    assert plots.layout(backed) is plots.WITH_PROOF
    assert plots.codec_threshold("mp3", support=True) < plots.codec_threshold("mp3")
    picture = plots.save_plot(backed, tmp_path)
    rows, cols = _blue_pixels(picture)
    left, _, width, _ = plots.WITH_PROOF.proof
    inside = (cols >= left * plots.WIDTH_PX) & (cols <= (left + width) * plots.WIDTH_PX)
    assert inside.sum() > 300 and inside.mean() > 0.95
    page = write_report([backed], tmp_path / "report.html", {backed.path: picture}).read_text(encoding="utf-8")
    assert 'alt="spectrogram and mp3 grid backing of' in page


def test_a_verdict_resting_on_a_measure_without_a_profile_gets_a_note(analysed, tmp_path):
    """A verdict an Opus measure of the frame edges above a low-pass proves or backs (``grid``
    "opus_lowpass", "opus_lowpass_low" or "opus_bandend") is not drawn with the profile of Opus's bursts above
    20 kHz, a different measure with other levels: the panel says there is no profile. The
    levels looked up are the grid's own."""
    pytest.importorskip("matplotlib")
    genuine, _ = analysed
    for grid in ("opus_lowpass", "opus_lowpass_low", "opus_bandend"):
        assert plots.codec_threshold("opus", grid=grid) == plots.CODEC_MIN_Z[grid]
        assert plots.codec_threshold("opus", support=True, grid=grid) == plots.CODEC_SUPPORT_Z[grid]
        backed = Result(genuine.path, TRANSCODED, score=0.01, backed_by="opus", grid_z=5.5, grid=grid,
                        window_starts=genuine.window_starts, window_scores=genuine.window_scores)
        assert plots.layout(backed) is plots.WITH_PROOF
        picture = plots.save_plot(backed, tmp_path / grid)
        assert picture is not None and len(_blue_pixels(picture)[0]) == 0
    assert plots.codec_threshold("opus", grid="no such grid") == plots.CODEC_MIN_Z["opus"]
