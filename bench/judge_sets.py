"""Judge a set of generated files with the whole engine and print the bars' figures.

    python bench/judge_sets.py MANIFEST.csv [--root DIR] [--jobs 2] [--out results.csv]

MANIFEST has a ``path`` column (relative to ``--root``, default: the manifest's folder), a
``label`` (genuine or fake) and a kind or group column: ``kind`` for genuine files, and for
fakes ``group`` or ``codec`` or ``condition`` (the first that is filled). The sets are built
by ``bench/d25_make.py`` (issue 25's genuine kinds and their fakes), ``bench/codec_bars.py
build`` (issue 24) and ``bench/codec_grids.py`` (issue 26). Prints, per genuine kind, the
share accused, inconclusive and with a codec named; per lossy group, recall, inconclusive
and the codecs named. Nothing here is timed.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from penthy_model.analyze import Analyzer  # noqa: E402


def group_of(row: dict) -> str:
    if row["label"] == "genuine":
        return row.get("kind") or "genuine"
    for column in ("group", "codec", "condition"):
        if row.get(column):
            return row[column]
    return "fake"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--root", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--split", help="only rows whose `split` column is this")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    root = a.root or a.manifest.parent
    rows = [r for r in csv.DictReader(a.manifest.open()) if not a.split or r.get("split") == a.split]
    paths = [str(root / r["path"]) for r in rows]
    results = []
    for n, res in enumerate(Analyzer().analyze_many(paths, jobs=a.jobs), 1):
        results.append(res)
        if n % 50 == 0:
            print(f"{n}/{len(rows)}", file=sys.stderr, flush=True)
    table = defaultdict(Counter)
    named = defaultdict(Counter)
    for r, res in zip(rows, results):
        key = (r["label"], group_of(r))
        table[key][res.verdict] += 1
        table[key]["n"] += 1
        named[key][res.codec or "-"] += 1
    print("| label | kind or group | files | transcoded | inconclusive | lossless | error | codec named |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for (label, group), c in sorted(table.items()):
        n = c["n"]
        codecs = ", ".join(f"{k} {v}" for k, v in named[(label, group)].most_common() if k != "-") or "none"
        print(f"| {label} | {group} | {n} | {c['transcoded'] / n:.1%} | {c['inconclusive'] / n:.1%} | "
              f"{c['lossless'] / n:.1%} | {c['error']} | {codecs} |")
    for label in ("genuine", "fake"):
        total = Counter()
        for (lab, _), c in table.items():
            if lab == label:
                total.update(c)
        if total["n"]:
            print(f"{label}: {total['n']} files, transcoded {total['transcoded'] / total['n']:.2%}, "
                  f"inconclusive {total['inconclusive'] / total['n']:.2%}, "
                  f"codec named {sum(v for (lab, _), cs in named.items() if lab == label for k, v in cs.items() if k != '-')}")
    if a.out:
        with a.out.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["path", "label", "group", "verdict", "score", "model_score", "codec", "grid_z", "reason"])
            for r, res in zip(rows, results):
                w.writerow([r["path"], r["label"], group_of(r), res.verdict, res.score, res.model_score, res.codec,
                            res.grid_z, res.reason])
    return 0


if __name__ == "__main__":
    sys.exit(main())
