"""penthy_model.scan: what the two front ends share."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from helpers import music, write_flac
from penthy_model.scan import audio_identity


def test_flac_identity_is_its_md5_and_survives_tag_edits(tmp_path):
    from mediafile import MediaFile

    path = write_flac(tmp_path / "a.flac", music(1.0, seed=1))
    from mutagen.flac import FLAC

    md5 = FLAC(str(path)).info.md5_signature
    assert audio_identity(path) == f"flac-md5:{md5:032x}"
    mf = MediaFile(str(path))
    mf.title = "a much longer title than before" * 20
    mf.save()
    os.utime(path, (0, 12345))
    assert audio_identity(path) == f"flac-md5:{md5:032x}"
    other = write_flac(tmp_path / "b.flac", music(1.0, seed=2))
    assert audio_identity(other) != audio_identity(path)


def test_flac_after_an_id3_tag(tmp_path):
    path = write_flac(tmp_path / "a.flac", music(1.0, seed=1))
    expected = audio_identity(path)
    body = bytes(300)
    size = bytes([(len(body) >> s) & 0x7F for s in (21, 14, 7, 0)])
    prefixed = tmp_path / "id3.flac"
    prefixed.write_bytes(b"ID3\x04\x00\x00" + size + body + path.read_bytes())
    assert audio_identity(prefixed) == expected


def test_without_md5_size_and_time(tmp_path):
    path = write_flac(tmp_path / "a.flac", music(1.0, seed=1))
    data = bytearray(path.read_bytes())
    data[8 + 34 - 16:8 + 34] = bytes(16)  # an encoder that left the MD5 out
    path.write_bytes(bytes(data))
    os.utime(path, (0, 1000))
    assert audio_identity(path) == f"stat:{len(data)}:1000"
    wav = tmp_path / "a.wav"
    sf.write(str(wav), np.zeros((100, 2), np.float32), 44100)
    os.utime(wav, (0, 2000))
    assert audio_identity(wav) == f"stat:{wav.stat().st_size}:2000"


def test_unreadable_gives_none(tmp_path):
    assert audio_identity(tmp_path / "missing.flac") is None
    os.mkfifo(tmp_path / "pipe.flac")
    assert audio_identity(tmp_path / "pipe.flac") is None  # and does not block


def test_errors_in_words(tmp_path):
    import soundfile as sf

    from penthy_model.audio import read_windows
    from penthy_model.errors import describe

    good = write_flac(tmp_path / "good.flac", music(3.0, seed=4))
    data = good.read_bytes()
    (tmp_path / "head.flac").write_bytes(data[:200])
    (tmp_path / "half.flac").write_bytes(data[: len(data) // 2])
    os.symlink("loop2.flac", tmp_path / "loop1.flac")
    os.symlink("loop1.flac", tmp_path / "loop2.flac")
    (tmp_path / "empty.flac").write_bytes(b"")
    expected = {
        "missing.flac": "no such file",
        "loop1.flac": "too many levels of symbolic links",
        "head.flac": "truncated or corrupt FLAC",
        "half.flac": "truncated or corrupt FLAC",
        "empty.flac": "empty file",
    }
    for name, words in expected.items():
        path = os.fsencode(tmp_path / name)
        with pytest.raises((sf.LibsndfileError, OSError, RuntimeError)) as exc:
            read_windows(path)
        assert describe(exc.value, path) == words, (name, str(exc.value))
    assert describe(PermissionError(13, "Permission denied", "/x")) == "permission denied"


def test_transcoded_rows_say_why(tmp_path):
    from penthy_model.report import write_report
    from penthy_model.result import Result
    from penthy_model.result import explain

    by_model = Result("/m/a.flac", "transcoded", score=0.08, model_score=0.08, cutoff_hz=16900)
    by_grid = Result("/m/b.flac", "transcoded", score=0.0, model_score=0.6, codec="aac", grid_z=14.2)
    assert explain(by_model) == "the spectrogram model scored 0.080, below its threshold; content stops at 16.9 kHz"
    assert explain(by_grid).startswith("decoded from AAC (frame grid z 14.2)")
    vorbis = Result("/m/e.flac", "transcoded", score=0.0, codec="vorbis", grid_z=9.9)
    assert explain(vorbis).startswith("decoded from Vorbis (")  # as the reasons spell it, not VORBIS
    assert explain(Result("/m/c.flac", "lossless", score=0.9)) is None
    assert explain(Result("/m/d.flac", "inconclusive", reason="too short")) == "too short"
    html = write_report([by_model, by_grid], tmp_path / "r.html").read_text()
    assert "content stops at 16.9 kHz" in html and "decoded from AAC" in html
