"""Speed bar: analysing a 4-minute 44.1 kHz stereo FLAC vs soundfile reading it whole.

    python bench/speed.py [--model M.onnx] [--runs 7]

Pinned to one core, onnxruntime on one thread. Prints the ratio of the medians (bar:
<= 0.25) against ``sf.read`` as float32 and with its default (float64). Each figure is
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

import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from penthy_model.analyze import Analyzer  # noqa: E402
from penthy_model.demo import music  # noqa: E402

MINUTES = 4


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
        sf.write(str(path), music(MINUTES * 60, seed=7), 44100, subtype="PCM_16")
        analyzer = Analyzer(args.model, threads=1)
        analyzer.analyze(path)  # warm: session created, file in the page cache
        sf.read(str(path), dtype="float32")
        rows = {"analyze": [], "read_f32": [], "read_default": []}
        for _ in range(args.runs):
            rows["analyze"].append(timed(lambda: analyzer.analyze(path)))
            rows["read_f32"].append(timed(lambda: sf.read(str(path), dtype="float32")))
            rows["read_default"].append(timed(lambda: sf.read(str(path))))
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"{MINUTES}-minute 44.1 kHz stereo FLAC, one core, {args.runs} runs, medians:")
    for k, v in med.items():
        print(f"  {k:<13} {v * 1000:7.1f} ms")
    print(f"ratio analyze / sf.read(float32) = {med['analyze'] / med['read_f32']:.3f}  (bar <= 0.25)")
    print(f"ratio analyze / sf.read(default) = {med['analyze'] / med['read_default']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
