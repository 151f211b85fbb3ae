"""penthy for beets: score lossless files for signs of a lossy past.

Every lossless item gets typed flexible fields (``penthy`` the score, ``penthy_verdict``,
``penthy_cutoff``, ``penthy_bits``, ``penthy_upsampled_from``, ``penthy_model``,
``penthy_engine``, and ``penthy_audio``: which audio was scored), albums get
``penthy_min`` and ``penthy_transcoded``. Scoring happens on import (``auto``) and with
``beet penthy [QUERY]``, through one worker (:meth:`PenthyPlugin.plan` and
:meth:`PenthyPlugin.run`); a stored verdict is redone when the model, the engine or the
file's audio changed.

This module is imported on every ``beet`` start, so it imports nothing heavy: numpy,
soundfile, onnxruntime and the analysis code load on first use.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field

from beets import importer, ui, util
from beets.dbcore import types
from beets.dbcore.query import NumericQuery
from beets.plugins import BeetsPlugin

# Item fields and the Result attribute each one mirrors.
RESULT_FIELDS = (
    ("penthy", "score"),
    ("penthy_verdict", "verdict"),
    ("penthy_cutoff", "cutoff_hz"),
    ("penthy_bits", "bits_effective"),
    ("penthy_upsampled_from", "upsampled_from"),
    ("penthy_model", "model"),
    ("penthy_engine", "engine"),
    ("penthy_codec", "codec"),
)
LOSSLESS, TRANSCODED, INCONCLUSIVE, ERROR = "lossless", "transcoded", "inconclusive", "error"
ON_TRANSCODED = ("warn", "ask", "skip")
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
    left_out: tuple = ()  # formats asked for that need the `formats` extra, not installed


@dataclass
class Plan:
    """What one run of the worker has to do."""

    lossless: list  # the items in a format to analyse
    model: str  # the model version
    todo: list = field(default_factory=list)  # (item, audio identity) to analyse
    reasons: dict = field(default_factory=dict)  # why, counted ("not scored", "file changed", ...)


@dataclass
class Outcome:
    """What one run of the worker did."""

    counts: dict = field(default_factory=dict)  # verdict -> files
    tags: dict = field(default_factory=lambda: {True: 0, None: 0})  # tags written, failed
    touched: set = field(default_factory=set)  # album ids whose tracks got a new verdict
    interrupted: bool = False

    def count(self, verdict: str) -> None:
        self.counts[verdict] = self.counts.get(verdict, 0) + 1

    def tag(self, done: bool | None) -> None:
        if done is not False:
            self.tags[done] += 1

    @property
    def analysed(self) -> int:
        return sum(self.counts.values())


def _error(message: str) -> ui.UserError:
    return ui.UserError(f"penthy: {message}")


def _as_bool(view, name: str) -> bool:
    value = view[name].get()
    if isinstance(value, bool):
        return value
    raise _error(f"`{name}` must be yes or no, not {value!r}")


def _check_formats(raw) -> tuple[frozenset, tuple]:
    """The `formats` option: (names to analyse, names left out for want of the extra)."""
    from penthy_model import formats as known_formats

    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    if not isinstance(raw, list) or not raw or not all(isinstance(f, str) and f.strip() for f in raw):
        raise _error(f"`formats` must be a list of format names such as FLAC, not {raw!r}")
    known = known_formats.LOSSLESS_FORMATS
    aliases = {a: n for a, n in known_formats.ALIASES.items() if n in known}
    names = ", ".join(f"{n} ({'/'.join(sorted(a for a, m in aliases.items() if m == n))})"
                      if n in aliases.values() else n for n in known)
    out = set()
    for name in raw:
        normal = known_formats.normal_name(name)
        if normal in known_formats.LOSSY_FORMATS:
            raise _error(f"`formats`: {name} is not a lossless format; the known ones are {names}")
        if normal not in known:
            raise _error(f"`formats`: unknown format {name!r}; the known ones are {names}")
        out.add(normal)
    left_out = ()
    if out & set(known_formats.EXTRA_FORMATS) and not known_formats.extra_available():
        left_out = tuple(sorted(out & set(known_formats.EXTRA_FORMATS)))
        out -= set(left_out)
    return frozenset(out), left_out


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

        formats, left_out = _check_formats(view["formats"].get())

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
    return Settings(auto, force, threads, write_tag, threshold, formats, model, on_transcoded, left_out)


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


class NumberQuery(NumericQuery):
    """beets' numeric query, for a field that may hold NULL: a NULL matches no range
    (beets' own compares it with the bound, a TypeError)."""

    def match(self, obj) -> bool:
        try:
            value = obj[self.field_name]
        except KeyError:
            return False
        return value is not None and super().match(obj)


class Score(types.NullFloat):
    query = NumberQuery


class Count(types.NullInteger):
    query = NumberQuery


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


def apply_result(item, result, identity: str | None = None) -> None:
    """Copy a result into the item's fields (an error result changes nothing).

    ``identity`` says which audio was scored (:func:`penthy_model.scan.audio_identity`).
    """
    if result.verdict == ERROR:
        return
    from penthy_model.result import explain

    item["penthy_audio"] = identity
    reason = explain(result)
    if reason is None:
        if "penthy_reason" in item:
            del item["penthy_reason"]
    else:
        item["penthy_reason"] = reason
    for key, attr in RESULT_FIELDS:
        value = getattr(result, attr)
        if value is None:
            if key in item:
                del item[key]
        else:
            item[key] = value


def current_engine() -> str:
    import penthy_model

    return penthy_model.__version__


def stale_reason(item, model: str, engine: str, identity: str | None) -> str | None:
    """Why the item's stored verdict needs redoing, or None when it is current."""
    verdict = item.get("penthy_verdict")
    if verdict is None:
        return "not scored"
    if verdict in (LOSSLESS, TRANSCODED) and item.get("penthy") is None:
        return "score missing"
    if item.get("penthy_model") != model:
        return "older model"
    if item.get("penthy_engine") != engine:
        return "older engine"
    if identity is None or item.get("penthy_audio") != identity:
        return "file changed"
    return None


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
        "penthy_album_verdict": album_verdict(verdicts),
    }


def album_verdict(verdicts: list) -> str | None:
    """`transcoded` when every scored track is, `mixed` when some are, `lossless` when none
    is and at least one is lossless, `inconclusive` when none could be judged."""
    if not verdicts:
        return None
    transcoded = verdicts.count(TRANSCODED)
    if transcoded == len(verdicts):
        return TRANSCODED
    if transcoded:
        return "mixed"
    return LOSSLESS if LOSSLESS in verdicts else INCONCLUSIVE


def update_album(album) -> bool:
    """Store the album's aggregate fields; True when they changed."""
    changed = False
    for key, value in album_summary(album).items():
        if value is None:
            if key in album:
                del album[key]
                changed = True
        elif album.get(key) != value:
            album[key] = value
            changed = True
    if changed:
        # inherit=False: Album.store would otherwise copy these flexible fields to every track.
        album.store(inherit=False)
    return changed


def _tag_summary(tags: dict) -> str:
    text = ""
    if tags[True]:
        text += f"; {tags[True]} tag{'' if tags[True] == 1 else 's'} written"
    if tags[None]:
        text += f"; {tags[None]} tag{'' if tags[None] == 1 else 's'} could not be written"
    return text


def _raise_for_tags(tags: dict) -> None:
    if tags[None]:
        raise _error(f"{tags[None]} tag{' was' if tags[None] == 1 else 's were'} not written (see above); "
                     "the scores are stored in the database")


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
        "penthy": Score(4),
        "penthy_verdict": types.STRING,
        "penthy_cutoff": Count(),
        "penthy_bits": Count(),
        "penthy_upsampled_from": Count(),
        "penthy_model": types.STRING,
        "penthy_engine": types.STRING,
        "penthy_audio": types.STRING,
        "penthy_codec": types.STRING,
        "penthy_reason": types.STRING,
    }
    album_types = {
        "penthy_min": Score(4),
        "penthy_transcoded": Score(2),
        "penthy_album_verdict": types.STRING,
    }

    def __init__(self):
        super().__init__()
        self.config.add({
            "auto": True,
            "force": False,
            "threads": "auto",
            "write_tag": False,
            "threshold": None,
            "formats": ["FLAC", "WAV", "AIFF", "ALAC", "WavPack", "APE"],
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
            # The tag is known to mediafile, but not an item media field (add_media_field):
            # `beet update` would then copy a missing tag into the database as NULL. beets'
            # writes get the score from the `write` event instead, and nothing reads it back.
            from mediafile import MediaFile

            if "penthy" not in MediaFile.__dict__:  # else loaded twice in one process
                MediaFile.add_field("penthy", media_field())
        self._unchanged_before_write = {}
        self._left_out_said = False

        self.import_stages = [self.import_stage]
        self.register_listener("import_begin", self.import_begin)
        self.register_listener("import_task_created", self.import_task_created)
        self.register_listener("import_task_before_choice", self.before_choice)
        self.register_listener("import_task_files", self.import_task_files)
        self.register_listener("write", self.on_write)
        self.register_listener("after_write", self.after_write)

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

    def on_write(self, item, path, tags):
        """beets writes an item's tags: add the stored score (a NULL one removes the tag).

        An item never scored leaves the file's tag as it is.
        """
        from mediafile import MediaFile

        if "penthy" not in MediaFile.__dict__ or item.get("penthy_verdict") is None:
            return
        try:
            if self.config["write_tag"].get() is not True:
                return
        except Exception:  # noqa: BLE001 - a bad value is reported by the commands, not here
            return
        tags["penthy"] = item.get("penthy")
        if path == item.path and (item.get("penthy_audio") or "").startswith("stat:"):
            from penthy_model.scan import audio_identity

            self._unchanged_before_write[path] = audio_identity(util.syspath(path)) == item["penthy_audio"]

    def after_write(self, item, path):
        """Rewriting the tags of a WAV or AIFF changes its size and time, not its audio:
        keep its stored identity current (when it was current before the write)."""
        if self._unchanged_before_write.pop(path, False):
            from penthy_model.scan import audio_identity

            item["penthy_audio"] = audio_identity(util.syspath(path))

    def write_score(self, item) -> bool | None:
        """Put the item's score in its file's tag, and change nothing else in the file.

        (``item.write()`` would also rewrite every other tag from the database.) Needs the
        media field, registered when `write_tag` is on. True: written; False: the tag held
        the score already; None: the write failed (said in one line).
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
            from penthy_model.errors import describe

            self._log.error("cannot write the tag of {}: {}", util.displayable_path(item.path),
                            describe(exc, path))
            return None
        item.mtime = item.current_mtime()  # beets' own writes do this, so `beet update` skips it
        if (item.get("penthy_audio") or "").startswith("stat:"):
            from penthy_model.scan import audio_identity

            item["penthy_audio"] = audio_identity(path)
        return True

    @staticmethod
    def wanted(item, settings: Settings) -> bool:
        from penthy_model.formats import normal_name

        return normal_name(item.get("format") or "") in settings.formats

    # -- the worker -------------------------------------------------------------------------

    def plan(self, items, settings: Settings, force: bool) -> Plan:
        """Which of ``items`` to analyse: the lossless ones whose stored verdict is missing
        or stale (all of them with ``force``)."""
        from penthy_model.scan import audio_identity

        version, engine = self.analyzer(settings).model.version, current_engine()
        lossless = [i for i in items if self.wanted(i, settings)]
        plan = Plan(lossless=lossless, model=version)
        for item in lossless:
            identity = audio_identity(util.syspath(item.path))
            reason = "forced" if force else stale_reason(item, version, engine, identity)
            if reason:
                plan.todo.append((item, identity))
                plan.reasons[reason] = plan.reasons.get(reason, 0) + 1
        return plan

    def run(self, plan: Plan, settings: Settings, jobs: int, *, write: bool = False, pretend: bool = False,
            known: dict | None = None, on_result=None) -> Outcome:
        """The one worker of the import stage and `beet penthy`: analyse what ``plan``
        says (``jobs`` files at a time; ``known`` results by path are used as they are),
        store each result as it comes (unless ``pretend``), write its tag (``write``),
        call ``on_result(item, result)``, then update the albums touched.

        Ctrl-C stops it with what is done stored: ``Outcome.interrupted`` says so.
        """
        from penthy_model.scan import check_file

        outcome = Outcome()
        known = dict(known or {})
        for item, _ in plan.todo:
            if item.path not in known:
                early = check_file(util.syspath(item.path))  # a deleted file, not a regular one
                if early is not None:
                    known[item.path] = early
        fresh = [item for item, _ in plan.todo if item.path not in known]
        stream = analyse_items(self.analyzer(settings), fresh, jobs)
        try:
            for item, identity in plan.todo:
                if item.path in known:
                    result = known[item.path]
                else:
                    analysed, result = next(stream)
                    assert analysed is item
                outcome.count(result.verdict)
                if not pretend and result.verdict != ERROR:
                    try:
                        apply_result(item, result, identity)
                        if write:
                            outcome.tag(self.write_score(item))
                        item.store()
                    except Exception as exc:  # noqa: BLE001 - a database error for one item
                        self._log.error("cannot store the result for {}: {}", util.displayable_path(item.path), exc)
                        continue
                    outcome.touched.add(item.album_id)
                if on_result is not None:
                    on_result(item, result)
        except KeyboardInterrupt:
            outcome.interrupted = True
        finally:
            stream.close()
            if not pretend:
                self._update_albums(plan, outcome)
        return outcome

    def _update_albums(self, plan: Plan, outcome: Outcome) -> None:
        ids = sorted(a for a in outcome.touched if a)
        if not ids or not plan.todo:
            return
        lib = plan.todo[0][0]._db
        if lib is None:
            return
        with lib.transaction():
            for album_id in ids:
                album = lib.get_album(album_id)
                if album is not None:
                    update_album(album)

    def write_current(self, plan: Plan, outcome: Outcome) -> None:
        """Write the stored score of the items not analysed again where their tag differs."""
        todo = {id(item) for item, _ in plan.todo}
        for item in plan.lossless:
            if id(item) not in todo and item.get("penthy") is not None:
                done = self.write_score(item)
                outcome.tag(done)
                if done:
                    item.store()

    # -- import -----------------------------------------------------------------------------

    def import_begin(self, session):
        settings = self.settings()
        if settings.auto and not session.config["pretend"].get(bool):
            self.load_model(settings)
        self._import_settings = settings
        self._left_out_said = False
        with self._early_lock:
            self._early.clear()

    def _warn_left_out(self, settings: Settings, items) -> bool:
        """Say once that tracks in a format of `formats` needing the extra are left out;
        True when there were such tracks."""
        if not settings.left_out:
            return False
        from penthy_model.formats import FORMATS_EXTRA_HINT, normal_name

        found = {}
        for item in items:
            name = normal_name(item.get("format") or "")
            if name in settings.left_out:
                found[name] = found.get(name, 0) + 1
        if not found:
            return False
        total = sum(found.values())
        self._log.warning("{} track{} left out ({}): reading them needs the formats extra: {}", total,
                          "" if total == 1 else "s", ", ".join(f"{n} {k}" for k, n in sorted(found.items())),
                          FORMATS_EXTRA_HINT)
        return True

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
            plan = self.plan(task.items, settings, force=True)
            if not plan.todo:
                return None
            found = {}
            self.run(plan, settings, settings.threads, pretend=True,
                     on_result=lambda item, result: found.__setitem__(item.path, result))
            with self._early_lock:
                self._early.update(found)
            suspects = [r for r in found.values() if r.verdict == TRANSCODED]
            judged = sum(r.verdict != ERROR for r in found.values())
            if suspects:
                task.penthy_suspects = (suspects, judged)
                if settings.on_transcoded == "skip":
                    ui.print_(f"{self._task_warning(task, [r.score for r in suspects], judged)}; skipping it "
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
        task.penthy_warned = (len(suspects), count)  # the import stage need not say it again
        ui.print_(ui.colorize("text_warning", self._task_warning(task, [r.score for r in suspects], count)))
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

    def _task_warning(self, task, suspects: list, count: int) -> str:
        """The warning for a task with ``suspects`` (their scores) among ``count`` scored tracks."""
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
        return f"penthy: {name} looks transcoded (score {suspects[0]:.4f})"

    def import_stage(self, session, task):
        """Score the task's lossless items, store them, warn about transcodes."""
        try:
            settings = self._settings_for_import()
            if not settings.auto:
                return
            items = task.imported_items()
            with self._early_lock:
                early = {i.path: self._early.pop(i.path) for i in items if i.path in self._early}
            if not self._left_out_said:
                self._left_out_said = self._warn_left_out(settings, items)
            plan = self.plan(items, settings, settings.force)
            if not plan.lossless:
                return

            def log_error(item, result):
                if result.verdict == ERROR:
                    self._log.error("cannot analyse {}: {}", util.displayable_path(item.path), result.reason)

            outcome = self.run(plan, settings, settings.threads, known=early, on_result=log_error)
            if outcome.interrupted:
                raise KeyboardInterrupt
            # Counted over every lossless track of the task, those scored before included.
            judged = [i for i in plan.lossless if i.get("penthy_verdict")]
            suspects = [i.get("penthy") for i in judged if i.get("penthy_verdict") == TRANSCODED]
            if suspects and getattr(task, "penthy_warned", None) != (len(suspects), len(judged)):
                self._log.warning("{}", self._task_warning(task, suspects, len(judged)).removeprefix("penthy: "))
            elif not suspects:
                self._log.info("{} files scored, none looks transcoded", outcome.analysed)
        except KeyboardInterrupt:
            raise
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
                              help="re-analyse items whose stored verdict is current")
        cmd.parser.add_option("-w", "--write", action="store_true", default=None,
                              help="write the score to the files' tags (needs write_tag: yes)")
        cmd.parser.add_option("-W", "--nowrite", action="store_false", dest="write",
                              help="do not write tags")
        cmd.parser.add_option("-p", "--pretend", action="store_true", default=False,
                              help="analyse and show, but store and write nothing")
        cmd.parser.add_option("-j", "--jobs", "-t", "--threads", type="int", default=None, metavar="N",
                              dest="jobs", help="files analysed at a time (default: config `threads`)")
        cmd.parser.add_option("-q", "--quiet", action="store_true", default=False,
                              help="print only transcoded files, errors and the summary")
        cmd.parser.add_option("--plot", metavar="DIR", default=None,
                              help="save a picture of each analysed file's spectrum in DIR")
        cmd.parser.add_option("--report", metavar="FILE", default=None,
                              help="write an HTML report of the analysed files to FILE")
        cmd.parser.add_option("--summary", action="store_true", default=False,
                              help="show what the database holds (verdicts, codecs, stale or missing "
                                   "verdicts, albums with suspects), analysing nothing")
        cmd.parser.add_album_option()
        cmd.func = self.command
        return [cmd]

    def command(self, lib, opts, args):
        settings = self.settings()
        if opts.summary:
            self.summary(lib, opts, args, settings)
            return
        if opts.jobs is not None and opts.jobs < 1:
            raise _error("--jobs must be at least 1")
        jobs = opts.jobs or settings.threads
        force = bool(opts.force) or settings.force
        pretend = opts.pretend
        write = ui.should_write(opts.write) and not pretend
        if write and not settings.write_tag:
            if opts.write:
                self._log.warning("not writing tags: set `penthy.write_tag: yes` to store the score in files")
            write = False
        evidence = self._evidence(opts)  # destinations checked before anything is analysed
        try:
            self.load_model(settings)
            self._command(lib, opts, args, settings, jobs, force, write, pretend, evidence)
        finally:
            if evidence is not None:
                evidence.close()

    def _evidence(self, opts):
        if not (opts.plot or opts.report):
            return None
        from penthy_model.plots import INSTALL_HINT, available
        from penthy_model.scan import DestinationError, Evidence

        with_pictures = available()
        if opts.plot and not with_pictures:
            raise _error(f"--plot needs matplotlib, which is not installed: {INSTALL_HINT}")

        def expand(path):
            return os.path.abspath(os.path.expanduser(path)) if path else None

        try:
            return Evidence(expand(opts.plot), expand(opts.report), with_pictures)
        except DestinationError as exc:
            raise _error(str(exc)) from None

    def _command(self, lib, opts, args, settings, jobs, force, write, pretend, evidence):
        from penthy_model.scan import Progress

        if opts.album:
            items = [item for album in lib.albums(args) for item in album.items()]
        else:
            items = list(lib.items(args))
        self._warn_left_out(settings, items)
        plan = self.plan(items, settings, force)
        outcome = Outcome()
        if write and opts.write:
            self.write_current(plan, outcome)
        current = len(plan.lossless) - len(plan.todo)
        if not plan.todo:
            ui.print_(f"penthy: nothing to analyse ({len(items)} items matched, {len(plan.lossless)} lossless, "
                      f"{current} with a current verdict from model {plan.model}; -f re-analyses them)"
                      f"{_tag_summary(outcome.tags)}")
            _raise_for_tags(outcome.tags)
            return

        progress = Progress(sys.stderr)
        progress.total = len(plan.todo)
        progress.update(0)
        done = 0

        def show(item, result):
            nonlocal done
            done += 1
            if not opts.quiet or result.verdict in (TRANSCODED, ERROR):
                progress.clear()
                ui.print_(format_line(item, result))
            if evidence is not None:
                evidence.add(result)
            progress.update(done)

        started = time.monotonic()
        try:
            run = self.run(plan, settings, jobs, write=write, pretend=pretend, on_result=show)
        finally:
            progress.clear()
        run.tags = {k: run.tags[k] + outcome.tags[k] for k in run.tags}
        counts = run.counts
        elapsed = time.monotonic() - started
        summary = (f"penthy: {run.analysed} analysed in {elapsed:.1f} s: {counts.get(LOSSLESS, 0)} lossless, "
                   f"{counts.get(TRANSCODED, 0)} transcoded, {counts.get(INCONCLUSIVE, 0)} inconclusive, "
                   f"{counts.get(ERROR, 0)} errors")
        redone = [f"{n} {reason}" for reason, n in sorted(plan.reasons.items())
                  if reason not in ("not scored", "forced")]
        if redone:
            summary += f" (verdicts redone: {', '.join(redone)})"
        if current:
            summary += f"; {current} skipped, with a current verdict from model {plan.model} (-f re-analyses them)"
        summary += _tag_summary(run.tags)
        if pretend:
            summary += "; pretend: nothing stored"
        if run.interrupted:
            summary += "; interrupted: run the command again to go on"
        ui.print_(summary)
        if evidence is not None and not evidence.finish():
            self._log.error("the pictures or the report could not all be written")
        if run.interrupted:
            raise KeyboardInterrupt
        _raise_for_tags(run.tags)

    def summary(self, lib, opts, args, settings: Settings) -> None:
        """`beet penthy --summary [QUERY]`: counts from the database, nothing analysed."""
        from penthy_model.inference import Model, ModelError

        try:
            version = Model(settings.model).version  # reads the sidecar only
        except ModelError as exc:
            raise _error(str(exc)) from None
        if opts.album:
            items = [item for album in lib.albums(args) for item in album.items()]
        else:
            items = list(lib.items(args))
        lossless = [i for i in items if self.wanted(i, settings)]
        verdicts = {LOSSLESS: 0, TRANSCODED: 0, INCONCLUSIVE: 0, "not yet scored": 0}
        codecs, stale, engine = {}, 0, current_engine()
        albums = {}
        for item in lossless:
            verdict = item.get("penthy_verdict")
            if verdict is None:
                verdicts["not yet scored"] += 1
                continue
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
            if item.get("penthy_model") != version or item.get("penthy_engine") != engine:
                stale += 1
            codec = item.get("penthy_codec")
            if codec:
                codecs[codec] = codecs.get(codec, 0) + 1
            elif verdict == TRANSCODED:
                codecs["no codec found"] = codecs.get("no codec found", 0) + 1
            if item.album_id:
                judged, bad = albums.get(item.album_id, (0, 0))
                albums[item.album_id] = (judged + 1, bad + (verdict == TRANSCODED))

        def counted(pairs):
            return ", ".join(f"{n} {name}" for name, n in pairs) or "none"

        ui.print_(f"penthy: {len(lossless)} lossless track{'' if len(lossless) == 1 else 's'} "
                  f"of {len(items)} matched")
        ui.print_(f"  verdicts: {counted((k, v) for k, v in verdicts.items() if v or k in (LOSSLESS, TRANSCODED))}")
        ui.print_(f"  codecs:   {counted(sorted(codecs.items(), key=lambda kv: (-kv[1], kv[0])))}")
        ui.print_(f"  stale:    {stale} scored by another model or engine than {version} / {engine}"
                  + (" (`beet penthy` redoes them)" if stale else ""))
        suspects = [(bad / judged, bad, judged, album_id) for album_id, (judged, bad) in albums.items() if bad]
        suspects.sort(key=lambda s: (-s[0], -s[1], s[3]))
        if not suspects:
            ui.print_("  albums with suspects: none")
            return
        ui.print_("  albums with suspects, worst first:")
        for share, bad, judged, album_id in suspects:
            album = lib.get_album(album_id)
            name = f"{album.get('albumartist') or '?'} - {album.get('album') or '?'}" if album else f"album {album_id}"
            ui.print_(f"    {share:4.0%}  {name} ({bad} of {judged} tracks transcoded)")
