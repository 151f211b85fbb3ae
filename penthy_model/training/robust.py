"""Copies of the validation files, finished the way other studios finish music: a selection set.

    python -m penthy_model.training.robust build --corpus DIR --out DIR [--fake-share 0.4]
    python -m penthy_model.training.robust judge --out DIR [--model M.onnx] [--name NAME]

Validation says how a model does on music made like its training music. These copies ask
what happens when the same music leaves another kind of studio:

- ``steep``: genuine clips through an 8th-order lowpass at 12-16 kHz (a renderer or a master
  whose sound stops there, without any codec), then TPDF dither;
- ``shaped``: genuine clips, and every fake of a share of the clips, with noise-shaped
  dither on top (``shaped.add_shaped_dither``: a floor climbing 2-5 dB/kHz above a
  12-17 kHz knee);
- ``steep_shaped``: both at once, which is what TiMidity++ writes by default.

Every copy is as lossless as its source, so each genuine copy called transcoded is a false
accusation. Only validation clips are copied; ``judge`` writes ``NAME.json`` with the
verdicts per kind and group.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

from .corpus import check_report_name
from .dataset import hash32, read_manifest, unit_hash
from .fakes import round_to_int16, to_pcm16
from .shaped import KNEE_HZ, RISE_DB_PER_KHZ, add_shaped_dither, shaped_noise

STEEP_HZ = (12000.0, 16000.0)
STEEP_ORDER = 8
FAKE_SHARE = 0.4  # of the validation clips whose fakes get a shaped copy
COLUMNS = ("path", "src", "kind", "label", "group", "bandlimited", "clip_id")
KINDS = ("steep", "shaped", "steep_shaped")  # one folder each under --out


def steep_lowpass(x: np.ndarray, sr: int, cutoff: float) -> np.ndarray:
    """Butterworth-shaped magnitude (zero phase) of ``STEEP_ORDER`` at ``cutoff``: 48 dB per octave."""
    f = np.fft.rfftfreq(len(x), 1.0 / sr)
    gain = 1.0 / np.sqrt(1.0 + (f / cutoff) ** (2 * STEEP_ORDER))
    return np.fft.irfft(np.fft.rfft(x, axis=0) * gain[:, None], n=len(x), axis=0)


def _write(path: Path, pcm: np.ndarray, sr: int) -> None:
    sf.write(path, pcm, sr, format="FLAC", subtype="PCM_16")


def _copy_clip(args) -> list[dict]:
    corpus, out, rows = args
    rng = np.random.default_rng(hash32(f"robust:{rows[0]['clip_id']}"))
    cutoff, knee, rise = rng.uniform(*STEEP_HZ), rng.uniform(*KNEE_HZ), rng.uniform(*RISE_DB_PER_KHZ)
    made = []
    for r in rows:
        name = r["path"].replace("/", "__")
        genuine = r["label"] == 1
        if genuine:  # read and filtered once for both steep kinds; draws stay in the kinds' order
            x, sr = sf.read(corpus / r["path"], always_2d=True)
            steep = steep_lowpass(x, sr, cutoff)
            _write(out / "steep" / name, to_pcm16(steep, rng), sr)
        add_shaped_dither(corpus / r["path"], out / "shaped" / name, knee, rise, rng)
        if genuine:
            noise = shaped_noise(len(x), x.shape[1], sr, knee, rise, rng)
            _write(out / "steep_shaped" / name, round_to_int16(steep * 32767.0 + noise), sr)
        for kind in KINDS if genuine else ("shaped",):
            made.append({"path": f"{kind}/{name}", "src": r["path"], "kind": kind, "label": r["label"],
                         "group": r["group"], "bandlimited": int(r["bandlimited"]), "clip_id": r["clip_id"]})
    return made


def build(corpus: Path, out: Path, fake_share: float = FAKE_SHARE, jobs: int = 2, log=sys.stderr) -> int:
    """Write the copies and ``out/manifest.csv``; returns how many files."""
    rows = [r for r in read_manifest(corpus) if r["split"] == "val" and r["bits"] == "16"]
    clips: dict[tuple, list] = {}
    for r in rows:
        if r["label"] == 1 or unit_hash(f"robust:{r['clip_id']}") < fake_share:
            clips.setdefault((r["family"], r["clip_id"]), []).append(r)
    for kind in KINDS:  # made once here, not once per file in the workers
        (out / kind).mkdir(parents=True, exist_ok=True)
    t0, made = time.monotonic(), []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for n, got in enumerate(pool.map(_copy_clip, [(corpus, out, v) for v in clips.values()], chunksize=4), 1):
            made += got
            if n % 100 == 0 or n == len(clips):
                print(f"robust: {n}/{len(clips)} clips, {time.monotonic() - t0:.0f} s", file=log, flush=True)
    with open(out / "manifest.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(made)
    return len(made)


def judge(out: Path, model: Path | None = None, name: str = "robust", jobs: int = 2) -> dict:
    """Verdicts of the engine on the copies, counted per kind and group; saved as ``NAME.json``."""
    from ..analyze import Analyzer

    with open(out / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    analyzer = Analyzer(model)
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r, res in zip(rows, analyzer.analyze_many([out / r["path"] for r in rows], jobs=jobs)):
        counts[f"{r['kind']} {r['group']}"][res.verdict] += 1
    report = {"model_version": analyzer.model.version,
              "counts": {k: dict(sorted(v.items())) for k, v in sorted(counts.items())}}
    (out / f"{name}.json").write_text(json.dumps(report, indent=1))
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=("build", "judge"))
    ap.add_argument("--corpus", type=Path, help="the corpus whose validation clips are copied (build)")
    ap.add_argument("--out", type=Path, required=True, help="folder for the copies (outside the repo)")
    ap.add_argument("--fake-share", type=float, default=FAKE_SHARE)
    ap.add_argument("--model", type=Path, default=None, help="default: the shipped model (judge)")
    ap.add_argument("--name", default="robust", help="report name (judge)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    if args.action == "build":
        if args.corpus is None:
            ap.error("build needs --corpus")
        print(f"robust: {build(args.corpus, args.out, args.fake_share, args.jobs)} files in {args.out}")
        return 0
    report = judge(args.out, args.model, check_report_name(args.name, "robust"), args.jobs)
    print(f"model {report['model_version']}")
    for key, c in report["counts"].items():
        total = sum(c.values())
        print(f"  {key:34s} {total:5d} files: " + ", ".join(f"{v} {n}" for v, n in c.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
