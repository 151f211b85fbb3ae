"""Speed bars: analysing a 4-minute FLAC, codec evidence included, vs soundfile reading it whole.

    python bench/speed.py [--model M.onnx] [--runs 7]

Pinned to one core, onnxruntime, BLAS and OpenMP on one thread. For a 4-minute 44.1 kHz
16-bit stereo FLAC (bar: analysis <= 0.5x ``sf.read``) and a 4-minute 96 kHz 24-bit one
(bar: <= 1.0x) it prints the ratio of the medians of ``Analyzer.analyze`` to ``sf.read``
(float32), the codec evidence alone (``evidence.find_codec`` on the windows already read:
every detector with the engine's early stops, more than a file the network vouches for
gets), and, with no bar, the same for a copy low-passed at 11 kHz (sparse:
the score leaves it inconclusive, so the evidence is measured thoroughly). Every figure is
measured in this one run, interleaved, so drifts of a shared machine hit both sides: only
the ratios mean anything.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from penthy_model.analyze import Analyzer  # noqa: E402
from penthy_model.audio import read_windows  # noqa: E402
from penthy_model.demo import music  # noqa: E402
from penthy_model.evidence import find_codec  # noqa: E402

MINUTES = 4
BARS = {"44.1 kHz 16-bit": 0.5, "96 kHz 24-bit": 1.0}


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
    analyzer = Analyzer(args.model, threads=1)
    policy = analyzer.policy
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, sr, subtype in (("44.1 kHz 16-bit", 44100, "PCM_16"), ("96 kHz 24-bit", 96000, "PCM_24")):
            x = music(MINUTES * 60, sr=sr, seed=7)
            files[name] = Path(tmp) / f"{sr}.flac"
            sf.write(str(files[name]), x, sr, subtype=subtype)
            if sr == 44100:
                files["44.1 kHz sparse (no bar)"] = Path(tmp) / "sparse.flac"
                sf.write(str(files["44.1 kHz sparse (no bar)"]), low_passed(x, sr, 11000.0), sr, subtype=subtype)
        rows = {}
        for name, path in files.items():
            analyzer.analyze(path)  # warm: session created, file in the page cache
            sf.read(str(path), dtype="float32")
            w = read_windows(str(path))
            rows[name] = {"analyze": [], "evidence": [], "read": []}
            result = analyzer.analyze(path)
            rows[name]["verdict"] = f"{result.verdict}, grid z {result.grid_z}"

            def evidence():
                find_codec(w.samples, w.starts, w.sample_rate, clear_z=policy.grid_clear_z, absent_z=policy.grid_absent_z)

            for _ in range(args.runs):
                rows[name]["analyze"].append(timed(lambda: analyzer.analyze(path)))
                rows[name]["evidence"].append(timed(evidence))
                rows[name]["read"].append(timed(lambda: sf.read(str(path), dtype="float32")))
    print(f"{MINUTES}-minute stereo FLACs, one core, one thread, {args.runs} runs, medians:")
    for name, r in rows.items():
        med = {k: statistics.median(v) for k, v in r.items() if k != "verdict"}
        bar = f"(bar <= {BARS[name]})" if name in BARS else ""
        print(f"  {name:<24} read {med['read'] * 1000:7.1f} ms  analyze {med['analyze'] * 1000:7.1f} ms  "
              f"evidence {med['evidence'] * 1000:6.1f} ms  [{r['verdict']}]")
        print(f"    ratio analyze / sf.read = {med['analyze'] / med['read']:.3f} {bar}; "
              f"evidence alone / sf.read = {med['evidence'] / med['read']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
