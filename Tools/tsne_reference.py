#!/usr/bin/env python3
"""csn's t-SNE side by side with openTSNE and scikit-learn on identical input.

Optional tool, never a dependency of csn: `make bench-venv` (or `pip install scikit-learn openTSNE numpy`).
  python3 Tools/tsne_reference.py [--sizes 10000 70000 1000000] [--csn .build/release/csn]

Input: N points in 50-d, a seeded mixture of 20 Gaussian clusters, written once as .npy and read by
every tool. Settings: perplexity 30, 1000 iterations (250 of them with early exaggeration 12), PCA
initialisation, learning rate N / 12, 2 threads. Rows:
  - csn: `csn tsne --input` with its automatic choices (the exact repulsion below 12,000 points
    when built for AVX-512, Barnes-Hut up to 15,000, FFT from there; exact neighbours below 50,000,
    approximate from there); the whole process is timed, file reading included;
  - csn forced to Barnes-Hut (`--method bh`, up to 20,000 points), where the methods meet;
  - openTSNE FFT (its default method, Annoy neighbours) and openTSNE Barnes-Hut (theta 0.5, up to
    20,000 points);
  - scikit-learn Barnes-Hut (up to 20,000 points: beyond, it takes too long to be useful).
openTSNE FFT beyond 200,000 points would take too long on two cores and is skipped with a note.

Quality, the same yardstick for every map: the KL divergence of the map against one P (openTSNE's
perplexity-based affinities of the input, the same for every row), with Z summed exactly over all
pairs (in blocks); for N beyond 200,000 the exact Z is out of reach and the row shows each tool's own
estimate, marked "(own)". Trustworthiness (k = 10, scikit-learn's) on a seeded 5,000-point sample.
"""
import argparse, os, re, subprocess, tempfile, time
import numpy as np


def data(n, d=50, clusters=20, seed=1):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(clusters, d))
    labels = rng.integers(clusters, size=n)
    return (centres[labels] + rng.normal(size=(n, d))).astype(np.float32)


def csn_environment():
    """The environment for csn: `make bench` runs this tool without a machine-wide OPENBLAS_CORETYPE
    (and OPENBLAS_L2_SIZE), so that numpy's current OpenBLAS picks its own kernels, and passes the
    machine's values as CSN_OPENBLAS_*, which csn (on the system's older OpenBLAS) gets back."""
    env = dict(os.environ)
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        value = env.pop("CSN_" + name, None)
        if value:
            env[name] = value
    return env


def run_csn(binary, path, out, *extra):
    start = time.perf_counter()
    text = subprocess.run([binary, "tsne", "--input", path, "--out", out, "--iterations", "1000",
                           "--perplexity", "30", "--threads", "2", *extra], check=True, capture_output=True, text=True,
                          env=csn_environment()).stdout
    seconds = time.perf_counter() - start
    kl = float(re.search(r"KL divergence ([0-9.]+)", text).group(1))
    return np.loadtxt(out, delimiter=",", skiprows=1, usecols=(0, 1)), kl, seconds


def run_opentsne(x, method):
    from openTSNE import TSNE
    model = TSNE(perplexity=30, n_iter=750, early_exaggeration_iter=250, early_exaggeration=12,
                 initialization="pca", negative_gradient_method=method, theta=0.5, n_jobs=2, random_state=1,
                 learning_rate="auto")
    start = time.perf_counter()
    y = model.fit(x)
    return np.asarray(y), float(y.kl_divergence), time.perf_counter() - start


def run_sklearn(x):
    from sklearn.manifold import TSNE
    import inspect
    iterations = "max_iter" if "max_iter" in inspect.signature(TSNE).parameters else "n_iter"
    model = TSNE(n_components=2, perplexity=30, init="pca", learning_rate="auto", method="barnes_hut",
                 angle=0.5, n_jobs=2, random_state=1, **{iterations: 1000})
    start = time.perf_counter()
    y = model.fit_transform(x)
    return y, float(model.kl_divergence_), time.perf_counter() - start


def common_p(x):
    """openTSNE's symmetric, normalised perplexity-30 affinities of x (sparse)."""
    from openTSNE.affinity import PerplexityBasedNN
    p = PerplexityBasedNN(x, perplexity=30, n_jobs=2, random_state=1).P.tocoo()
    return p.row, p.col, p.data / p.data.sum()


def kl_divergence(p, y, block=2048):
    """KL(P || Q) with Q the Student-t similarities of map y, Z summed over all pairs in blocks."""
    rows, cols, values = p
    y = y.astype(np.float64)
    n = len(y)
    z = 0.0
    norms = (y * y).sum(1)
    for start in range(0, n, block):
        part = y[start:start + block]
        squared = norms[start:start + block, None] + norms[None, :] - 2 * part @ y.T
        z += (1 / (1 + np.maximum(squared, 0))).sum() - len(part)  # less the diagonal
    d = ((y[rows] - y[cols]) ** 2).sum(1)
    q = 1 / (1 + d) / z
    keep = values > 0
    return float((values[keep] * np.log(values[keep] / q[keep])).sum())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 70000, 1000000])
    parser.add_argument("--csn", default=".build/release/csn")
    args = parser.parse_args()
    from sklearn.manifold import trustworthiness
    import sklearn, openTSNE
    print(f"scikit-learn {sklearn.__version__}, openTSNE {openTSNE.__version__}; 50-d input, perplexity 30, "
          "1000 iterations, 2 threads; KL against one P per size (exact Z), trust(10) on 5,000 points")
    print(f"{'N':>8} {'tool':>18} {'KL':>9} {'trust(10)':>10} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for n in args.sizes:
            x = data(n)
            path = os.path.join(folder, f"x{n}.npy")
            np.save(path, x)
            runs = {"csn": lambda: run_csn(args.csn, path, os.path.join(folder, "map.csv"))}
            if n <= 20_000:
                runs["csn BH"] = lambda: run_csn(args.csn, path, os.path.join(folder, "map.csv"), "--method", "bh")
            if n <= 200_000:
                runs["openTSNE FFT"] = lambda: run_opentsne(x, "fft")
            if n <= 20_000:
                runs["openTSNE BH"] = lambda: run_opentsne(x, "bh")
            if n <= 20_000:
                runs["scikit-learn BH"] = lambda: run_sklearn(x)
            exact = n <= 200_000
            p = common_p(x) if exact else None
            sample = np.random.default_rng(2).choice(n, size=min(n, 5000), replace=False)
            results = {}
            for tool, run in runs.items():
                y, own_kl, seconds = run()
                kl = kl_divergence(p, y) if exact else own_kl
                trust = trustworthiness(x[sample], y[sample], n_neighbors=10)
                results[tool] = (kl, trust, seconds)
                shown = f"{kl:9.4f}" if exact else f"{kl:6.4f}(own)"
                print(f"{n:>8} {tool:>18} {shown:>9} {trust:10.4f} {seconds:8.1f}", flush=True)
            if "openTSNE FFT" in results:
                (ckl, ctrust, cs), (okl, otrust, os_) = results["csn"], results["openTSNE FFT"]
                print(f"{n:>8} csn vs openTSNE FFT: KL {100 * (ckl / okl - 1):+.1f}%, trust {ctrust - otrust:+.4f}, "
                      f"time x{cs / os_:.2f} ({os_ / cs:.2f}x faster)", flush=True)
            if n >= 1_000_000:
                print(f"{n:>8} openTSNE and scikit-learn skipped at this size (hours on two cores)", flush=True)


if __name__ == "__main__":
    main()
