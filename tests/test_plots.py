"""Pictures (penthy_model.plots), the HTML report (penthy_model.report) and their CLI options."""

from __future__ import annotations

import base64
import os
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from helpers import music, write_flac
from penthy_model import cli, plots
from penthy_model.analyze import Analyzer
from penthy_model.report import write_report
from penthy_model.result import ERROR, INCONCLUSIVE, LOSSLESS, TRANSCODED, Result

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BAND_KHZ = (17.5, 20.5)  # above a 128k MP3's cutoff (~16.9 kHz), below the genuine file's top


@pytest.fixture(scope="module")
def analysed(pair, model_path):
    analyzer = Analyzer(model_path)
    return [analyzer.analyze(p) for p in pair]


@pytest.fixture(scope="module")
def pictures(analysed, tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("pictures")
    return [plots.save_plot(r, out) for r in analysed]


@pytest.fixture
def no_matplotlib(monkeypatch):
    """Make ``import matplotlib`` fail, as on an install without the plots extra."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def band_brightness(png: Path, result: Result, low_khz: float, high_khz: float) -> float:
    """Mean luminance (0..1) of the spectrogram's pixels between two frequencies.

    Only columns inside the windows count, not the blank gaps between them.
    """
    import matplotlib.image

    pixels = matplotlib.image.imread(png)[..., :3]
    height, width = pixels.shape[:2]
    left, bottom, w, h = plots.layout(result).spectrum  # narrower beside a codec grid's proof
    nyquist = result.sample_rate / 2000.0
    count, gap = len(result.window_starts), plots.WINDOW_GAP

    def row(khz):  # image rows count from the top, the axes from the bottom
        return int(round(height * (1.0 - (bottom + h * khz / nyquist))))

    def column(x):  # x in windows, from the axes' left edge
        return int(round(width * (left + w * x / count)))

    band = pixels[row(high_khz):row(low_khz)]
    spans = [band[:, column(i + gap) + 2:column(i + 1 - gap) - 2] for i in range(count)]
    band = np.concatenate(spans, axis=1)
    assert band.size > 0
    return float((band @ np.array([0.2126, 0.7152, 0.0722], dtype=band.dtype)).mean())


class Rows(HTMLParser):
    """Collects the report's table rows, every src/href, and the text of each row."""

    def __init__(self):
        super().__init__()
        self.rows, self.links, self.images, self.in_body = [], [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if name in attrs:
                self.links.append(attrs[name])
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.rows.append({"class": attrs.get("class"), "text": ""})
        elif tag == "img" and self.in_body:
            self.images.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False

    def handle_data(self, data):
        if self.in_body and self.rows:
            self.rows[-1]["text"] += data


def parse(html_path: Path) -> Rows:
    parser = Rows()
    parser.feed(html_path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def assert_self_contained(parsed: Rows):
    for link in parsed.links:
        assert not link.lower().startswith(("http://", "https://", "//")), link
        assert link.startswith("data:") or link == "", link


# --- pictures ----------------------------------------------------------------------

def test_picture_opens_with_the_expected_size(pictures, analysed):
    import matplotlib.image

    for picture, result in zip(pictures, analysed):
        assert picture.read_bytes()[:8] == PNG_SIGNATURE
        assert matplotlib.image.imread(picture).shape[:2] == (plots.HEIGHT_PX, plots.WIDTH_PX)
        assert picture.stat().st_size < 300 * 1024
        assert picture.name.startswith(Path(result.path).stem + "-")


def test_mp3_twin_is_dark_above_its_cutoff(pictures, analysed):
    genuine, fake = analysed
    assert fake.cutoff_hz < BAND_KHZ[0] * 1000 < BAND_KHZ[1] * 1000 < genuine.cutoff_hz
    bright = band_brightness(pictures[0], genuine, *BAND_KHZ)
    dark = band_brightness(pictures[1], fake, *BAND_KHZ)
    # the same music below 16 kHz: the two pictures look alike there
    low_g = band_brightness(pictures[0], genuine, 8.0, 14.0)
    low_f = band_brightness(pictures[1], fake, 8.0, 14.0)
    assert low_g > 0.03 and abs(low_g - low_f) < 0.25 * low_g, (low_g, low_f)
    # above the cutoff the genuine file stays as bright as below it, the twin goes black
    assert bright > 0.5 * low_g, (bright, low_g)
    assert dark < 0.2 * low_f, (dark, low_f)
    assert bright > 5 * dark, (bright, dark)


def test_no_picture_without_windows(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "pictures"
    assert plots.save_plot(Result(str(tmp_path / "gone.flac"), ERROR, reason="cannot open"), out) is None
    short = write_flac(tmp_path / "short.flac", music(0.2))
    assert plots.save_plot(Result(str(short), INCONCLUSIVE, reason="too short"), out) is None
    assert not out.exists() or not any(out.iterdir())


def test_picture_names_are_safe_and_distinct(tmp_path):
    odd = os.fsdecode(b"/music/a/Caf\xe9 <live> $1.flac")
    name = plots.plot_name(odd)
    assert name.endswith(".png") and name.startswith("Caf_live_1-")
    assert all(c.isalnum() or c in "._-" for c in name)
    assert plots.plot_name("/music/a/01.flac") != plots.plot_name("/music/b/01.flac")


def test_non_utf8_name_draws(tmp_path, analysed):
    pytest.importorskip("matplotlib")
    if sys.platform == "darwin":
        pytest.skip("macOS file systems refuse names that are not UTF-8")
    source = os.fsencode(analysed[1].path)
    odd = os.path.join(os.fsencode(str(tmp_path)), b"tr\xe9s $x$.flac")
    with open(source, "rb") as src, open(odd, "wb") as dst:
        dst.write(src.read())
    result = Result(os.fsdecode(odd), TRANSCODED, score=0.1, cutoff_hz=16900)
    picture = plots.save_plot(result, tmp_path / "out")
    assert picture is not None and picture.read_bytes()[:8] == PNG_SIGNATURE


def test_missing_matplotlib_says_how_to_get_it(no_matplotlib, analysed, tmp_path):
    assert not plots.available()
    with pytest.raises(plots.PlotsUnavailable, match=r"pip install 'penthy\[plots\]'") as caught:
        plots.save_plot(analysed[0], tmp_path)
    assert isinstance(caught.value, ImportError)


# --- the report ----------------------------------------------------------------------

def mixed_results(analysed) -> list[Result]:
    genuine, fake = analysed
    return [
        genuine,
        Result("/music/<img src=http://example.com/x.png>.flac", ERROR, reason="cannot open <file>"),
        Result("/music/hires.flac", INCONCLUSIVE, score=0.5, bits=24, bits_effective=16, upsampled_from=44100,
               reason="score 0.50 is between the thresholds"),
        Result("/music/quiet.flac", LOSSLESS, score=0.8),
        fake,
    ]


def test_report_rows_pictures_and_no_outside_links(analysed, pictures, tmp_path):
    results = mixed_results(analysed)
    page = write_report(results, tmp_path / "report.html", {r.path: p for r, p in zip(analysed, pictures)})
    parsed = parse(page)
    assert len(parsed.rows) == len(results)
    assert [row["class"] for row in parsed.rows] == [TRANSCODED, ERROR, INCONCLUSIVE, LOSSLESS, LOSSLESS]
    assert "genuine.flac" in parsed.rows[-1]["text"]  # lossless rows by score, lowest first
    assert len(parsed.images) == 2
    for src in parsed.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_SIGNATURE
    assert_self_contained(parsed)
    text = page.read_text(encoding="utf-8")
    assert "<img src=http" not in text and "&lt;img src=http://example.com/x.png&gt;" in text
    assert "from 44.1 kHz" in parsed.rows[2]["text"] and "24 / 16" in parsed.rows[2]["text"]
    assert "<link" not in text and "<script src" not in text and "@import" not in text


def test_report_without_matplotlib(no_matplotlib, analysed, tmp_path):
    page = write_report(mixed_results(analysed), tmp_path / "sub" / "report.html")
    parsed = parse(page)
    assert len(parsed.rows) == 5 and not parsed.images
    assert "penthy[plots]" in page.read_text(encoding="utf-8")
    assert_self_contained(parsed)


# --- the CLI -------------------------------------------------------------------------

def test_cli_plot_and_report(pair, model_path, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out, page = tmp_path / "pictures", tmp_path / "report.html"
    code = cli.main([*map(str, pair), "--plot", str(out), "--report", str(page), "--model", str(model_path)])
    assert code == cli.EXIT_TRANSCODED
    assert sorted(p.suffix for p in out.iterdir()) == [".png", ".png"]
    parsed = parse(page)
    assert len(parsed.rows) == 2 and len(parsed.images) == 2
    assert parsed.rows[0]["class"] == TRANSCODED
    assert "report written" in capsys.readouterr().err


def test_cli_plot_without_matplotlib_stops_first(no_matplotlib, pair, model_path, tmp_path, capsys):
    out = tmp_path / "pictures"
    code = cli.main([str(pair[0]), "--plot", str(out), "--model", str(model_path)])
    captured = capsys.readouterr()
    assert code == cli.EXIT_ERROR
    assert "pip install 'penthy[plots]'" in captured.err
    assert captured.out == "" and not out.exists()  # nothing was analysed


def test_cli_report_without_matplotlib(no_matplotlib, pair, model_path, tmp_path, capsys):
    page = tmp_path / "report.html"
    code = cli.main([*map(str, pair), "--report", str(page), "--model", str(model_path)])
    assert code == cli.EXIT_TRANSCODED
    parsed = parse(page)
    assert len(parsed.rows) == 2 and not parsed.images
    assert capsys.readouterr().err.count("penthy[plots]") == 1
