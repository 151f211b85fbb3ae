"""The AC3, MP2/Musepack, WMA and Opus grids (issue 26): each finds its grid in a real
encoder's decode, names the codec, and finds nothing in the same music before encoding."""

from __future__ import annotations


import numpy as np
import pytest
import soundfile as sf
from helpers import ffmpeg_has, music, need, sparse_music, write_flac

from penthy_model.audio import read_windows
from penthy_model.evidence import ac3, layer2, opus, wma
from penthy_model.evidence.mdctgrid import kbd_window, sine_window
from penthy_model.constants import CODEC_MIN_Z, CODEC_SUPPORT_Z
from penthy_model.evidence.mp3 import band_samples
from penthy_model.training import fakes

THRESHOLDS = {**CODEC_MIN_Z, "layer2": CODEC_MIN_Z["subband"]}  # the policy's defaults

SECONDS = 10.0  # enough for the engine's 12 windows at 44.1 and 48 kHz


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    d = tmp_path_factory.mktemp("codecs_more")
    return {sr: write_flac(d / f"music_{sr}.flac", music(SECONDS, sr=sr, seed=11), sr) for sr in (44100, 48000)}


def _fake(src, tmp_path, condition: str):
    cond = {**fakes.CONDITIONS, **fakes.MORE_CONDITIONS}[condition]
    if cond.tool == "ffmpeg":
        encoder = cond.args[cond.args.index("-c:a") + 1]
        if not ffmpeg_has(encoder):
            pytest.skip(f"ffmpeg has no {encoder} encoder")
    else:
        need(cond.tool)
        need("ffmpeg")
    dst = tmp_path / f"{condition}.flac"
    fakes.make_fake(src, dst, cond)
    return dst


def _measure(module, path):
    w = read_windows(path)
    return module.measure(w.samples, w.starts, w.sample_rate)


def test_windows_are_power_complementary():
    for w in (kbd_window(512, 5.0), sine_window(4096), opus.celt_window()):
        half = len(w) // 2
        np.testing.assert_allclose(w[:half] ** 2 + w[half:] ** 2, 1.0, atol=1e-9)


def test_polyphase_form_is_the_filter_bank():
    x = np.random.default_rng(0).standard_normal(3000)
    np.testing.assert_allclose(layer2.band_samples_every(x), band_samples(x).T / layer2.NOISE_GAIN,
                               atol=1e-4)


def test_run_steps_find_a_lattice_and_nothing_in_noise():
    rng = np.random.default_rng(1)
    levels = rng.integers(-6, 7, (200, layer2.RUN))
    levels[:, 0] = 5  # enough big samples in every run
    levels[:, 1] = -4
    levels[:, 2] = 3
    levels[:, 3] = 6
    step = rng.uniform(8, 300, (200, 1))
    runs = levels * step + rng.uniform(-0.5, 0.5, levels.shape)  # decode noise
    np.testing.assert_allclose(layer2.run_steps(runs), step[:, 0], rtol=0.01)
    noise = rng.uniform(-400, 400, (200, layer2.RUN))
    assert np.isnan(layer2.run_steps(noise)).mean() > 0.95


@pytest.mark.parametrize("condition,sr", [("ac3_384", 48000), ("ac3_640", 44100), ("eac3_384", 48000)])
def test_ac3_grid_in_decodes(sources, tmp_path, condition, sr):
    z, alignment = _measure(ac3, _fake(sources[sr], tmp_path, condition))
    assert z >= THRESHOLDS["ac3"] and alignment == 0


@pytest.mark.parametrize("condition,codec", [("mp2_384", "mp2"), ("twolame_256", "mp2"), ("musepack_q5", "musepack")])
def test_layer2_grid_and_codec_in_decodes(sources, tmp_path, condition, codec):
    w = read_windows(_fake(sources[44100], tmp_path, condition))
    found = layer2.identify(w.samples, w.starts, w.sample_rate)
    z, phase, named = found.z, found.phase, found.codec
    assert z >= THRESHOLDS["layer2"] and phase == 0 and named == codec
    assert layer2.measure(w.samples, w.starts, w.sample_rate) == (z, phase)


@pytest.mark.parametrize("sr", [44100, 48000])
def test_wma_grid_in_decodes(sources, tmp_path, sr):
    z, alignment = _measure(wma, _fake(sources[sr], tmp_path, "wma_192"))
    assert z >= THRESHOLDS["wma"] and alignment == 0


def test_opus_grid_in_48k_decodes(sources, tmp_path):
    path = _fake(sources[44100], tmp_path, "opus48_128")
    assert sf.info(str(path)).samplerate == 48000  # kept at the codec's rate
    z, alignment = _measure(opus, path)
    assert z >= THRESHOLDS["opus"] and alignment == opus.KNOWN[0]


@pytest.mark.parametrize("condition", ["opus_96", "opus_192"])
def test_opus_frame_edges_in_decodes_resampled_to_44k(sources, tmp_path, condition):
    """No grid survives resampling, but CELT's frame edges do: bursts above 20 kHz every 20 ms.
    In 12 windows of these 10 s decodes they stand at least where they back the network (z 7.2
    and 6.5 here, the naming level being 6.5); a longer file is read wider (next tests)."""
    path = _fake(sources[44100], tmp_path, condition)
    assert sf.info(str(path)).samplerate == 44100
    w = read_windows(path)
    z, _, sign = opus.find(w.samples, w.starts, w.sample_rate)
    assert z >= CODEC_SUPPORT_Z["opus"] and sign == opus.BURST_SIGN
    source = read_windows(sources[44100])
    assert not opus.burst_z(source.samples, source.starts, 44100) >= THRESHOLDS["opus"] / 2


def _at_the_edges(sr: int, n: int) -> np.ndarray:
    """Sample indices where a burst at CELT's known frame edges would start, every 20 ms."""
    period = int(sr * opus.FRAME_SECONDS)
    first = int(round(opus.BURST_AT * sr))
    return np.arange(first, n - period, period)


@pytest.mark.parametrize("sr", [44100, 48000])
def test_no_opus_in_genuine_audio_that_bursts_every_20_ms(sr):
    """Genuine audio with something every 20 ms exactly where CELT's frame edges would be: a
    saw wave whose period divides 20 ms (its edges reach above 20 kHz), a hard gate and clicks
    on a tempo grid (they reach below 20 kHz too). None is named Opus."""
    rng = np.random.default_rng(5)
    n = int(SECONDS * sr)
    bed = music(SECONDS, sr=sr, seed=12)
    edges = _at_the_edges(sr, n)
    period = int(sr * opus.FRAME_SECONDS)
    saw = 0.4 * (((np.arange(n) - edges[0]) % (period // 2)) / (period // 2) - 0.5)  # 100 Hz, its edge there
    gate = np.ones(n)
    for e in edges:
        gate[e:e + period // 2] = 0.0
    clicks = np.zeros(n)
    for e in edges[::6]:  # 16th notes at 125 BPM at 44.1 kHz (6 frames), a fresh click each
        clicks[e:e + 200] = rng.standard_normal(200) * np.exp(-np.arange(200) / 30) * 0.5
    for x in (bed + saw[:, None], bed * gate[:, None], bed + clicks[:, None]):
        x = fakes.to_pcm16(np.clip(x, -1, 1), rng).astype(np.float32) / 32768
        w = read_windows_from(x, sr)
        z = opus.burst_z(w.samples, w.starts, sr)
        assert not z >= THRESHOLDS["opus"], z


def read_windows_from(x: np.ndarray, sr: int):
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        return read_windows(write_flac(Path(d) / "x.flac", x, sr))


def test_what_repeats_every_period_is_taken_out():
    rng = np.random.default_rng(2)
    period = 960
    wave = rng.standard_normal((period, 2))
    bands = [np.tile(wave, (6, 1))[s % period:s % period + 3000] + 0.01 * rng.standard_normal((3000, 2))
             for s in (0, 5000, 12345)]
    rest = opus._without_repeats(bands, [0, 5000, 12345], period)
    assert max(np.abs(r).max() for r in rest) < 0.1  # the wave is gone, the noise stays
    assert min(np.abs(r).std() for r in rest) > 0.001


def test_one_window_of_a_decode_does_not_name_wma(sources, tmp_path, monkeypatch):
    """Genuine music with one window's stretch replaced by the same stretch of its WMA decode:
    pooled over the 12 windows that stretch alone lifts the grid over the naming level; the z
    left with any one window out (what WMA reads) does not, as a coder writes its grid in every
    window."""
    from dataclasses import replace

    from penthy_model.evidence.stats import REVIEW_Z

    src = sources[44100]
    x, sr = sf.read(str(src), dtype="int16")
    decode, _ = sf.read(str(_fake(src, tmp_path, "wma_192")), dtype="int16")
    w = read_windows(src)
    start, length = int(w.starts[len(w.starts) // 2]), w.samples.shape[1]
    x[start:start + length] = decode[start:start + length]
    w = read_windows(write_flac(tmp_path / "spliced.flac", x, sr))
    z, _ = wma.measure(w.samples, w.starts, sr)
    assert not z >= REVIEW_Z, z
    every = wma.grid_for
    monkeypatch.setattr(wma, "grid_for",
                        lambda rate, thorough=False: replace(every(rate, thorough), every_window=False))
    z_pooled, _ = wma.measure(w.samples, w.starts, sr)
    assert z_pooled >= THRESHOLDS["wma"], z_pooled


def test_a_thorough_look_finds_ac3_in_a_quiet_sparse_decode(tmp_path):
    """E-AC3 at 384 kbit/s of quiet music low-passed at 11 kHz (the network leaves it undecided):
    the forty blocks of each alignment a window that a thorough look confirms show its mantissa
    lattice, as the six of a quick look did not on such decodes; its source reads as chance."""
    src = write_flac(tmp_path / "quiet.flac", sparse_music(10.0, seed=7) * 0.1, 44100)
    w = read_windows(_fake(src, tmp_path, "eac3_384"))
    z, alignment = ac3.measure(w.samples, w.starts, 44100, thorough=True)
    assert z >= THRESHOLDS["ac3"] and alignment == 0, z
    s = read_windows(src)
    assert ac3.measure(s.samples, s.starts, 44100, thorough=True)[0] < CODEC_SUPPORT_Z["ac3"]


def test_a_low_rate_vorbis_decode_is_no_ac3_grid(tmp_path):
    """Under 44.1 kHz every file gets a thorough look. This Vorbis q2 decode at 22.05 kHz read 4.2
    at AC3's grid with the 40 blocks a window engine 0.2.18 read there (a fresh one read 9.0 and
    was named AC3), -0.7 with the 6 read there now."""
    if not ffmpeg_has("libvorbis"):
        pytest.skip("ffmpeg has no libvorbis encoder")
    src = write_flac(tmp_path / "src.flac", music(SECONDS, sr=22050, seed=11), 22050)
    dst = tmp_path / "vorbis.flac"
    fakes.make_fake(src, dst, fakes.Condition("vorbis_q2", "vorbis", "vorbis", "ffmpeg",
                                              ("-c:a", "libvorbis", "-q:a", "2"), "ogg"))
    w = read_windows(dst)
    z, _ = ac3.measure(w.samples, w.starts, 22050, thorough=True)
    assert not z >= CODEC_SUPPORT_Z["ac3"], z


@pytest.mark.parametrize("condition,module", [("ac3_384", ac3), ("wma_192", wma)])
def test_a_two_window_decode_keeps_its_grid(tmp_path, condition, module):
    """A 2-second decode gives two windows: with one left out, the other alone is too little to
    measure, which says nothing either way (the grid of both windows stands)."""
    src = write_flac(tmp_path / "short.flac", music(2.0, sr=48000, seed=5), 48000)
    w = read_windows(_fake(src, tmp_path, condition))
    assert len(w.starts) == 2
    z, alignment = module.measure(w.samples, w.starts, w.sample_rate)
    assert z >= THRESHOLDS[module.CODEC] and alignment == 0, z


@pytest.mark.parametrize("sr", [44100, 48000])
def test_no_grid_in_the_music_before_encoding(sources, sr):
    w = read_windows(sources[sr])
    for name, module in (("ac3", ac3), ("layer2", layer2), ("wma", wma), ("opus", opus)):
        z, _ = module.measure(w.samples, w.starts, w.sample_rate)
        assert not z >= THRESHOLDS[name] / 2, name  # NaN counts as nothing


@pytest.mark.parametrize("name,module,condition", [("ac3", ac3, "ac3_384"), ("layer2", layer2, "mp2_384")])
def test_a_grid_is_measured_only_at_rates_its_coder_codes_at(sources, tmp_path, name, module, condition):
    """The same decoded samples, said to be at a rate the codec cannot code at (8, 11.025 or
    96 kHz), are not measured: a grid there is something else (engine 0.2.12 read a wave of
    512 samples under music at 8 kHz AC3 z 168, and named a Vorbis decode at 11.025 kHz AC3)."""
    w = read_windows(_fake(sources[48000], tmp_path, condition))
    assert module.measure(w.samples, w.starts, 48000)[0] >= THRESHOLDS[name]
    for sr in (8000, 11025, 96000):
        assert sr not in module.RATES
        z, alignment = module.measure(w.samples, w.starts, sr)
        assert np.isnan(z) and alignment is None, sr
    assert {16000, 22050, 24000, 32000, 44100, 48000} <= module.RATES


def test_grid_gone_after_resampling(sources, tmp_path):
    """A decode resampled afterwards keeps no grid (the spectrum model must judge it)."""
    path = _fake(sources[48000], tmp_path, "ac3_384")
    x, sr = sf.read(str(path), dtype="float64")
    spec = np.fft.rfft(x, axis=0)  # 48 -> 44.1 kHz through the spectrum
    n = int(round(len(x) * 44100 / 48000))
    y = np.fft.irfft(spec[: n // 2 + 1], n, axis=0) * (n / len(x))
    z, _ = _measure(ac3, write_flac(tmp_path / "resampled.flac", y.astype(np.float32), 44100))
    assert not z >= THRESHOLDS["ac3"]


def test_detectors_say_nothing_about_short_or_empty_input():
    for module in (ac3, layer2, wma, opus):
        z, alignment = module.measure(np.zeros((0, 1000, 2), np.float32), [], 48000)
        assert np.isnan(z) and alignment is None
        quiet = np.zeros((3, 40000, 2), np.float32)
        z, alignment = module.measure(quiet, [0, 50000, 100000], 48000)
        assert np.isnan(z) and alignment is None


@pytest.mark.parametrize("condition,sr,codec", [("ac3_384", 48000, "ac3"), ("musepack_q5", 44100, "musepack")])
def test_the_engine_names_the_codec(sources, tmp_path, model_path, condition, sr, codec):
    """Through the whole engine: the codec is named and the verdict is transcoded, whatever the
    network scored (AC3 at 384 kbit/s is what it misses most); its source is not accused."""
    from penthy_model.analyze import Analyzer

    analyzer = Analyzer(model_path)
    fake = analyzer.analyze(_fake(sources[sr], tmp_path, condition))
    assert fake.verdict == "transcoded" and fake.codec == codec and fake.score == 0.0, fake
    assert fake.model_score is not None and fake.grid_z >= CODEC_MIN_Z[codec]
    genuine = analyzer.analyze(sources[sr])
    assert genuine.codec is None and genuine.verdict != "transcoded", genuine


WMA_64 = fakes.Condition("wma_64", "wma", "wma", "ffmpeg", ("-c:a", "wmav2", "-b:a", "64k"), "wma")


@pytest.mark.parametrize("sr", [8000, 16000, 22050])
def test_wma_frame_follows_the_rate(tmp_path, model_path, sr):
    """FFmpeg's WMA codes 512 new samples a frame at 16 kHz and under and 1024 up to 22.05 kHz:
    its grid is found there, and the engine names WMA, at 22.05 kHz too, where the AAC/Vorbis
    detector finds the same frame first and WMA's linear quantiser tells it from AAC's. The
    music before encoding names nothing."""
    from penthy_model.analyze import Analyzer

    if not ffmpeg_has("wmav2"):
        pytest.skip("ffmpeg has no wmav2 encoder")
    src = write_flac(tmp_path / "src.flac", music(SECONDS, sr=sr, seed=11), sr)
    dst = tmp_path / "wma.flac"
    fakes.make_fake(src, dst, WMA_64)
    w = read_windows(dst)
    z, alignment = wma.measure(w.samples, w.starts, sr, thorough=True)
    assert z >= THRESHOLDS["wma"] and alignment == 0, z
    analyzer = Analyzer(model_path)
    fake, genuine = analyzer.analyze(dst), analyzer.analyze(src)
    assert fake.verdict == "transcoded" and fake.codec == "wma", fake
    assert genuine.codec is None and genuine.verdict != "transcoded", genuine


def test_a_wave_of_a_quarter_frame_under_music_is_no_wma_grid(tmp_path):
    """A saw of 1152 samples under music at 8 kHz comes round every 128 samples of WMA's
    512-sample frame: it stands as high at the frame's quarter shifts as at 0 (9.1 at 0 before
    the shifts were read), so it is no grid."""
    sr = 8000
    n = int(SECONDS * sr)
    saw = 0.3 * (2 * (np.arange(n) % 1152) / 1152 - 1)
    bed = music(SECONDS, sr=sr, seed=6)
    x = np.clip(saw[:, None] + 0.5 * bed / np.abs(bed).max(), -1, 1)
    w = read_windows(write_flac(tmp_path / "saw.flac", x, sr))
    z, _ = wma.measure(w.samples, w.starts, sr, thorough=True)
    assert not z >= CODEC_SUPPORT_Z["wma"], z


def test_ratio_marks_tell_a_linear_quantiser_from_aacs():
    """The ratio marks (``quantiser.ratio_z``): sizes that are whole multiples of a step per band
    stand far above chance on WMA's ratios and not on AAC's; AAC's 4/3-power sizes the other way
    round; smooth random sizes on neither."""
    from penthy_model.evidence.quantiser import RATIOS, ratio_z

    rng = np.random.default_rng(4)
    blocks, bands, width = 200, 32, 32
    step = np.exp(rng.uniform(np.log(8), np.log(200), (blocks, bands, 1)))
    q = rng.integers(1, 5, (blocks, bands, width))  # (5/2 would sit 0.01 octave from 2^(4/3))
    noise = rng.normal(0, 0.3, (blocks, bands * width))
    linear, power = (q * step).reshape(blocks, -1) + noise, (q ** (4 / 3) * step).reshape(blocks, -1) + noise
    smooth = np.exp(rng.uniform(np.log(20), np.log(2000), (blocks, bands * width)))
    assert ratio_z(linear, RATIOS["WMA"]) > 100 and ratio_z(linear, RATIOS["AAC"]) < 10
    assert ratio_z(power, RATIOS["AAC"]) > 100 and ratio_z(power, RATIOS["WMA"]) < 10
    assert all(abs(ratio_z(smooth, RATIOS[c])) < 5 for c in RATIOS)
    assert np.isnan(ratio_z(np.ones((4, 64)), RATIOS["WMA"]))


@pytest.fixture(scope="module")
def long_music(tmp_path_factory):
    """20 s of music: room for WIDE_WINDOWS windows, twice the engine's usual 12."""
    d = tmp_path_factory.mktemp("long_music")
    return write_flac(d / "music_20s.flac", music(20.0, sr=44100, seed=5), 44100)


def test_a_thorough_look_reads_the_wider_windows_for_opus_alone(long_music):
    """``find_codec``'s ``wide``: the Opus frame edges also measure the wider windows of a
    thorough look and keep the higher z, every other grid reads the usual ones; a quick look
    never reads them, and without them (a short file) nothing changes."""
    from penthy_model.constants import WIDE_WINDOWS
    from penthy_model.evidence import WIDE, find_codec

    assert WIDE == (opus.detect,)
    w, more = read_windows(long_music), read_windows(long_music, max_windows=WIDE_WINDOWS)
    assert len(w.starts) == 12 and len(more.starts) == WIDE_WINDOWS
    calls = []

    def reader():
        calls.append(1)
        return more.samples, more.starts

    find_codec(w.samples, w.starts, 44100, wide=reader)
    assert not calls
    thorough = find_codec(w.samples, w.starts, 44100, thorough=True, wide=reader)
    assert calls == [1]
    usual = find_codec(w.samples, w.starts, 44100, thorough=True).of("opus")
    alone = find_codec(more.samples, more.starts, 44100, thorough=True, detectors=WIDE).of("opus")
    assert thorough.of("ac3").windows == 12 and usual.z != alone.z
    assert thorough.of("opus") == max(usual, alone, key=lambda m: m.z)
    silent = find_codec(w.samples, w.starts, 44100, thorough=True,
                        wide=lambda: (np.zeros_like(more.samples), more.starts))
    assert silent.of("opus") == usual  # a wider read that shows nothing hides nothing
    short = find_codec(w.samples, w.starts, 44100, thorough=True, wide=lambda: None)
    assert short == find_codec(w.samples, w.starts, 44100, thorough=True)


def test_a_long_opus_decode_stands_higher_in_the_wider_read(long_music, tmp_path):
    """A 20 s libopus decode resampled to 44.1 kHz: its frame edges in 24 windows stand higher
    than in the usual 12 (a decode leaks in few frames: the evidence grows with the audio read)."""
    from penthy_model.analyze import _wider
    from penthy_model.evidence import WIDE, find_codec

    path = _fake(long_music, tmp_path, "opus_192")
    w = read_windows(path)
    usual = find_codec(w.samples, w.starts, 44100, thorough=True, detectors=WIDE).of("opus")
    both = find_codec(w.samples, w.starts, 44100, thorough=True, detectors=WIDE,
                      wide=lambda: _wider(path, w)).of("opus")
    assert both.windows == 24 and both.z > usual.z and both.z >= THRESHOLDS["opus"], (usual, both)


def test_the_engine_reads_wider_only_for_long_files_it_leaves_undecided(tmp_path, long_music, model_path,
                                                                        monkeypatch):
    """An undecided file of 20 s gets the wider read; one of 10 s holds too few windows for it,
    and a file the network vouches for is never read again."""
    import penthy_model.analyze as analyze_module
    from penthy_model.analyze import Analyzer
    from penthy_model.constants import WIDE_WINDOWS

    read = []

    def recording(path, windows):
        more = wider(path, windows)
        read.append(None if more is None else len(more[1]))
        return more

    wider = analyze_module._wider
    monkeypatch.setattr(analyze_module, "_wider", recording)
    analyzer = Analyzer(model_path)
    x = music(20.0, sr=44100, seed=5)
    spectrum = np.fft.rfft(x, axis=0)
    spectrum[np.fft.rfftfreq(len(x), 1 / 44100) > 15000] = 0  # nothing above 16 kHz: undecided
    dull = np.fft.irfft(spectrum, len(x), axis=0)
    undecided = analyzer.analyze(write_flac(tmp_path / "dull_20s.flac", dull, 44100))
    assert undecided.verdict == "inconclusive" and read == [WIDE_WINDOWS]
    analyzer.analyze(write_flac(tmp_path / "dull_10s.flac", dull[:441000], 44100))
    assert read == [WIDE_WINDOWS, None]
    vouched = analyzer.analyze(long_music)
    assert vouched.verdict == "lossless" and len(read) == 2
