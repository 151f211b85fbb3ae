"""Speed bar: analysing a 4-minute 44.1 kHz stereo FLAC vs soundfile reading it whole.

    python bench/speed.py [--model M.onnx] [--runs 7]

Pinned to one core, onnxruntime on one thread. Prints the ratio of the medians (bar:
<= 0.25) against ``sf.read`` as float32 and with its default (float64), and the same for
a copy low-passed at 11 kHz, which the score leaves inconclusive so the codec-grid test
runs on it too (no bar; it shows what that test costs). Each figure is
measured in this one run, interleaved, so drifts of a shared machine hit both sides.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from penthy_model.analyze import Analyzer  # noqa: E402
from penthy_model.demo import music  # noqa: E402

MINUTES = 4


def low_passed(x, sr: int, hz: float):
    spec = np.fft.rfft(x, axis=0)
    spec[np.fft.rfftfreq(len(x), 1 / sr) > hz] = 0
    return np.fft.irfft(spec, len(x), axis=0).astype(np.float32)


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "four-minutes.flac"
        x = music(MINUTES * 60, seed=7)
        sf.write(str(path), x, 44100, subtype="PCM_16")
        sparse = Path(tmp) / "four-minutes-sparse.flac"
        sf.write(str(sparse), low_passed(x, 44100, 11000.0), 44100, subtype="PCM_16")
        analyzer = Analyzer(args.model, threads=1)
        analyzer.analyze(path)  # warm: session created, file in the page cache
        sf.read(str(path), dtype="float32")
        verdict = analyzer.analyze(sparse).verdict
        rows = {"analyze": [], "read_f32": [], "read_default": [], "analyze_sparse": []}
        for _ in range(args.runs):
            rows["analyze"].append(timed(lambda: analyzer.analyze(path)))
            rows["analyze_sparse"].append(timed(lambda: analyzer.analyze(sparse)))
            rows["read_f32"].append(timed(lambda: sf.read(str(path), dtype="float32")))
            rows["read_default"].append(timed(lambda: sf.read(str(path))))
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"{MINUTES}-minute 44.1 kHz stereo FLAC, one core, {args.runs} runs, medians:")
    for k, v in med.items():
        print(f"  {k:<13} {v * 1000:7.1f} ms")
    print(f"ratio analyze / sf.read(float32) = {med['analyze'] / med['read_f32']:.3f}  (bar <= 0.25)")
    print(f"ratio analyze / sf.read(default) = {med['analyze'] / med['read_default']:.3f}")
    print(f"ratio analyze(low-passed copy, {verdict}) / sf.read(float32) = "
          f"{med['analyze_sparse'] / med['read_f32']:.3f}  (the grid test runs on inconclusive files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
