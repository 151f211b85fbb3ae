"""penthy: tell genuine lossless audio from lossy transcodes.

    >>> import penthy_model
    >>> result = penthy_model.analyze("song.flac")
    >>> result.verdict, result.score

Importing this package is cheap: numpy, soundfile and onnxruntime load on first use.
"""

# The engine version: stored beside each verdict (``Result.engine``), so a change of the
# detector's code, not only of the model, marks stored verdicts as stale.
__version__ = "0.2.19"

_LAZY = {
    "analyze": "analyze",
    "analyze_many": "analyze",
    "Analyzer": "analyze",
    "Result": "result",
    "Model": "inference",
    "ModelError": "inference",
    "Thresholds": "inference",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'penthy_model' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
