"""The CNN: a few 3x3 convolutions over the (mid, side) x frequency x time images.

It is small on purpose (about 57k parameters, ~9 M multiply-adds per 256-frame window)
so that a dozen windows cost a few milliseconds on one core. The first convolution sees
3 frames (8.7 ms) at full time resolution and then steps 2 frames, which keeps MP3's
13 ms granule pattern in view at half the cost. Pooling keeps the frequency axis (rows
are fixed Hz, so *where* energy stops matters) and summarises time with both the mean
and the max, so a pattern that appears in a few frames still counts, and so the net
takes windows of any length (training uses shorter crops than inference).
"""

from __future__ import annotations

import torch
from torch import nn

from ..constants import FEATURES

CHANNELS = (8, 16, 32, 64)
HIDDEN = 32


def _block(c_in: int, c_out: int, pool: bool, stride=1) -> nn.Sequential:
    layers = [nn.Conv2d(c_in, c_out, 3, padding=1, stride=stride, bias=False), nn.BatchNorm2d(c_out),
              nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class PenthyNet(nn.Module):
    """(B, 2, bands, frames) in [0, 1] -> (B,) logit that the window is lossless."""

    def __init__(self, n_bands: int = FEATURES.n_bands):
        super().__init__()
        c = (2,) + CHANNELS
        self.body = nn.Sequential(*[_block(c[i], c[i + 1], pool=i < len(CHANNELS) - 1, stride=(1, 2) if i == 0 else 1)
                                    for i in range(len(CHANNELS))])
        rows = n_bands // 2 ** (len(CHANNELS) - 1)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.2), nn.Linear(2 * CHANNELS[-1] * rows, HIDDEN), nn.ReLU(inplace=True),
            nn.Linear(HIDDEN, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        h = torch.cat([h.mean(dim=3), h.amax(dim=3)], dim=1)  # (B, 2C, rows)
        return self.head(h).squeeze(1)


def from_onnx(path) -> PenthyNet:
    """The net inside a shipped ``.onnx``, to fine-tune it when its checkpoint is gone.

    Export folds each batch norm into the convolution before it, so the convolutions come
    back with those weights and every batch norm becomes the identity plus the folded bias
    (its running statistics 0 and 1). Train it with ``freeze_batch_norm``: batch statistics
    would undo the folding.
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    net = PenthyNet()
    convs = [node for node in graph.node if node.op_type == "Conv"]
    blocks = list(net.body)
    if len(convs) != len(blocks):
        raise ValueError(f"{path}: {len(convs)} convolutions, the net has {len(blocks)}")
    state = net.state_dict()
    for i, node in enumerate(convs):
        w, b = weights[node.input[1]], weights[node.input[2]]
        state[f"body.{i}.0.weight"] = w
        bn = blocks[i][1]
        state[f"body.{i}.1.weight"] = torch.ones_like(b)
        state[f"body.{i}.1.bias"] = b
        state[f"body.{i}.1.running_mean"] = torch.zeros_like(b)
        state[f"body.{i}.1.running_var"] = torch.full_like(b, 1.0 - bn.eps)
    for name, value in weights.items():
        if name.startswith("net.head."):
            state[name[len("net."):]] = value
    net.load_state_dict(state)
    return net


def freeze_batch_norm(net: nn.Module) -> None:
    """Batch norms keep their running statistics (and learn only scale and shift)."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()


class Exported(nn.Module):
    """What ships: the net followed by a sigmoid, so the ONNX output is a probability."""

    def __init__(self, net: PenthyNet):
        super().__init__()
        self.net = net

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(features))
