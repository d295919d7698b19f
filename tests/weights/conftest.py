"""A real C2L-layout checkpoint (full-size ResNet-18, random weights) written once per session."""

from pathlib import Path

import pytest
import torch
import torchvision


@pytest.fixture(scope="session")
def c2l_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file laid out as C2L's training script saves it: ``{model: {encoder.module.*}}``."""
    torch.manual_seed(3)
    net = torchvision.models.resnet18()
    state = {f"encoder.module.{key}": value for key, value in net.state_dict().items()}
    path = tmp_path_factory.mktemp("release") / "c2l_res18.pth"
    torch.save({"model": state, "epoch": 200}, path)
    return path
