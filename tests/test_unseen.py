"""The unseen-renderer check, with the renderer and score generators stubbed (CI has no TiMidity++)."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from penthy_model.training import fakes, unseen


@pytest.fixture
def stubbed(monkeypatch):
    def song(rng, tmp, *args, seconds, **kw):
        return Path(tmp) / "song.mid", 120.0

    def render(mid, renderer, sr, tmp):
        t = np.arange(int((unseen.SECONDS + 1.5) * sr)) / sr
        tone = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((220.0, 330.0, 440.0), 1))
        hiss = np.random.default_rng(len(renderer)).standard_normal(len(t)) * 0.02
        x = 0.3 * tone + hiss
        return np.stack([x, x], axis=1)

    monkeypatch.setattr(unseen.sources, "mma_song", song)
    monkeypatch.setattr(unseen.sources, "music21_song", song)
    monkeypatch.setattr(unseen, "render_timidity", render)
    sf_only = tuple(fakes.CONDITIONS[n] for n in ("mp3_cbr128_sf", "vorbis_q4_sf"))
    monkeypatch.setattr(unseen, "CONDITIONS", sf_only)
    return sf_only


def test_build_and_judge_an_unseen_set(stubbed, tmp_path):
    rows = unseen.build(tmp_path, clips=2, seed=4, jobs=1)
    assert len(rows) == 2 * (1 + len(stubbed))
    with open(tmp_path / "manifest.csv", newline="") as fh:
        listed = list(csv.DictReader(fh))
    assert [r["path"] for r in listed] == [r["path"] for r in rows]
    for r in rows:
        info = sf.info(str(tmp_path / r["path"]))
        assert info.samplerate == r["sample_rate"] and info.subtype == "PCM_16"
        assert abs(info.duration - unseen.SECONDS) < 0.01
    assert {r["family"] for r in rows} == set(unseen.RENDERERS)  # clips alternate between the renderers
    report = unseen.judge(tmp_path, rows)
    assert report["all"]["files"] == len(rows) and report["all"]["fakes"] == 2 * len(stubbed)
    text = unseen.markdown(report)
    assert "mp3_cbr128_sf" in text and "| timidity_freepats |" in text
    with open(tmp_path / "unseen.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == len(rows)
    # a set made once can be judged again (another model) without making it anew
    assert unseen.read_rows(tmp_path) == rows
    assert unseen.main(["--out", str(tmp_path), "--reuse", "--jobs", "1"]) == 0
    assert "mp3_cbr128_sf" in (tmp_path / "unseen.md").read_text()
    # ...and under another name, leaving the first report as it was
    (tmp_path / "unseen.md").write_text("first model's report\n")
    assert unseen.main(["--out", str(tmp_path), "--reuse", "--jobs", "1", "--name", "other"]) == 0
    assert (tmp_path / "unseen.md").read_text() == "first model's report\n"
    assert "mp3_cbr128_sf" in (tmp_path / "other.md").read_text()
    assert json.loads((tmp_path / "other.json").read_text())["all"]["files"] == len(rows)
    with open(tmp_path / "other.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == len(rows)
    for bad in ("manifest", "../up", ""):
        with pytest.raises(SystemExit, match="plain file name"):
            unseen.main(["--out", str(tmp_path), "--reuse", "--name", bad])
    assert (tmp_path / "manifest.csv").exists() and unseen.read_rows(tmp_path) == rows
    with pytest.raises(SystemExit, match="no set in"):
        unseen.main(["--out", str(tmp_path / "nothing"), "--reuse"])


def test_a_missing_renderer_is_said_plainly(monkeypatch, tmp_path):
    monkeypatch.setattr(unseen.sources, "mma_song", lambda *a, **k: (tmp_path / "x.mid", 120.0))
    monkeypatch.setattr(unseen.sources, "music21_song", lambda *a, **k: (tmp_path / "x.mid", 120.0))
    monkeypatch.setenv("PATH", str(tmp_path))  # no timidity on it
    with pytest.raises(SystemExit, match="timidity"):
        unseen.main(["--out", str(tmp_path / "set"), "--clips", "1", "--jobs", "1"])
