"""Build the training corpus: genuine lossless clips and lossy transcodes of each.

    python -m penthy_model.training.corpus --out DIR [--clips N] [--fakes-per-clip K]
        [--hard-extras H] [--jobs J] [--install] [--seed S] [--families ...]

Every clip is planned up front from ``--seed`` (its family, kind, rate, bit depth, its
own seed, its K fakes and H extra fakes from the hard cases), so a killed build resumes
where it stopped and a larger ``--clips`` or ``--hard-extras`` extends it: files already
in the manifest are not made again, clips in ``dropped.csv`` are skipped. The manifest is
appended one clip at a time.

Genuine clips are screened for lossy cliffs before any deliberate band-limiting: a
render whose long-term spectrum falls off a cliff between 15 and 21 kHz would teach the
model that cliffs are genuine. About a sixth of the clips are band-limited on purpose
(solo instruments, gentle mastering lowpass, 32 kHz sources; with ``--kind-shares`` also
dull masters and single tracks of an mma arrangement) because real lossless music often
is, and the model must not call those transcodes.

The ``synthetic`` family needs only numpy and soundfile; it is for tests and CI, never
for a shipped model.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from penthy_model.training import fakes, sources

# --- size: measured 2.2 CPU-s per clip (render ~0.8 s + 0.28 s per fake); with other work
# sharing the 2 cores the build ran ~15-25 clips/min, so 600 x 5 fits ~35 min wall. A later
# run with a larger --clips and the same --seed extends the corpus (plans are per index).
DEFAULT_CLIPS = 600
DEFAULT_FAKES_PER_CLIP = 5
# Extra fakes per clip from the hard groups (AAC >= 256k, MP3 320/V0 and no-lowpass), drawn
# from their own random stream: adding them to a finished corpus builds only the new files.
DEFAULT_HARD_EXTRAS = 4
DEFAULT_JOBS = 2
CLIP_SECONDS = 6.0
LEAD_IN_SECONDS = 0.5  # excerpts start after this (renders open with silence)

# --- genuine clip properties ---------------------------------------------------------------------
RATE_WEIGHTS = {44100: 0.7, 48000: 0.3}
BITS_24_SHARE = 0.2
DITHER_SHARE = 0.5  # of 16-bit clips (genuine and fake) that get TPDF dither
MONO_SHARE = 0.05
FAMILY_WEIGHTS = {
    "mma_fluidr3": 0.17, "mma_musescore": 0.17, "music21_fluidr3": 0.10,
    "music21_musescore": 0.10, "avldrums": 0.08, "hydrogen": 0.10, "sonicpi": 0.08,
    "mix_hydrogen": 0.10, "mix_sonicpi": 0.10,
}
RENDER_FAMILIES = ("mma_fluidr3", "mma_musescore", "music21_fluidr3", "music21_musescore")
KIND_SHARES = {"solo": 0.07, "lowpass": 0.07, "from32k": 0.03}  # rest: "full"
# "dull" (an old or heavily filtered master) and "one_track" (one pitched track of an mma
# arrangement: a bass line, a pad, an arpeggio) are only planned when --kind-shares asks for them
KINDS = ("solo", "lowpass", "dull", "from32k", "one_track", "steep_lp", "steep_minphase", "from48k")
# Issue 25's genuine kinds (training/genuine_kinds.py), only planned when --kind-shares asks:
# a steep linear- or minimum-phase low-pass at 15-21.5 kHz, a 48 kHz render brought down to
# 44.1 kHz by a steep filter. The family "own_synth" (not in the default mix) is music of our
# own synthesis in genuine_kinds.MUSIC_STYLES.
STEEP_KINDS = {"steep_lp": "lp_linear", "steep_minphase": "lp_minphase"}
LOWPASS_HZ = (15000.0, 20000.0)
DULL_HZ = (9000.0, 15000.0)
LOWPASS_ORDERS = (2, 3, 4)  # gentle slopes, like a mastering shelf, not a brick wall
PEAK_DBFS = ((0.70, -6.0, -1.0), (0.22, -14.0, -6.0), (0.08, -20.0, -14.0))  # share, lo, hi

# --- screening ---------------------------------------------------------------------------------
CLIFF_BAND_HZ = (15000.0, 21000.0)
CLIFF_WIDTH_HZ = 600.0
CLIFF_DB = 25.0
SCREEN_NFFT = 2048
SCREEN_STEP_HZ = 100.0
SILENT_RMS_DBFS = -50.0

# --- manifest ------------------------------------------------------------------------------------
COLUMNS = ("path", "clip_id", "family", "label", "condition", "group", "sample_rate", "bits",
           "bandlimited", "kind")
UNIFORM_CONDITION_SHARE = 0.25  # of fakes spread evenly, so every condition gets many
GROUP_WEIGHTS = {  # share of the rest per report group; hard groups get more
    "mp3_hard": 0.22, "mp3_cbr_le256": 0.08, "mp3_other": 0.08, "aac_ge256": 0.16,
    "aac_lt256": 0.07, "vorbis": 0.19, "opus": 0.20,
}
APT_PACKAGES = ("fluidsynth", "fluid-soundfont-gm", "musescore-general-soundfont-lossless",
                "avldrums.lv2-soundfont", "hydrogen-drumkits", "sonic-pi-samples", "mma",
                "lame", "ffmpeg", "flac")
APT_PROBES = {"fluidsynth": "fluidsynth", "mma": "mma", "lame": "lame", "ffmpeg": "ffmpeg",
              "flac": "flac"}
PIP_PACKAGES = {"music21": "music21", "soundfile": "soundfile", "numpy": "numpy"}


@dataclass(frozen=True)
class ClipPlan:
    """Everything needed to build one clip and its fakes, fixed before the build starts."""

    clip_id: str
    family: str
    kind: str
    sample_rate: int
    bits: int
    seed: int
    conditions: tuple


# --- installing ----------------------------------------------------------------------------------
def apt_install(packages) -> None:
    """apt-get install the Debian ``packages`` that are not installed yet."""
    missing = [p for p in packages if not _deb_installed(p)]
    if missing:
        print(f"apt-get install {' '.join(missing)}", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, env=env)


def install() -> None:
    """Install the Debian packages and Python modules the build needs; skip what is present."""
    apt_install(APT_PACKAGES)
    pip_missing = [pkg for mod, pkg in PIP_PACKAGES.items() if not _importable(mod)]
    if pip_missing:
        print(f"pip install {' '.join(pip_missing)}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *pip_missing], check=True)


def _deb_installed(pkg: str) -> bool:
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return r.returncode == 0 and "install ok installed" in r.stdout


def _importable(mod: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(mod) is not None


# --- screening ---------------------------------------------------------------------------------
def band_levels(audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Long-term power spectrum in dB, averaged into SCREEN_STEP_HZ bands (centres, dB)."""
    x = np.atleast_2d(audio.T).T if audio.ndim == 1 else audio
    x = x.mean(axis=1)
    hop = SCREEN_NFFT // 2
    n = max(1, (len(x) - SCREEN_NFFT) // hop + 1)
    idx = np.arange(SCREEN_NFFT)[None, :] + hop * np.arange(n)[:, None]
    frames = np.pad(x, (0, max(0, SCREEN_NFFT - len(x))))[idx] * np.hanning(SCREEN_NFFT)
    power = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0)
    freqs = np.fft.rfftfreq(SCREEN_NFFT, 1 / sr)
    edges = np.arange(0.0, sr / 2 + SCREEN_STEP_HZ, SCREEN_STEP_HZ)
    which = np.digitize(freqs, edges) - 1
    sums = np.bincount(which, power, minlength=len(edges))[: len(edges) - 1]
    counts = np.bincount(which, minlength=len(edges))[: len(edges) - 1]
    levels = 10 * np.log10(sums / np.maximum(counts, 1) + 1e-30)
    return edges[:-1] + SCREEN_STEP_HZ / 2, levels


def cliff_depth_db(audio: np.ndarray, sr: int) -> float:
    """Deepest drop between 15 and 21 kHz that stays down: level at f minus the loudest
    band from f + 600 Hz up to the top of the screened band. A natural roll-off never
    loses 25 dB in 600 Hz; a lossy encoder's lowpass does."""
    centres, lv = band_levels(audio, sr)
    top = min(CLIFF_BAND_HZ[1], sr / 2 - SCREEN_STEP_HZ)
    inband = (centres >= CLIFF_BAND_HZ[0]) & (centres <= top)
    lv = np.where(inband, lv, -np.inf)
    # running max from the top down: the loudest band at or above each index
    above = np.maximum.accumulate(lv[::-1])[::-1]
    shift = int(round(CLIFF_WIDTH_HZ / SCREEN_STEP_HZ))
    later = np.concatenate([above[shift:], np.full(shift, -np.inf)])
    ok = inband & np.isfinite(later)
    return float(np.max(lv[ok] - later[ok])) if ok.any() else 0.0


def has_cliff(audio: np.ndarray, sr: int) -> bool:
    return cliff_depth_db(audio, sr) > CLIFF_DB


def is_silent(audio: np.ndarray) -> bool:
    rms = np.sqrt(np.mean(np.square(audio)) + 1e-30)
    return 20 * np.log10(rms) < SILENT_RMS_DBFS


# --- shaping a clip ------------------------------------------------------------------------------
def excerpt(x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """The loudest of a few CLIP_SECONDS windows after the lead-in (padded if short)."""
    n = int(CLIP_SECONDS * sr)
    start0 = int(LEAD_IN_SECONDS * sr)
    if len(x) < start0 + n:
        return np.pad(x, ((0, max(0, start0 + n - len(x))), (0, 0)))[start0:start0 + n]
    starts = rng.integers(start0, len(x) - n + 1, 4)
    energies = [np.mean(np.square(x[s:s + n])) for s in starts]
    s = int(starts[int(np.argmax(energies))])
    return x[s:s + n]


def gentle_lowpass(x: np.ndarray, sr: int, cutoff: float, order: int) -> np.ndarray:
    """Zero-phase Butterworth magnitude response applied in the frequency domain."""
    spec = np.fft.rfft(x, axis=0)
    f = np.fft.rfftfreq(len(x), 1 / sr)
    h = 1.0 / np.sqrt(1.0 + (f / cutoff) ** (2 * order))
    return np.fft.irfft(spec * h[:, None], n=len(x), axis=0)


def fade(x: np.ndarray, sr: int, seconds: float = 0.01) -> np.ndarray:
    n = int(seconds * sr)
    ramp = np.linspace(0.0, 1.0, n)[:, None]
    y = x.copy()
    y[:n] *= ramp
    y[-n:] *= ramp[::-1]
    return y


def set_peak(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    shares = np.array([s for s, _, _ in PEAK_DBFS])
    _, lo, hi = PEAK_DBFS[int(rng.choice(len(PEAK_DBFS), p=shares / shares.sum()))]
    peak = np.max(np.abs(x)) or 1.0
    return x * (10 ** (rng.uniform(lo, hi) / 20) / peak)


# --- genuine audio per family --------------------------------------------------------------------
def synthetic_audio(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Harmonic tones plus noise bursts and cymbal-like high-passed noise, full band."""
    n = int((CLIP_SECONDS + LEAD_IN_SECONDS + 0.5) * sr)
    t = np.arange(n) / sr
    out = np.zeros((n, 2))
    for _ in range(int(rng.integers(2, 5))):
        f0 = rng.uniform(80, 800)
        k = np.arange(1, int(min(16, sr / 2 / f0)))
        amps = rng.uniform(0.3, 1.0) / k ** rng.uniform(0.6, 1.2)
        tone = (amps[:, None] * np.sin(2 * np.pi * f0 * k[:, None] * t[None, :] + rng.uniform(0, 6, len(k))[:, None])).sum(0)
        env = (np.sin(2 * np.pi * rng.uniform(0.2, 2) * t) > rng.uniform(-0.5, 0.5)).astype(float)
        out += (tone * env)[:, None] * rng.uniform(0.3, 1.0, 2)
    white = rng.standard_normal((n, 2))
    hiss = np.diff(white, axis=0, prepend=0)  # first difference: tilted up to Nyquist
    decay = np.exp(-np.arange(int(0.3 * sr)) / (0.08 * sr))
    env = np.zeros(n + len(decay))
    for at in rng.integers(0, n, int(rng.integers(8, 30))):
        env[at:at + len(decay)] += decay
    env = env[:n]
    out += hiss * env[:, None] * rng.uniform(0.5, 2.0) + white * 0.02
    return out


def _render(plan: ClipPlan, rng: np.random.Generator, tmp: Path, sr: int) -> np.ndarray:
    """Raw audio for a clip's family at rate ``sr`` (before excerpting and shaping)."""
    fam = plan.family
    if fam == "synthetic":
        return synthetic_audio(rng, sr)
    if fam == "own_synth":
        from . import genuine_kinds

        styles = [k for k in genuine_kinds.MUSIC_STYLES if k != "fluidsynth"]
        return genuine_kinds.music(str(rng.choice(styles)), rng, sr, CLIP_SECONDS + LEAD_IN_SECONDS + 1.0)
    if fam.startswith(("mma", "music21", "mix")):
        base = fam if not fam.startswith("mix") else str(rng.choice(RENDER_FAMILIES))
        font = sources.FONTS[base.split("_")[1]]
        if base.startswith("mma"):
            mid, _ = sources.mma_song(rng, tmp, one_track=plan.kind == "one_track")
        else:
            mid, _ = sources.music21_song(rng, tmp, solo=plan.kind == "solo")
        x = sources.render_midi(mid, font, sr, tmp)
        if fam.startswith("mix"):
            loop = (sources.hydrogen_loop if fam == "mix_hydrogen" else sources.sonicpi_loop)(rng, sr, len(x) / sr)
            n = min(len(x), len(loop))  # the loop can come out a sample short of the render
            x, loop = x[:n], loop[:n]
            x = x / (np.max(np.abs(x)) or 1) + loop / (np.max(np.abs(loop)) or 1) * rng.uniform(0.2, 0.9)
        return x
    if fam == "avldrums":
        mid, font = sources.avldrums_song(rng, tmp)
        return sources.render_midi(mid, font, sr, tmp)
    seconds = CLIP_SECONDS + LEAD_IN_SECONDS + 1.0
    if fam == "hydrogen":
        return sources.hydrogen_loop(rng, sr, seconds)
    if fam == "sonicpi":
        return sources.sonicpi_loop(rng, sr, seconds)
    raise ValueError(f"unknown family {fam}")


def make_genuine(plan: ClipPlan, tmp: Path) -> tuple[np.ndarray | None, str]:
    """The clip's audio (float, at its rate) or None with the reason it was dropped."""
    rng = np.random.default_rng(plan.seed)
    sr = {"from32k": 32000, "from48k": 48000}.get(plan.kind, plan.sample_rate)
    x = excerpt(_render(plan, rng, tmp, sr), sr, rng)
    if is_silent(x) or is_silent(x / (np.max(np.abs(x)) or 1) * 10 ** (-20 / 20)):
        return None, "silent"
    if plan.kind != "from32k" and has_cliff(x, sr):
        return None, "cliff"
    if plan.kind == "from32k":
        x = sources.resample(x, sr, plan.sample_rate)
    elif plan.kind == "from48k" or plan.kind in STEEP_KINDS:
        from . import genuine_kinds

        if plan.kind == "from48k":
            x = genuine_kinds.resample(x, sr, plan.sample_rate, steep=True) if sr != plan.sample_rate else x
        else:
            design = str(rng.choice(genuine_kinds.LOWPASS_DESIGNS[STEEP_KINDS[plan.kind]]))
            x = genuine_kinds.steep_lowpass(x, sr, float(rng.uniform(*genuine_kinds.LOWPASS_HZ)), design,
                                            float(rng.uniform(*genuine_kinds.TRANSITION_HZ)))
    elif plan.kind in ("lowpass", "dull"):
        band = LOWPASS_HZ if plan.kind == "lowpass" else DULL_HZ
        x = gentle_lowpass(x, sr, rng.uniform(*band), int(rng.choice(LOWPASS_ORDERS)))
    if rng.random() < MONO_SHARE:
        x = x.mean(axis=1, keepdims=True)
    return set_peak(fade(x, plan.sample_rate), rng), ""


def write_genuine(x: np.ndarray, plan: ClipPlan, path: Path) -> None:
    rng = np.random.default_rng(plan.seed + 1)
    part = path.with_name(path.name + ".part")
    if plan.bits == 24:
        sf.write(part, np.clip(x, -1, 1 - 2 ** -23), plan.sample_rate, format="FLAC", subtype="PCM_24")
    else:
        sf.write(part, fakes.to_pcm16(x, rng if rng.random() < DITHER_SHARE else None),
                 plan.sample_rate, format="FLAC", subtype="PCM_16")
    part.replace(path)


# --- one clip, end to end ---------------------------------------------------------------------------
def clip_paths(plan: ClipPlan) -> tuple[str, list[str]]:
    d = f"{plan.family}/{plan.clip_id}"
    return f"{d}/genuine.flac", [f"{d}/{c}.flac" for c in plan.conditions]


def build_clip(plan: ClipPlan, out: Path) -> dict:
    """Build a clip and its fakes; return manifest rows or the reason it was dropped."""
    gpath, fpaths = clip_paths(plan)
    t0 = time.time()
    try:
        if not (out / gpath).exists():
            with tempfile.TemporaryDirectory(prefix="penthy_clip_") as d:
                x, why = make_genuine(plan, Path(d))
            if x is None:
                return {"clip_id": plan.clip_id, "dropped": why}
            (out / gpath).parent.mkdir(parents=True, exist_ok=True)
            write_genuine(x, plan, out / gpath)
        t1 = time.time()
        for j, (cond, fp) in enumerate(zip(plan.conditions, fpaths)):
            if not (out / fp).exists():
                rng = np.random.default_rng([plan.seed, 2, j])  # its own stream: any subset can be (re)built
                fakes.make_fake(out / gpath, out / fp, cond, rng if rng.random() < DITHER_SHARE else None)
    except Exception as e:  # one broken clip must not stop a long build
        return {"clip_id": plan.clip_id, "dropped": f"error: {e}", "trace": traceback.format_exc()}
    bl = plan.kind != "full"
    common = {"clip_id": plan.clip_id, "family": plan.family, "sample_rate": plan.sample_rate,
              "bandlimited": int(bl), "kind": plan.kind}
    rows = [{**common, "path": gpath, "label": 1, "condition": "genuine", "bits": plan.bits,
             "group": "genuine_bandlimited" if bl else "genuine_full"}]
    rows += [{**common, "path": fp, "label": 0, "condition": c, "bits": 16, "group": fakes.condition_group(c)}
             for c, fp in zip(plan.conditions, fpaths)]
    return {"clip_id": plan.clip_id, "rows": rows, "render_s": t1 - t0, "fake_s": time.time() - t1}


def _build_clip_star(args):
    return build_clip(*args)


# --- planning ---------------------------------------------------------------------------------
def condition_weights(names: list[str]) -> np.ndarray:
    """Per-condition probability: a uniform floor plus the group share split over the
    group's conditions by hardness (one MP3 group has 24 conditions, Opus has 5)."""
    groups = [fakes.condition_group(n) for n in names]
    w = np.array([fakes.CONDITIONS[n].weight for n in names], float)
    for g in set(groups):
        sel = np.array([x == g for x in groups])
        w[sel] *= GROUP_WEIGHTS.get(g, 0.1) / w[sel].sum()
    w /= w.sum()
    return UNIFORM_CONDITION_SHARE / len(w) + (1 - UNIFORM_CONDITION_SHARE) * w


def plan_clips(n: int, k: int, seed: int, families: list[str], hard: int = 0,
               kind_shares: dict | None = None) -> list[ClipPlan]:
    """Fix every clip's properties from the seed, so a rerun plans the same clips.

    A clip's ``k`` fakes come from ``fakes.FIRST_CONDITIONS``; its ``hard`` extra fakes come
    from the hard groups (any condition there, later additions included, not already
    chosen), uniformly, from a second random stream. So raising ``n`` or ``hard`` later
    plans the same clips and the same first fakes as before. ``kind_shares`` (default
    ``KIND_SHARES``) gives each band-limited kind its share of the clips; the rest are full band.
    """
    kind_shares = KIND_SHARES if kind_shares is None else kind_shares
    rng, extra_rng = np.random.default_rng(seed), np.random.default_rng([seed, 1])
    synthetic = families == ["synthetic"]
    conds = [c for c in fakes.FIRST_CONDITIONS if not synthetic or c in fakes.SF_ONLY_CONDITIONS]
    cw = condition_weights(conds)
    hard_pool = [c for c in (fakes.SF_ONLY_CONDITIONS if synthetic else fakes.CONDITIONS)
                 if fakes.condition_group(c) in fakes.HARD_EXTRA_GROUPS]
    fw = np.array([FAMILY_WEIGHTS.get(f, 1.0) for f in families])
    rates, rw = list(RATE_WEIGHTS), np.array(list(RATE_WEIGHTS.values()))
    kinds = list(kind_shares) + ["full"]
    kw = np.array(list(kind_shares.values()) + [max(0.0, 1 - sum(kind_shares.values()))])
    plans = []
    for i in range(n):
        fam = families[int(rng.choice(len(families), p=fw / fw.sum()))]
        kind = kinds[int(rng.choice(len(kinds), p=kw))]
        if synthetic:
            kind = "full"
        elif kind == "solo" and not fam.startswith("music21"):
            fam = str(rng.choice(["music21_fluidr3", "music21_musescore"]))
        elif kind == "one_track" and not fam.startswith("mma"):
            fam = str(rng.choice(["mma_fluidr3", "mma_musescore"]))
        elif kind == "from32k" and fam not in RENDER_FAMILIES + ("avldrums",):
            kind = "full"
        chosen = [conds[j] for j in rng.choice(len(conds), size=min(k, len(conds)), replace=False, p=cw)]
        order = extra_rng.permutation(len(hard_pool))  # drawn for every clip, so plans stay stable
        chosen += [c for c in (hard_pool[j] for j in order) if c not in chosen][:hard]
        plans.append(ClipPlan(
            clip_id=f"c{seed:03d}_{i:05d}", family=fam, kind=kind,
            sample_rate=int(rng.choice(rates, p=rw / rw.sum())),
            bits=24 if rng.random() < BITS_24_SHARE else 16,
            seed=int(rng.integers(2**31)), conditions=tuple(chosen)))
    return plans


# --- manifest and progress ---------------------------------------------------------------------
def _read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _planned_elsewhere(manifest: list[dict], plans: list[ClipPlan]) -> set[str]:
    """Clips whose genuine file an older planner put at another path (another family).

    Building them again would add a second, different clip under the same id; they are
    left as they were built.
    """
    built = {r["clip_id"]: r["path"] for r in manifest if r.get("condition") == "genuine"}
    return {p.clip_id for p in plans if p.clip_id in built and built[p.clip_id] != clip_paths(p)[0]}


def _open_csv(path: Path, columns) -> tuple:
    new = not path.exists() or path.stat().st_size == 0
    f = path.open("a", newline="")
    w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
    if new:
        w.writeheader()
    return f, w


def build(out: Path, clips: int, k: int, jobs: int, seed: int, families: list[str], hard: int = 0,
          kind_shares: dict | None = None) -> dict:
    """Build (or resume, or extend) the corpus under ``out``; returns counts for the log and tests.

    Finished files are kept: a clip is built again only for the files of its plan that
    the manifest lacks, and only their rows are added.
    """
    out.mkdir(parents=True, exist_ok=True)
    plans = plan_clips(clips, k, seed, families, hard, kind_shares)
    manifest = _read_rows(out / "manifest.csv")
    done = {r["path"] for r in manifest}
    dropped = {r["clip_id"] for r in _read_rows(out / "dropped.csv")}
    elsewhere = _planned_elsewhere(manifest, plans)
    if elsewhere:
        print(f"corpus: {len(elsewhere)} clips were planned differently by an older version; "
              "they are kept as built and not extended", flush=True)
    skip = dropped | elsewhere
    todo = [p for p in plans if p.clip_id not in skip and not {clip_paths(p)[0], *clip_paths(p)[1]} <= done]
    print(f"corpus: {len(plans)} clips planned, {len(plans) - len(todo)} already done, "
          f"{len(todo)} to build or extend with {jobs} jobs, {k} + {hard} hard fakes each", flush=True)
    mf, mw = _open_csv(out / "manifest.csv", COLUMNS)
    df, dw = _open_csv(out / "dropped.csv", ("clip_id", "reason"))
    stats = {"built": 0, "dropped": {}, "render_s": 0.0, "fake_s": 0.0}
    t0 = time.time()
    args = [(p, out) for p in todo]
    pool = mp.Pool(jobs) if jobs > 1 else None
    results = pool.imap_unordered(_build_clip_star, args) if pool else map(_build_clip_star, args)
    try:
        for i, r in enumerate(results, 1):
            if "rows" in r:
                mw.writerows([row for row in r["rows"] if row["path"] not in done])
                mf.flush()
                stats["built"] += 1
                stats["render_s"] += r["render_s"]
                stats["fake_s"] += r["fake_s"]
            else:
                reason = r["dropped"]
                dw.writerow({"clip_id": r["clip_id"], "reason": reason[:300]})
                df.flush()
                key = reason.split(":")[0]
                stats["dropped"][key] = stats["dropped"].get(key, 0) + 1
                if "trace" in r:
                    print(r["trace"], file=sys.stderr, flush=True)
            _progress(i, len(todo), t0, stats)
    finally:
        if pool:
            pool.close()
            pool.join()
        mf.close()
        df.close()
    print(f"corpus: done: {stats['built']} clips built, dropped {stats['dropped']}, "
          f"{(time.time() - t0) / 60:.1f} min", flush=True)
    return stats


def _progress(i: int, total: int, t0: float, stats: dict) -> None:
    if i % 10 and i != total:
        return
    el = time.time() - t0
    eta = el / i * (total - i)
    n = max(1, stats["built"])
    print(f"[{time.strftime('%H:%M:%S')}] {i}/{total} clips, {stats['built']} built, dropped "
          f"{stats['dropped']}, {60 * i / el:.1f} clips/min, ETA {eta / 60:.1f} min "
          f"(per clip: render {stats['render_s'] / n:.2f}s, fakes {stats['fake_s'] / n:.2f}s)", flush=True)


# --- command line ------------------------------------------------------------------------------
def check_report_name(name: str, tool: str) -> str:
    """``name`` if it can name report files beside a set's manifest; otherwise a clear exit."""
    if not name or Path(name).name != name or name in ("manifest", ".", ".."):
        raise SystemExit(f"{tool}: --name {name!r} must be a plain file name other than 'manifest'")
    return name


def share_arg(names, what: str):
    """An argparse type for NAME=SHARE with NAME one of ``names`` and SHARE in [0, 1]."""
    def parse(text: str) -> tuple[str, float]:
        name, _, share = text.partition("=")
        try:
            value = float(share)
        except ValueError:
            value = -1.0
        if name not in names or not 0.0 <= value <= 1.0:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {what}=SHARE with {what} one of "
                                             f"{', '.join(names)} and SHARE between 0 and 1")
        return name, value
    return parse


def shares_from(ap: argparse.ArgumentParser, pairs, option: str) -> dict:
    """The NAME=SHARE pairs given to ``option`` as a dict; a usage error if they add up to more than 1."""
    shares = dict(pairs or ())
    if sum(shares.values()) > 1.0 + 1e-9:
        ap.error(f"{option} add up to {sum(shares.values()):.3g}, more than 1")
    return shares


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="corpus directory (outside the repo)")
    ap.add_argument("--clips", type=int, default=DEFAULT_CLIPS, help="genuine clips to plan")
    ap.add_argument("--fakes-per-clip", type=int, default=DEFAULT_FAKES_PER_CLIP)
    ap.add_argument("--hard-extras", type=int, default=DEFAULT_HARD_EXTRAS,
                    help="extra fakes per clip from AAC >= 256k and MP3 320/V0 (the hard cases)")
    ap.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kind-shares", nargs="+", metavar="KIND=SHARE", type=share_arg(KINDS, "KIND"),
                    help=f"share of clips of each band-limited kind ({', '.join(KINDS)}); the rest are "
                         f"full band (default: {' '.join(f'{k}={v}' for k, v in KIND_SHARES.items())})")
    ap.add_argument("--install", action="store_true", help="apt/pip install what is missing first")
    ap.add_argument("--families", nargs="+", default=list(FAMILY_WEIGHTS),
                    choices=list(FAMILY_WEIGHTS) + ["synthetic", "own_synth"])
    a = ap.parse_args(argv)
    shares = shares_from(ap, a.kind_shares, "--kind-shares") if a.kind_shares else None
    if "synthetic" in a.families and len(a.families) > 1:
        ap.error("--families synthetic cannot be mixed with real families")
    if a.install and a.families != ["synthetic"]:
        install()
    if a.families != ["synthetic"]:
        for tool in ("fluidsynth", "mma", "lame", "ffmpeg"):
            if shutil.which(tool) is None:
                ap.error(f"'{tool}' is not installed: rerun with --install")
    build(a.out, a.clips, a.fakes_per_clip, a.jobs, a.seed, a.families, a.hard_extras, shares)
    return 0


if __name__ == "__main__":
    sys.exit(main())
