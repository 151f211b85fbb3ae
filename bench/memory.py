"""Memory bar: peak RSS analysing a 60-minute file vs a 4-minute one (bar: <= +50 MB).

    python bench/memory.py [--model M.onnx]

Each analysis runs in a fresh process; its peak RSS comes from the OS (ru_maxrss).
The 60-minute file is written block by block, so making it needs little memory either.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from penthy_model.demo import music  # noqa: E402

CHILD = """
import json, resource, sys
from penthy_model.analyze import Analyzer
r = Analyzer(sys.argv[2] if len(sys.argv) > 2 else None).analyze(sys.argv[1])
print(json.dumps({"verdict": r.verdict, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def write_long(path: Path, minutes: int) -> None:
    block = music(60.0, seed=11)
    with sf.SoundFile(str(path), "w", 44100, 2, subtype="PCM_16", format="FLAC") as f:
        for _ in range(minutes):
            f.write(block)


def peak(path: Path, model) -> dict:
    cmd = [sys.executable, "-c", CHILD, str(path)] + ([model] if model else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        short, long = Path(tmp) / "4min.flac", Path(tmp) / "60min.flac"
        write_long(short, 4)
        write_long(long, 60)
        a, b = peak(short, args.model), peak(long, args.model)
        size = long.stat().st_size / 1e6
    print(f"peak RSS,  4-minute file: {a['maxrss_kb'] / 1024:6.1f} MB ({a['verdict']})")
    print(f"peak RSS, 60-minute file: {b['maxrss_kb'] / 1024:6.1f} MB ({b['verdict']}, {size:.0f} MB on disk)")
    print(f"difference: {(b['maxrss_kb'] - a['maxrss_kb']) / 1024:+.1f} MB  (bar <= +50 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
