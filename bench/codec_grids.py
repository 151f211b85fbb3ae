"""Issue 26: how well the AC3, MP2, Musepack, Opus and WMA grids name their codec.

    python bench/codec_grids.py build --set sel --out /work/data/e26
    python bench/codec_grids.py measure --set sel --out /work/data/e26
    python bench/codec_grids.py thresholds --out /work/data/e26      # the rule, on sel
    python bench/codec_grids.py judge --set test --out /work/data/e26  # once, with sel's thresholds

A set is genuine clips of every kind the bars name (generated music at 44.1 and 48 kHz,
fluidsynth renders, sparse music, steep low-passes at 15-21 kHz, 32 kHz-sourced, 96 kHz/24-bit)
and decodes of each codec (``fakes.MORE_CONDITIONS``) plus MP3, AAC and Vorbis decodes (the
other codecs no new detector may name). ``sel`` and ``test`` use disjoint seeds. Every file
is measured by every detector; the thresholds follow /work/data/e26/rule.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from penthy_model.audio import read_windows
from penthy_model.demo import music
from penthy_model.training import fakes, sources

DETECTORS = ("ac3", "layer2", "opus", "wma")
SEED_BASE = {"sel": 0, "test": 10000, "test2": 20000, "test3": 30000, "test4": 40000,
             "test5": 50000, "test6": 60000, "test7": 70000, "test8": 80000, "test9": 90000,
             "test10": 100000, "test11": 110000, "test12": 120000, "test13": 130000,
             "test14": 140000, "test15": 150000, "test16": 160000,
             "test17": 170000, "test18": 180000, "test19": 190000}  # each judged once (rule.md)
CLIP_SECONDS = 20.0
OTHER = {  # decodes of the codecs the older grids name: no new detector may name them
    "mp3_320": fakes.Condition("mp3_320", "mp3", "mp3", "lame", ("-b", "320", "--cbr"), "mp3"),
    "aac_256": fakes.CONDITIONS["aac_256"],
    "vorbis_q6": fakes.CONDITIONS["vorbis_q6"],
}


def _lowpass(x: np.ndarray, sr: int, hz: float, width: float = 200.0) -> np.ndarray:
    spec = np.fft.rfft(x, axis=0)
    f = np.fft.rfftfreq(len(x), 1 / sr)
    spec *= np.clip((hz + width / 2 - f) / width, 0, 1)[:, None]
    return np.fft.irfft(spec, len(x), axis=0)


def fluid_clip(seed: int, sr: int, seconds: float) -> np.ndarray:
    """A random song of three General MIDI parts and drums, rendered with FluidR3_GM."""
    rng = np.random.default_rng(seed)
    bpm = float(rng.uniform(80, 150))
    beats = seconds * bpm / 60 + 4
    tracks = []
    for ch in range(3):
        prog = int(rng.choice(sources.MELODIC_PROGRAMS))
        base = int(rng.integers(40, 72))
        notes, b = [], 0.0
        while b < beats:
            d = float(rng.choice([0.25, 0.5, 1.0, 2.0]))
            notes.append((b, d, base + int(rng.integers(0, 15)), int(rng.integers(60, 120))))
            b += d
        tracks.append((ch, prog, notes))
    tracks.append((9, 0, sources.drum_pattern(rng, beats)))
    with tempfile.TemporaryDirectory(prefix="e26_") as d:
        mid = Path(d) / "song.mid"
        sources.write_midi(mid, tracks, bpm)
        x = sources.render_midi(mid, sources.FONTS["fluidr3"], sr, Path(d))
    x = x[int(sr * 1.0):int(sr * (1.0 + seconds))]
    return 0.7 * x / max(float(np.abs(x).max()), 1e-9)


def genuine_specs(base: int) -> list[dict]:
    """(name, kind, sr, seed) of a set's genuine clips."""
    specs = []
    for i in range(20):
        specs.append(dict(kind="plain", sr=(44100, 48000)[i % 2], seed=base + 1000 + i))
    for i in range(10):
        specs.append(dict(kind="fluid", sr=(44100, 48000)[i % 2], seed=base + 1500 + i))
    for i in range(8):
        specs.append(dict(kind="sparse", sr=44100, seed=base + 1100 + i))
    for i, hz in enumerate([15000, 17000, 19000, 21000] * 3):
        specs.append(dict(kind=f"lowpass{hz // 1000}", sr=44100, seed=base + 1200 + i, hz=hz))
    for i in range(6):
        specs.append(dict(kind="from32k", sr=44100, seed=base + 1300 + i))
    for i in range(4):
        specs.append(dict(kind="hires", sr=96000, seed=base + 1400 + i))
    return specs


def make_genuine(spec: dict) -> tuple[np.ndarray, int, str]:
    kind, sr, seed = spec["kind"], spec["sr"], spec["seed"]
    if kind == "fluid":
        return fluid_clip(seed, sr, CLIP_SECONDS), sr, "PCM_16"
    if kind == "from32k":
        x = music(CLIP_SECONDS, sr=32000, seed=seed).astype(np.float64)
        return sources.resample(x, 32000, sr), sr, "PCM_16"
    x = music(CLIP_SECONDS, sr=sr, seed=seed).astype(np.float64)
    if kind == "sparse":
        x = _lowpass(x, sr, 11000, 400)
    elif kind.startswith("lowpass"):
        x = _lowpass(x, sr, spec["hz"], 150)
    return x, sr, "PCM_24" if kind == "hires" else "PCM_16"


def fake_plan(base: int) -> list[dict]:
    """Sources for the fakes and, per source, two conditions of each new codec and one of the
    older codecs, drawn at random."""
    rng = np.random.default_rng(base + 7)
    by_family: dict[str, list[str]] = {}
    for name, c in fakes.MORE_CONDITIONS.items():
        by_family.setdefault(c.family, []).append(name)
    plan = []
    for i in range(24):
        kind = ("plain", "fluid", "sparse")[i % 3]
        sr = (44100, 48000)[(i // 3) % 2]
        conds = [str(n) for names in by_family.values() for n in rng.choice(names, 2, replace=False)]
        conds.append(str(rng.choice(list(OTHER))))
        plan.append(dict(kind=kind, sr=sr, seed=base + 2000 + i, conditions=conds))
    return plan


def build(out: Path, which: str) -> None:
    root = out / which
    (root / "genuine").mkdir(parents=True, exist_ok=True)
    (root / "fakes").mkdir(parents=True, exist_ok=True)
    rows = []
    base = SEED_BASE[which]
    for spec in genuine_specs(base):
        path = root / "genuine" / f"{spec['kind']}_{spec['sr']}_{spec['seed']}.flac"
        if not path.exists():
            x, sr, subtype = make_genuine(spec)
            sf.write(path, x, sr, subtype=subtype, format="FLAC")
        rows.append(dict(path=str(path), label="genuine", kind=spec["kind"], codec="", condition="genuine"))
        print("genuine", path.name, flush=True)
    for spec in fake_plan(base):
        src = root / "fakes" / f"src_{spec['kind']}_{spec['sr']}_{spec['seed']}.flac"
        if not src.exists():
            x, sr, _ = make_genuine(spec)
            sf.write(src, x, sr, subtype="PCM_16", format="FLAC")
        for name in spec["conditions"]:
            cond = fakes.MORE_CONDITIONS.get(name) or OTHER[name]
            dst = src.with_name(f"{src.stem}__{name}.flac")
            if not dst.exists():
                try:
                    fakes.make_fake(src, dst, cond)
                except fakes.EncodeError as e:
                    print("skip", dst.name, str(e).splitlines()[0], file=sys.stderr, flush=True)
                    continue
            codec = cond.family if name in fakes.MORE_CONDITIONS else "other:" + cond.family
            rows.append(dict(path=str(dst), label="fake", kind=spec["kind"], codec=codec, condition=name))
            print("fake", dst.name, flush=True)
    with open(root / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def detectors() -> dict:
    import importlib
    return {name: importlib.import_module(f"penthy_model.evidence.{name}") for name in DETECTORS}


def measure_file(path: str, mods: dict) -> dict:
    w = read_windows(path)
    out = {"sample_rate": w.sample_rate}
    for name, mod in mods.items():
        t = time.perf_counter()
        if name == "layer2":  # (z, alignment, codec, the two scalefactor combs)
            z, a, codec, mp2, mpc = mod.identify(w.samples, w.starts, w.sample_rate)
            out["layer2_codec"] = codec or ""
            out["layer2_mp2_comb"] = round(float(mp2), 3) if np.isfinite(mp2) else ""
            out["layer2_musepack_comb"] = round(float(mpc), 3) if np.isfinite(mpc) else ""
        else:
            z, a = mod.measure(w.samples, w.starts, w.sample_rate)
        out[f"{name}_ms"] = round((time.perf_counter() - t) * 1000, 1)
        out[f"{name}_z"] = round(float(z), 2) if np.isfinite(z) else ""
        out[f"{name}_align"] = "" if a is None else a
    return out


def measure(out: Path, which: str) -> None:
    root = out / which
    mods = detectors()
    with open(root / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    results = []
    for i, r in enumerate(rows):
        results.append({**r, **measure_file(r["path"], mods)})
        print(i, Path(r["path"]).name, {k: v for k, v in results[-1].items() if k.endswith("_z")}, flush=True)
    with open(root / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, list(results[0]))
        w.writeheader()
        w.writerows(results)


# Which detector names which codec, and the codec string it reports.
NAMES = {"ac3": ("ac3",), "layer2": ("mp2", "musepack"), "opus": ("opus",), "wma": ("wma",)}


def _z(r: dict, det: str) -> float:
    v = r.get(f"{det}_z", "")
    return float(v) if v != "" else float("-inf")


def thresholds(out: Path, floor: float = 6.0, margin: float = 1.5) -> dict:
    """The rule of rule.md on the selection set: T = max(floor, margin x the largest z over
    genuine files and other codecs' decodes)."""
    with open(out / "sel" / "results.csv") as f:
        rows = list(csv.DictReader(f))
    found = {}
    for det, codecs in NAMES.items():
        null = [_z(r, det) for r in rows if r["codec"] not in codecs]
        g = max(null)
        found[det] = dict(null_max=g, threshold=max(floor, margin * g))
    (out / "thresholds.json").write_text(json.dumps(found, indent=1))
    return found


def judge(out: Path, which: str) -> dict:
    """Per codec: share named correctly (own decodes); per detector: false namings."""
    th = json.loads((out / "thresholds.json").read_text())
    with open(out / which / "results.csv") as f:
        rows = list(csv.DictReader(f))
    report = {}
    for det, codecs in NAMES.items():
        t = th[det]["threshold"]
        for codec in codecs:
            own = [r for r in rows if r["codec"] == codec]
            if det == "layer2":
                ok = [r for r in own if _z(r, det) >= t and r["layer2_codec"] == codec]
            else:
                ok = [r for r in own if _z(r, det) >= t]
            missed = sorted(r["condition"] for r in own if r not in ok)
            report[codec] = dict(named=len(ok), of=len(own), share=round(len(ok) / max(len(own), 1), 4),
                                 missed=missed)
        null = [r for r in rows if r["codec"] not in codecs]
        false = [Path(r["path"]).name for r in null if _z(r, det) >= t]
        report[f"{det}_false"] = dict(named=len(false), of=len(null), files=false)
    ms = {det: float(np.mean([float(r[f"{det}_ms"]) for r in rows])) for det in DETECTORS}
    report["mean_ms_per_file"] = ms
    print(json.dumps(report, indent=1))
    (out / f"judge_{which}.json").write_text(json.dumps(report, indent=1))
    return report


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("step", choices=["build", "measure", "thresholds", "judge"])
    p.add_argument("--set", default="sel", choices=list(SEED_BASE))
    p.add_argument("--out", type=Path, default=Path("/work/data/e26"))
    a = p.parse_args(argv)
    if a.step == "build":
        build(a.out, a.set)
    elif a.step == "measure":
        measure(a.out, a.set)
    elif a.step == "thresholds":
        print(json.dumps(thresholds(a.out), indent=1))
    else:
        judge(a.out, a.set)


if __name__ == "__main__":
    main()
