"""Runs written by any trainer, and vectors from any model:

- `watch --once PATH` on TensorBoard event files (framing, checksums, protobuf), metrics.jsonl
  lines, and hostile folders (FIFOs, device links, link loops, deep trees, 10k folders);
- `neighbours --embeddings F --index 0 -k 3` (the parsers behind `explore --embeddings`) on csn
  embeddings .safetensors, .npy, tensors.tsv, Projector folders and metadata.tsv labels;
- `export RUN --embeddings OUT / --projector DIR` with hostile output paths and condition names;
- a few `explore --embeddings` and live `watch` sessions in tmux.

Where csn exits 0 the output is read back: a watch line must count the corrupt records and
unreadable lines it skipped and show every point the files hold; a neighbours listing must hold
no NaN. A mismatch is reported as a silent acceptance, with what was wrong. A refusal whose
message does not name the file at fault is reported as an unclear error."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import formats
import tfevents as tf
from checks import INJECTED, all_checks, confined, no_injection
from common import CRASH_CODES, Case, Result, crash_marker, judge_terminal_case, run_process

CATEGORY = "runs"
R, A, E = "reject", "accept", "either"
REPO = Path(__file__).resolve().parent.parent.parent
FONTS = REPO / "Assets" / "fonts32.safetensors.gz"
EVENT_NAME = "events.out.tfevents.1700000000.host.4242.0"
MIB = 1 << 20


# ================================================================ reading the output back

def silent(res: Result, note: str) -> None:
    """An exit 0 whose output misrepresents the input."""
    res.verdict = "silent"
    res.note = note


def names(*fragments):
    """A refusal must name the file at fault (any of the fragments) on a short message."""
    def check(scratch: Path, res: Result) -> Optional[str]:
        if res.timed_out or res.returncode in (0, None) or res.returncode < 0 or crash_marker(res.stderr):
            return None
        text = res.stderr.strip()
        if not text:
            return None
        if "Error Domain=" in text:
            res.verdict = "vague"
            res.note = "a raw Foundation error instead of a sentence"
        elif not any(f in text for f in fragments):
            res.verdict = "vague"
            res.note = "the error does not name %s" % " or ".join(fragments)
        elif len(text.splitlines()) > 3:
            res.verdict = "vague"
            res.note = "a %d-line error" % len(text.splitlines())
        return None
    return check


# Steps print as whole numbers, or (beyond 1e15 or fractional) as Swift prints a Double.
TAG_LINE = re.compile(r"^  (.*?) +step (-?[0-9.e+-]+)  (\S+)  \((\d+) points\)$")


def parse_watch(stdout: str) -> dict:
    """{run name: {"notes": text, "tags": {tag: (step, value text, points)}}}"""
    runs, current, gap = {}, None, False
    for line in stdout.splitlines():
        if line == "[...]":     # read_capped left out the middle; the next line is cut
            gap = True
            continue
        if gap or not line.strip():
            gap = False
            continue
        if line.startswith("  "):
            m = TAG_LINE.match(line)
            if current is not None:
                key = m.group(1) if m else line.strip()
                current["tags"][key] = (float(m.group(2)), m.group(3), int(m.group(4))) if m else None
            continue
        m = re.match(r"^(.*?)(?:  \((.*)\))?$", line)
        current = {"notes": m.group(2) or "", "tags": {}}
        runs[m.group(1)] = current
    return runs


def count_note(notes: str, what: str) -> int:
    m = re.search(r"(\d+) %s" % re.escape(what), notes)
    return int(m.group(1)) if m else 0


def same_number(printed: str, want: float) -> bool:
    try:
        got = float(printed)
    except ValueError:
        return False
    if math.isnan(want):
        return math.isnan(got)
    return got == want or abs(got - want) <= 1e-9 * max(1.0, abs(want))


@dataclass
class Watch:
    """What `watch --once` must print for one run. None: not checked; "some": at least one."""
    run: str = "RUN"
    tags: Optional[dict] = None      # tag -> (step, value, points), all of them (no other tag)
    present: tuple = ()              # tags that must be there (when tags is None)
    corrupt: object = 0
    skipped: object = 0
    partial: Optional[bool] = False

    def check(self, scratch: Path, res: Result) -> Optional[str]:
        if res.returncode != 0 or res.timed_out:
            return None
        runs = parse_watch(res.stdout)
        if self.run not in runs:
            silent(res, "exit 0 but no line for run %r (runs: %s)" % (self.run, ", ".join(map(repr, runs))[:100]))
            return None
        got = runs[self.run]
        problems = []
        for label, want, what in (("corrupt", self.corrupt, "corrupt record"), ("skipped", self.skipped, "unreadable line")):
            n = count_note(got["notes"], what)
            if want == "some" and n == 0:
                problems.append("no %s(s) counted" % what)
            elif isinstance(want, int) and n != want:
                problems.append("%d %s(s) counted, expected %d" % (n, what, want))
        partial = count_note(got["notes"], "file(s) end in a partial record") > 0
        if self.partial is not None and partial != self.partial:
            problems.append("says a file ends in a partial record" if partial else "does not say a file ends in a partial record")
        if self.tags is not None:
            for tag, (step, value, points) in self.tags.items():
                have = got["tags"].get(tag[:40])
                if have is None:
                    problems.append("tag %r missing" % tag[:30])
                elif not same_number(repr(have[0]), float(step)) or have[2] != points or not same_number(have[1], value):
                    problems.append("%s: step %g, %s, %d points; expected step %g, %r, %d points"
                                    % (tag[:30], have[0], have[1], have[2], step, value, points))
            extra = set(got["tags"]) - {t[:40] for t in self.tags}
            if extra:
                problems.append("unexpected tags %s" % ", ".join(sorted(map(repr, extra)))[:80])
        for tag in self.present:
            if tag[:40] not in got["tags"]:
                problems.append("tag %r missing" % tag[:30])
        if problems:
            silent(res, "exit 0, but " + "; ".join(problems)[:400])
        return None


# ================================================================ event files

@dataclass
class Rec:
    data: bytes
    step: int = 0
    scalars: list = field(default_factory=list)     # [(tag, value as stored)]

    def framed(self) -> bytes:
        return tf.frame(self.data)


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def scalar_records(rng, n=12) -> list:
    """What a SummaryWriter writes: a file_version record, then scalars every 50 steps, as
    simple_value and as rank-0 tensors (float_val, tensor_content, double_val)."""
    recs = [Rec(tf.version_event())]
    for i in range(1, n + 1):
        step = 50 * i
        loss, trip, lr = round(rng.uniform(0.1, 2), 4), round(rng.uniform(0.1, 1), 4), 0.001 * (1 - i / (n + 1))
        values = [tf.value("loss", loss), tf.value("loss/triplet", trip),
                  tf.value("learning_rate", tensor_bytes=tf.tensor(tf.DT_DOUBLE, content=struct.pack("<d", lr)))]
        scalars = [("loss", f32(loss)), ("loss/triplet", f32(trip)), ("learning_rate", lr)]
        if i % 3 == 0:
            acc = round(rng.uniform(0.5, 1), 3)
            values.append(tf.value("val/mean", tensor_bytes=tf.tensor(tf.DT_FLOAT, float_val=[acc])))
            values.append(tf.value("val/shape", tensor_bytes=tf.tensor(tf.DT_FLOAT, dims=(), content=struct.pack("<f", acc))))
            scalars += [("val/mean", f32(acc)), ("val/shape", f32(acc))]
        recs.append(Rec(tf.event(step, values, wall_time=1.7e9 + i), step, scalars))
    return recs


def expected(recs) -> dict:
    """tag -> (latest step, latest value, points), with csn's rule that a step going back drops
    the points at and after it."""
    series = {}
    for r in recs:
        for tag, v in r.scalars:
            pts = series.setdefault(tag, [])
            if pts and r.step < pts[-1][0]:
                pts[:] = [p for p in pts if p[0] < r.step]
            pts.append((r.step, v))
    return {t: (p[-1][0], p[-1][1], len(p)) for t, p in series.items() if p}


def write_events(run: Path, blob: bytes, name=EVENT_NAME) -> None:
    run.mkdir(parents=True, exist_ok=True)
    (run / name).write_bytes(blob)


def event_case(name, blob, expect, watch: Optional[Watch], extra_setup=None, argv=None, timeout=None, check=None):
    def setup(scratch: Path, blob=blob):
        write_events(scratch / "RUN", blob() if callable(blob) else blob)
        if extra_setup:
            extra_setup(scratch)
    checks = [no_injection] + ([watch.check] if watch else []) + ([check] if check else [])
    return Case(CATEGORY, "event-" + name, argv or ["watch", "--once", "RUN"], expect, setup=setup,
                check=all_checks(*checks), timeout=timeout)


def framing_cases(rng) -> list:
    recs = scalar_records(rng)
    frames = [r.framed() for r in recs]
    blob = b"".join(frames)
    starts = [sum(len(f) for f in frames[:i]) for i in range(len(frames) + 1)]
    full = expected(recs)
    out = [event_case("valid", blob, A, Watch(tags=full))]

    # Truncation at every interesting boundary of a few records, and at random places.
    cuts = set()
    for i in (0, 1, 6, len(recs) - 1):
        n = len(recs[i].data)
        for off in (0, 1, 7, 8, 11, 12, 13, 12 + n // 2, 12 + n - 1, 12 + n, 12 + n + 1, 12 + n + 3):
            cuts.add(starts[i] + off)
    cuts |= {rng.randrange(1, len(blob)) for _ in range(12)}
    for cut in sorted(cuts):
        whole = max(i for i in range(len(starts)) if starts[i] <= cut)
        exp = expected(recs[:whole])
        out.append(event_case("truncated-at-%d" % cut, blob[:cut], A,
                              Watch(tags=exp, partial=cut not in starts)))

    # Single bit flips: the record hit is skipped and counted once, every other one is read.
    flips = set()
    while len(flips) < 40:
        pos, bit = rng.randrange(len(blob)), rng.randrange(8)
        if (pos, bit) in flips:
            continue
        flips.add((pos, bit))
        hit = max(i for i in range(len(frames)) if starts[i] <= pos)
        data = bytearray(blob)
        data[pos] ^= 1 << bit
        region = "len" if pos - starts[hit] < 8 else "lencrc" if pos - starts[hit] < 12 else \
            "datacrc" if pos >= starts[hit + 1] - 4 else "data"
        out.append(event_case("flip-%d.%d-rec%d-%s" % (pos, bit, hit, region), bytes(data), A,
                              Watch(tags=expected(recs[:hit] + recs[hit + 1:]), corrupt=1)))
    # Two flips in two records.
    for _ in range(4):
        a, b = sorted(rng.sample(range(1, len(recs)), 2))
        data = bytearray(blob)
        for i in (a, b):
            data[starts[i] + 12 + rng.randrange(len(recs[i].data))] ^= 0x10
        keep = [r for j, r in enumerate(recs) if j not in (a, b)]
        out.append(event_case("flip-two-records-%d-%d" % (a, b), bytes(data), A, Watch(tags=expected(keep), corrupt=2)))

    # Checksums that lie.
    def refr(i, **kw):
        return b"".join(tf.frame(r.data, **kw) if j == i else frames[j] for j, r in enumerate(recs))
    without4 = expected(recs[:4] + recs[5:])
    out += [event_case("bad-data-crc-rec4", refr(4, data_crc=0), A, Watch(tags=without4, corrupt=1)),
            event_case("bad-length-crc-rec4", refr(4, length_crc=0), A, Watch(tags=without4, corrupt=1)),
            event_case("both-crcs-bad-rec4", refr(4, length_crc=1, data_crc=1), A, Watch(tags=without4, corrupt=1)),
            event_case("data-crc-unmasked-rec4", refr(4, data_crc=tf.crc32c(recs[4].data)), A, Watch(tags=without4, corrupt=1)),
            event_case("every-data-crc-bad", b"".join(tf.frame(r.data, data_crc=0) for r in recs), A,
                       Watch(tags={}, corrupt=len(recs))),
            # A writer that stores plain CRC-32C, or zlib's CRC-32: nothing is readable. Every header
            # fails its check, so the file is one run of bad bytes (counted once, by design).
            event_case("all-crcs-unmasked", b"".join(
                tf.frame(r.data, length_crc=tf.crc32c(struct.pack("<Q", len(r.data))), data_crc=tf.crc32c(r.data)) for r in recs),
                A, Watch(tags={}, corrupt="some", partial=None)),
            event_case("all-crcs-zlib", b"".join(
                tf.frame(r.data, length_crc=tf.mask(__import__("zlib").crc32(struct.pack("<Q", len(r.data)))),
                         data_crc=tf.mask(__import__("zlib").crc32(r.data))) for r in recs), A, Watch(tags={}, corrupt="some", partial=None))]

    # Lengths that lie behind a valid length checksum.
    def insert(at, junk):
        return b"".join(frames[:at]) + junk + b"".join(frames[at:])
    for label, length in (("2^64-1", (1 << 64) - 1), ("2^63", 1 << 63), ("256MiB+1", (256 << 20) + 1),
                          ("2^32+8", (1 << 32) + 8), ("2^40", 1 << 40)):
        out.append(event_case("huge-length-%s" % label, insert(5, tf.header_only(length) + b"\xab" * 40), A,
                              Watch(tags=full, corrupt=1)))
    # Under the limit: the rest of the file is a record still being written.
    out.append(event_case("length-200MiB-mid-file", insert(5, tf.header_only(200 << 20)), A,
                          Watch(tags=expected(recs[:5]), partial=True)))
    out.append(event_case("length-200MiB-at-end", blob + tf.header_only(200 << 20), A, Watch(tags=full, partial=True)))
    lie = b"".join(frames[:5]) + tf.header_only(len(recs[5].data) + 1) + blob[starts[5] + 12:]
    out.append(event_case("length-one-too-long", lie, A, Watch(present=("loss",), corrupt="some", partial=None)))
    short = b"".join(frames[:5]) + tf.header_only(len(recs[5].data) - 1) + blob[starts[5] + 12:]
    out.append(event_case("length-one-too-short", short, A, Watch(present=("loss",), corrupt="some", partial=None)))

    # Zero-length records: an empty Event is valid protobuf with no scalars.
    zero = tf.frame(b"")
    out += [event_case("zero-length-record", insert(3, zero), A, Watch(tags=full)),
            event_case("zero-length-x1000", insert(3, zero * 1000), A, Watch(tags=full)),
            event_case("zero-length-bad-crc", insert(3, tf.frame(b"", data_crc=5)), A, Watch(tags=full, corrupt=1)),
            event_case("only-zero-length-records", zero * 10, A, Watch(tags={})),
            event_case("one-byte-nul-record", insert(3, tf.frame(b"\x00")), A, Watch(tags=full, corrupt=1)),
            event_case("empty-file", b"", A, Watch(tags={})),
            event_case("only-file-version", frames[0], A, Watch(tags={})),
            event_case("eleven-bytes", blob[:11], A, Watch(tags={}, partial=True)),
            event_case("junk-between-records", insert(4, bytes(rng.randrange(256) for _ in range(333))), A,
                       Watch(tags=full, corrupt=1)),
            event_case("zeros-between-records", insert(4, bytes(64)), A, Watch(tags=full, corrupt=1)),
            event_case("file-of-random-bytes", bytes(rng.randrange(256) for _ in range(20000)), A, Watch(tags={}, corrupt="some", partial=None)),
            event_case("file-of-zeros-1MiB", bytes(MIB), A, Watch(tags={}, corrupt="some", partial=None)),
            event_case("valid-twice-concatenated", blob + blob, A,
                       Watch(tags={t: (s, v, n) for t, (s, v, n) in full.items()}))]
    return out


def big_image_record(step: int, zeros: int) -> bytes:
    """A valid record whose Event carries one image summary of `zeros` bytes (a PNG string, as
    add_image writes): Value.image(4) = Image{encoded_image_string(4)}."""
    img = tf.key(4, 2) + tf.varint(zeros)
    val = tf.ld(1, b"image/sample") + tf.key(4, 2) + tf.varint(len(img) + zeros) + img
    summ = tf.key(1, 2) + tf.varint(len(val) + zeros) + val
    prefix = tf.f64(1, 1.7e9) + tf.vint(2, step) + tf.key(5, 2) + tf.varint(len(summ) + zeros) + summ
    return tf.frame_zero_padded(prefix, zeros)


def protobuf_cases(rng) -> list:
    recs = scalar_records(rng)
    full = expected(recs)
    frames = [r.framed() for r in recs]

    def with_record(data: bytes, at=5):
        return b"".join(frames[:at]) + tf.frame(data) + b"".join(frames[at:])

    def decode_either():
        # A record that decodes to no scalar, or that is refused and counted: both are fine.
        return Watch(tags=full, corrupt=None)
    bad = {
        "varint-truncated": tf.key(2, 0) + b"\xff\xff",
        "varint-11-bytes": tf.key(2, 0) + b"\xff" * 10 + b"\x01",
        "length-past-end": tf.key(5, 2) + tf.varint(1000) + b"\x0a\x00",
        "wire-type-6": bytes([(1 << 3) | 6]) + b"\x00" * 8,
        "wire-type-7": bytes([(1 << 3) | 7]) + b"\x00" * 8,
        "field-number-0": bytes([0x02, 0x00]),
        "end-group-alone": tf.key(9, 4),
        "group-unclosed": tf.key(9, 3) + tf.vint(1, 5),
        "tag-invalid-utf8": tf.event(999, [tf.value(b"\xff\xfe\xc0\x80", 1.0)]),
        "packed-float-3-bytes": tf.event(999, [tf.value("pf", tensor_bytes=tf.vint(1, tf.DT_FLOAT) + tf.ld(5, b"\x00\x00\x80"))]),
        "summary-as-varint": tf.vint(2, 999) + tf.vint(5, 7),
    }
    out = [event_case("proto-" + k, with_record(v), A, decode_either()) for k, v in bad.items()]
    # A field with the wrong wire type: protobuf parsers treat it as an unknown field (the record
    # is read without it, so its scalar lands at step 0) or refuse the record.
    out += [event_case("proto-step-as-bytes", with_record(tf.ld(2, b"12345678") + tf.ld(5, tf.ld(1, tf.value("sb", 1.0)))), A,
                       Watch(present=("loss",), corrupt=None)),
            event_case("proto-wall-time-as-varint", with_record(tf.vint(1, 5) + tf.vint(2, 999) + tf.ld(5, tf.ld(1, tf.value("wv", 1.0)))),
                       A, Watch(present=("loss", "wv"), corrupt=0))]
    # Nesting: unknown start-group tags, unknown length-delimited fields inside each other, and
    # known messages repeated (merged) many times.
    deep_groups = tf.vint(2, 999) + tf.key(15, 3) * 100000 + tf.key(15, 4) * 100000
    deep_groups_unclosed = tf.vint(2, 999) + tf.key(15, 3) * 500000
    nested = b"\x08\x01"
    for _ in range(3000):
        nested = tf.ld(15, nested)
    deep_known = tf.ld(5, tf.ld(1, tf.value("deep", tensor_bytes=tf.tensor(tf.DT_FLOAT, dims=[1] * 100000, float_val=[1.5]))))
    merged = b"".join(tf.ld(5, tf.ld(1, tf.value("m%d" % i, 1.0))) for i in range(2000))
    out += [event_case("proto-unknown-groups-100k-deep", with_record(deep_groups), A, decode_either()),
            event_case("proto-unknown-groups-500k-unclosed", with_record(deep_groups_unclosed), A, decode_either()),
            event_case("proto-unknown-ld-3000-deep", with_record(tf.vint(2, 999) + nested), A, decode_either()),
            event_case("proto-shape-100k-dims-of-1", with_record(tf.vint(2, 999) + deep_known), A,
                       Watch(tags=dict(full, deep=(999, 1.5, 1)))),
            event_case("proto-summary-repeated-2000", with_record(tf.vint(2, 999) + merged), A,
                       Watch(present=("loss", "m0", "m1999"))),
            event_case("proto-100k-values", with_record(tf.event(999, [tf.value("v%d" % i, 1.0) for i in range(100000)])), A,
                       Watch(present=("loss", "v0", "v99999")), timeout=60)]

    # Scalars csn must show (or may skip), each in an otherwise valid file.
    def scalar(label, values, want, expect=A, step=999):
        extra = Rec(tf.event(step, values), step, want if isinstance(want, list) else [])
        watch = Watch(tags=expected(recs + [extra])) if isinstance(want, list) else want
        return event_case("scalar-" + label, b"".join(frames) + extra.framed(), expect, watch)
    tensor = tf.tensor
    # A non-finite value is not a point (as in metrics.jsonl): the tag is absent.
    out += [scalar("nan", [tf.value("x", math.nan)], [], A),
            scalar("inf", [tf.value("x", math.inf)], [], A),
            scalar("neg-inf", [tf.value("x", -math.inf)], [], A),
            scalar("denormal", [tf.value("x", 1e-45)], [("x", f32(1e-45))]),
            scalar("neg-zero", [tf.value("x", -0.0)], [("x", -0.0)]),
            scalar("float-max", [tf.value("x", 3.4028234663852886e38)], [("x", 3.4028234663852886e38)]),
            scalar("double-nan", [tf.value("x", tensor_bytes=tensor(tf.DT_DOUBLE, double_val=[math.nan]))], [], A),
            scalar("double-1e308", [tf.value("x", tensor_bytes=tensor(tf.DT_DOUBLE, double_val=[1e308]))], [("x", 1e308)]),
            scalar("half", [tf.value("x", tensor_bytes=tensor(tf.DT_HALF, half_val=[0x3C00]))], [("x", 1.0)]),
            scalar("half-content", [tf.value("x", tensor_bytes=tensor(tf.DT_HALF, content=b"\x00\x3c"))], [("x", 1.0)]),
            scalar("bfloat16", [tf.value("x", tensor_bytes=tensor(tf.DT_BFLOAT16, content=b"\x80\x3f"))], [("x", 1.0)]),
            scalar("int64-max", [tf.value("x", tensor_bytes=tensor(tf.DT_INT64, int64_val=[(1 << 63) - 1]))], [("x", float((1 << 63) - 1))]),
            scalar("int32-min", [tf.value("x", tensor_bytes=tensor(tf.DT_INT32, int_val=[-(1 << 31)]))], [("x", -2147483648.0)]),
            scalar("tensor-two-values", [tf.value("x", tensor_bytes=tensor(tf.DT_FLOAT, dims=[2], float_val=[1, 2]))], []),
            scalar("tensor-content-3-bytes", [tf.value("x", tensor_bytes=tensor(tf.DT_FLOAT, content=b"\x00\x00\x80"))], []),
            scalar("tensor-negative-dim", [tf.value("x", tensor_bytes=tensor(tf.DT_FLOAT, dims=[-1], float_val=[1]))], []),
            scalar("tensor-dtype-999", [tf.value("x", tensor_bytes=tensor(999, float_val=[1]))], []),
            scalar("tensor-dtype-missing", [tf.value("x", tensor_bytes=tensor(0, float_val=[1]))], []),
            scalar("tensor-string", [tf.value("x", tensor_bytes=tf.vint(1, 7) + tf.ld(8, b"hello"))], []),
            scalar("no-value", [tf.value("x")], []),
            scalar("simple-and-tensor", [tf.value("x", 1.0, tensor_bytes=tensor(tf.DT_DOUBLE, double_val=[2.0]))], [("x", 2.0)]),
            scalar("empty-tag", [tf.value("", 1.5)], [("", 1.5)], E),
            scalar("tag-escape", [tf.value(INJECTED + "red", 1.0)], Watch(present=("loss",)), A),
            scalar("tag-osc-title", [tf.value("\x1b]0;pwned\x07t", 1.0)], Watch(present=("loss",)), A),
            scalar("tag-newline", [tf.value("a\nb", 1.0)], Watch(present=("loss",)), A),
            scalar("tag-bidi", [tf.value("\u202eevil", 1.0)], Watch(present=("loss",)), A),
            scalar("tag-1MiB", [tf.value("t" * MIB, 1.0)], Watch(present=("loss",)), A),
            scalar("tag-16MiB", [tf.value("u" * (16 * MIB), 1.0)], Watch(present=("loss",), partial=None), A),
            scalar("same-tag-twice", [tf.value("x", 1.0), tf.value("x", 2.0)], [("x", 1.0), ("x", 2.0)]),
            scalar("step-negative", [tf.value("x", 1.0)], [("x", 1.0)], step=-1),
            scalar("step-int64-min", [tf.value("x", 1.0)], [("x", 1.0)], step=-(1 << 63)),
            scalar("step-2^53+1", [tf.value("x", 1.0)], Watch(present=("x", "loss")), step=(1 << 53) + 1),
            scalar("step-2^62", [tf.value("x", 1.0)], [("x", 1.0)], step=1 << 62),
            scalar("step-int64-max", [tf.value("x", 1.0)], [("x", 1.0)], step=(1 << 63) - 1),
            scalar("step-back-to-100", [tf.value("loss", 0.5)], [("loss", 0.5)], step=100),
            scalar("wall-time-nan", [], Watch(tags=full)),
            scalar("image-summary-only", [tf.value("img", extra=tf.ld(4, tf.vint(1, 1) + tf.ld(4, b"\x89PNG")))], []),
            scalar("histogram-only", [tf.value("h", extra=tf.ld(5, tf.f64(1, 0) + tf.f64(2, 1)))], [])]
    # wall_time NaN written for real (scalar() above only adds a record without values).
    nan_wall = Rec(tf.event(999, [tf.value("w", 1.0)], wall_time=math.nan), 999, [("w", 1.0)])
    out.append(event_case("scalar-wall-time-nan-real", b"".join(frames) + nan_wall.framed(), A, Watch(tags=expected(recs + [nan_wall]))))

    # Larger than one 16 MiB read: an image summary of 17 MiB (valid, as add_image can write),
    # then the scalars; and 17 MiB of junk before valid records.
    good = b"".join(frames[1:])
    out.append(event_case("big-image-record-then-scalars", lambda: frames[0] + big_image_record(1, 17 * MIB) + good, A,
                          Watch(tags=full), timeout=60))
    junk = bytes(rng.randrange(1, 256) for _ in range(4096))   # drawn now: setups run in any order
    out.append(event_case("17MiB-junk-then-records", lambda: junk * (17 * 256) + good, A, Watch(tags=full, corrupt=1), timeout=60))
    out.append(event_case("15MiB-junk-then-records", lambda: junk * (15 * 256) + good, A, Watch(tags=full, corrupt=1), timeout=60))
    return out


# ================================================================ metrics.jsonl

def metrics_lines(rng, n=10) -> list:
    lines = []
    for i in range(1, n + 1):
        lines.append({"step": 10 * i, "loss": round(rng.uniform(0.1, 2), 4), "triplet": round(rng.uniform(0.1, 1), 4)})
        if i % 5 == 0:
            lines.append({"step": 10 * i, "validation": [round(rng.uniform(0.5, 1), 3), 0.75], "validation_mean": 0.8})
    return lines


def kept_points(appended: int, cap: int = 100_000) -> int:
    """Points csn keeps of a tag after `appended` points: past the cap, every other one goes
    (the newest always stays)."""
    n = 0
    for _ in range(appended):
        n += 1
        if n > cap:
            n = (n + 1) // 2 + (1 if (n - 1) % 2 else 0)
    return n


def metrics_expected(objs) -> dict:
    recs = []
    for o in objs:
        scalars = []
        for k in sorted(o):
            if k == "step":
                continue
            v = o[k]
            if isinstance(v, list):
                scalars += [("%s/%d" % (k, i), float(x)) for i, x in enumerate(v)]
            else:
                scalars.append((k, float(v)))
        recs.append(Rec(b"", o["step"], scalars))
    return expected(recs)


def metrics_case(name, body, expect, watch, extra_setup=None, argv=None, timeout=None):
    def setup(scratch: Path, body=body):
        run = scratch / "RUN"
        run.mkdir()
        data = body() if callable(body) else body
        (run / "metrics.jsonl").write_bytes(data if isinstance(data, bytes) else data.encode())
        if extra_setup:
            extra_setup(scratch)
    checks = [no_injection] + ([watch.check] if watch else [])
    return Case(CATEGORY, "metrics-" + name, argv or ["watch", "--once", "RUN"], expect, setup=setup,
                check=all_checks(*checks), timeout=timeout)


def metrics_cases(rng) -> list:
    objs = metrics_lines(rng)
    text = "".join(json.dumps(o) + "\n" for o in objs)
    head = "".join(json.dumps(o) + "\n" for o in objs[:5])
    tail = "".join(json.dumps(o) + "\n" for o in objs[5:])
    full = metrics_expected(objs)
    out = [metrics_case("valid", text, A, Watch(tags=full)),
           metrics_case("crlf", text.replace("\n", "\r\n"), A, Watch(tags=full)),
           metrics_case("bom", "\ufeff" + text, E, Watch(present=("loss",), skipped=None)),
           metrics_case("empty", "", E, Watch(tags={})),
           metrics_case("blank-lines", text.replace("\n", "\n\n  \n\t\n"), A, Watch(tags=full)),
           metrics_case("lone-cr", text.replace("\n", "\r"), E, None),
           metrics_case("utf16", text.encode("utf-16"), E, None),
           metrics_case("no-final-newline", text.rstrip("\n"), E, Watch(present=("loss",), partial=None)),
           metrics_case("10MiB-single-line-no-newline", "{" + " " * (10 * MIB), E, Watch(tags={}, skipped=None)),
           metrics_case("200k-lines", lambda: "".join('{"step":%d,"loss":%g}\n' % (i, 1 / (i + 1)) for i in range(200000)), A,
                        Watch(tags={"loss": (199999, float("%g" % (1 / 200000)), kept_points(200000))}), timeout=60),
           metrics_case("17MiB-junk-lines-then-valid", lambda: "garbage\n" * (17 * MIB // 8) + text, A,
                        Watch(present=("loss",), skipped=17 * MIB // 8), timeout=60),
           metrics_case("17MiB-of-valid-lines", lambda: "".join('{"step":%d,"loss":%g,"pad":"%s"}\n' % (i, 1 / (i + 1), "p" * 200)
                                                                for i in range(80000)), A,
                        Watch(tags={"loss": (79999, float("%g" % (1 / 80000)), 80000)}), timeout=60)]
    # One hostile line in the middle: (label, line, expect, skipped, extra tags it adds).
    lines = [("array", "[1,2,3]", A, 1, {}), ("number", "42", A, 1, {}), ("string", '"x"', A, 1, {}), ("null", "null", A, 1, {}),
             ("empty-object", "{}", A, 1, {}), ("missing-step", '{"h":1}', A, 1, {}),
             ("step-string", '{"step":"3","h":1}', A, 1, {}), ("step-null", '{"step":null,"h":1}', A, 1, {}),
             ("step-list", '{"step":[3],"h":1}', A, 1, {}), ("step-object", '{"step":{"v":3},"h":1}', A, 1, {}),
             ("step-bare-nan", '{"step":NaN,"h":1}', A, 1, {}), ("step-infinity", '{"step":Infinity,"h":1}', A, 1, {}),
             ("step-1e400", '{"step":1e400,"h":1}', A, 1, {}),
             ("value-bare-nan", '{"step":45,"h":NaN}', A, 1, {}), ("value-1e400", '{"step":45,"h":1e400}', E, None, None),
             ("value-string", '{"step":45,"h":"1.5"}', A, 0, {}), ("value-null", '{"step":45,"h":null}', A, 0, {}),
             ("value-object", '{"step":45,"h":{"a":1}}', A, 0, {}),
             ("value-nested-list", '{"step":45,"h":[1,[2,3],"x",4]}', A, 0, {"h/0": (45, 1.0, 1), "h/3": (45, 4.0, 1)}),
             ("value-1e300", '{"step":45,"h":1e300}', A, 0, {"h": (45, 1e300, 1)}),
             ("value-neg-zero", '{"step":45,"h":-0.0}', A, 0, {"h": (45, -0.0, 1)}),
             ("value-bool", '{"step":45,"h":true}', E, None, None),
             ("step-bool", '{"step":true,"h":1}', E, None, None),
             ("step-float", '{"step":45.5,"h":1}', E, None, None),
             ("duplicate-key", '{"step":45,"h":1,"h":2}', E, None, None),
             ("escape-in-key", '{"step":45,"\\u001b[31mred":1}', A, 0, None),
             ("osc-in-key", '{"step":45,"\\u001b]0;pwned\\u0007k":1}', A, 0, None),
             ("key-100k-chars", '{"step":45,"%s":1}' % ("k" * 100000), A, 0, None),
             ("keys-20k", "{" + ",".join('"k%d":%d' % (i, i) for i in range(20000)) + ',"step":45}', A, 0, None),
             ("validation-1000", '{"step":45,"validation":[%s]}' % ",".join(["0.5"] * 1000), A, 0, None),
             ("deep-array-100k", "[" * 100000, A, 1, {}), ("deep-object-value", '{"step":45,"h":' + "[" * 50000 + "]" * 50000 + "}", E, None, None),
             ("deep-array-1MiB", "[" * (MIB - 1), A, 1, {}),
             ("invalid-utf8-in-string", b'{"step":45,"h\xff\xfe":1}', A, 1, {}),
             ("invalid-utf8-bare", b"\xff\xfe\xfd", A, 1, {}),
             ("overlong-utf8", b'{"step":45,"\xc0\xafh":1}', A, 1, {}),
             ("nul-in-string", b'{"step":45,"h\x00":1}', A, 1, {}), ("nul-line", b"\x00\x00\x00", A, 1, {}),
             ("nul-after-object", b'{"step":45,"h":1}\x00', A, 1, {}),
             ("escaped-nul-key", '{"step":45,"h\\u0000x":1}', A, 0, None),
             ("lone-surrogate", '{"step":45,"\\ud800":1}', E, None, None),
             ("binary-junk", bytes(range(1, 10)) + bytes(range(11, 256)), A, 1, {}),
             ("trailing-garbage", '{"step":45,"h":1} x', A, 1, {}),
             ("two-objects-one-line", '{"step":45,"h":1}{"step":46,"h":2}', A, 1, {}),
             ("long-line-1MiB+1", '{"step":45,"h":"%s"}' % ("x" * MIB), A, 1, {}),
             ("long-line-3MiB", '{"step":45,"h":"%s"}' % ("x" * (3 * MIB)), A, 1, {}),
             ("line-exactly-1MiB", '{"step":45,"h":1,"p":"%s"}' % ("x" * (MIB - 24)), A, 0, {"h": (45, 1.0, 1)})]
    for label, line, expect, skipped, extra in lines:
        raw = line if isinstance(line, bytes) else line.encode()
        body = head.encode() + raw + b"\n" + tail.encode()
        if extra is None:
            watch = Watch(present=("loss", "triplet"), skipped=skipped)
        else:
            watch = Watch(tags=dict(full, **extra), skipped=skipped)
        out.append(metrics_case("line-" + label, body, expect, watch, timeout=60 if "MiB" in label else None))
    # Steps that do not fit an integer (the line is read; the step must print or be refused).
    for label, step in (("1e300", "1e300"), ("-1e300", "-1e300"), ("1e19", "1e19"), ("-1e19", "-1e19"),
                        ("2^63", "9223372036854775808"), ("int64-max", "9223372036854775807"),
                        ("2^64", "18446744073709551616"), ("1e-300", "1e-300")):
        out.append(metrics_case("step-" + label, text + '{"step":%s,"h":1}\n' % step, A, Watch(present=("h", "loss"))))
    out.append(metrics_case("step-1e300-only-line", '{"step":1e300,"loss":1}\n', A, Watch(present=("loss",))))
    # config.json next to it: condition names for validation lists.
    def config(body):
        def fn(scratch: Path):
            p = scratch / "RUN" / "config.json"
            if body == "fifo":
                os.mkfifo(p)
            elif body == "dev-zero":
                p.symlink_to("/dev/zero")
            else:
                p.write_bytes(body if isinstance(body, bytes) else body.encode())
        return fn
    named = dict((k.replace("validation/0", "validation/shape").replace("validation/1", "validation/tone"), v) for k, v in full.items())
    for label, body, watch in (("names", '{"conditionNames":["shape","tone"]}', Watch(tags=named)),
                               ("names-escape", '{"conditionNames":["\\u001b[31mshape","tone"]}', Watch(present=("loss",))),
                               ("names-not-strings", '{"conditionNames":[1,2]}', Watch(tags=full)),
                               ("names-one", '{"conditionNames":["shape"]}', Watch(present=("validation/shape", "validation/1"))),
                               ("deep", "[" * 200000, Watch(tags=full)), ("binary", bytes(range(256)) * 100, Watch(tags=full)),
                               ("2MiB", '{"conditionNames":["a","b"],"p":"%s"}' % ("x" * (2 * MIB)), Watch(tags=full)),
                               ("fifo", "fifo", Watch(tags=full)), ("dev-zero", "dev-zero", Watch(tags=full))):
        out.append(metrics_case("config-" + label, text, A, watch, extra_setup=config(body)))
    return out


# ================================================================ paths and folders

def path_cases(rng, base) -> list:
    recs = scalar_records(rng, 4)
    blob = b"".join(r.framed() for r in recs)
    full = expected(recs)
    metrics = '{"step":1,"loss":0.5}\n'

    def events_in(folder, name=EVENT_NAME):
        def fn(scratch: Path):
            write_events(scratch / folder, blob, name)
        return fn

    def many(*fns):
        def fn(scratch: Path):
            for f in fns:
                f(scratch)
        return fn

    def mk(rel, kind, target=None):
        def fn(scratch: Path):
            p = scratch / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if kind == "dir":
                p.mkdir(exist_ok=True)
            elif kind == "fifo":
                os.mkfifo(p)
            elif kind == "link":
                p.symlink_to(target)
            elif kind == "file":
                p.write_bytes(target if isinstance(target, bytes) else str(target).encode())
            elif kind == "chmod0":
                p.write_bytes(blob)
                p.chmod(0)
        return fn

    def deep(depth, leaf=None):
        def fn(scratch: Path):
            p = scratch / "W"
            p.mkdir()
            for i in range(depth):
                p = p / ("d%d" % i)
            p.mkdir(parents=True)
            if leaf:
                (p / EVENT_NAME).write_bytes(blob)
        return fn

    def many_folders(name, count, run_name, expect, watch):
        """Thousands of empty folders and one run. Removing folders is slow on some disks (ms each),
        so the tree goes to tmpfs (/dev/shm) when there is one, and is removed right after."""
        def runner(case, scratch: Path, ctx):
            shm = Path("/dev/shm")
            top = Path(tempfile.mkdtemp(prefix="csn-hostile-runs-", dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else scratch))
            try:
                w = top / "W"
                w.mkdir()
                for i in range(count):
                    (w / ("e%05d" % i)).mkdir()
                write_events(w / run_name, blob)
                res = run_process(ctx.binary, ["watch", "--once", str(w)], scratch, 30)
                res.argv = case.argv
                if watch and not crash_marker(res.stderr):
                    watch.check(scratch, res)
                return res
            finally:
                shutil.rmtree(top, ignore_errors=True)
        return Case(CATEGORY, "path-" + name, ["watch", "--once", "W"], expect, runner=runner, timeout=60)

    def case(name, setup, argv, expect, watch=None, timeout=None, check=None):
        checks = [no_injection] + ([watch.check] if watch else []) + ([check] if check else [])
        return Case(CATEGORY, "path-" + name, argv, expect, setup=setup, check=all_checks(*checks), timeout=timeout)

    once = ["watch", "--once"]
    ev = "RUN/" + EVENT_NAME
    return [
        case("missing", None, once + ["nope"], R, check=names("nope")),
        case("missing-second-of-two", events_in("RUN"), once + ["RUN", "nope"], R, check=names("nope")),
        case("empty-folder", mk("W", "dir"), once + ["W"], R, check=names("W")),
        case("cwd-default-empty", None, once, R),
        case("cwd-default-with-run", events_in("RUN"), once, A, Watch(tags=full)),
        case("event-file-directly", events_in("RUN"), once + [ev], A, Watch(tags=full)),
        case("metrics-directly", mk("RUN/metrics.jsonl", "file", metrics), once + ["RUN/metrics.jsonl"], A, Watch(present=("loss",))),
        case("other-file-directly", mk("notes.txt", "file", "hello"), once + ["notes.txt"], R, check=names("notes.txt")),
        case("dev-zero", None, once + ["/dev/zero"], R, timeout=10),
        case("dev-null", None, once + ["/dev/null"], R, timeout=10),
        case("fifo-named-event-directly", mk(ev, "fifo"), once + [ev], R, timeout=10),
        case("fifo-named-event-alone", mk(ev, "fifo"), once + ["RUN"], R, timeout=10),
        case("fifo-named-event-beside-valid", many(events_in("RUN", EVENT_NAME + "x"), mk(ev, "fifo")), once + ["RUN"], A,
             Watch(tags=full), timeout=10),
        case("fifo-named-metrics", many(events_in("RUN"), mk("RUN/metrics.jsonl", "fifo")), once + ["RUN"], A, Watch(tags=full), timeout=10),
        case("dev-zero-link-as-event", many(events_in("RUN", EVENT_NAME + "x"), mk(ev, "link", "/dev/zero")), once + ["RUN"], A,
             Watch(tags=full), timeout=10),
        case("dev-zero-link-as-event-alone", mk(ev, "link", "/dev/zero"), once + ["RUN"], R, timeout=10),
        case("dev-zero-link-as-event-directly", mk(ev, "link", "/dev/zero"), once + [ev], R, timeout=10),
        case("dev-urandom-link-as-metrics", mk("RUN/metrics.jsonl", "link", "/dev/urandom"), once + ["RUN/metrics.jsonl"], R, timeout=10),
        case("link-to-event-file-directly", many(events_in("REAL"), mk("RUN/" + EVENT_NAME, "link", "../REAL/" + EVENT_NAME)),
             once + [ev], E, timeout=10),
        case("link-to-event-file-in-folder", many(events_in("REAL"), mk("W/run/" + EVENT_NAME, "link", "../../REAL/" + EVENT_NAME)),
             once + ["W"], E, timeout=10),
        case("link-to-run-folder-as-root", many(events_in("REAL"), mk("LINK", "link", "REAL")), once + ["LINK"], A,
             Watch(run="LINK", tags=full), timeout=10),
        case("directory-named-event", many(mk(ev, "dir"), mk("RUN/metrics.jsonl", "file", metrics)), once + ["RUN"], A,
             Watch(present=("loss",)), timeout=10),
        case("directory-named-event-alone", mk(ev, "dir"), once + ["RUN"], R, timeout=10),
        case("directory-named-event-directly", mk(ev, "dir"), once + [ev], R, timeout=10),
        case("directory-named-metrics-holding-run", many(mk("RUN/metrics.jsonl", "dir"), events_in("RUN/metrics.jsonl")),
             once + ["RUN"], A, Watch(run="metrics.jsonl", tags=full), timeout=10),
        case("link-loop-self", many(events_in("W/run"), mk("W/loop", "link", "loop")), once + ["W"], A,
             Watch(run="run", tags=full), timeout=10),
        case("link-loop-dot", many(events_in("W/run"), mk("W/here", "link", "."), mk("W/run/up", "link", ".."),
                                   mk("W/run/root", "link", "/")), once + ["W"], A, Watch(run="run", tags=full), timeout=10),
        case("link-loop-pair", many(events_in("W/run"), mk("W/a", "link", "b"), mk("W/b", "link", "a")), once + ["W"], A,
             Watch(run="run", tags=full), timeout=10),
        case("link-loop-as-root", mk("L", "link", "L"), once + ["L"], R, timeout=10),
        case("event-file-chmod-000", mk(ev, "chmod0"), once + ["RUN"], E, timeout=10),
        case("run-folder-chmod-000", many(events_in("W/run"), lambda s: (s / "W" / "run").chmod(0)), once + ["W"], E, timeout=10),
        case("deep-tree-run-at-depth-5", deep(5, True), once + ["W"], A, timeout=10),
        case("deep-tree-run-at-depth-7", deep(7, True), once + ["W"], E, timeout=10),
        case("deep-tree-200-no-runs", deep(200), once + ["W"], R, timeout=10),
        many_folders("10k-empty-folders-and-a-run", 10000, "zrun", A, Watch(run="zrun", tags=full)),
        many_folders("25k-empty-folders-and-a-run-last", 25000, "zrun", E, None),
        many_folders("25k-empty-folders-and-a-run-first", 25000, "arun", E, None),
        case("hidden-run-folder", events_in("W/.hidden"), once + ["W"], E, timeout=10),
        case("run-name-escape", events_in("W/" + INJECTED + "run"), once + ["W"], A, timeout=10),
        case("missing-path-escape", None, once + [INJECTED + "nope"], R, timeout=10),
        case("empty-path-escape", mk(INJECTED + "W", "dir"), once + [INJECTED + "W"], R, timeout=10),
        case("run-name-newline", events_in("W/a\nb"), once + ["W"], A, timeout=10),
        case("same-run-twice", events_in("RUN"), once + ["RUN", "RUN"], A, timeout=10),
        case("same-run-slash-and-not", events_in("W/run"), once + ["W", "W/"], E, timeout=10),
        case("256-paths", events_in("RUN"), once + ["RUN"] * 256, A, timeout=20),
        case("257-paths", events_in("RUN"), once + ["RUN"] * 257, R, timeout=10),
        case("interval-zero-once", events_in("RUN"), once + ["--interval", "0", "RUN"], R, timeout=10),
        case("interval-nan-once", events_in("RUN"), once + ["--interval", "nan", "RUN"], R, timeout=10),
        case("many-event-files", lambda s: [write_events(s / "RUN", blob, EVENT_NAME + str(i)) for i in range(300)],
             once + ["RUN"], A, Watch(present=("loss",)), timeout=20),
        case("event-and-metrics-same-tag", many(events_in("RUN"), mk("RUN/metrics.jsonl", "file", '{"step":7,"loss":9.5}\n')),
             once + ["RUN"], A, Watch(present=("loss", "loss/triplet")), timeout=10),
        case("event-name-prefix-only", mk("RUN/events.out.tfevents.", "file", blob), once + ["RUN"], A, timeout=10),
    ]


# ================================================================ embeddings for neighbours

N, D = 30, 6
SHAPES, TONES = ("disc", "square", "bar"), ("dark", "light")


def emb_values(rng, n=N, width=D):
    return [round(rng.gauss(0, 1), 4) for _ in range(n * width)]


def emb_archive(rng, n=N, d=D, k=2, layout="masks", conditions=("shape", "tone"), meta=None) -> formats.Archive:
    a = formats.Archive()
    if layout == "nkd":
        a.put("embeddings", "F32", [n, k, d], emb_values(rng, n, k * d))
    else:
        a.put("embeddings", "F32", [n, d], emb_values(rng, n, d))
    if layout == "masks":
        a.put("masks", "F32", [k, d], [round(rng.uniform(0, 1.5), 3) for _ in range(k * d)])
    a.metadata = {"format": "csn-embeddings/1", "model": "csn-learned", "step": "100"}
    if conditions is not None:
        a.metadata["conditions"] = json.dumps(list(conditions))
    a.metadata.update(meta or {})
    return a


def labels_text(n=N, header="image\tshape\ttone", nl="\n") -> str:
    rows = [header] + ["r%d\t%s\t%s" % (i, SHAPES[i % 3], TONES[(i // 3) % 2]) for i in range(n)]
    return nl.join(rows) + nl


def no_nan_listing(scratch: Path, res: Result) -> Optional[str]:
    if res.returncode == 0 and re.search(r"^\s*\d+\s+(nan|-?inf)\b", res.stdout, re.M | re.I):
        silent(res, "exit 0, but a neighbour is listed at a NaN or infinite distance")
        return None
    if res.returncode == 0 and "query" not in res.stdout:
        silent(res, "exit 0 without a neighbours listing")
    return None


def nb_case(name, files: dict, expect, argv=None, fragments=None, timeout=None, extra=None, labels=True):
    """files: relative path -> bytes / str / callable(scratch) ; argv defaults to neighbours on e.safetensors."""
    def setup(scratch: Path):
        for rel, body in files.items():
            p = scratch / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if callable(body):
                body(scratch, p)
            else:
                p.write_bytes(body if isinstance(body, bytes) else body.encode())
        if extra:
            extra(scratch)
    if argv is None:
        argv = ["neighbours", "--embeddings", "e.safetensors", "--index", "0", "-k", "3"] + (["--labels", "metadata.tsv"] if labels else [])
    frags = fragments if fragments is not None else [argv[argv.index("--embeddings") + 1]] if "--embeddings" in argv else []
    checks = [no_injection, no_nan_listing] + ([names(*frags)] if frags else [])
    return Case(CATEGORY, name, argv, expect, setup=setup, check=all_checks(*checks), timeout=timeout)


def binary_read_as_text(scratch: Path, res: Result) -> Optional[str]:
    if res.returncode not in (0, None) and "is not a finite number" in res.stderr and res.verdict is None:
        res.verdict = "vague"
        res.note = "a binary file read as a vectors text file: the error quotes its bytes as a number"
    return None


def link(target):
    def fn(scratch: Path, p: Path):
        p.symlink_to(target)
    return fn


def fifo(scratch: Path, p: Path):
    os.mkfifo(p)


def folder(scratch: Path, p: Path):
    p.mkdir(exist_ok=True)


def safetensors_cases(rng, base) -> list:
    lab = labels_text()
    out = []

    def st(label, archive, expect, fragments=None, labels=True, override=None, extra_files=None, argv=None, **kw):
        files = {"e.safetensors": archive.encode(header_override=override) if isinstance(archive, formats.Archive) else archive}
        if labels:
            files["metadata.tsv"] = lab
        files.update(extra_files or {})
        out.append(nb_case("emb-" + label, files, expect, fragments=fragments, labels=labels, argv=argv, **kw))

    good = emb_archive(rng)
    st("valid-masks", good, A)
    st("valid-masks-no-labels", good, A, labels=False)
    st("valid-nkd", emb_archive(rng, layout="nkd"), A)
    st("valid-nkd-no-labels", emb_archive(rng, layout="nkd"), A, labels=False)
    st("valid-plain", emb_archive(rng, layout="plain"), A)
    st("valid-plain-no-conditions", emb_archive(rng, layout="plain", conditions=None), A, labels=False)
    a = emb_archive(rng)
    del a.metadata["format"]
    st("no-format-key", a, E)
    st("valid-d1", emb_archive(rng, d=1), A)
    st("valid-one-row", emb_archive(rng, n=1), E, extra_files={"metadata.tsv": labels_text(1)})
    # With the tiny dataset: image_index and split.
    ds = str(base.dataset)

    def with_index(idx, split=None, dataset=ds, n=None, dtype="I32", split_dtype="U8"):
        n = n or len(idx)
        a = emb_archive(rng, n=n, meta={"dataset": dataset} if dataset is not None else {})
        a.put("image_index", dtype, [len(idx)], idx)
        if split is not None:
            a.put("split", split_dtype, [len(split)], split)
        return a
    idx = list(range(0, 60, 2))
    st("dataset-image-index", with_index(idx), A, labels=False)
    st("dataset-image-index-split-test", with_index(idx, [2] * N), A, labels=False)
    st("dataset-image-index-and-labels", with_index(idx), A)
    st("dataset-relative-path", with_index(idx, dataset="tiny.safetensors.gz"), A, labels=False,
       extra_files={"tiny.safetensors.gz": base.dataset.read_bytes()})
    out.append(nb_case("emb-dataset-relative-path-in-subfolder", {"sub/e.safetensors": with_index(idx, dataset="tiny.safetensors.gz").encode(),
                                                                   "sub/tiny.safetensors.gz": base.dataset.read_bytes()}, A,
                       argv=["neighbours", "--embeddings", "sub/e.safetensors", "--index", "0", "-k", "3"]))
    st("dataset-missing-no-labels", with_index(idx, dataset="/nonexistent/ds.safetensors.gz"), R, labels=False,
       fragments=["nonexistent", "e.safetensors"])
    st("dataset-missing-with-labels", with_index(idx, dataset="/nonexistent/ds.safetensors.gz"), A)
    st("dataset-dev-zero", with_index(idx, dataset="/dev/zero"), R, labels=False, fragments=["/dev/zero"], timeout=10)
    st("dataset-is-folder", with_index(idx, dataset="."), R, labels=False)
    st("dataset-is-itself", with_index(idx, dataset="e.safetensors"), R, labels=False)
    st("dataset-escape", with_index(idx, dataset="/nonexistent/" + INJECTED), R, labels=False)
    st("dataset-fifo", with_index(idx, dataset="ds.fifo"), R, labels=False, extra_files={"ds.fifo": fifo}, timeout=10)
    st("dataset-no-image-index", emb_archive(rng, meta={"dataset": ds}), R, labels=False, fragments=["e.safetensors"])
    st("image-index-out-of-range", with_index(idx[:-1] + [60]), R, labels=False, fragments=["row 29"])
    st("image-index-int32-max", with_index([2**31 - 1] + idx[1:]), R, labels=False, fragments=["row 0"])
    st("image-index-negative", with_index(idx[:3] + [-1] + idx[4:]), R, labels=False, fragments=["row 3"])
    st("image-index-int32-min", with_index([-(2**31)] + idx[1:]), R, labels=False, fragments=["row 0"])
    st("image-index-short", with_index(idx[:-1], n=N), R, labels=False)
    st("image-index-long", with_index(idx + [0], n=N), R, labels=False)
    st("image-index-i64", with_index(idx, dtype="I64"), E, labels=False)
    st("image-index-f32", with_index([float(i) for i in idx], dtype="F32"), R, labels=False)
    st("image-index-duplicates", with_index([4] * N), A, labels=False)
    st("image-index-with-data-flag", with_index(idx, dataset=None), A, labels=False,
       argv=["neighbours", "--embeddings", "e.safetensors", "--data", ds, "--index", "0", "-k", "3"])
    st("image-index-out-of-range-fonts", with_index(idx[:-1] + [10**9], dataset=None), R, labels=False, fragments=["row 29"],
       argv=["neighbours", "--embeddings", "e.safetensors", "--data", str(FONTS), "--index", "0", "-k", "3"], timeout=60)
    st("image-index-negative-fonts", with_index([-5] + idx[1:], dataset=None), R, labels=False, fragments=["row 0"],
       argv=["neighbours", "--embeddings", "e.safetensors", "--data", str(FONTS), "--index", "0", "-k", "3"], timeout=60)
    fonts_ok = emb_archive(rng, k=4, conditions=None)
    fonts_ok.put("image_index", "I32", [N], [i * 1000 for i in range(N)])
    st("image-index-fonts-valid", fonts_ok, A, labels=False,
       argv=["neighbours", "--embeddings", "e.safetensors", "--data", str(FONTS), "--index", "0", "-k", "3"], timeout=60)
    st("split-3", with_index(idx, [2] * 5 + [3] + [2] * 24), R, labels=False, fragments=["row 5"])
    st("split-255", with_index(idx, [255] * N), R, labels=False, fragments=["row 0"])
    st("split-short", with_index(idx, [2] * (N - 1)), R, labels=False)
    st("split-i32", with_index(idx, [2] * N, split_dtype="I32"), R, labels=False)
    st("split-all-train-query-test", with_index(idx, [0] * N), R, labels=False, fragments=["split"])
    st("split-all-train-ask-train", with_index(idx, [0] * N), A, labels=False,
       argv=["neighbours", "--embeddings", "e.safetensors", "--index", "0", "-k", "3", "--split", "train"])

    # Vectors and masks that are wrong.
    def tweak(name, index, value, layout="masks"):
        a = emb_archive(rng, layout=layout)
        vals = a.values(name)
        vals[index] = value
        a.put(name, "F32", a.tensors[name][1], vals)
        return a
    st("embeddings-nan-row-7", tweak("embeddings", 7 * D + 2, math.nan), R, fragments=["row 7"])
    st("embeddings-inf-row-0", tweak("embeddings", 1, math.inf), R, fragments=["row 0"])
    st("embeddings-neg-inf-last", tweak("embeddings", N * D - 1, -math.inf), R, fragments=["row 29"])
    st("embeddings-nkd-nan-row-3", tweak("embeddings", 3 * 2 * D + D + 1, math.nan, "nkd"), R, fragments=["row 3"])
    st("embeddings-float-max", tweak("embeddings", 5, 3.4e38), E)
    st("embeddings-all-zero", emb_archive(rng, layout="plain"), A)
    st("masks-negative", tweak("masks", 3, -0.5), R, fragments=["mask 0"])
    st("masks-nan", tweak("masks", D + 1, math.nan), R, fragments=["mask 1"])
    st("masks-inf", tweak("masks", 0, math.inf), R, fragments=["mask 0"])
    st("masks-neg-zero", tweak("masks", 0, -0.0), A)
    st("masks-all-zero", tweak("masks", 0, 0.0), A)

    def shaped(name, dtype, shape, values, base_layout="masks", k=2, conditions=("shape", "tone")):
        a = emb_archive(rng, layout=base_layout, k=k, conditions=conditions)
        a.put(name, dtype, shape, values)
        return a
    st("masks-wrong-width", shaped("masks", "F32", [2, D + 1], [1.0] * (2 * (D + 1))), R)
    st("masks-one-dimensional", shaped("masks", "F32", [2 * D], [1.0] * (2 * D)), R)
    st("masks-3d", shaped("masks", "F32", [2, 1, D], [1.0] * (2 * D)), R)
    st("masks-zero-rows", shaped("masks", "F32", [0, D], []), R)
    st("masks-f64", shaped("masks", "F64", [2, D], [1.0] * (2 * D)), R)
    st("masks-u8", shaped("masks", "U8", [2, D], [1] * (2 * D)), R)
    st("masks-3-rows-2-conditions", shaped("masks", "F32", [3, D], [1.0] * (3 * D)), R)
    st("masks-3-rows-no-conditions-2-labels", shaped("masks", "F32", [3, D], [1.0] * (3 * D), conditions=None), R,
       fragments=["e.safetensors", "metadata.tsv"])
    st("masks-1000-rows-no-conditions-no-labels", shaped("masks", "F32", [1000, D], [1.0] * (1000 * D), conditions=None), A, labels=False)
    st("masks-with-nkd", shaped("masks", "F32", [2, D], [1.0] * (2 * D), base_layout="nkd"), R)
    st("conditions-3-labels-2", emb_archive(rng, conditions=("shape", "tone", "size")), R)
    st("conditions-1-masks-2", emb_archive(rng, conditions=("shape",)), R)
    st("conditions-empty-list", emb_archive(rng, conditions=()), E)
    st("conditions-not-json", emb_archive(rng, meta={"conditions": "shape,tone"}), R)
    st("conditions-numbers", emb_archive(rng, meta={"conditions": "[1,2]"}), R)
    st("conditions-object", emb_archive(rng, meta={"conditions": '{"a":1}'}), R)
    st("conditions-deep", emb_archive(rng, meta={"conditions": "[" * 100000}), R)
    st("conditions-duplicate", emb_archive(rng, conditions=("shape", "shape")), R)
    st("conditions-unknown-to-labels", emb_archive(rng, conditions=("shape", "colour")), R, fragments=["colour"])
    st("conditions-escape", emb_archive(rng, conditions=(INJECTED + "shape", "tone")), R)
    st("conditions-order-swapped", emb_archive(rng, conditions=("tone", "shape")), A)
    st("nkd-k3-labels-2", emb_archive(rng, layout="nkd", k=3, conditions=None), R, fragments=["e.safetensors", "metadata.tsv"])
    st("format-dataset", emb_archive(rng, meta={"format": "csn-dataset/1"}), R)
    st("format-checkpoint-escape", emb_archive(rng, meta={"format": INJECTED + "csn-checkpoint/1"}), R)
    st("model-and-step-escape", emb_archive(rng, meta={"model": INJECTED, "backbone": INJECTED, "step": "9" * 40}), A)
    st("step-huge-number", emb_archive(rng, meta={"step": "99999999999999999999"}), A)

    # The embeddings tensor itself.
    def emb_only(dtype, shape, values, extra=None):
        a = formats.Archive()
        a.put("embeddings", dtype, shape, values)
        a.metadata = {"format": "csn-embeddings/1"}
        for k, v in (extra or {}).items():
            a.tensors[k] = v
        return a
    st("no-embeddings-tensor", (lambda a: (a.tensors.pop("embeddings"), a)[1])(emb_archive(rng)), R)
    st("embeddings-f64", emb_only("F64", [N, D], [0.5] * (N * D)), R, labels=False)
    st("embeddings-i32", emb_only("I32", [N, D], [1] * (N * D)), R, labels=False)
    st("embeddings-1d", emb_only("F32", [N * D], [0.5] * (N * D)), R, labels=False)
    st("embeddings-4d", emb_only("F32", [N, 1, 1, D], [0.5] * (N * D)), R, labels=False)
    st("embeddings-zero-rows", emb_only("F32", [0, D], []), R, labels=False)
    st("embeddings-zero-width", emb_only("F32", [N, 0], []), R, labels=False)
    st("embeddings-nkd-zero-k", emb_only("F32", [N, 0, D], []), R, labels=False)

    def lie(shape=None, offsets=None, dtype=None):
        def fn(h):
            e = h["embeddings"]
            if shape is not None:
                e["shape"] = shape
            if offsets is not None:
                e["data_offsets"] = offsets
            if dtype is not None:
                e["dtype"] = dtype
            return h
        return fn
    plain = emb_archive(rng, layout="plain", conditions=None)
    for label, kw in (("shape-2^31-rows", dict(shape=[2**31, D])), ("shape-2^62", dict(shape=[2**62, 2**62])),
                      ("shape-overflow-3d", dict(shape=[2**40, 2**40, 2**40])), ("shape-negative", dict(shape=[-N, D])),
                      ("shape-float-30.5", dict(shape=[30.5, 6])), ("shape-string", dict(shape=["30", "6"])),
                      ("shape-rows-plus-one", dict(shape=[N + 1, D])), ("shape-rows-minus-one", dict(shape=[N - 1, D])),
                      ("offsets-reversed", dict(offsets=[N * D * 4, 0])), ("offsets-past-end", dict(offsets=[0, 10**12])),
                      ("offsets-huge-start", dict(offsets=[2**63, 2**63 + 4])), ("dtype-f16", dict(dtype="F16")),
                      ("dtype-bogus", dict(dtype="Q8"))):
        st("header-" + label, plain, R, labels=False, override=lie(**kw))
    enc = plain.encode()
    st("header-length-huge", struct.pack("<Q", 2**62) + enc[8:], R, labels=False)
    st("header-length-past-end", struct.pack("<Q", len(enc)) + enc[8:], R, labels=False)
    st("header-not-json", struct.pack("<Q", 8) + b"notjson!" + enc[8:], R, labels=False)
    st("header-deep-json", (lambda h: struct.pack("<Q", len(h)) + h)(b"[" * 100000), R, labels=False)
    st("metadata-not-strings", plain, R, labels=False, override=lambda h: dict(h, __metadata__={"format": 1}))
    st("empty-file", b"", R, labels=False)
    st("eight-bytes", b"\x00" * 8, R, labels=False)
    for k in range(6):
        cut = rng.randrange(1, len(enc))
        st("truncated-%d" % cut, enc[:cut], R, labels=False)
    for k in range(10):
        data = bytearray(enc)
        pos = rng.randrange(len(data))
        data[pos] ^= 1 << rng.randrange(8)
        st("flip-%d" % pos, bytes(data), E, labels=False)
    # Files that are something else.
    recs = scalar_records(rng, 3)
    st("is-an-event-file", b"".join(r.framed() for r in recs), R, labels=False)
    st("is-a-dataset", formats.read_archive(base.dataset).encode(), R, labels=False)
    st("is-a-checkpoint", (base.run / "model.safetensors").read_bytes(), R, labels=False)
    st("is-gzip", formats.gz(good.encode()), R, labels=False)
    st("is-json", b'{"embeddings": [[1,2],[3,4]]}', R, labels=False)
    # A binary file under a suffix csn does not know is read as a vectors text file; the error
    # should say what the file is (or which suffixes csn reads), not quote its bytes as a number.
    for label, fname, body in (("gz-suffix", "e.safetensors.gz", formats.gz(good.encode())),
                               ("upper-suffix", "e.SAFETENSORS", good.encode()), ("st-suffix", "e.st", good.encode())):
        case = nb_case("emb-" + label, {fname: body, "metadata.tsv": lab}, E,
                       argv=["neighbours", "--embeddings", fname, "--index", "0", "-k", "3", "--labels", "metadata.tsv"])
        case.check = all_checks(case.check, binary_read_as_text)
        out.append(case)
    for label, body in (("dev-zero", "/dev/zero"), ("dev-null", "/dev/null"), ("dev-urandom", "/dev/urandom")):
        out.append(nb_case("emb-link-" + label, {"e.safetensors": link(body)}, R, labels=False, timeout=10))
    out.append(nb_case("emb-fifo", {"e.safetensors": fifo}, R, labels=False, timeout=10))
    out.append(nb_case("emb-folder-named-safetensors", {"e.safetensors": folder}, R, labels=False, timeout=10))
    out.append(nb_case("emb-missing", {}, R, labels=False))
    out.append(nb_case("emb-dev-zero-direct", {}, R, labels=False, timeout=10,
                       argv=["neighbours", "--embeddings", "/dev/zero", "--index", "0", "-k", "3"]))
    out.append(nb_case("emb-index-out-of-range", {"e.safetensors": good.encode(), "metadata.tsv": lab}, R,
                       argv=["neighbours", "--embeddings", "e.safetensors", "--labels", "metadata.tsv", "--index", str(N), "-k", "3"],
                       fragments=["--index"]))
    out.append(nb_case("emb-index-negative", {"e.safetensors": good.encode(), "metadata.tsv": lab}, R,
                       argv=["neighbours", "--embeddings", "e.safetensors", "--labels", "metadata.tsv", "--index=-1", "-k", "3"],
                       fragments=["--index", "-1"]))
    out.append(nb_case("emb-k-larger-than-rows", {"e.safetensors": good.encode(), "metadata.tsv": lab}, A,
                       argv=["neighbours", "--embeddings", "e.safetensors", "--labels", "metadata.tsv", "--index", "0", "-k", "1000"]))
    out.append(nb_case("emb-condition-none", {"e.safetensors": good.encode(), "metadata.tsv": lab}, A,
                       argv=["neighbours", "--embeddings", "e.safetensors", "--labels", "metadata.tsv", "--index", "0", "-k", "3",
                             "--condition", "none"]))
    out.append(nb_case("emb-query-search", {"e.safetensors": good.encode(), "metadata.tsv": lab}, A,
                       argv=["neighbours", "--embeddings", "e.safetensors", "--labels", "metadata.tsv", "--query", "shape:bar", "-k", "3"]))
    out.append(nb_case("emb-labels-without-embeddings", {"metadata.tsv": lab}, R,
                       argv=["neighbours", "RUN", "--labels", "metadata.tsv", "--index", "0"], fragments=["--labels"]))
    return out


def numpy_cases(rng) -> list:
    out = []
    lab = labels_text()

    def npy(shape, values, descr="<f4"):
        fmt = {"<f4": "<%df", "<f8": "<%dd", ">f4": ">%df"}[descr]
        head = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
        return formats.npy(head, struct.pack(fmt % len(values), *values))
    v2 = emb_values(rng)
    v3 = emb_values(rng, N, 2 * D)
    cases_ = [("2d", npy((N, D), v2), A, True), ("2d-no-labels", npy((N, D), v2), A, False),
              ("3d", npy((N, 2, D), v3), A, True), ("3d-no-labels", npy((N, 2, D), v3), A, False),
              ("3d-k3-labels-2", npy((N, 3, D), emb_values(rng, N, 3 * D)), R, True),
              ("f8", npy((N, D), v2, "<f8"), A, True), ("big-endian", npy((N, D), v2, ">f4"), A, True),
              ("1d", npy((N * D,), v2), R, False), ("4d", npy((N, 1, 1, D), v2), R, False),
              ("nan", npy((N, D), v2[:13] + [math.nan] + v2[14:]), R, False),
              ("rows-31-labels-30", npy((N + 1, D), v2 + [0.0] * D), R, True),
              ("shape-huge", npy((2**40, D), v2), R, False), ("zero-rows", npy((0, D), []), R, False),
              ("truncated", npy((N, D), v2)[:-7], R, False), ("empty", b"", R, False)]
    for label, body, expect, labels in cases_:
        files = {"e.npy": body}
        if labels:
            files["metadata.tsv"] = lab
        argv = ["neighbours", "--embeddings", "e.npy", "--index", "0", "-k", "3"] + (["--labels", "metadata.tsv"] if labels else [])
        out.append(nb_case("npy-" + label, files, expect, argv=argv,
                           fragments=["e.npy", "metadata.tsv"] if label in ("rows-31-labels-30", "3d-k3-labels-2") else None))
    # A one-letter file name (.npy recognised by its magic).
    out.append(nb_case("npy-one-letter-name", {"e": npy((N, D), v2)}, A, argv=["neighbours", "--embeddings", "e", "--index", "0", "-k", "3"]))
    # npy bytes under another suffix are recognised by their magic.
    out.append(nb_case("npy-as-bin-suffix", {"e.bin": npy((N, D), v2), "metadata.tsv": lab}, A,
                       argv=["neighbours", "--embeddings", "e.bin", "--index", "0", "-k", "3", "--labels", "metadata.tsv"]))
    return out


def tsv_cases(rng) -> list:
    out = []
    lab = labels_text()
    vals = [[round(rng.gauss(0, 1), 4) for _ in range(D)] for _ in range(N)]
    tsv = "".join("\t".join(repr(x) for x in r) + "\n" for r in vals)

    def case(label, body, expect, labels=lab, fragments=None, name="tensors.tsv"):
        files = {name: body}
        if labels is not None:
            files["metadata.tsv"] = labels
        argv = ["neighbours", "--embeddings", name, "--index", "0", "-k", "3"] + (["--labels", "metadata.tsv"] if labels is not None else [])
        out.append(nb_case("tsv-" + label, files, expect, argv=argv, fragments=fragments))
    ragged = tsv.splitlines(keepends=True)
    ragged[9] = "\t".join(ragged[9].split("\t")[:-1]) + "\n"
    nanrow = tsv.splitlines(keepends=True)
    nanrow[11] = "nan\t" + nanrow[11].split("\t", 1)[1]
    case("valid", tsv, A)
    case("valid-no-labels", tsv, A, labels=None)
    case("ragged-row-10", "".join(ragged), R, labels=None, fragments=["tensors.tsv"])
    case("nan-row-12", "".join(nanrow), R, labels=None, fragments=["tensors.tsv"])
    case("empty", "", R, labels=None)
    case("header-row", "a\tb\tc\td\te\tf\n" + tsv, E, labels=None)
    case("crlf", tsv.replace("\n", "\r\n"), A)
    case("csv-in-tsv", tsv.replace("\t", ","), E, labels=None)
    case("binary", bytes(range(256)) * 8, R, labels=None)
    case("event-file", b"".join(r.framed() for r in scalar_records(rng, 3)), R, labels=None)
    return out


def label_cases(rng) -> list:
    """metadata.tsv hostility against a valid [N, D] + masks embeddings file."""
    out = []
    good = emb_archive(rng).encode()

    def case(label, labels, expect, fragments=("metadata.tsv",), timeout=None, embeddings=good, path="metadata.tsv"):
        files = {"e.safetensors": embeddings, path: labels} if labels is not None else {"e.safetensors": embeddings}
        argv = ["neighbours", "--embeddings", "e.safetensors", "--index", "0", "-k", "3", "--labels", path]
        out.append(nb_case("labels-" + label, files, expect, argv=argv, fragments=list(fragments) if fragments else None, timeout=timeout))
    rows = labels_text().splitlines()
    case("valid", labels_text(), A)
    case("crlf", labels_text(nl="\r\n"), A)
    case("bom", "\ufeff" + labels_text(), A)
    case("no-final-newline", labels_text().rstrip("\n"), A)
    case("blank-lines", labels_text().replace("\n", "\n\n"), A)
    case("columns-swapped", labels_text(header="image\ttone\tshape"), A)
    case("no-name-column", "shape\ttone\n" + "\n".join("%s\t%s" % tuple(r.split("\t")[1:]) for r in rows[1:]) + "\n", A)
    case("rows-29", "\n".join(rows[:-1]) + "\n", R, fragments=("metadata.tsv", "29"))
    case("rows-31", "\n".join(rows + ["r30\tdisc\tdark"]) + "\n", R, fragments=("metadata.tsv", "31"))
    case("header-only", rows[0] + "\n", R)
    case("empty", "", R)
    case("only-newlines", "\n\n\n", R)
    case("ragged-short-line-5", "\n".join(rows[:4] + ["r3\tdisc"] + rows[5:]) + "\n", R, fragments=("metadata.tsv:5",))
    case("ragged-long-line-7", "\n".join(rows[:6] + [rows[6] + "\textra"] + rows[7:]) + "\n", R, fragments=("metadata.tsv:7",))
    case("whitespace-line", "\n".join(rows[:4] + ["   "] + rows[4:]) + "\n", R, fragments=("metadata.tsv:5",))
    case("duplicate-columns", labels_text(header="image\tshape\tshape"), R, fragments=("metadata.tsv:1",))
    case("duplicate-after-trim", labels_text(header="image\tshape\t shape "), R, fragments=("metadata.tsv:1",))
    case("empty-header-name", labels_text(header="image\t\ttone"), R, fragments=("metadata.tsv:1",))
    case("blank-header-name", labels_text(header="image\t  \ttone"), R, fragments=("metadata.tsv:1",))
    case("header-escape", labels_text(header="image\t" + INJECTED + "shape\ttone"), R)
    case("values-escape", labels_text().replace("disc", INJECTED + "disc"), A)
    case("values-osc", labels_text().replace("disc", "\x1b]0;pwned\x07disc"), A)
    case("values-nul", labels_text().replace("disc", "di\x00sc"), E)
    case("values-invalid-utf8", labels_text().encode().replace(b"disc", b"d\xffisc"), E)
    case("values-empty", labels_text().replace("\tdisc\t", "\t\t"), A)
    case("values-nan-inf", labels_text().replace("disc", "nan").replace("bar", "inf"), A)
    case("values-long-1MiB", labels_text().replace("r0\t", "r" * MIB + "\t", 1), A)
    case("name-column-escape", labels_text().replace("r0\t", INJECTED + "r0\t", 1), A)
    case("numeric-ordinal", "image\tshape\ttone\n" + "".join("r%d\t%g\t%g\n" % (i, i * 0.5, i % 2) for i in range(N)), A)
    case("numeric-with-nan", "image\tshape\ttone\n" + "".join("r%d\t%s\t%g\n" % (i, "nan" if i == 4 else "%g" % i, i % 2) for i in range(N)), A)
    case("numeric-huge", "image\tshape\ttone\n" + "".join("r%d\t%s\t%g\n" % (i, "1e39" if i == 3 else "%g" % (i * 1e37), i % 2) for i in range(N)), A)
    case("one-column-no-header", "\n".join("r%d" % i for i in range(N)) + "\n", R, fragments=("metadata.tsv", "e.safetensors"))
    case("binary", bytes(range(256)) * 8, R)
    case("event-file", b"".join(r.framed() for r in scalar_records(rng, 3)), R)
    case("missing", None, R)
    out.append(nb_case("labels-dev-zero", {"e.safetensors": good}, R, timeout=10,
                       argv=["neighbours", "--embeddings", "e.safetensors", "--index", "0", "-k", "3", "--labels", "/dev/zero"],
                       fragments=["/dev/zero"]))
    out.append(nb_case("labels-fifo", {"e.safetensors": good, "metadata.tsv": fifo}, R, timeout=10,
                       argv=["neighbours", "--embeddings", "e.safetensors", "--index", "0", "-k", "3", "--labels", "metadata.tsv"],
                       fragments=["metadata.tsv"]))
    out.append(nb_case("labels-folder", {"e.safetensors": good, "metadata.tsv": folder}, R, timeout=10,
                       argv=["neighbours", "--embeddings", "e.safetensors", "--index", "0", "-k", "3", "--labels", "metadata.tsv"],
                       fragments=["metadata.tsv"]))
    # Many rows, a label column with as many distinct values (200k rows, 200k distinct values).
    big = 200_000

    def big_files(scratch: Path, p: Path):
        a = formats.Archive()
        a.tensors["embeddings"] = ("F32", [big, 2], struct.pack("<%df" % (2 * big), *[((i * 7919) % 1000) / 1000.0 for i in range(2 * big)]))
        a.metadata = {"format": "csn-embeddings/1"}
        p.write_bytes(a.encode())
        (scratch / "metadata.tsv").write_text("image\tid\n" + "".join("r%d\tv%d\n" % (i, i) for i in range(big)))
    out.append(nb_case("labels-200k-distinct-values", {"e.safetensors": big_files}, A, timeout=90,
                       argv=["neighbours", "--embeddings", "e.safetensors", "--index", "0", "-k", "3", "--labels", "metadata.tsv"]))
    return out


# ================================================================ Projector folders

def projector_cases(rng, base) -> list:
    out = []
    vals = lambda: [[round(rng.gauss(0, 1), 4) for _ in range(D)] for _ in range(N)]   # noqa: E731
    tsv = lambda rows: "".join("\t".join(repr(x) for x in r) + "\n" for r in rows)     # noqa: E731
    lab = labels_text()
    un, sh, to = tsv(vals()), tsv(vals()), tsv(vals())

    def config(*entries, meta="metadata.tsv"):
        text = ""
        for name, path in entries:
            text += 'embeddings {\n  tensor_name: "%s"\n  tensor_path: "%s"\n' % (name, path)
            if meta is not None:
                text += '  metadata_path: "%s"\n' % meta
            text += "}\n"
        return text
    std = config(("unmasked", "vectors.tsv"), ("shape", "vectors-shape.tsv"), ("tone", "vectors-tone.tsv"))
    base_files = {"proj/vectors.tsv": un, "proj/vectors-shape.tsv": sh, "proj/vectors-tone.tsv": to, "proj/metadata.tsv": lab,
                  "proj/projector_config.pbtxt": std}

    def case(label, changes, expect, fragments=None, argv_extra=(), timeout=10, target="proj"):
        files = dict(base_files)
        for k, v in changes.items():
            if v is None:
                files.pop(k, None)
            else:
                files[k] = v
        argv = ["neighbours", "--embeddings", target, "--index", "0", "-k", "3"] + list(argv_extra)
        out.append(nb_case("projector-" + label, files, expect, argv=argv, fragments=fragments, timeout=timeout))
    outside = ("is outside", "leads outside")
    case("valid", {}, A)
    case("exported-by-csn", {"proj/vectors.tsv": None, "proj/vectors-shape.tsv": None, "proj/vectors-tone.tsv": None,
                             "proj/metadata.tsv": None, "proj/projector_config.pbtxt": None,
                             "X": lambda s, p: subprocess.run([base.binary, "export", str(base.run), "--projector", str(s / "proj")],
                                                              capture_output=True, timeout=60)}, A, timeout=30)
    case("no-config-tensors-tsv", {"proj/projector_config.pbtxt": None, "proj/vectors.tsv": None, "proj/tensors.tsv": un}, A)
    case("no-config-vectors-tsv-no-metadata", {"proj/projector_config.pbtxt": None, "proj/metadata.tsv": None}, A)
    case("empty-folder", {k: None for k in base_files} | {"proj": folder}, R, fragments=["proj"])
    case("tensor-path-dotdot", {"proj/projector_config.pbtxt": config(("unmasked", "../outside.tsv")), "outside.tsv": un}, R, fragments=outside)
    case("tensor-path-dotdot-inner", {"proj/projector_config.pbtxt": config(("unmasked", "sub/../../outside.tsv")), "outside.tsv": un,
                                      "proj/sub": folder}, R, fragments=outside)
    case("tensor-path-absolute", {"proj/projector_config.pbtxt": config(("unmasked", "/etc/hostname"))}, R, fragments=outside)
    case("tensor-path-absolute-scratch", {"proj/projector_config.pbtxt": None,
                                          "X": lambda s, p: (s / "proj" / "projector_config.pbtxt").write_text(config(("unmasked", str(s / "outside.tsv")))),
                                          "outside.tsv": un}, R, fragments=outside)
    case("tensor-path-link-outside", {"proj/vectors-shape.tsv": link("../outside.tsv"), "outside.tsv": un}, R, fragments=outside)
    case("tensor-path-link-abs-outside", {"proj/vectors-shape.tsv": link("/etc/hostname")}, R, fragments=outside)
    case("tensor-path-link-dev-zero", {"proj/vectors-shape.tsv": link("/dev/zero")}, R, fragments=outside)
    case("tensor-path-link-chain-outside", {"proj/vectors-shape.tsv": link("hop.tsv"), "proj/hop.tsv": link("../outside.tsv"), "outside.tsv": un},
         R, fragments=outside)
    case("tensor-path-link-inside", {"proj/vectors-shape.tsv": link("real.tsv"), "proj/real.tsv": un}, A)
    case("tensor-path-dir-link-outside", {"proj/projector_config.pbtxt": config(("unmasked", "d/v.tsv")), "proj/d": link(".."),
                                          "v.tsv": un}, R, fragments=outside)
    case("tensor-path-link-loop", {"proj/vectors-shape.tsv": link("vectors-shape.tsv")}, R, fragments=["vectors-shape.tsv"])
    case("unused-tensor-path-missing", {"proj/vectors.tsv": None}, A)   # the condition tensors are used, not it
    case("tensor-path-missing", {"proj/vectors-shape.tsv": None}, R, fragments=["vectors-shape.tsv"])
    case("tensor-path-folder", {"proj/vectors-shape.tsv": None, "proj/vectors-shape.tsv/x": "1\n"}, R, fragments=["vectors-shape.tsv"])
    case("tensor-path-fifo", {"proj/vectors-shape.tsv": fifo}, R, fragments=["vectors-shape.tsv"])
    case("tensor-path-empty", {"proj/projector_config.pbtxt": config(("unmasked", ""))}, R)
    case("tensor-path-dot", {"proj/projector_config.pbtxt": config(("unmasked", "."))}, R)
    case("tensor-path-is-config", {"proj/projector_config.pbtxt": config(("unmasked", "projector_config.pbtxt"))}, R)
    case("tensor-path-escape", {"proj/projector_config.pbtxt": config(("unmasked", INJECTED + ".tsv"))}, R)
    case("tensor-path-dotdot-escape", {"proj/projector_config.pbtxt": config(("unmasked", "../" + INJECTED))}, R, fragments=outside)
    case("metadata-path-dotdot", {"proj/projector_config.pbtxt": config(("unmasked", "vectors.tsv"), meta="../m.tsv"), "m.tsv": lab},
         R, fragments=outside)
    case("metadata-path-absolute", {"proj/projector_config.pbtxt": config(("unmasked", "vectors.tsv"), meta="/etc/passwd")}, R,
         fragments=outside)
    case("metadata-link-outside", {"proj/metadata.tsv": link("../m.tsv"), "m.tsv": lab}, R, fragments=outside)
    case("metadata-link-outside-no-config", {"proj/projector_config.pbtxt": None, "proj/metadata.tsv": link("../m.tsv"), "m.tsv": lab}, R,
         fragments=outside)
    case("metadata-dangling-link", {"proj/metadata.tsv": link("nowhere.tsv")}, R, fragments=["metadata.tsv"])
    case("metadata-missing-named", {"proj/metadata.tsv": None}, R, fragments=["metadata.tsv"])
    case("metadata-ragged", {"proj/metadata.tsv": lab.replace("r4\tsquare\tlight", "r4\tsquare")}, R, fragments=["metadata.tsv:6"])
    case("metadata-rows-mismatch", {"proj/metadata.tsv": "\n".join(lab.splitlines()[:-2]) + "\n"}, R, fragments=["metadata.tsv"])
    case("rows-mismatch-between-tensors", {"proj/vectors-tone.tsv": "".join(to.splitlines(keepends=True)[:-1])}, R,
         fragments=["vectors-tone.tsv"])
    case("width-mismatch-between-tensors", {"proj/vectors-tone.tsv": "".join(l.rstrip("\n") + "\t0.5\n" for l in to.splitlines())}, R,
         fragments=["vectors-tone.tsv"])
    case("nan-in-condition-tensor", {"proj/vectors-shape.tsv": sh.replace(sh.split("\t")[3], "nan", 1)}, R, fragments=["vectors-shape.tsv"])
    case("config-empty", {"proj/projector_config.pbtxt": ""}, R, fragments=["projector_config.pbtxt"])
    case("config-no-tensor-path", {"proj/projector_config.pbtxt": 'embeddings {\n  tensor_name: "x"\n}\n'}, R, fragments=["projector_config.pbtxt"])
    case("config-binary", {"proj/projector_config.pbtxt": bytes(range(256)) * 64}, R, fragments=["projector_config.pbtxt"])
    case("config-dev-zero-link", {"proj/projector_config.pbtxt": link("/dev/zero")}, R, fragments=["projector_config.pbtxt"])
    case("config-fifo", {"proj/projector_config.pbtxt": fifo}, R, fragments=["projector_config.pbtxt"])
    case("config-folder", {"proj/projector_config.pbtxt": folder}, R, fragments=["projector_config.pbtxt"])
    case("config-17MiB", {"proj/projector_config.pbtxt": std + "#" * (17 * MIB)}, R, fragments=["projector_config.pbtxt"])
    case("config-single-line", {"proj/projector_config.pbtxt":
                                'embeddings { tensor_name: "unmasked" tensor_path: "vectors.tsv" metadata_path: "metadata.tsv" }\n'}, A)
    case("config-comments", {"proj/projector_config.pbtxt": "# written by hand\n" + std.replace("}\n", "  # end\n}\n")}, A)
    case("config-no-quotes", {"proj/projector_config.pbtxt": std.replace('"', "")}, R)  # text format quotes strings, as protobuf's own parser insists
    case("config-single-quotes", {"proj/projector_config.pbtxt": std.replace('"', "'")}, E)
    case("config-crlf", {"proj/projector_config.pbtxt": std.replace("\n", "\r\n")}, A)
    case("config-model-checkpoint-path", {"proj/projector_config.pbtxt": 'model_checkpoint_path: "/etc/x"\n' + std}, A)
    case("config-tensor-shape-and-sprite", {"proj/projector_config.pbtxt": std.replace("}\n", "  tensor_shape: 30\n  tensor_shape: 6\n"
                                                                                    "  sprite {\n    image_path: \"../s.png\"\n  }\n}\n")}, A)
    case("config-1000-entries", {"proj/projector_config.pbtxt": config(*[("t%d" % i, "vectors.tsv") for i in range(1000)])}, A)
    case("config-escaped-quote", {"proj/projector_config.pbtxt": config(("unmasked", 'vec\\"tors.tsv'))}, R)
    case("config-duplicate-condition", {"proj/projector_config.pbtxt": std + config(("shape", "vectors-tone.tsv"))}, E)
    case("config-condition-tensor-missing", {"proj/vectors-tone.tsv": None}, R, fragments=["vectors-tone.tsv"])
    case("condition-tensors-only", {"proj/projector_config.pbtxt": config(("shape", "vectors-shape.tsv"), ("tone", "vectors-tone.tsv"))}, A)
    case("metadata-header-duplicates-tensor", {"proj/metadata.tsv": labels_text(header="image\tshape\tshape")}, R,
         fragments=["metadata.tsv:1"])
    case("metadata-one-column", {"proj/metadata.tsv": "".join("r%d\n" % i for i in range(N))}, A)
    case("with-labels-flag", {"X": lambda s, p: (s / "m2.tsv").write_text(lab)}, A, argv_extra=["--labels", "m2.tsv"])
    # One-letter names: the folder, the folder with a slash, and a one-letter .npy file.
    one = {k.replace("proj/", "P/"): v for k, v in base_files.items()} | {k: None for k in base_files}
    case("one-letter-folder", one, A, target="P")
    case("one-letter-folder-slash", one, A, target="P/")
    case("root-is-link-to-folder", {k.replace("proj/", "qroj/"): v for k, v in base_files.items()} | {k: None for k in base_files} | {"proj": link("qroj")}, A)
    return out


# ================================================================ csn export

def run_digests(run: Path) -> dict:
    out = {}
    for name in ("config.json", "model.safetensors", "best.safetensors", "metrics.jsonl"):
        p = run / name
        out[name] = hashlib.sha1(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else None
    return out


def run_intact(scratch: Path, res: Result) -> Optional[str]:
    """The run exported from keeps its files, whatever the output path was."""
    before = json.loads((scratch / ".run-digests").read_text())
    after = run_digests(scratch / "RUN")
    changed = [k for k in before if before[k] != after[k]]
    return "changed RUN/%s" % ", RUN/".join(changed) if changed else None


def export_cases(rng, base) -> list:
    out = []

    def case(label, argv, expect, setup=None, allowed="OUT", fragments=None, timeout=60, after=None):
        def prepare(scratch: Path):
            base.copy_run(scratch / "RUN")
            (scratch / "in.txt").write_text("keep me\n")
            if setup:
                setup(scratch)
            (scratch / ".run-digests").write_text(json.dumps(run_digests(scratch / "RUN")))
        wrapped, check = confined(prepare, allowed)
        checks = [check, run_intact, no_injection] + ([names(*fragments)] if fragments else []) + ([after] if after else [])
        out.append(Case(CATEGORY, "export-" + label, ["export", "RUN"] + argv, expect, setup=wrapped, check=all_checks(*checks),
                        timeout=timeout))

    def mk(rel, kind, body="x\n"):
        def fn(scratch: Path):
            p = scratch / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if kind == "dir":
                p.mkdir()
            elif kind == "file":
                p.write_text(body)
            elif kind == "link":
                p.symlink_to(body)
            elif kind == "fifo":
                os.mkfifo(p)
        return fn

    def reads_back(flag_path):
        """What export wrote must open in neighbours --embeddings."""
        def check(scratch: Path, res: Result):
            if res.returncode != 0 or res.timed_out:
                return None
            back = run_process(base.binary, ["neighbours", "--embeddings", flag_path, "--index", "0", "-k", "2"], scratch, 30, "readback")
            if crash_marker(back.stderr) or back.timed_out:
                return "reading the export back crashed or hung: " + back.stderr.strip()[:160]
            if back.returncode != 0:
                silent(res, "exit 0, but csn cannot read what it wrote: neighbours --embeddings %s: %s"
                       % (flag_path, back.stderr.strip()[:200]))
            return None
        return check

    case("embeddings-valid", ["--embeddings", "OUT/e.safetensors"], A, setup=mk("OUT", "dir"), after=reads_back("OUT/e.safetensors"))
    case("projector-valid", ["--projector", "OUT"], A, after=reads_back("OUT"))
    case("both-valid", ["--embeddings", "OUT/e.safetensors", "--projector", "OUT/p"], A, setup=mk("OUT", "dir"))
    case("embeddings-existing-folder", ["--embeddings", "d.safetensors"], R, setup=mk("d.safetensors", "dir"), fragments=["d.safetensors"])
    case("embeddings-existing-folder-with-file", ["--embeddings", "d.safetensors"], R,
         setup=mk("d.safetensors/keep", "file"), fragments=["d.safetensors"])
    case("embeddings-parent-is-file", ["--embeddings", "in.txt/e.safetensors"], R, fragments=["in.txt"])
    case("embeddings-parent-missing", ["--embeddings", "no/such/e.safetensors"], R, fragments=["no/such"])
    case("embeddings-dev-null", ["--embeddings", "/dev/null"], R, fragments=["/dev/null"])
    case("embeddings-under-dev-null", ["--embeddings", "/dev/null/e.safetensors"], R, fragments=["/dev/null"])
    case("embeddings-empty-name", ["--embeddings", ""], R)
    case("embeddings-only-suffix", ["--embeddings", "OUT/.safetensors"], E, setup=mk("OUT", "dir"))
    case("embeddings-name-too-long", ["--embeddings", "x" * 300 + ".safetensors"], R)
    case("embeddings-over-model", ["--embeddings", "RUN/model.safetensors"], R, fragments=["model.safetensors"])
    case("embeddings-over-best", ["--embeddings", "RUN/best.safetensors"], R, fragments=["best.safetensors"])
    case("embeddings-over-dataset", ["--embeddings", "data.safetensors", "--data", "data.safetensors"], R,
         setup=lambda s: (s / "data.safetensors").write_bytes(formats.read_archive(base.dataset).encode()), fragments=["data.safetensors"])
    case("embeddings-over-existing-embeddings", ["--embeddings", "OUT/e.safetensors"], A,
         setup=lambda s: ((s / "OUT").mkdir(), (s / "OUT" / "e.safetensors").write_bytes(b"old")))
    case("embeddings-link-to-model", ["--embeddings", "OUT/e.safetensors"], A,
         setup=lambda s: ((s / "OUT").mkdir(), (s / "OUT" / "e.safetensors").symlink_to("../RUN/model.safetensors")))
    case("embeddings-fifo", ["--embeddings", "OUT/e.safetensors"], E, setup=lambda s: ((s / "OUT").mkdir(), os.mkfifo(s / "OUT" / "e.safetensors")),
         timeout=30)
    case("embeddings-escape-name", ["--embeddings", "no/" + INJECTED + ".safetensors"], R)
    case("projector-existing-file", ["--projector", "in.txt"], R, fragments=["in.txt"])
    case("projector-dev-null", ["--projector", "/dev/null"], R, fragments=["/dev/null"])
    case("projector-parent-is-file", ["--projector", "in.txt/p"], R, fragments=["in.txt"])
    case("projector-is-run-folder", ["--projector", "RUN"], E, allowed="RUN")   # beside the run's files, which must stay
    case("projector-over-model-file", ["--projector", "RUN/model.safetensors"], R, fragments=["model.safetensors"])
    case("projector-metadata-is-folder", ["--projector", "OUT"], R, setup=mk("OUT/metadata.tsv/x", "file"), fragments=["metadata.tsv"])
    case("projector-vectors-link-to-model", ["--projector", "OUT"], A, setup=mk("OUT/vectors.tsv", "link", "../RUN/model.safetensors"))
    case("projector-existing-with-user-files", ["--projector", "OUT"], A, setup=mk("OUT/notes.md", "file"))
    case("projector-trailing-slashes", ["--projector", "OUT///"], A)
    case("projector-escape-name", ["--projector", "in.txt/" + INJECTED], R)
    case("points-1", ["--projector", "OUT", "--points", "1"], A, after=reads_back("OUT"))
    case("points-0", ["--projector", "OUT", "--points", "0"], R)
    case("split-train-all", ["--embeddings", "OUT/e.safetensors", "--split", "train", "--points", "10000000"], A, setup=mk("OUT", "dir"))
    # Runs on datasets whose condition names are awkward for files and for metadata.tsv.
    for i, cname in enumerate(("a/b", "../../evil", "image", 'quo"te', "sp ace", "é-ü", "x" * 200)):
        def setup(scratch: Path, cname=cname):
            a = formats.dataset_archive(n=24, size=32, conditions=[(cname, ["x", "y"], "categorical", None),
                                                                     ("tone", ["d", "l"], "categorical", None)])
            (scratch / "ds.safetensors.gz").write_bytes(formats.gz(a.encode()))
            shutil.rmtree(scratch / "RUN")
            res = run_process(base.binary, ["train", "--headless", "--data", "ds.safetensors.gz", "--steps", "2", "--batch", "8",
                                            "--widths", "4,8,8", "--dim", "8", "--out", "RUN"], scratch, 60, "train")
            if res.returncode != 0:
                raise RuntimeError("could not train on condition %r: %s" % (cname, res.stderr[:200]))
        label = "condition-name-" + re.sub(r"[^A-Za-z0-9]+", "-", cname)[:20]
        case(label + "-projector", ["--projector", "OUT"], A, setup=setup, after=reads_back("OUT"))
        case(label + "-embeddings", ["--embeddings", "OUT/e.safetensors"], A,
             setup=lambda s, setup=setup: (setup(s), (s / "OUT").mkdir()), after=reads_back("OUT/e.safetensors"))
    return out


# ================================================================ terminal sessions (tmux)

SOCKET = "hostile-runs"


def tmux(*args, timeout=10):
    return subprocess.run(["tmux", "-L", SOCKET] + list(args), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def own_pids(binary: str, marker: str) -> list:
    """csn processes (by executable) whose command line holds `marker` (the case's scratch path)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].decode(errors="replace") == binary and any(marker.encode() in a for a in argv):
            pids.append(int(entry.name))
    return pids


def tui_case(name, setup, argv, keys, size=(100, 30), expect_exit=(0,)):
    """Runs csn ARGV in a tmux pane, sends keys (strings, bytes, or ("sleep", s)), then q; judges
    crash / hang / terminal left raw."""
    def runner(case, scratch, ctx):
        if setup:
            setup(scratch)
        session = "r%d-%s" % (os.getpid(), scratch.name[:5])
        full = [str(a).replace("@", str(scratch)) for a in argv]
        inner = "cd %s && %s %s; echo $? > %s; stty -a > %s; sleep 120" % (
            shlex.quote(str(scratch)), shlex.quote(ctx.binary), " ".join(map(shlex.quote, full)),
            shlex.quote(str(scratch / "RC")), shlex.quote(str(scratch / "STTY")))
        res = Result(argv=case.argv)
        w, h = size
        try:
            tmux("new-session", "-d", "-s", session, "-x", str(w), "-y", str(h), "sh -c %s" % shlex.quote(inner),
                 ";", "set-option", "-w", "-t", session, "remain-on-exit", "on")
            end = time.monotonic() + 10
            pids = []
            while not pids and time.monotonic() < end and not (scratch / "RC").exists():
                time.sleep(0.1)
                pids = own_pids(ctx.binary, str(scratch))
            time.sleep(1.0)
            for k in keys:
                if isinstance(k, tuple):
                    time.sleep(k[1])
                elif isinstance(k, bytes):
                    tmux("send-keys", "-t", session, "-H", *["%02x" % b for b in k])
                else:
                    tmux("send-keys", "-t", session, "-l", k)
                time.sleep(0.1)
            time.sleep(0.3)
            tmux("send-keys", "-t", session, "Escape")
            time.sleep(0.3)
            tmux("send-keys", "-t", session, "-l", "q")
            start = time.monotonic()
            while own_pids(ctx.binary, str(scratch)) and time.monotonic() - start < 5:
                time.sleep(0.05)
            still = own_pids(ctx.binary, str(scratch))
            time.sleep(0.3)
            pane = tmux("capture-pane", "-p", "-S", "-200", "-t", session).stdout
            if judge_terminal_case(res, pane, scratch, "STTY", still):
                pass  # hang, crash or terminal left raw: judged
            elif INJECTED in pane:
                res.verdict, res.note = "damaged", "a planted escape sequence reached the pane"
            elif res.returncode in expect_exit:
                res.verdict, res.note = "accepted", "exit %s" % res.returncode
            else:
                res.verdict, res.note = "wrong", "exit %s: %s" % (res.returncode, pane.strip()[-200:])
        finally:
            tmux("kill-session", "-t", session)
        return res
    return Case(CATEGORY, "tui-" + name, list(argv), A, runner=runner, timeout=40)


def tui_cases(rng, base) -> list:
    if shutil.which("tmux") is None:
        return [Case(CATEGORY, "tui-tmux-missing", ["explore"], A,
                     runner=lambda c, s, x: Result(argv=[], verdict="harness", note="tmux is not installed"))]
    views = ["2", "o", "c", "3", ("sleep", 0.8), "\r", "4", "n", "c", "C", "\t", "/", "#3", "\r", ("sleep", 0.3), "\x1b", "1"]

    def files(d):
        def fn(scratch: Path):
            for rel, body in d.items():
                p = scratch / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(body if isinstance(body, bytes) else body.encode())
        return fn
    lab = labels_text(N)
    out = [tui_case("explore-masks", files({"e.safetensors": emb_archive(rng).encode(), "metadata.tsv": lab}),
                    ["explore", "--embeddings", "@/e.safetensors", "--labels", "@/metadata.tsv"], views),
           tui_case("explore-nkd-no-labels", files({"e.safetensors": emb_archive(rng, layout="nkd").encode()}),
                    ["explore", "--embeddings", "@/e.safetensors"], views),
           tui_case("explore-one-row", files({"e.safetensors": emb_archive(rng, n=1).encode(), "metadata.tsv": labels_text(1)}),
                    ["explore", "--embeddings", "@/e.safetensors", "--labels", "@/metadata.tsv"], views),
           tui_case("explore-d1-tiny-pane", files({"e.safetensors": emb_archive(rng, d=1).encode()}),
                    ["explore", "--embeddings", "@/e.safetensors"], views, size=(20, 5)),
           tui_case("explore-escape-labels", files({"e.safetensors": emb_archive(rng).encode(),
                                                    "metadata.tsv": lab.replace("disc", INJECTED + "disc")}),
                    ["explore", "--embeddings", "@/e.safetensors", "--labels", "@/metadata.tsv"], views),
           tui_case("explore-200-distinct-values", files({"e.safetensors": emb_archive(rng, n=200, k=1, conditions=("id",)).encode(),
                                                          "metadata.tsv": "image\tid\n" + "".join("r%d\tv%d\n" % (i, i) for i in range(200))}),
                    ["explore", "--embeddings", "@/e.safetensors", "--labels", "@/metadata.tsv"], views),
           tui_case("explore-exported-run", lambda s: subprocess.run([base.binary, "export", str(base.run), "--embeddings",
                                                                      str(s / "e.safetensors")], capture_output=True, timeout=60),
                    ["explore", "--embeddings", "@/e.safetensors"], views),
           tui_case("explore-bad-file", files({"e.safetensors": b"junk"}), ["explore", "--embeddings", "@/e.safetensors"], [],
                    expect_exit=(1,))]
    recs = scalar_records(rng)
    blob = b"".join(r.framed() for r in recs)
    watch_keys = [("sleep", 0.5), "j", "k", "+", "-", "[", "]", "L", "?", "\x1b", "/", "loss", "\r"]

    def run_with(events=None, metrics=None):
        def fn(scratch: Path):
            run = scratch / "W" / "RUN"
            run.mkdir(parents=True)
            if events is not None:
                (run / EVENT_NAME).write_bytes(events)
            if metrics is not None:
                (run / "metrics.jsonl").write_text(metrics)
        return fn
    huge_step = tf.frame(tf.event((1 << 63) - 1, [tf.value("loss", 1.0)]))
    nan_values = tf.frame(tf.event(700, [tf.value("loss", math.nan), tf.value("x", math.inf)]))
    out += [tui_case("watch-events", run_with(blob), ["watch", "@/W"], watch_keys),
            tui_case("watch-events-nan-inf", run_with(blob + nan_values), ["watch", "@/W"], watch_keys),
            tui_case("watch-events-step-int64-max", run_with(blob + huge_step), ["watch", "@/W"], watch_keys),
            tui_case("watch-metrics-step-1e300", run_with(metrics='{"step":1,"loss":1}\n{"step":1e300,"loss":2}\n'), ["watch", "@/W"], watch_keys),
            tui_case("watch-empty-folder", lambda s: (s / "W").mkdir(), ["watch", "@/W"], [("sleep", 0.5)]),
            tui_case("watch-escape-tag", run_with(tf.frame(tf.event(1, [tf.value(INJECTED + "t", 1.0)]))), ["watch", "@/W"], watch_keys)]
    return out


# ================================================================ all

def cases(rng, base) -> list:
    out = framing_cases(rng) + protobuf_cases(rng) + metrics_cases(rng) + path_cases(rng, base)
    out += safetensors_cases(rng, base) + numpy_cases(rng) + tsv_cases(rng) + label_cases(rng) + projector_cases(rng, base)
    out += export_cases(rng, base) + tui_cases(rng, base)
    return out
