"""Judge the issue-25 policy on measured findings (bench/d25_measure.py), against today's rule.

    python bench/d25_judge.py /work/data/d25/findings_select.jsonl [--texture t512_2500] [--texture-min 1.0]
        [--show-genuine-texture]

"today": the rule on main before issue 25 (the CNN's verdict; grids only on files it leaves
inconclusive, at the constants' thresholds). "policy": ``verdict.decide`` with every grid run on
every file (as the evidence stage will) and the lossy-texture proof. Prints, per genuine kind,
the share accused and inconclusive; per lossy group, recall and inconclusive; and Markdown.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from penthy_model.inference import Model  # noqa: E402
from penthy_model.verdict import CodecEvidence, Findings, Policy, decide, has_evidence, pool  # noqa: E402


def codec_evidence(r: dict) -> list[CodecEvidence]:
    if "grid" not in r:  # grids not run on this file (see --list-grids)
        return []
    out = [CodecEvidence(name, "grid", np.nan if z is None else z, n, ch) for name, (z, n, ch) in r["grid"].items()]
    z, best, used = r["mp3"]
    out.append(CodecEvidence("MP3", "mp3_scan", np.nan if z is None else z, used, "mid", best))
    for key, test in (("mp3_confirm", "mp3_confirm"), ("mp3_equal", "mp3_equal")):
        if r.get(key):
            z, n = r[key]
            out.append(CodecEvidence("MP3", test, np.nan if z is None else z, n, "all"))
    return out


def today(r: dict, policy: Policy) -> str:
    scores = np.array(r["window_scores"])
    score = pool(scores, policy.pooling)
    evidence = has_evidence(float(np.mean(r["content"])))
    if score < (policy.transcoded if evidence else policy.transcoded_low_content):
        return "transcoded"
    verdict = "lossless" if evidence and score >= policy.lossless else "inconclusive"
    if verdict == "inconclusive" and policy.proof(codec_evidence(r)) is not None:
        return "transcoded"
    return verdict


def findings(r: dict, texture_key: str) -> Findings:
    t = r.get(texture_key)
    return Findings(r["window_scores"], np.array(r["content"], bool), sample_rate=r["sample_rate"],
                    cutoff_hz=r["cutoff_hz"], upsampled_from=r["upsampled_from"],
                    hires_content_hz=r.get("hires_content_hz"), codec=tuple(codec_evidence(r)),
                    texture=None if t is None else t[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("findings", type=Path, nargs="+")
    ap.add_argument("--texture", default="t512_2500")
    ap.add_argument("--texture-min", type=float, default=None)
    ap.add_argument("--show-genuine-texture", action="store_true")
    ap.add_argument("--list-grids", type=Path, help="write the paths whose verdict a grid could change here")
    a = ap.parse_args(argv)
    rows = [json.loads(line) for f in a.findings for line in f.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if "window_scores" in r]
    for f in a.findings:  # the grids, measured apart (bench/d25_measure.py --grids-for)
        g = f.with_name(f.name.replace("findings_", "grids_"))
        if g.exists():
            grids = {json.loads(line)["path"]: json.loads(line) for line in g.read_text().splitlines() if line.strip()}
            for r in rows:
                if r["path"] in grids:
                    r.update({k: v for k, v in grids[r["path"]].items() if k in ("grid", "mp3", "mp3_confirm", "mp3_equal")})
    policy = Policy.for_model(Model())
    if a.texture_min is not None:
        policy = replace(policy, texture_min=a.texture_min)
    table = defaultdict(lambda: defaultdict(int))
    reasons = defaultdict(list)
    for r in rows:
        key = ("genuine", r["kind"]) if r["label"] == "genuine" else ("fake", r["group"])
        old = today(r, policy)
        new, _, reason = decide(findings(r, a.texture), policy)
        t = table[key]
        t["n"] += 1
        t["old_" + old] += 1
        t["new_" + new] += 1
        if r["label"] == "genuine" and new == "transcoded":
            reasons[key].append((r["path"], reason))
    if a.list_grids:  # fakes the CNN (+texture) leaves unproven, today or under the policy; every genuine clip
        need = []
        for r in rows:
            bare = dict(r, grid={"AAC": [None, 0, ""], "Vorbis": [None, 0, ""]}, mp3=[None, 0, 0])
            if r["label"] == "genuine" or today(bare, policy) != "transcoded" or \
                    decide(findings(bare, a.texture), policy)[0] != "transcoded":
                need.append(r["path"])
        a.list_grids.write_text("\n".join(need) + "\n")
        print(f"{len(need)} paths need grids -> {a.list_grids}")
    with_grids = sum("grid" in r for r in rows)
    print(f"texture {a.texture}, texture_min {policy.texture_min}; grids measured on {with_grids} of {len(rows)} files")
    print("| set | n | accused/recall today | policy | inconclusive today | policy |")
    print("|---|---|---|---|---|---|")
    for key in sorted(table):
        t = table[key]
        n = t["n"]
        print(f"| {key[0]} {key[1]} | {n} | {t['old_transcoded'] / n:.1%} | {t['new_transcoded'] / n:.1%} "
              f"| {t['old_inconclusive'] / n:.1%} | {t['new_inconclusive'] / n:.1%} |")
    for label in ("genuine", "fake"):
        n = sum(t["n"] for k, t in table.items() if k[0] == label)
        acc = sum(t["new_transcoded"] for k, t in table.items() if k[0] == label)
        old = sum(t["old_transcoded"] for k, t in table.items() if k[0] == label)
        inc = sum(t["new_inconclusive"] for k, t in table.items() if k[0] == label)
        print(f"all {label}: n {n}, transcoded today {old}, policy {acc}, policy inconclusive {inc}")
    for key, items in reasons.items():
        for path, reason in items:
            print("ACCUSED", key, path, reason[:140])
    if a.show_genuine_texture:
        for name in [k for k in rows[0] if k.startswith("t") and k[1:2].isdigit()]:
            g = defaultdict(list)
            for r in rows:
                if r.get(name):
                    g[(r["label"], r["kind"] if r["label"] == "genuine" else r["group"])].append(r[name][0])
            print(name)
            for key in sorted(g):
                v = np.array(g[key])
                print(f"  {key}: n {len(v)} max {v.max():.2f} p90 {np.percentile(v, 90):.2f} median {np.median(v):.2f} "
                      f"min {v.min():.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
