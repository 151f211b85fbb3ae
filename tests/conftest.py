import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import music, mp3_twin, tiny_model, write_flac  # noqa: E402


@pytest.fixture(scope="session")
def model_path(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model") / "tiny.onnx")


@pytest.fixture(scope="session")
def pair(tmp_path_factory):
    """A genuine full-band FLAC and its MP3-128 twin."""
    d = tmp_path_factory.mktemp("pair")
    genuine = write_flac(d / "genuine.flac", music(8.0, seed=1))
    return genuine, mp3_twin(genuine, d / "fake.flac", 128)
