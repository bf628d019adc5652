"""`python -m csn_torch train | eval | embed`: the PyTorch trainer's command line.

Options mirror `csn train` (same names, same defaults), plus what only PyTorch has: --backbone,
--backbone-weights, --device, --init-from, --tensorboard. Under `torchrun --nproc_per_node N`
every rank runs the same command; rank 0 writes the run folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import sys

import torch

from . import checkpoint, distributed, embeddings, runfolder
from .config import BACKBONES, MODELS, TrainingConfig
from .dataset import DEFAULT_MAX_BYTES, load, terminal_safe
from .errors import CSNTorchError
from .evaluate import accuracy, table
from .model import CSNModel, seed_torch
from .rng import SeededGenerator
from .train import TRAIN_SEED_SALT, Logger, RunState, Session, StopRequest, final_report, run_loop

DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Assets", "fonts32.safetensors.gz")

# Options that shape a new run's config; --resume takes the run's own config instead.
_CONFIG_OPTIONS = ("model", "backbone", "backbone_weights", "batch", "dim", "widths", "lr", "schedule", "margin",
                   "embed_weight", "mask_weight", "mask_init", "train_triplets", "seed", "validate_every",
                   "checkpoint_every")


def default_data() -> str:
    return os.environ.get("CSN_DATA") or os.path.normpath(DEFAULT_DATA)


def _widths(text: str) -> list[int]:
    try:
        values = [int(part.strip()) for part in text.split(",")]
    except ValueError:
        values = []
    if not 1 <= len(values) <= 6 or not all(1 <= v <= 4096 for v in values):
        raise argparse.ArgumentTypeError(f"--widths must be 1 to 6 integers between 1 and 4096 separated by commas, not '{text}'")
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m csn_torch", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="Train a model and write a csn run folder.")
    train.add_argument("--data", help="Dataset file (.safetensors.gz); default: the embedded fonts data.")
    train.add_argument("--model", choices=MODELS, help="Model (default csn-learned).")
    train.add_argument("--backbone", choices=BACKBONES, help="Embedding network: csn's small ConvNet (default) or ResNet-18.")
    train.add_argument("--backbone-weights", metavar="FILE", help="ResNet-18 weights (a torchvision state dict) to start from; nothing is downloaded.")
    train.add_argument("--steps", type=int, help="Training steps (batches). Default 2000.")
    train.add_argument("--batch", type=int, help="Triplets per batch, over all ranks (default 64).")
    train.add_argument("--dim", type=int, help="Embedding dimension D (default 64).")
    train.add_argument("--widths", type=_widths, help="Channels of the conv stages, comma-separated (default 32,64,128).")
    train.add_argument("--lr", type=float, help="Adam learning rate (default 0.001).")
    train.add_argument("--schedule", choices=("constant", "cosine"), help="Learning-rate schedule (default cosine).")
    train.add_argument("--margin", type=float, help="Triplet margin h (default 0.2).")
    train.add_argument("--embed-weight", type=float, help="Weight of the embedding-norm term (default 0.005).")
    train.add_argument("--mask-weight", type=float, help="Weight of the mask L1 term (default 0.0005).")
    train.add_argument("--mask-init", choices=("normal", "disjoint"), help="Learned masks start from N(0.9, 0.7) or the disjoint blocks.")
    train.add_argument("--train-triplets", type=int, help="Train on a fixed pool of this many triplets instead of fresh ones.")
    train.add_argument("--seed", type=int, help="Seed for initialisation and sampling (default 1).")
    train.add_argument("--threads", type=int, help="torch threads per process (default 1).")
    train.add_argument("--validate-every", type=int, help="Validate every N steps (default 250).")
    train.add_argument("--checkpoint-every", type=int, help="Save a checkpoint every N steps (default 500).")
    train.add_argument("--out", help="Run folder; default runs/MODEL-DATE-TIME.")
    train.add_argument("--resume", metavar="RUN", help="Continue this run (written by csn_torch) where it stopped; --steps may extend it.")
    train.add_argument("--init-from", metavar="RUN", help="Start from a csn run's last checkpoint (weights, Adam, sampler) and continue training it into --out.")
    train.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto).")
    train.add_argument("--tensorboard", nargs="?", const="", metavar="DIR", help="Also write TensorBoard scalars (to DIR, default the run folder).")
    train.add_argument("--max-memory", type=float, default=DEFAULT_MAX_BYTES / (1 << 30), help="Memory limit in GiB for reading a file (default 8).")
    train.add_argument("--quiet", action="store_true", help="Only the closing table.")

    evaluate = commands.add_parser("eval", help="Print a run's triplet accuracy per condition, as csn eval does.")
    evaluate.add_argument("run")
    evaluate.add_argument("--last", action="store_true", help="Use the last weights instead of the best validation checkpoint.")
    evaluate.add_argument("--data", help="Dataset file; default: the one the run was trained on.")
    evaluate.add_argument("--split", choices=("val", "test"), default="test")
    evaluate.add_argument("--device", default="auto")
    evaluate.add_argument("--threads", type=int, default=1)

    embed = commands.add_parser("embed", help="Write a run's val and test embeddings (embeddings.safetensors).")
    embed.add_argument("run")
    embed.add_argument("--out", help="File to write; default RUN/embeddings.safetensors.")
    embed.add_argument("--last", action="store_true", help="Use the last weights instead of the best validation checkpoint.")
    embed.add_argument("--data", help="Dataset file; default: the one the run was trained on.")
    embed.add_argument("--dataset-reference", help="Path stored as the file's 'dataset' (default: the dataset's absolute path).")
    embed.add_argument("--device", default="auto")
    embed.add_argument("--threads", type=int, default=1)
    return parser


def _apply_options(config: TrainingConfig, options: argparse.Namespace) -> TrainingConfig:
    """The config with every option the user gave laid over it."""
    loss = dataclasses.replace(config.loss)
    changes: dict[str, object] = {}
    pairs = {"model": "model", "backbone": "backbone", "batch": "batchSize", "dim": "embeddingDimension",
             "widths": "widths", "lr": "learningRate", "schedule": "schedule", "mask_init": "maskInitialization",
             "train_triplets": "trainTriplets", "seed": "seed", "validate_every": "validateEvery",
             "checkpoint_every": "checkpointEvery", "steps": "steps", "threads": "threads"}
    for option, key in pairs.items():
        value = getattr(options, option)
        if value is not None:
            changes[key] = value
    for option, key in (("margin", "margin"), ("embed_weight", "embedding"), ("mask_weight", "mask")):
        value = getattr(options, option)
        if value is not None:
            setattr(loss, key, value)
    return dataclasses.replace(config, loss=loss, **changes)


def _open_run_config(directory: str) -> TrainingConfig:
    if not os.path.isdir(directory):
        raise CSNTorchError.file(directory, "no such checkpoint folder")
    return checkpoint.load_config(directory)


def _resolved_data(config: TrainingConfig, directory: str) -> str:
    """csn's rule: an absolute dataPath as it is, a relative one beside the run folder first."""
    if config.dataPath.startswith("/"):
        return config.dataPath
    beside = os.path.join(directory, config.dataPath)
    return beside if os.path.exists(beside) else config.dataPath


def command_train(options: argparse.Namespace) -> int:
    if options.resume and options.init_from:
        raise CSNTorchError("give either --resume or --init-from, not both")
    if options.seed is not None and not 0 <= options.seed < 1 << 64:
        raise CSNTorchError(f"--seed must be between 0 and 2^64-1, not {options.seed}")
    max_bytes = int(options.max_memory * (1 << 30))
    ranks = distributed.start(options.device)
    try:
        torch.set_num_threads(options.threads or 1)
        return _train(options, ranks, max_bytes)
    finally:
        distributed.finish(ranks)


def _train(options: argparse.Namespace, ranks: distributed.Ranks, max_bytes: int) -> int:
    base_run = options.resume or options.init_from
    if options.resume:
        given = [name for name in _CONFIG_OPTIONS if getattr(options, name) is not None]
        if given:
            raise CSNTorchError(f"--resume continues the run with its own config; drop --{given[0].replace('_', '-')}")
        config = _open_run_config(options.resume)
        if options.steps is not None:
            config = dataclasses.replace(config, steps=options.steps)
        if options.threads is not None:
            config = dataclasses.replace(config, threads=options.threads)
        data_path = options.data or _resolved_data(config, options.resume)
    elif options.init_from:
        config = _apply_options(_open_run_config(options.init_from), options)
        data_path = options.data or _resolved_data(config, options.init_from)
    else:
        config = _apply_options(TrainingConfig(), options)
        data_path = options.data or default_data()
    if options.threads is None and not options.resume:
        config = dataclasses.replace(config, threads=1)
    if not options.resume:
        config = dataclasses.replace(config, dataPath=os.path.abspath(data_path))
    config.validate()
    if config.batchSize < ranks.world:
        raise CSNTorchError(f"--batch {config.batchSize} is smaller than the {ranks.world} ranks; each rank needs a share")
    if options.backbone_weights and config.backbone != "resnet18":
        raise CSNTorchError("--backbone-weights is for --backbone resnet18")
    dataset = load(data_path, max_bytes)

    seed_torch(config.seed)
    model = CSNModel(config, dataset.image_size, dataset.channels, len(dataset.conditions), options.backbone_weights)
    model.initialize(config)
    model.to(ranks.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learningRate, betas=(0.9, 0.999), eps=1e-8)
    state = RunState(generator=SeededGenerator(config.seed ^ TRAIN_SEED_SALT))

    if base_run:
        path = os.path.join(base_run, runfolder.MODEL)
        archive = checkpoint.open_archive(path, model, max_bytes)
        try:
            state.step = checkpoint.restore_weights(model, archive)
        except CSNTorchError as error:
            if options.init_from and "has shape" in str(error):
                raise CSNTorchError(f"{error}: the model built here has widths {config.resolved_widths(dataset.image_size)} "
                                    f"and dimension {config.embeddingDimension}; leave out --widths/--dim to take the "
                                    "checkpoint's own") from None
            raise
        state.generator, state.best_validation = checkpoint.restore_training_state(model, optimizer, archive, state.step)
        if state.step >= config.steps:
            raise CSNTorchError(f"{base_run} already finished its {config.steps} steps (it is at step {state.step}); "
                                "give a larger --steps to continue it")

    session = Session(config, dataset, model, ranks, state, optimizer)
    if options.init_from and ranks.is_writer:
        # The same weights, judged here before any step: what `csn eval --last` says of the run.
        before = accuracy(model, dataset, dataset.test_triplets, ranks.device)
        print(f"{path}: {config.model}, step {state.step}, test split, {len(dataset.test_triplets)} triplets (before any step here)")
        print(table(dataset.condition_names, [(config.model, before)]), flush=True)

    directory = options.resume or options.out or os.path.join(
        "runs", f"{config.model}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}")
    folder = None
    logger = None
    stop = StopRequest()
    try:
        if ranks.is_writer:
            folder = runfolder.RunFolder(directory)
            if not options.resume and os.path.exists(os.path.join(directory, runfolder.MODEL)):
                raise CSNTorchError(f"--out {directory} already holds a checkpoint; use --resume {directory} to continue it, or another --out")
            session.save(directory)
            tensorboard = None if options.tensorboard is None else (options.tensorboard or directory)
            logger = Logger(dataset.condition_names, config.steps, config.batchSize, tensorboard, options.quiet)
            epochs = config.steps * config.batchSize / max(1, len(dataset.train_triplets) or config.trainTriplets or len(dataset.indices_in(0)))
            if not options.quiet:
                print(f"training {config.model} ({config.backbone}) on {os.path.basename(data_path)} "
                      f"({len(dataset.indices_in(0))} training images; conditions {', '.join(dataset.condition_names)}): "
                      f"steps {state.step + 1} to {config.steps} of {config.batchSize} triplets ({epochs:.2f} epochs in all) "
                      f"on {ranks.world} {'rank' if ranks.world == 1 else 'ranks'} ({ranks.device.type}); "
                      f"checkpoints in {directory}", flush=True)
        else:
            logger = Logger(dataset.condition_names, config.steps, config.batchSize, None, quiet=True)
        ranks.barrier()
        outcome = run_loop(session, directory, logger, stop)
        if ranks.is_writer:
            if outcome == "stopped":
                print(f"stopped at step {state.step}; saved to {directory}")
            final_report(session, directory)
    finally:
        stop.restore()
        if logger is not None:
            logger.close()
        if folder is not None:
            folder.close()
    return 0


def _open_saved(run: str, data: str | None, last: bool, device: torch.device) -> tuple[TrainingConfig, object, CSNModel, str, int]:
    """A run folder (csn's or csn_torch's) opened for reading, as csn's SavedRun opens it."""
    config = _open_run_config(run)
    dataset = load(data or _resolved_data(config, run))
    model = CSNModel(config, dataset.image_size, dataset.channels, len(dataset.conditions))
    best = os.path.join(run, runfolder.BEST)
    path = best if not last and os.path.exists(best) else os.path.join(run, runfolder.MODEL)
    step = checkpoint.restore_weights(model, checkpoint.open_archive(path, model))
    model.to(device)
    return config, dataset, model, path, step


def command_eval(options: argparse.Namespace) -> int:
    torch.set_num_threads(options.threads)
    device = distributed.start(options.device).device
    config, dataset, model, path, step = _open_saved(options.run, options.data, options.last, device)
    triplets = dataset.triplets(options.split)  # type: ignore[attr-defined]
    accuracies = accuracy(model, dataset, triplets, device)  # type: ignore[arg-type]
    print(f"{path}: {config.model}, step {step}, {options.split} split, {len(triplets)} triplets")
    print(table(dataset.condition_names, [(config.model, accuracies)]))  # type: ignore[attr-defined]
    return 0


def command_embed(options: argparse.Namespace) -> int:
    torch.set_num_threads(options.threads)
    device = distributed.start(options.device).device
    _, dataset, model, path, step = _open_saved(options.run, options.data, options.last, device)
    out = options.out or os.path.join(options.run, runfolder.EMBEDDINGS)
    rows = embeddings.write(out, model, dataset, device, step, options.dataset_reference)  # type: ignore[arg-type]
    print(f"wrote {rows} val and test embeddings of {path} (step {step}) to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    try:
        if options.command == "train":
            return command_train(options)
        if options.command == "eval":
            return command_eval(options)
        return command_embed(options)
    except CSNTorchError as error:
        # Names and values from files may hold control characters: shown escaped, as csn shows them.
        print(f"error: {terminal_safe(str(error))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
