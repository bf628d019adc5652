"""Hostile option values across the subcommands, on tiny models and the tiny dataset."""

from __future__ import annotations

from pathlib import Path

from common import Case

CATEGORY = "cli"
R, A, E = "reject", "accept", "either"
JUNK = ["", "abc", "1e400", "0x10", " 5", "--", "-", "5abc", "\x1b[31m"]


def with_opt(argv, opt, value):
    """argv with opt set to value (replacing an existing value, else appended)."""
    argv = list(argv)
    if opt in argv:
        argv[argv.index(opt) + 1] = value
    else:
        argv += [opt, value]
    return argv


def commands(base) -> dict:
    d = str(base.dataset)
    return {
        "train": ["train", "--headless", "--data", d, "--steps", "2", "--batch", "8", "--widths", "4,8,8", "--dim", "8",
                  "--out", "run", "--max-memory", "2"],
        "compare": ["compare", "--data", d, "--budget", "16", "--batch", "8", "--models", "standard", "--out", "cmp",
                    "--max-memory", "2"],
        "bench": ["bench", "--data", d, "--steps", "1", "--batch", "8", "--max-memory", "2"],
        "tsne": ["tsne", "RUN", "--condition", "shape", "--iterations", "50", "--perplexity", "1", "--out", "t.csv"],
        "neighbours": ["neighbours", "RUN", "--index", "2", "-k", "3"],
        "masks": ["masks", "RUN"], "eval": ["eval", "RUN"],
        "probe": ["probe", "RUN", "--attribute", "shape"],
        "export": ["export", "RUN", "--projector", "pj"],
        "stats": ["data", "stats", "--data", d], "show": ["data", "show", "--data", d, "--query", "shape:disc", "--count", "2"],
        "export-triplets": ["data", "export-triplets", "--data", d, "--out", "tl", "--train-per-condition", "5"],
    }


def matrix() -> list:
    """(command, option, value, expect)."""
    big = str(10**12)
    rows = []

    def add(cmd, opt, values, expect):
        for v in values:
            rows.append((cmd, opt, v, expect))
    add("train", "--epochs", ["inf", "nan", "1e300", "-1", "0", "-inf"], R)
    add("train", "--epochs", ["1e-300", "0.01"], E)
    add("train", "--steps", ["0", "-5", str(2**63), str(10**12)], R)
    add("train", "--batch", [big, "0", "-1", "65537", "1.5"], R)
    add("train", "--batch", ["1"], A)
    add("train", "--dim", [big, "0", "-1", str(2**31)], R)
    add("train", "--widths", ["9223372036854775807", ",", "4,,8", "0", "-4,8,8", "4,8,8,8,8,8,8,8,8,8", "1e3", "4;8",
                              "99999999", "4,8,9223372036854775807"], R)
    add("train", "--widths", ["4", "4,8,8,8"], E)
    add("train", "--threads", [str(10**6), "0", "-1", "257"], R)
    add("train", "--threads", ["256", "1"], E)
    add("train", "--train-triplets", [str(10**15), "0", "-1", "7"], R)
    add("train", "--train-triplets", ["8"], A)
    add("train", "--embed-weight", ["nan", "inf", "-1", "-inf"], R)
    add("train", "--embed-weight", ["0"], A)
    add("train", "--mask-weight", ["-1", "nan", "inf"], R)
    add("train", "--lr", ["0", "-1", "nan", "inf", "-0"], R)
    add("train", "--lr", ["1e30", "1e-30"], E)
    add("train", "--margin", ["-1", "nan", "inf", "-inf"], R)
    add("train", "--margin", ["0", "1e30"], E)
    add("train", "--validate-every", ["0", "-1"], R)
    add("train", "--validate-every", [str(10**18)], E)
    add("train", "--checkpoint-every", ["0", "-1"], R)
    add("train", "--seed", ["-1", str(2**64), "x"], R)
    add("train", "--seed", [str(2**64 - 1)], A)
    add("train", "--max-memory", ["0", "nan", "-1", "inf", "-inf", "1e-9", "1e400"], R)
    add("train", "--max-memory", ["1e30"], E)
    add("train", "--model", ["weird", "", "CSN-LEARNED"], R)
    add("train", "--model", ["standard", "task-specific", "csn-fixed"], A)
    add("train", "--schedule", ["weird"], R)
    add("train", "--mask-init", ["weird"], R)
    add("train", "--resume", ["nonexistent", "", "/dev/null"], R)
    add("train", "--data", ["", "/nonexistent", "/tmp"], R)
    add("train", "--out", [""], R)
    add("compare", "--budget", ["0", "-1", str(10**15), "nan", "7"], R)
    add("compare", "--batch", ["0", big, "-8"], R)
    add("compare", "--lr", ["nan", "0", "-1"], R)
    add("compare", "--threads", [str(10**6), "0"], R)
    add("compare", "--models", ["", "bogus", ",", "standard,bogus"], R)
    add("compare", "--models", ["standard,standard"], E)
    add("compare", "--max-memory", ["0", "nan", "-1"], R)
    add("compare", "--seed", ["-1"], R)
    add("bench", "--steps", ["0", "-1", str(2**63)], R)
    add("bench", "--batch", ["0", big], R)
    add("bench", "--threads", [str(10**6), "0"], R)
    add("bench", "--model", ["bogus"], R)
    add("bench", "--max-memory", ["0", "nan"], R)
    add("tsne", "--points", ["0", "-1", big], R)
    add("tsne", "--points", ["10"], A)
    add("tsne", "--perplexity", ["nan", "0", "-1", "inf", "1e30"], R)
    add("tsne", "--iterations", ["-1", str(2**63)], R)
    add("tsne", "--iterations", ["0"], E)
    add("tsne", "--condition", ["bogus", "", "\x1b[31m"], R)
    add("tsne", "--condition", ["none"], A)
    add("tsne", "--split", ["3", "-1", "validation"], R)
    add("tsne", "--split", ["val"], A)
    add("tsne", "--split", ["0"], E)
    add("tsne", "--threads", [str(10**6), "0"], R)
    add("neighbours", "-k", [str(10**12), str(2**63 - 1)], E)
    add("neighbours", "-k", ["0", "-1", str(2**64)], R)
    add("neighbours", "--index", ["-1", big, "60", str(2**63)], R)
    add("neighbours", "--index", ["0"], E)
    add("neighbours", "--condition", ["bogus", ""], R)
    add("neighbours", "--query", ["", "zzz:zzz", "#99999", "#-1", "#1e400", "shape:\x1b[31m"], R)
    add("neighbours", "--font", ["x"], R)
    add("neighbours", "--split", ["3", "-1"], R)
    add("masks", "--bogus", ["1"], R)
    add("eval", "--split", ["3", "-1", "train2", ""], R)
    add("eval", "--split", ["test"], A)
    add("eval", "--split", ["1"], E)
    add("eval", "--data", ["/nonexistent", "", "/dev/zero"], R)
    add("probe", "--attribute", ["bogus", "", "\x1b[31m"], R)
    add("probe", "--max-train", ["0", "-1"], R)
    add("probe", "--max-train", [str(10**12)], E)
    add("export", "--points", ["0", "-1"], R)
    add("export", "--points", [str(10**12)], E)
    add("export", "--split", ["5"], R)
    add("export", "--projector", [""], R)
    add("stats", "--max-memory", ["0", "nan", "-1", "1e-9", "inf"], R)
    add("stats", "--max-memory", ["1e30"], E)
    add("show", "--count", ["0", "-1"], R)
    add("show", "--count", [str(10**12)], E)
    add("show", "--index", ["-1", str(10**12)], R)
    add("show", "--query", ["", "\x1b[31m", "#-1", "#99999999999999999999"], E)
    add("show", "--chars", [""], E)
    add("export-triplets", "--train-per-condition", ["-1", str(10**12)], R)
    add("export-triplets", "--seed", ["-1"], R)
    add("export-triplets", "--out", [""], R)
    for cmd, opt in [("train", "--steps"), ("train", "--batch"), ("train", "--lr"), ("train", "--dim"), ("train", "--threads"),
                     ("neighbours", "-k"), ("neighbours", "--index"), ("tsne", "--perplexity"), ("tsne", "--points"),
                     ("bench", "--steps"), ("stats", "--max-memory"), ("export", "--points"), ("compare", "--budget")]:
        add(cmd, opt, [j for j in JUNK if j != "0x10"], R)
        add(cmd, opt, ["0x10"], E)   # a hexadecimal float is a valid Double spelling
    return rows


def cases(rng, base) -> list:
    cmds = commands(base)
    out = []
    for cmd, opt, value, expect in matrix():
        argv = with_opt(cmds[cmd], opt, value)
        needs_run = "RUN" in argv

        def setup(scratch: Path, needs_run=needs_run):
            if needs_run:
                base.copy_run(scratch / "RUN")
        label = value if len(value) <= 24 else value[:12] + "…"
        out.append(Case(CATEGORY, "%s %s=%s" % (cmd, opt, label.encode("unicode_escape").decode()), argv, expect,
                        setup=setup, timeout=15))
    for cmd, argv in cmds.items():
        def setup(scratch: Path, needs_run="RUN" in argv):
            if needs_run:
                base.copy_run(scratch / "RUN")
        out.append(Case(CATEGORY, "baseline " + cmd, argv, A, setup=setup, timeout=30))
    return out
