"""From a path to a :class:`Result`: read windows, compute features, run the model, measure
the codec evidence and the texture, and hand every finding to the verdict."""

from __future__ import annotations

import os
from collections import deque
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Iterator

import soundfile as sf

from . import __version__ as ENGINE
from .audio import read_windows
from .bitdepth import effective_bits
from .constants import WIDE_WINDOWS
from .cutoff import estimate_cutoff
from .errors import describe as describe_read_error
from .evidence import DETECTORS, EVERY_FILE, find_codec
from .features import window_features, window_length
from .inference import Model, ModelError, Thresholds
from .result import ERROR, INCONCLUSIVE, LOSSLESS, Result
from .texture import measure as measure_texture
from .upsampling import rate_facts
from .verdict import Findings, Policy, content_flags, decide, pool


def display_path(path) -> str:
    """A str for any path, bytes included (undecodable bytes kept as surrogate escapes)."""
    return os.fsdecode(path)


class Analyzer:
    """Analyses files with one model; safe to share between threads."""

    def __init__(self, model: Model | str | os.PathLike | None = None, threads: int = 1,
                 thresholds: Thresholds | None = None, policy: Policy | None = None):
        self.model = model if isinstance(model, Model) else Model(model, threads=threads)
        self.policy = policy or Policy.for_model(self.model, thresholds)

    @property
    def thresholds(self) -> Thresholds:
        """The CNN thresholds of the policy in use."""
        return self.policy.thresholds

    def analyze(self, path) -> Result:
        """Analyse one file. Never raises for a bad file: the result says what went wrong."""
        name = display_path(path)
        try:
            windows = read_windows(os.fsencode(path))
        except (sf.LibsndfileError, RuntimeError, OSError, ValueError, TypeError) as exc:
            return Result(name, ERROR, reason=describe_read_error(exc, path), engine=ENGINE)
        result = Result(name, INCONCLUSIVE, sample_rate=windows.sample_rate, channels=windows.channels,
                        duration=round(windows.duration, 3), bits=windows.bits, model=self.model.version,
                        engine=ENGINE)
        sr = windows.sample_rate
        if windows.ints:
            result.bits_effective = effective_bits(windows.ints, windows.bits)
        if windows.samples is None:
            if windows.frames < window_length(sr):
                result.reason = f"too short: {windows.duration:.2f} s, needs {window_length(sr) / sr:.2f} s"
            else:
                result.reason = "silent: no window has sound above -60 dBFS"
            return result
        result.window_starts = [round(s / sr, 3) for s in windows.starts]
        result.cutoff_hz = estimate_cutoff(windows.samples, sr)
        result.upsampled_from, hires_hz = rate_facts(windows.samples, sr)
        if sr < self.policy.min_sample_rate:  # nothing for the network to read: the grids alone
            evidence = self._codec_evidence(windows, thorough=True)
            return self._decided(result, Findings((), (), sample_rate=sr, codec=evidence))
        features, reference_dbfs = window_features(windows.samples, sr, with_reference=True)
        scores = self.model.predict(features)
        result.window_scores = [round(float(s), 4) for s in scores]
        has_content = content_flags(features, reference_dbfs, sr, self.policy)
        result.content_share = round(float(has_content.mean()), 3)
        model_score = pool(scores, self.policy.pooling)
        result.model_score = round(model_score, 4)
        # The lossy texture only ever backs the network's "transcoded": measured only then.
        texture = (measure_texture(windows.samples, sr, result.cutoff_hz)
                   if self.policy.model_reads_transcoded(model_score, has_content) else None)
        findings = Findings(scores, has_content, sample_rate=sr, cutoff_hz=result.cutoff_hz,
                            upsampled_from=result.upsampled_from,
                            hires_content_hz=hires_hz,
                            texture=None if texture is None else texture.score,
                            texture_band_hz=None if texture is None else texture.top_hz)
        # Every file gets codec evidence; a file the rest leaves undecided gets a thorough look,
        # and the grids of the codecs the network rarely misses only where it does not vouch.
        first = decide(findings, self.policy)[0]
        evidence = self._codec_evidence(windows, thorough=first == INCONCLUSIVE,
                                        detectors=EVERY_FILE if first == LOSSLESS else DETECTORS,
                                        wide=lambda: _wider(path, windows))
        return self._decided(result, replace(findings, codec=evidence))

    def _decided(self, result: Result, findings: Findings) -> Result:
        """``result`` with the policy's decision on ``findings``: verdict, score, reason; the
        codec where a codec's grid proves it, or the one whose weaker grid backs it; and the z,
        alignment and measure (``grid``) of that grid, else of the strongest measured."""
        decision = decide(findings, self.policy)
        result.verdict, result.reason = decision.verdict, decision.reason
        result.score = None if decision.score is None else round(decision.score, 4)
        grid = decision.proof or decision.support or (findings.codec.strongest if findings.codec else None)
        if grid is not None:
            result.grid_z, result.grid_alignment, result.grid = round(grid.z, 1), grid.alignment, grid.grid or None
        if decision.proof is not None:
            result.codec = decision.proof.codec
        if decision.support is not None:
            result.backed_by = decision.support.codec
        return result

    def _codec_evidence(self, windows, thorough: bool, detectors=DETECTORS, wide=None):
        """Every codec's frame grid (``evidence.find_codec``, stopping early where the policy's
        levels make the answer clear)."""
        p = self.policy
        return find_codec(windows.samples, windows.starts, windows.sample_rate, clear_z=p.grid_clear_z,
                          absent_z=p.grid_absent_z, thorough=thorough, detectors=detectors, wide=wide,
                          requires=p.detector_requires)

    def _analyze_or_error(self, path) -> Result:
        """``analyze``, with an unexpected exception for one file turned into its error result."""
        try:
            return self.analyze(path)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - one odd file must not stop a long scan
            return Result(display_path(path), ERROR, reason=f"{type(exc).__name__}: {_describe(exc)}")

    def analyze_many(self, paths: Iterable, jobs: int = 1) -> Iterator[Result]:
        """Results in the order of ``paths``, analysing ``jobs`` files at a time.

        At most ``2 * jobs`` files are queued ahead of the consumer, and leaving early (an
        exception, Ctrl-C, closing the iterator) cancels what has not started instead of
        waiting for it. A file never stops the run: what goes wrong is in its result.
        """
        if jobs <= 1:
            yield from map(self._analyze_or_error, paths)
            return
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="penthy")
        pending = deque()
        try:
            for path in paths:
                pending.append(pool.submit(self._analyze_or_error, path))
                if len(pending) >= 2 * jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            pool.shutdown(wait=not pending, cancel_futures=True)


def _wider(path, windows):
    """(samples, starts) of up to WIDE_WINDOWS windows of the file, for the detectors that read
    more of a file left undecided; None where the track holds under twice the windows read."""
    if min(WIDE_WINDOWS, windows.frames // window_length(windows.sample_rate)) < 2 * len(windows.starts):
        return None
    try:
        more = read_windows(os.fsencode(path), max_windows=WIDE_WINDOWS)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError, TypeError):
        return None  # the windows already read stand on their own
    return None if more.samples is None else (more.samples, more.starts)


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.replace("\n", " ")


_default: Analyzer | None = None


def analyze(path, model=None, threads: int = 1) -> Result:
    """Analyse one file with the shipped model (or ``model``, a path to a retrained one)."""
    global _default
    if model is not None:
        return Analyzer(model, threads=threads).analyze(path)
    if _default is None:
        _default = Analyzer(threads=threads)
    return _default.analyze(path)


def analyze_many(paths: Iterable, model=None, threads: int = 1, jobs: int = 1) -> Iterator[Result]:
    """Analyse many files with one model session."""
    return Analyzer(model, threads=threads).analyze_many(paths, jobs=jobs)
