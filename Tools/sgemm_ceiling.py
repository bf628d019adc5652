#!/usr/bin/env python3
"""What this machine's BLAS does in single precision: the ceiling for csn's convolution GEMMs.

Needs numpy only (its own OpenBLAS; threadpoolctl, if present, names the kernels it runs); the
thread count is set before numpy loads. Where OPENBLAS_CORETYPE is set for the whole machine
(to keep older OpenBLAS builds on kernels that work there), `make bench` runs this without it, so
that the ceiling is what a current numpy does on this CPU.
  python3 Tools/sgemm_ceiling.py [--threads 2] [--repeats 9]

Median GFLOP/s (2*M*N*K flops over the wall time of one product, output preallocated) for a
2048 x 2048 x 2048 product and for the forward GEMMs of csn's default network, counted as im2col
over a whole batch of 64 triplets (192 images): weights [C_out, 9 C_in] times columns
[9 C_in, 192 x H x W]. The second and third stages are the largest (1.8 GFLOP each); csn runs
those two as Winograd, with fewer flops, so this is a rate to compare with, not csn's work.
"""
import argparse, os, statistics, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=9)
args = parser.parse_args()
for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = str(args.threads)

import numpy as np  # after the thread count is set

IMAGES = 3 * 64
SHAPES = [  # (label, M, K, N)
    ("2048 x 2048 x 2048", 2048, 2048, 2048),
    ("stage 1 (1 -> 32 channels, 32x32)", 32, 1 * 9, IMAGES * 32 * 32),
    ("stage 2 (32 -> 64 channels, 16x16)", 64, 32 * 9, IMAGES * 16 * 16),
    ("stage 3 (64 -> 128 channels, 8x8)", 128, 64 * 9, IMAGES * 8 * 8),
]


def rate(m, k, n, repeats):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=c)  # warm-up: threads started, pages touched
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - start)
    return 2 * m * n * k / statistics.median(times) / 1e9


def blas_name():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name = f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:  # older numpy has no mode="dicts"
        name = "numpy's BLAS"
    try:  # the kernel set OpenBLAS chose (or was told to use by OPENBLAS_CORETYPE)
        import threadpoolctl
        kernels = [i.get("architecture") for i in threadpoolctl.threadpool_info() if i.get("architecture")]
        if kernels:
            name += f" ({', '.join(kernels)} kernels)"
    except ImportError:
        pass
    return name


print(f"sgemm, numpy {np.__version__} with {blas_name()}, {args.threads} threads, median of {args.repeats}:")
results = {}
for label, m, k, n in SHAPES:
    results[label] = rate(m, k, n, args.repeats)
    print(f"  {label}: M={m} K={k} N={n}: {results[label]:.1f} GFLOP/s", flush=True)
print(f"sgemm ceiling: {results[SHAPES[0][0]]:.1f} GFLOP/s at 2048^3, "
      f"{results[SHAPES[3][0]]:.1f} GFLOP/s at 128x576x12288 (stage 3 as im2col), {args.threads} threads")
sys.exit(0)
