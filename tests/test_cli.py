"""``penthy PATH...``: one line per file, bad input reported and skipped, exit status."""

import json
import os

import pytest

from helpers import write_flac
from penthy_model.cli import find_files, main
from penthy_model.demo import music


@pytest.fixture()
def folder(tmp_path, pair):
    d = tmp_path / "music"
    (d / "sub").mkdir(parents=True)
    (d / "good.flac").write_bytes(pair[0].read_bytes())
    (d / "sub" / "fake.flac").write_bytes(pair[1].read_bytes())
    (d / "empty.flac").write_bytes(b"")
    (d / "noise.flac").write_bytes(os.urandom(4000))
    (d / "notes.txt").write_text("not audio")
    with open(os.path.join(os.fsencode(d), b"\xff\xfename.flac"), "wb") as fh:
        fh.write(pair[0].read_bytes())
    return d


def run(capsys, *args):
    code = main([*map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_folder_scan_reports_every_file_and_goes_on(folder, model_path, capsys):
    code, out, err = run(capsys, folder, "--model", model_path)
    lines = out.strip().splitlines()
    assert len(lines) == 5  # the .txt is not audio
    verdicts = {os.path.basename(line.split()[-1] if "error" not in line else line.split(":")[0]): line.split()[0]
                for line in lines}
    assert sum(v == "error" for v in verdicts.values()) == 2
    assert any(line.startswith("transcoded") and "fake.flac" in line for line in lines)
    assert any(line.startswith("lossless") and "name.flac" in line for line in lines)  # non-UTF-8 name
    assert "5 files" in err and "2 errors" in err and "1 transcoded" in err
    assert code == 2  # an error outranks a transcode


def test_json_lines_and_order_with_jobs(folder, model_path, capsys):
    _, out1, _ = run(capsys, folder, "--model", model_path, "--json")
    _, out2, _ = run(capsys, folder, "--model", model_path, "--json", "--jobs", "3")
    rows = [json.loads(line) for line in out1.splitlines()]
    assert [r["path"] for r in rows] == [json.loads(line)["path"] for line in out2.splitlines()]
    assert {"score", "verdict", "reason", "cutoff_hz", "window_scores", "bits_effective"} <= set(rows[0])


def test_exit_status_follows_the_verdicts(pair, model_path, capsys):
    assert run(capsys, pair[0], "--model", model_path)[0] == 0
    assert run(capsys, pair[0], pair[1], "--model", model_path)[0] == 1
    # --threshold moves the model's reading, but the model's word alone is no proof (issue 25)
    code, out, _ = run(capsys, pair[0], "--model", model_path, "--threshold", "0.99")
    assert code == 0 and out.startswith("inconclusive")


def test_unreadable_folder_is_reported(tmp_path, monkeypatch, model_path, capsys, pair):
    locked = tmp_path / "top" / "locked"
    locked.mkdir(parents=True)
    write_flac(tmp_path / "top" / "ok.flac", music(3.0, seed=1))
    real = os.scandir

    def scandir(path="."):
        if os.fsdecode(path).endswith("locked"):  # as root, chmod 000 would not stop us
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, _ = run(capsys, tmp_path / "top", "--model", model_path)
    assert "cannot read folder" in out and "Permission denied" in out
    assert "ok.flac" in out and code == 2


def test_find_files_yields_bytes_sorted(folder):
    files = list(find_files([str(folder)], lambda *a: None))
    assert all(isinstance(f, bytes) for f in files) and len(files) == 5
    names = [os.path.basename(f) for f in files]
    assert names == [b"empty.flac", b"good.flac", b"noise.flac", b"\xff\xfename.flac", b"fake.flac"]


@pytest.mark.parametrize("bad", [["--jobs", "0"], ["--threshold", "1.5"]])
def test_bad_options_are_refused(bad, pair, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(pair[0]), *bad])
    assert exc.value.code == 2


def test_missing_model_is_a_clear_error(pair, tmp_path, capsys):
    code, _, err = run(capsys, pair[0], "--model", tmp_path / "nope.onnx")
    assert code == 2 and "model file not found" in err
