"""``penthy PATH...``: analyse files and folders from the command line.

Exit status: 0 when every file is lossless or inconclusive, 1 when at least one looks
transcoded, 2 when a file or folder could not be read (or the model could not load).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from .result import ERROR, INCONCLUSIVE, LOSSLESS, TRANSCODED, Result

AUDIO_EXTENSIONS = (".flac", ".wav", ".wave", ".aif", ".aiff", ".aifc", ".w64", ".rf64", ".caf", ".wv")
EXIT_OK, EXIT_TRANSCODED, EXIT_ERROR = 0, 1, 2


def find_files(paths, on_error):
    """Files named on the command line, and audio files under folders (sorted, recursive).

    Yields bytes paths so that names which are not valid UTF-8 survive. Folders that
    cannot be listed are reported through ``on_error(path, message)`` and skipped.
    """
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
                if os.fsdecode(name).lower().endswith(AUDIO_EXTENSIONS):
                    yield os.path.join(root, name)


def format_line(r: Result) -> str:
    if r.verdict == ERROR:
        return f"error         {r.path}: {r.reason}"
    score = "  -  " if r.score is None else f"{r.score:.3f}"
    facts = r.facts()
    tail = f"  ({'; '.join(facts)})" if facts else ""
    return f"{r.verdict:<13} {score}  {r.path}{tail}"


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


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="penthy", description="Tell genuine lossless audio from lossy transcodes.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (searched recursively)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="files analysed at once (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads per file (default 1)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="call a file transcoded below this score (default: the model's calibrated value)")
    parser.add_argument("--model", default=None, help="path to a retrained .onnx (its .json beside it)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only transcoded files and errors")
    parser.add_argument("--plot", metavar="DIR", default=None,
                        help="write a spectrogram picture (PNG) of each file into DIR (needs penthy[plots])")
    parser.add_argument("--report", metavar="FILE", default=None,
                        help="write one self-contained HTML report of the scan, with pictures when "
                             "matplotlib is installed")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.threads < 1:
        parser.error("--jobs and --threads must be at least 1")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        parser.error("--threshold must be between 0 and 1")
    return args


def _print(text: str, stream=None):
    """Print a line whatever the terminal's encoding (undecodable file names come out escaped)."""
    stream = sys.stdout if stream is None else stream  # looked up now: callers may have swapped it
    encoding = getattr(stream, "encoding", None) or "utf-8"
    stream.write(text.encode(encoding, "backslashreplace").decode(encoding) + "\n")
    stream.flush()


class Evidence:
    """Pictures (``--plot``) and the HTML report (``--report``) of one run.

    The report gets pictures whenever matplotlib is present: in the ``--plot`` folder when
    one is given, otherwise in a temporary folder removed once they are embedded.
    """

    def __init__(self, plot_dir, report_path, with_pictures: bool):
        import tempfile

        self.report_path, self.results, self.pictures, self.failed = report_path, [], {}, False
        temporary = report_path and with_pictures and not plot_dir
        self.tmp = tempfile.TemporaryDirectory(prefix="penthy-") if temporary else None
        self.plot_dir = plot_dir or (self.tmp.name if self.tmp else None)

    def add(self, r: Result):
        if self.report_path:
            self.results.append(r)
        if self.plot_dir:
            from .plots import save_plot

            try:
                picture = save_plot(r, self.plot_dir)
            except OSError as exc:
                self.failed = True
                _print(f"penthy: cannot write the picture of {r.path}: {exc}", sys.stderr)
                return
            if picture is not None:
                self.pictures[r.path] = picture

    def finish(self) -> bool:
        """Write the report (if asked for) and clean up; False when something failed."""
        try:
            if self.report_path:
                from .report import write_report

                _print(f"penthy: report written to {write_report(self.results, self.report_path, self.pictures)}",
                       sys.stderr)
        except OSError as exc:
            _print(f"penthy: cannot write the report {self.report_path}: {exc}", sys.stderr)
            return False
        finally:
            self.close()
        return not self.failed

    def close(self):
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None


def main(argv=None) -> int:
    args = parse_args(argv)
    evidence = None
    if args.plot or args.report:
        from .plots import INSTALL_HINT, available

        with_pictures = available()
        if not with_pictures and args.plot:
            _print(f"penthy: --plot needs matplotlib, which is not installed: {INSTALL_HINT}", sys.stderr)
            return EXIT_ERROR
        if not with_pictures:
            _print(f"penthy: the report will have no pictures: matplotlib is not installed ({INSTALL_HINT})",
                   sys.stderr)
        evidence = Evidence(args.plot, args.report, with_pictures)
    try:
        return scan(args, evidence)
    finally:
        if evidence is not None:
            evidence.close()


def scan(args, evidence: Evidence | None = None) -> int:
    from .analyze import Analyzer
    from .inference import ModelError

    try:
        analyzer = Analyzer(args.model, threads=args.threads)
    except ModelError as exc:
        _print(f"penthy: {exc}", sys.stderr)
        return EXIT_ERROR
    if args.threshold is not None:
        analyzer.policy = analyzer.policy.with_threshold(args.threshold)

    counts = {LOSSLESS: 0, TRANSCODED: 0, INCONCLUSIVE: 0, ERROR: 0}
    progress = Progress()

    def emit(r: Result):
        counts[r.verdict] += 1
        if evidence is not None:
            evidence.add(r)
        if args.json:
            _print(json.dumps(r.to_dict()))
        elif not args.quiet or r.verdict in (TRANSCODED, ERROR):
            progress.clear()
            _print(format_line(r))

    def folder_error(path, message):
        emit(Result(os.fsdecode(path), ERROR, reason=f"cannot read folder: {message}"))

    files = list(find_files(args.paths, folder_error))
    progress.total = len(files)
    started = time.monotonic()
    try:
        for done, result in enumerate(analyzer.analyze_many(files, jobs=args.jobs), 1):
            emit(result)
            progress.update(done)
    except ModelError as exc:
        progress.clear()
        _print(f"penthy: {exc}", sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        progress.clear()
        _print("penthy: interrupted", sys.stderr)
        return 130
    progress.clear()
    if not args.json:
        took = time.monotonic() - started
        _print(f"{len(files)} file{'' if len(files) == 1 else 's'} in {took:.1f} s: {counts[LOSSLESS]} lossless, {counts[TRANSCODED]} transcoded, "
               f"{counts[INCONCLUSIVE]} inconclusive, {counts[ERROR]} errors", sys.stderr)
    if evidence is not None and not evidence.finish():
        return EXIT_ERROR
    if counts[ERROR]:
        return EXIT_ERROR
    return EXIT_TRANSCODED if counts[TRANSCODED] else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
