"""One self-contained HTML page for a scan: a row per file, suspects first.

:func:`write_report` needs no plotting library. Pictures made by
:func:`penthy_model.plots.save_plot` are embedded as ``data:`` URIs when given, so the
page can be mailed or archived as one file; it loads nothing from anywhere (a
Content-Security-Policy in the page forbids it), and its columns sort with a few lines
of inline JavaScript.
"""

from __future__ import annotations

import base64
import html
import math
import os
import time
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping

from .plots import INSTALL_HINT, printable, proof_grid
from .result import ERROR, INCONCLUSIVE, LOSSLESS, TRANSCODED, Result, explain

# Suspects first: transcoded, then files that could not be read, then the undecided.
VERDICT_RANK = {TRANSCODED: 0, ERROR: 1, INCONCLUSIVE: 2, LOSSLESS: 3}
TITLE = "penthy report"
THUMB_WIDTH_PX = 240
DASH = "–"

# (heading, sort type, tooltip); the sort type is "num" or "text".
COLUMNS = [
    ("#", "num", "order of suspicion"),
    ("File", "text", "file name and folder"),
    ("Verdict", "num", "transcoded, error, inconclusive, lossless"),
    ("Score", "num", "0 = transcoded, 1 = lossless"),
    ("Cutoff", "num", "highest frequency with content"),
    ("Bits", "num", "bit depth as stored / bits really used"),
    ("Rate", "num", "sample rate"),
    ("Upsampled", "num", "the lower rate a hi-res file was made from"),
    ("Reason", "text", "why: the evidence of a transcode, or why the verdict is inconclusive or an error"),
]
PICTURE_COLUMN = ("Picture", None, "spectrogram of the analysed windows; click to enlarge")

CSS = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .2em; }
.summary { color: #555; margin-bottom: 1em; }
.summary b { color: #222; }
.note { background: #fff8e1; border: 1px solid #f0d98c; padding: .4em .7em; display: inline-block; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .35em .6em; text-align: left; vertical-align: middle; }
th { background: #f3f3f3; position: sticky; top: 0; cursor: pointer; user-select: none; white-space: nowrap; }
th.nosort { cursor: default; }
th[aria-sort=ascending]::after { content: " \\25B2"; font-size: .8em; }
th[aria-sort=descending]::after { content: " \\25BC"; font-size: .8em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.file { word-break: break-all; }
td.file small { color: #777; }
tr.transcoded td.verdict { color: #c62828; font-weight: bold; }
tr.error td.verdict { color: #555; font-weight: bold; }
tr.inconclusive td.verdict { color: #8d6e00; font-weight: bold; }
tr.lossless td.verdict { color: #2e7d32; font-weight: bold; }
tr.transcoded { background: #fff4f4; }
.flag { color: #c62828; font-weight: bold; }
img.thumb { width: THUMB_WIDTHpx; height: auto; cursor: zoom-in; display: block; border: 1px solid #ccc; }
#zoom { display: none; position: fixed; inset: 0; background: rgba(0,0,0,.85); cursor: zoom-out;
        align-items: center; justify-content: center; z-index: 10; }
#zoom.open { display: flex; }
#zoom img { max-width: 96vw; max-height: 96vh; background: #fff; }
""".replace("THUMB_WIDTH", str(THUMB_WIDTH_PX))

SCRIPT = """
(function () {
  var table = document.getElementById('results'), body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  function value(row, col, num) {
    var key = row.cells[col].getAttribute('data-key');
    if (!num) return key.toLowerCase();
    return key === '' ? null : parseFloat(key);
  }
  function sortBy(col) {
    var th = heads[col], num = th.getAttribute('data-type') === 'num';
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, col, num), y = value(b, col, num);
      if (x === null || y === null) return x === y ? 0 : (x === null ? 1 : -1);  /* blanks last */
      return (x < y ? -1 : x > y ? 1 : 0) * dir || value(a, 0, true) - value(b, 0, true);
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var i = 0; i < heads.length; i++) heads[i].removeAttribute('aria-sort');
    th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
  }
  for (var i = 0; i < heads.length; i++) {
    if (heads[i].getAttribute('data-type')) heads[i].addEventListener('click', sortBy.bind(null, i));
  }
  var zoom = document.getElementById('zoom'), big = zoom.querySelector('img');
  body.addEventListener('click', function (e) {
    if (!e.target.classList.contains('thumb')) return;
    big.src = e.target.src; big.alt = e.target.alt; zoom.classList.add('open');
  });
  zoom.addEventListener('click', function () { zoom.classList.remove('open'); });
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') zoom.classList.remove('open'); });
})();
"""

NO_PICTURES = ('<p class="note">No spectrogram pictures in this report: they need matplotlib '
               f"(<code>{html.escape(INSTALL_HINT)}</code>).</p>")

# Nothing may be fetched: images only from data: URIs, style and script only inline.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def sort_key(result: Result):
    """Suspects first; within a verdict, the lowest score first."""
    score = result.score if result.score is not None and math.isfinite(result.score) else math.inf
    return VERDICT_RANK.get(result.verdict, len(VERDICT_RANK)), score, result.path


def write_report(results: Iterable[Result], out_path, pictures: Mapping[str, Path] | None = None) -> Path:
    """Write the HTML report of ``results`` to ``out_path`` and return its path.

    ``pictures`` maps a result's ``path`` to its PNG (from ``save_plot``); files without
    one get no thumbnail, and pictures that cannot be read are left out.
    """
    rows = sorted(results, key=sort_key)
    pictures = pictures or {}
    with_pictures = any(r.path in pictures for r in rows)
    columns = COLUMNS + [PICTURE_COLUMN] if with_pictures else COLUMNS
    body = [_row(i, r, pictures.get(r.path), with_pictures) for i, r in enumerate(rows, 1)]
    page = "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{TITLE}</title>",
        f"<style>{CSS}</style>",
        "</head><body>",
        f"<h1>{TITLE}</h1>",
        _summary(rows),
        "" if with_pictures else NO_PICTURES,
        '<table id="results"><thead><tr>',
        "".join(_heading(*c) for c in columns),
        "</tr></thead><tbody>",
        *body,
        "</tbody></table>",
        '<div id="zoom" title="click or press Escape to close"><img alt=""></div>',
        f"<script>{SCRIPT}</script>",
        "</body></html>",
        "",
    ])
    out = Path(out_path)
    if out.parent != Path(""):
        out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out


def _esc(value) -> str:
    return html.escape(printable(str(value)), quote=True)


def _heading(title: str, sort: str | None, tip: str) -> str:
    if sort is None:
        return f'<th class="nosort" title="{_esc(tip)}">{_esc(title)}</th>'
    return f'<th data-type="{sort}" title="{_esc(tip)} (click to sort)">{_esc(title)}</th>'


def _summary(rows: list[Result]) -> str:
    counts = Counter(r.verdict for r in rows)
    parts = [f"<b>{counts.get(v, 0)}</b> {v}" for v in (TRANSCODED, ERROR, INCONCLUSIVE, LOSSLESS)]
    models = sorted({r.model for r in rows if r.model})
    model = f" · model {_esc(', '.join(models))}" if models else ""
    stamp = time.strftime("%Y-%m-%d %H:%M")
    return (f'<p class="summary">{len(rows)} files: {", ".join(parts)}{model} · made {_esc(stamp)}. '
            "Click a heading to sort; click a picture to enlarge it.</p>")


def _cell(text: str, key="", cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<td{klass} data-key="{_esc(key)}">{text}</td>'


def _khz(hz) -> str:
    return f"{hz / 1000:g} kHz"


def _row(rank: int, r: Result, picture: Path | None, with_pictures: bool) -> str:
    name, folder = os.path.basename(r.path), os.path.dirname(r.path)
    finite = r.score is not None and math.isfinite(r.score)
    reason = explain(r)
    cells = [
        _cell(str(rank), rank, "num"),
        _cell(f"<b>{_esc(name)}</b><br><small>{_esc(folder)}</small>", r.path, "file"),
        _cell(_esc(r.verdict), VERDICT_RANK.get(r.verdict, len(VERDICT_RANK)), "verdict"),
        _cell(f"{r.score:.3f}" if finite else DASH, f"{r.score:.6f}" if finite else "", "num"),
        _cell(f"{r.cutoff_hz / 1000:.1f} kHz" if r.cutoff_hz else DASH, r.cutoff_hz or "", "num"),
        _bits_cell(r),
        _cell(_khz(r.sample_rate) if r.sample_rate else DASH, r.sample_rate or "", "num"),
        _cell(f'<span class="flag">from {_khz(r.upsampled_from)}</span>' if r.upsampled_from else DASH,
              r.upsampled_from or "", "num"),
        _cell(_esc(reason) if reason else "", reason or ""),
    ]
    if with_pictures:
        grid = proof_grid(r)
        what = "spectrogram" if grid is None else f"spectrogram and {grid[0]} grid {grid[1]}"
        cells.append(f"<td>{_thumbnail(picture, f'{what} of {name}')}</td>")
    return f'<tr class="{_esc(r.verdict)}">{"".join(cells)}</tr>'


def _bits_cell(r: Result) -> str:
    if not r.bits:
        return _cell(DASH, "", "num")
    if r.bits_effective and r.bits_effective < r.bits:
        tip = f"padded: only {r.bits_effective} bits used"
        text = f'{r.bits} / <span class="flag" title="{tip}">{r.bits_effective}</span>'
    else:
        text = f"{r.bits} / {r.bits_effective or DASH}"
    return _cell(text, r.bits_effective or r.bits, "num")


def _thumbnail(picture: Path | None, alt: str) -> str:
    if picture is None:
        return DASH
    try:
        data = Path(picture).read_bytes()
    except OSError:
        return DASH
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return f'<img class="thumb" src="{uri}" alt="{_esc(alt)}" loading="lazy">'
