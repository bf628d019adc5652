"""Training: csn's step (Sources/CSN/TrainingSession.swift) and loop (Sources/CSN/Trainer.swift)
in PyTorch, in one process or as one rank of many.

A step draws the batch (conditions cycling from (step * B) mod K), each rank embeds its share,
each network its own triplets' images in one block [anchors; positives; negatives], takes the
loss, and Adam updates with the rate of the step about to be taken. Validation every
`validateEvery` steps and at the end (best.safetensors when the mean improves), a checkpoint every
`checkpointEvery` steps and at the end, a metrics row every 50 steps. Rank 0 writes.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import checkpoint, embeddings, runfolder
from .config import TrainingConfig
from .dataset import ImageDataset
from .distributed import Ranks
from .errors import CSNTorchError
from .evaluate import accuracy, embed, mean, subset, table
from .loss import LossTerms, triplet_loss
from .model import CSNModel, images_to_tensor
from .rng import SeededGenerator
from .sampler import TripletSampler

METRICS_EVERY = 50  # csn appends a training row every 50 steps (10 x its publishing interval)
TRAIN_SEED_SALT = 0x5452_4149_4E00
POOL_SEED_SALT = 0x504F_4F4C


@dataclass
class RunState:
    """What a checkpoint carries besides the weights."""

    step: int = 0
    generator: SeededGenerator = field(default_factory=lambda: SeededGenerator(0))
    best_validation: float = -math.inf


def training_pool(config: TrainingConfig, dataset: ImageDataset) -> tuple[TripletSampler | None, list[np.ndarray] | None]:
    """The sampler, or the fixed pool per condition (the data's own list, or `trainTriplets` drawn once)."""
    k = len(dataset.conditions)
    if len(dataset.train_triplets) > 0:
        pool = []
        for c in range(k):
            mine = dataset.train_triplets[dataset.train_triplets[:, 0] == c]
            if len(mine) == 0:
                raise CSNTorchError(f"the dataset's training list has no triplets for condition '{dataset.conditions[c].name}'")
            pool.append(mine)
        return None, pool
    sampler = TripletSampler(dataset, 0, require_all=True)
    if config.trainTriplets is None:
        return sampler, None
    generator = SeededGenerator(config.seed ^ POOL_SEED_SALT)
    per_condition = max(1, config.trainTriplets // k)
    pool = [np.array([sampler.sample(c, generator) for _ in range(per_condition)], dtype=np.int32) for c in range(k)]
    return sampler, pool


class StopRequest:
    """SIGINT/SIGTERM ask the run to stop after its step and save, as csn does; a second one ends it."""

    def __init__(self) -> None:
        self.asked = False
        self._previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}

    def _handle(self, signum: int, frame: object) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True

    def restore(self) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)


class Session:
    """One run's model, optimiser, sampler and state, on one rank."""

    def __init__(self, config: TrainingConfig, dataset: ImageDataset, model: CSNModel, ranks: Ranks,
                 state: RunState, optimizer: torch.optim.Optimizer) -> None:
        self.config = config
        self.dataset = dataset
        self.model = model
        self.ranks = ranks
        self.state = state
        self.optimizer = optimizer
        self.sampler, self.pool = training_pool(config, dataset)
        k = len(dataset.conditions)
        self.validation_triplets = subset(dataset.val_triplets, config.validationTripletsPerCondition, k)
        self.network_of_condition = np.array([model.network_index(c) for c in range(k)])
        self.trainable: nn.Module = model
        if ranks.distributed:
            self.trainable = nn.parallel.DistributedDataParallel(
                model, device_ids=[ranks.device.index] if ranks.device.type == "cuda" else None,
                find_unused_parameters=model.kind == "task-specific")

    def next_batch(self) -> np.ndarray:
        """The whole batch [B, 4], the same on every rank: conditions cycle so a batch mixes them."""
        k, b = len(self.dataset.conditions), self.config.batchSize
        first = (self.state.step * b) % k
        if self.pool is None:
            assert self.sampler is not None
            return self.sampler.sample_mixed(b, first, self.state.generator)
        rows = []
        for t in range(b):
            pool = self.pool[(first + t) % k]
            rows.append(pool[self.state.generator.index(len(pool))])
        return np.array(rows, dtype=np.int32)

    def train_step(self) -> LossTerms:
        """One optimisation step; raises, leaving the weights untouched, if the loss is not finite."""
        batch = self.next_batch()
        start, end = self.ranks.share(len(batch))
        mine = batch[start:end]
        device = self.ranks.device
        blocks: list[torch.Tensor | None] = []
        members: list[np.ndarray] = []
        for network in range(self.model.network_count):
            rows = mine[self.network_of_condition[mine[:, 0]] == network] if len(mine) else mine
            members.append(rows)
            if len(rows) == 0:
                blocks.append(None)
                continue
            images = np.concatenate([rows[:, 1], rows[:, 2], rows[:, 3]])
            blocks.append(images_to_tensor(self.dataset.images[images], device))
        self.optimizer.zero_grad(set_to_none=True)
        outputs, masks = self.trainable(blocks)
        anchors, positives, negatives, conditions = [], [], [], []
        for rows, out in zip(members, outputs):
            if out is None:
                continue
            m = len(rows)
            anchors.append(out[:m])
            positives.append(out[m:2 * m])
            negatives.append(out[2 * m:])
            conditions.append(torch.from_numpy(rows[:, 0].astype(np.int64)))
        a, p, n = torch.cat(anchors), torch.cat(positives), torch.cat(negatives)
        c = torch.cat(conditions).to(device)
        objective, terms = triplet_loss(
            a, p, n, masks, c, self.config.loss, self.model.learns_masks, len(batch),
            ranks=self.ranks.world, sum_across_ranks=self.ranks.sum)
        if not math.isfinite(terms.total):
            raise CSNTorchError(
                f"training diverged at step {self.state.step + 1}: the loss is {terms.total} (triplet {terms.triplet}, "
                f"embedding {terms.embedding}, mask {terms.mask}); try a lower learning rate")
        objective.backward()
        # csn's step t (from 1) uses the rate of step t - 1 of the schedule.
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.learning_rate(self.state.step)
        self.optimizer.step()
        self.state.step += 1
        return terms

    def validate(self) -> tuple[list[float], bool]:
        """Accuracy per condition on the run's validation subset; remembers the best mean."""
        accuracies = accuracy(self.model, self.dataset, self.validation_triplets, self.ranks.device)
        value = mean(accuracies)
        improved = value > self.state.best_validation
        if improved:
            self.state.best_validation = value
        return accuracies, improved

    def weights_are_usable(self) -> bool:
        """Every parameter and statistic finite, and a few images embed to finite vectors."""
        tensors = list(self.model.parameters()) + list(self.model.running_statistics().values())
        if not all(bool(torch.isfinite(t).all()) for t in tensors):
            return False
        triplets = self.validation_triplets
        probe = triplets[:4, 1] if len(triplets) else self.dataset.indices_in(0)[:4]
        return all(bool(torch.isfinite(embed(self.model, i, self.dataset, probe.astype(np.int64), self.ranks.device)).all())
                   for i in range(self.model.network_count))

    def save(self, directory: str, is_best: bool = False) -> None:
        if not self.weights_are_usable():
            raise CSNTorchError(
                f"the weights at step {self.state.step} are not finite or give non-finite embeddings, so they were "
                f"not saved; the previous checkpoint in {directory} is kept")
        checkpoint.save(directory, self.config, self.model, self.optimizer, self.state.step, self.state.generator,
                        self.state.best_validation, is_best, [c.name for c in self.dataset.conditions])


class Logger:
    """Progress lines on standard output and, with --tensorboard, scalars for TensorBoard."""

    def __init__(self, conditions: list[str], total_steps: int, batch: int, tensorboard_dir: str | None,
                 quiet: bool = False) -> None:
        self.conditions = conditions
        self.total_steps = total_steps
        self.batch = batch
        self.quiet = quiet
        self.writer = None
        self.clock = time.monotonic()
        self.steps_since_clock = 0
        self.rate = 0.0
        self.last_loss: float | None = None
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                print("note: --tensorboard needs the tensorboard package (pip install tensorboard); "
                      "no events are written", file=sys.stderr)
            else:
                self.writer = SummaryWriter(log_dir=tensorboard_dir)

    def step(self, step: int, terms: LossTerms, learning_rate: float) -> None:
        self.steps_since_clock += 1
        self.last_loss = terms.total
        elapsed = time.monotonic() - self.clock
        if elapsed >= 5:
            self.rate = self.steps_since_clock * self.batch / elapsed
            self.clock, self.steps_since_clock = time.monotonic(), 0
            if not self.quiet:
                print(f"step {step}/{self.total_steps} loss {terms.total:.4f} {int(self.rate)} triplets/s", flush=True)
        if self.writer is not None and step % METRICS_EVERY == 0:
            self.writer.add_scalar("loss", terms.total, step)
            self.writer.add_scalar("loss/triplet", terms.triplet, step)
            self.writer.add_scalar("loss/embedding", terms.embedding, step)
            self.writer.add_scalar("loss/mask", terms.mask, step)
            self.writer.add_scalar("learning_rate", learning_rate, step)

    def validation(self, step: int, accuracies: list[float]) -> None:
        parts = ", ".join(f"{name} {'-' if math.isnan(v) else f'{100 * v:.1f}'}" for name, v in zip(self.conditions, accuracies))
        loss = "-" if self.last_loss is None else f"{self.last_loss:.4f}"
        if not self.quiet:
            print(f"step {step}/{self.total_steps} val {100 * mean(accuracies):.1f}% ({parts}) loss {loss} "
                  f"{int(self.rate)} triplets/s", flush=True)
        if self.writer is not None:
            for name, value in zip(self.conditions, accuracies):
                if not math.isnan(value):
                    self.writer.add_scalar(f"val/{name}", value, step)
            self.writer.add_scalar("val/mean", mean(accuracies), step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def run_loop(session: Session, directory: str | None, logger: Logger, stop: StopRequest) -> str:
    """Trains to the last step (or a stop); returns 'finished' or 'stopped'."""
    config, state, writer = session.config, session.state, session.ranks.is_writer
    while state.step < config.steps:
        if session.ranks.any(stop.asked):
            break
        terms = session.train_step()
        step = state.step
        rate = config.learning_rate(step)
        if writer:
            logger.step(step, terms, rate)
        if step % config.validateEvery == 0 or step == config.steps:
            if writer:
                accuracies, improved = session.validate()
                logger.validation(step, accuracies)
                if directory is not None:
                    if improved:
                        session.save(directory, is_best=True)
                    runfolder.append_metrics(directory, {"step": step, "validation": accuracies,
                                                         "validation_mean": mean(accuracies)})
            session.ranks.barrier()
        if writer and directory is not None and step % config.checkpointEvery == 0:
            session.save(directory)
        if writer and directory is not None and step % METRICS_EVERY == 0:
            runfolder.append_metrics(directory, {
                "step": step, "loss": terms.total, "triplet": terms.triplet, "embedding": terms.embedding,
                "mask": terms.mask, "learning_rate": rate})
    if writer and directory is not None:
        session.save(directory)
    return "finished" if state.step >= config.steps else "stopped"


def final_report(session: Session, directory: str, dataset_reference: str | None = None) -> None:
    """csn's closing table (test accuracy of the best validation weights, or the last), then
    embeddings.safetensors from the same weights."""
    best = os.path.join(directory, runfolder.BEST)
    source = best if os.path.exists(best) else os.path.join(directory, runfolder.MODEL)
    step = checkpoint.restore_weights(session.model, checkpoint.open_archive(source, session.model))
    test = session.dataset.test_triplets
    accuracies = accuracy(session.model, session.dataset, test, session.ranks.device)
    which = "best validation checkpoint" if source == best else "last weights"
    print(f"\ntest triplet accuracy ({which}, {len(test)} triplets):")
    print(table(session.dataset.condition_names, [(session.model.kind, accuracies)]))
    rows = embeddings.write(os.path.join(directory, runfolder.EMBEDDINGS), session.model, session.dataset,
                            session.ranks.device, step, dataset_reference)
    print(f"embeddings: {rows} val and test images at step {step} in {os.path.join(directory, runfolder.EMBEDDINGS)}")
    print(f"checkpoint: {directory}", flush=True)
