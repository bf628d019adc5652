"""`data import` from a folder of images and a CSV, with hostile CSVs, paths and images; the
triplet-list import and export cases are in imp_triplets.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import formats
import imp_triplets
from checks import all_checks, confined, no_injection
from common import Case

CATEGORY = "import"
R, A, E = "reject", "accept", "either"
HEADER = "path,shape,tone,v"
OUT = "out/d.safetensors.gz"


def base_rows(base) -> list:
    return [",".join(r) for r in _rows(base)]


def _rows(base):
    import csv
    with open(base.csv, newline="") as f:
        return list(csv.reader(f))[1:]


def argv(csv_name="attrs.csv", conditions="shape,tone", extra=()):
    return ["data", "import", "--images", "images", "--attributes", csv_name, "--conditions", conditions,
            "--out", OUT, "--triplets", "20"] + list(extra)


def prepare(base, csv_bytes: bytes, images=None):
    """setup: copy the images, write attrs.csv, run `images(scratch)` for extra files."""
    def setup(scratch: Path):
        shutil.copytree(base.images, scratch / "images")
        (scratch / "out").mkdir()
        (scratch / "attrs.csv").write_bytes(csv_bytes)
        (scratch / "outside.png").write_bytes(formats.png(8, 8))
        if images:
            images(scratch)
    return setup


def csv_of(rows, header=HEADER, nl="\n", bom=False, final=True) -> bytes:
    text = nl.join([header] + rows) + (nl if final else "")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogateescape")


def csv_cases(base) -> list:
    rows = base_rows(base)
    r0 = rows[0].split(",")
    out = []

    def add(name, expect, data, conditions="shape,tone", extra=(), images=None):
        out.append((name, expect, data, conditions, extra, images))
    add("baseline", A, csv_of(rows))
    add("crlf", A, csv_of(rows, nl="\r\n"))
    add("bom", A, csv_of(rows, bom=True))
    add("bom-crlf", A, csv_of(rows, nl="\r\n", bom=True))
    add("no-final-newline", A, csv_of(rows, final=False))
    add("cr-only", E, csv_of(rows, nl="\r"))
    add("blank-lines", E, csv_of(rows[:20] + ["", ""] + rows[20:] + ["", ""]))
    add("ragged-short", R, csv_of(rows[:5] + ["i5.png,disc"] + rows[6:]))
    add("ragged-short-skip", E, csv_of(rows[:5] + ["i5.png,disc"] + rows[6:]), extra=["--skip-bad"])
    add("ragged-long", E, csv_of(rows[:5] + [rows[5] + ",extra,more"] + rows[6:]))
    add("ragged-path-only", R, csv_of(rows[:5] + ["i5.png"] + rows[6:]))
    add("unclosed-quote", R, csv_of(rows[:5] + ['"i5.png,disc,dark,0.8'] + rows[6:]))
    add("unclosed-quote-last", R, csv_of(rows + ['"i0.png,disc,dark,0.8']))
    add("quote-mid-field", E, csv_of(rows[:5] + ['i5.p"ng,disc,dark,0.8'] + rows[6:]))
    add("quoted-comma", E, csv_of(rows[:5] + ['i5.png,"di,sc",dark,0.8'] + rows[6:]))
    add("quoted-newline", E, csv_of(rows[:5] + ['i5.png,"di\nsc",dark,0.8'] + rows[6:]))
    add("escaped-quotes", E, csv_of(rows[:5] + ['i5.png,"d""isc",dark,0.8'] + rows[6:]))
    add("empty-header-names", E, csv_of(rows, header=",shape,tone,"))
    add("empty-condition-header", R, csv_of(rows, header="path,,tone,v"), conditions=",tone")
    add("header-only", R, csv_of([]))
    add("empty-file", R, b"")
    add("bom-only", R, b"\xef\xbb\xbf")
    add("duplicate-columns", R, csv_of([r + "," + r.split(",")[1] for r in rows], header=HEADER + ",shape"))
    add("duplicate-path-column", E, csv_of([r + "," + r.split(",")[0] for r in rows], header=HEADER + ",path"))
    add("condition-missing", R, csv_of(rows), conditions="shape,colour")
    add("conditions-empty", R, csv_of(rows), conditions="")
    add("conditions-commas", R, csv_of(rows), conditions=",,")
    add("conditions-repeated", E, csv_of(rows), conditions="shape,shape")
    add("condition-is-path", E, csv_of(rows), conditions="path")
    add("one-value-only", E, csv_of([r.replace("square", "disc").replace("bar", "disc") for r in rows]), conditions="shape")
    add("empty-values", E, csv_of([",".join(r.split(",")[:1] + ["", ""] + r.split(",")[3:]) for r in rows]))
    for name, col in [("dotdot", "../../x"), ("escape", "\x1b[31mred"), ("slash", "a/b"), ("newline-ish", "a\\nb"),
                      ("long", "c" * 5000), ("unicode", "形状"), ("space", " shape ")]:
        add("condition-named-" + name, E, csv_of(rows, header="path,%s,tone,v" % col), conditions="%s,tone" % col)
    add("value-escape", E, csv_of([r.replace("disc", "\x1b[31mdisc") for r in rows]))
    add("nul-byte", E, csv_of(rows[:3] + [rows[3].replace("disc", "di\x00sc")] + rows[4:]))
    add("invalid-utf8", E, csv_of(rows[:3] + [rows[3].replace("disc", "di\udcffsc")] + rows[4:]))
    add("latin1", E, ("\n".join([HEADER] + [r.replace("disc", "disqué") for r in rows]) + "\n").encode("latin-1"))
    add("duplicate-rows", E, csv_of(rows + rows[:10]))
    add("long-line", E, csv_of(rows + ["i1.png,disc,dark," + "9" * (4 << 20)]))
    add("many-missing-rows-skip", E, csv_of(rows + ["nope%d.png,disc,dark,0.8" % k for k in range(50000)]), extra=["--skip-bad"])

    def swap(path):
        return [",".join([path] + r0[1:])] + rows[1:]
    for name, path in [("dotdot", "../outside.png"), ("dotdot-deep", "../../../../../../../../etc/passwd"),
                       ("absolute", "/ABS/outside.png"), ("absolute-etc", "/etc/passwd"), ("inner-dotdot", "sub/../../outside.png"),
                       ("link-out", "link.png"), ("link-dir-out", "linkdir/outside.png"), ("link-etc", "etc.png"),
                       ("link-loop", "loop.png")]:
        add("path-" + name, R, swap(path), images=_links)
        add("path-%s-skip" % name, E, swap(path), extra=["--skip-bad"], images=_links)
    add("path-dotdot-allowed", A, swap("../outside.png"), extra=["--allow-outside"], images=_links)
    for name, path, expect in [("dot-slash", "./i0.png", A), ("inside-dotdot", "sub/../i0.png", E), ("empty", "", R),
                               ("directory", "sub", R), ("missing", "missing.png", R), ("double-slash", "sub//x.png", E),
                               ("link-inside", "inlink.png", A), ("nul", "i0\x00.png", R)]:
        add("path-" + name, expect, swap(path), images=_links)
    for name, content in [("huge-claim", formats.png(8, 8, claim=(100000, 100000))), ("claim-zero", formats.png(8, 8, claim=(0, 0))),
                          ("claim-max", formats.png(8, 8, claim=(2**31 - 1, 1))), ("truncated", formats.png(32, 32)[:60]),
                          ("zero-bytes", b""), ("bad-crc", formats.png(8, 8)[:29] + b"\0\0\0\0" + formats.png(8, 8)[33:]),
                          ("random", bytes(range(256)) * 8), ("jpeg-head", b"\xff\xd8\xff\xe0" + b"\0" * 100),
                          ("jpeg-trunc", b"\xff\xd8\xff\xdb\x00\x43\x00"), ("text", b"hello")]:
        add("image-" + name, R, csv_of(rows), images=_bad_image(content))
        add("image-%s-skip" % name, E, csv_of(rows), extra=["--skip-bad"], images=_bad_image(content))
    for name, content, expect in [("one-pixel", formats.png(1, 1), A), ("wide", formats.png(3000, 1), A),
                                  ("tall", formats.png(1, 3000), A)]:
        add("image-" + name, expect, csv_of(rows), images=_bad_image(content))
    return out


def _links(scratch: Path):
    img = scratch / "images"
    os.symlink("../outside.png", img / "link.png")
    os.symlink("..", img / "linkdir")
    os.symlink("/etc/passwd", img / "etc.png")
    os.symlink("loop.png", img / "loop.png")
    os.symlink("i1.png", img / "inlink.png")
    (img / "sub").mkdir()
    # The CSV rows for absolute paths name the scratch folder itself.
    csv = (scratch / "attrs.csv").read_bytes().replace(b"/ABS/", str(scratch).encode() + b"/")
    (scratch / "attrs.csv").write_bytes(csv)


def _bad_image(content):
    def fn(scratch: Path):
        (scratch / "images" / "i7.png").write_bytes(content)
    return fn


def option_cases(base) -> list:
    rows = base_rows(base)
    data = csv_of(rows)
    out = []
    for spec, expect in [("v:0.05", A), ("v:nan", R), ("v:-1", R), ("v:inf", R), ("v", R), ("v:1e309", R), ("v:", R),
                         ("v:0", E), ("shape:1", R), ("nope:1", R), ("v:0.05,v:0.1", R)]:
        out.append(("ordinal-" + spec, expect, data, "shape,v", ["--ordinal", spec], None))
    for name, val in [("letters", "abc"), ("nan", "nan"), ("huge", "1e400"), ("empty", ""), ("inf", "inf")]:
        bad = rows[:4] + [",".join(rows[4].split(",")[:3] + [val])] + rows[5:]
        out.append(("ordinal-value-" + name, R, csv_of(bad), "shape,v", ["--ordinal", "v:0.05"], None))
    for opt, values in [("--size", ["33", "0", "-1", str(2**40), "64", "32.5"]), ("--triplets", ["0", "-1", str(10**12), "1"]),
                        ("--seed", ["-1", str(2**64), "x"]), ("--path-column", ["nope", "shape", ""]),
                        ("--split-column", ["nope", "shape", "path"])]:
        for v in values:
            expect = A if (opt, v) in (("--size", "64"), ("--triplets", "1")) else \
                E if (opt, v) in (("--triplets", "0"), ("--split-column", "path"), ("--split-column", "shape"),
                                  ("--path-column", "shape"), ("--triplets", str(10**12))) else R
            out.append(("option%s=%s" % (opt, v[:12]), expect, data, "shape,tone", [opt, v], None))
    return out


def make_case(base, name, expect, data, conditions, extra, images, out_arg=OUT):
    args = argv(conditions=conditions, extra=extra)
    args[args.index("--out") + 1] = out_arg
    setup, check = confined(prepare(base, data if isinstance(data, bytes) else csv_of(data), images), "out")
    return Case(CATEGORY, name, args, expect, setup=setup, check=all_checks(check, no_injection), timeout=30)


def out_cases(base) -> list:
    data = csv_of(base_rows(base))
    out = []
    for name, target, expect in [("equals-csv", "attrs.csv", R), ("equals-image", "images/i0.png", R),
                                 ("equals-images-dir", "images", R), ("missing-dir", "nodir/x/d.safetensors.gz", E),
                                 ("empty", "", R),
                                 ("equals-csv-dotted", "./out/../attrs.csv", R), ("existing", "out/old.safetensors.gz", A)]:
        # Never /dev/null or the like: an atomic write renames over its target, and this may run as root.
        old = (lambda s: (s / "out" / "old.safetensors.gz").write_bytes(b"old")) if name == "existing" else None
        out.append(make_case(base, "out-" + name, expect, data, "shape,tone", [], old, out_arg=target))
    return out


def cases(rng, base) -> list:
    out = [make_case(base, *spec) for spec in csv_cases(base) + option_cases(base)]
    return out + out_cases(base) + imp_triplets.cases(rng, base)
