"""Judge a model on the held-out test split, beside the two baselines.

    python -m penthy_model.training.evaluate --corpus DIR --work DIR --model M.onnx --out DIR

Prints a Markdown report and writes ``evaluation.json``, ``roc.png`` and ``files.csv``
(the CNN's score, verdict and evidence for every test file) to ``--out``.
The CNN is run through the real engine (``Analyzer``), so the numbers are those of what
ships, thresholds and "inconclusive" rule included. Baselines get their single
threshold from the validation split, with the same false-positive target.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from .baselines import PixelTree, cutoff_score
from .dataset import build_cache
from .train import calibrate

GROUP_BARS = {  # the bars: minimum recall per group
    "mp3_cbr_le256": 0.995, "mp3_hard": 0.97, "vorbis": 0.97, "aac_ge256": 0.90, "aac_lt256": 0.98, "opus": 0.95,
}
FPR_BARS = {"genuine_full": 0.005, "genuine_bandlimited": 0.02}


def roc_auc(scores_fake: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve with fakes as positives (rank statistic, ties averaged)."""
    pos, neg = scores_fake[labels == 0], scores_fake[labels == 1]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv))
    ranks[order] = np.arange(1, len(allv) + 1)
    _, inv, counts = np.unique(allv, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    ranks = (sums / counts)[inv]
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def roc_curve(scores_fake: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    thresholds = np.unique(scores_fake)[::-1]
    pos, neg = labels == 0, labels == 1
    tpr = np.array([np.mean(scores_fake[pos] >= t) for t in thresholds])
    fpr = np.array([np.mean(scores_fake[neg] >= t) for t in thresholds])
    return np.r_[0.0, fpr, 1.0], np.r_[0.0, tpr, 1.0]


def metrics(rows: list[dict], verdicts: list[str], scores: np.ndarray, evidence=None) -> dict:
    """Per-group and overall numbers; 'transcoded' is the positive class. ``evidence``
    (per file, from the engine) splits each group by whether the file had any."""
    labels = np.array([r["label"] for r in rows])
    called = np.array([v == "transcoded" for v in verdicts])
    inconclusive = np.array([v == "inconclusive" for v in verdicts])
    by_group, by_condition = defaultdict(list), defaultdict(list)
    for i, r in enumerate(rows):
        by_group[r["group"]].append(i)
        by_condition[r["condition"]].append(i)
    limited = np.array([bool(r["bandlimited"]) for r in rows])
    evidence = None if evidence is None else np.asarray(evidence, bool)
    groups = {}
    for g, idx in sorted(by_group.items()):
        idx = np.array(idx)
        fake = labels[idx[0]] == 0
        groups[g] = {"files": len(idx), ("recall" if fake else "called_transcoded"): float(called[idx].mean()),
                     "inconclusive": float(inconclusive[idx].mean())}
        # a fake of a band-limited clip may have had nothing up there for the encoder to remove;
        # a file without evidence (little sound above 16 kHz) gets the cautious threshold
        splits = [("full_band_source", ~limited[idx]), ("band_limited_source", limited[idx])] if fake else []
        if evidence is not None:
            splits += [("with_evidence", evidence[idx]), ("without_evidence", ~evidence[idx])]
        for key, side in splits:
            if side.any():
                groups[g][f"{'recall' if fake else 'called_transcoded'}_{key}"] = float(called[idx[side]].mean())
                groups[g][f"files_{key}"] = int(side.sum())
    conditions = {c: {"files": len(idx), "recall": float(called[idx].mean())}
                  for c, idx in sorted(by_condition.items()) if labels[idx[0]] == 0}
    tp = int((called & (labels == 0)).sum())
    fp = int((called & (labels == 1)).sum())
    fn = int((~called & (labels == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    ok = ~np.isnan(scores)
    return {
        "files": len(rows), "genuine": int((labels == 1).sum()), "fakes": int((labels == 0).sum()),
        "precision": precision, "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else float("nan"),
        "accuracy": float(np.mean(called == (labels == 0))),
        "false_positive_rate": float(called[labels == 1].mean()) if (labels == 1).any() else float("nan"),
        "inconclusive_rate": float(inconclusive.mean()),
        "roc_auc": roc_auc(1.0 - scores[ok], labels[ok]),
        "groups": groups, "conditions": conditions,
    }


def baseline_verdicts(scores: np.ndarray, threshold: float) -> list[str]:
    return ["inconclusive" if np.isnan(s) else ("transcoded" if s < threshold else "lossless") for s in scores]


def markdown(report: dict) -> str:
    systems = list(report["systems"])
    lines = ["| measure | bar | " + " | ".join(systems) + " |", "|---|---|" + "---|" * len(systems)]

    def row(name, bar, get):
        vals = []
        for s in systems:
            v = get(report["systems"][s])
            vals.append("–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.4f}")
        lines.append(f"| {name} | {bar} | " + " | ".join(vals) + " |")

    for g, bar in FPR_BARS.items():
        row(f"{g} called transcoded", f"≤ {bar}", lambda m, g=g: m["groups"].get(g, {}).get("called_transcoded"))
    for g, bar in GROUP_BARS.items():
        row(f"recall {g}", f"≥ {bar}", lambda m, g=g: m["groups"].get(g, {}).get("recall"))
    row("recall mp3_other (V1–V6, ABR)", "", lambda m: m["groups"].get("mp3_other", {}).get("recall"))
    for key in ("inconclusive_rate", "precision", "recall", "f1", "accuracy", "roc_auc"):
        row(key, "", lambda m, k=key: m[k])
    counts = report["systems"][systems[0]]
    lines.append(f"\nTest split: {counts['files']} files ({counts['genuine']} genuine, {counts['fakes']} fakes).")
    lines += ["", f"{systems[0]}, recall by the kind of genuine clip a fake was made from:", "",
              "| group | full-band source | band-limited source |", "|---|---|---|"]
    def cell(m, key, measure="recall"):
        return f"{m[f'{measure}_{key}']:.4f} ({m[f'files_{key}']})" if f"{measure}_{key}" in m else "–"

    for g in GROUP_BARS:
        m = counts["groups"].get(g, {})
        lines.append(f"| {g} | {cell(m, 'full_band_source')} | {cell(m, 'band_limited_source')} |")
    lines += ["", f"{systems[0]}, by whether the file had evidence (sound above 16 kHz in at least half its "
              "windows); for genuine groups the share called transcoded:", "",
              "| group | with evidence | without evidence |", "|---|---|---|"]
    for g in list(FPR_BARS) + list(GROUP_BARS):
        m = counts["groups"].get(g, {})
        key = "recall" if g in GROUP_BARS else "called_transcoded"
        lines.append(f"| {g} | {cell(m, 'with_evidence', key)} | {cell(m, 'without_evidence', key)} |")
    grid = report.get("grid_verdicts") or {}
    lines += ["", f"{systems[0]}: files called transcoded by a codec's frame grid, not by the score: "
              + (", ".join(f"{g} {n}" for g, n in grid.items()) or "none")]
    return "\n".join(lines)


FILE_COLUMNS = ("path", "clip_id", "family", "kind", "group", "condition", "label")


def grid_verdicts(rows: list[dict], results: list) -> dict:
    """Per group, how many files the codec-grid test (not the score) called transcoded."""
    return dict(sorted(Counter(r["group"] for r, res in zip(rows, results) if res.codec).items()))


def write_files_csv(path: Path, rows: list[dict], results: list) -> None:
    """One line per test file: what it is, and what the CNN said about it."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FILE_COLUMNS + ("score", "verdict", "content_share", "codec"))
        for r, res in zip(rows, results):
            w.writerow([r[c] for c in FILE_COLUMNS] + [res.score, res.verdict, res.content_share, res.codec or ""])


def plot_roc(report: dict, curves: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, log in zip(axes, (False, True)):
        for name, (fpr, tpr) in curves.items():
            ax.plot(fpr, tpr, label=f"{name} (AUC {report['systems'][name]['roc_auc']:.4f})")
        ax.set_xlabel("genuine files flagged (false-positive rate)")
        ax.set_ylabel("fakes flagged (recall)")
        if log:
            ax.set_xscale("log")
            ax.set_xlim(1e-3, 1)
            ax.set_title("ROC, log scale")
        else:
            ax.set_title("ROC on the test split")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def evaluate(corpus: Path, work: Path, model: Path, out: Path, jobs: int = 2, log=sys.stderr) -> dict:
    from ..analyze import Analyzer
    from ..verdict import has_evidence

    cache = build_cache(corpus, work / "cache", log=log)
    test = [r for r in cache.rows if r["split"] == "test"]
    val = [r for r in cache.rows if r["split"] == "val"]
    if not test or not val:
        raise SystemExit("evaluate: the corpus is too small to have both a validation and a test split")
    index = {id(r): i for i, r in enumerate(cache.rows)}
    test_labels = np.array([r["label"] for r in test])
    val_labels = np.array([r["label"] for r in val])
    systems, curves = {}, {}

    analyzer = Analyzer(model)
    results = list(analyzer.analyze_many([corpus / r["path"] for r in test], jobs=jobs))
    cnn = np.array([np.nan if r.model_score is None else r.model_score for r in results])  # the network alone
    evidence = [has_evidence(r.content_share) for r in results]
    systems["penthy CNN"] = metrics(test, [r.verdict for r in results], cnn, evidence)
    print(f"CNN scored {len(test)} test files", file=log, flush=True)

    cut_val = np.array([cutoff_score(corpus / r["path"]) for r in val])
    cut_test = np.array([cutoff_score(corpus / r["path"]) for r in test])
    val_limited = np.array([r["bandlimited"] for r in val])
    ok = ~np.isnan(cut_val)
    t_cut = calibrate(cut_val[ok], val_labels[ok], val_limited[ok]).transcoded
    systems["cutoff heuristic"] = metrics(test, baseline_verdicts(cut_test, t_cut), cut_test)

    tree = PixelTree().fit(cache, cache.select("train"))
    tree_val = tree.file_scores(cache, [index[id(r)] for r in val])
    tree_test = tree.file_scores(cache, [index[id(r)] for r in test])
    ok = ~np.isnan(tree_val)
    t_tree = calibrate(tree_val[ok], val_labels[ok], val_limited[ok]).transcoded
    systems["pixel tree"] = metrics(test, baseline_verdicts(tree_test, t_tree), tree_test)

    for name, s in (("penthy CNN", cnn), ("cutoff heuristic", cut_test), ("pixel tree", tree_test)):
        ok = ~np.isnan(s)
        curves[name] = roc_curve(1.0 - s[ok], test_labels[ok])
    report = {"model": str(model), "model_version": analyzer.model.version,
              "thresholds": {"penthy CNN": vars(analyzer.thresholds), "cutoff heuristic": t_cut, "pixel tree": t_tree},
              "systems": systems, "grid_verdicts": grid_verdicts(test, results)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    (out / "evaluation.md").write_text(markdown(report) + "\n")
    write_files_csv(out / "files.csv", test, results)
    try:
        plot_roc(report, curves, out / "roc.png")
    except ImportError:
        print("matplotlib is not installed: no roc.png (pip install 'penthy[plots]')", file=log)
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True, help="where the training run cached the features")
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True, help="folder for evaluation.json, .md and roc.png")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    report = evaluate(args.corpus, args.work, args.model, args.out, jobs=args.jobs)
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
