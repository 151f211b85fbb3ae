"""ALAC, WavPack and APE through the `formats` extra, and the same PCM in every container.

The same integers are written as FLAC (levels 0 and 8), WAV, AIFF, ALAC and WavPack; the
windows read back must be the same samples and the verdict the same. ALAC and WavPack are
made with the ``ffmpeg``/``wavpack`` tools where installed, else with PyAV's own encoders;
APE only where ``mac`` or ``jmac`` is installed (FFmpeg cannot encode it).
"""

import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from helpers import music
from penthy_model import decode_av, formats
from penthy_model.analyze import Analyzer
from penthy_model.audio import open_reader, read_windows
from penthy_model.bitdepth import effective_bits
from penthy_model.result import ERROR

SR = 44100
LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def _av():
    return pytest.importorskip("av", reason="the `formats` extra (PyAV) is not installed")


def av_encode(src, dst, codec, sample_format=None):
    """Encode the WAV ``src`` to ``dst`` with PyAV's encoder ``codec``.

    The samples keep their format (made planar) unless ``sample_format`` says otherwise:
    left to itself, PyAV would pick the encoder's first format (8 bits for WavPack).
    """
    av = _av()
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = inp.streams.audio[0]
        enc = out.add_stream(codec, rate=stream.codec_context.sample_rate)
        enc.layout = LAYOUTS.get(stream.codec_context.channels, stream.codec_context.layout)  # ALAC needs a name
        enc.format = sample_format or stream.codec_context.format.planar.name
        for frame in inp.decode(stream):
            frame.pts = None
            out.mux(enc.encode(frame))
        out.mux(enc.encode(None))
    return dst


def make_alac(src, dst):
    _av()
    if shutil.which("ffmpeg"):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-c:a", "alac", str(dst)], check=True)
        return dst
    return av_encode(src, dst, "alac")


def make_wavpack(src, dst):
    _av()
    if shutil.which("wavpack"):
        subprocess.run(["wavpack", "-q", "-y", str(src), "-o", str(dst)], check=True)
        return dst
    return av_encode(src, dst, "wavpack")


def make_ape(src, dst):
    """Monkey's Audio needs its own tool (FFmpeg only decodes it): ``mac`` or Debian's ``jmac``."""
    _av()
    if shutil.which("mac"):
        subprocess.run(["mac", str(src), str(dst), "-c2000"], check=True, capture_output=True)
    elif shutil.which("jmac"):
        subprocess.run(["jmac", "c2", str(src), str(dst)], check=True, capture_output=True)
    else:
        return None
    return dst


def write_all(folder, pcm: np.ndarray, sr: int = SR, subtype: str = "PCM_16") -> dict:
    """``pcm`` (integers or floats, as soundfile takes them) in every container, by name."""
    wav = folder / "x.wav"
    sf.write(str(wav), pcm, sr, subtype=subtype)
    paths = {"wav": wav}
    if subtype != "FLOAT":
        for level in (0, 8):
            path = folder / f"x{level}.flac"
            sf.write(str(path), pcm, sr, subtype=subtype, format="FLAC", compression_level=level / 8)
            paths[f"flac{level}"] = path
        paths["aiff"] = folder / "x.aiff"
        sf.write(str(paths["aiff"]), pcm, sr, subtype=subtype, format="AIFF")
        paths["alac"] = make_alac(wav, folder / "x.m4a")
    paths["wavpack"] = make_wavpack(wav, folder / "x.wv")
    if subtype in ("PCM_16", "PCM_24") and pcm.ndim == 2 and pcm.shape[1] <= 2:
        ape = make_ape(wav, folder / "x.ape")
        if ape:
            paths["ape"] = ape
    return paths


def int16_music(seconds: float, seed: int) -> np.ndarray:
    return np.round(music(seconds, seed=seed) * 32767).astype(np.int16)


@pytest.fixture(scope="module")
def containers(tmp_path_factory):
    _av()
    return write_all(tmp_path_factory.mktemp("containers"), int16_music(10.0, seed=4))


def test_levels_differ_and_extra_formats_are_what_they_say(containers):
    assert containers["flac0"].stat().st_size > containers["flac8"].stat().st_size
    assert decode_av.probe(containers["alac"]) == ("ALAC", True)
    assert decode_av.probe(containers["wavpack"]) == ("WAVPACK", True)
    assert decode_av.probe(containers["flac0"]) == ("FLAC", True)


def test_windows_are_the_same_samples_in_every_container(containers):
    ref = read_windows(containers["wav"])
    assert len(ref.starts) == 12 and ref.bits == 16
    for name, path in containers.items():
        w = read_windows(path)
        assert (w.frames, w.channels, w.sample_rate, w.bits, w.starts) == \
            (ref.frames, ref.channels, ref.sample_rate, 16, ref.starts), name
        assert all(np.array_equal(a, b) for a, b in zip(w.ints, ref.ints)), name
        assert np.array_equal(w.samples, ref.samples), name
    assert read_windows(containers["alac"]).format == "ALAC"
    assert read_windows(containers["wavpack"]).format == "WAVPACK"
    if "ape" in containers:
        assert read_windows(containers["ape"]).format == "APE"


@pytest.mark.parametrize("name", ["alac", "wavpack", "ape"])
def test_reads_cut_at_the_exact_sample(containers, name):
    """After a seek PyAV lands on a packet boundary; the reader cuts at the sample asked for."""
    if name not in containers:
        pytest.skip("no APE encoder (mac or jmac) installed")
    full, _ = sf.read(str(containers["flac8"]), dtype="int32", always_2d=True)
    with open_reader(containers[name]) as reader:
        assert reader.frames == len(full)
        # packet edges (ALAC 4096, WavPack blocks), odd offsets, backwards, the very end
        for start, length in [(0, 5), (1, 4096), (4095, 2), (4096, 1), (12345, 9000), (73727, 3), (300001, 33075),
                              (22050, 100), (len(full) - 777, 777)]:
            block = reader.read(start, length)
            assert block.dtype == np.int32 and block.shape == (length, 2)
            assert np.array_equal(block, full[start:start + length]), (start, length)
        with pytest.raises(RuntimeError, match="ends early"):
            reader.read(len(full) - 10, 20)


@pytest.fixture(scope="module")
def shipped():
    from penthy_model.inference import DEFAULT_MODEL

    if not DEFAULT_MODEL.exists():
        pytest.skip("no trained model in this checkout")
    return Analyzer()


@pytest.mark.parametrize("kind", ["genuine", "mp3-192"])
def test_same_verdict_and_score_in_every_container(shipped, tmp_path, kind):
    _av()
    x = music(12.0, seed=7)
    if kind != "genuine":  # decoded from MP3 by libsndfile's LAME
        mp3 = tmp_path / "x.mp3"
        sf.write(str(mp3), x, SR, format="MP3", bitrate_mode="CONSTANT", compression_level=1 - (192 - 32) / 288)
        x, _ = sf.read(str(mp3), dtype="float32")
    pcm = np.round(np.clip(x, -1, 1 - 2**-15) * 32768).astype(np.int16)
    results = {name: shipped.analyze(path) for name, path in write_all(tmp_path, pcm).items()}
    ref = results["flac0"]
    assert ref.verdict == ("lossless" if kind == "genuine" else "transcoded"), ref
    for name, r in results.items():
        assert r.verdict == ref.verdict, (name, r)
        assert abs(r.score - ref.score) <= 0.02, (name, r.score, ref.score)
        assert r.bits == 16 and r.window_starts == ref.window_starts, (name, r)


def stored_bits(name: str, bits: int) -> int:
    """The depth a container made here stores: FFmpeg's WavPack encoder keeps 24 bits in 32."""
    return 32 if name == "wavpack" and bits == 24 and not shutil.which("wavpack") else bits


def test_24_bit_alac_and_wavpack_keep_their_depth(tmp_path):
    _av()
    rng = np.random.default_rng(5)
    x = music(6.0, seed=2) + 1e-3 * rng.standard_normal((int(6.0 * SR), 2))
    pcm = np.round(x * 2**23).astype(np.int32) << 8  # integers: every writer stores the same 24 bits
    paths = write_all(tmp_path, pcm, subtype="PCM_24")
    ref = read_windows(paths["wav"])
    for name in ("alac", "wavpack", "flac8", "ape"):
        if name not in paths:
            continue
        w = read_windows(paths[name])
        assert w.bits == stored_bits(name, 24) and w.subtype == f"PCM_{w.bits}", name
        assert all(np.array_equal(a, b) for a, b in zip(w.ints, ref.ints)), name
    # 16-bit audio padded to 24 bits: the bit-depth check sees it through ALAC and WavPack
    padded = tmp_path / "padded"
    padded.mkdir()
    pcm = int16_music(6.0, seed=2).astype(np.int32) << 16  # soundfile scales int32 to the subtype
    for name, path in write_all(padded, pcm, subtype="PCM_24").items():
        w = read_windows(path)
        assert (w.bits, effective_bits(w.ints, w.bits)) == (stored_bits(name, 24), 16), name


@pytest.mark.parametrize("channels,subtype", [(1, "PCM_16"), (6, "PCM_24"), (2, "FLOAT"), (2, "PCM_U8"),
                                              (2, "PCM_32")])
def test_wavpack_depths_and_channel_counts(tmp_path, channels, subtype):
    _av()
    x = (0.3 * np.random.default_rng(channels).standard_normal((48000 * 8 + 7, channels))).clip(-1, 1)
    wav = tmp_path / "x.wav"
    sf.write(str(wav), x.astype(np.float32), 48000, subtype=subtype)
    ref = read_windows(wav)
    w = read_windows(make_wavpack(wav, tmp_path / "x.wv"))
    bits = ref.bits and stored_bits("wavpack", ref.bits)
    assert (w.channels, w.sample_rate, w.frames, w.bits, w.starts) == (channels, 48000, ref.frames, bits, ref.starts)
    assert np.array_equal(w.samples, ref.samples)
    assert len(w.ints) == len(ref.ints) and all(np.array_equal(a, b) for a, b in zip(w.ints, ref.ints))
    if subtype == "FLOAT":
        assert w.subtype == "FLOAT" and w.bits is None and not w.ints


@pytest.mark.parametrize("channels", [1, 6])
def test_alac_mono_and_multichannel(tmp_path, channels):
    _av()
    x = (0.3 * np.random.default_rng(channels).standard_normal((SR * 8, channels))).clip(-1, 1)
    wav = tmp_path / "x.wav"
    sf.write(str(wav), x.astype(np.float32), SR, subtype="PCM_16")
    ref = read_windows(wav)
    w = read_windows(make_alac(wav, tmp_path / "x.m4a"))
    assert (w.channels, w.bits, w.starts) == (channels, 16, ref.starts)
    assert all(np.array_equal(a, b) for a, b in zip(w.ints, ref.ints))


def test_aac_in_m4a_is_not_analysed_as_lossless(tmp_path, model_path):
    _av()
    wav = tmp_path / "x.wav"
    sf.write(str(wav), music(3.0, seed=1), SR, subtype="PCM_16")
    m4a = av_encode(wav, tmp_path / "x.m4a", "aac", "fltp")
    assert formats.format_of(m4a) == "ALAC"  # the name alone cannot tell
    probe = decode_av.probe(m4a)
    assert probe == ("AAC", False) and probe.reason == "AAC is not a lossless format"
    with pytest.raises(formats.NotLossless, match="AAC is not a lossless format"):
        read_windows(m4a)
    r = Analyzer(model_path).analyze(m4a)
    assert r.verdict == ERROR and r.reason == "AAC is not a lossless format" and r.score is None


def test_without_the_extra_the_message_says_how_to_get_it(tmp_path, monkeypatch, model_path):
    monkeypatch.setitem(sys.modules, "av", None)  # `import av` now fails, as without the extra
    assert not formats.extra_available()
    for name in ("x.m4a", "x.wv", "x.ape"):
        path = tmp_path / name
        path.write_bytes(bytes(1000))  # never opened: the reader stops at the missing import
        with pytest.raises(formats.ExtraMissing) as caught:
            read_windows(path)
        assert formats.FORMATS_EXTRA_HINT in str(caught.value) and formats.format_of(path) in str(caught.value)
        with pytest.raises(formats.ExtraMissing):
            decode_av.probe(path)
        r = Analyzer(model_path).analyze(path)
        assert r.verdict == ERROR and formats.FORMATS_EXTRA_HINT in r.reason
    flac = tmp_path / "x.flac"
    sf.write(str(flac), int16_music(2.0, seed=1), SR, subtype="PCM_16", format="FLAC")
    assert read_windows(flac).bits == 16  # soundfile's formats do not need the extra


def test_broken_extra_format_files_are_error_results(containers, tmp_path, model_path):
    analyzer = Analyzer(model_path)
    bad = tmp_path / "bad.wv"
    bad.write_bytes(b"wvpk" + bytes(200))
    r = analyzer.analyze(bad)
    assert r.verdict == ERROR and r.reason
    for name in ("alac", "wavpack"):  # cut in half: the header promises more than there is
        data = containers[name].read_bytes()
        cut = tmp_path / ("cut" + containers[name].suffix)
        cut.write_bytes(data[:len(data) // 2])
        r = analyzer.analyze(cut)
        assert r.verdict == ERROR and r.reason, (name, r)


def test_ape_header_depths():
    """Both APE header layouts, made by hand: the old one has no encoder left to make it."""
    from penthy_model.decode_av import _ape_bits

    def new_layout(bits):  # version >= 3.98: descriptor (52 bytes), then the header
        descriptor = b"MAC " + struct.pack("<HHIIIIIII", 3990, 0, 52, 24, 0, 0, 0, 0, 0) + bytes(16)
        header = struct.pack("<HHIIIHHI", 2000, 0, 73728, 100, 3, bits, 2, 44100)
        return descriptor + header + bytes(64)

    def old_layout(flags):  # before 3.98: flags say 8 or 24 bits, else 16
        return b"MAC " + struct.pack("<HHHHI", 3970, 2000, flags, 2, 44100) + bytes(64)

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        for data, bits in [(new_layout(24), 24), (new_layout(16), 16), (old_layout(8), 24), (old_layout(1), 8),
                           (old_layout(0), 16), (b"not an ape" * 10, None)]:
            path = Path(d) / "x.ape"
            path.write_bytes(data)
            assert _ape_bits(path) == bits


def test_names_that_are_not_utf8(containers, tmp_path):
    """The engine hands paths over as bytes; FFmpeg wants UTF-8, so such a name goes as a file object."""
    ref = read_windows(containers["wav"])
    for name in ("alac", "wavpack"):
        path = os.fsencode(tmp_path) + b"/caf\xe9" + os.fsencode(containers[name].suffix)
        try:
            shutil.copyfile(containers[name], path)
        except OSError:
            pytest.skip("this file system refuses names that are not UTF-8")
        w = read_windows(path)
        assert w.starts == ref.starts and all(np.array_equal(a, b) for a, b in zip(w.ints, ref.ints)), name
        assert decode_av.probe(path).lossless
