"""penthy for beets: score lossless files for signs of a lossy past.

Every lossless item gets typed flexible fields (``penthy`` the score, ``penthy_verdict``,
``penthy_cutoff``, ``penthy_bits``, ``penthy_upsampled_from``, ``penthy_model``), albums
get ``penthy_min`` and ``penthy_transcoded``. Scoring happens on import (``auto``) and
with ``beet penthy [QUERY]``.

This module is imported on every ``beet`` start, so it imports nothing heavy: numpy,
soundfile, onnxruntime and the analysis code load on first use.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass

from beets import importer, ui, util
from beets.dbcore import types
from beets.plugins import BeetsPlugin

# Item fields and the Result attribute each one mirrors.
RESULT_FIELDS = (
    ("penthy", "score"),
    ("penthy_verdict", "verdict"),
    ("penthy_cutoff", "cutoff_hz"),
    ("penthy_bits", "bits_effective"),
    ("penthy_upsampled_from", "upsampled_from"),
    ("penthy_model", "model"),
)
LOSSLESS, TRANSCODED, INCONCLUSIVE, ERROR = "lossless", "transcoded", "inconclusive", "error"
ON_TRANSCODED = ("warn", "ask", "skip")
# What users may write in `formats`, mapped to the names beets gives `item.format`.
FORMAT_ALIASES = {"WAV": "WAVE", "AIF": "AIFF", "AIFC": "AIFF"}
TAG_NAME = "PENTHY"
TAG_FLOAT_PLACES = 4


@dataclass(frozen=True)
class Settings:
    """The plugin's configuration, checked."""

    auto: bool
    force: bool
    threads: int
    write_tag: bool
    threshold: float | dict | None
    formats: frozenset
    model: str | None
    on_transcoded: str


def _error(message: str) -> ui.UserError:
    return ui.UserError(f"penthy: {message}")


def _as_bool(view, name: str) -> bool:
    value = view[name].get()
    if isinstance(value, bool):
        return value
    raise _error(f"`{name}` must be yes or no, not {value!r}")


def _normal_format(name: str) -> str:
    name = str(name).strip().upper()
    return FORMAT_ALIASES.get(name, name)


def read_settings(view) -> Settings:
    """Check the `penthy:` section; any problem is a UserError naming the option."""
    import confuse

    try:
        auto = _as_bool(view, "auto")
        force = _as_bool(view, "force")
        write_tag = _as_bool(view, "write_tag")

        threads = view["threads"].get()
        if threads == "auto":
            threads = os.cpu_count() or 1
        elif isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise _error(f"`threads` must be a whole number of at least 1 or `auto`, not {threads!r}")

        threshold = view["threshold"].get()
        if threshold is not None:
            threshold = _check_threshold(threshold)

        raw_formats = view["formats"].get()
        if isinstance(raw_formats, str):
            raw_formats = raw_formats.replace(",", " ").split()
        if not isinstance(raw_formats, list) or not raw_formats or \
                not all(isinstance(f, str) and f.strip() for f in raw_formats):
            raise _error(f"`formats` must be a list of format names such as FLAC, not {raw_formats!r}")
        formats = frozenset(_normal_format(f) for f in raw_formats)

        model = None
        if view["model"].get() is not None:
            if not isinstance(view["model"].get(), str):
                raise _error(f"`model` must be a path to an .onnx file, not {view['model'].get()!r}")
            model = view["model"].as_filename()
            if not os.path.isfile(model):
                raise _error(f"`model`: no such file: {model}")

        on_transcoded = view["on_transcoded"].get()
        if on_transcoded not in ON_TRANSCODED:
            raise _error(f"`on_transcoded` must be one of {', '.join(ON_TRANSCODED)}, not {on_transcoded!r}")
    except confuse.ConfigError as exc:
        raise _error(str(exc)) from None
    return Settings(auto, force, threads, write_tag, threshold, formats, model, on_transcoded)


def _check_threshold(value):
    def number(v, what):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            raise _error(f"`{what}` must be a number between 0 and 1, not {v!r}")
        return float(v)

    if isinstance(value, dict):
        unknown = set(value) - {"transcoded", "lossless"}
        if unknown:
            raise _error(f"`threshold` takes `transcoded` and `lossless`, not {', '.join(sorted(map(str, unknown)))}")
        out = {k: number(v, f"threshold.{k}") for k, v in value.items()}
        if "transcoded" in out and "lossless" in out and out["transcoded"] > out["lossless"]:
            raise _error("`threshold.transcoded` must not be above `threshold.lossless`")
        return out
    return number(value, "threshold")


def media_field():
    """The file tag: a float with 4 decimals in every tag format mediafile knows."""
    from mediafile import (ASFStorageStyle, MediaField, MP3DescStorageStyle, MP4StorageStyle,
                           StorageStyle)

    return MediaField(
        MP3DescStorageStyle(TAG_NAME, float_places=TAG_FLOAT_PLACES),
        MP4StorageStyle(f"----:com.apple.iTunes:{TAG_NAME}", float_places=TAG_FLOAT_PLACES),
        StorageStyle(TAG_NAME, float_places=TAG_FLOAT_PLACES),
        ASFStorageStyle(TAG_NAME, float_places=TAG_FLOAT_PLACES),
        out_type=float,
    )


def analyse_items(analyzer, items, jobs: int):
    """Yield (item, Result) in the order of ``items``, ``jobs`` files at a time.

    The engine's ``analyze_many`` does the work: a bounded queue that stops at once when
    this generator is closed, and an error result, never an exception, for a bad file.
    """
    items = list(items)
    results = analyzer.analyze_many([util.syspath(item.path) for item in items], jobs)
    try:
        yield from zip(items, results)
    finally:
        results.close()


def apply_result(item, result) -> None:
    """Copy a result into the item's fields (an error result changes nothing)."""
    if result.verdict == ERROR:
        return
    for field, attr in RESULT_FIELDS:
        value = getattr(result, attr)
        if value is None:
            if field in item:
                del item[field]
        else:
            item[field] = value


def scored_by(item, version: str) -> bool:
    return item.get("penthy_verdict") is not None and item.get("penthy_model") == version


def album_summary(album) -> dict:
    """The album fields from its items' stored results (None: no item scored)."""
    scores, verdicts = [], []
    for item in album.items():
        verdict = item.get("penthy_verdict")
        if verdict is None:
            continue
        verdicts.append(verdict)
        if item.get("penthy") is not None:
            scores.append(item["penthy"])
    return {
        "penthy_min": min(scores) if scores else None,
        "penthy_transcoded": round(verdicts.count(TRANSCODED) / len(verdicts), 4) if verdicts else None,
    }


def update_album(album) -> bool:
    """Store the album's aggregate fields; True when they changed."""
    changed = False
    for field, value in album_summary(album).items():
        if value is None:
            if field in album:
                del album[field]
                changed = True
        elif album.get(field) != value:
            album[field] = value
            changed = True
    if changed:
        # inherit=False: Album.store would otherwise copy these flexible fields to every track.
        album.store(inherit=False)
    return changed


def _facts(result) -> str:
    facts = result.facts()
    return f"  ({'; '.join(facts)})" if facts else ""


_COLORS = {LOSSLESS: "text_success", TRANSCODED: "text_error", INCONCLUSIVE: "text_warning",
           ERROR: "text_error"}


def format_line(item, result) -> str:
    verdict = ui.colorize(_COLORS.get(result.verdict, "text"), f"{result.verdict:<12}")
    score = "  -   " if result.score is None else f"{result.score:.4f}"
    return f"{verdict} {score}  {item}{_facts(result)}"


class PenthyPlugin(BeetsPlugin):
    item_types = {
        "penthy": types.NullFloat(4),
        "penthy_verdict": types.STRING,
        "penthy_cutoff": types.NullInteger(),
        "penthy_bits": types.NullInteger(),
        "penthy_upsampled_from": types.NullInteger(),
        "penthy_model": types.STRING,
    }
    album_types = {
        "penthy_min": types.NullFloat(4),
        "penthy_transcoded": types.NullFloat(2),
    }

    def __init__(self):
        super().__init__()
        self.config.add({
            "auto": True,
            "force": False,
            "threads": "auto",
            "write_tag": False,
            "threshold": None,
            "formats": ["FLAC", "WAV", "AIFF"],
            "model": None,
            "on_transcoded": "warn",
        })
        self._analyzer = None
        self._analyzer_key = None
        self._analyzer_lock = threading.Lock()
        self._import_settings = None
        # Results computed before the user's choice (on_transcoded: ask/skip), by path.
        self._early = {}
        self._early_lock = threading.Lock()

        # Nothing here may raise: an exception in __init__ disables the plugin. A bad
        # `write_tag` is reported when a command or an import starts.
        try:
            write_tag = self.config["write_tag"].get() is True
        except Exception:  # noqa: BLE001
            write_tag = False
        if write_tag:
            try:
                self.add_media_field("penthy", media_field())
            except ValueError:
                pass  # already registered (the plugin was loaded twice in one process)
            # `beet write` only writes files whose tags in this (static) set differ from the
            # database; add_media_field does not add to it, so a new score alone would not be
            # written without `-f`.
            from beets.library import Item

            tag_fields = getattr(Item, "_media_tag_fields", None)
            if isinstance(tag_fields, set):
                tag_fields.add("penthy")

        self.import_stages = [self.import_stage]
        self.register_listener("import_begin", self.import_begin)
        self.register_listener("import_task_created", self.import_task_created)
        self.register_listener("import_task_before_choice", self.before_choice)
        self.register_listener("import_task_files", self.import_task_files)

    # -- shared ---------------------------------------------------------------------------

    def settings(self) -> Settings:
        return read_settings(self.config)

    def analyzer(self, settings: Settings):
        """The Analyzer for the configured model and thresholds (one per process)."""
        key = (settings.model, repr(settings.threshold))
        with self._analyzer_lock:
            if self._analyzer is None or self._analyzer_key != key:
                from penthy_model.analyze import Analyzer
                from penthy_model.inference import ModelError

                try:
                    analyzer = Analyzer(settings.model, threads=1)
                except ModelError as exc:
                    raise _error(f"{exc} (set `penthy.model` to a trained model)") from None
                if settings.threshold is not None:
                    try:  # a `transcoded` of one's own applies to every file, with evidence or not
                        analyzer.policy = analyzer.policy.with_threshold(settings.threshold)
                    except ValueError as exc:
                        raise _error(f"`threshold`: {exc}") from None
                self._analyzer, self._analyzer_key = analyzer, key
            return self._analyzer

    def load_model(self, settings: Settings):
        """The analyzer with its onnxruntime session loaded, so a broken model fails now."""
        from penthy_model.inference import ModelError

        analyzer = self.analyzer(settings)
        try:
            analyzer.model.session  # noqa: B018 - loads the session
        except ModelError as exc:
            raise _error(str(exc)) from None
        return analyzer

    def write_score(self, item) -> bool:
        """Put the item's score in its file's tag, and change nothing else in the file.

        (``item.write()`` would also rewrite every other tag from the database.) Needs the
        media field, registered when `write_tag` is on.
        """
        from mediafile import MediaFile, UnreadableFileError

        if "penthy" not in MediaFile.__dict__:
            return False
        path = util.syspath(item.path)
        try:
            mf = MediaFile(path)
            if mf.penthy == item.get("penthy"):
                return False
            mf.penthy = item.get("penthy")
            mf.save()
        except (UnreadableFileError, OSError) as exc:
            self._log.error("cannot write the tag of {}: {}", util.displayable_path(item.path), exc)
            return False
        item.mtime = item.current_mtime()  # beets' own writes do this, so `beet update` skips it
        return True

    @staticmethod
    def wanted(item, settings: Settings) -> bool:
        return _normal_format(item.get("format") or "") in settings.formats

    # -- import -----------------------------------------------------------------------------

    def import_begin(self, session):
        settings = self.settings()
        if settings.auto and not session.config["pretend"].get(bool):
            self.load_model(settings)
        self._import_settings = settings
        with self._early_lock:
            self._early.clear()

    def _settings_for_import(self) -> Settings:
        if self._import_settings is None:
            self._import_settings = self.settings()
        return self._import_settings

    def import_task_created(self, session, task):
        """With `on_transcoded: ask` or `skip`, analyse before the user chooses a match."""
        try:
            settings = self._settings_for_import()
            if not settings.auto or settings.on_transcoded == "warn" or session.config["pretend"].get(bool):
                return None
            items = [i for i in task.items if self.wanted(i, settings)]
            if not items:
                return None
            analyzer = self.analyzer(settings)
            found = dict(analyse_items(analyzer, items, settings.threads))
            with self._early_lock:
                for item, result in found.items():
                    self._early[item.path] = result
            suspects = [r for r in found.values() if r.verdict == TRANSCODED]
            if suspects:
                task.penthy_suspects = (suspects, len(found))
                if settings.on_transcoded == "skip":
                    ui.print_(f"{self._task_warning(task, suspects, len(found))}; skipping it "
                              "(penthy.on_transcoded: skip)")
                    task.set_choice(importer.Action.SKIP)
        except Exception as exc:  # noqa: BLE001 - nothing may escape into the importer
            self._log.error("cannot analyse {}: {}", util.displayable_path(task.paths), exc)
        return None

    def before_choice(self, session, task):
        """Show the warning and offer to skip the album (`on_transcoded: ask`)."""
        found = getattr(task, "penthy_suspects", None)
        if not found:
            return None
        try:
            settings = self._settings_for_import()
        except ui.UserError:
            return None
        if settings.on_transcoded != "ask":
            return None
        suspects, count = found
        ui.print_(ui.colorize("text_warning", self._task_warning(task, suspects, count)))
        for result in suspects:
            ui.print_(f"  {result.score:.4f}  {result.path}{_facts(result)}")
        if session.config["quiet"].get(bool):
            return None
        ui.print_()
        choice = ui.input_options(["skip", "continue", "aBort"])
        if choice == "s":
            return importer.Action.SKIP
        if choice == "b":
            raise importer.ImportAbortError()
        return None

    def _task_warning(self, task, suspects, count) -> str:
        first = task.items[0] if task.items else None
        if getattr(task, "is_album", False):
            artist = first and (first.get("albumartist") or first.get("artist"))
            album = first and first.get("album")
            name = f"{artist or '?'} - {album}" if album else util.displayable_path(task.paths[0])
            if count == 1:
                return f"penthy: {name}: its only lossless track looks transcoded"
            return f"penthy: {name}: {len(suspects)} of {count} tracks look transcoded"
        title = first and first.get("title")
        name = f"{first.get('artist') or '?'} - {title}" if title else util.displayable_path(task.paths[0])
        return f"penthy: {name} looks transcoded (score {suspects[0].score:.4f})"

    def import_stage(self, session, task):
        """Score the task's lossless items, store them, warn about transcodes."""
        try:
            settings = self._settings_for_import()
            if not settings.auto:
                return
            items = [i for i in task.imported_items() if self.wanted(i, settings)]
            with self._early_lock:
                early = {i.path: self._early.pop(i.path) for i in items if i.path in self._early}
            if not items:
                return
            analyzer = self.analyzer(settings)
            if not settings.force:
                items = [i for i in items if not scored_by(i, analyzer.model.version)]
            fresh = [i for i in items if i.path not in early]
            by_path = dict(early)
            for item, result in analyse_items(analyzer, fresh, settings.threads):
                by_path[item.path] = result
            suspects, scored = [], 0
            for item in items:
                result = by_path[item.path]
                if result.verdict == ERROR:
                    self._log.error("cannot analyse {}: {}", util.displayable_path(item.path), result.reason)
                    continue
                try:
                    apply_result(item, result)
                    item.store()
                except Exception as exc:  # noqa: BLE001
                    self._log.error("cannot store the result for {}: {}", util.displayable_path(item.path), exc)
                    continue
                scored += 1
                if result.verdict == TRANSCODED:
                    suspects.append(result)
            if task.is_album and task.album is not None:
                update_album(task.album)
            if suspects:
                self._log.warning("{}", self._task_warning(task, suspects, scored).removeprefix("penthy: "))
            else:
                self._log.info("{} files scored, none looks transcoded", scored)
        except Exception as exc:  # noqa: BLE001 - nothing may escape into the importer
            self._log.error("analysis of {} failed: {}", util.displayable_path(task.paths), exc)

    def import_task_files(self, session, task):
        """With `write_tag` and `import.write`, tag the files where they now are.

        The importer writes tags only for matches it applies, not for as-is imports; this
        writes the score (and nothing else) in both cases.
        """
        try:
            settings = self._settings_for_import()
            if not (settings.auto and settings.write_tag and session.config["write"].get(bool)):
                return
            for item in task.imported_items():
                if item.get("penthy") is not None and self.write_score(item):
                    item.store()
        except Exception as exc:  # noqa: BLE001 - nothing may escape into the importer
            self._log.error("cannot write tags for {}: {}", util.displayable_path(task.paths), exc)

    # -- command ----------------------------------------------------------------------------

    def commands(self):
        cmd = ui.Subcommand("penthy", help="score lossless files: genuine or transcoded from lossy?")
        cmd.parser.add_option("-f", "--force", action="store_true", default=None,
                              help="re-analyse items already scored by the current model")
        cmd.parser.add_option("-w", "--write", action="store_true", default=None,
                              help="write the score to the files' tags (needs write_tag: yes)")
        cmd.parser.add_option("-W", "--nowrite", action="store_false", dest="write",
                              help="do not write tags")
        cmd.parser.add_option("-p", "--pretend", action="store_true", default=False,
                              help="analyse and show, but store and write nothing")
        cmd.parser.add_option("-t", "--threads", type="int", default=None, metavar="N",
                              help="files analysed at once (default: config `threads`)")
        cmd.parser.add_option("-q", "--quiet", action="store_true", default=False,
                              help="print only transcoded files, errors and the summary")
        cmd.parser.add_option("--plot", metavar="DIR", default=None,
                              help="save a picture of each analysed file's spectrum in DIR")
        cmd.parser.add_option("--report", metavar="FILE", default=None,
                              help="write an HTML report of the analysed files to FILE")
        cmd.parser.add_album_option()
        cmd.func = self.command
        return [cmd]

    def command(self, lib, opts, args):
        settings = self.settings()
        if opts.threads is not None and opts.threads < 1:
            raise _error("--threads must be at least 1")
        jobs = opts.threads or settings.threads
        force = bool(opts.force) or settings.force
        pretend = opts.pretend
        write = ui.should_write(opts.write) and not pretend
        if write and not settings.write_tag:
            if opts.write:
                self._log.warning("not writing tags: set `penthy.write_tag: yes` to store the score in files")
            write = False
        with_pictures = False
        if opts.plot or opts.report:
            from penthy_model.plots import INSTALL_HINT, available

            with_pictures = available()
            if opts.plot and not with_pictures:
                raise _error(f"--plot needs matplotlib, which is not installed: {INSTALL_HINT}")

        analyzer = self.load_model(settings)
        version = analyzer.model.version

        if opts.album:
            albums = list(lib.albums(args))
            items = [item for album in albums for item in album.items()]
        else:
            items = list(lib.items(args))
        lossless = [i for i in items if self.wanted(i, settings)]
        todo = lossless if force else [i for i in lossless if not scored_by(i, version)]
        skipped = len(lossless) - len(todo)
        if not todo:
            ui.print_(f"penthy: nothing to analyse ({len(items)} items matched, {len(lossless)} lossless, "
                      f"{skipped} already scored by model {version}; -f re-analyses them)")
            return

        from penthy_model.cli import Evidence, Progress

        def expand(path):
            return os.path.abspath(os.path.expanduser(path)) if path else None

        evidence = Evidence(expand(opts.plot), expand(opts.report), with_pictures) if opts.plot or opts.report else None

        counts = {LOSSLESS: 0, TRANSCODED: 0, INCONCLUSIVE: 0, ERROR: 0}
        results = []
        progress = Progress(sys.stderr)
        progress.total = len(todo)
        progress.update(0)
        started = time.monotonic()
        interrupted = False
        stream = analyse_items(analyzer, todo, jobs)
        try:
            for done, (item, result) in enumerate(stream, 1):
                counts[result.verdict] = counts.get(result.verdict, 0) + 1
                results.append(result)
                if not pretend and result.verdict != ERROR:
                    apply_result(item, result)
                    if write:
                        self.write_score(item)
                    item.store()
                if not opts.quiet or result.verdict in (TRANSCODED, ERROR):
                    progress.clear()
                    ui.print_(format_line(item, result))
                if evidence is not None:
                    evidence.add(result)
                progress.update(done)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            stream.close()
            progress.clear()
            if not pretend:
                with lib.transaction():
                    for album_id in sorted({i.album_id for i in todo if i.album_id}):
                        album = lib.get_album(album_id)
                        if album is not None:
                            update_album(album)

        elapsed = time.monotonic() - started
        summary = (f"penthy: {len(results)} analysed in {elapsed:.1f} s: {counts[LOSSLESS]} lossless, "
                   f"{counts[TRANSCODED]} transcoded, {counts[INCONCLUSIVE]} inconclusive, {counts[ERROR]} errors")
        if skipped:
            summary += f"; {skipped} skipped, already scored by model {version} (-f re-analyses them)"
        if pretend:
            summary += "; pretend: nothing stored"
        if interrupted:
            summary += "; interrupted: run the command again to go on"
        ui.print_(summary)
        if evidence is not None and not evidence.finish():
            self._log.error("the pictures or the report could not all be written")
        if interrupted:
            raise KeyboardInterrupt
