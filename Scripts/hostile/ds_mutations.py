"""Mutated csn datasets: each mutation is (name, expect, file bytes, file suffix)."""

from __future__ import annotations

import json
import struct

import formats
from formats import gz

R, A, E = "reject", "accept", "either"
GZ, RAW = ".safetensors.gz", ".safetensors"


def header_edit(base, fn):
    def override(h):
        fn(h)
        return h
    return gz(base.archive.encode(header_override=override))


def arch_edit(base, fn):
    a = base.archive.copy()
    fn(a)
    return gz(a.encode())


def meta(key, value):
    def fn(a):
        if value is None:
            a.metadata.pop(key, None)
        else:
            a.metadata[key] = value
    return fn


def edit_conditions(fn):
    def edit(a):
        conds = formats.conditions_of(a)
        fn(a, conds)
        a.metadata["conditions"] = json.dumps(conds, ensure_ascii=False)
    return edit


def rename(new):
    def fn(a, conds):
        old = conds[0]["name"]
        conds[0]["name"] = new
        a.tensors["condition." + new] = a.tensors.pop("condition." + old)
    return edit_conditions(fn)


def make_ordinal(values, threshold=0.5, drop_tensor=False, shape=None):
    def fn(a, conds):
        conds[1]["rule"] = "ordinal"
        if threshold is not None:
            conds[1]["threshold"] = threshold
        labels = a.values("condition.tone")
        # Alike exactly when the labels are equal (so the stored triplets stay right), except
        # where `values` plants something hostile on the first images.
        vals = [values[i] if i < len(values) else 0.1 + 0.8 * label for i, label in enumerate(labels)]
        n = len(labels)
        if not drop_tensor:
            a.put("ordinal.tone", "F32", shape or [n], vals)
    return edit_conditions(fn)


def set_values(tensor, index, value):
    def fn(a):
        dtype, shape, _ = a.tensors[tensor]
        vals = a.values(tensor)
        vals[index % len(vals)] = value
        a.put(tensor, dtype, shape, vals)
    return fn


def retype(tensor, dtype, shape=None):
    def fn(a):
        _, old_shape, _ = a.tensors[tensor]
        vals = a.values(tensor)
        if dtype in ("F32",):
            vals = [float(v) for v in vals]
        a.put(tensor, dtype, shape or old_shape, vals)
    return fn


def tensor_field(tensor, key, value):
    def fn(h):
        h[tensor][key] = value
    return fn


def raw_header(base, text: bytes):
    body = base.archive.encode()
    (n,) = struct.unpack("<Q", body[:8])
    return gz(struct.pack("<Q", len(text)) + text + body[8 + n:])


def structural(base) -> list:
    b = base
    n = len(b.archive.values("split"))
    data = b.archive.encode()
    (hlen,) = struct.unpack("<Q", data[:8])
    out = []

    def add(name, expect, content, suffix=GZ):
        out.append((name, expect, content, suffix))

    # Shapes and offsets in the safetensors header.
    for name, shape in [("overflow-62x62", [2**62, 2**62]), ("overflow-62x62x62", [2**62, 2**62, 2**62]),
                        ("overflow-31x4", [2**31] * 4), ("huge-40", [2**40, 32, 32]), ("int-max", [2**63 - 1]),
                        ("two-63", [2**63]), ("two-64", [2**64]), ("negative", [-n, 32, 32]),
                        ("negative-pair", [n, -32, -32]), ("float", [n + 0.5, 32, 32]), ("strings", [str(n), "32", "32"]),
                        ("null", None), ("nested", [[n], 32, 32]), ("bools", [True, True]), ("nine-dims", [1] * 8 + [n * 1024]),
                        ("scalar", []), ("zero", [0, 32, 32]), ("object", {"n": n})]:
        add("images-shape-" + name, R, header_edit(b, tensor_field("images", "shape", shape)))
    add("split-shape-overflow", R, header_edit(b, tensor_field("split", "shape", [2**62, 2**62])))
    add("triplets-shape-overflow", R, header_edit(b, tensor_field("triplets.val", "shape", [2**62, 4])))
    total = len(data) - 8 - hlen
    for name, offsets in [("past-end", [0, 10**9]), ("end-plus-one", [0, total + 1]), ("reversed", [100, 0]),
                          ("negative", [-8, n * 1024 - 8]), ("two-63", [0, 2**63]), ("two-64", [2**64, 2**64 + 1]),
                          ("three", [0, n * 1024, 5]), ("one", [0]), ("strings", ["0", str(n * 1024)]),
                          ("floats", [0.0, n * 1024.0])]:
        add("images-offsets-" + name, E if name == "floats" else R, header_edit(b, tensor_field("images", "data_offsets", offsets)))
    add("offsets-overlap", E, header_edit(b, lambda h: h["group"].__setitem__("data_offsets", list(h["condition.shape"]["data_offsets"]))))
    for dtype in ("F16", "BOOL", "", "u8", "F64", 7):
        add("images-dtype-%s" % dtype, R, header_edit(b, tensor_field("images", "dtype", dtype)))
    for tensor in ("images", "split", "group", "condition.shape", "condition.tone", "triplets.val", "triplets.test"):
        add("missing-" + tensor, R, arch_edit(b, lambda a, t=tensor: a.tensors.pop(t)))
    add("extra-tensor", E, arch_edit(b, lambda a: a.put("junk", "F32", [3], [1.0, 2.0, 3.0])))
    add("split-as-f32", R, arch_edit(b, retype("split", "F32")))
    add("labels-as-i64", R, arch_edit(b, retype("condition.shape", "I64")))
    add("triplets-as-i64", R, arch_edit(b, retype("triplets.val", "I64")))
    add("triplets-shape-3", R, arch_edit(b, lambda a: a.put("triplets.val", "I32", [len(a.values("triplets.val")) // 3, 3], a.values("triplets.val")[: len(a.values("triplets.val")) // 3 * 3])))
    add("triplets-shape-3d", R, arch_edit(b, lambda a: a.put("triplets.test", "I32", [len(a.values("triplets.test")) // 4, 4, 1], a.values("triplets.test"))))
    add("triplets-empty", E, arch_edit(b, lambda a: a.put("triplets.val", "I32", [0, 4], [])))
    add("train-triplets-bad", R, arch_edit(b, lambda a: a.put("triplets.train", "I32", [2, 4], [0, 0, 1, 999, 0, 1, 2, 3])))
    add("train-triplets-copy", E, arch_edit(b, lambda a: a.tensors.__setitem__("triplets.train", a.tensors["triplets.val"])))

    # The header length and the header text.
    for name, length in [("two-63", 2**63), ("max", 2**64 - 1), ("zero", 0), ("one", 1), ("two-32", 2**32),
                         ("plus-one", hlen + 1), ("minus-one", hlen - 1), ("whole-file", len(data)),
                         ("100MB", 100_000_001)]:
        add("header-length-" + name, R, gz(struct.pack("<Q", length) + data[8:]))
    for name, text in [("garbage", b"not json at all"), ("array", b"[1,2,3]"), ("string", b'"x"'),
                       ("nul-bytes", b"\x00" * 64), ("latin1", b'{"\xff\xfe":1}'), ("deep-arrays", b"[" * 200000),
                       ("deep-objects", b'{"a":' * 100000), ("empty-object", b"{}"), ("metadata-only", b'{"__metadata__":{}}'),
                       ("metadata-int", b'{"__metadata__":{"format":1}}'), ("metadata-list", b'{"__metadata__":[1]}'),
                       ("huge-number", b'{"images":{"dtype":"U8","shape":[1e400],"data_offsets":[0,1]}}')]:
        add("header-" + name, R, raw_header(b, text))

    # Metadata.
    for name, key, value, expect in [
            ("format-missing", "format", None, R), ("format-v2", "format", "csn-dataset/2", R),
            ("size-2-32", "image_size", str(2**32), R), ("size-0", "image_size", "0", R), ("size-neg", "image_size", "-32", R),
            ("size-1e3", "image_size", "1e3", R), ("size-empty", "image_size", "", R), ("size-20digits", "image_size", "9" * 20, R),
            ("size-space", "image_size", " 32", R), ("size-64", "image_size", "64", R), ("size-16", "image_size", "16", R),
            ("channels-3", "channels", "3", R), ("channels-2", "channels", "2", R), ("channels-0", "channels", "0", R),
            ("channels-neg", "channels", "-1", R), ("conditions-not-json", "conditions", "not json", R),
            ("conditions-none", "conditions", "[]", E), ("conditions-object", "conditions", "{}", R),
            ("conditions-numbers", "conditions", "[1,2]", R), ("conditions-missing", "conditions", None, R),
            ("groups-not-list", "groups", '"g"', R), ("groups-empty", "groups", "[]", E),
            ("names-short", "image_names", json.dumps(["x"] * (n - 1)), R), ("names-long", "image_names", json.dumps(["x"] * (n + 1)), R),
            ("names-empty", "image_names", "[]", R), ("names-numbers", "image_names", json.dumps(list(range(n))), R),
            ("names-escape", "image_names", json.dumps(["\x1b[31m../../n%d" % i for i in range(n)]), E),
            ("provenance-junk", "provenance", "[[[", E), ("fonts-junk", "fonts", "[1]", R), ("fonts-count", "fonts", "[]", E)]:
        add("meta-" + name, expect, arch_edit(b, meta(key, value)))
    for name, new in [("dotdot", "../../x"), ("escape", "\x1b[31mred"), ("empty", ""), ("slash", "a/b"),
                      ("long", "c" * 10000), ("nul", "a\x00b"), ("newline", "a\nb"), ("dup", "tone")]:
        add("condition-name-" + name, E if name not in ("dup",) else R, arch_edit(b, rename(new)))

    def cond_field(key, value):
        return edit_conditions(lambda a, conds: conds[0].__setitem__(key, value))
    for name, key, value, expect in [("values-empty", "values", [], R), ("values-one", "values", ["only"], R),
                                     ("values-numbers", "values", [1, 2, 3], R), ("values-escape", "values", ["\x1b[31ma", "b", "c"], E),
                                     ("rule-weird", "rule", "weird", R), ("rule-number", "rule", 3, E),
                                     ("name-number", "name", 5, R)]:
        add("condition-" + name, expect, arch_edit(b, cond_field(key, value)))
    for name, values, threshold, expect, kw in [
            ("valid", [], 0.15, A, {}), ("nan", [float("nan"), 0.2], 0.5, E, {}),
            ("inf", [float("inf"), 0.2], 0.5, E, {}), ("neg-inf", [float("-inf"), 1.0], 0.5, E, {}),
            ("no-threshold", [0.1, 0.2], None, R, {}), ("threshold-neg", [0.1, 0.2], -1, E, {}),
            ("threshold-1e308", [0.1, 0.2], 1e308, E, {}), ("threshold-string", [0.1], "0.5", R, {}),
            ("no-tensor", [0.1], 0.5, R, {"drop_tensor": True}), ("tensor-short", [0.1], 0.5, R, {"shape": None})]:
        if name == "tensor-short":
            fn = make_ordinal(values, threshold)

            def short(a, fn=fn):
                fn(a)
                a.put("ordinal.tone", "F32", [n - 1], [0.1] * (n - 1))
            add("ordinal-" + name, expect, arch_edit(b, short))
        else:
            add("ordinal-" + name, expect, arch_edit(b, make_ordinal(values, threshold, **kw)))

    # Values inside the tensors.
    for name, tensor, index, value, expect in [
            ("label-3", "condition.shape", 5, 3, R), ("label-neg", "condition.shape", 5, -1, R),
            ("label-max", "condition.tone", 0, 2**31 - 1, R), ("label-min", "condition.tone", 1, -2**31, R),
            ("group-neg", "group", 3, -1, R), ("group-big", "group", 3, 10**6, R),
            ("split-7", "split", 4, 7, R), ("split-255", "split", 0, 255, R), ("split-3", "split", n - 1, 3, R),
            ("triplet-anchor-60", "triplets.val", 1, n, R), ("triplet-pos-neg", "triplets.val", 2, -1, R),
            ("triplet-neg-max", "triplets.test", 3, 2**31 - 1, R), ("triplet-anchor-min", "triplets.test", 5, -2**31, R),
            ("triplet-cond-2", "triplets.val", 0, 2, R), ("triplet-cond-neg", "triplets.test", 4, -1, R),
            ("triplet-self", "triplets.val", 2, None, E), ("pixels-max", "images", 0, 255, A)]:
        if value is None:
            fn = (lambda a: set_values("triplets.val", 2, a.values("triplets.val")[1])(a))
        else:
            fn = set_values(tensor, index, value)
        add("value-" + name, expect, arch_edit(b, fn))
    add("all-train", E, arch_edit(b, lambda a: a.put("split", "U8", [n], [0] * n)))
    add("triplets-wrong-split", E, arch_edit(b, lambda a: a.tensors.__setitem__("triplets.test", a.tensors["triplets.val"])))

    # Containers.
    add("gzip-lying", R, formats.lying_gzip())
    add("gzip-header-only", R, gz(data)[:10])
    add("gzip-no-trailer", R, gz(data)[:-8])
    add("gzip-trailing-junk", E, gz(data) + b"junk!")
    add("gzip-two-members", E, gz(data[:100]) + gz(data[100:]))
    add("gzip-of-empty", R, gz(b""))
    add("gzip-of-text", R, gz(b"hello\n" * 100))
    add("gzip-bad-crc", R, gz(data)[:-8] + b"\0\0\0\0" + gz(data)[-4:])
    add("empty-file", R, b"")
    add("one-byte", R, b"\x1f")
    add("magic-only", R, b"\x1f\x8b")
    add("plain-with-gz-name", E, data)
    add("plain", A, data, RAW)
    add("png-as-dataset", R, formats.png(4, 4), RAW)
    add("checkpoint-as-dataset", R, (b.run / "model.safetensors").read_bytes(), RAW)
    return out
