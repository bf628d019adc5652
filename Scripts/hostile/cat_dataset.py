"""Mutated dataset files fed to `data stats`, a tiny `train --headless` and `data show`."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import formats
from checks import no_injection
from common import Case
from ds_mutations import GZ, RAW, A, E, R, structural
from formats import gz

CATEGORY = "dataset"
_bomb_lock = threading.Lock()


def commands(f: str) -> list:
    return [("stats", ["data", "stats", "--data", f]),
            ("train", ["train", "--headless", "--data", f, "--steps", "2", "--batch", "8",
                       "--widths", "4,8,8", "--dim", "8", "--out", "run"]),
            ("show", ["data", "show", "--data", f])]


def writer(name: str, content: bytes):
    def setup(scratch: Path):
        (scratch / name).write_bytes(content)
    return setup


def random_damage(rng, base) -> list:
    """Truncations at random offsets and random bit flips, of the plain and the gzip bytes."""
    plain = base.archive.encode()
    packed = gz(plain)
    out = []
    for k in range(24):
        cut = rng.randrange(0, len(plain))
        out.append(("truncate-plain-%d" % cut, R, plain[:cut], RAW))
    for k in range(10):
        cut = rng.randrange(0, len(packed))
        out.append(("truncate-gzip-%d" % cut, R, packed[:cut], GZ))
    header_end = 8 + int.from_bytes(plain[:8], "little")
    for k in range(30):
        data = bytearray(plain)
        # Two thirds of the flips land in the header, where they matter most.
        pos = rng.randrange(0, header_end) if k % 3 else rng.randrange(0, len(data))
        bit = rng.randrange(8)
        data[pos] ^= 1 << bit
        out.append(("flip-plain-%d.%d" % (pos, bit), E, gz(bytes(data)), GZ))
    for k in range(12):
        data = bytearray(packed)
        pos, bit = rng.randrange(0, len(data)), rng.randrange(8)
        data[pos] ^= 1 << bit
        out.append(("flip-gzip-%d.%d" % (pos, bit), E, bytes(data), GZ))
    for k in range(6):
        data = bytearray(plain)
        for _ in range(rng.randrange(2, 40)):
            data[rng.randrange(0, header_end)] = rng.randrange(256)
        out.append(("scramble-header-%d" % k, E, gz(bytes(data)), GZ))
    return out


def bomb_path(base) -> Path:
    """A 1 GiB-of-zeros gzip bomb (about 1 MB), made once and shared read-only."""
    path = base.dir / "bomb.safetensors.gz"
    with _bomb_lock:
        if not path.exists():
            formats.gzip_bomb(str(path) + ".part")
            os.replace(str(path) + ".part", path)
    return path


def bomb_cases(base) -> list:
    cases = []

    def link(scratch: Path):
        os.symlink(bomb_path(base), scratch / "bomb.safetensors.gz")
    for label, argv in commands("bomb.safetensors.gz"):
        cases.append(Case(CATEGORY, "gzip-bomb-1GiB/" + label, argv, R, setup=link, timeout=60))
        cases.append(Case(CATEGORY, "gzip-bomb-1GiB-max-0.25/" + label, argv[:3] + ["--max-memory", "0.25"] + argv[3:],
                          R, setup=link, timeout=60))
    return cases


def path_cases(base) -> list:
    def fifo(scratch: Path):
        os.mkfifo(scratch / "fifo.safetensors.gz")

    def folder(scratch: Path):
        (scratch / "dir.safetensors.gz").mkdir()
    specials = [("missing", "nope.safetensors.gz", None), ("directory", "dir.safetensors.gz", folder),
                ("dev-null", "/dev/null", None), ("dev-zero", "/dev/zero", None),
                ("dev-urandom", "/dev/urandom", None), ("fifo", "fifo.safetensors.gz", fifo),
                ("empty-name", "", None)]
    cases = []
    for name, f, setup in specials:
        for label, argv in commands(f):
            cases.append(Case(CATEGORY, "path-%s/%s" % (name, label), argv, R, setup=setup, timeout=15))
    return cases


def cases(rng, base) -> list:
    out = []
    for name, expect, content, suffix in structural(base) + random_damage(rng, base):
        fname = "d" + suffix
        for label, argv in commands(fname):
            # An accepted file still has to train; `either` stays either for every command.
            out.append(Case(CATEGORY, "%s/%s" % (name, label), argv, expect,
                            setup=writer(fname, content), check=no_injection))
    out += [Case(CATEGORY, "baseline/" + label, argv, A, check=no_injection)
            for label, argv in commands(str(base.dataset))]
    return out + bomb_cases(base) + path_cases(base)
