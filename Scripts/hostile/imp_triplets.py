"""`data import-triplets` with hostile triplet lists and names files, and `data export-triplets`
of datasets whose condition and image names try to leave the output folder."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import ds_mutations
from checks import all_checks, confined, no_injection
from common import Case, run_process
import formats
from formats import gz

CATEGORY = "import"
R, A, E = "reject", "accept", "either"
_lock = threading.Lock()
DEEP = "d1/d2/d3/d4/d5/out"


def exported(base) -> Path:
    """The tiny dataset exported once with its images, as import-triplets reads it."""
    path = base.dir / "exported"
    with _lock:
        if not path.exists():
            res = run_process(base.binary, ["data", "export-triplets", "--data", base.dataset, "--out", path,
                                            "--with-images", "--train-per-condition", "30"], base.dir, 60, "export")
            if res.returncode != 0:
                raise RuntimeError("export-triplets failed: " + res.stderr[:500])
    return path


def edit_lists(fn, pattern="_tripletlist_"):
    """Applies fn(text) -> text to every triplet list."""
    def mutate(ex: Path):
        for p in sorted(ex.iterdir()):
            if pattern in p.name and p.is_file():
                p.write_bytes(fn(p.read_bytes()))
    return mutate


def edit_file(name, fn):
    def mutate(ex: Path):
        (ex / name).write_bytes(fn((ex / name).read_bytes()))
    return mutate


def first_line(new: bytes, name="shape_tripletlist_val.txt"):
    return edit_file(name, lambda d: new + b"\n" + d.split(b"\n", 1)[1])


def names_first(new: bytes):
    return edit_file("filenames.json", lambda d: new + b"\n" + d.split(b"\n", 1)[1])


def import_mutations() -> list:
    out = [("baseline", A, None), ("lists-crlf", A, edit_lists(lambda d: d.replace(b"\n", b"\r\n"))),
           ("names-crlf", A, edit_file("filenames.json", lambda d: d.replace(b"\n", b"\r\n"))),
           ("lists-tabs", A, edit_lists(lambda d: d.replace(b" ", b"\t"))),
           ("lists-bom", E, edit_lists(lambda d: b"\xef\xbb\xbf" + d)), ("lists-blank-lines", E, edit_lists(lambda d: d.replace(b"\n", b"\n\n"))),
           ("lists-no-final-newline", A, edit_lists(lambda d: d.rstrip(b"\n"))), ("lists-double-spaces", E, edit_lists(lambda d: d.replace(b" ", b"  ")))]
    for name, line, expect in [("junk-token", b"27 x 54", R), ("two-fields", b"27 54", R), ("four-fields", b"27 32 54 1", R),
                               ("index-60", b"27 60 54", R), ("negative", b"27 -1 54", R), ("two-64", b"27 18446744073709551616 54", R),
                               ("two-31", b"27 2147483648 54", R), ("int32-max", b"2147483647 1 2", R), ("float", b"27 32.0 54", R),
                               ("plus-sign", b"+27 32 54", E), ("hex", b"0x1b 32 54", R), ("escape", b"\x1b[31m 32 54", R),
                               ("nul", b"27 3\x002 54", R), ("utf8-digits", "２７ 32 54".encode(), R), ("leading-zeros", b"027 032 054", E),
                               ("huge-token", b"9" * 100000 + b" 1 2", R), ("same-image", b"27 27 27", E)]:
        out.append(("line-" + name, expect, first_line(line)))
    out += [("list-binary", R, edit_file("shape_tripletlist_val.txt", lambda d: bytes(range(256)) * 8)),
            ("list-empty", E, edit_file("shape_tripletlist_val.txt", lambda d: b"")),
            ("lists-100k-lines", E, edit_file("shape_tripletlist_train.txt", lambda d: b"1 2 3\n" * 100000)),
            ("list-missing-val", E, lambda ex: (ex / "shape_tripletlist_val.txt").unlink()),
            ("lists-none", R, lambda ex: [p.unlink() for p in ex.glob("*_tripletlist_*")]),
            ("list-is-dir", R, lambda ex: (ex / "tone_tripletlist_val.txt").unlink() or (ex / "tone_tripletlist_val.txt").mkdir()),
            ("list-dev-zero", R, lambda ex: (ex / "tone_tripletlist_val.txt").unlink() or (ex / "tone_tripletlist_val.txt").symlink_to("/dev/zero")),
            ("list-fifo", R, lambda ex: (ex / "tone_tripletlist_val.txt").unlink() or os.mkfifo(ex / "tone_tripletlist_val.txt")),
            ("list-escape-name", E, lambda ex: shutil.copy(ex / "tone_tripletlist_val.txt", ex / "\x1b[31mx_tripletlist_val.txt")),
            ("list-dotdot-name", E, lambda ex: shutil.copy(ex / "tone_tripletlist_val.txt", ex / ".._tripletlist_val.txt")),
            ("list-odd-split", E, lambda ex: shutil.copy(ex / "tone_tripletlist_val.txt", ex / "tone_tripletlist_bogus.txt")),
            ("names-empty", R, edit_file("filenames.json", lambda d: b"")),
            ("names-short", R, edit_file("filenames.json", lambda d: b"\n".join(d.split(b"\n")[:10]) + b"\n")),
            ("names-duplicates", E, edit_file("filenames.json", lambda d: d.replace(b"000001.png", b"000000.png"))),
            ("names-json-array", E, edit_file("filenames.json", lambda d: json.dumps(d.decode().split()).encode())),
            ("names-dotdot", R, names_first(b"../outside.png")), ("names-absolute", R, names_first(b"/etc/passwd")),
            ("names-link-out", R, lambda ex: (names_first(b"images/link.png")(ex), os.symlink("/etc/passwd", ex / "images" / "link.png"))),
            ("names-missing-image", R, names_first(b"images/nope.png")), ("names-blank-first", E, names_first(b"")),
            ("names-escape", R, names_first(b"\x1b[31m.png")),
            ("names-dev-zero", R, lambda ex: (ex / "filenames.json").unlink() or (ex / "filenames.json").symlink_to("/dev/zero")),
            ("image-truncated", R, edit_file("images/000005.png", lambda d: d[:50]))]
    return out


def import_case(base, name, expect, mutate, extra=()):
    src = exported(base)

    def setup(scratch: Path):
        shutil.copytree(src, scratch / "ex", symlinks=True)
        (scratch / "out").mkdir()
        (scratch / "outside.png").write_bytes(formats.png(8, 8))
        if mutate:
            mutate(scratch / "ex")
    wrapped, check = confined(setup, "out")
    argv = ["data", "import-triplets", "--filenames", "ex/filenames.json", "--triplets", "ex", "--images", "ex",
            "--out", "out/d.safetensors.gz"] + list(extra)
    return Case(CATEGORY, "triplets-" + name, argv, expect, setup=wrapped, check=all_checks(check, no_injection), timeout=30)


def export_case(base, name, expect, edit, extra=(), out_dir=DEEP):
    """export-triplets of a dataset edited by edit(archive, scratch); nothing may land outside out_dir."""
    def setup(scratch: Path):
        a = base.archive.copy()
        edit(a, scratch)
        (scratch / "d.safetensors.gz").write_bytes(gz(a.encode()))
    wrapped, check = confined(setup, out_dir)
    argv = ["data", "export-triplets", "--data", "d.safetensors.gz", "--out", out_dir, "--train-per-condition", "5"] + list(extra)
    return Case(CATEGORY, "export-" + name, argv, expect, setup=wrapped, check=all_checks(check, no_injection), timeout=30)


def renamed(new, second=None):
    def edit(a, scratch):
        name = new.replace("/ABS", str(scratch))
        ds_mutations.rename(name)(a)
        if second is not None:
            cond = json.loads(a.metadata["conditions"])
            old = cond[1]["name"]
            cond[1]["name"] = second
            a.metadata["conditions"] = json.dumps(cond)
            a.tensors["condition." + second] = a.tensors.pop("condition." + old)
    return edit


def image_names(fn):
    def edit(a, scratch):
        names = json.loads(a.metadata["image_names"])
        a.metadata["image_names"] = json.dumps([fn(i, n, scratch) for i, n in enumerate(names)])
    return edit


def cases(rng, base) -> list:
    out = [import_case(base, n, e, m) for n, e, m in import_mutations()]
    out.append(import_case(base, "names-dotdot-allowed", A, names_first(b"../outside.png"), ["--allow-outside"]))
    for name, new, expect in [("dotdot", "../../x", E), ("dotdot-5", "../../../../../x", E), ("absolute", "/ABS/escaped", E),
                              ("dot", ".", E), ("dotdot-only", "..", E), ("escape", "\x1b[31mred", E), ("slash", "a/b", E),
                              ("long", "y" * 300, E), ("backslash", "..\\..\\x", E), ("unicode", "형태", E), ("empty", "", R)]:
        for with_images in (False, True):
            extra = ["--with-images"] if with_images else []
            out.append(export_case(base, "condition-%s%s" % (name, "-images" if with_images else ""), expect, renamed(new), extra))
    out.append(export_case(base, "condition-clash", R, renamed("a/b", "a_b")))
    for name, fn in [("dotdot", lambda i, n, s: "../../../../../../evil%d.png" % i), ("absolute", lambda i, n, s: "%s/abs%d.png" % (s, i)),
                     ("escape", lambda i, n, s: "\x1b[31m%d" % i), ("duplicate", lambda i, n, s: "same.png"), ("empty", lambda i, n, s: "")]:
        for with_images in (False, True):
            extra = ["--with-images"] if with_images else []
            out.append(export_case(base, "image-names-%s%s" % (name, "-images" if with_images else ""), E, image_names(fn), extra))
    out.append(export_case(base, "out-is-file", R, lambda a, s: (s / "file").write_text("x"), out_dir="file"))
    out.append(export_case(base, "baseline", A, lambda a, s: None, ["--with-images"]))
    return out
