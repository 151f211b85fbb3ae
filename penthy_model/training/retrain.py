"""Retrain penthy on your own lossless files, in one command.

    python -m penthy_model.training.retrain --lossless ~/Music/lossless --work ~/penthy-work \\
        --out ~/penthy-mine.onnx

Cuts a few clips from every file under ``--lossless`` (FLAC, WAV, AIFF ...), screens out
any that already look lossy (a cliff in the spectrum: your collection may hold
transcodes), makes lossy fakes of each clip with the same encoders and settings as the
shipped model's corpus, then trains, exports, calibrates and evaluates exactly as
``train`` and ``evaluate`` do. Use the result with ``penthy --model`` or the beets
option ``penthy: model:``. Each top-level folder under ``--lossless`` (an artist, say)
is one source family; clips, not files, are what the split keeps apart, and all
clips of one file land on the same side because the split hashes the file's id.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from ..scan import find_files
from . import corpus, evaluate, fakes, train


def _clip_starts(frames: int, length: int, count: int) -> list[int]:
    if frames < length:
        return []
    return sorted({int(s) for s in np.linspace(0, frames - length, count + 2)[1:-1]})


def _file_id(path: Path) -> str:
    return "u" + hashlib.sha1(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:12]


def build_user_corpus(lossless: Path, out: Path, clips_per_file: int, fakes_per_clip: int, seed: int) -> int:
    """Clips and fakes from a folder of lossless files; returns the number of genuine clips."""
    rng = np.random.default_rng(seed)
    have_tools = all(shutil.which(t) for t in ("lame", "ffmpeg"))
    names = list(fakes.CONDITIONS if have_tools else fakes.SF_ONLY_CONDITIONS)
    if not have_tools:
        print("lame/ffmpeg not found: fakes from libsndfile's MP3 and Vorbis only "
              "(python -m penthy_model.training.corpus --install adds the rest)", file=sys.stderr)
    weights = corpus.condition_weights(names)
    out.mkdir(parents=True, exist_ok=True)
    manifest, writer = corpus._open_csv(out / "manifest.csv", corpus.COLUMNS)
    made = 0
    files = [Path(p.decode("utf-8", "surrogateescape")) if isinstance(p, bytes) else Path(p)
             for p in find_files([str(lossless)], lambda p, m: print(f"skipped {p!r}: {m}", file=sys.stderr))]
    for n, path in enumerate(files, 1):
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError, OSError) as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
            continue
        rel = path.relative_to(lossless)
        family = rel.parts[0] if len(rel.parts) > 1 else "user"
        length = int(corpus.CLIP_SECONDS * info.samplerate)
        bits = 24 if info.subtype in ("PCM_24", "PCM_32", "FLOAT", "DOUBLE") else 16
        for j, start in enumerate(_clip_starts(info.frames, length, clips_per_file)):
            x, sr = sf.read(str(path), start=start, frames=length, dtype="float32", always_2d=True)
            if corpus.is_silent(x) or corpus.has_cliff(x, sr):
                continue
            clip_id = f"{_file_id(rel)}_{j}"
            folder = out / family / clip_id
            folder.mkdir(parents=True, exist_ok=True)
            genuine = folder / "genuine.flac"
            sf.write(str(genuine), x[:, :2], sr, subtype=f"PCM_{bits}", format="FLAC")
            common = {"clip_id": _file_id(rel), "family": family, "sample_rate": sr, "bandlimited": 0, "kind": "full"}
            rows = [{**common, "path": str(genuine.relative_to(out)), "label": 1, "condition": "genuine",
                     "bits": bits, "group": "genuine_full"}]
            for c in rng.choice(len(names), size=min(fakes_per_clip, len(names)), replace=False, p=weights):
                fake = folder / f"{names[c]}.flac"
                try:
                    fakes.make_fake(genuine, fake, names[c])
                except fakes.EncodeError as exc:
                    print(f"{names[c]} failed on {path}: {exc}", file=sys.stderr)
                    continue
                rows.append({**common, "path": str(fake.relative_to(out)), "label": 0, "condition": names[c],
                             "bits": 16, "group": fakes.condition_group(names[c])})
            writer.writerows(rows)
            manifest.flush()
            made += 1
        print(f"retrain: {n}/{len(files)} files, {made} clips", file=sys.stderr, flush=True)
    manifest.close()
    return made


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lossless", type=Path, required=True, help="a folder of files you know are lossless")
    ap.add_argument("--work", type=Path, required=True, help="corpus, features and checkpoints go here")
    ap.add_argument("--out", type=Path, required=True, help="the .onnx to write (its .json beside it)")
    ap.add_argument("--clips-per-file", type=int, default=2)
    ap.add_argument("--fakes-per-clip", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--steps", type=int, default=train.STEPS_PER_EPOCH)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    data = args.work / "corpus"
    if (data / "manifest.csv").exists():
        print(f"using the corpus already in {data} (delete it to rebuild)", file=sys.stderr)
    elif build_user_corpus(args.lossless, data, args.clips_per_file, args.fakes_per_clip, args.seed) < 10:
        print("retrain: fewer than 10 usable clips; give it more (or longer) lossless files", file=sys.stderr)
        return 2
    train.main(["--corpus", str(data), "--work", str(args.work), "--out", str(args.out),
                "--epochs", str(args.epochs), "--steps", str(args.steps), "--seed", str(args.seed),
                "--version", f"penthy-retrained-{args.out.stem}"])
    evaluate.main(["--corpus", str(data), "--work", str(args.work), "--model", str(args.out),
                   "--out", str(args.work / "evaluation")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
