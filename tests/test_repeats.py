"""A waveform that repeats exactly is no codec evidence: square waves, wavetables and loops.

Found with bench/hostile_genuine.py: before the repeat guard, a random 2048-sample wavetable
at 48 kHz was named AAC at z 227, a 384-sample pulse wave AAC at z 52, a 1152-sample
wavetable MP3 at z 91 and a 1024-sample noise loop Vorbis at z 98, all called transcoded.
Of the cases below, the old engine called the pulse wave and the 4096-sample loop transcoded.
"""

import numpy as np
import pytest

from penthy_model.analyze import analyze
from penthy_model.evidence import find_codec
from penthy_model.evidence.repeats import repeating
from penthy_model.training.fakes import to_pcm16

from helpers import mp3_twin, music, write_flac


def periodic(kind: str, period: int, seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """An undithered 16-bit waveform repeating every ``period`` samples, in both channels."""
    n = int(seconds * sr)
    phase = np.arange(n) % period
    if kind == "pulse":
        x = np.where(phase < period // 4, 0.3, -0.1)
    elif kind == "table":
        x = 0.3 * np.random.default_rng(seed).uniform(-1, 1, period)[phase]
    else:  # a loop of noise
        x = 0.2 * np.random.default_rng(seed).standard_normal(period)[phase]
    x = np.round(x * 32767) / 32767
    return np.stack([x, x], 1).astype(np.float32)


@pytest.mark.parametrize("kind, period, sr", [("table", 2048, 48000), ("pulse", 384, 48000),
                                              ("table", 1152, 48000), ("noise", 1024, 48000),
                                              ("noise", 4096, 44100)])
def test_a_repeating_waveform_is_not_called_transcoded(tmp_path, kind, period, sr):
    path = write_flac(tmp_path / f"{kind}_{period}.flac", periodic(kind, period, 10.0, sr), sr)
    r = analyze(path)
    assert r.verdict != "transcoded", (r.verdict, r.codec, r.grid_z)
    assert r.codec is None


def test_windows_that_repeat_are_found_and_music_is_not():
    sr = 48000
    loop = periodic("noise", 1024, 1.0, sr)[None]
    tone = periodic("table", 2048, 1.0, sr)[None]
    song = music(3.0, seed=5)[None, :48000]
    silence = np.zeros((1, 48000, 2), np.float32)
    assert repeating(loop).tolist() == [True]
    assert repeating(tone).tolist() == [True]
    assert repeating(song).tolist() == [False]
    assert repeating(silence).tolist() == [False]
    short = periodic("noise", 4096, 1.0, 8000)[None, :5911]  # 8 kHz: a loop longer than half the window
    assert repeating(short).tolist() == [True]
    assert repeating(music(1.0, sr=8000, seed=5)[None, :5911]).tolist() == [False]


def test_a_repeating_window_is_dropped_and_the_others_still_count(tmp_path):
    """An MP3 decode keeps its proof when one window of the file is replaced by a loop."""
    src = write_flac(tmp_path / "src.flac", music(12.0, seed=9), 44100)
    twin = mp3_twin(src, tmp_path / "twin.flac", 128)
    from penthy_model.audio import read_windows

    w = read_windows(twin)
    before = find_codec(w.samples, w.starts, w.sample_rate)
    samples = w.samples.copy()
    samples[0] = periodic("noise", 1024, samples.shape[1] / 44100 + 0.01, 44100)[:samples.shape[1]]
    after = find_codec(samples, w.starts, w.sample_rate)
    assert before.strongest.codec == after.strongest.codec == "mp3"
    assert after.strongest.z > 0.5 * before.strongest.z


@pytest.mark.parametrize("kind, period", [("pulse", 128), ("pulse", 1024)])
def test_a_wave_under_music_whose_period_shares_the_hop_names_no_codec(tmp_path, kind, period):
    """A pulse of 128 or 1024 samples under music lifts the near-zero coefficients at every
    alignment its edges fall on; a coder's grid stands at one (``mdct.shifted_z``)."""
    sr = 48000
    bed = music(10.0, seed=4)
    bed = np.concatenate([bed, bed])[: int(10.0 * sr)]
    x = periodic(kind, period, 10.0, sr) + 0.5 * bed / np.abs(bed).max()
    r = analyze(write_flac(tmp_path / "wave_under_music.flac", to_pcm16(x, np.random.default_rng(1)), sr))
    assert r.codec is None and r.verdict != "transcoded", (r.verdict, r.codec, r.grid_z)


def test_the_checks_run_at_or_below_every_codec_level_of_the_policy():
    """REVIEW_Z decides which files get the repeat and shift checks; a codec's grid that proves
    a transcode or backs the network's must have had them, so REVIEW_Z stays at or under every
    codec's support level, and each support level under the level that names the codec. Opus's
    band-end grid is the exception: it names the codec from the level at which the low-pass
    frame edges it is made of back a verdict (CELT's band end, not a higher z, tells the codec)."""
    from penthy_model.constants import CODEC_MIN_Z, CODEC_SUPPORT_Z  # the Policy's defaults
    from penthy_model.evidence import opus
    from penthy_model.evidence.stats import REVIEW_Z

    assert set(CODEC_SUPPORT_Z) == set(CODEC_MIN_Z)
    assert REVIEW_Z <= min(CODEC_SUPPORT_Z.values())
    assert all(CODEC_SUPPORT_Z[c] < CODEC_MIN_Z[c] for c in CODEC_MIN_Z if c != opus.BANDEND_GRID)
    ends = {CODEC_MIN_Z[opus.BANDEND_GRID], CODEC_SUPPORT_Z[opus.BANDEND_GRID]}
    assert ends == {CODEC_SUPPORT_Z[opus.LOWPASS_GRID], CODEC_SUPPORT_Z[opus.LOW_LOWPASS_GRID]}


def _saw(period: int, n: int, amplitude: float = 0.3) -> np.ndarray:
    """A saw wave of a whole number of samples, starting with the file."""
    x = amplitude * (2 * (np.arange(n) % period) / period - 1)
    return np.stack([x, x], 1)


@pytest.mark.parametrize("sr", [44100, 48000])
def test_a_saw_of_an_mp3_frame_under_music_names_no_codec(tmp_path, sr):
    """A saw of 1152 samples (an MP3 frame) under music falls the same way on every block
    MP3 would cut; shifts cannot tell (a shift of a whole frame is the same alignment). The
    bench's versions were named MP3 at z 25; the detectors now also measure the samples without the wave
    (``repeats.periodic_part``)."""
    n = int(10.0 * sr)
    bed = music(10.0, sr=sr, seed=6)
    x = _saw(1152, n) + 0.5 * bed / np.abs(bed).max()
    r = analyze(write_flac(tmp_path / "saw_1152.flac", to_pcm16(np.clip(x, -1, 1), np.random.default_rng(2)), sr))
    assert r.codec is None and r.verdict != "transcoded", (r.verdict, r.codec, r.grid_z)


def test_the_exact_periodic_part_is_found_and_music_and_loose_loops_are_not():
    from penthy_model.evidence.repeats import periodic_part

    sr, n = 44100, 33000
    starts = [0, 100_000, 250_001, 400_003]
    rng = np.random.default_rng(3)
    bed = music(12.0, sr=sr, seed=7)
    song = np.stack([bed[s % (len(bed) - n):][:n] for s in starts]).astype(np.float32) * 0.5
    wave = np.stack([_saw(512, s + n)[s:] for s in starts]).astype(np.float32)
    found = periodic_part(song + wave, starts)
    assert found is not None and np.sqrt(np.mean((found - wave) ** 2)) < 0.02 * np.sqrt(np.mean(wave ** 2))
    assert periodic_part(song, starts) is None
    loop = rng.uniform(-0.3, 0.3, 1135)  # a sample loop of any length: music's own, not a wave of a hop
    looped = np.stack([np.repeat(loop[(s + np.arange(n)) % 1135][:, None], 2, 1) for s in starts]).astype(np.float32)
    assert periodic_part(song + looped, starts) is None


def test_a_decode_of_music_with_a_sample_loop_keeps_its_proof(tmp_path):
    """Music's own exact loops (a soundfont sample at its root pitch) are left in: taking one out
    takes the decode's grid with it (an AC3 decode's z 162 fell to 1.3 when it was tried)."""
    sr = 44100
    n = int(12.0 * sr)
    loop = np.random.default_rng(8).uniform(-1, 1, 1135)
    x = 0.5 * music(12.0, sr=sr, seed=9) + 0.2 * np.repeat(loop[np.arange(n) % 1135][:, None], 2, 1)
    src = write_flac(tmp_path / "looped.flac", to_pcm16(np.clip(x, -1, 1), np.random.default_rng(4)), sr)
    r = analyze(mp3_twin(src, tmp_path / "looped_mp3.flac", 128))
    assert r.verdict == "transcoded" and r.codec == "mp3", (r.verdict, r.codec, r.grid_z)


@pytest.mark.parametrize("gate", [1024, 2048])
def test_music_hard_gated_to_digital_silence_names_no_codec(tmp_path, gate):
    """Music cut to exact silence every ``gate`` / 2 samples at 48 kHz: the gate's edges sit on
    the AAC/Vorbis block boundaries at one alignment, as sharp as a coder's grid (the bench
    had such files named AAC at z 25 and Vorbis at z 13-22). Windows with runs of digital
    silence beside sound are not read for a grid."""
    from penthy_model.evidence.repeats import gated

    sr = 48000
    n = int(10.0 * sr)
    on = ((np.arange(n) // (gate // 2)) % 2).astype(np.float32)
    x = 0.7 * music(10.0, sr=sr, seed=13)[:n] * on[:, None]
    path = write_flac(tmp_path / f"gate_{gate}.flac", to_pcm16(x), sr)
    r = analyze(path)
    assert r.codec is None and r.verdict != "transcoded", (r.verdict, r.codec, r.grid_z)
    from penthy_model.audio import read_windows

    assert gated(read_windows(path).samples).all()


def test_a_decode_with_a_silent_gap_keeps_its_proof(tmp_path):
    """An undithered MP3 decode of music that stops for a moment: the window holding the gap
    is dropped at review, the others still prove MP3."""
    sr = 44100
    x = music(12.0, sr=sr, seed=14)
    x[int(3.0 * sr):int(3.3 * sr)] = 0.0
    src = write_flac(tmp_path / "gap.flac", x, sr)
    r = analyze(mp3_twin(src, tmp_path / "gap_mp3.flac", 128))
    assert r.verdict == "transcoded" and r.codec == "mp3", (r.verdict, r.codec, r.grid_z)


def _hostile_bench():
    """bench/hostile_genuine.py, loaded as a module (it is a script, not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "hostile_genuine.py"
    spec = importlib.util.spec_from_file_location("hostile_genuine", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_chip_tune_of_few_levels_gets_no_codec(tmp_path, monkeypatch):
    """The hostile bench's third draw: three undithered pulse voices at 48 kHz, 12 sample
    levels. 11 of its 12 windows hold digital silence and are dropped (``gated``); the one
    left read the subband grid at z 42 and was named MP2/Musepack. A window of so few levels
    over so wide a span is no decode (``few_levels``), so it is dropped too."""
    import penthy_model.evidence.repeats as repeats
    from penthy_model.audio import read_windows

    x = _hostile_bench().render("other", "chip8", 48000, 10, 10.0, draw=3)
    path = write_flac(tmp_path / "chip8.flac", x, 48000)
    w = read_windows(path)
    assert repeats.few_levels(w.samples).all() and not repeats.few_levels(music(10.0, 48000)[None]).any()
    r = analyze(path)
    assert r.codec is None and r.verdict != "transcoded", (r.verdict, r.codec, r.grid_z)
    monkeypatch.setattr(repeats, "few_levels", lambda s: np.zeros(len(s), bool))
    named = find_codec(w.samples, w.starts, 48000, thorough=True).strongest
    assert named.codec == "subband" and named.z >= 10  # what the check takes away


def test_a_square_under_music_names_no_subband_coder(tmp_path):
    """The hostile bench's fourth draw: music over a 256-sample square wave at 48 kHz. The
    subband grid reads z 20 and the scalefactor steps say MP2; without the wave (found by
    ``periodic_part``) the grid is gone and the steps too few to name a coder ("subband").
    The second look must count as the same grid whatever its name, or the first z stands."""
    from penthy_model.audio import read_windows
    from penthy_model.evidence import layer2
    from penthy_model.evidence.repeats import periodic_part
    from penthy_model.evidence.stats import REVIEW_Z

    x = _hostile_bench().render("periodic_bed", "square_256", 48000, 1, 10.0, draw=4)
    path = write_flac(tmp_path / "square_bed.flac", x, 48000)
    w = read_windows(path)
    first = layer2.identify(w.samples, w.starts, 48000)
    part = periodic_part(w.samples, w.starts)
    second = layer2.identify(w.samples - part, w.starts, 48000)
    assert first.z >= 10 and first.codec == "mp2", first  # the trap
    assert not second.z >= REVIEW_Z and second.codec is None, second
    r = analyze(path)
    assert r.codec is None and r.verdict != "transcoded", (r.verdict, r.codec, r.grid_z)


def _under_music(wave: np.ndarray, sr: int, seconds: float = 10.0) -> np.ndarray:
    """``wave`` (n, 2) under the demo music, as float in [-1, 1]."""
    bed = music(seconds, sr=sr, seed=1)[:len(wave)]
    return np.clip(wave + 0.5 * bed / np.abs(bed).max(), -1, 1)


def test_the_periodic_part_is_found_in_the_short_windows_of_a_low_rate():
    """At 8 kHz the windows are under 6000 samples: the far lags end TAIL samples before the
    window's end (they ended at 8192, so a wave under the music was never looked for there)."""
    from penthy_model.evidence.repeats import FAR_LAGS, far_lags, periodic_part

    sr, n = 8000, 5911
    assert far_lags(40000) == FAR_LAGS and far_lags(n)[1] < n < FAR_LAGS[1]
    wave = periodic("pulse", 512, 10.0, sr)
    x = _under_music(wave, sr)
    starts = [0, 20_000, 40_001, 60_003]
    windows = np.stack([x[s:s + n] for s in starts]).astype(np.float32)
    found = periodic_part(windows, starts)
    truth = np.stack([wave[s:s + n] for s in starts])
    assert found is not None and np.sqrt(np.mean((found - truth) ** 2)) < 0.05 * np.sqrt(np.mean(truth ** 2))
    music_only = np.stack([_under_music(0 * wave, sr)[s:s + n] for s in starts]).astype(np.float32)
    assert periodic_part(music_only, starts) is None


def test_a_wave_under_music_at_8_khz_names_no_codec(tmp_path, monkeypatch):
    """Found with the hostile plan at 8 kHz: pulse waves of 256 and 512 samples under music were
    named AC3 (z 50 and 261). AC3 cannot code at 8 kHz (``ac3.RATES``); with that fact taken
    away, the wave guard alone must still keep the grid from being named."""
    from penthy_model.evidence import ac3, layer2

    sr = 8000
    path = write_flac(tmp_path / "pulse_512_8k.flac", to_pcm16(_under_music(periodic("pulse", 512, 10.0, sr), sr),
                                                               np.random.default_rng(4)), sr)
    r = analyze(path)
    assert r.codec is None and r.verdict != "transcoded", (r.verdict, r.codec, r.grid_z)
    monkeypatch.setattr(ac3, "RATES", ac3.RATES | {sr})
    monkeypatch.setattr(layer2, "RATES", layer2.RATES | {sr})
    r = analyze(path)
    assert r.codec is None and r.verdict != "transcoded", (r.verdict, r.codec, r.grid_z)


def test_a_noise_loop_longer_than_half_a_window_at_8_khz_is_no_grid(tmp_path):
    """Found on a fresh draw of the hostile plan at 8 kHz: a stereo loop of 4096 samples of
    noise was named AAC at z 54. The windows there hold 5911 samples, and the repeat search
    stopped at half of them; it now reaches as far as TAIL samples are left to compare."""
    import zlib

    sr, n, loop = 8000, 80000, 4096
    rng = np.random.default_rng(zlib.crc32(b"loop/noise_4096/8000/0/1001"))  # that draw's noise
    x = np.clip(np.tile(0.2 * rng.standard_normal((loop, 2)), (n // loop + 1, 1))[:n], -1, 1)
    r = analyze(write_flac(tmp_path / "loop_4096_8k.flac", to_pcm16(x), sr))
    assert r.codec is None and r.verdict != "transcoded", (r.verdict, r.codec, r.grid_z)
