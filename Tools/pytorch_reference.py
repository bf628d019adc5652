#!/usr/bin/env python3
"""The same CSN in PyTorch, to measure csn side by side (speed, memory, accuracy).

Optional tool, never a dependency of csn: `make bench-venv` (Tools/requirements.txt).
  python Tools/pytorch_reference.py speed [--variant eager|compiled] [--steps 30] [--threads 2]
  python Tools/pytorch_reference.py speed --profile          # torch.profiler table of 10 steps
  python Tools/pytorch_reference.py train --budget 150000    # test accuracy per condition

Same data file (Assets/fonts32.safetensors.gz), network (3 x conv3x3-BN-ReLU-maxpool with 32/64/128
channels, linear to 64), masks (ReLU(beta), beta ~ N(0.9, 0.7)), loss (margin 0.2, embedding-norm
5e-3 / sqrt(B), mask L1 5e-4 / B), Adam lr 1e-3 with a cosine schedule, batches of 64 triplets
cycling the conditions, triplets drawn as csn draws them, and the fixed test triplets of the file.
The 3B images of a batch (anchors, positives, negatives) go through the network in one pass.

`speed` is meant to be the fastest plain PyTorch a competent user would write for this model on a
CPU, so that csn is compared with a strong baseline:
- activations in channels_last (NHWC), ReLU in place, fused Adam, gradients set to None;
- freed memory stays in the process (glibc's malloc told not to unmap or trim it; --plain-malloc
  turns this off), as PyTorch's CPU tuning guide advises with jemalloc or tcmalloc;
- denormals flushed to zero, 2 intra-op threads and 1 inter-op thread;
- all batches sampled and converted to float before the clock starts; the clock covers
  zero_grad, forward, loss, backward and the optimiser step;
- --variant compiled runs the loss (network included) through torch.compile; compilation and the
  warm-up steps are not timed.
One variant per process, so that each one's peak resident memory is its own.

Why the previous version of this script was slow (measured with torch.profiler and alternating
runs at 1 thread on this project's 2-core AMD EPYC VM while another job used it; indicative):
- Memory format: in NCHW, max-pool, batch norm and oneDNN's reorders around each convolution take
  the slow paths. ms a step, old -> channels_last: max-pool forward 45 -> 7, batch norm forward
  29 -> 8, convolutions 137 -> 104. The largest gain.
- Page faults: glibc gives large freed blocks back to the kernel (the first stage's activations are
  25 MB) and PyTorch's CPU allocator does not cache, so steps faulted fresh pages in: 0 to 20,000
  minor faults a step in the old script, up to 49,000 (100 ms of system time) with channels_last.
  With half of ReLU's backward time (threshold_backward 20 -> 10 ms a step) it is what made ReLU
  look slow; keeping freed memory brings faults to a few hundred a step.
- No measurable effect: in-place ReLU (saves one activation), fused against foreach or for-loop
  Adam (the optimiser is under 4 ms of a step), a fresh tensor per batch against slices of one
  preloaded tensor (off the clock either way), flushing denormals (no activation, gradient or Adam
  moment held a subnormal in the first 20 steps). zero_grad already sets None in PyTorch 2.x;
  oneDNN off (torch.backends.mkldnn) was 1.5x slower.
- 2 threads on busy cores wait for a preempted thread at every parallel region (Adam's sqrt on
  225k numbers took 2 ms): there 2 threads were slower than 1. make bench wants a quiet machine.
- torch.compile (default mode; max-autotune and NCHW about the same) loses to eager channels_last:
  inductor turns max-pool's backward pass into a scalar scatter fused with batch norm's backward
  (68 ms a step for the first stage alone), and the convolutions stay in oneDNN.
Median step at 1 thread, 3 alternating rounds of 30 steps: old 279 ms (229 triplets/s); eager 169 ms
(379); compiled 243 ms (263); eager without keeping freed memory 206 ms, eager in NCHW 238 ms.
"""
import argparse, ctypes, gzip, json, math, os, resource, struct, sys, time


def keep_freed_memory():
    """Tell glibc's malloc to keep freed blocks up to 32 MiB in the heap instead of unmapping them
    (fixed mmap threshold) and not to give the heap's top back to the kernel (trim threshold 1 GiB).
    Must run before torch allocates. Returns whether it applied (glibc only)."""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc, not musl or macOS
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))  # C ints


MALLOC_KEPT = "--plain-malloc" not in sys.argv and keep_freed_memory()

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def resident_mib():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # no /proc
        return float("nan")


IMPORT_MIB = resident_mib()  # what importing torch costs; the CUDA wheels from PyPI load cuBLAS even without a GPU

def load_dataset(path):
    raw = gzip.open(path).read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    dtypes = {"U8": np.uint8, "I32": np.int32, "I64": np.int64, "F32": np.float32}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        tensors[name] = np.frombuffer(raw[base + a:base + b], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    meta = header["__metadata__"]
    conditions = [c["name"] for c in json.loads(meta["conditions"])]
    return tensors, conditions


class Sampler:
    """Anchor uniform among split images whose value has >= 2 members; positive another image of
    that value; negative uniform among images of other values (as csn's TripletSampler)."""

    def __init__(self, labels, members, rng):
        self.rng = rng
        self.labels = labels
        self.members = members
        self.by_value = []
        for lab in labels:
            values = lab[members]
            groups = {}
            for image, v in zip(members, values):
                groups.setdefault(int(v), []).append(int(image))
            anchors = [i for v, g in groups.items() if len(g) >= 2 for i in g]
            self.by_value.append((groups, np.array(anchors)))

    def sample(self, c):
        groups, anchors = self.by_value[c]
        a = int(anchors[self.rng.integers(len(anchors))])
        v = int(self.labels[c][a])
        group = groups[v]
        p = a
        while p == a:
            p = group[self.rng.integers(len(group))]
        while True:
            n = int(self.members[self.rng.integers(len(self.members))])
            if self.labels[c][n] != v:
                return a, p, n


class Net(nn.Module):
    def __init__(self, dim=64, widths=(32, 64, 128), inplace=True):
        super().__init__()
        layers, cin = [], 1
        for w in widths:
            layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=inplace), nn.MaxPool2d(2)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(widths[-1] * 4 * 4, dim)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


class CSN(nn.Module):
    def __init__(self, k, dim=64, inplace=True):
        super().__init__()
        self.net = Net(dim, inplace=inplace)
        self.masks = nn.Parameter(torch.randn(k, dim) * 0.7 + 0.9)

    def loss(self, images, conditions, b, margin=0.2, embed_w=5e-3, mask_w=5e-4):
        e = self.net(images)
        a, p, n = e[:b], e[b:2 * b], e[2 * b:]
        m = F.relu(self.masks)[conditions]
        d_ap = torch.sqrt((((a - p) * m) ** 2).sum(1) + 1e-12)
        d_an = torch.sqrt((((a - n) * m) ** 2).sum(1) + 1e-12)
        triplet = F.relu(d_ap - d_an + margin).mean()
        embed = (a.norm() + p.norm() + n.norm()) / 3 / math.sqrt(b)
        mask = m.abs().sum() / b
        return triplet + embed_w * embed + mask_w * mask


def batch_indices(sampler, k, b, step):
    """The 3B image indices of a batch (anchors, then positives, then negatives) and its conditions."""
    trip = [sampler.sample((step * b + t) % k) for t in range(b)]
    idx = [t[0] for t in trip] + [t[1] for t in trip] + [t[2] for t in trip]
    return idx, torch.tensor([(step * b + t) % k for t in range(b)])


def to_float(images, idx, memory_format):
    return torch.from_numpy(images[idx].astype(np.float32) / 255.0).unsqueeze(1).contiguous(memory_format=memory_format)


def batch(sampler, images, k, b, step, memory_format=torch.contiguous_format):
    idx, c = batch_indices(sampler, k, b, step)
    return to_float(images, idx, memory_format), c


@torch.no_grad()
def accuracy(model, images, triplets, k):
    model.eval()
    used = np.unique(triplets[:, 1:])
    row = {int(i): r for r, i in enumerate(used)}
    emb = torch.cat([model.net(torch.from_numpy(images[used[s:s + 512]].astype(np.float32) / 255.0).unsqueeze(1))
                     for s in range(0, len(used), 512)])
    masks = F.relu(model.masks)
    out = []
    for c in range(k):
        t = triplets[triplets[:, 0] == c]
        m = masks[c]
        a, p, n = (emb[[row[int(i)] for i in t[:, j]]] for j in (1, 2, 3))
        dp = (((a - p) * m) ** 2).sum(1)
        dn = (((a - n) * m) ** 2).sum(1)
        out.append(float((dp < dn).float().mean()))
    model.train()
    return out


def make_optimizer(params, kind, lr):
    if kind == "fused":
        try:
            return torch.optim.Adam(params, lr=lr, fused=True)
        except (RuntimeError, TypeError, ValueError) as error:  # fused Adam on the CPU needs PyTorch 2.4 or later
            print(f"fused Adam unavailable ({error}); using foreach", file=sys.stderr)
            kind = "foreach"
    return torch.optim.Adam(params, lr=lr, foreach=(kind == "foreach"))


def speed(args, model, opt, sampler, images, k, memory_format):
    b, warmup = args.batch, 3
    steps = 10 if args.profile else args.steps
    # Every batch of the run, sampled and converted to float in one tensor, before the clock starts.
    # csn bench's step includes its own sampling and uint8-to-float conversion, so this favours
    # PyTorch by at most the preparation time printed below.
    prep_start = time.perf_counter()
    drawn = [batch_indices(sampler, k, b, step) for step in range(warmup + steps)]
    x_all = to_float(images, [i for idx, _ in drawn for i in idx], memory_format)
    batches = [(x_all[n * 3 * b:(n + 1) * 3 * b], c) for n, (_, c) in enumerate(drawn)]
    prep_ms = (time.perf_counter() - prep_start) * 1000 / len(batches)

    loss_fn = model.loss
    if args.variant == "compiled":
        loss_fn = torch.compile(model.loss, mode=args.compile_mode)

    def step(x, c):
        opt.zero_grad(set_to_none=True)
        loss_fn(x, c, b).backward()
        opt.step()

    warm_start = time.perf_counter()
    try:
        for n in range(warmup):
            step(*batches[n])
    except Exception as error:  # torch.compile needs a C++ compiler and can fail in many ways
        if args.variant != "compiled":
            raise
        print(f"torch.compile failed: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
        sys.exit(3)
    warm_seconds = time.perf_counter() - warm_start

    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for n in range(warmup, warmup + steps):
                step(*batches[n])
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20, max_name_column_width=60))
        return

    times, faults = [], resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for n in range(warmup, warmup + steps):
        start = time.perf_counter()
        step(*batches[n])
        times.append(time.perf_counter() - start)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / steps
    times.sort()
    median = times[len(times) // 2]
    fmt = "channels_last" if memory_format == torch.channels_last else "contiguous"
    compiled = f"torch.compile mode {args.compile_mode or 'default'}, " if args.variant == "compiled" else ""
    print(f"pytorch {torch.__version__}, {args.variant} ({compiled}{fmt}, Adam {args.adam}, "
          f"ReLU {'not ' if args.no_inplace_relu else ''}in place, freed memory {'kept' if MALLOC_KEPT else 'given back'}), "
          f"{torch.get_num_threads()} threads (inter-op {torch.get_num_interop_threads()}), batch {b}, {steps} timed steps")
    print(f"{'compilation and ' if args.variant == 'compiled' else ''}{warmup} warm-up steps (not timed): {warm_seconds:.1f} s; "
          f"batch preparation (not timed): {prep_ms:.1f} ms a batch, {x_all.numel() * 4 / 2**20:.0f} MiB for all")
    print(f"median step: {median * 1000:.1f} ms (min {times[0] * 1000:.1f}, max {times[-1] * 1000:.1f}); "
          f"page faults a step: {faults:.0f}")
    print(f"training triplets/s: {b / median:.0f}")
    print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB "
          f"(at the end {resident_mib():.0f} MiB; after importing torch {IMPORT_MIB:.0f} MiB, "
          f"{'CUDA ' + torch.version.cuda if torch.version.cuda else 'CPU-only'} build)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["speed", "train"])
    parser.add_argument("--variant", choices=["eager", "compiled"], default="eager", help="speed: eager or torch.compile")
    parser.add_argument("--compile-mode", default=None, help="torch.compile mode (default: inductor's default, the fastest measured)")
    parser.add_argument("--profile", action="store_true", help="speed: print torch.profiler's table of 10 steps instead")
    parser.add_argument("--data", default="Assets/fonts32.safetensors.gz")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--budget", type=int, default=150_000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-3)
    # For measuring what each choice is worth; the defaults are the fastest measured.
    parser.add_argument("--memory-format", choices=["channels_last", "contiguous"], default="channels_last")
    parser.add_argument("--adam", choices=["fused", "foreach", "for-loop"], default="fused")
    parser.add_argument("--no-inplace-relu", action="store_true")
    parser.add_argument("--plain-malloc", action="store_true", help="let glibc give freed memory back (read before torch loads)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    memory_format = torch.channels_last if args.memory_format == "channels_last" else torch.contiguous_format
    tensors, conditions = load_dataset(args.data)
    images = tensors["images"]
    labels = [tensors["condition." + c] for c in conditions]
    k = len(conditions)
    members = np.nonzero(tensors["split"] == 0)[0]
    sampler = Sampler(labels, members, np.random.default_rng(args.seed))
    model = CSN(k, inplace=not args.no_inplace_relu).to(memory_format=memory_format)
    opt = make_optimizer(model.parameters(), args.adam, args.lr)
    b = args.batch

    if args.mode == "speed":
        return speed(args, model, opt, sampler, images, k, memory_format)

    steps = args.budget // b
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / steps, 1))))
    val = tensors["triplets.val"]
    val = np.concatenate([val[val[:, 0] == c][:1000] for c in range(k)])
    best, best_state = -1, None
    start = time.time()
    for step in range(steps):
        x, c = batch(sampler, images, k, b, step, memory_format)
        opt.zero_grad(set_to_none=True)
        model.loss(x, c, b).backward()
        opt.step()
        scheduler.step()
        if (step + 1) % max(1, steps // 10) == 0 or step + 1 == steps:
            acc = accuracy(model, images, val, k)
            mean = sum(acc) / k
            print(f"step {step + 1}/{steps} val {100 * mean:.2f}% ({time.time() - start:.0f}s)", flush=True)
            if mean > best:
                best, best_state = mean, {n: t.clone() for n, t in model.state_dict().items()}
    model.load_state_dict(best_state)
    test = accuracy(model, images, tensors["triplets.test"], k)
    print("test accuracy (%): " + "  ".join(f"{c} {100 * a:.2f}" for c, a in zip(conditions, test))
          + f"  mean {100 * sum(test) / k:.2f}")


if __name__ == "__main__":
    main()
