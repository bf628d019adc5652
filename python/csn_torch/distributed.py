"""One process or many: what a rank needs to know under torchrun, and the one reduction it uses.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; the ranks meet through gloo on the CPU and nccl on
GPUs. Every rank draws the same whole batch from the same generator and takes its own share.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .errors import CSNTorchError


@dataclass
class Ranks:
    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def is_writer(self) -> bool:
        """Rank 0 writes the run folder; the others only train."""
        return self.rank == 0

    def share(self, count: int) -> tuple[int, int]:
        """This rank's slice [start, end) of `count` items (shares differ by at most one)."""
        return self.rank * count // self.world, (self.rank + 1) * count // self.world

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """The sum of `tensor` over all ranks (the tensor itself with one process)."""
        if not self.distributed:
            return tensor
        moved = tensor.to(self.device)
        dist.all_reduce(moved, op=dist.ReduceOp.SUM)
        return moved.to(tensor.device)

    def any(self, flag: bool) -> bool:
        """Whether any rank says yes (a stop asked on one rank stops them all at the same step)."""
        if not self.distributed:
            return flag
        return bool(self.sum(torch.tensor([1.0 if flag else 0.0])).item() > 0)

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


def start(device_name: str) -> Ranks:
    """Joins the process group when started by torchrun, and picks the device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device_name == "auto":
        device_name = "cuda" if torch.cuda.is_available() else "cpu"
    if device_name == "cuda":
        if not torch.cuda.is_available():
            raise CSNTorchError("--device cuda: no CUDA device is available to torch")
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
    elif device_name == "cpu":
        device = torch.device("cpu")
    else:
        raise CSNTorchError(f"--device must be auto, cpu or cuda, not '{device_name}'")
    if world > 1:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Ranks(rank=rank, world=world, local_rank=local_rank, device=device)


def finish(ranks: Ranks) -> None:
    if ranks.distributed and dist.is_initialized():
        dist.destroy_process_group()
