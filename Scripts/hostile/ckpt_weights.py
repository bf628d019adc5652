"""Mutations of a run's model.safetensors (and best.safetensors): (name, expect, fn(run_dir))."""

from __future__ import annotations

import struct
from pathlib import Path

import formats

R, A, E = "reject", "accept", "either"
FILES = ("model.safetensors", "best.safetensors")
NAN, INF = float("nan"), float("inf")


def on_weights(edit, files=FILES):
    """Applies edit(archive) to each weights file of the run and writes it back."""
    def fn(run: Path):
        for name in files:
            a = formats.read_archive(run / name)
            edit(a)
            (run / name).write_bytes(a.encode())
    return fn


def on_bytes(edit, files=FILES):
    def fn(run: Path):
        for name in files:
            (run / name).write_bytes(edit((run / name).read_bytes()))
    return fn


def put(tensor, values, dtype=None, shape=None):
    def edit(a):
        d, s, _ = a.tensors[tensor]
        a.put(tensor, dtype or d, shape or s, values)
    return edit


def poke(tensor, index, value):
    def edit(a):
        d, s, _ = a.tensors[tensor]
        vals = a.values(tensor)
        vals[index % len(vals)] = value
        a.put(tensor, d, s, vals)
    return edit


def reshape(tensor, shape):
    def edit(a):
        d, _, data = a.tensors[tensor]
        a.tensors[tensor] = (d, shape, data)
    return edit


def drop(tensor):
    return lambda a: a.tensors.pop(tensor)


def meta(key, value):
    def edit(a):
        if value is None:
            a.metadata.pop(key, None)
        else:
            a.metadata[key] = value
    return edit


def header(fn):
    def edit(data: bytes) -> bytes:
        a = formats.st_decode(data)
        return a.encode(header_override=lambda h: fn(h) or h)
    return edit


def structural() -> list:
    out = []

    def add(name, expect, fn):
        out.append((name, expect, fn))
    for name, value in [("neg5", -5), ("two-62", 2**62), ("max-plus-one", 1_000_000_001), ("min", -2**63)]:
        add("step-" + name, R, on_weights(put("step", [value])))
    add("step-f32", R, on_weights(put("step", [1.0, 0.0], dtype="F32", shape=[1])))
    add("step-two-values", R, on_weights(put("step", [1, 2], shape=[2])))
    add("rng-zeros", R, on_weights(put("rng", [0, 0, 0, 0])))
    add("rng-one-bit", E, on_weights(put("rng", [0, 0, 0, 1])))
    add("rng-shape-3", R, on_weights(put("rng", [1, 2, 3], shape=[3])))
    add("rng-i32", R, on_weights(put("rng", [1, 2, 3, 4, 5, 6, 7, 8], dtype="I32", shape=[4])))
    for tensor in ("net0.conv0.weight", "net0.fc.weight", "masks", "net0.bn1.running_var", "optimizer.m", "optimizer.v"):
        short = tensor.replace("net0.", "")
        add("nan-" + short, R, on_weights(poke(tensor, 3, NAN)))
        add("inf-" + short, R, on_weights(poke(tensor, 0, -INF)))
    add("huge-fc", E, on_weights(poke("net0.fc.weight", 1, 3e38)))
    add("neg-running-var", E, on_weights(poke("net0.bn0.running_var", 0, -1.0)))
    add("zero-running-var", E, on_weights(put("net0.bn0.running_var", [0.0] * 4)))
    add("neg-second-moment", R, on_weights(poke("optimizer.v", 2, -1.0)))
    add("masks-negative", E, on_weights(put("masks", [-1.0] * 16)))
    add("masks-zero", E, on_weights(put("masks", [0.0] * 16)))
    add("best-validation-nan", E, on_weights(put("best_validation", [NAN])))
    add("best-validation-2", R, on_weights(put("best_validation", [2.0])))
    add("conv0-shape-swapped", R, on_weights(reshape("net0.conv0.weight", [1, 4, 3, 3])))
    add("conv0-shape-flat", R, on_weights(reshape("net0.conv0.weight", [36])))
    add("fc-transposed", R, on_weights(reshape("net0.fc.weight", [128, 8])))
    add("masks-transposed", R, on_weights(reshape("masks", [8, 2])))
    add("effective-masks-wrong", E, on_weights(reshape("effective_masks", [16])))
    add("optimizer-short", R, on_weights(put("optimizer.m", [0.0] * 10)))
    add("bn-short", R, on_weights(put("net0.bn2.weight", [1.0] * 7)))
    for tensor in ("net0.conv1.weight", "masks", "optimizer.v", "step", "rng", "best_validation", "net0.bn0.running_mean"):
        add("missing-" + tensor.replace("net0.", ""), R, on_weights(drop(tensor)))
    add("extra-tensor", E, on_weights(put_new("junk", [1.0, 2.0])))
    add("format-missing", R, on_weights(meta("format", None)))
    add("format-wrong", R, on_weights(meta("format", "csn-dataset/1")))
    add("model-standard", R, on_weights(meta("model", "standard")))
    add("model-escape", R, on_weights(meta("model", "\x1b[31mx")))
    add("conv-shape-overflow", R, on_bytes(header(lambda h: h["net0.conv0.weight"].__setitem__("shape", [2**62, 2**62]))))
    add("conv-offsets-past-end", R, on_bytes(header(lambda h: h["net0.conv0.weight"].__setitem__("data_offsets", [0, 10**12]))))
    add("header-length-two-63", R, on_bytes(lambda d: struct.pack("<Q", 2**63) + d[8:]))
    add("empty-files", R, on_bytes(lambda d: b""))
    add("gzip-lying", R, on_bytes(lambda d: formats.lying_gzip()))
    add("gzipped", E, on_bytes(formats.gz))
    add("model-only-broken", E, on_bytes(lambda d: d[:100], files=("model.safetensors",)))
    add("best-only-broken", E, on_bytes(lambda d: d[:100], files=("best.safetensors",)))
    add("best-missing", E, lambda run: (run / "best.safetensors").unlink())
    add("model-missing", E, lambda run: (run / "model.safetensors").unlink())
    add("both-missing", R, lambda run: [(run / f).unlink() for f in FILES])
    add("model-is-dir", R, lambda run: [(run / f).unlink() or (run / f).mkdir() for f in FILES])
    add("model-is-dev-zero", R, lambda run: [(run / f).unlink() or (run / f).symlink_to("/dev/zero") for f in FILES])
    return out


def put_new(tensor, values):
    return lambda a: a.put(tensor, "F32", [len(values)], values)


def random_damage(rng, run: Path) -> list:
    size = (run / "model.safetensors").stat().st_size
    hlen = struct.unpack("<Q", (run / "model.safetensors").read_bytes()[:8])[0]
    out = []
    for k in range(10):
        cut = rng.randrange(0, size)
        out.append(("truncate-%d" % cut, R, on_bytes(lambda d, cut=cut: d[:cut])))
    for k in range(16):
        pos = rng.randrange(0, 8 + hlen) if k % 2 else rng.randrange(8 + hlen, size)
        bit = rng.randrange(8)

        def flip(d, pos=pos, bit=bit):
            b = bytearray(d)
            b[pos] ^= 1 << bit
            return bytes(b)
        out.append(("flip-%d.%d" % (pos, bit), E, on_bytes(flip)))
    return out


TRAINING_STATE = ("step-", "rng-", "best-validation", "neg-second-moment", "optimizer-short", "missing-optimizer",
                  "missing-step", "missing-rng", "missing-best_validation", "nan-optimizer", "inf-optimizer")


def training_state_only(name: str) -> bool:
    """Mutations of what only a resume needs (step, generator, optimizer moments, best accuracy):
    eval and masks may ignore them."""
    return name.startswith(TRAINING_STATE)
