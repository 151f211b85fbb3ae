"""The robustness set: steep, shaped and steep+shaped copies of validation files."""

import csv
import io
import json

import numpy as np
import pytest
import soundfile as sf

from penthy_model.training import corpus, dataset, robust


def test_steep_lowpass_falls_48_db_an_octave_above_its_cutoff():
    sr = 48000
    x = np.random.default_rng(0).standard_normal((sr * 2, 1))
    y = robust.steep_lowpass(x, sr, 8000.0)[:, 0]
    f = np.fft.rfftfreq(len(y), 1 / sr)
    gain = np.abs(np.fft.rfft(y)) / np.maximum(np.abs(np.fft.rfft(x[:, 0])), 1e-12)
    assert abs(20 * np.log10(gain[np.argmin(abs(f - 2000))])) < 0.1
    assert abs(20 * np.log10(gain[np.argmin(abs(f - 8000))]) + 3.0) < 0.1
    assert abs(20 * np.log10(gain[np.argmin(abs(f - 16000))]) + 48.2) < 0.5


def test_copies_of_validation_clips_and_their_verdicts(tmp_path, model_path):
    root = tmp_path / "corpus"
    corpus.build(root, clips=10, k=1, jobs=1, seed=5, families=["synthetic"])
    val = [r for r in dataset.read_manifest(root) if r["split"] == "val" and r["bits"] == "16"]
    assert val, "the tiny corpus should have validation clips"
    out = tmp_path / "robust"
    n = robust.build(root, out, fake_share=1.0, jobs=1, log=io.StringIO())
    genuine = [r for r in val if r["label"] == 1]
    assert n == 3 * len(genuine) + (len(val) - len(genuine))  # genuine: 3 kinds; fakes: shaped only
    with open(out / "manifest.csv", newline="") as fh:
        made = list(csv.DictReader(fh))
    assert {r["src"] for r in made} == {r["path"] for r in val}  # validation only
    def level(x, sr, lo, hi):
        f = np.fft.rfftfreq(len(x), 1 / sr)
        return 10 * np.log10(np.mean(np.abs(np.fft.rfft(x[:, 0]))[(f > lo) & (f < hi)] ** 2))

    for r in made:
        a, sr = sf.read(root / r["src"], dtype="int16", always_2d=True)
        b, sr2 = sf.read(out / r["path"], dtype="int16", always_2d=True)
        assert sr == sr2 and a.shape == b.shape
        if r["kind"] == "shaped":
            assert 1.0 < np.std(b.astype(np.int32) - a) < 200  # noise was added, and only a little
    for r in genuine:
        name = r["path"].replace("/", "__")
        (source, sr), (steep, _), (both, _) = (sf.read(p, dtype="float64", always_2d=True) for p in
                                               (root / r["path"], out / "steep" / name, out / "steep_shaped" / name))
        top = (19000, sr / 2 - 500)
        assert level(steep, sr, *top) < level(source, sr, *top) - 10  # the copy lost what was above the cutoff
        added = both - steep  # the climbing floor, less a flat dither
        assert level(added, sr, *top) > level(added, sr, 2000, 10000) + 10
    report = robust.judge(out, model_path, name="tiny", jobs=1)
    assert json.loads((out / "tiny.json").read_text()) == report
    for bad in ("../tiny", "sub/tiny", ""):  # a report name that would land elsewhere is refused
        with pytest.raises(SystemExit, match="plain file name"):
            robust.main(["judge", "--out", str(out), "--name", bad])
    assert not (out.parent / "tiny.json").exists()
    assert sum(sum(c.values()) for c in report["counts"].values()) == n
