"""The beets plugin, with real beets (its test helpers), real generated files and the
hand-made ONNX model from helpers.tiny_model (genuine full band: high score, MP3-128 twin:
low score)."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from beets import ui
from beets.library import Item
from beets.test.helper import AutotagStub, ImportHelper, PluginMixin
from beets.util import cached_classproperty
from mediafile import MediaFile

from helpers import interrupt_second_analysis, mp3_twin, music, tiny_model, write_flac

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 4.0


def _tag(path: Path, **tags) -> Path:
    mf = MediaFile(str(path))
    mf.update(tags)
    mf.save()
    return path


def _corrupt(src: Path, dst: Path) -> Path:
    """Valid FLAC metadata (beets reads the file) over garbage audio (decoding fails)."""
    data = src.read_bytes()
    pos = 4
    while True:
        header, length = data[pos], int.from_bytes(data[pos + 1:pos + 4], "big")
        pos += 4 + length
        if header & 0x80:
            break
    noise = np.random.default_rng(7).integers(0, 256, len(data) - pos, dtype=np.uint8).tobytes()
    dst.write_bytes(data[:pos] + noise)
    return dst


@pytest.fixture(scope="session")
def audio(tmp_path_factory):
    """Generated source files: genuine ones, their MP3-128 twins, and a few special ones."""
    d = tmp_path_factory.mktemp("audio")
    files = {}
    for n in (1, 2, 3):
        files[f"genuine{n}"] = write_flac(d / f"genuine{n}.flac", music(SECONDS, seed=10 + n))
        files[f"fake{n}"] = mp3_twin(files[f"genuine{n}"], d / f"fake{n}.flac", 128)
    files["corrupt"] = _corrupt(files["genuine1"], d / "corrupt.flac")
    # 16-bit audio in a 24-bit container.
    x = np.round(music(SECONDS, seed=20) * 32767).astype(np.int32) << 16
    files["bits16in24"] = d / "bits16in24.flac"
    sf.write(str(files["bits16in24"]), x, 44100, subtype="PCM_24")
    # 44.1 kHz music brought to 96 kHz by an ideal (brick-wall) resampler.
    x = music(SECONDS, seed=21)
    n, m = len(x), int(len(x) * 96000 / 44100)
    spectrum = np.zeros((m // 2 + 1, x.shape[1]), complex)
    spectrum[: n // 2 + 1] = np.fft.rfft(x, axis=0)
    files["upsampled"] = d / "upsampled.flac"
    sf.write(str(files["upsampled"]), (np.fft.irfft(spectrum, m, axis=0) * m / n).astype(np.float32), 96000,
             subtype="PCM_24")
    # A lossy file beside them: beets imports it, penthy leaves it alone.
    files["lossy"] = d / "lossy.mp3"
    sf.write(str(files["lossy"]), music(SECONDS, seed=30), 44100, format="MP3")
    return files


@pytest.fixture(scope="session")
def model_v2(tmp_path_factory):
    """Another model version whose thresholds call everything below 0.99 transcoded."""
    return tiny_model(tmp_path_factory.mktemp("model2") / "retrained.onnx", version="tiny-test-2",
                      thresholds=(0.99, 0.995))


@pytest.fixture(autouse=True)
def isolation():
    """Item._types is cached per class: forget it around tests that load plugins. beets'
    command line adds a log handler bound to the sys.stderr of its time: drop it after."""
    beets_log = logging.getLogger("beets")
    handlers = list(beets_log.handlers)
    cached_classproperty.cache.clear()
    yield
    cached_classproperty.cache.clear()
    beets_log.handlers[:] = handlers


@pytest.fixture
def no_media_field():
    """Remove the `penthy` file tag that write_tag: yes registers on MediaFile."""
    yield
    if "penthy" in MediaFile.__dict__:
        delattr(MediaFile, "penthy")
    Item._media_fields.discard("penthy")
    Item._media_tag_fields.discard("penthy")


class PenthyHelper(PluginMixin, ImportHelper):
    plugin = "penthy"
    preload_plugin = False
    plugin_config: dict = {}

    @pytest.fixture(autouse=True)
    def configure(self, setup, model_path, audio):
        self.audio = audio
        self.config["penthy"].set({"model": str(model_path), "threads": 1, **self.plugin_config})
        self.config["import"]["copy"] = False
        self.config["import"]["write"] = False
        self.load_plugins()
        cached_classproperty.cache.clear()  # the library was opened before the plugin loaded
        yield

    def album(self, name: str, *keys: str, tags: bool = True) -> Path:
        """An album folder in the import path with copies of the named files."""
        folder = self.import_path / name
        folder.mkdir()
        for n, key in enumerate(keys, 1):
            src = self.audio[key]
            dst = folder / f"{n:02d} {key}{src.suffix}"
            shutil.copy(src, dst)
            if tags:
                _tag(dst, title=key, artist="Artist", album=name, albumartist="Artist", track=n)
        return folder

    def import_asis(self, *paths: Path):
        self.run_command("import", "-A", *map(str, paths))

    def item(self, title: str) -> Item:
        (item,) = self.lib.items(f"title:{title}")
        return item

    def titles(self, query) -> set[str]:
        return {i.title for i in self.lib.items(query)}

    def plugin_obj(self):
        from beets import plugins

        (plugin,) = [p for p in plugins.find_plugins() if p.name == "penthy"]
        return plugin


class TestImport(PenthyHelper):
    def test_import_stores_typed_fields(self, capsys, caplog):
        folder = self.album("Mixed", "genuine1", "fake1", "lossy")
        with caplog.at_level(logging.WARNING):
            self.import_asis(folder)
        genuine, fake, lossy = self.item("genuine1"), self.item("fake1"), self.item("lossy")
        assert genuine.penthy_verdict == "lossless" and genuine.penthy > 0.7
        assert fake.penthy_verdict == "transcoded" and fake.penthy < 0.3
        assert isinstance(genuine.penthy, float) and isinstance(genuine.penthy_cutoff, int)
        assert genuine.penthy_cutoff > 20000 > 18000 > fake.penthy_cutoff
        assert genuine.penthy_bits == 16 and genuine.penthy_model == "tiny-test-1"
        assert genuine.get("penthy_upsampled_from") is None
        # Only lossless formats are analysed.
        assert lossy.format == "MP3" and lossy.get("penthy") is None and lossy.get("penthy_verdict") is None
        # The warning names the album and the count.
        assert any("Artist - Mixed: 1 of 2 tracks look transcoded" in r.getMessage() for r in caplog.records)

    def test_queries_find_exactly_the_fakes(self, capsys):
        self.import_asis(self.album("A", "genuine1", "fake1", "genuine2"), self.album("B", "fake2", "genuine3"))
        assert self.titles("penthy:..0.5") == {"fake1", "fake2"}
        assert self.titles("penthy_verdict:transcoded") == {"fake1", "fake2"}
        assert self.titles("penthy:0.5..") == {"genuine1", "genuine2", "genuine3"}
        # Sorting is numeric and templates show 4 decimals.
        capsys.readouterr()
        self.run_command("ls", "-f", "$penthy $title", "penthy+")
        lines = capsys.readouterr().out.splitlines()
        scores = [float(line.split()[0]) for line in lines]
        assert scores == sorted(scores) and len(lines) == 5
        assert all(len(line.split()[0].split(".")[1]) == 4 for line in lines)
        assert {line.split()[1] for line in lines[:2]} == {"fake1", "fake2"}

    def test_album_aggregates(self):
        self.import_asis(self.album("Mixed", "genuine1", "fake1"), self.album("Clean", "genuine2", "genuine3"),
                         self.album("Fake", "fake2", "fake3"))
        assert {a.album for a in self.lib.albums("penthy_min:..0.5")} == {"Mixed", "Fake"}
        assert {a.album for a in self.lib.albums("penthy_transcoded:0.5..")} == {"Mixed", "Fake"}
        assert {a.album for a in self.lib.albums("penthy_transcoded:1")} == {"Fake"}
        (mixed,) = self.lib.albums("album:Mixed")
        assert mixed.penthy_transcoded == 0.5 and mixed.penthy_min == self.item("fake1").penthy
        verdicts = {a.album: a.penthy_album_verdict for a in self.lib.albums()}
        assert verdicts == {"Mixed": "mixed", "Clean": "lossless", "Fake": "transcoded"}
        assert {a.album for a in self.lib.albums("penthy_album_verdict:mixed")} == {"Mixed"}
        # The album fields are stored on the album, not copied onto its tracks (which still
        # see them, as beets lets items read their album's fields).
        assert "penthy_min" not in self.item("genuine1")._values_flex
        assert self.item("genuine1").penthy_min == mixed.penthy_min

    def test_alac_through_the_formats_extra(self, tmp_path):
        pytest.importorskip("av")
        if shutil.which("ffmpeg") is None:
            pytest.skip("ffmpeg is not installed")
        folder = self.import_path / "Alac"
        folder.mkdir()
        for key in ("genuine1", "fake1"):
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(self.audio[key]), "-c:a", "alac",
                            "-metadata", f"title={key}", str(folder / f"{key}.m4a")], check=True)
        self.import_asis(folder)
        assert {i.format for i in self.lib.items()} == {"ALAC"}
        assert self.item("genuine1").penthy_verdict == "lossless"
        assert self.item("fake1").penthy_verdict == "transcoded"

    def test_hires_fields(self):
        self.import_asis(self.album("Hires", "bits16in24", "upsampled"))
        assert self.titles("penthy_upsampled_from:44100") == {"upsampled"}
        bits = self.item("bits16in24")
        assert bits.bitdepth == 24 and bits.penthy_bits == 16
        assert self.item("upsampled").penthy_bits == 24
        assert self.titles("penthy_bits:..20") == {"bits16in24"}

    def test_corrupt_file_does_not_abort_the_import(self, caplog):
        with caplog.at_level(logging.ERROR):
            self.import_asis(self.album("Broken", "genuine1", "corrupt", "fake1"))
        assert self.titles("") == {"genuine1", "corrupt", "fake1"}
        assert self.item("corrupt").get("penthy_verdict") is None
        assert self.titles("penthy_verdict:transcoded") == {"fake1"}
        assert any("corrupt" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)

    def test_unexpected_exception_in_the_analysis_does_not_abort_the_import(self, monkeypatch, caplog):
        from penthy_model.analyze import Analyzer

        real = Analyzer.analyze

        def analyze(analyzer, path):
            if "fake1" in os.fsdecode(path):
                raise RuntimeError("engine bug")
            return real(analyzer, path)

        monkeypatch.setattr(Analyzer, "analyze", analyze)
        with caplog.at_level(logging.ERROR):
            self.import_asis(self.album("A", "genuine1", "fake1"), self.album("B", "fake2"))
        assert self.titles("") == {"genuine1", "fake1", "fake2"}
        assert self.titles("penthy_verdict::.") == {"genuine1", "fake2"}
        assert any("engine bug" in r.getMessage() for r in caplog.records)

    def test_skipped_when_already_scored_by_this_model(self):
        folder = self.album("A", "genuine1")
        self.import_asis(folder)
        item = self.item("genuine1")
        item.penthy = 0.5
        item.store()
        self.run_command("import", "-A", "-L", "title:genuine1")  # re-import from the library
        assert self.item("genuine1").penthy == 0.5

    def test_auto_off(self):
        self.config["penthy"]["auto"] = False
        self.import_asis(self.album("A", "genuine1"))
        assert self.item("genuine1").get("penthy_verdict") is None

    def test_pretend_import_analyses_nothing(self, monkeypatch):
        self.config["penthy"]["on_transcoded"] = "skip"
        plugin = self.plugin_obj()
        monkeypatch.setattr(type(plugin), "analyzer", lambda *a: pytest.fail("analysed in pretend mode"))
        self.run_command("import", "-A", "--pretend", str(self.album("A", "fake1")))


class TestImportChoice(PenthyHelper):
    def test_skip_transcoded_albums(self, capsys):
        self.config["penthy"]["on_transcoded"] = "skip"
        self.import_asis(self.album("Fakey", "genuine1", "fake1"), self.album("Clean", "genuine2"))
        assert self.titles("") == {"genuine2"}
        assert "Artist - Fakey: 1 of 2 tracks look transcoded; skipping it" in capsys.readouterr().out

    @pytest.mark.parametrize("answer,count", [("s", 0), ("c", 2)])
    def test_ask_before_choosing_a_match(self, monkeypatch, capsys, answer, count):
        self.config["penthy"]["on_transcoded"] = "ask"
        asked = []

        def input_options(options, *args, **kwargs):
            asked.append(tuple(options))
            assert len(asked) < 5, f"prompted again and again: {asked}"
            # Ours gets the answer; beets' own candidate prompt gets "use as-is".
            return answer if len(asked) == 1 else "u"

        monkeypatch.setattr(ui, "input_options", input_options)
        matcher = AutotagStub(AutotagStub.IDENT).install()
        try:
            self.run_command("import", str(self.album("Fakey", "genuine1", "fake1")))
        finally:
            matcher.restore()
        assert asked[0] == ("skip", "continue", "aBort")
        assert len(self.lib.items()) == count
        assert "Artist - Fakey: 1 of 2 tracks look transcoded" in capsys.readouterr().out


    def test_ask_prints_the_warning_once(self, monkeypatch, capsys, caplog):
        self.config["penthy"]["on_transcoded"] = "ask"
        monkeypatch.setattr(ui, "input_options", lambda options, *a, **k: "c" if options[0] == "skip" else "u")
        matcher = AutotagStub(AutotagStub.IDENT).install()
        try:
            with caplog.at_level(logging.INFO):
                self.run_command("import", str(self.album("Mixed", "genuine1", "fake1", "genuine2", "fake2")))
        finally:
            matcher.restore()
        said = capsys.readouterr().out + "\n".join(r.getMessage() for r in caplog.records)
        assert said.count("Artist - Mixed: 2 of 4 tracks look transcoded") == 1
        assert self.titles("penthy_verdict:transcoded") == {"fake1", "fake2"}


class TestImportCounts(PenthyHelper):
    plugin_config = {"auto": False}

    def test_warning_counts_tracks_scored_before(self, caplog):
        """Re-importing an album whose genuine tracks were scored already: the warning
        counts the whole album, not only the tracks analysed now."""
        self.import_asis(self.album("Mixed", "genuine1", "fake1", "genuine2", "fake2", "lossy"))
        self.run_command("penthy", "title:genuine")
        self.config["penthy"]["auto"] = True
        with caplog.at_level(logging.WARNING):
            self.run_command("import", "-A", "-L", "album:Mixed")
        said = [r.getMessage() for r in caplog.records if "look transcoded" in r.getMessage()]
        assert said == ["Artist - Mixed: 2 of 4 tracks look transcoded"]


class TestThreadedImport(PenthyHelper):
    db_on_disk = True
    plugin_config = {"threads": 3}

    def test_threaded_import_with_an_on_disk_database(self):
        self.config["threaded"] = True
        self.import_asis(self.album("A", "genuine1", "fake1", "genuine2"), self.album("B", "fake2", "genuine3"))
        assert self.titles("penthy:..0.5") == {"fake1", "fake2"}
        assert self.titles("penthy:0.5..") == {"genuine1", "genuine2", "genuine3"}
        assert {a.album for a in self.lib.albums("penthy_min:..0.5")} == {"A", "B"}


class TestCommand(PenthyHelper):
    plugin_config = {"auto": False}

    @pytest.fixture(autouse=True)
    def library(self, configure):
        self.import_asis(self.album("A", "genuine1", "fake1"), self.album("B", "genuine2", "corrupt"))

    def out(self, capsys, *args) -> str:
        capsys.readouterr()
        self.run_command("penthy", *args)
        return capsys.readouterr().out

    def test_pretend_stores_nothing(self, capsys):
        out = self.out(capsys, "-p")
        assert "transcoded" in out and "lossless" in out and "nothing stored" in out
        assert self.titles("penthy_verdict::.") == set()

    def test_scores_skips_and_forces(self, capsys):
        out = self.out(capsys)
        assert self.titles("penthy:..0.5") == {"fake1"}
        assert self.titles("penthy:0.5..") == {"genuine1", "genuine2"}
        assert "4 analysed" in out and "1 errors" in out
        assert any(line.startswith("error") and "corrupt" in line for line in out.splitlines())
        assert {a.album for a in self.lib.albums("penthy_min:..0.5")} == {"A"}

        item = self.item("genuine1")
        true_score, item.penthy = item.penthy, 0.25
        item.store()
        out = self.out(capsys)
        assert self.item("genuine1").penthy == 0.25  # skipped: already scored by this model
        assert "skipped" in out or "nothing to analyse" in out
        assert "genuine1" not in out

        out = self.out(capsys, "-f", "genuine1")
        assert self.item("genuine1").penthy == true_score
        assert "1 analysed" in out and "lossless" in out

        # The corrupt file is retried (nothing was stored for it) and stays unscored.
        out = self.out(capsys)
        assert "1 analysed" in out and "1 errors" in out
        assert self.item("corrupt").get("penthy_verdict") is None

    def test_plot_and_report(self, capsys, tmp_path):
        pytest.importorskip("matplotlib")
        pictures, report = tmp_path / "pics", tmp_path / "scan.html"
        self.out(capsys, "--plot", str(pictures), "--report", str(report))
        pngs = sorted(pictures.glob("*.png"))
        assert len(pngs) == 3  # the corrupt file gets no picture
        html = report.read_text()
        assert html.count("data:image/png;base64,") >= 3
        assert "fake1" in html and "genuine2" in html

    def test_report_alone_leaves_no_pictures_behind(self, capsys, tmp_path, monkeypatch):
        pytest.importorskip("matplotlib")
        import tempfile

        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
        (tmp_path / "tmp").mkdir()
        report = tmp_path / "scan.html"
        self.out(capsys, "--report", str(report))
        assert report.read_text().count("data:image/png;base64,") >= 3
        assert list((tmp_path / "tmp").iterdir()) == []  # the scratch folder was removed

    def test_quiet_album_mode_and_threads(self, capsys):
        out = self.out(capsys, "-q", "-a", "-t", "2", "album:A")
        lines = out.splitlines()
        assert len(lines) == 2 and "transcoded" in lines[0] and "fake1" in lines[0]
        assert "2 analysed" in lines[1]
        assert self.titles("penthy_verdict::.") == {"genuine1", "fake1"}

    def test_new_model_version_triggers_reanalysis(self, capsys, model_v2):
        self.out(capsys)
        assert {i.get("penthy_model") for i in self.lib.items("penthy_verdict::.")} == {"tiny-test-1"}
        self.config["penthy"]["model"] = str(model_v2)
        out = self.out(capsys)
        assert "4 analysed" in out  # 3 re-analysed, the corrupt file tried again
        assert {i.get("penthy_model") for i in self.lib.items("penthy_verdict::.")} == {"tiny-test-2"}
        # The retrained model's own thresholds apply: at 0.99 it reads the genuine files as
        # transcoded, but without a codec grid or lossy texture that is no proof (issue 25).
        assert self.titles("penthy_verdict:transcoded") == {"fake1"}
        assert self.titles("penthy_verdict:inconclusive") >= {"genuine1", "genuine2"}

    def test_threshold_override(self, capsys):
        self.config["penthy"]["threshold"] = 0.95
        self.out(capsys)
        assert self.titles("penthy_verdict:transcoded") == {"fake1"}  # the model's word alone is no proof
        assert self.titles("penthy_verdict:inconclusive") >= {"genuine1", "genuine2"}
        self.config["penthy"]["threshold"] = {"transcoded": 0.05, "lossless": 0.5}
        self.out(capsys, "-f")
        assert self.titles("penthy_verdict:lossless") == {"genuine1", "genuine2"}
        # the score alone leaves fake1 inconclusive now; its MP3 granule grid still settles it
        assert self.titles("penthy_verdict:transcoded") == {"fake1"} and self.item("fake1").penthy == 0.0
        # ... which is stored as its codec, with the reason in words
        assert self.titles("penthy_codec:mp3") == {"fake1"}
        assert "MP3" in self.item("fake1").penthy_reason
        assert self.item("genuine1").get("penthy_codec") is None

    def test_threshold_overrides_and_the_low_content_threshold(self, tmp_path):
        plugin = self.plugin_obj()
        self.config["penthy"]["model"] = str(tiny_model(tmp_path / "m.onnx", thresholds=(0.3, 0.7, 0.1)))
        self.config["penthy"]["threshold"] = {"lossless": 0.9}
        t = plugin.analyzer(plugin.settings()).thresholds
        assert (t.transcoded, t.lossless, t.transcoded_low_content) == (0.3, 0.9, 0.1)
        self.config["penthy"]["threshold"] = {"transcoded": 0.2}
        t = plugin.analyzer(plugin.settings()).thresholds
        assert t.transcoded == t.transcoded_low_content == 0.2
        self.config["penthy"]["threshold"] = 0.25
        t = plugin.analyzer(plugin.settings()).thresholds
        assert t.transcoded == t.transcoded_low_content == 0.25

    def test_interrupted_run_keeps_what_is_done_and_resumes(self, capsys, monkeypatch):
        interrupt_second_analysis(monkeypatch)
        with pytest.raises(KeyboardInterrupt):
            self.run_command("penthy", "-t", "1", "album:A")
        assert self.titles("penthy_verdict::.") == {"genuine1"}
        assert "interrupted" in capsys.readouterr().out
        out = self.out(capsys, "album:A")
        assert "1 analysed" in out and self.titles("penthy_verdict::.") == {"genuine1", "fake1"}

    @pytest.mark.parametrize("option,value,message", [
        ("threads", 0, "threads"),
        ("threads", "many", "threads"),
        ("formats", 5, "formats"),
        ("formats", ["FLAK"], "unknown format 'FLAK'; the known ones are FLAC, WAVE"),
        ("formats", ["FLAC", "MP3"], "MP3 is not a lossless format"),
        ("model", "/nonexistent/model.onnx", "no such file"),
        ("threshold", 2, "threshold"),
        ("threshold", {"transcoded": 0.8, "lossless": 0.2}, "threshold"),
        ("auto", "perhaps", "auto"),
        ("write_tag", "sometimes", "write_tag"),
        ("on_transcoded", "maybe", "on_transcoded"),
    ])
    def test_bad_config_is_a_user_error(self, option, value, message):
        self.config["penthy"][option] = value
        with pytest.raises(ui.UserError, match=message):
            self.run_command("penthy")
        with pytest.raises(ui.UserError, match=message):
            self.import_asis(self.album("C", "genuine3"))
        assert self.titles("title:genuine3") == set()  # the import did not start

    def test_jobs_option_and_its_threads_alias(self, capsys):
        out = self.out(capsys, "-j", "2", "album:A")
        assert "2 analysed" in out
        out = self.out(capsys, "--jobs", "2", "-f", "album:A")
        assert "2 analysed" in out
        out = self.out(capsys, "-t", "1", "-f", "album:A")
        assert "2 analysed" in out
        with pytest.raises(ui.UserError, match="--jobs"):
            self.run_command("penthy", "-j", "0")

    def test_destinations_are_checked_before_the_analysis(self, capsys, tmp_path, monkeypatch):
        from penthy_model.analyze import Analyzer

        monkeypatch.setattr(Analyzer, "analyze", lambda *a: pytest.fail("analysed before the check"))
        (tmp_path / "afile").write_text("x")
        targets = [("--report", "/proc/nope.html"), ("--report", str(tmp_path))]
        try:
            import matplotlib  # noqa: F401

            targets += [("--plot", "/proc/nope"), ("--plot", str(tmp_path / "afile"))]
        except ImportError:
            pass
        for option, target in targets:
            with pytest.raises(ui.UserError, match="cannot write"):
                self.run_command("penthy", option, target)
        assert self.titles("penthy_verdict::.") == set()

    def test_interrupted_run_writes_the_report_of_what_finished(self, capsys, tmp_path, monkeypatch):
        interrupt_second_analysis(monkeypatch)
        report = tmp_path / "scan.html"
        with pytest.raises(KeyboardInterrupt):
            self.run_command("penthy", "--report", str(report), "album:A")
        html = report.read_text()
        assert "genuine1" in html and "fake1" not in html

    def test_deleted_library_file_is_said_in_words(self, capsys):
        path = self.item("genuine2").path
        os.remove(path)
        out = self.out(capsys, "album:B")
        (line,) = [line for line in out.splitlines() if "genuine2" in line]
        assert line.startswith("error") and "no such file" in line
        assert "System error" not in out

    def test_formats_needing_the_extra_are_left_out_with_a_hint(self, capsys, caplog, monkeypatch):
        from penthy_model import formats

        monkeypatch.setattr(formats, "extra_available", lambda: False)
        item = self.item("genuine1")
        item.format = "ALAC"  # as beets names an ALAC .m4a (no decoding happens here)
        item.store()
        with caplog.at_level(logging.WARNING):
            out = self.out(capsys, "album:A")  # the default formats include ALAC
        assert "1 analysed" in out and "genuine1" not in out
        said = [r.getMessage() for r in caplog.records if "formats extra" in r.getMessage()]
        assert len(said) == 1 and "1 track left out (1 ALAC)" in said[0] and "pip install" in said[0]
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            self.out(capsys, "album:B")  # no such track there: nothing said
        assert not [r for r in caplog.records if "formats extra" in r.getMessage()]

    def test_model_without_its_sidecar(self, tmp_path):
        lonely = tmp_path / "lonely.onnx"
        lonely.write_bytes(b"not a model")
        self.config["penthy"]["model"] = str(lonely)
        with pytest.raises(ui.UserError, match="lonely.json"):
            self.run_command("penthy")


@pytest.mark.usefixtures("no_media_field")
class TestFileTag(PenthyHelper):
    plugin_config = {"write_tag": True}

    def test_write_and_read_back_leaves_audio_and_other_tags(self, capsys):
        folder = self.album("A", "genuine1")
        path = next(folder.iterdir())
        before = _flac_state(path)
        self.import_asis(folder)
        item = self.item("genuine1")
        assert MediaFile(str(path)).penthy is None  # import.write is off

        self.run_command("penthy", "-f", "-w")
        after = _flac_state(path)
        tag = after["tags"].pop("penthy")
        assert tag == [f"{item.penthy:.4f}"]
        assert after == before  # same MD5 in STREAMINFO, same samples, same other tags
        _flac_test(path)

        # beet write puts the database value in the file; the database is the record:
        # beet update does not read the tag back.
        item.penthy = 0.1234
        item.store()
        self.run_command("write", "-f")
        assert _flac_state(path)["tags"]["penthy"] == ["0.1234"]
        from mutagen.flac import FLAC

        flac = FLAC(str(path))
        flac["PENTHY"] = "0.4321"  # another program edits the tag
        flac.save()
        os.utime(path, (os.path.getatime(path), os.path.getmtime(path) + 10))
        self.run_command("update")
        assert self.item("genuine1").penthy == 0.1234
        _flac_test(path)

    def test_nowrite(self):
        folder = self.album("A", "genuine1")
        path = next(folder.iterdir())
        self.import_asis(folder)
        self.run_command("penthy", "-f", "-W")
        assert "penthy" not in _flac_state(path)["tags"]
        assert self.item("genuine1").get("penthy") is not None

    def test_failed_write_is_one_line_counted_and_an_error(self, capsys, caplog, unwritable):
        folder = self.album("A", "genuine1", "genuine2")
        self.import_asis(folder)
        locked = sorted(folder.iterdir())[0]
        unwritable(locked)
        capsys.readouterr()
        with caplog.at_level(logging.ERROR), pytest.raises(ui.UserError, match="1 tag was not written"):
            self.run_command("penthy", "-f", "-w")
        out = capsys.readouterr().out
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and errors[0].count(str(locked)) == 1
        assert errors[0].startswith("cannot write the tag of") and ("denied" in errors[0] or "permitted" in errors[0])
        assert "1 tag written" in out and "1 tag could not be written" in out
        assert self.item("genuine1").penthy is not None  # the score is stored all the same

    def test_import_writes_the_tag(self):
        self.config["import"]["write"] = True
        folder = self.album("A", "fake1")
        self.import_asis(folder)
        value = MediaFile(str(next(folder.iterdir()))).penthy
        assert value is not None and abs(value - self.item("fake1").penthy) < 1e-9


@pytest.fixture
def unwritable():
    """Make files unwritable, even for root (chattr +i where chmod is not enough)."""
    locked = []

    def lock(path: Path):
        path.chmod(0o444)
        try:
            with open(path, "r+b"):
                pass
        except OSError:
            locked.append((path, False))
            return
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            path.chmod(0o644)
            pytest.skip("cannot make a file unwritable here")
        locked.append((path, True))

    yield lock
    for path, immutable in locked:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        path.chmod(0o644)


def _flac_state(path: Path) -> dict:
    from mutagen.flac import FLAC

    flac = FLAC(str(path))
    samples, _ = sf.read(str(path), dtype="int32")
    return {
        "md5": flac.info.md5_signature,
        "samples": hashlib.sha256(samples.tobytes()).hexdigest(),
        "tags": {k.lower(): v for k, v in (flac.tags or {}).as_dict().items()},
    }


def _flac_test(path: Path):
    if shutil.which("flac") is None:
        return
    done = subprocess.run(["flac", "-t", "-s", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_plugin_loads_without_heavy_modules(tmp_path):
    """Loading the plugin must not import numpy's heavy users: the analysis loads on first use."""
    code = (
        "import sys, beets.plugins\n"
        "from beets import config\n"
        "config['plugins'] = ['penthy']\n"
        "beets.plugins.load_plugins()\n"
        "assert [p.name for p in beets.plugins.find_plugins()] == ['penthy']\n"
        "heavy = [m for m in ('soundfile', 'onnxruntime', 'penthy_model.analyze', 'penthy_model.inference')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    env = dict(os.environ, BEETSDIR=str(tmp_path), HOME=str(tmp_path),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.usefixtures("no_media_field")
class TestStoredResults(PenthyHelper):
    """What the database holds stays true: beets' own commands never erase a score, and a
    score is redone when the audio, the model or the engine that made it changed."""

    plugin_config = {"write_tag": True}

    def touch(self, path: Path, seconds: float = 10):
        os.utime(path, (os.path.getatime(path), os.path.getmtime(path) + seconds))

    def out(self, capsys, *args) -> str:
        capsys.readouterr()
        self.run_command(*args)
        return capsys.readouterr().out

    def test_update_keeps_a_score_whose_file_has_no_tag(self, capsys):
        folder = self.album("A", "genuine1", "fake1")
        self.import_asis(folder)  # import.write is off: the files have no PENTHY tag
        before = {t: self.item(t).penthy for t in ("genuine1", "fake1")}
        (album,) = self.lib.albums("album:A")
        min_before = album.penthy_min
        for path in folder.iterdir():
            assert MediaFile(str(path)).penthy is None
            self.touch(path)
        self.run_command("update")
        assert {t: self.item(t).penthy for t in before} == before
        assert self.titles("penthy:..0.5") == {"fake1"}
        (album,) = self.lib.albums("album:A")
        assert album.penthy_min == min_before == before["fake1"]
        # Touching a FLAC does not change its audio: nothing to redo.
        assert "nothing to analyse" in self.out(capsys, "penthy")

    def test_queries_do_not_crash_on_a_null_score(self):
        self.import_asis(self.album("A", "genuine1", "fake1"))
        item = self.item("fake1")
        item["penthy"] = None  # what `beet update` stored before this was fixed
        item["penthy_cutoff"] = None
        item.store()
        (album,) = self.lib.albums("album:A")
        album["penthy_min"] = None
        album.store(inherit=False)
        assert self.titles("penthy:..0.5") == set()
        assert self.titles("penthy:0.5..") == {"genuine1"}
        assert self.titles("penthy_cutoff:..30000") == {"genuine1"}
        assert list(self.lib.albums("penthy_min:..0.5")) == []
        # and the track whose score went missing is scored again
        self.run_command("penthy")
        assert self.titles("penthy:..0.5") == {"fake1"}

    def test_replaced_file_is_analysed_again(self, capsys):
        folder = self.album("A", "genuine1", "genuine2")
        self.import_asis(folder)
        assert self.titles("penthy_verdict:lossless") == {"genuine1", "genuine2"}
        path = Path(os.fsdecode(self.item("genuine1").path))
        shutil.copy(self.audio["fake1"], path)  # a transcode of it takes its place
        _tag(path, title="genuine1", artist="Artist", album="A", albumartist="Artist", track=1)
        self.touch(path)
        self.run_command("update")
        out = self.out(capsys, "penthy")
        assert "nothing to analyse" not in out and "1 analysed" in out
        assert self.item("genuine1").penthy_verdict == "transcoded"
        (album,) = self.lib.albums("album:A")
        assert album.penthy_min == self.item("genuine1").penthy < 0.3

    def test_new_engine_version_triggers_reanalysis(self, capsys, monkeypatch):
        import penthy_model
        from penthy_model import analyze

        self.import_asis(self.album("A", "genuine1"))
        item = self.item("genuine1")
        assert item.penthy_engine == penthy_model.__version__
        assert "nothing to analyse" in self.out(capsys, "penthy")
        monkeypatch.setattr(penthy_model, "__version__", "99.0")
        monkeypatch.setattr(analyze, "ENGINE", "99.0")
        assert "1 analysed" in self.out(capsys, "penthy")
        assert self.item("genuine1").penthy_engine == "99.0"

    def test_write_puts_a_new_score_in_the_file(self, capsys):
        folder = self.album("A", "genuine1")
        path = next(folder.iterdir())
        self.import_asis(folder)
        # beet modify writes the file (import.write is off here: say -w)
        self.run_command("modify", "-y", "-w", "penthy=0.2", "title:genuine1")
        assert MediaFile(str(path)).penthy == 0.2
        # a score changed in the database only: `beet penthy -w` puts it in the file
        # without analysing anything again
        item = self.item("genuine1")
        item.penthy = 0.1234
        item.store()
        out = self.out(capsys, "penthy", "-w")
        assert MediaFile(str(path)).penthy == 0.1234
        assert "1 tag written" in out
        # beet write -f does too
        item.penthy = 0.4321
        item.store()
        self.run_command("write", "-f")
        assert MediaFile(str(path)).penthy == 0.4321
        _flac_test(path)

    def test_beets_writing_a_wav_does_not_make_it_stale(self, capsys, tmp_path):
        wav = tmp_path / "song.wav"
        x, sr = sf.read(str(self.audio["genuine1"]), dtype="float32")
        sf.write(str(wav), x, sr, subtype="PCM_16")
        folder = self.import_path / "W"
        folder.mkdir()
        shutil.copy(wav, folder / "song.wav")
        self.import_asis(folder)
        (item,) = self.lib.items("format:WAVE")
        assert item.penthy_audio.startswith("stat:")
        self.run_command("modify", "-y", "-w", "comments=retagged", "format:WAVE")
        assert MediaFile(str(folder / "song.wav")).penthy == item.penthy
        assert "nothing to analyse" in self.out(capsys, "penthy")
        # a replaced WAV (other size) is analysed again
        sf.write(str(folder / "song.wav"), x[: len(x) // 2 * 2 - 4410], sr, subtype="PCM_16")
        assert "1 analysed" in self.out(capsys, "penthy")


class TestSummary(PenthyHelper):
    def test_summary_counts_a_small_library(self, capsys, monkeypatch):
        self.import_asis(self.album("Mixed", "genuine1", "fake1", "lossy"), self.album("Clean", "genuine2"),
                         self.album("Fake", "fake2", "fake3"))
        self.config["penthy"]["auto"] = False
        self.import_asis(self.album("New", "genuine3"))
        item = self.item("genuine2")
        item.penthy_model = "tiny-test-0"  # scored by an older model
        item.store()
        fake = self.item("fake3")
        fake.penthy_codec = "aac"
        fake.store()
        from penthy_model.analyze import Analyzer

        monkeypatch.setattr(Analyzer, "analyze", lambda *a: pytest.fail("--summary analysed a file"))
        capsys.readouterr()
        self.run_command("penthy", "--summary")
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == "penthy: 6 lossless tracks of 7 matched"
        assert lines[1] == "  verdicts: 2 lossless, 3 transcoded, 1 not yet scored"
        assert lines[2] == "  codecs:   2 mp3, 1 aac"  # the engine names the MP3 grid of the two MP3 fakes
        assert lines[3].startswith("  stale:    1 scored by another model")
        assert lines[4] == "  albums with suspects, worst first:"
        assert lines[5].split() == ["100%", "Artist", "-", "Fake", "(2", "of", "2", "tracks", "transcoded)"]
        assert lines[6].split()[:4] == ["50%", "Artist", "-", "Mixed"] and len(lines) == 7
        capsys.readouterr()
        self.run_command("penthy", "--summary", "album:Clean")
        out = capsys.readouterr().out
        assert "1 lossless track of 1 matched" in out and "albums with suspects: none" in out


def test_front_ends_do_not_import_each_other():
    plugin = (ROOT / "beetsplug" / "penthy.py").read_text()
    cli = (ROOT / "penthy_model" / "cli.py").read_text()
    assert "penthy_model.cli" not in plugin and "from .cli" not in plugin
    assert "beetsplug" not in cli and "beets" not in cli
