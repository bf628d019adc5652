"""A run's config.json with csn's keys, defaults and range checks (Sources/CSN/TrainingConfig.swift).

csn decodes config.json with Swift's Codable, which needs every key it knows (`widths` and
`trainTriplets` may be absent) and ignores others. The PyTorch trainer adds one key of its own,
`backbone`, only for backbones csn cannot run (csn never reads it).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .errors import CSNTorchError

MODELS = ("standard", "task-specific", "csn-fixed", "csn-learned")
BACKBONES = ("convnet", "resnet18")
MAX_BATCH, MAX_STEPS, MAX_THREADS = 65_536, 1_000_000_000, 256
MAX_TRAIN_TRIPLETS, MAX_VALIDATION_TRIPLETS = 100_000_000, 10_000_000
MAX_STAGES, MAX_WIDTH, MAX_EMBEDDING = 6, 4096, 65_536


@dataclass
class LossWeights:
    margin: float = 0.2
    embedding: float = 5e-3
    mask: float = 5e-4


@dataclass
class TrainingConfig:
    model: str = "csn-learned"
    maskInitialization: str = "normal"
    maskMean: float = 0.9
    maskStd: float = 0.7
    embeddingDimension: int = 64
    widths: list[int] | None = None
    batchSize: int = 64
    steps: int = 2000
    learningRate: float = 1e-3
    schedule: str = "cosine"
    loss: LossWeights = field(default_factory=LossWeights)
    seed: int = 1
    trainTriplets: int | None = None
    validateEvery: int = 250
    validationTripletsPerCondition: int = 1000
    checkpointEvery: int = 500
    threads: int = 1
    dataPath: str = ""
    backbone: str = "convnet"

    def learning_rate(self, step: int) -> float:
        """csn's schedule in float32: constant, or half a cosine from the rate to 0 at the last step."""
        rate = np.float32(self.learningRate)
        if self.schedule == "constant":
            return float(rate)
        progress = step / max(self.steps, 1)
        return float(rate * np.float32(0.5 * (1 + math.cos(math.pi * min(progress, 1)))))

    def resolved_widths(self, image_size: int) -> list[int]:
        """The stage widths: the config's, or csn's default 32/64/128 (a fourth 128 at 64 px and more)."""
        if self.widths is not None:
            return list(self.widths)
        return [32, 64, 128, 128] if image_size >= 64 else [32, 64, 128]

    def validate(self) -> None:
        """csn's range checks; the first value out of range raises with csn's sentence."""

        def check(ok: bool, message: str) -> None:
            if not ok:
                raise CSNTorchError(message)

        check(self.model in MODELS, f"unknown model '{self.model}' (expected one of {', '.join(MODELS)})")
        check(self.backbone in BACKBONES, f"unknown backbone '{self.backbone}' (expected one of {', '.join(BACKBONES)})")
        check(self.maskInitialization in ("normal", "disjoint"), f"unknown mask initialization '{self.maskInitialization}'")
        check(self.schedule in ("constant", "cosine"), f"unknown schedule '{self.schedule}'")
        check(1 <= self.batchSize <= MAX_BATCH, f"the batch size must be between 1 and {MAX_BATCH} triplets, not {self.batchSize}")
        check(1 <= self.steps <= MAX_STEPS, f"the number of steps must be between 1 and {MAX_STEPS}, not {self.steps}")
        check(self.learningRate > 0 and math.isfinite(self.learningRate), f"the learning rate must be a positive number, not {self.learningRate}")
        check(self.loss.margin >= 0 and math.isfinite(self.loss.margin), f"the margin must be zero or a positive number, not {self.loss.margin}")
        check(self.loss.embedding >= 0 and math.isfinite(self.loss.embedding),
              f"the embedding-norm weight must be zero or a positive number, not {self.loss.embedding}")
        check(self.loss.mask >= 0 and math.isfinite(self.loss.mask), f"the mask L1 weight must be zero or a positive number, not {self.loss.mask}")
        check(math.isfinite(self.maskMean) and math.isfinite(self.maskStd) and self.maskStd >= 0,
              f"the mask start N({self.maskMean}, {self.maskStd}) needs a finite mean and a standard deviation of at least 0")
        check(1 <= self.embeddingDimension <= MAX_EMBEDDING,
              f"the embedding dimension must be between 1 and {MAX_EMBEDDING}, not {self.embeddingDimension}")
        check(1 <= self.threads <= MAX_THREADS, f"the number of threads must be between 1 and {MAX_THREADS}, not {self.threads}")
        check(self.validateEvery >= 1, f"validation must run every 1 or more steps, not every {self.validateEvery}")
        check(self.checkpointEvery >= 1, f"checkpoints must be written every 1 or more steps, not every {self.checkpointEvery}")
        check(0 <= self.validationTripletsPerCondition <= MAX_VALIDATION_TRIPLETS,
              f"validation triplets per condition must be between 0 and {MAX_VALIDATION_TRIPLETS}, not {self.validationTripletsPerCondition}")
        if self.widths is not None:
            check(1 <= len(self.widths) <= MAX_STAGES and all(1 <= w <= MAX_WIDTH for w in self.widths),
                  f"stage widths {self.widths} must be 1 to {MAX_STAGES} numbers between 1 and {MAX_WIDTH}")
        if self.trainTriplets is not None:
            check(self.batchSize <= self.trainTriplets <= MAX_TRAIN_TRIPLETS,
                  f"the training pool must hold between the batch size ({self.batchSize}) and {MAX_TRAIN_TRIPLETS} triplets, not {self.trainTriplets}")

    def to_json(self, condition_names: list[str] | None = None) -> str:
        """Sorted keys, two-space indent, absent optionals left out, as csn writes it; the dataset's
        condition names under `conditionNames` (csn watch names the validation curves by them)."""
        data: dict[str, Any] = asdict(self)
        if condition_names is not None:
            data["conditionNames"] = list(condition_names)
        for key in ("widths", "trainTriplets"):
            if data[key] is None:
                del data[key]
        if data["backbone"] == "convnet":
            del data["backbone"]
        return json.dumps(data, indent=2, sort_keys=True, separators=(",", " : ")) + "\n"


_REQUIRED = ("model", "maskInitialization", "maskMean", "maskStd", "embeddingDimension", "batchSize", "steps",
             "learningRate", "schedule", "loss", "seed", "validateEvery", "validationTripletsPerCondition",
             "checkpointEvery", "threads", "dataPath")
_INTEGERS = ("embeddingDimension", "batchSize", "steps", "seed", "validateEvery", "validationTripletsPerCondition",
             "checkpointEvery", "threads")
_NUMBERS = ("maskMean", "maskStd", "learningRate")


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value: object) -> bool:
    return _number(value) and float(value) == int(value)  # type: ignore[arg-type]


def parse(text: bytes, path: str) -> TrainingConfig:
    """A config.json, checked as csn checks it; errors name the file and the field."""

    def fail(message: str) -> CSNTorchError:
        return CSNTorchError.file(path, f"not a valid training config: {message}")

    try:
        data = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise fail("the file is not JSON") from None
    if not isinstance(data, dict):
        raise fail("the file is not a JSON object")
    for key in _REQUIRED:
        if key not in data:
            raise fail(f"'{key}' is missing")
    for key in _INTEGERS:
        if not _integer(data[key]):
            raise fail(f"'{key}': expected a whole number")
    for key in _NUMBERS:
        if not _number(data[key]):
            raise fail(f"'{key}': expected a number")
    loss = data["loss"]
    if not isinstance(loss, dict) or not all(_number(loss.get(k)) for k in ("margin", "embedding", "mask")):
        raise fail("'loss': expected margin, embedding and mask numbers")
    widths = data.get("widths")
    if widths is not None and not (isinstance(widths, list) and all(_integer(w) for w in widths)):
        raise fail("'widths': expected a list of whole numbers")
    pool = data.get("trainTriplets")
    if pool is not None and not _integer(pool):
        raise fail("'trainTriplets': expected a whole number")
    for key in ("model", "maskInitialization", "schedule", "dataPath"):
        if not isinstance(data[key], str):
            raise fail(f"'{key}': expected a string")
    config = TrainingConfig(
        model=data["model"], maskInitialization=data["maskInitialization"], maskMean=float(data["maskMean"]),
        maskStd=float(data["maskStd"]), embeddingDimension=int(data["embeddingDimension"]),
        widths=[int(w) for w in widths] if widths is not None else None, batchSize=int(data["batchSize"]),
        steps=int(data["steps"]), learningRate=float(data["learningRate"]), schedule=data["schedule"],
        loss=LossWeights(float(loss["margin"]), float(loss["embedding"]), float(loss["mask"])),
        seed=int(data["seed"]), trainTriplets=int(pool) if pool is not None else None,
        validateEvery=int(data["validateEvery"]), validationTripletsPerCondition=int(data["validationTripletsPerCondition"]),
        checkpointEvery=int(data["checkpointEvery"]), threads=int(data["threads"]), dataPath=data["dataPath"],
        backbone=data.get("backbone", "convnet") if isinstance(data.get("backbone", "convnet"), str) else "?",
    )
    if not 0 <= config.seed < 1 << 64:
        raise fail("'seed': expected a whole number from 0 to 2^64-1")
    try:
        config.validate()
    except CSNTorchError as error:
        raise CSNTorchError.file(path, str(error)) from None
    return config
