#!/usr/bin/env python3
"""The same CSN in PyTorch, to measure csn side by side (speed, memory, accuracy).

Optional tool, never a dependency of csn: `pip install torch numpy`.
  python3 Tools/pytorch_reference.py speed [--steps 30]           # median step -> triplets/s, peak RSS
  python3 Tools/pytorch_reference.py train --budget 150000          # test accuracy per condition

Same data file (Assets/fonts32.safetensors.gz), network (3 x conv3x3-BN-ReLU-maxpool with 32/64/128
channels, linear to 64), masks (ReLU(beta), beta ~ N(0.9, 0.7)), loss (margin 0.2, embedding-norm
5e-3 / sqrt(B), mask L1 5e-4 / B), Adam lr 1e-3 with a cosine schedule, batches of 64 triplets
cycling the conditions, triplets drawn as csn draws them, and the fixed test triplets of the file.
"""
import argparse, gzip, json, math, resource, struct, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


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
    def __init__(self, dim=64, widths=(32, 64, 128)):
        super().__init__()
        layers, cin = [], 1
        for w in widths:
            layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(widths[-1] * 4 * 4, dim)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


class CSN(nn.Module):
    def __init__(self, k, dim=64):
        super().__init__()
        self.net = Net(dim)
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


def batch(sampler, images, k, b, step):
    trip = [sampler.sample((step * b + t) % k) for t in range(b)]
    idx = [t[0] for t in trip] + [t[1] for t in trip] + [t[2] for t in trip]
    x = torch.from_numpy(images[idx].astype(np.float32) / 255.0).unsqueeze(1)
    c = torch.tensor([(step * b + t) % k for t in range(b)])
    return x, c


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["speed", "train"])
    parser.add_argument("--data", default="Assets/fonts32.safetensors.gz")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--budget", type=int, default=150_000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    tensors, conditions = load_dataset(args.data)
    images = tensors["images"]
    labels = [tensors["condition." + c] for c in conditions]
    k = len(conditions)
    members = np.nonzero(tensors["split"] == 0)[0]
    sampler = Sampler(labels, members, np.random.default_rng(args.seed))
    model = CSN(k)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    b = args.batch

    if args.mode == "speed":
        times = []
        for step in range(args.steps + 3):
            # Sampling and the image copy are left out of the timing (csn bench times them): this favours PyTorch.
            x, c = batch(sampler, images, k, b, step)
            start = time.perf_counter()
            opt.zero_grad()
            model.loss(x, c, b).backward()
            opt.step()
            if step >= 3:
                times.append(time.perf_counter() - start)
        times.sort()
        median = times[len(times) // 2]
        print(f"pytorch {torch.__version__}, {args.threads} threads, batch {b}")
        print(f"median step: {median * 1000:.1f} ms")
        print(f"training triplets/s: {b / median:.0f}")
        print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")
        return

    steps = args.budget // b
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / steps, 1))))
    val = tensors["triplets.val"]
    val = np.concatenate([val[val[:, 0] == c][:1000] for c in range(k)])
    best, best_state = -1, None
    start = time.time()
    for step in range(steps):
        x, c = batch(sampler, images, k, b, step)
        opt.zero_grad()
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
