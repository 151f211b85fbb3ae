"""``penthy PATH...``: one line per file, bad input reported and skipped, exit status."""

import json
import os

import pytest

from helpers import interrupt_second_analysis, write_flac
from penthy_model.cli import main
from penthy_model.scan import find_files
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


def test_read_errors_in_words(tmp_path, model_path, capsys):
    good = write_flac(tmp_path / "good.flac", music(3.0, seed=1))
    (tmp_path / "cut.flac").write_bytes(good.read_bytes()[:300])
    os.symlink("b.flac", tmp_path / "a.flac")
    os.symlink("a.flac", tmp_path / "b.flac")
    code, out, _ = run(capsys, tmp_path / "missing.flac", tmp_path / "a.flac", tmp_path / "cut.flac",
                       "--model", model_path)
    lines = out.splitlines()
    assert lines[0].endswith("missing.flac: no such file")
    assert lines[1].endswith("a.flac: too many levels of symbolic links")
    assert lines[2].endswith("cut.flac: truncated or corrupt FLAC")
    assert code == 2


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cli(*args, timeout=60, **kwargs):
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "penthy_model.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=ROOT, **kwargs)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_fifo_named_flac_is_an_error_not_a_hang(tmp_path, model_path, pair, jobs):
    (tmp_path / "a.flac").write_bytes(pair[0].read_bytes())
    os.mkfifo(tmp_path / "b.flac")
    (tmp_path / "c.flac").write_bytes(pair[1].read_bytes())
    done = _cli(tmp_path, "--model", model_path, "-j", jobs, timeout=60)
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    assert lines[1].startswith("error") and "b.flac: not a regular file" in lines[1]
    assert lines[0].startswith("lossless") and lines[2].startswith("transcoded")
    assert done.returncode == 2


def test_ctrl_c_with_jobs_exits(tmp_path, model_path, pair):
    import signal
    import subprocess
    import sys

    for n in range(30):  # far more than can finish between the first line and the signal
        (tmp_path / f"{n:02d}.flac").write_bytes(pair[n % 2].read_bytes())
    env = dict(os.environ, PYTHONPATH=ROOT)
    # A shell that starts a job in the background (`bash .ci/run &`) starts it with SIGINT
    # ignored, and Python installs no KeyboardInterrupt handler then: give the child Ctrl-C back.
    proc = subprocess.Popen([sys.executable, "-m", "penthy_model.cli", str(tmp_path), "--model", str(model_path),
                             "-j", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stdout.readline()  # the first result: the pool is busy
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("penthy -j 2 did not exit after Ctrl-C")
    assert proc.returncode == 130 and "interrupted" in err, (proc.returncode, err[-500:])


def test_a_lossy_file_named_directly_is_skipped(tmp_path, model_path, capsys):
    import soundfile as sf

    mp3 = tmp_path / "song.mp3"
    sf.write(str(mp3), music(2.0, seed=3), 44100, format="MP3")
    code, out, err = run(capsys, mp3, "--model", model_path)
    assert out.strip() == f"skipped       {mp3}: MP3 is not a lossless format"
    assert code == 0 and "1 skipped" in err
    code, out, _ = run(capsys, mp3, "--model", model_path, "--json")
    row = json.loads(out)
    assert (row["verdict"], row["reason"], row["score"]) == ("skipped", "MP3 is not a lossless format", None)
    assert code == 0


def test_formats_needing_the_extra_are_left_out_once(tmp_path, model_path, pair, capsys, monkeypatch):
    from penthy_model import formats
    from penthy_model.scan import scan_extensions

    assert ".wv" in scan_extensions(True) and ".wv" not in scan_extensions(False)
    assert ".flac" in scan_extensions(False) and ".mp3" not in scan_extensions(True)
    monkeypatch.setattr(formats, "extra_available", lambda: False)
    (tmp_path / "a.flac").write_bytes(pair[0].read_bytes())
    for name in ("b.wv", "c.wv", "d.ape"):
        (tmp_path / name).write_bytes(b"wvpk" + bytes(100))
    code, out, err = run(capsys, tmp_path, "--model", model_path)
    assert len(out.splitlines()) == 1 and code == 0
    assert err.count("formats extra") == 1 and "3 files left out (APE, WAVPACK)" in err
    # named directly: skipped with the hint, not an error
    code, out, _ = run(capsys, tmp_path / "b.wv", "--model", model_path)
    assert out.startswith("skipped") and "pip install" in out and code == 0


def test_destinations_are_checked_before_the_scan(tmp_path, model_path, pair, capsys):
    (tmp_path / "afile").write_text("x")
    for option, target in (("--report", "/proc/nope.html"), ("--report", tmp_path), ("--plot", tmp_path / "afile")):
        if option == "--plot":
            pytest.importorskip("matplotlib")
        code, out, err = run(capsys, pair[1], "--model", model_path, option, target)
        assert code == 2 and out == "", (option, target)
        assert "cannot write" in err


def test_interrupted_run_writes_the_report_of_what_finished(tmp_path, model_path, pair, capsys, monkeypatch):
    interrupt_second_analysis(monkeypatch)
    report = tmp_path / "scan.html"
    code, out, err = run(capsys, pair[1], pair[0], "--model", model_path, "--report", report)
    assert code == 130 and "interrupted" in err
    html = report.read_text()
    assert "fake.flac" in html and "genuine.flac" not in html


def test_csv_has_the_json_fields_as_columns(tmp_path, model_path, pair, capsys):
    import csv
    import io

    import soundfile as sf

    mp3 = tmp_path / "song.mp3"
    sf.write(str(mp3), music(2.0, seed=3), 44100, format="MP3")
    code, out, _ = run(capsys, pair[0], pair[1], mp3, "--model", model_path, "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    _, js, _ = run(capsys, pair[0], "--model", model_path, "--json")
    assert list(rows[0]) == list(json.loads(js))  # the same fields, in the same order
    assert [r["verdict"] for r in rows] == ["lossless", "transcoded", "skipped"]
    assert float(rows[0]["score"]) > 0.7 and rows[0]["reason"] == ""
    assert len(rows[0]["window_scores"].split()) == len(json.loads(js)["window_scores"])
    assert rows[2]["reason"] == "MP3 is not a lossless format" and code == 1


def test_version(model_path, capsys):
    import penthy_model

    code, out, _ = run(capsys, "--version", "--model", model_path)
    assert code == 0
    assert f"engine {penthy_model.__version__}" in out and "model tiny-test-1" in out
    assert out.startswith("penthy ")
    with pytest.raises(SystemExit):
        main([])  # no PATH and no --version


def test_m4a_by_its_codec_alac_analysed_aac_skipped(tmp_path, model_path, pair, capsys):
    import shutil
    import subprocess

    pytest.importorskip("av")
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    for name, codec in (("alac.m4a", ["-c:a", "alac"]), ("aac.m4a", ["-c:a", "aac", "-b:a", "128k"])):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(pair[0]), *codec, str(tmp_path / name)], check=True)
    code, out, err = run(capsys, tmp_path, "--model", model_path)
    lines = out.splitlines()  # in name order: aac.m4a, alac.m4a
    assert lines[0] == f"skipped       {tmp_path / 'aac.m4a'}: AAC is not a lossless format"
    assert lines[1].startswith("lossless") and "alac.m4a" in lines[1] and len(lines) == 2
    assert code == 0 and "1 skipped" in err
