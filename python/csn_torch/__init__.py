"""csn_torch: the PyTorch trainer beside csn. It reads csn datasets, trains the paper's four
models on csn's small ConvNet or ResNet-18, in one process or under torchrun, and writes run
folders that csn opens (docs/run-formats.md)."""

from .errors import CSNTorchError

__all__ = ["CSNTorchError"]
