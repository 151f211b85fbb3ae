"""Audio and models the tests make for themselves."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from penthy_model.demo import music  # noqa: F401  (the tests' music is the demo's)
from penthy_model.inference import Thresholds, write_sidecar


def write_flac(path: Path, x: np.ndarray, sr: int = 44100, subtype: str = "PCM_16") -> Path:
    sf.write(str(path), x, sr, subtype=subtype, format="FLAC")
    return Path(path)


def sparse_music(seconds: float = 12.0, seed: int = 3, sr: int = 44100) -> np.ndarray:
    """The demo music low-passed at 11 kHz: nothing above 16 kHz for the model to judge."""
    x = music(seconds, sr=sr, seed=seed)
    spec = np.fft.rfft(x, axis=0)
    spec[np.fft.rfftfreq(len(x), 1 / sr) > 11000] = 0
    return np.fft.irfft(spec, len(x), axis=0).astype(np.float32)


def mp3_twin(src: Path, dst: Path, kbps: int = 128) -> Path:
    """Encode ``src`` to MP3 with libsndfile's LAME and decode it back to a 16-bit FLAC."""
    x, sr = sf.read(str(src), dtype="float32")
    mp3 = Path(dst).with_suffix(".mp3")
    sf.write(str(mp3), x, sr, format="MP3", bitrate_mode="CONSTANT", compression_level=1 - (kbps - 32) / 288)
    y, _ = sf.read(str(mp3), dtype="float32")
    mp3.unlink()
    return write_flac(dst, y, sr)


def tiny_model(path: Path, version: str = "tiny-test-1", thresholds=(0.3, 0.7)) -> Path:
    """A hand-made ONNX model: sigmoid of the mean mid-channel level from 17 to 21.8 kHz.

    It is no detector of subtle transcodes, but it gives a low score to a file whose top
    band is empty (an MP3 at 128k) and a high one to full-band noise, so every code path
    of inference and the verdict can be tested without the trained model.
    """
    import onnx
    from onnx import TensorProto, helper

    from penthy_model.constants import FEATURES
    from penthy_model.features import band_centres

    centres = band_centres()
    rows = np.nonzero((centres >= 17000.0) & (centres < 21800.0))[0]

    def const(name, values, dtype=TensorProto.INT64):
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, dtype, [len(values)], values))

    nodes = [
        const("starts", [0, int(rows[0])]), const("ends", [1, int(rows[-1]) + 1]), const("axes", [1, 2]),
        helper.make_node("Slice", ["features", "starts", "ends", "axes"], ["band"]),
        helper.make_node("ReduceMean", ["band"], ["level"], axes=[1, 2, 3], keepdims=0),
        const("w", [20.0], TensorProto.FLOAT), const("b", [-7.0], TensorProto.FLOAT),
        helper.make_node("Mul", ["level", "w"], ["scaled"]),
        helper.make_node("Add", ["scaled", "b"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["p_lossless"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 2, FEATURES.n_bands, FEATURES.n_frames])],
        [helper.make_tensor_value_info("p_lossless", TensorProto.FLOAT, ["batch"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    write_sidecar(path, version, Thresholds(*thresholds))
    return path


def interrupt_second_analysis(monkeypatch) -> list:
    """Make ``Analyzer.analyze`` raise KeyboardInterrupt on its second call (Ctrl-C mid-run);
    returns the list of paths it was called with."""
    from penthy_model.analyze import Analyzer

    real, calls = Analyzer.analyze, []

    def analyze(analyzer, path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(analyzer, path)

    monkeypatch.setattr(Analyzer, "analyze", analyze)
    return calls


def need(*tools: str) -> None:
    """Skip the test unless every command in ``tools`` is installed."""
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


def ffmpeg_has(encoder: str) -> bool:
    """Whether ffmpeg is installed and lists ``encoder`` among its encoders."""
    if shutil.which("ffmpeg") is None:
        return False
    out = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return any(line.split()[1:2] == [encoder] for line in out.splitlines() if len(line.split()) > 1)
