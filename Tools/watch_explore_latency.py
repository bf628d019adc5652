#!/usr/bin/env python3
"""Latencies of `csn watch` and `csn explore --embeddings`, measured as a user sees them: the real
binary in tmux, the screen read with capture-pane every 20 ms.

- watch: a line appended to metrics.jsonl (and a record to an event file) until its step is on
  screen; median and maximum over several writes.
- explore: from the command until the first map of N vectors is drawn (partial: the optimisation
  draws as it goes) and until it is complete, for each N given.

Usage: watch_explore_latency.py CSN [--vectors N ...] [--writes K]
The vectors are made here (seeded clusters, 64-d, three conditions), with a metadata.tsv.
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

import numpy as np


def tmux(socket, *args):
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True).stdout


def wait_for(socket, predicate, timeout=120.0):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        lines = tmux(socket, "capture-pane", "-p", "-t", "m").splitlines()
        if predicate(lines):
            return time.monotonic()
        time.sleep(0.02)
    raise SystemExit("timed out; the screen was:\n" + "\n".join(lines))


def measure_watch(csn, socket, folder, writes):
    run = os.path.join(folder, "run")
    os.makedirs(run)
    path = os.path.join(run, "metrics.jsonl")
    with open(path, "w") as f:
        f.write('{"step": 1, "loss": 1.0}\n')
    tmux(socket, "new-session", "-d", "-s", "m", "-x", "100", "-y", "30", f"{csn} watch {run}; sleep 5")
    wait_for(socket, lambda lines: lines and lines[0].startswith("csn watch · 1 run"))
    latencies = []
    for k in range(writes):
        step = 1000 + 37 * k
        time.sleep(0.3)
        with open(path, "a") as f:
            f.write('{"step": %d, "loss": %f}\n' % (step, 1.0 / (k + 2)))
        written = time.monotonic()
        seen = wait_for(socket, lambda lines: any(f"at {step}" in line for line in lines), timeout=10)
        latencies.append(seen - written)
    tmux(socket, "kill-server")
    return latencies


def make_vectors(folder, n, seed=1):
    rng = np.random.default_rng(seed)
    k, d = 3, 64
    centres = rng.normal(size=(k, 20, d)).astype(np.float32)
    labels = rng.integers(0, 20, size=(n, k))
    x = np.empty((n, k, d), np.float32)
    for c in range(k):
        x[:, c, :] = centres[c][labels[:, c]] + 0.3 * rng.normal(size=(n, d)).astype(np.float32)
    vectors = os.path.join(folder, f"vectors{n}.npy")
    np.save(vectors, x)
    metadata = os.path.join(folder, f"metadata{n}.tsv")
    with open(metadata, "w") as f:
        f.write("name\tcolour\tshape\tsize\n")
        for i in range(n):
            f.write(f"item{i}\tc{labels[i, 0]}\ts{labels[i, 1]}\t{labels[i, 2] * 0.5 + rng.random():.3f}\n")
    return vectors, metadata


def measure_explore(csn, socket, folder, n):
    vectors, metadata = make_vectors(folder, n)
    start = time.monotonic()
    tmux(socket, "new-session", "-d", "-s", "m", "-x", "120", "-y", "40", f"{csn} explore --embeddings {vectors} --labels {metadata}; sleep 5")
    tmux(socket, "send-keys", "-t", "m", "3")
    first = wait_for(socket, lambda lines: any("subspace: map of step" in line for line in lines))
    done = wait_for(socket, lambda lines: any("subspace: map of step" in line and "optimising" not in line for line in lines))
    tmux(socket, "send-keys", "-t", "m", "4")
    tmux(socket, "send-keys", "-t", "m", "n")
    asked = time.monotonic()
    neighbours = wait_for(socket, lambda lines: any("colour: query is" in line for line in lines))
    tmux(socket, "kill-server")
    return first - start, done - start, neighbours - asked


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csn")
    parser.add_argument("--vectors", type=int, nargs="*", default=[10000, 100000])
    parser.add_argument("--writes", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("tmux is needed")
    socket = f"csn-latency-{os.getpid()}"
    with tempfile.TemporaryDirectory() as folder:
        latencies = measure_watch(args.csn, socket, folder, args.writes)
        print(f"csn watch, write to screen: median {statistics.median(latencies):.3f} s, max {max(latencies):.3f} s over {len(latencies)} writes")
        for n in args.vectors:
            first, done, neighbours = measure_explore(args.csn, socket, folder, n)
            print(f"csn explore --embeddings, {n} vectors x 3 conditions x 64-d: first map on screen {first:.1f} s, "
                  f"map complete {done:.1f} s, Neighbours view (8 under each condition among all {n}) {neighbours:.2f} s")


if __name__ == "__main__":
    main()
