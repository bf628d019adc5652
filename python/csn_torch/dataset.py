"""csn dataset files (`csn-dataset/1`): gzip-compressed safetensors, read and checked as csn does.

Mirrors Sources/Datasets/ImageDataset+Storage.swift (decoding), ImageDataset.validate (every
part agrees with every other) and Sources/Basics/Gzip.swift (bounded decompression, concatenated
members, no trailing data). A file csn refuses raises CSNTorchError with the same kind of
message: "PATH: reason".
"""

from __future__ import annotations

import os
import re
import stat
import zlib
from dataclasses import dataclass, field

import numpy as np

from . import safetensors_io
from .errors import CSNTorchError

FORMAT = "csn-dataset/1"
MAX_IMAGE_SIZE = 4096
DEFAULT_MAX_BYTES = 8 << 30
SPLIT_NAMES = ("train", "val", "test")
_DECIMAL = re.compile(r"^[+-]?[0-9]+$")


def describe_bytes(count: int) -> str:
    """'8 GiB', '512 MiB', as csn names its memory limit."""
    if count >= 1 << 30 and count % (1 << 30) == 0:
        return f"{count >> 30} GiB"
    return f"{count >> 20} MiB" if count >= 1 << 20 else f"{count} bytes"


def read_file(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A whole regular file of at most `max_bytes` (devices, pipes and folders refused)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        raise CSNTorchError.file(path, "no such file") from None
    except OSError as error:
        raise CSNTorchError.file(path, f"cannot open: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CSNTorchError.file(path, "is a folder, not a file" if stat.S_ISDIR(info.st_mode) else "is not a regular file")
        if info.st_size > max_bytes:
            raise CSNTorchError.file(
                path, f"holds {info.st_size} bytes, more than the memory limit of {describe_bytes(max_bytes)}"
            )
        chunks = []
        remaining = info.st_size
        while remaining > 0:
            piece = os.read(fd, min(remaining, 1 << 26))
            if not piece:
                raise CSNTorchError.file(path, "the file shrank while it was read")
            chunks.append(piece)
            remaining -= len(piece)
        return b"".join(chunks)
    finally:
        os.close(fd)


def gunzip(data: bytes, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Decompresses one gzip member or several, refusing output above `max_bytes` as it streams."""
    if len(data) < 18 or data[0] != 0x1F or data[1] != 0x8B:
        raise CSNTorchError.file(source, "not a gzip file")
    output = bytearray()
    rest = data
    while True:
        inflater = zlib.decompressobj(wbits=31)
        pending = rest
        while True:
            try:
                piece = inflater.decompress(pending, 1 << 20)
            except zlib.error as error:
                code = re.search(r"Error (-?\d+)", str(error))
                raise CSNTorchError.file(source, f"corrupt gzip data (zlib error {code.group(1) if code else '?'})") from None
            if len(output) + len(piece) > max_bytes:
                raise CSNTorchError.file(source, f"decompresses to more than {describe_bytes(max_bytes)}, the memory limit")
            output += piece
            pending = inflater.unconsumed_tail
            if inflater.eof:
                break
            if not pending and not piece:
                raise CSNTorchError.file(source, "truncated gzip data (the file ends early)")
        rest = inflater.unused_data
        # Concatenated members go on; zero padding is ignored; anything else is refused.
        if not rest or rest.count(0) == len(rest):
            return bytes(output)
        if len(rest) < 2 or rest[0] != 0x1F or rest[1] != 0x8B:
            raise CSNTorchError.file(source, f"holds {len(rest)} bytes of other data after the gzip stream")


def is_terminal_control(char: str) -> bool:
    """C0 and C1 controls, DEL and bidirectional overrides, which csn refuses in names."""
    v = ord(char)
    return v < 0x20 or 0x7F <= v <= 0x9F or 0x202A <= v <= 0x202E or 0x2066 <= v <= 0x2069


def terminal_safe(text: str) -> str:
    out = []
    for ch in text:
        if is_terminal_control(ch):
            out.append(f"\\x{ord(ch):02X}" if ord(ch) < 0x100 else f"\\u{{{ord(ch):04X}}}")
        else:
            out.append(ch)
    return "".join(out)


@dataclass
class Condition:
    """A notion of similarity: its values, one label per image, and the rule for 'alike'."""

    name: str
    value_names: list[str]
    labels: np.ndarray  # int32 [N]
    rule: str  # categorical, ordinal or listed
    values: np.ndarray | None = None  # float32 [N], ordinal only
    threshold: np.float32 | None = None  # ordinal only

    def alike(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether images a and b count as alike (elementwise), with csn's float32 ordinal rule."""
        if self.rule == "ordinal":
            assert self.values is not None and self.threshold is not None
            return np.abs(self.values[a] - self.values[b]) <= self.threshold
        return self.labels[a] == self.labels[b]


@dataclass
class ImageDataset:
    """Images with attributes, fixed val/test triplets and (optionally) a fixed training list."""

    path: str
    image_size: int
    channels: int
    images: np.ndarray  # uint8 [N, C, S, S]
    image_names: list[str]
    conditions: list[Condition]
    groups: np.ndarray  # int32 [N]
    group_names: list[str]
    splits: np.ndarray  # uint8 [N]: 0 train, 1 val, 2 test
    train_triplets: np.ndarray  # int32 [M, 4]: condition, anchor, positive, negative
    val_triplets: np.ndarray
    test_triplets: np.ndarray
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.image_names)

    def indices_in(self, split: int) -> np.ndarray:
        return np.flatnonzero(self.splits == split).astype(np.int32)

    def triplets(self, split: str) -> np.ndarray:
        return {"train": self.train_triplets, "val": self.val_triplets, "test": self.test_triplets}[split]

    @property
    def condition_names(self) -> list[str]:
        return [c.name for c in self.conditions]


def load(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> ImageDataset:
    """Loads and validates a dataset; every error names `path`."""
    compressed = read_file(path, max_bytes)
    if path.endswith(".gz") or compressed[:2] == b"\x1f\x8b":
        data = gunzip(compressed, path, max_bytes)
    else:
        data = compressed
    return decode(data, path)


def _parse(text: str | None) -> object:
    if text is None:
        return None
    try:
        return safetensors_io.parse_json(text.encode("utf-8"))
    except (ValueError, RecursionError, UnicodeEncodeError):
        return None


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def decode(data: bytes, source: str) -> ImageDataset:
    archive = safetensors_io.decode(data, source)
    meta = archive.metadata

    def fail(message: str) -> CSNTorchError:
        return CSNTorchError.file(source, message)

    if meta.get("format") != FORMAT:
        raise fail(f"not a csn dataset (format '{meta.get('format', 'none')}', expected '{FORMAT}')")
    size_text, channels_text = meta.get("image_size"), meta.get("channels")
    if size_text is None or channels_text is None or not _DECIMAL.match(size_text) or not _DECIMAL.match(channels_text):
        raise fail("the header lacks image_size or channels")
    image_size, channels = int(size_text), int(channels_text)
    if not (1 <= image_size <= MAX_IMAGE_SIZE and channels in (1, 3)):
        raise fail(
            f"image_size {image_size} with {channels} channel(s) is not supported "
            f"(sizes 1 to {MAX_IMAGE_SIZE}, 1 or 3 channels)"
        )
    condition_header = _parse(meta.get("conditions"))
    if not (isinstance(condition_header, list) and all(isinstance(e, dict) for e in condition_header)):
        raise fail("the header's conditions are not a JSON list")
    group_names, image_names = _parse(meta.get("groups")), _parse(meta.get("image_names"))
    if not (_strings(group_names) and _strings(image_names)):
        raise fail("the header's group or image names are not JSON lists of strings")
    assert isinstance(group_names, list) and isinstance(image_names, list)
    n = len(image_names)
    image_shape = [n, image_size, image_size] if channels == 1 else [n, channels, image_size, image_size]
    images = archive.tensor("images", "U8", image_shape).reshape(n, channels, image_size, image_size)
    conditions: list[Condition] = []
    for entry in condition_header:
        name, values = entry.get("name"), entry.get("values")
        if not isinstance(name, str) or not _strings(values):
            raise fail("a condition in the header lacks a name or values")
        labels = archive.tensor(f"condition.{name}", "I32", [n])
        rule = entry.get("rule")
        rule = rule if isinstance(rule, str) else "categorical"
        if rule in ("categorical", "listed"):
            conditions.append(Condition(name, list(values), labels, rule))
        elif rule == "ordinal":
            threshold = entry.get("threshold")
            if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
                raise fail(f"ordinal condition '{name}' lacks a threshold")
            ordinal = archive.tensor(f"ordinal.{name}", "F32", [n])
            with np.errstate(over="ignore"):
                conditions.append(Condition(name, list(values), labels, rule, ordinal, np.float32(threshold)))
        else:
            raise fail(f"condition '{name}' has an unknown rule '{rule}'")
    groups = archive.tensor("group", "I32", [n])
    splits = archive.tensor("split", "U8", [n])
    bad = np.flatnonzero(splits > 2)
    if bad.size:
        raise fail(f"image {bad[0]} has split code {splits[bad[0]]}, expected 0, 1 or 2")

    def triplet_list(name: str) -> np.ndarray:
        tensor = archive.tensor(name, "I32")
        if tensor.ndim != 2 or tensor.shape[1] != 4:
            raise fail(f"tensor '{name}' has shape {list(tensor.shape)}, expected [count, 4]")
        return tensor

    fonts: list = []
    if "fonts" in meta:
        fonts_value = _parse(meta["fonts"])
        if not _valid_fonts(fonts_value):
            raise fail("the header's font list is malformed")
        assert isinstance(fonts_value, list)
        fonts = fonts_value
    train = triplet_list("triplets.train") if "triplets.train" in archive.tensors else np.zeros((0, 4), np.int32)
    dataset = ImageDataset(
        path=source, image_size=image_size, channels=channels, images=images, image_names=list(image_names),
        conditions=conditions, groups=groups, group_names=list(group_names), splits=splits,
        train_triplets=train, val_triplets=triplet_list("triplets.val"), test_triplets=triplet_list("triplets.test"),
        metadata=dict(meta),
    )
    if fonts and len(fonts) != len(group_names):
        raise fail(f"the header lists {len(fonts)} fonts but {len(group_names)} groups")
    validate(dataset, source)
    return dataset


def _valid_fonts(value: object) -> bool:
    """The fields csn's FontInfo decoder requires, with their JSON types."""
    if not isinstance(value, list):
        return False
    strings, integers, flags = ("name", "family", "style", "file"), ("faceIndex", "weightClass"), ("italic", "fixedPitch")
    for font in value:
        if not isinstance(font, dict):
            return False
        if not all(isinstance(font.get(k), str) for k in strings):
            return False
        if not all(isinstance(font.get(k), int) and not isinstance(font.get(k), bool) for k in integers):
            return False
        if not all(isinstance(font.get(k), bool) for k in flags):
            return False
    return True


def validate(d: ImageDataset, source: str) -> None:
    """Checks that every part agrees with every other (csn's ImageDataset.validate)."""
    n = d.count

    def fail(message: str) -> CSNTorchError:
        return CSNTorchError.file(source, message)

    if len(d.groups) != n or len(d.splits) != n:
        raise fail(f"groups ({len(d.groups)}) and splits ({len(d.splits)}) must have one entry per image ({n})")
    bad = np.flatnonzero((d.groups < 0) | (d.groups >= len(d.group_names)))
    if bad.size:
        raise fail(f"image {bad[0]} has group {d.groups[bad[0]]}, but there are {len(d.group_names)} groups")
    if not d.conditions:
        raise fail("the dataset has no conditions")

    def check_names(names: list[str], what: str) -> None:
        for i, name in enumerate(names):
            if any(is_terminal_control(ch) for ch in name):
                raise fail(f"{what} {i} ('{terminal_safe(name)}') holds a control character")

    check_names([c.name for c in d.conditions], "condition name")
    check_names(d.image_names, "image name")
    check_names(d.group_names, "group name")
    seen: set[str] = set()
    for condition in d.conditions:
        check_names(condition.value_names, f"value name of '{condition.name}'")
        if not condition.name or condition.name in seen:
            raise fail(f"condition names must be distinct and not empty ('{condition.name}')")
        seen.add(condition.name)
        bad = np.flatnonzero((condition.labels < 0) | (condition.labels >= len(condition.value_names)))
        if bad.size:
            raise fail(
                f"image {bad[0]} has value {condition.labels[bad[0]]} for condition '{condition.name}', "
                f"which has {len(condition.value_names)} values"
            )
        if condition.rule == "ordinal":
            assert condition.values is not None and condition.threshold is not None
            if not (np.isfinite(condition.values).all() and np.isfinite(condition.threshold) and condition.threshold >= 0):
                raise fail(
                    f"ordinal condition '{condition.name}' needs one finite number per image and a threshold of at least 0"
                )
    if any(c.rule == "listed" for c in d.conditions) and len(d.train_triplets) == 0:
        raise fail("conditions known only from triplet lists need a training list")
    for code, split in enumerate(SPLIT_NAMES):
        if not (d.splits == code).any():
            raise fail(f"the {split} split is empty")
    # With lists that came with the data, an image may serve in several splits' lists.
    lists_follow_splits = len(d.train_triplets) == 0
    k = len(d.conditions)
    for code, split in enumerate(SPLIT_NAMES):
        triplets = d.triplets(split)
        if len(triplets) == 0:
            continue
        c, a, p, q = (triplets[:, i].astype(np.int64) for i in range(4))
        # Each triplet's first fault, in csn's order of checks; the first faulty triplet is reported.
        out_of_range = ~((c >= 0) & (c < k) & (a >= 0) & (a < n) & (p >= 0) & (p < n) & (q >= 0) & (q < n))
        ok = ~out_of_range
        other_split = np.zeros(len(triplets), dtype=bool)
        if lists_follow_splits:
            other_split[ok] = (d.splits[a[ok]] != code) | (d.splits[p[ok]] != code) | (d.splits[q[ok]] != code)
        mismatched = np.zeros(len(triplets), dtype=bool)
        for ci, condition in enumerate(d.conditions):
            if condition.rule == "listed":
                continue
            mine = np.flatnonzero(ok & ~other_split & (c == ci))
            if mine.size:
                with np.errstate(over="ignore", invalid="ignore"):
                    right = condition.alike(a[mine], p[mine]) & ~condition.alike(a[mine], q[mine])
                mismatched[mine[~right]] = True
        bad = np.flatnonzero(out_of_range | other_split | mismatched)
        if bad.size:
            t = bad[0]
            if out_of_range[t]:
                raise fail(f"{split} triplet {t} refers to a condition or image that does not exist")
            if other_split[t]:
                raise fail(f"{split} triplet {t} uses an image from another split")
            raise fail(f"{split} triplet {t} does not match its condition's labels")


def encode(d: ImageDataset) -> bytes:
    """The dataset's safetensors bytes, laid out as csn's ImageDataset.encoded() lays them out."""
    import json

    n = d.count
    images = d.images.reshape(n, d.image_size, d.image_size) if d.channels == 1 else d.images
    tensors: dict[str, np.ndarray] = {"images": np.ascontiguousarray(images, dtype=np.uint8)}
    header = []
    for c in d.conditions:
        tensors[f"condition.{c.name}"] = np.asarray(c.labels, dtype=np.int32)
        entry: dict[str, object] = {"name": c.name, "values": c.value_names, "rule": c.rule}
        if c.rule == "ordinal":
            tensors[f"ordinal.{c.name}"] = np.asarray(c.values, dtype=np.float32)
            entry["threshold"] = float(c.threshold)  # type: ignore[arg-type]
        header.append(entry)
    if len(d.train_triplets):
        tensors["triplets.train"] = np.asarray(d.train_triplets, dtype=np.int32).reshape(-1, 4)
    tensors["group"] = np.asarray(d.groups, dtype=np.int32)
    tensors["split"] = np.asarray(d.splits, dtype=np.uint8)
    tensors["triplets.val"] = np.asarray(d.val_triplets, dtype=np.int32).reshape(-1, 4)
    tensors["triplets.test"] = np.asarray(d.test_triplets, dtype=np.int32).reshape(-1, 4)

    def text(value: object) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    metadata = {
        "format": FORMAT, "image_size": str(d.image_size), "channels": str(d.channels),
        "conditions": text(header), "groups": text(d.group_names), "image_names": text(d.image_names),
        "provenance": d.metadata.get("provenance", "{}"),
    }
    if "fonts" in d.metadata:
        metadata["fonts"] = d.metadata["fonts"]
    return safetensors_io.encode(tensors, metadata)


def save(d: ImageDataset, path: str) -> None:
    """Writes the dataset gzip-compressed (level 9), atomically."""
    import gzip

    from .runfolder import atomic_write

    atomic_write(path, gzip.compress(encode(d), compresslevel=9, mtime=0))
