#!/usr/bin/env python3
"""csn's t-SNE side by side with scikit-learn's TSNE and openTSNE on identical input.

Optional tool, never a dependency of csn: `pip install scikit-learn openTSNE numpy`.
  python3 Tools/tsne_reference.py [--sizes 1000 5000 10000] [--csn .build/release/csn]

Input: N points in 64-d, a seeded mixture of 20 Gaussian clusters, written once as .npy and read
by all three. Settings: perplexity 30, 1000 iterations (250 with early exaggeration 12), PCA
initialisation, Barnes-Hut with theta 0.5, learning rate "auto", 2 threads. Reported: final KL
divergence (each tool's own), trustworthiness (k = 10, scikit-learn's function for all three) and
wall time (csn: the whole `csn tsne --input` process, file reading included).
"""
import argparse, os, re, subprocess, tempfile, time
import numpy as np


def data(n, d=64, clusters=20, seed=1):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(clusters, d))
    labels = rng.integers(clusters, size=n)
    return (centres[labels] + rng.normal(size=(n, d))).astype(np.float32)


def run_csn(binary, path, out):
    start = time.perf_counter()
    text = subprocess.run([binary, "tsne", "--input", path, "--out", out, "--iterations", "1000",
                           "--perplexity", "30", "--threads", "2"], check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - start
    kl = float(re.search(r"KL divergence ([0-9.]+)", text).group(1))
    return np.loadtxt(out, delimiter=",", skiprows=1, usecols=(0, 1)), kl, seconds


def run_sklearn(x):
    from sklearn.manifold import TSNE
    import inspect
    iterations = "max_iter" if "max_iter" in inspect.signature(TSNE).parameters else "n_iter"
    model = TSNE(n_components=2, perplexity=30, init="pca", learning_rate="auto", method="barnes_hut",
                 angle=0.5, n_jobs=2, random_state=1, **{iterations: 1000})
    start = time.perf_counter()
    y = model.fit_transform(x)
    return y, float(model.kl_divergence_), time.perf_counter() - start


def run_opentsne(x):
    from openTSNE import TSNE
    model = TSNE(perplexity=30, n_iter=750, early_exaggeration_iter=250, early_exaggeration=12,
                 initialization="pca", negative_gradient_method="bh", theta=0.5, n_jobs=2, random_state=1,
                 learning_rate="auto")
    start = time.perf_counter()
    y = model.fit(x)
    return np.asarray(y), float(y.kl_divergence), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--csn", default=".build/release/csn")
    args = parser.parse_args()
    from sklearn.manifold import trustworthiness
    import sklearn, openTSNE
    print(f"scikit-learn {sklearn.__version__}, openTSNE {openTSNE.__version__}; 64-d input, perplexity 30, 1000 iterations, 2 threads")
    print(f"{'N':>6} {'tool':>12} {'KL':>8} {'trust(10)':>10} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for n in args.sizes:
            x = data(n)
            path = os.path.join(folder, f"x{n}.npy")
            np.save(path, x)
            rows = {"csn": run_csn(args.csn, path, os.path.join(folder, "map.csv")),
                    "scikit-learn": run_sklearn(x), "openTSNE": run_opentsne(x)}
            for tool, (y, kl, seconds) in rows.items():
                trust = trustworthiness(x, y, n_neighbors=10)
                print(f"{n:>6} {tool:>12} {kl:8.4f} {trust:10.4f} {seconds:8.2f}", flush=True)
            csn_kl, csn_s = rows["csn"][1], rows["csn"][2]
            sk_kl, sk_s = rows["scikit-learn"][1], rows["scikit-learn"][2]
            print(f"{n:>6} csn vs scikit-learn: KL {100 * (csn_kl / sk_kl - 1):+.1f}%, time x{csn_s / sk_s:.2f}", flush=True)


if __name__ == "__main__":
    main()
