"""``penthy PATH...``: analyse files and folders from the command line.

Exit status: 0 when every file is lossless or inconclusive (or skipped: a lossy format
named directly), 1 when at least one looks transcoded, 2 when a file or folder could not
be read (or the model could not load, or --plot/--report cannot be written), 130 when
interrupted (the report then holds what finished).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import fields as dataclass_fields

from . import formats
from .result import ERROR, INCONCLUSIVE, LOSSLESS, TRANSCODED, Result
from .scan import SKIPPED, DestinationError, Evidence, Progress, check_file, find_files
from .scan import print_line as _print

EXIT_OK, EXIT_TRANSCODED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def format_line(r: Result) -> str:
    if r.verdict in (ERROR, SKIPPED):
        return f"{r.verdict:<13} {r.path}: {r.reason}"
    score = "  -  " if r.score is None else f"{r.score:.3f}"
    facts = r.facts()
    tail = f"  ({'; '.join(facts)})" if facts else ""
    return f"{r.verdict:<13} {score}  {r.path}{tail}"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="penthy", description="Tell genuine lossless audio from lossy transcodes.")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (searched recursively)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object per file")
    output.add_argument("--csv", action="store_true",
                        help="print a CSV table: a header, then one row per file with the JSON fields as columns")
    parser.add_argument("--version", action="store_true",
                        help="print the package, engine and model versions and exit")
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
    if not args.paths and not args.version:
        parser.error("the following arguments are required: PATH")
    if args.jobs < 1 or args.threads < 1:
        parser.error("--jobs and --threads must be at least 1")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        parser.error("--threshold must be between 0 and 1")
    return args


def versions(model_path=None) -> str:
    """The package, engine and model versions, in one line."""
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__ as engine
    from .inference import Model, ModelError

    try:
        package = version("penthy")
    except PackageNotFoundError:
        package = engine
    try:
        model = Model(model_path)
        model_text = f"model {model.version} ({model.path})"
    except ModelError as exc:
        model_text = f"model: {exc}"
    return f"penthy {package}, engine {engine}, {model_text}"


CSV_FIELDS = [f.name for f in dataclass_fields(Result)]


class CsvRows:
    """``--csv``: the header once, then one row per result; lists as space-separated values."""

    def __init__(self, stream=None):
        import csv

        self.writer = csv.writer(stream if stream is not None else sys.stdout, lineterminator="\n")
        self.writer.writerow(CSV_FIELDS)

    def add(self, r: Result):
        row = []
        for name in CSV_FIELDS:
            value = getattr(r, name)
            if value is None:
                value = ""
            elif isinstance(value, (list, tuple)):
                value = " ".join(str(v) for v in value)
            row.append(value)
        self.writer.writerow(row)
        sys.stdout.flush()


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.version:
        _print(versions(args.model))
        return EXIT_OK
    evidence = None
    if args.plot or args.report:
        from .plots import INSTALL_HINT, available

        with_pictures = available()
        if not with_pictures and args.plot:
            _print(f"penthy: --plot needs matplotlib, which is not installed: {INSTALL_HINT}", sys.stderr)
            return EXIT_ERROR
        try:
            evidence = Evidence(args.plot, args.report, with_pictures)
        except DestinationError as exc:
            _print(f"penthy: {exc}", sys.stderr)
            return EXIT_ERROR
        if not with_pictures:
            _print(f"penthy: the report will have no pictures: matplotlib is not installed ({INSTALL_HINT})",
                   sys.stderr)
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

    counts = {LOSSLESS: 0, TRANSCODED: 0, INCONCLUSIVE: 0, ERROR: 0, SKIPPED: 0}
    progress = Progress()
    table = CsvRows() if args.csv else None

    def emit(r: Result):
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
        if evidence is not None:
            evidence.add(r)
        if table is not None:
            progress.clear()
            table.add(r)
        elif args.json:
            _print(json.dumps(r.to_dict()))
        elif not args.quiet or r.verdict in (TRANSCODED, ERROR):
            progress.clear()
            _print(format_line(r))

    def folder_error(path, message):
        emit(Result(os.fsdecode(path), ERROR, reason=f"cannot read folder: {message}"))

    left_out = []
    extra = formats.extra_available()
    # (path, the result when it is not for the engine to read), in the order found
    entries = [(path, check_file(path, extra)) for path in find_files(args.paths, folder_error, left_out.append, extra)]
    if left_out:
        kinds = sorted({formats.format_of(p) for p in left_out})
        _print(f"penthy: {len(left_out)} file{'' if len(left_out) == 1 else 's'} left out ({', '.join(kinds)}): "
               f"reading them needs the formats extra: {formats.FORMATS_EXTRA_HINT}", sys.stderr)
    progress.total = len(entries)
    started = time.monotonic()
    code = None
    results = analyzer.analyze_many([p for p, r in entries if r is None], jobs=args.jobs)
    try:
        for done, (path, early) in enumerate(entries, 1):
            emit(early if early is not None else next(results))
            progress.update(done)
    except ModelError as exc:
        progress.clear()
        _print(f"penthy: {exc}", sys.stderr)
        code = EXIT_ERROR
    except KeyboardInterrupt:
        progress.clear()
        _print("penthy: interrupted", sys.stderr)
        code = EXIT_INTERRUPTED
    finally:
        results.close()
    progress.clear()
    if not (args.json or args.csv) and code is None:
        took = time.monotonic() - started
        n = len(entries) - counts[SKIPPED]
        skipped = f", {counts[SKIPPED]} skipped" if counts[SKIPPED] else ""
        _print(f"{n} file{'' if n == 1 else 's'} in {took:.1f} s: {counts[LOSSLESS]} lossless, "
               f"{counts[TRANSCODED]} transcoded, {counts[INCONCLUSIVE]} inconclusive, {counts[ERROR]} errors"
               f"{skipped}", sys.stderr)
    # The report holds what finished, also after Ctrl-C.
    if evidence is not None and not evidence.finish() and code is None:
        code = EXIT_ERROR
    if code is not None:
        return code
    if counts[ERROR]:
        return EXIT_ERROR
    return EXIT_TRANSCODED if counts[TRANSCODED] else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
