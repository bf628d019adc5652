"""The four models of the paper on csn's small ConvNet or a ResNet-18 backbone.

The small ConvNet is csn's EmbeddingNetwork (Sources/CSN/EmbeddingNetwork.swift): stages of
conv 3x3 (padding 1, no bias) -> batch norm (eps 1e-5, momentum 0.1) -> ReLU -> max-pool 2, then
a linear layer on the flattened NCHW features. Parameter names and their order are csn's
("net0.conv0.weight", ..., "masks"), so a state dict is a csn checkpoint and back.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .config import TrainingConfig
from .errors import CSNTorchError
from .rng import SeededGenerator

PIXEL_SCALE = np.float32(1 / 255)  # csn multiplies by the float32 reciprocal, not divides


def images_to_tensor(pixels: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 [N, C, S, S] to float32 in [0, 1], exactly as csn scales them."""
    return torch.from_numpy(np.ascontiguousarray(pixels)).to(device).float() * float(PIXEL_SCALE)


class ConvNet(nn.Module):
    """csn's embedding ConvNet; module names give csn's tensor names."""

    def __init__(self, image_size: int, channels: int, widths: list[int], dimension: int) -> None:
        super().__init__()
        if image_size % (1 << len(widths)) != 0:
            raise CSNTorchError(f"image size {image_size} cannot be halved {len(widths)} times")
        self.widths = list(widths)
        inputs = channels
        # Registered conv0, bn0, conv1, bn1, ..., fc: the parameters come out in csn's store order.
        for s, width in enumerate(widths):
            setattr(self, f"conv{s}", nn.Conv2d(inputs, width, 3, padding=1, bias=False))
            setattr(self, f"bn{s}", nn.BatchNorm2d(width, eps=1e-5, momentum=0.1))
            inputs = width
        final = image_size >> len(widths)
        self.flattened = widths[-1] * final * final
        self.fc = nn.Linear(self.flattened, dimension)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for s in range(len(self.widths)):
            x = getattr(self, f"conv{s}")(x)
            x = torch.relu(getattr(self, f"bn{s}")(x))
            x = nn.functional.max_pool2d(x, 2)
        return self.fc(torch.flatten(x, 1))

    def initialize_like_csn(self, generator: SeededGenerator) -> None:
        """csn's draws: conv/linear weights and the linear bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
        batch norm scale 1 and shift 0, running mean 0 and variance 1."""
        with torch.no_grad():
            for name, parameter in self.named_parameters():
                if name.startswith("bn"):
                    parameter.fill_(1.0 if name.endswith(".weight") else 0.0)
                    continue
                fan_in = self.flattened if name == "fc.bias" else parameter.numel() // parameter.shape[0]
                bound = np.float32(1) / np.sqrt(np.float32(fan_in))
                draws = np.array([generator.next() >> 40 for _ in range(parameter.numel())], dtype=np.float32)
                unit = draws * np.float32(1.0 / 16_777_216.0)
                values = (unit * np.float32(2) - np.float32(1)) * bound
                parameter.copy_(torch.from_numpy(values.reshape(tuple(parameter.shape))))
            for module in self.modules():
                if isinstance(module, nn.BatchNorm2d):
                    module.reset_running_stats()


def resnet18(channels: int, dimension: int, weights_path: str | None) -> nn.Module:
    """torchvision's ResNet-18 with a D-wide last layer; random init, or weights from a local file."""
    import torchvision  # only needed for this backbone

    net = torchvision.models.resnet18(weights=None, num_classes=dimension)
    if channels != 3:
        net.conv1 = nn.Conv2d(channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    if weights_path:
        try:
            state = torch.load(weights_path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises many kinds; the user needs the file and the reason
            raise CSNTorchError.file(weights_path, f"cannot read ResNet-18 weights ({error})") from None
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise CSNTorchError.file(weights_path, "is not a state dict of ResNet-18 weights")
        state = {k.removeprefix("module."): v for k, v in state.items() if not k.removeprefix("module.").startswith("fc.")}
        conv1 = state.get("conv1.weight")
        if conv1 is not None and channels != conv1.shape[1]:
            # Grey input: the RGB filters summed over their channels see the same image.
            state["conv1.weight"] = conv1.sum(dim=1, keepdim=True).repeat(1, channels, 1, 1) / channels
        missing, unexpected = net.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("fc.")]
        if missing or unexpected:
            raise CSNTorchError.file(
                weights_path, f"does not match ResNet-18 (missing {missing[:3]}, unexpected {unexpected[:3]})"
            )
    return net


def disjoint_masks(conditions: int, dimension: int) -> np.ndarray:
    """Block c holds dimensions [c*D/K, (c+1)*D/K); the last block takes the remainder."""
    masks = np.zeros((conditions, dimension), dtype=np.float32)
    block = dimension // conditions
    for c in range(conditions):
        end = dimension if c == conditions - 1 else (c + 1) * block
        masks[c, c * block:end] = 1
    return masks


class CSNModel(nn.Module):
    """Embedding network(s) and masks of one of the four kinds.

    standard: one network, all-one masks; task-specific: one network per condition; csn-fixed:
    one network, disjoint masks; csn-learned: one network, masks m = ReLU(beta) with beta learned.
    """

    def __init__(self, config: TrainingConfig, image_size: int, channels: int, conditions: int,
                 backbone_weights: str | None = None) -> None:
        super().__init__()
        self.kind = config.model
        self.backbone = config.backbone
        self.conditions = conditions
        self.dimension = config.embeddingDimension
        self.network_count = conditions if self.kind == "task-specific" else 1
        for i in range(self.network_count):
            if self.backbone == "convnet":
                net: nn.Module = ConvNet(image_size, channels, config.resolved_widths(image_size), self.dimension)
            else:
                net = resnet18(channels, self.dimension, backbone_weights)
            setattr(self, f"net{i}", net)
        if self.kind == "csn-learned":
            self.masks = nn.Parameter(torch.ones(conditions, self.dimension))
        else:
            constant = disjoint_masks(conditions, self.dimension) if self.kind == "csn-fixed" \
                else np.ones((conditions, self.dimension), np.float32)
            self.register_buffer("constant_masks", torch.from_numpy(constant), persistent=False)

    def network(self, index: int) -> nn.Module:
        return getattr(self, f"net{index}")

    def network_index(self, condition: int) -> int:
        return condition if self.kind == "task-specific" else 0

    @property
    def learns_masks(self) -> bool:
        return self.kind == "csn-learned"

    def effective_masks(self) -> torch.Tensor:
        """[K, D]: ReLU(beta) for learned masks, else the constant masks."""
        return torch.relu(self.masks) if self.learns_masks else self.constant_masks

    def forward(self, blocks: list[torch.Tensor | None]) -> tuple[list[torch.Tensor | None], torch.Tensor]:
        """Embeds each network's block of images (None: the network has no images this time) and
        returns the effective masks with them. One call per step, with the masks among the
        outputs, so that DistributedDataParallel sees every parameter the loss uses."""
        return [None if x is None else self.network(i)(x) for i, x in enumerate(blocks)], self.effective_masks()

    def initialize(self, config: TrainingConfig) -> None:
        """csn's initialisation from the seed (small ConvNet: the same numbers as csn);
        ResNet-18 keeps torchvision's initialisation, seeded by torch."""
        generator = SeededGenerator(config.seed)
        for i in range(self.network_count):
            net = self.network(i)
            if isinstance(net, ConvNet):
                net.initialize_like_csn(generator)
        if self.learns_masks:
            k, d = self.conditions, self.dimension
            if config.maskInitialization == "disjoint":
                beta = disjoint_masks(k, d)
            else:
                mean, std = np.float32(config.maskMean), np.float32(config.maskStd)
                beta = np.array([mean + std * generator.normal() for _ in range(k * d)], dtype=np.float32).reshape(k, d)
            with torch.no_grad():
                self.masks.copy_(torch.from_numpy(beta))

    def store_order(self) -> list[tuple[str, nn.Parameter]]:
        """Parameters in csn's store order: every network's, then the masks (the layout of
        optimizer.m / optimizer.v). torch itself lists a module's own parameters (the masks) first."""
        ordered = [(f"net{i}.{name}", p) for i in range(self.network_count) for name, p in self.network(i).named_parameters()]
        if self.learns_masks:
            ordered.append(("masks", self.masks))
        return ordered

    def running_statistics(self) -> dict[str, torch.Tensor]:
        """Batch-norm running means and variances by their csn names (net{i}.bn{s}.running_*)."""
        return {name: buffer for name, buffer in self.named_buffers()
                if name.endswith(".running_mean") or name.endswith(".running_var")}


def trainable_parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def seed_torch(seed: int) -> None:
    """torch's own generator (ResNet-18 initialisation), from the run's seed."""
    torch.manual_seed(seed % (1 << 63))
