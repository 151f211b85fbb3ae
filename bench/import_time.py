"""Import bar: ``import penthy_model`` must cost <= 50 ms.

    python bench/import_time.py [--runs 15]

Times fresh interpreters with and without the import, interleaved, and prints the
median difference and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    base, with_import = [], []
    run("import penthy_model")  # warm the file cache
    for _ in range(args.runs):
        base.append(run("pass"))
        with_import.append(run("import penthy_model"))
    b, w = statistics.median(base), statistics.median(with_import)
    print(f"python -c pass: {b * 1000:.1f} ms; python -c 'import penthy_model': {w * 1000:.1f} ms (medians)")
    print(f"import cost: {(w - b) * 1000:.1f} ms  (bar <= 50 ms); ratio {w / b:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
