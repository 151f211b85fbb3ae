"""Train the CNN on a cached corpus, export it to ONNX and calibrate its thresholds.

    python -m penthy_model.training.train --corpus DIR --work DIR --out penthy_model/models/penthy.onnx

Checkpoints go to ``--work`` (outside the repository); a killed run resumes from the last
one. The ONNX file is checked against PyTorch, then the decision thresholds are set on
the validation split by running the real engine (``Analyzer``) over its files, so the
thresholds fit exactly what users will run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..constants import FEATURES
from ..features import band_centres
from ..inference import Thresholds, sidecar_path, write_sidecar
from ..verdict import has_evidence, logit, sigmoid
from .dataset import Cache, build_cache, read_manifest, to_float, twin_gap_db, twin_has_content
from .net import Exported, PenthyNet, freeze_batch_norm, from_onnx

# --- training ----------------------------------------------------------------------
BATCH = 128
STEPS_PER_EPOCH = 250
BANDLIMITED_SHARE = 0.3  # of the genuine half of a batch
CROP_FRAMES = 128  # train on random half-window crops: half the cost, and the net is length-agnostic
LEARNING_RATE = 2e-3
WEIGHT_DECAY = 1e-4

# --- augmentation (applied to features, per window) --------------------------------
LEVEL_SHIFT_DB = 8.0  # random offset of the whole image: the reference band varies with music
MASK_PROB = 0.3  # Koops et al.: hide the top of the band so a cutoff alone is not the answer
MASK_FROM_HZ = (12000.0, 22000.0)
SIDE_SHIFT_DB = 10.0  # stereo width varies
MONO_PROB = 0.08  # and some files are mono
# A noise floor laid over the band, after the masking, for windows of either label: a
# steep lowpass followed by rounding or dither, or noise-shaped dither that rises above
# 12-17 kHz (TiMidity++ writes it by default, as do many mastering tools), is not a
# transcode in itself. Per cell the floor varies as the power of noise in one FFT bin does.
# Off unless asked for (--noise-floor): fine-tuning penthy-1.4 with it at 0.3 (run 9) made
# validation recall worse and called more noise-shaped genuine files transcoded, not fewer.
# Cells that were exactly 0 stay 0 (they include the rows above Nyquist, but also the
# digital silence over a loud decode's cutoff), so fakes got patchy floors where genuine
# windows got whole ones: one suspect for why it went the wrong way.
FLOOR_PROB = 0.0
FLOOR_DB = (-95.0, -45.0)  # relative to the reference band, like the features
FLOOR_SHAPED_PROB = 0.5  # of floors: rising from a knee instead of flat
FLOOR_KNEE_HZ = (12000.0, 17000.0)
FLOOR_RISE_DB_PER_KHZ = (1.0, 5.0)

# --- fakes that show no mark -------------------------------------------------------
# A fake window whose every row has the mean and spread over frames of its genuine twin's
# (``dataset.twin_gap_db`` under this many dB) shows nothing of the encoder; with --twin-gap
# its target is 0.5, "cannot tell", instead of 0, and it is left out of the validation loss.
# Off (0) unless asked for, so runs without it repeat the old ones exactly. Fine-tuning
# penthy-1.4 with 2 dB (runs 12 and 13, the latter with --twin-scope bandlimited) called
# fewer genuine renders from another renderer transcoded, but cost 1.3-2.6 points of AAC
# >= 256k recall on validation (docs/model-history.md, "What was tried and not shipped"). With
# --twin-scope quiet (only windows whose genuine twin has no sound above 16 kHz) it cost
# at most 0.3 point there, and that run is penthy-1.5 (docs/model-history.md, "Fine-tuning").
TWIN_GAP_DB = 0.0

# --- calibration -------------------------------------------------------------------
TARGET_FPR = 0.005  # full-band genuine files called transcoded, on the validation split
TARGET_FPR_BANDLIMITED = 0.02  # band-limited genuine files (solo, lowpass, from 32 kHz) likewise
TARGET_FAKE_PASS = 0.02  # fakes called lossless, on the validation split
# The model's ``transcoded`` threshold never goes above this, however clean validation looks.
# Validation genuine files are made like the training ones; copies of them finished another
# way (a steep lowpass, noise-shaped dither: training/robust.py) and renders by TiMidity++
# (training/unseen.py) score lower. For penthy-1.4 the fit gave 0.49. At 0.4, 0.3 and 0.2,
# 16, 12 and 6 genuine files of those copies and three TiMidity++ sets were called
# transcoded, for at most 1.3 points of recall on validation fakes with evidence at 0.2
# (docs/model-history.md, "Thresholds").
TRANSCODED_CEILING = 0.2


def augment(x: torch.Tensor, gen: torch.Generator, floor_prob: float = FLOOR_PROB) -> torch.Tensor:
    """Random level, top-band masking and channel changes on a float batch in [0, 1]."""
    b = x.shape[0]
    span = FEATURES.db_ceil - FEATURES.db_floor
    empty = x == 0.0  # rows above Nyquist stay empty
    shift = (torch.rand(b, 1, 1, 1, generator=gen) * 2 - 1) * LEVEL_SHIFT_DB / span
    side = torch.zeros(b, 2, 1, 1)
    side[:, 1] = ((torch.rand(b, generator=gen) * 2 - 1) * SIDE_SHIFT_DB / span)[:, None, None]
    x = torch.clamp(x + shift + side, 0.0, 1.0)
    mono = torch.rand(b, generator=gen) < MONO_PROB
    x[mono, 1] = 0.0
    mask = torch.rand(b, generator=gen) < MASK_PROB
    if mask.any():
        lo, hi = MASK_FROM_HZ
        cut = lo + torch.rand(b, generator=gen) * (hi - lo)
        rows = torch.as_tensor(band_centres()).float()[None, :] >= cut[:, None]  # (B, bands)
        hide = (rows & mask[:, None])[:, None, :, None]
        x = torch.where(hide, torch.zeros_like(x), x)
    if floor_prob > 0:  # no draw at all when off, so runs without it repeat the old ones exactly
        floor = torch.rand(b, generator=gen) < floor_prob
        if floor.any():
            x = add_noise_floor(x, floor, gen)
    x[empty] = 0.0
    return x


def add_noise_floor(x: torch.Tensor, chosen: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Add (as power) a random noise floor to the ``chosen`` windows of a batch in [0, 1]."""
    n = int(chosen.sum())
    span = FEATURES.db_ceil - FEATURES.db_floor

    def uniform(lo_hi, size):
        lo, hi = lo_hi
        return lo + torch.rand(size, generator=gen) * (hi - lo)

    level = uniform(FLOOR_DB, n)[:, None]  # (n, 1) dB
    knee, rise = uniform(FLOOR_KNEE_HZ, n)[:, None], uniform(FLOOR_RISE_DB_PER_KHZ, n)[:, None]
    rise = rise * (torch.rand(n, 1, generator=gen) < FLOOR_SHAPED_PROB)
    centres = torch.as_tensor(band_centres()).float()[None, :]
    shape = level + rise * torch.clamp(centres - knee, min=0.0) / 1000.0  # (n, bands) dB
    cells = -torch.log(torch.rand((n,) + tuple(x.shape[1:]), generator=gen).clamp_min(1e-12))  # Exp(1) power
    noise = 10.0 ** (shape[:, None, :, None] / 10.0) * cells
    picked = x[chosen]
    db = picked * span + FEATURES.db_floor
    power = torch.where(picked > 0, 10.0 ** (db / 10.0), torch.zeros_like(db)) + noise
    x = x.clone()
    x[chosen] = torch.clamp((10.0 * torch.log10(power) - FEATURES.db_floor) / span, 0.0, 1.0)
    return x


def set_learning_rate(opt: torch.optim.Optimizer, progress: float, peak: float = LEARNING_RATE) -> None:
    """Linear warm-up over the first 5% of the run, then cosine decay (a function of progress,
    so a resumed run with more epochs simply stretches the schedule)."""
    warm = 0.05
    scale = progress / warm if progress < warm else 0.5 * (1 + np.cos(np.pi * (progress - warm) / (1 - warm)))
    for group in opt.param_groups:
        group["lr"] = peak * max(scale, 0.02)


def balanced_batches(labels: np.ndarray, limited: np.ndarray, idx: np.ndarray, rng: np.random.Generator,
                     steps: int, fake_groups: np.ndarray | None = None, fake_shares: dict | None = None):
    """Index batches with as many genuine windows as fake ones.

    Band-limited genuine windows (solo instruments, gentle lowpass, 32 kHz sources) are
    rare but are where false accusations come from: they fill BANDLIMITED_SHARE of the
    genuine half of every batch. ``fake_shares`` ({report group: share}) likewise gives
    chosen groups of fakes (``fake_groups``, per window) a fixed share of the fake half;
    the rest of it is drawn from the other fakes.
    """
    pos, neg = idx[(labels[idx] == 1) & ~limited[idx]], idx[labels[idx] == 0]
    lim = idx[(labels[idx] == 1) & limited[idx]]
    half = BATCH // 2
    n_lim = int(round(half * BANDLIMITED_SHARE)) if len(lim) else 0
    pools = []  # (windows, how many per batch) for the fake half
    if fake_shares:
        rest = np.ones(len(neg), bool)
        for group, share in fake_shares.items():
            mine = fake_groups[neg] == group
            rest &= ~mine
            if mine.any():
                pools.append((neg[mine], int(round(half * share))))
        pools.append((neg[rest], half - sum(n for _, n in pools)))
    else:
        pools.append((neg, half))
    for _ in range(steps):
        parts = [rng.choice(pos, half - n_lim), rng.choice(lim, n_lim) if n_lim else []]
        parts += [rng.choice(pool, n) for pool, n in pools if n > 0 and len(pool)]
        yield np.concatenate(parts).astype(int)


def training_targets(cache: Cache, labels: np.ndarray, twin_gap: float = TWIN_GAP_DB,
                     scope: str = "all", corpus: Path | None = None) -> np.ndarray:
    """Each window's target: its label, or 0.5 for a fake within ``twin_gap`` dB of its twin.

    ``scope`` "bandlimited" narrows that to fakes of band-limited clips; "quiet" to fake
    windows whose twin window has no sound above 16 kHz (it reads the genuine files of
    ``corpus`` again, see ``dataset.twin_has_content``).
    """
    if twin_gap <= 0:
        return labels
    unmarked = twin_gap_db(cache) < twin_gap  # NaN (genuine, no twin) compares False
    if scope == "bandlimited":
        unmarked &= cache.column("bandlimited", bool)
    elif scope == "quiet":
        if corpus is None:
            raise ValueError("twin scope 'quiet' needs the corpus, to read the genuine files again")
        unmarked &= ~twin_has_content(cache, corpus)
    elif scope != "all":
        raise ValueError(f"unknown twin scope {scope!r}")
    return np.where(unmarked, np.float32(0.5), labels).astype(np.float32)


def evaluate_windows(net: PenthyNet, cache: Cache, idx: np.ndarray, labels: np.ndarray) -> dict:
    net.eval()
    probs = []
    with torch.no_grad():
        for i in range(0, len(idx), 512):
            xb = torch.from_numpy(to_float(cache.x[idx[i:i + 512]]))
            probs.append(torch.sigmoid(net(xb)).numpy())
    p, y = np.concatenate(probs), labels[idx]
    eps = 1e-6
    # Validation holds several fakes per genuine clip: weigh the classes equally, as the
    # batches do, or the checkpoint picked is the one that is best at fakes alone.
    per_class = [float(-np.mean(np.log(p[y == 1] + eps))) if (y == 1).any() else float("nan"),
                 float(-np.mean(np.log(1 - p[y == 0] + eps))) if (y == 0).any() else float("nan")]
    loss = float(np.nanmean(per_class))
    acc_g = float(np.mean(p[y == 1] >= 0.5)) if (y == 1).any() else float("nan")
    acc_f = float(np.mean(p[y == 0] < 0.5)) if (y == 0).any() else float("nan")
    return {"loss": loss, "genuine_acc": acc_g, "fake_acc": acc_f, "balanced_acc": float(np.nanmean([acc_g, acc_f]))}


def train(cache: Cache, work: Path, epochs: int, seed: int = 0, steps: int = STEPS_PER_EPOCH,
          fake_shares: dict | None = None, init: Path | None = None, lr: float = LEARNING_RATE,
          noise_floor: float = FLOOR_PROB, twin_gap: float = TWIN_GAP_DB, twin_scope: str = "all",
          corpus: Path | None = None, log=sys.stderr) -> PenthyNet:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    labels = cache.labels()
    limited = cache.column("bandlimited", bool)
    groups = cache.column("group")
    train_idx, val_idx = cache.select("train"), cache.select("val")
    if len(val_idx) == 0:
        val_idx = train_idx
    targets = training_targets(cache, labels, twin_gap, twin_scope, corpus)
    if twin_gap > 0:
        unmarked = targets == 0.5
        val_idx = val_idx[~unmarked[val_idx]]
        print(f"twin gap < {twin_gap} dB: {int(unmarked[train_idx].sum())} training fake windows get target 0.5",
              file=log, flush=True)
    net = PenthyNet()
    frozen = init is not None and init.suffix == ".onnx"  # the shipped model: its batch norms are folded
    if frozen:
        net = from_onnx(init)
    elif init is not None:  # fine-tuning: another run's weights, a fresh optimiser and schedule
        net.load_state_dict(torch.load(init, weights_only=False)["net"])
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=WEIGHT_DECAY)
    work.mkdir(parents=True, exist_ok=True)
    last, best = work / "last.ckpt", work / "best.ckpt"
    start, best_loss = 0, float("inf")
    if last.exists():
        state = torch.load(last, weights_only=False)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        start, best_loss = state["epoch"] + 1, state["best_loss"]
        rng = np.random.default_rng(seed + start)
        print(f"resuming after epoch {start}", file=log, flush=True)
    print(f"train windows {len(train_idx)} (genuine {int(labels[train_idx].sum())}), val windows {len(val_idx)}",
          file=log, flush=True)
    for epoch in range(start, epochs):
        net.train()
        if frozen:
            freeze_batch_norm(net)
        t0, total = time.monotonic(), 0.0
        for step, b in enumerate(balanced_batches(labels, limited, train_idx, rng, steps, groups, fake_shares)):
            set_learning_rate(opt, (epoch * steps + step) / (epochs * steps), lr)
            start_frame = int(rng.integers(0, cache.x.shape[3] - CROP_FRAMES + 1))
            crop = cache.x[b][..., start_frame:start_frame + CROP_FRAMES]
            xb = augment(torch.from_numpy(to_float(crop)), gen, noise_floor)
            loss = F.binary_cross_entropy_with_logits(net(xb), torch.from_numpy(targets[b]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        val = evaluate_windows(net, cache, val_idx, labels)
        if val["loss"] < best_loss:
            best_loss = val["loss"]
            torch.save({"net": net.state_dict(), "epoch": epoch, "val": val}, best)
        torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "epoch": epoch, "best_loss": best_loss}, last)
        print(f"epoch {epoch + 1}/{epochs}: train loss {total / steps:.4f}, val {json.dumps(val)}, "
              f"{time.monotonic() - t0:.0f} s", file=log, flush=True)
    net.load_state_dict(torch.load(best, weights_only=False)["net"])
    net.eval()
    return net


def export_onnx(net: PenthyNet, out: Path) -> Path:
    """Write the ONNX file (dynamic batch axis) and check onnxruntime agrees with PyTorch."""
    import onnxruntime as ort

    model = Exported(net).eval()
    example = torch.rand(4, 2, FEATURES.n_bands, FEATURES.n_frames)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, (example,), str(out), input_names=["features"], output_names=["p_lossless"],
                      dynamic_axes={"features": {0: "batch"}, "p_lossless": {0: "batch"}},
                      opset_version=17, dynamo=False)
    probe = torch.rand(7, 2, FEATURES.n_bands, FEATURES.n_frames)
    with torch.no_grad():
        want = model(probe).numpy()
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"features": probe.numpy()})[0]
    err = float(np.abs(got - want).max())
    if err > 1e-4:
        raise RuntimeError(f"onnxruntime and PyTorch disagree by {err}")
    return out


def _tail(scores: np.ndarray, share: float, lower: bool) -> float:
    """The score with ``share`` of ``scores`` beyond it (below if ``lower``), estimated twice.

    Empirically, and from a normal fit to the logits: a validation split holds a few
    hundred genuine files, too few to read a 0.5% quantile off directly, and the fit
    extrapolates the tail. The more cautious of the two is returned.

    The fit uses only the half of the logits on the tail's side of the median (a half-normal
    around the median): the other half says nothing about this tail, and sure files pile up
    there (logits of 10 and more), which inflated a whole-sample fit and put the threshold
    far below every genuine file (0.19 with the lowest genuine validation score at 0.52).
    """
    ordered = np.sort(scores)
    k = int(np.floor(share * len(ordered)))
    empirical = ordered[k] if lower else ordered[len(ordered) - 1 - k]
    z = 2.5758 if share <= 0.005 else 2.0537 if share <= 0.02 else 1.6449  # one-sided normal quantiles
    logits = logit(ordered)
    centre = np.median(logits)
    side = logits[logits <= centre] if lower else logits[logits >= centre]
    spread = np.sqrt(np.mean((side - centre) ** 2))
    fitted = sigmoid(centre + (-z if lower else z) * spread)
    return float(min(empirical, fitted) if lower else max(empirical, fitted))


def _safe_limit(scores: np.ndarray, genuine: np.ndarray, bandlimited: np.ndarray) -> float | None:
    """The lowest threshold that keeps each kind of genuine file in ``genuine`` within its
    false-positive target (None when neither kind has the 5 files a tail fit needs)."""
    limits = [_tail(scores[group], share, lower=True)
              for group, share in ((genuine & ~bandlimited, TARGET_FPR), (genuine & bandlimited, TARGET_FPR_BANDLIMITED))
              if group.sum() >= 5]
    return min(limits) if limits else None


def calibrate(scores: np.ndarray, labels: np.ndarray, bandlimited: np.ndarray | None = None,
              evidence: np.ndarray | None = None, ceiling: float = 0.5) -> Thresholds:
    """Thresholds from file scores on the validation split.

    ``transcoded``: scores below it are called transcoded; set so that at most TARGET_FPR
    of full-band genuine files and TARGET_FPR_BANDLIMITED of band-limited ones fall
    below. With ``evidence`` (per file: enough windows with sound above 16 kHz, as the
    verdict measures it), ``transcoded`` is set on the files with evidence by those same
    targets, and ``transcoded_low_content`` on the genuine files without evidence by the
    band-limited target (never above ``transcoded``). ``lossless``: at most
    TARGET_FAKE_PASS of the fakes reach it (never below ``transcoded``). Neither of the
    first two goes above ``ceiling`` (a score under 0.5 leans to "transcoded"; the CNN's
    calibration asks for ``TRANSCODED_CEILING``).
    """
    n = len(scores)
    bandlimited = np.zeros(n, bool) if bandlimited is None else np.asarray(bandlimited, bool)
    genuine = labels == 1
    pooled = _safe_limit(scores, genuine, bandlimited)
    pooled = 0.5 if pooled is None else pooled
    transcoded = low = pooled
    if evidence is not None:
        evidence = np.asarray(evidence, bool)
        with_evidence = _safe_limit(scores, genuine & evidence, bandlimited)
        # a genuine file without evidence is band-limited in all but name: its kind's target
        without = genuine & ~evidence
        low = _tail(scores[without], TARGET_FPR_BANDLIMITED, lower=True) if without.sum() >= 5 else pooled
        transcoded = pooled if with_evidence is None else with_evidence
        low = min(low, transcoded)
    transcoded, low = (min(max(t, 0.01), ceiling) for t in (transcoded, low))
    fakes = scores[labels == 0]
    lossless = _tail(fakes, TARGET_FAKE_PASS, lower=False) + 1e-4 if len(fakes) >= 5 else 0.5
    lossless = min(max(lossless, transcoded, 0.5), 0.99)
    # round towards the safe side: never more genuine files below, never more fakes above
    return Thresholds(np.floor(transcoded * 1e4) / 1e4, np.ceil(lossless * 1e4) / 1e4,
                      np.floor(low * 1e4) / 1e4)


def score_files(model_path: Path, corpus: Path, rows: list[dict], jobs: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """File scores through the shipped engine path (NaN where there is no score), and
    whether each file has the evidence the verdict asks for."""
    from ..analyze import Analyzer

    analyzer = Analyzer(model_path)
    results = list(analyzer.analyze_many([corpus / r["path"] for r in rows], jobs=jobs))
    scores = np.array([np.nan if r.model_score is None else r.model_score for r in results], dtype=np.float64)
    evidence = np.array([has_evidence(r.content_share) for r in results])
    return scores, evidence


def calibrate_model(onnx: Path, corpus: Path, rows: list[dict], jobs: int = 2) -> tuple[Thresholds, int]:
    """The CNN's thresholds from its engine scores on the validation rows (the training
    rows of a corpus too small to have any), and how many files they rest on."""
    val_rows = [r for r in rows if r["split"] == "val"] or [r for r in rows if r["split"] == "train"]
    scores, evidence = score_files(onnx, corpus, val_rows, jobs=jobs)
    ok = ~np.isnan(scores)
    thresholds = calibrate(scores[ok], np.array([r["label"] for r in val_rows])[ok],
                           np.array([r["bandlimited"] for r in val_rows])[ok], evidence[ok],
                           ceiling=TRANSCODED_CEILING)
    return thresholds, int(ok.sum())


def recalibrate(onnx: Path, corpus: Path, version: str | None = None, jobs: int = 2) -> Thresholds:
    """Set the thresholds of a trained model again (after a change to the verdict rule or to
    the calibration), keeping the rest of its sidecar."""
    meta = json.loads(sidecar_path(onnx).read_text())
    thresholds, _ = calibrate_model(onnx, corpus, read_manifest(corpus), jobs)
    kept = {k: v for k, v in meta.items() if k not in ("version", "features", "pooling", "thresholds")}
    write_sidecar(onnx, version or meta["version"], thresholds, extra=kept, pooling=meta.get("pooling", "mean"))
    return thresholds


def main(argv=None) -> int:
    from .corpus import share_arg, shares_from
    from .fakes import REPORT_GROUPS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True, help="a corpus built by penthy_model.training.corpus")
    ap.add_argument("--work", type=Path, required=True, help="feature cache and checkpoints (outside the repo)")
    ap.add_argument("--out", type=Path, required=True, help="the .onnx to write (its .json beside it)")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--steps", type=int, default=STEPS_PER_EPOCH, help="batches per epoch")
    ap.add_argument("--version", default=None, help="model version string (default: penthy-<date>)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fake-shares", nargs="+", metavar="GROUP=SHARE", default=[],
                    type=share_arg(REPORT_GROUPS, "GROUP"),
                    help="give a report group of fakes (e.g. aac_ge256) a fixed share of the fake half of each batch")
    ap.add_argument("--init", type=Path, default=None,
                    help="start from the weights of another run's checkpoint (its ckpt/best.ckpt) or of a "
                         "shipped .onnx, and fine-tune")
    ap.add_argument("--lr", type=float, default=LEARNING_RATE, help="peak learning rate")
    ap.add_argument("--noise-floor", type=float, default=FLOOR_PROB, metavar="SHARE",
                    help="share of training windows given a random noise floor (default: none)")
    ap.add_argument("--twin-gap", type=float, default=TWIN_GAP_DB, metavar="DB",
                    help="fake windows within DB of their genuine twin are trained as 0.5, cannot tell (default: off)")
    ap.add_argument("--twin-scope", choices=("all", "bandlimited", "quiet"), default="all",
                    help="--twin-gap applies to the fakes of all clips, only of band-limited ones, or only to "
                         "windows whose genuine twin has no sound above 16 kHz")
    ap.add_argument("--calibrate-only", action="store_true",
                    help="train nothing: set the thresholds of the model at --out again (keeps its training facts)")
    args = ap.parse_args(argv)
    fake_shares = shares_from(ap, args.fake_shares, "--fake-shares")
    if args.calibrate_only:
        thresholds = recalibrate(args.out, args.corpus, args.version, jobs=args.threads)
        print(f"wrote {sidecar_path(args.out)}, thresholds {thresholds}", file=sys.stderr)
        return 0
    torch.set_num_threads(args.threads)
    cache = build_cache(args.corpus, args.work / "cache")
    net = train(cache, args.work / "ckpt", args.epochs, seed=args.seed, steps=args.steps, fake_shares=fake_shares,
                init=args.init, lr=args.lr, noise_floor=args.noise_floor, twin_gap=args.twin_gap,
                twin_scope=args.twin_scope, corpus=args.corpus)
    export_onnx(net, args.out)
    version = args.version or time.strftime("penthy-%Y%m%d")
    write_sidecar(args.out, version, Thresholds(0.5, 0.5))  # provisional, for scoring the validation files
    thresholds, n_val = calibrate_model(args.out, args.corpus, cache.rows, jobs=args.threads)
    write_sidecar(args.out, version, thresholds, extra={
        "training": {"corpus_files": len(cache.rows), "windows": int(len(cache.x)), "epochs": args.epochs,
                     "steps_per_epoch": args.steps, "batch": BATCH, "seed": args.seed, "fake_shares": fake_shares,
                     "init": None if args.init is None else str(args.init), "peak_lr": args.lr,
                     "noise_floor": args.noise_floor, "twin_gap_db": args.twin_gap,
                     "twin_scope": args.twin_scope,
                     "validation_files": n_val},
    })
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB), thresholds {thresholds}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
