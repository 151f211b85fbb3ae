"""What both front ends (the ``penthy`` command and the beets plugin) share around the engine.

File discovery (:func:`find_files`, :func:`check_file`), the progress line
(:class:`Progress`), the pictures and the HTML report of a run (:class:`Evidence`, with
its destinations checked before any work), and which audio a stored verdict was made
from (:func:`audio_identity`). Importing this module is cheap: it loads nothing heavy.
"""

from __future__ import annotations

import os
import stat
import sys
import time

from . import formats
from .errors import path_problem
from .result import ERROR, Result

SKIPPED = "skipped"  # a verdict of the front ends: a file not analysed, and why (not an error)

FLAC_MAGIC = b"fLaC"
STREAMINFO_LENGTH = 34


def _flac_md5(head: bytes) -> bytes | None:
    """The MD5 of the decoded samples from a FLAC file's first bytes, None when absent.

    A FLAC stream starts with ``fLaC`` (possibly after an ID3v2 tag), then the
    STREAMINFO block: a 4-byte header and 34 bytes whose last 16 are the MD5 of the
    samples. An encoder that did not compute it leaves 16 zero bytes.
    """
    pos = 0
    if head[:3] == b"ID3" and len(head) >= 10:
        size = 0
        for byte in head[6:10]:  # a syncsafe integer: 7 bits per byte
            size = (size << 7) | (byte & 0x7F)
        pos = 10 + size + (10 if head[5] & 0x10 else 0)  # footer flag
    if head[pos:pos + 4] != FLAC_MAGIC:
        return None
    header = head[pos + 4:pos + 8]
    if len(header) < 4 or header[0] & 0x7F != 0 or int.from_bytes(header[1:4], "big") != STREAMINFO_LENGTH:
        return None
    info = head[pos + 8:pos + 8 + STREAMINFO_LENGTH]
    if len(info) < STREAMINFO_LENGTH:
        return None
    md5 = info[-16:]
    return None if md5 == bytes(16) else md5


def audio_identity(path) -> str | None:
    """A string that changes when a file's audio is replaced, None when it cannot be read.

    ``flac-md5:<hex>`` for a FLAC file whose STREAMINFO holds the samples' MD5 (editing
    its tags does not change it); ``stat:<size>:<mtime>`` otherwise (WAV, AIFF, a FLAC
    without MD5), which also changes when the file's tags are rewritten.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the open
            return None
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            head = fh.read(64)
            if head[:3] == b"ID3" and len(head) >= 10:
                fh.seek(0)
                size = 0
                for byte in head[6:10]:
                    size = (size << 7) | (byte & 0x7F)
                head = fh.read(10 + size + 10 + 8 + STREAMINFO_LENGTH)
    except OSError:
        return None
    md5 = _flac_md5(head)
    if md5 is not None:
        return f"flac-md5:{md5.hex()}"
    return f"stat:{st.st_size}:{int(st.st_mtime)}"


# -- discovery ------------------------------------------------------------------------------

def scan_extensions(extra: bool | None = None) -> tuple[str, ...]:
    """The extensions a folder scan picks up: libsndfile's formats, and those of the
    `formats` extra when it is installed."""
    if extra is None:
        extra = formats.extra_available()
    tables = (formats.SNDFILE_FORMATS, formats.EXTRA_FORMATS) if extra else (formats.SNDFILE_FORMATS,)
    return tuple(ext for table in tables for exts in table.values() for ext in exts)


def find_files(paths, on_error, on_left_out=None, extra: bool | None = None):
    """Files named on the command line, and audio files under folders (sorted, recursive).

    Yields bytes paths so that names which are not valid UTF-8 survive. Folders that
    cannot be listed are reported through ``on_error(path, message)`` and skipped. Files
    in a folder whose format needs the `formats` extra, when it is not installed, are left
    out and passed to ``on_left_out(path)``.
    """
    if extra is None:
        extra = formats.extra_available()
    wanted = scan_extensions(extra)
    later = () if extra else scan_extensions(True)
    for path in paths:
        path = os.fsencode(path)
        if not os.path.isdir(path):
            yield path
            continue

        def walk_error(exc, top=path):
            on_error(exc.filename if exc.filename is not None else top, exc.strerror or str(exc))

        for root, dirs, files in os.walk(path, onerror=walk_error):
            dirs.sort()
            for name in sorted(files):
                lower = os.fsdecode(name).lower()
                if lower.endswith(wanted):
                    yield os.path.join(root, name)
                elif on_left_out is not None and lower.endswith(later):
                    on_left_out(os.path.join(root, name))


def check_file(path, extra: bool | None = None) -> Result | None:
    """The result for a file that is not to be analysed (a lossy format, a format needing
    the extra, not a regular file, missing), or None when the engine should read it."""
    name = os.fsdecode(path)
    fmt = formats.format_of(path)
    if fmt in formats.LOSSY_FORMATS:
        return Result(name, SKIPPED, reason=f"{fmt} is not a lossless format")
    problem = path_problem(path)
    if problem is not None:
        return Result(name, ERROR, reason=problem)
    if fmt in formats.EXTRA_FORMATS:
        if not (formats.extra_available() if extra is None else extra):
            return Result(name, SKIPPED, reason=f"{fmt} needs the formats extra: {formats.FORMATS_EXTRA_HINT}")
        try:
            from .decode_av import probe

            found = probe(path)  # an .m4a holds ALAC or AAC: its codec says which
        except Exception:  # noqa: BLE001 - the engine reads it and says what is wrong
            return None
        if not found.lossless:
            return Result(name, SKIPPED, reason=found.reason)
    return None


# -- progress -------------------------------------------------------------------------------

class Progress:
    """A one-line progress bar with ETA on stderr, shown only on a terminal."""

    def __init__(self, stream=None, enabled=None):
        stream = sys.stderr if stream is None else stream  # looked up now: tests and beets swap it
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self.start = time.monotonic()
        self.total = None

    def update(self, done: int):
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        if self.total:
            share = done / self.total
            eta = elapsed / done * (self.total - done) if done else 0.0
            bar = "#" * int(share * 30)
            text = f"[{bar:<30}] {done}/{self.total}  ETA {eta:4.0f} s"
        else:
            text = f"{done} files  {elapsed:.0f} s"
        self.stream.write("\r" + text)
        self.stream.flush()

    def clear(self):
        if self.enabled:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def print_line(text: str, stream=None):
    """Print a line whatever the terminal's encoding (undecodable file names come out escaped)."""
    stream = sys.stdout if stream is None else stream  # looked up now: callers may have swapped it
    encoding = getattr(stream, "encoding", None) or "utf-8"
    stream.write(text.encode(encoding, "backslashreplace").decode(encoding) + "\n")
    stream.flush()


# -- evidence -------------------------------------------------------------------------------

class DestinationError(Exception):
    """``--plot`` or ``--report`` names a place that cannot be written."""


def _probe_folder(folder: str, what: str) -> None:
    """Raise DestinationError unless a file can be created in ``folder`` (made if missing)."""
    import tempfile

    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".penthy-probe-"):
            pass
    except OSError as exc:
        from .errors import describe

        raise DestinationError(f"cannot write {what} {folder}: {describe(exc)}") from None


def check_destinations(plot_dir, report_path) -> None:
    """Check, before any analysis, that the pictures and the report can be written."""
    if plot_dir:
        _probe_folder(plot_dir, "the pictures in")
    if report_path:
        if os.path.isdir(report_path):
            raise DestinationError(f"cannot write the report {report_path}: it is a folder")
        _probe_folder(os.path.dirname(os.path.abspath(report_path)), "the report in")


class Evidence:
    """Pictures (``--plot``) and the HTML report (``--report``) of one run.

    The destinations are checked when it is made (:class:`DestinationError`). The report
    gets pictures whenever matplotlib is present: in the ``--plot`` folder when one is
    given, otherwise in a temporary folder removed once they are embedded.
    """

    def __init__(self, plot_dir, report_path, with_pictures: bool, stream=None):
        import tempfile

        check_destinations(plot_dir, report_path)
        self.stream = stream
        self.report_path, self.results, self.pictures, self.failed = report_path, [], {}, False
        temporary = report_path and with_pictures and not plot_dir
        self.tmp = tempfile.TemporaryDirectory(prefix="penthy-") if temporary else None
        self.plot_dir = plot_dir or (self.tmp.name if self.tmp else None)

    def _say(self, text: str):
        print_line(text, self.stream if self.stream is not None else sys.stderr)

    def add(self, r: Result):
        if r.verdict == SKIPPED:
            return
        if self.report_path:
            self.results.append(r)
        if self.plot_dir:
            from .plots import save_plot

            try:
                picture = save_plot(r, self.plot_dir)
            except OSError as exc:
                self.failed = True
                self._say(f"penthy: cannot write the picture of {r.path}: {exc}")
                return
            if picture is not None:
                self.pictures[r.path] = picture

    def finish(self) -> bool:
        """Write the report (if asked for) and clean up; False when something failed."""
        try:
            if self.report_path:
                from .report import write_report

                self._say(f"penthy: report written to {write_report(self.results, self.report_path, self.pictures)}")
        except OSError as exc:
            self._say(f"penthy: cannot write the report {self.report_path}: {exc}")
            return False
        finally:
            self.close()
        return not self.failed

    def close(self):
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None
