"""Noise-shaped copies of training clips."""

import csv
import io

import numpy as np
import soundfile as sf

from penthy_model.training import corpus, dataset, shaped


def test_shaped_noise_rises_above_its_knee():
    rng = np.random.default_rng(0)
    n = shaped.shaped_noise(48000 * 4, 1, 48000, knee=14000.0, rise=4.0, rng=rng)[:, 0]
    power = np.abs(np.fft.rfft(n)) ** 2
    f = np.fft.rfftfreq(len(n), 1 / 48000)

    def level(lo, hi):
        return 10 * np.log10(power[(f >= lo) & (f < hi)].mean())

    assert abs(level(2000, 10000) - level(10000, 13500)) < 1.0  # flat below the knee
    assert abs(level(21500, 22500) - level(2000, 10000) - 4.0 * 8) < 2.0  # 4 dB per kHz from 14 to 22 kHz


def test_copies_of_training_clips_join_the_manifest_on_their_clip_s_side(tmp_path):
    root = tmp_path / "corpus"
    corpus.build(root, clips=8, k=1, jobs=1, seed=5, families=["synthetic"])
    before = dataset.read_manifest(root)
    added = shaped.extend(root, share=1.0, jobs=1, log=io.StringIO())
    after = dataset.read_manifest(root)
    train16 = [r for r in before if r["split"] == "train" and r["bits"] == "16"]
    assert added == len(train16) > 0 and len(after) == len(before) + added
    assert after[: len(before)] == before  # appended: the cache of the old rows stays valid
    for old, new in zip(train16, after[len(before):]):
        assert new["path"] == old["path"][: -len(".flac")] + shaped.SUFFIX
        assert (new["clip_id"], new["label"], new["group"], new["split"]) == \
            (old["clip_id"], old["label"], old["group"], "train")
        a, sr = sf.read(root / old["path"], dtype="int16")
        b, sr2 = sf.read(root / new["path"], dtype="int16")
        assert sr == sr2 and a.shape == b.shape
        diff = (b.astype(np.int32) - a).reshape(len(a), -1)[:, 0]
        assert 1.0 < np.std(diff) < 200  # noise was added, and only a little
    assert shaped.extend(root, share=1.0, jobs=1, log=io.StringIO()) == 0  # not twice
    with open(root / "manifest.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == len(after)
