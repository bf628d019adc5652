"""Valid inputs built once at startup (a tiny image folder, an imported dataset, a trained run)
that the categories copy and mutate."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import formats
from common import run_process

SHAPES = ("disc", "square", "bar")
TONES = ("dark", "light")
TINY_TRAIN = ["--steps", "2", "--batch", "8", "--widths", "4,8,8", "--dim", "8"]


@dataclass
class Base:
    binary: str
    dir: Path          # fixtures live here; cases must copy, never write
    images: Path       # 60 PNGs, 32x32 grey
    csv: Path          # path,shape,tone,v
    dataset: Path      # tiny.safetensors.gz made by `data import`
    archive: formats.Archive
    run: Path          # a finished 6-step run trained on dataset (absolute data path)
    timeout: float = 20.0

    def copy_run(self, dst: Path) -> Path:
        shutil.copytree(self.run, dst)
        return dst

    def write_dataset(self, path: Path, archive=None, gzip=True, header_override=None) -> Path:
        data = (archive or self.archive).encode(header_override=header_override)
        path.write_bytes(formats.gz(data) if gzip else data)
        return path


class FixtureError(RuntimeError):
    pass


def write_images(folder: Path, count=60, size=32) -> list:
    """count PNGs named i{k}.png and the CSV rows [path, shape, tone, v] describing them."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for k in range(count):
        s, t = k % 3, (k // 3) % 2
        (folder / ("i%d.png" % k)).write_bytes(formats.png(size, size, formats.shape_image(size, s, t, k)))
        rows.append(["i%d.png" % k, SHAPES[s], TONES[t], "%.3f" % (0.8 + 0.025 * (k % 4))])
    return rows


def write_csv(path: Path, rows, header=("path", "shape", "tone", "v"), newline="\n") -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator=newline)
        w.writerow(header)
        w.writerows(rows)


def _must(res, what):
    if res.returncode != 0 or res.timed_out:
        raise FixtureError("%s failed (exit %s, timed out %s):\n%s" % (what, res.returncode, res.timed_out, res.stderr[:2000]))


def build(binary: str, root: Path, timeout: float = 120) -> Base:
    d = root / "fixtures"
    d.mkdir(parents=True)
    rows = write_images(d / "images")
    write_csv(d / "attrs.csv", rows)
    dataset = d / "tiny.safetensors.gz"
    res = run_process(binary, ["data", "import", "--images", d / "images", "--attributes", d / "attrs.csv",
                               "--conditions", "shape,tone", "--out", dataset, "--triplets", "50"], d, timeout, "import")
    _must(res, "data import")
    run = d / "RUN"
    res = run_process(binary, ["train", "--headless", "--data", dataset, "--steps", "6", "--batch", "8",
                               "--widths", "4,8,8", "--dim", "8", "--validate-every", "2",
                               "--checkpoint-every", "2", "--out", run], d, timeout, "train")
    _must(res, "train")
    config = json.loads((run / "config.json").read_text())
    if not Path(config.get("dataPath", "")).is_absolute():
        raise FixtureError("the run's config.json holds a relative dataPath: %r" % config.get("dataPath"))
    return Base(binary=binary, dir=d, images=d / "images", csv=d / "attrs.csv", dataset=dataset,
                archive=formats.read_archive(dataset), run=run)
