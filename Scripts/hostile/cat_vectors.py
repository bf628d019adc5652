"""`tsne --input F` with hostile vector files: .tsv/.csv text and .npy."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import formats
from common import Case

CATEGORY = "vectors"
R, A, E = "reject", "accept", "either"
ROWS, COLS = 100, 4


def matrix(rng, rows=ROWS, cols=COLS):
    return [[round(rng.gauss(0, 1), 4) for _ in range(cols)] for _ in range(rows)]


def text(rows, sep="\t", nl="\n", fmt=repr) -> bytes:
    return "".join(sep.join(fmt(x) for x in r) + nl for r in rows).encode()


def npy_raw(descr, shape, data: bytes, fortran=False, compact=False, version=(1, 0), header_len=None, extra=""):
    if compact:
        head = "{'descr':'%s','fortran_order':%s,'shape':%s%s}" % (descr, fortran, shape, extra)
    else:
        head = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, %s}" % (descr, fortran, shape, extra)
    return formats.npy(head, data, version=version, header_len=header_len)


def f32(rows, fmt="<%df"):
    flat = [x for r in rows for x in r]
    return struct.pack(fmt % len(flat), *flat)


def text_inputs(rng) -> list:
    m = matrix(rng)
    t = text(m)
    out = [("tsv", A, ".tsv", t), ("csv", A, ".csv", text(m, ",")), ("txt", A, ".txt", t),
           ("crlf", A, ".tsv", text(m, nl="\r\n")), ("csv-crlf", A, ".csv", text(m, ",", "\r\n")),
           ("bom", E, ".tsv", b"\xef\xbb\xbf" + t), ("no-final-newline", A, ".tsv", t.rstrip(b"\n")),
           ("blank-lines", E, ".tsv", t.replace(b"\n", b"\n\n")), ("trailing-tab", E, ".tsv", text(m, nl="\t\n")),
           ("spaces", E, ".txt", text(m, " ")), ("mixed-separators", E, ".tsv", text(m[:50]) + text(m[50:], ",")),
           ("header-row", E, ".csv", b"a,b,c,d\n" + text(m, ",")), ("comment-line", E, ".tsv", b"# vectors\n" + t)]
    ragged = [r[:] for r in m]
    ragged[40] = ragged[40][:2]
    out.append(("ragged-short", R, ".tsv", text(ragged)))
    ragged[40] = m[40] + [1.0, 2.0]
    out.append(("ragged-long", R, ".tsv", text(ragged)))
    for name, token, expect in [("nan", "nan", R), ("NaN", "NaN", R), ("inf", "inf", R), ("neg-inf", "-inf", R),
                                ("1e39", "1e39", R), ("1e400", "1e400", R), ("tiny", "1e-50", E), ("hex-float", "0x1p3", E),
                                ("plus", "+1.5", E), ("empty-field", "", R), ("word", "abc", R), ("escape", "\x1b[31m", R),
                                ("nul", "1\x002", R), ("comma-decimal", "1,5", R), ("long-digits", "1" * 5000, R),
                                ("underscore", "1_000", R), ("fullwidth", "１", R)]:
        rows = [[repr(x) for x in r] for r in m]
        rows[17][2] = token
        data = "".join("\t".join(r) + "\n" for r in rows).encode("utf-8")
        out.append(("value-" + name, expect, ".tsv", data))
    out += [("empty", R, ".tsv", b""), ("only-newlines", R, ".tsv", b"\n\n\n"), ("only-spaces", R, ".tsv", b"   \t \n"),
            ("one-row", E, ".tsv", text(m[:1])), ("two-rows", E, ".tsv", text(m[:2])), ("one-column", E, ".tsv", text([[r[0]] for r in m])),
            ("identical-rows", E, ".tsv", text([[1.0, 2.0, 3.0]] * ROWS)), ("all-zeros", E, ".tsv", text([[0.0] * 4] * ROWS)),
            ("huge-values", E, ".tsv", text([[x * 1e37 for x in r] for r in m])), ("binary", R, ".tsv", bytes(range(256)) * 16),
            ("invalid-utf8", R, ".tsv", t[:100] + b"\xff\xfe" + t[100:]), ("wide-rows", E, ".tsv", text(matrix(rng, 40, 4000))),
            ("many-rows", E, ".tsv", text(matrix(rng, 1500, 3))), ("npy-bytes-as-tsv", R, ".tsv", npy_raw("<f4", (ROWS, COLS), f32(m)))]
    return out


def npy_inputs(rng) -> list:
    m = matrix(rng)
    good = f32(m)
    shape = (ROWS, COLS)
    out = [("npy-f4", A, npy_raw("<f4", shape, good)),
           ("npy-f8", A, npy_raw("<f8", shape, f32(m, "<%dd"))),
           ("npy-fortran-compact", A, npy_raw("<f4", shape, f32([list(c) for c in zip(*m)]), fortran=True, compact=True)),
           ("npy-fortran", A, npy_raw("<f4", shape, f32([list(c) for c in zip(*m)]), fortran=True)),
           ("npy-compact", A, npy_raw("<f4", shape, good, compact=True)),
           ("npy-v2", E, npy_raw("<f4", shape, good, version=(2, 0))), ("npy-v3", E, npy_raw("<f4", shape, good, version=(3, 0))),
           ("npy-v9", R, npy_raw("<f4", shape, good, version=(9, 0))),
           ("npy-big-endian", E, npy_raw(">f4", shape, f32(m, ">%df"))), ("npy-u1", E, npy_raw("|u1", shape, bytes(ROWS * COLS))),
           ("npy-i4", E, npy_raw("<i4", shape, bytes(4 * ROWS * COLS))), ("npy-f2", E, npy_raw("<f2", shape, bytes(2 * ROWS * COLS))),
           ("npy-object", R, npy_raw("|O", shape, bytes(8 * ROWS * COLS))), ("npy-complex", R, npy_raw("<c8", shape, bytes(8 * ROWS * COLS))),
           ("npy-structured", R, formats.npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (100,), }", good[:400])),
           ("npy-descr-no-order", E, npy_raw("f4", shape, good)), ("npy-descr-native", E, npy_raw("=f4", shape, good)),
           ("npy-3d", R, npy_raw("<f4", (10, 10, COLS), good)), ("npy-1d", E, npy_raw("<f4", (ROWS * COLS,), good)),
           ("npy-0d", R, npy_raw("<f4", (), good[:4])), ("npy-zero-rows", R, npy_raw("<f4", (0, COLS), b"")),
           ("npy-zero-cols", R, npy_raw("<f4", (ROWS, 0), b"")),
           ("npy-shape-2-40", R, npy_raw("<f4", (2**40, 2**40), good)), ("npy-shape-2-62", R, npy_raw("<f4", (2**62, 4), good)),
           ("npy-shape-2-64", R, npy_raw("<f4", (2**64, 1), good)), ("npy-shape-negative", R, npy_raw("<f4", (-ROWS, -COLS), good)),
           ("npy-shape-short-data", R, npy_raw("<f4", (ROWS + 1, COLS), good)), ("npy-shape-long-data", E, npy_raw("<f4", (ROWS - 1, COLS), good)),
           ("npy-shape-float", R, npy_raw("<f4", "(100.0, 4)", good)), ("npy-shape-list", E, npy_raw("<f4", [ROWS, COLS], good)),
           ("npy-shape-expr", R, npy_raw("<f4", "(10*10, 4)", good)),
           ("npy-header-code", R, formats.npy("__import__('os').system('touch pwned')", good)),
           ("npy-header-not-dict", R, formats.npy("[1, 2, 3]", good)), ("npy-header-missing-descr", R, formats.npy("{'fortran_order': False, 'shape': (100, 4), }", good)),
           ("npy-header-unclosed", R, formats.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100, 4", good)),
           ("npy-header-dup-key", E, npy_raw("<f4", shape, good, extra="'shape': (100, 4), ")),
           ("npy-fortran-string", R, npy_raw("<f4", shape, good, fortran="'yes'")),
           ("npy-header-len-0", R, npy_raw("<f4", shape, good, header_len=0)), ("npy-header-len-65535", R, npy_raw("<f4", shape, good, header_len=65535)),
           ("npy-header-len-short", R, npy_raw("<f4", shape, good, header_len=20)),
           ("npy-v2-header-len-huge", R, npy_raw("<f4", shape, good, version=(2, 0), header_len=0xFFFFFFF0)),
           ("npy-bad-magic", R, b"\x93NUMPZ" + npy_raw("<f4", shape, good)[6:]), ("npy-magic-only", R, b"\x93NUMPY"),
           ("npy-empty", R, b""), ("npy-text-inside", R, text(m))]
    nan = [r[:] for r in m]
    nan[5][1] = math.nan
    out.append(("npy-nan", R, npy_raw("<f4", shape, f32(nan))))
    nan[5][1] = math.inf
    out.append(("npy-inf", R, npy_raw("<f4", shape, f32(nan))))
    out.append(("npy-f8-too-big-for-f4", E, npy_raw("<f8", shape, f32([[x * 1e300 for x in r] for r in m], "<%dd"))))
    valid = npy_raw("<f4", shape, good)
    for k in range(8):
        cut = rng.randrange(0, len(valid))
        out.append(("npy-truncate-%d" % cut, R, valid[:cut]))
    for k in range(10):
        pos = rng.randrange(0, 128) if k % 2 else rng.randrange(0, len(valid))
        data = bytearray(valid)
        data[pos] ^= 1 << rng.randrange(8)
        out.append(("npy-flip-%d" % pos, E, bytes(data)))
    return [(n, e, ".npy", d) for n, e, d in out]


def no_nan_output(scratch: Path, res):
    """When tsne says it wrote the map, the map must hold finite numbers."""
    p = scratch / "out.csv"
    if res.returncode == 0 and p.is_file():
        body = p.read_text(errors="replace").lower()
        if "nan" in body or "inf" in body:
            return "exit 0 but out.csv holds NaN or infinite coordinates"
    if (scratch / "pwned").exists():
        return "the .npy header was executed"
    return None


def cases(rng, base) -> list:
    out = []
    for name, expect, suffix, data in text_inputs(rng) + npy_inputs(rng):
        fname = "v" + suffix

        def setup(scratch: Path, fname=fname, data=data):
            (scratch / fname).write_bytes(data)
        # wide-rows takes about 7 s in a debug build (it took minutes before t-SNE stopped forming
        # the d x d covariance); give it room so that a loaded machine does not make it a hang.
        out.append(Case(CATEGORY, name, ["tsne", "--input", fname, "--iterations", "50", "--out", "out.csv"],
                        expect, setup=setup, check=no_nan_output, timeout=90 if name == "wide-rows" else 30))
    m = text(matrix(rng))
    for opt, values in [("--perplexity", ["0", "-1", "nan", "inf", "1e30", "1e-30", "5"]), ("--iterations", ["0", "-1", "1", "x"]),
                        ("--threads", ["0", "1000000", "-1"]), ("--seed", ["-1", "18446744073709551616"]),
                        ("--points", ["0", "-1"]), ("--condition", ["shape"]), ("--out", ["", "sub/none/out.csv", "."])]:
        for v in values:
            expect = A if (opt, v) in (("--perplexity", "5"), ("--iterations", "1")) else \
                E if (opt, v) in (("--threads", "1000000"), ("--perplexity", "1e-30"), ("--points", "0"), ("--points", "-1"), ("--condition", "shape")) else R
            argv = ["tsne", "--input", "v.tsv", "--iterations", "50", "--out", "out.csv", opt, v]

            def setup(scratch: Path):
                (scratch / "v.tsv").write_bytes(m)
            out.append(Case(CATEGORY, "option%s=%s" % (opt, v[:12]), argv, expect, setup=setup, check=no_nan_output, timeout=30))
    for name, path, expect in [("missing", "nope.tsv", R), ("directory", ".", R), ("dev-zero", "/dev/zero", R), ("no-suffix", "v", E),
                               ("dev-null", "/dev/null", R)]:
        def setup(scratch: Path):
            (scratch / "v").write_bytes(m)
        out.append(Case(CATEGORY, "path-" + name, ["tsne", "--input", path, "--iterations", "50", "--out", "out.csv"], expect,
                        setup=setup, timeout=20))
    return out
