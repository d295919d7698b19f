"""The three image-backbone families behind the contract: DINOv2 (transformers), ViT (timm /
open_clip) and ResNet (torchvision). Each wraps the library module unchanged, so checkpoints load
into the library's own key names, and only says where the tokens are."""

from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image

from radsweep.encoders.base import CropBox, EncoderInfo, ImageEncoder, ImageTokens
from radsweep.encoders.preprocess import Preprocessing


class FrozenImageEncoder(ImageEncoder):
    """Shared by the families: the preprocessing spec, and a module that stays frozen."""

    def __init__(
        self,
        info: EncoderInfo,
        weights_identity: str,
        preprocessing: Preprocessing,
        variant: str | None,
    ) -> None:
        super().__init__()
        self.info = info
        self.weights_identity = weights_identity
        self.preprocessing = preprocessing
        self.variant = variant

    def preprocessing_id(self) -> dict[str, Any]:
        return {"variant": self.variant, **self.preprocessing.identity(), **self._model_steps()}

    def _model_steps(self) -> dict[str, Any]:
        """Resampling the model does inside ``forward`` (GLoRIA's upsample); none by default."""
        return {}

    def preprocess(self, image: Image.Image, box: CropBox | None = None) -> torch.Tensor:
        return self.preprocessing(image, box)

    def train(self, mode: bool = True) -> "FrozenImageEncoder":
        """Always eval: a frozen backbone never switches on dropout or batch-norm updates."""
        return super().train(False)


class Dinov2Encoder(FrozenImageEncoder):
    """transformers ``Dinov2Model``: ``last_hidden_state`` (after the final LayerNorm)."""

    def __init__(self, model: torch.nn.Module, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model

    def forward(self, pixels: torch.Tensor) -> ImageTokens:
        hidden = self.model(pixel_values=pixels).last_hidden_state
        return ImageTokens(tokens=hidden[:, 1:], cls=hidden[:, 0])


class ViTEncoder(FrozenImageEncoder):
    """timm ``VisionTransformer``: ``forward_features`` (final norm applied), CLS first.

    ``model`` is what the checkpoint loads into; for BiomedCLIP it is open_clip's vision tower,
    whose ``trunk`` is the ViT (its projection head is loaded but unused: tokens are 768-d).
    """

    def __init__(self, model: torch.nn.Module, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model

    @property
    def trunk(self) -> torch.nn.Module:
        return getattr(self.model, "trunk", self.model)

    def forward(self, pixels: torch.Tensor) -> ImageTokens:
        trunk: Any = self.trunk  # a timm ViT: forward_features is not torch.nn.Module's
        hidden = trunk.forward_features(pixels)
        return ImageTokens(tokens=hidden[:, trunk.num_prefix_tokens :], cls=hidden[:, 0])


class ResNetEncoder(FrozenImageEncoder):
    """torchvision ``ResNet`` up to ``layer4``; the grid flattened row-major, no CLS.

    ``upsample`` reproduces GLoRIA's in-model bilinear resize (``align_corners=True``) to 299.
    """

    def __init__(self, model: torch.nn.Module, upsample: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.upsample = upsample

    def _model_steps(self) -> dict[str, Any]:
        return {"upsample": self.upsample}

    def forward(self, pixels: torch.Tensor) -> ImageTokens:
        if self.upsample is not None:
            size = (self.upsample, self.upsample)
            pixels = F.interpolate(pixels, size=size, mode="bilinear", align_corners=True)
        net: Any = self.model  # a torchvision ResNet, which ships no types
        x = net.maxpool(net.relu(net.bn1(net.conv1(pixels))))
        x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
        return ImageTokens(tokens=x.flatten(2).transpose(1, 2), cls=None)


def resnet_grid(side: int) -> int:
    """ResNet's output side: five stride-2 stages, each ``ceil(n / 2)`` (299 → 10, 448 → 14)."""
    for _ in range(5):
        side = (side + 1) // 2
    return side
