"""The training pipeline, end to end on a tiny synthetic corpus (the real one is not in CI)."""

import csv
import io
import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from penthy_model.analyze import Analyzer  # noqa: E402
from penthy_model.constants import FEATURES  # noqa: E402
from penthy_model.features import band_centres  # noqa: E402
from penthy_model.inference import Model  # noqa: E402
from penthy_model.training import corpus, dataset, evaluate, train  # noqa: E402
from helpers import write_flac  # noqa: E402


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    corpus.build(root / "corpus", clips=6, k=2, jobs=1, seed=3, families=["synthetic"])
    out = root / "model" / "penthy.onnx"
    args = ["--corpus", str(root / "corpus"), "--work", str(root / "work"), "--out", str(out),
            "--epochs", "1", "--steps", "3", "--threads", "1", "--version", "tiny-run"]
    assert train.main(args) == 0
    return root, out, args


def test_training_writes_a_model_the_engine_loads(tiny_run):
    root, out, _ = tiny_run
    model = Model(out)
    assert model.version == "tiny-run"
    assert 0.0 <= model.thresholds.transcoded <= model.thresholds.lossless <= 1.0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["training"]["epochs"] == 1 and meta["training"]["windows"] > 0
    rows = dataset.read_manifest(root / "corpus")
    r = Analyzer(out).analyze(root / "corpus" / rows[0]["path"])
    assert r.ok and 0.0 <= r.score <= 1.0 and r.model == "tiny-run"


def test_second_run_reuses_the_cache_and_resumes(tiny_run):
    root, out, args = tiny_run
    log = io.StringIO()
    cache = dataset.build_cache(root / "corpus", root / "work" / "cache", log=log)
    assert log.getvalue() == ""  # loaded, not recomputed
    assert cache.x.dtype == np.uint8 and cache.x.shape[1:] == (2, FEATURES.n_bands, FEATURES.n_frames)
    net_log = io.StringIO()
    train.train(cache, root / "work" / "ckpt", epochs=2, steps=2, log=net_log)
    assert "resuming after epoch 1" in net_log.getvalue()
    assert "epoch 2/2" in net_log.getvalue()


def test_evaluation_report_compares_against_both_baselines(tiny_run, tmp_path):
    root, out, _ = tiny_run
    report = evaluate.evaluate(root / "corpus", root / "work", out, tmp_path, jobs=1, log=io.StringIO())
    assert set(report["systems"]) == {"penthy CNN", "cutoff heuristic", "pixel tree"}
    for m in report["systems"].values():
        assert m["files"] == m["genuine"] + m["fakes"] > 0
        for g in m["groups"].values():
            if "recall" in g:
                parts = [(g[f"recall_{k}"], g[f"files_{k}"]) for k in ("full_band_source", "band_limited_source")
                         if f"files_{k}" in g]
                assert sum(n for _, n in parts) == g["files"]
                assert sum(r * n for r, n in parts) / g["files"] == pytest.approx(g["recall"])
    cnn = report["systems"]["penthy CNN"]
    for g in cnn["groups"].values():  # the CNN's groups also split by evidence, and add up
        measure = "recall" if "recall" in g else "called_transcoded"
        parts = [(g[f"{measure}_{k}"], g[f"files_{k}"]) for k in ("with_evidence", "without_evidence")
                 if f"files_{k}" in g]
        assert parts and sum(n for _, n in parts) == g["files"]
        assert sum(r * n for r, n in parts) / g["files"] == pytest.approx(g[measure])
    assert not any("files_with_evidence" in g for g in report["systems"]["pixel tree"]["groups"].values())
    text = (tmp_path / "evaluation.md").read_text()
    assert "recall by the kind of genuine clip" in text and "| with evidence | without evidence |" in text
    assert (tmp_path / "evaluation.json").exists() and (tmp_path / "evaluation.md").exists()
    assert (tmp_path / "roc.png").stat().st_size > 1000
    with open(tmp_path / "files.csv", newline="") as fh:
        per_file = list(csv.DictReader(fh))
    assert len(per_file) == cnn["files"]
    fakes = [f for f in per_file if f["label"] == "0"]
    assert sum(f["verdict"] == "transcoded" for f in fakes) / len(fakes) == pytest.approx(cnn["recall"])
    assert sum(bool(f["codec"]) for f in per_file) == sum(report["grid_verdicts"].values())


def test_split_keeps_every_fake_with_its_clip(tiny_run):
    root, _, _ = tiny_run
    rows = dataset.read_manifest(root / "corpus")
    sides = {}
    for r in rows:
        sides.setdefault(r["clip_id"], set()).add(r["split"])
    assert all(len(s) == 1 for s in sides.values())
    assert dataset.split_of("x", dataset.TEST_FAMILIES[0]) == "test"


def test_calibration_tail_is_not_dragged_down_by_sure_genuine_files():
    """A third of the genuine files saturate near 1: the threshold must still sit near the lower tail."""
    rng = np.random.default_rng(1)
    logits = np.r_[rng.normal(4.0, 1.2, 700), rng.normal(12.0, 3.0, 300)]
    genuine = 1 / (1 + np.exp(-logits))
    fakes = 1 / (1 + np.exp(-rng.normal(-6.0, 1.5, 1000)))
    t = train.calibrate(np.r_[genuine, fakes], np.r_[np.ones(1000), np.zeros(1000)])
    assert np.mean(genuine < t.transcoded) <= train.TARGET_FPR
    whole_sample_fit = 1 / (1 + np.exp(-(logits.mean() - 2.5758 * logits.std())))  # the old rule: ~0.05
    lower_component_tail = 1 / (1 + np.exp(-(4.0 - 2.5758 * 1.2)))  # 0.5% of the lower component: ~0.73
    assert whole_sample_fit < 0.1 < 0.4 < t.transcoded <= lower_component_tail


def test_calibration_meets_the_false_positive_target():
    rng = np.random.default_rng(0)
    genuine = rng.beta(8, 2, 1000)
    fakes = rng.beta(2, 8, 1000)
    t = train.calibrate(np.r_[genuine, fakes], np.r_[np.ones(1000), np.zeros(1000)])
    assert np.mean(genuine < t.transcoded) <= train.TARGET_FPR
    assert np.mean(fakes >= t.lossless) <= train.TARGET_FAKE_PASS
    assert t.transcoded <= t.lossless


def test_calibration_is_cautious_with_few_genuine_files_and_honours_band_limited_ones():
    rng = np.random.default_rng(2)
    genuine = rng.beta(8, 2, 40)  # far too few to read a 0.5% quantile off
    limited = rng.beta(4, 3, 40)  # band-limited genuine files score lower
    fakes = rng.beta(1, 12, 400)
    scores = np.r_[genuine, limited, fakes]
    labels = np.r_[np.ones(80), np.zeros(400)]
    flags = np.r_[np.zeros(40), np.ones(40), np.zeros(400)].astype(bool)
    t = train.calibrate(scores, labels, flags)
    assert t.transcoded < genuine.min()  # the normal fit reaches below the smallest sample
    assert np.mean(limited < t.transcoded) <= train.TARGET_FPR_BANDLIMITED
    without = train.calibrate(np.r_[genuine, fakes], np.r_[np.ones(40), np.zeros(400)])
    assert t.transcoded < without.transcoded  # the band-limited files pull it down


def test_roc_auc_matches_its_definition():
    rng = np.random.default_rng(1)
    s, y = rng.random(300), (rng.random(300) < 0.5).astype(int)
    pos, neg = s[y == 0], s[y == 1]
    brute = np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :])
    assert evaluate.roc_auc(s, y) == pytest.approx(brute)
    assert evaluate.roc_auc(np.r_[np.ones(5), np.zeros(5)], np.r_[np.zeros(5), np.ones(5)]) == 1.0


def test_augmentation_keeps_empty_rows_empty_and_masks_the_top():
    import torch

    centres = band_centres()
    above = torch.as_tensor(centres > 22050)  # above Nyquist at 44.1 kHz
    top = torch.as_tensor((centres > 20250) & (centres < 22050))
    x = torch.full((64, 2, FEATURES.n_bands, 128), 0.5)
    x[:, :, above, :] = 0.0
    y = train.augment(x.clone(), torch.Generator().manual_seed(0))
    assert torch.all(y[:, :, above, :] == 0)
    masked = (y[:, 0][:, top, :] == 0).all(dim=(1, 2))
    assert 0 < int(masked.sum()) < 64  # some windows had their top hidden, not all


def test_noise_floor_adds_power_where_there_was_little_and_leaves_loud_rows_alone():
    import torch

    span = FEATURES.db_ceil - FEATURES.db_floor
    x = torch.zeros((256, 2, FEATURES.n_bands, 64))
    x[:, :, :8, :] = 1.0  # the lowest rows at the ceiling, far above any floor
    chosen = torch.arange(256) % 2 == 0
    y = train.add_noise_floor(x, chosen, torch.Generator().manual_seed(1))
    assert torch.equal(y[~chosen], x[~chosen]) and torch.equal(x[:, :, 8:], torch.zeros_like(x[:, :, 8:]))
    assert torch.all(y[chosen][:, :, :8] == 1.0)  # +10 dB plus a floor at most -45 dB stays clipped at the ceiling
    floor_db = y[chosen][:, :, 8:] * span + FEATURES.db_floor
    assert torch.all(y[chosen][:, :, 8:].mean(dim=(1, 2, 3)) > 0)  # every chosen window got a floor
    lo, hi = train.FLOOR_DB
    # flat floors sit in their range (the cells of noise scatter around it by several dB)
    window_median = floor_db[:, :, :40].flatten(1).median(dim=1).values
    assert window_median.min() > lo - 6 and window_median.max() < hi + 3
    # and some floors rise towards the top of the band, as noise-shaped dither does
    rise = floor_db[:, :, -20:].mean(dim=(1, 2, 3)) - floor_db[:, :, 8:28].mean(dim=(1, 2, 3))
    assert (rise > 10).any() and (rise.abs() < 3).any()


def test_noise_floor_is_off_unless_asked_for():
    import torch

    x = torch.full((32, 2, FEATURES.n_bands, 64), 0.2)
    plain = train.augment(x.clone(), torch.Generator().manual_seed(3))
    off = train.augment(x.clone(), torch.Generator().manual_seed(3), floor_prob=0.0)
    on = train.augment(x.clone(), torch.Generator().manual_seed(3), floor_prob=1.0)
    assert train.FLOOR_PROB == 0.0 and torch.equal(plain, off)
    assert not torch.equal(plain, on)


def test_fine_tuning_starts_from_the_given_weights(tiny_run, tmp_path):
    import torch

    root, _, _ = tiny_run
    cache = dataset.build_cache(root / "corpus", root / "work" / "cache", log=io.StringIO())
    init = root / "work" / "ckpt" / "best.ckpt"
    start = torch.load(init, weights_only=False)["net"]
    net = train.train(cache, tmp_path / "ft", epochs=1, steps=2, init=init, lr=1e-12, log=io.StringIO())
    conv = "body.0.0.weight"
    assert torch.allclose(net.state_dict()[conv], start[conv], atol=1e-6)
    fresh = train.train(cache, tmp_path / "scratch", epochs=1, steps=2, lr=1e-12, log=io.StringIO())
    assert not torch.allclose(fresh.state_dict()[conv], start[conv], atol=1e-3)


def test_the_shipped_onnx_comes_back_as_a_net_that_scores_alike_and_fine_tunes(tiny_run, tmp_path):
    import torch

    from penthy_model.training.net import from_onnx

    root, _, _ = tiny_run
    shipped = Model()
    net = from_onnx(shipped.path).eval()
    rng = np.random.default_rng(5)
    x = (rng.random((6, 2, FEATURES.n_bands, FEATURES.n_frames)) * np.linspace(0.2, 0.9, FEATURES.n_frames)).astype(np.float32)
    want = shipped.predict(x)
    with torch.no_grad():
        got = torch.sigmoid(net(torch.from_numpy(x))).numpy()
    assert np.abs(got - want).max() < 1e-4
    # Fine-tuning from it keeps the folded batch norms: at a learning rate of ~0 nothing moves,
    # where batch statistics would have rescaled every convolution's output.
    cache = dataset.build_cache(root / "corpus", root / "work" / "cache", log=io.StringIO())
    tuned = train.train(cache, tmp_path / "ft", epochs=1, steps=2, init=shipped.path, lr=1e-12, log=io.StringIO())
    with torch.no_grad():
        again = torch.sigmoid(tuned.eval()(torch.from_numpy(x))).numpy()
    assert np.abs(again - want).max() < 1e-4


def test_retrain_on_a_folder_of_lossless_files(tmp_path):
    import soundfile as sf

    from penthy_model.demo import music
    from penthy_model.training import retrain

    lossless = tmp_path / "lossless"
    for i in range(4):
        (lossless / f"artist{i % 2}").mkdir(parents=True, exist_ok=True)
        sf.write(str(lossless / f"artist{i % 2}" / f"{i}.flac"), music(7.0, seed=40 + i), 44100, subtype="PCM_16")
    # a "lossless" file that is really an MP3 must be screened out
    from helpers import mp3_twin
    mp3_twin(lossless / "artist0" / "0.flac", lossless / "artist0" / "fake.flac", 128)
    made = retrain.build_user_corpus(lossless, tmp_path / "corpus", clips_per_file=1, fakes_per_clip=2, seed=0)
    rows = dataset.read_manifest(tmp_path / "corpus")
    assert made == 4  # the MP3 in disguise has a cliff and was left out
    assert sum(r["label"] for r in rows) == 4 and len(rows) == 12
    assert {r["family"] for r in rows} == {"artist0", "artist1"}
    out = tmp_path / "mine.onnx"
    train.main(["--corpus", str(tmp_path / "corpus"), "--work", str(tmp_path / "work"), "--out", str(out),
                "--epochs", "1", "--steps", "2", "--threads", "1"])
    assert Model(out).thresholds.transcoded <= Model(out).thresholds.lossless


def test_calibration_gives_files_without_evidence_their_own_lower_threshold():
    """Genuine files with nothing above 16 kHz score lower: they get their own threshold,
    and the files with evidence keep a threshold set on their own kind."""
    rng = np.random.default_rng(4)
    rich = 1 / (1 + np.exp(-rng.normal(4.0, 1.0, 300)))  # genuine, sound above 16 kHz
    bare = 1 / (1 + np.exp(-rng.normal(0.5, 1.0, 60)))  # genuine, nothing above 16 kHz
    fakes = 1 / (1 + np.exp(-rng.normal(-5.0, 1.5, 600)))
    scores = np.r_[rich, bare, fakes]
    labels = np.r_[np.ones(360), np.zeros(600)]
    limited = np.r_[np.zeros(300), np.ones(60), np.zeros(600)].astype(bool)
    evidence = np.r_[np.ones(300), np.zeros(60), np.ones(600)].astype(bool)
    one = train.calibrate(scores, labels, limited)
    two = train.calibrate(scores, labels, limited, evidence)
    assert one.transcoded == one.transcoded_low_content
    assert two.transcoded_low_content < two.transcoded
    assert two.transcoded > one.transcoded + 0.2  # the rich files no longer inherit the bare files' tail
    assert np.mean(rich < two.transcoded) <= train.TARGET_FPR
    assert np.mean(bare < two.transcoded_low_content) <= train.TARGET_FPR_BANDLIMITED
    assert two.transcoded_low_content <= one.transcoded + 1e-3


def test_fake_shares_fix_a_group_s_part_of_the_fake_half():
    rng = np.random.default_rng(0)
    n = 4000
    labels = (rng.random(n) < 0.2).astype(np.float32)
    limited = (labels == 1) & (rng.random(n) < 0.1)
    groups = np.where(labels == 1, "genuine_full", rng.choice(["aac_ge256", "mp3_hard", "opus"], n, p=[0.1, 0.6, 0.3]))
    idx = np.arange(n)
    plain = np.concatenate(list(train.balanced_batches(labels, limited, idx, rng, 50)))
    tilted = np.concatenate(list(train.balanced_batches(labels, limited, idx, rng, 50, groups, {"aac_ge256": 0.5})))
    for batch in (plain, tilted):
        assert np.mean(labels[batch]) == 0.5
    fake_share = lambda b: np.mean(groups[b][labels[b] == 0] == "aac_ge256")  # noqa: E731
    assert abs(fake_share(plain) - 0.1) < 0.03
    assert abs(fake_share(tilted) - 0.5) < 0.01
    assert np.mean(groups[tilted][labels[tilted] == 0] == "opus") > 0.1  # the rest still come
    with pytest.raises(SystemExit):
        train.main(["--corpus", "c", "--work", "w", "--out", "o.onnx", "--fake-shares", "aac=0.5"])


def test_cache_of_a_grown_corpus_computes_only_the_new_files(tmp_path):
    root = tmp_path / "corpus"
    corpus.build(root, clips=2, k=1, jobs=1, seed=5, families=["synthetic"])
    first = dataset.build_cache(root, tmp_path / "grown", log=io.StringIO())
    n_before = len(dataset.read_manifest(root))
    corpus.build(root, clips=4, k=1, jobs=1, seed=5, families=["synthetic"])  # appends to the manifest
    log = io.StringIO()
    grown = dataset.build_cache(root, tmp_path / "grown", log=log)
    assert f"the cache has {n_before} of" in log.getvalue()
    fresh = dataset.build_cache(root, tmp_path / "fresh", log=io.StringIO())
    assert len(grown.rows) > n_before
    np.testing.assert_array_equal(grown.x, fresh.x)
    np.testing.assert_array_equal(grown.row, fresh.row)
    np.testing.assert_array_equal(grown.x[: len(first.x)], first.x)
    # a cache whose rows are not the manifest's first rows is computed again from scratch
    meta = tmp_path / "grown" / "cache.json"
    m = json.loads(meta.read_text())
    m["rows"], m["paths"] = n_before, "0" * 40
    meta.write_text(json.dumps(m))
    log = io.StringIO()
    again = dataset.build_cache(root, tmp_path / "grown", log=log)
    assert "the cache has" not in log.getvalue() and "windows from" in log.getvalue()
    np.testing.assert_array_equal(again.x, fresh.x)


def test_cache_build_holds_about_one_cache_in_memory_not_two(tmp_path, monkeypatch):
    """Windows go straight into one buffer; chunks joined at the end would peak at twice the cache."""
    import tracemalloc
    from types import SimpleNamespace

    n_files, per_file = 300, dataset.WINDOWS_PER_FILE
    root = tmp_path / "corpus"
    root.mkdir()
    with open(root / "manifest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "clip_id", "family", "label", "condition", "group", "sample_rate", "bits",
                    "bandlimited", "kind"])
        for i in range(n_files):
            w.writerow([f"f{i}.flac", f"c{i}", "synthetic", 1, "genuine", "genuine_full", 44100, 16, 0, "full"])
    shape = (per_file, 2, FEATURES.n_bands, FEATURES.n_frames)
    monkeypatch.setattr(dataset, "read_windows", lambda path, max_windows: SimpleNamespace(
        samples=np.zeros((max_windows, 4, 2), np.float32), sample_rate=44100))
    monkeypatch.setattr(dataset, "window_features", lambda samples, sr: np.full(shape, 0.5, np.float32))
    tracemalloc.start()
    try:
        cache = dataset.build_cache(root, tmp_path / "cache", log=io.StringIO())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert cache.x.shape == (n_files * per_file,) + shape[1:]
    assert np.all(cache.x == 128) and np.array_equal(cache.row, np.repeat(np.arange(n_files), per_file))
    assert peak < 1.3 * cache.x.nbytes, (peak, cache.x.nbytes)  # np.savez itself buffers 16 MiB


def test_the_transcoded_threshold_stops_at_the_ceiling():
    rng = np.random.default_rng(7)
    genuine = 1 / (1 + np.exp(-rng.normal(8.0, 0.5, 500)))  # sure genuine: the fit alone would give > 0.99
    fakes = 1 / (1 + np.exp(-rng.normal(-6.0, 1.5, 500)))
    scores, labels = np.r_[genuine, fakes], np.r_[np.ones(500), np.zeros(500)]
    assert train.calibrate(scores, labels).transcoded == 0.5
    capped = train.calibrate(scores, labels, ceiling=train.TRANSCODED_CEILING)
    assert capped.transcoded == train.TRANSCODED_CEILING == 0.2
    assert capped.transcoded_low_content <= 0.4 < capped.lossless


def test_calibrate_only_sets_the_thresholds_again_and_keeps_the_training_facts(tiny_run, tmp_path):
    root, out, _ = tiny_run
    copy = tmp_path / "again.onnx"
    copy.write_bytes(out.read_bytes())
    meta = json.loads(out.with_suffix(".json").read_text())
    meta["thresholds"] = {"transcoded": 0.01, "lossless": 0.99, "transcoded_low_content": 0.01}
    copy.with_suffix(".json").write_text(json.dumps(meta))
    assert train.main(["--corpus", str(root / "corpus"), "--work", str(tmp_path / "unused"), "--out", str(copy),
                       "--threads", "1", "--calibrate-only", "--version", "tiny-run-2"]) == 0
    again = json.loads(copy.with_suffix(".json").read_text())
    assert again["version"] == "tiny-run-2" and again["training"] == meta["training"]
    assert again["thresholds"] == json.loads(out.with_suffix(".json").read_text())["thresholds"]
    assert not (tmp_path / "unused").exists()  # no cache, no training


def _twin_cache():
    """Two windows each of six files in two clip folders: a genuine file, an exact copy called
    a fake, a fake whose top rows were cut, shaped copies of the first two, and a fake with
    no genuine twin."""
    rng = np.random.default_rng(7)
    music = rng.integers(60, 200, size=(2, 2, FEATURES.n_bands, 32), dtype=np.uint8)
    cut = music.copy()
    cut[:, :, FEATURES.n_bands // 2:] = 0
    files = [("c/genuine.flac", 1, music), ("c/copy.flac", 0, music), ("c/cut.flac", 0, cut),
             ("c/genuine.shaped.flac", 1, cut), ("c/copy.shaped.flac", 0, cut), ("d/orphan.flac", 0, music)]
    rows = [{"path": p, "label": label, "split": "train", "bandlimited": p.endswith(".shaped.flac")}
            for p, label, _ in files]
    x = np.concatenate([w for _, _, w in files])
    return dataset.Cache(x, np.repeat(np.arange(len(files)), 2).astype(np.int32), rows)


def test_twin_gap_tells_a_fake_that_shows_no_mark_from_one_that_does():
    gap = dataset.twin_gap_db(_twin_cache())
    genuine, copy, cut, genuine_shaped, copy_shaped, orphan = gap.reshape(6, 2)
    assert np.isnan(genuine).all() and np.isnan(genuine_shaped).all() and np.isnan(orphan).all()
    assert (copy == 0).all()
    assert (cut > 20).all()  # half the rows went from ~60 dB to nothing
    assert (copy_shaped == 0).all()  # a shaped fake is compared with the shaped genuine file


def test_twin_gap_of_a_fake_whose_genuine_file_gave_no_window_is_nan():
    x = np.full((2, 2, FEATURES.n_bands, 8), 100, np.uint8)
    rows = [{"path": "c/genuine.flac", "label": 1}, {"path": "c/mp3.flac", "label": 0}]
    gap = dataset.twin_gap_db(dataset.Cache(x, np.array([1, 1], np.int32), rows))  # e.g. a silent genuine file
    assert np.isnan(gap).all()


def test_twin_gap_training_targets_give_unmarked_fakes_a_half():
    cache = _twin_cache()
    labels = cache.labels()
    assert np.array_equal(train.training_targets(cache, labels, 0.0), labels)  # off: the labels
    targets = train.training_targets(cache, labels, 2.0).reshape(6, 2)
    assert targets[:, 0].tolist() == [1.0, 0.5, 0.0, 1.0, 0.5, 0.0]
    only = train.training_targets(cache, labels, 2.0, scope="bandlimited").reshape(6, 2)
    assert only[:, 0].tolist() == [1.0, 0.0, 0.0, 1.0, 0.5, 0.0]  # only the band-limited clip's copy


def _quiet_and_loud_corpus(root):
    """Two clips, each a genuine file and an exact copy labelled fake: white noise (sound
    above 16 kHz) and low sines (nothing above 16 kHz but the 16-bit floor)."""
    rng = np.random.default_rng(3)
    t = np.arange(3 * 44100) / 44100
    sines = 0.3 * (np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 1320 * t))
    audio = {"loud": 0.1 * rng.standard_normal((len(t), 2)), "quiet": np.stack([sines, sines], axis=1)}
    root.mkdir()
    with open(root / "manifest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "clip_id", "family", "label", "condition", "group", "sample_rate", "bits",
                    "bandlimited", "kind"])
        for clip, x in audio.items():
            (root / clip).mkdir()
            for name, label in (("genuine", 1), ("copy", 0)):
                write_flac(root / clip / f"{name}.flac", x)
                w.writerow([f"{clip}/{name}.flac", clip, "synthetic", label, name, "g", 44100, 16, 0, "full"])


def test_twin_content_reads_the_genuine_window_of_each_fake(tmp_path):
    root = tmp_path / "corpus"
    _quiet_and_loud_corpus(root)
    cache = dataset.build_cache(root, tmp_path / "cache", log=io.StringIO())
    paths = cache.column("path")
    has = dataset.twin_has_content(cache, root, log=io.StringIO())
    assert has[paths == "loud/copy.flac"].all()
    assert not has[paths == "quiet/copy.flac"].any()
    labels = cache.labels()
    targets = train.training_targets(cache, labels, 2.0, scope="quiet", corpus=root)
    assert (targets[paths == "loud/copy.flac"] == 0.0).all()  # no gap, but sound above 16 kHz: still a fake
    assert (targets[paths == "quiet/copy.flac"] == 0.5).all()
    assert (targets[labels == 1] == 1.0).all()
    with pytest.raises(ValueError, match="corpus"):
        train.training_targets(cache, labels, 2.0, scope="quiet")
    # a genuine file that no longer gives the cached windows tells nothing: counted as content
    write_flac(root / "quiet" / "genuine.flac", 0.1 * np.random.default_rng(4).standard_normal((3 * 44100, 2)))
    assert dataset.twin_has_content(cache, root, log=io.StringIO())[paths == "quiet/copy.flac"].all()
