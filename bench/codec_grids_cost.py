"""Cost of the issue-26 grids on one file, against a full soundfile read of it.

    python bench/codec_grids_cost.py FILE [repeats]

Prints, per detector, the best of ``repeats`` runs on the engine's windows, and the best
full read (the cost bar: the whole analysis at most 0.5x a full read).
"""

from __future__ import annotations

import sys
import time

import soundfile as sf

from penthy_model.audio import read_windows
from penthy_model.evidence import ac3, layer2, opus, wma


def best_of(f, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def main(path: str, repeats: int = 5) -> None:
    full = best_of(lambda: sf.read(path, dtype="float32"), repeats)
    w = read_windows(path)
    windows = best_of(lambda: read_windows(path), repeats)
    out = {"full read": full, "read_windows": windows}
    for name, mod in (("ac3", ac3), ("layer2", layer2), ("opus", opus), ("wma", wma)):
        out[name] = best_of(lambda: mod.measure(w.samples, w.starts, w.sample_rate), repeats)
    grids = sum(out[n] for n in ("ac3", "layer2", "opus", "wma"))
    for k, v in out.items():
        print(f"{k:>14}: {v:7.1f} ms")
    print(f"{'four grids':>14}: {grids:7.1f} ms = {grids / full:.3f} x a full read")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)
