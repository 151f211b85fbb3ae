"""The corpus builder on its synthetic family: needs only numpy and soundfile (no apt)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import soundfile as sf

from penthy_model.training import corpus, fakes

SR = 44100


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    stats = corpus.build(out, clips=4, k=2, jobs=1, seed=7, families=["synthetic"])
    with (out / "manifest.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    return out, rows, stats


def high_band_db(audio: np.ndarray, sr: int, lo: float = 17500.0, hi: float = 21000.0) -> float:
    """Level of lo..hi relative to 2..14 kHz, in dB."""
    centres, lv = corpus.band_levels(audio, sr)
    p = 10 ** (lv / 10)
    ref = p[(centres > 2000) & (centres < 14000)].mean()
    return float(10 * np.log10(p[(centres > lo) & (centres < hi)].mean() / ref))


def test_manifest_columns_and_rows(built):
    out, rows, stats = built
    assert stats["built"] == 4
    assert tuple(rows[0].keys()) == corpus.COLUMNS
    genuine = [r for r in rows if r["label"] == "1"]
    fake = [r for r in rows if r["label"] == "0"]
    assert len(genuine) == 4 and len(fake) == 8
    assert all(r["condition"] == "genuine" and r["group"] == "genuine_full" for r in genuine)
    assert all(r["condition"] in fakes.SF_ONLY_CONDITIONS for r in fake)
    assert all(r["group"] == fakes.condition_group(r["condition"]) for r in fake)
    assert all((out / r["path"]).exists() for r in rows)
    assert {r["family"] for r in rows} == {"synthetic"}


def test_fakes_match_source_rate_and_channels(built):
    out, rows, _ = built
    src = {r["clip_id"]: sf.info(out / r["path"]) for r in rows if r["label"] == "1"}
    for r in rows:
        if r["label"] == "0":
            info = sf.info(out / r["path"])
            assert info.samplerate == src[r["clip_id"]].samplerate == int(r["sample_rate"])
            assert info.channels == src[r["clip_id"]].channels
            assert info.frames == src[r["clip_id"]].frames
            assert info.subtype == "PCM_16"


def test_resume_skips_finished_clips(built):
    out, rows, _ = built
    again = corpus.build(out, clips=4, k=2, jobs=1, seed=7, families=["synthetic"])
    assert again["built"] == 0
    with (out / "manifest.csv").open(newline="") as f:
        assert len(list(csv.DictReader(f))) == len(rows)


def test_mp3_128_removes_the_top_band(tmp_path):
    """Fails if the encoder path silently copied the input (or encoded nothing)."""
    rng = np.random.default_rng(3)
    audio = corpus.synthetic_audio(rng, SR)[: 4 * SR]
    audio = audio / np.abs(audio).max() * 0.7
    src, dst = tmp_path / "g.flac", tmp_path / "f.flac"
    sf.write(src, audio, SR, subtype="PCM_16")
    fakes.make_fake(src, dst, "mp3_cbr128_sf")
    g, _ = sf.read(src)
    f, fsr = sf.read(dst)
    assert fsr == SR and f.shape == g.shape
    assert high_band_db(g, SR) > -40
    assert high_band_db(f, SR) < high_band_db(g, SR) - 30
    # and the band below the cutoff survives
    assert high_band_db(f, SR, 8000, 12000) > high_band_db(g, SR, 8000, 12000) - 3


def test_cliff_screen():
    rng = np.random.default_rng(5)
    full = corpus.synthetic_audio(rng, SR)[: 4 * SR]
    spec = np.fft.rfft(full, axis=0)
    spec[np.fft.rfftfreq(len(full), 1 / SR) > 16000] = 0
    brick = np.fft.irfft(spec, n=len(full), axis=0)
    assert not corpus.has_cliff(full, SR)
    assert corpus.has_cliff(brick, SR)
    # a gentle mastering lowpass is not a cliff: such clips are kept as band-limited genuine
    assert not corpus.has_cliff(corpus.gentle_lowpass(full, SR, 16000, 4), SR)


def test_condition_table_groups():
    expect = {
        "mp3_cbr128_lame": ("mp3", "mp3_cbr_le256"), "mp3_cbr256_sf": ("mp3", "mp3_cbr_le256"),
        "mp3_cbr320_ffmpeg": ("mp3", "mp3_hard"), "mp3_v0_lame": ("mp3", "mp3_hard"),
        "mp3_320_nolowpass_lame": ("mp3", "mp3_hard"), "mp3_v0_nolowpass_ffmpeg": ("mp3", "mp3_hard"),
        "mp3_v4_sf": ("mp3", "mp3_other"), "mp3_abr192_ffmpeg": ("mp3", "mp3_other"),
        "aac_256": ("aac", "aac_ge256"), "aac_192": ("aac", "aac_lt256"),
        "vorbis_q6": ("vorbis", "vorbis"), "vorbis_q2_sf": ("vorbis", "vorbis"),
        "opus_64": ("opus", "opus"),
    }
    for name, (fam, group) in expect.items():
        assert fakes.condition_family(name) == fam
        assert fakes.condition_group(name) == group
    assert {c.group for c in fakes.CONDITIONS.values()} == set(fakes.REPORT_GROUPS)
    assert {c.family for c in fakes.CONDITIONS.values()} == set(fakes.FAMILIES)
    later = [n for n in fakes.CONDITIONS if n not in fakes.FIRST_CONDITIONS]
    assert later and all(fakes.condition_group(n) == "aac_ge256" for n in later)
    assert list(fakes.CONDITIONS)[: len(fakes.FIRST_CONDITIONS)] == list(fakes.FIRST_CONDITIONS)
    assert "-aac_pns" in fakes.CONDITIONS["aac_320_plain"].args


def test_plans_are_stable_when_extended():
    """A larger --clips with the same seed keeps the earlier clips (so it resumes/extends)."""
    a = corpus.plan_clips(5, 3, 1, list(corpus.FAMILY_WEIGHTS))
    b = corpus.plan_clips(9, 3, 1, list(corpus.FAMILY_WEIGHTS))
    assert a == b[:5]


def test_hard_extras_keep_the_first_fakes_and_come_from_the_hard_groups():
    fams = list(corpus.FAMILY_WEIGHTS)
    plain = corpus.plan_clips(20, 3, 4, fams)
    extra = corpus.plan_clips(20, 3, 4, fams, hard=4)
    for p, q in zip(plain, extra):
        assert q.conditions[:3] == p.conditions and q.clip_id == p.clip_id and q.seed == p.seed
        added = q.conditions[3:]
        assert len(added) == 4 and len(set(q.conditions)) == 7
        assert all(fakes.condition_group(c) in fakes.HARD_EXTRA_GROUPS for c in added)
    assert corpus.plan_clips(10, 3, 4, fams, hard=4) == extra[:10]


def test_extending_a_finished_corpus_builds_only_the_new_fakes(tmp_path):
    out = tmp_path / "c"
    corpus.build(out, clips=3, k=1, jobs=1, seed=5, families=["synthetic"])
    with (out / "manifest.csv").open(newline="") as f:
        before = list(csv.DictReader(f))
    stamps = {r["path"]: (out / r["path"]).stat().st_mtime_ns for r in before}
    corpus.build(out, clips=3, k=1, jobs=1, seed=5, families=["synthetic"], hard=1)
    with (out / "manifest.csv").open(newline="") as f:
        after = list(csv.DictReader(f))
    assert after[: len(before)] == before
    new = after[len(before):]
    plans = corpus.plan_clips(3, 1, 5, ["synthetic"], hard=1)
    assert len(new) == sum(len(p.conditions) - 1 for p in plans) > 0
    assert all(r["label"] == "0" and r["group"] in fakes.HARD_EXTRA_GROUPS for r in new)
    assert len({r["path"] for r in after}) == len(after)
    assert all((out / p).stat().st_mtime_ns == t for p, t in stamps.items())
    assert all((out / r["path"]).exists() for r in new)


def test_a_clip_planned_elsewhere_by_an_older_version_is_not_built_twice(tmp_path):
    out = tmp_path / "c"
    corpus.build(out, clips=2, k=1, jobs=1, seed=5, families=["synthetic"])
    text = (out / "manifest.csv").read_text()
    moved = text.replace("synthetic/c005_00000/", "oldfamily/c005_00000/")
    (out / "manifest.csv").write_text(moved)
    stats = corpus.build(out, clips=2, k=1, jobs=1, seed=5, families=["synthetic"], hard=1)
    assert stats["built"] == 1  # only c005_00001 gains its extra fake
    with (out / "manifest.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert sum(r["clip_id"] == "c005_00000" and r["condition"] == "genuine" for r in rows) == 1
    assert not any(r["clip_id"] == "c005_00000" for r in rows[len(moved.splitlines()) - 1:])


def test_kind_shares_plan_band_limited_clips_and_leave_the_default_plans_alone():
    fams = list(corpus.FAMILY_WEIGHTS)
    assert corpus.plan_clips(30, 3, 2, fams) == corpus.plan_clips(30, 3, 2, fams, kind_shares=corpus.KIND_SHARES)
    limited = corpus.plan_clips(60, 3, 2, fams, kind_shares={"solo": 0.4, "lowpass": 0.3, "dull": 0.3})
    kinds = {p.kind for p in limited}
    assert kinds <= {"solo", "lowpass", "dull"} and {"solo", "dull"} <= kinds
    assert all(p.family.startswith("music21") for p in limited if p.kind == "solo")
    everyone_full = corpus.plan_clips(20, 3, 2, fams, kind_shares={})
    assert {p.kind for p in everyone_full} == {"full"}


def test_a_dull_clip_has_little_left_above_15_khz(tmp_path):
    plan = corpus.ClipPlan("c009_00000", "synthetic", "dull", SR, 16, seed=11, conditions=())
    full = corpus.ClipPlan("c009_00000", "synthetic", "full", SR, 16, seed=11, conditions=())
    dull_x, why = corpus.make_genuine(plan, tmp_path)
    full_x, _ = corpus.make_genuine(full, tmp_path)
    assert why == "" and dull_x is not None
    # the same render, rolled off from 9-15 kHz: the top band falls far below the full clip's
    assert high_band_db(dull_x, SR, 16000, 20000) < high_band_db(full_x, SR, 16000, 20000) - 10
    assert not corpus.has_cliff(dull_x, SR)


def test_kind_shares_on_the_command_line_are_checked(capsys):
    with pytest.raises(SystemExit):
        corpus.main(["--out", "x", "--families", "synthetic", "--kind-shares", "vinyl=0.5"])
    assert "KIND=SHARE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        corpus.main(["--out", "x", "--families", "synthetic", "--kind-shares", "solo=0.7", "dull=0.6"])
    assert "more than 1" in capsys.readouterr().err
