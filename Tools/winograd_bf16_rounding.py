#!/usr/bin/env python3
"""How far Winograd convolutions land from the exact one when their GEMM operands are bfloat16.

Needs numpy only. Prints the relative RMS error, against the exact convolution in float64, of
  - F(2x2, 3x3) and F(4x4, 3x3) (csn's transforms and interpolation points) with the transformed
    inputs V and weights U rounded to float32, then to bfloat16 (products summed exactly), and
  - the direct convolution with inputs and weights rounded to bfloat16,
on ReLU'd unit-normal input tiles and filters of PyTorch's default scale.
  python3 Tools/winograd_bf16_rounding.py [--channels 64] [--tiles 2000] [--seed 0]

This is the accuracy side of bf16 GEMMs with fp32 accumulation: rounding V and U to bfloat16
(8 significant bits) is what a bf16 GEMM would add to csn's float32 Winograd.
"""
import argparse

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--channels", type=int, default=64)
parser.add_argument("--tiles", type=int, default=2000)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
rng = np.random.default_rng(args.seed)

TRANSFORMS = {  # output side: (B^T, G, A^T)
    2: (np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]),
        np.array([[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]]),
        np.array([[1, 1, 1, 0], [0, 1, -1, -1]])),
    4: (np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                  [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]),
        np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                  [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]]),
        np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]])),
}


def float32(x):
    return np.asarray(x, np.float32).astype(np.float64)


def bfloat16(x):
    """Rounds to the nearest bfloat16 (ties to even), as a float32 to bf16 conversion does."""
    bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return bits.astype(np.uint32).view(np.float32).astype(np.float64)


def relative_rms(y, exact):
    return np.sqrt(((y - exact) ** 2).mean() / (exact ** 2).mean())


c = args.channels
weights = rng.standard_normal((c, c, 3, 3)) / np.sqrt(c * 9)
for side, (bt, g, at) in TRANSFORMS.items():
    tile = side + 2
    inputs = np.maximum(rng.standard_normal((args.tiles, c, tile, tile)), 0)
    exact = np.zeros((args.tiles, c, side, side))
    for y in range(side):
        for x in range(side):
            exact[:, :, y, x] = np.einsum("tcij,ocij->to", inputs[:, :, y:y + 3, x:x + 3], weights)
    v = np.einsum("ij,tcjk,lk->tcil", bt, inputs, bt)
    u = np.einsum("ij,ocjk,lk->ocil", g, weights, g)
    for name, rounding in (("float32", float32), ("bfloat16", bfloat16)):
        products = np.einsum("tcil,ocil->toil", rounding(v), rounding(u))
        y = np.einsum("ij,tojk,lk->toil", at, products, at)
        print(f"F({side}x{side}, 3x3), V and U in {name}: relative RMS error {relative_rms(y, exact):.2e}")
    if side == 4:
        direct = np.zeros_like(exact)
        for y in range(side):
            for x in range(side):
                direct[:, :, y, x] = np.einsum("tcij,ocij->to", bfloat16(inputs[:, :, y:y + 3, x:x + 3]), bfloat16(weights))
        print(f"direct convolution, inputs and weights in bfloat16: relative RMS error {relative_rms(direct, exact):.2e}")
