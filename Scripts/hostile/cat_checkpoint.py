"""Mutated copies of a real run folder: config.json, the weights files and metrics.jsonl, fed to
`eval RUN`, `masks RUN` and `train --headless --resume RUN --steps 12`."""

from __future__ import annotations

import json
from pathlib import Path

import ckpt_weights
from checks import all_checks, no_injection
from common import Case, run_process

CATEGORY = "checkpoint"
R, A, E = "reject", "accept", "either"


def commands() -> list:
    return [("eval", ["eval", "RUN"]), ("masks", ["masks", "RUN"]),
            ("resume", ["train", "--headless", "--resume", "RUN", "--steps", "12"])]


def config_edit(path, value):
    """Sets (or with value=DELETE removes) config[path...]."""
    def fn(run: Path):
        cfg = json.loads((run / "config.json").read_text())
        node = cfg
        for key in path[:-1]:
            node = node[key]
        if value is DELETE:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
        (run / "config.json").write_text(json.dumps(cfg, allow_nan=True))
    return fn


DELETE = object()


def config_text(text):
    def fn(run: Path):
        (run / "config.json").write_bytes(text if isinstance(text, bytes) else text.encode())
    return fn


def config_mutations(base) -> list:
    out = []
    fields = [
        ("checkpointEvery", [0, -1], R), ("validateEvery", [0, -5], R),
        ("widths", [[], [0], [-1], [10**9], [2**62, 2**62], "4,8,8", [4, 8], [4, 8, 8, 8, 8, 8, 8, 8, 8], [4.5, 8, 8]], R),
        ("batchSize", [2**40, 0, -1, 1.5, "8", None], R), ("embeddingDimension", [2**31, 0, -8, 7, 2**63], R),
        ("steps", [0, -1, 2**62], R), ("learningRate", [-1, 0, "nan", 1e39, None], R),
        ("threads", [0, 10**6, -2], R), ("seed", [-1, 2**64, 1.5], R), ("trainTriplets", [2**40, -1, 0], R),
        ("validationTripletsPerCondition", [2**62, -1], R), ("model", ["weird", "standard", "", 3], R),
        ("maskStd", [-1, 1e39], R), ("maskMean", ["nan", 1e39], R), ("schedule", ["weird", None], R),
        ("maskInitialization", ["nope"], R),
        ("dataPath", ["", "/nonexistent/x.safetensors.gz", "/dev/zero", "/tmp", "../../x", "\x1b[31mred", 5], R)]
    for key, values, expect in fields:
        for v in values:
            label = json.dumps(v)[:24].replace("/", "_")
            out.append(("config-%s=%s" % (key, label), expect, config_edit([key], v)))
    for key, values in [("margin", [-1, "x", 1e39]), ("embedding", [-0.5, None]), ("mask", [-1])]:
        for v in values:
            out.append(("config-loss.%s=%s" % (key, json.dumps(v)), R, config_edit(["loss", key], v)))
    cfg = json.loads((base.run / "config.json").read_text())
    for key in sorted(cfg):
        # Codable with defaults: a missing field may fall back to its default or be an error.
        out.append(("config-missing-" + key, E, config_edit([key], DELETE)))
    out.append(("config-extra-field", A, config_edit(["surprise"], [1, 2, 3])))
    data = (base.run / "config.json").read_text()
    for name, text, expect in [("empty", "", R), ("array", "[]", R), ("null", "null", R), ("number", "42", R),
                               ("truncated", data[: len(data) // 2], R), ("binary", bytes(range(256)) * 4, R),
                               ("deep", "[" * 100000, R), ("bom", "\ufeff" + data, E), ("crlf", data.replace("\n", "\r\n"), A),
                               ("nul-inside", data.replace('"model"', '"mo\\u0000del"'), R),
                               ("duplicate-key", data.replace("{", '{"batchSize": 999999999,', 1), E),
                               ("utf16", data.encode("utf-16"), E)]:
        out.append(("config-text-" + name, expect, config_text(text)))
    out.append(("config-missing-file", R, lambda run: (run / "config.json").unlink()))
    out.append(("config-is-dir", R, lambda run: (run / "config.json").unlink() or (run / "config.json").mkdir()))
    out.append(("run-is-file", R, lambda run: __import__("shutil").rmtree(run) or run.write_text("x")))
    return out


def metrics_text(text, mode="replace"):
    def fn(run: Path):
        data = text if isinstance(text, bytes) else text.encode()
        if mode == "append":
            with open(run / "metrics.jsonl", "ab") as f:
                f.write(data)
        else:
            (run / "metrics.jsonl").write_bytes(data)
    return fn


def metrics_mutations(base) -> list:
    orig = (base.run / "metrics.jsonl").read_text()
    good = '{"step":1,"validation":[0.5,0.5],"validation_mean":0.5}\n'
    rows = [("1e300", '{"step":3,"triplet":1e300,"embedding":1e300,"validation":[1e300,-1e300],"validation_mean":1e300}\n'),
            ("nan-strings", '{"step":3,"triplet":"NaN","validation":["NaN","nan"],"validation_mean":"NaN"}\n'),
            ("bare-nan", '{"step":3,"triplet":NaN,"validation":[NaN,Infinity]}\n'),
            ("short-validation", '{"step":3,"validation":[0.5]}\n{"step":4,"validation":[]}\n'),
            ("long-validation", '{"step":3,"validation":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]}\n'),
            ("negative-step", '{"step":-3,"validation":[0.5,0.5]}\n'), ("huge-step", '{"step":9223372036854775808}\n'),
            ("step-string", '{"step":"3","triplet":0.1}\n'), ("nulls", '{"step":3,"triplet":null,"validation":null}\n'),
            ("nested", '{"step":3,"validation":[[[[0.5]]]]}\n'), ("deep", "[" * 100000 + "\n"),
            ("not-object", "[1,2,3]\n42\n\"x\"\n"), ("escape", '{"step":3,"note":"\\u001b[31m"}\n')]
    out = [("metrics-" + name, E, metrics_text(row, "append")) for name, row in rows]
    out += [("metrics-no-final-newline", E, metrics_text(orig.rstrip("\n"))),
            ("metrics-binary-junk", E, metrics_text(bytes(range(256)) * 64, "append")),
            ("metrics-crlf", E, metrics_text(orig.replace("\n", "\r\n"))),
            ("metrics-empty", E, metrics_text(b"")), ("metrics-bom", E, metrics_text("\ufeff" + orig)),
            ("metrics-10k-lines", E, metrics_text(good * 10000)), ("metrics-8MB-line", E, metrics_text(b"{" + b" " * (8 << 20) + b"}\n")),
            ("metrics-missing", A, lambda run: (run / "metrics.jsonl").unlink()),
            ("metrics-is-dir", E, lambda run: (run / "metrics.jsonl").unlink() or (run / "metrics.jsonl").mkdir())]
    return out


def resume_check(binary: str, name: str):
    """After a resume that exited 0: the run must still load (`eval RUN --last`), and the lines a
    resume appends to metrics.jsonl must not be glued onto an unterminated last line."""
    def check(scratch: Path, res):
        if res.returncode != 0 or res.timed_out:
            return None
        after = run_process(binary, ["eval", "RUN", "--last"], scratch, 30, "check")
        if after.returncode != 0:
            return "resume exited 0 but `eval RUN --last` then failed: " + after.stderr.strip()[:150]
        if name in ("metrics-no-final-newline", "metrics-crlf", "metrics-1e300", "metrics-short-validation"):
            lines = (scratch / "RUN" / "metrics.jsonl").read_bytes().split(b"\n")
            for line in lines:
                if line.strip():
                    try:
                        json.loads(line)
                    except ValueError:
                        return "metrics.jsonl holds an unparsable line after the resume: %r" % line[:80]
        return None
    return check


def cases(rng, base) -> list:
    muts = config_mutations(base) + ckpt_weights.structural() + ckpt_weights.random_damage(rng, base.run)
    muts += metrics_mutations(base)
    out = []
    for name, expect, mutate in muts:
        def setup(scratch: Path, mutate=mutate):
            mutate(base.copy_run(scratch / "RUN"))
        for label, argv in commands():
            check = all_checks(no_injection, resume_check(base.binary, name) if label == "resume" else None)
            timeout = 30 if name == "rng-zeros" else None
            want = E if label != "resume" and expect == R and ckpt_weights.training_state_only(name) else expect
            out.append(Case(CATEGORY, "%s/%s" % (name, label), argv, want, setup=setup, check=check, timeout=timeout))
    zeros = [n for n, _, _ in muts if n == "rng-zeros"][0]
    out.append(Case(CATEGORY, zeros + "/resume-20", ["train", "--headless", "--resume", "RUN", "--steps", "20"], R,
                    setup=lambda s: ckpt_weights.on_weights(ckpt_weights.put("rng", [0, 0, 0, 0]))(base.copy_run(s / "RUN")),
                    timeout=30))
    for label, argv in commands():
        out.append(Case(CATEGORY, "baseline/" + label, argv, A, setup=lambda s: base.copy_run(s / "RUN"),
                        check=resume_check(base.binary, "baseline") if label == "resume" else None))
    return out
