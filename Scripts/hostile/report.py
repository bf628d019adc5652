"""The markdown report: one table row per category, a total row, then every non-clean case."""

from __future__ import annotations

from collections import Counter, OrderedDict

from common import BAD_KINDS, KIND_TITLES, KINDS, OPTIONAL_KINDS

CLEAN = ("clean", "accepted")


def one_line(text: str, limit: int = 200) -> str:
    text = text.strip()[:limit]
    text = "".join(ch if ch.isprintable() else "\\x%02x" % ord(ch) if ord(ch) < 256 else ch for ch in
                   text.replace("\n", " ⏎ ").replace("\t", " "))
    return text.replace("|", "\\|").replace("`", "'")


def status(case) -> str:
    res = case.result
    if res is None:
        return "not run"
    if res.timed_out:
        return "timeout after %.0f s" % res.elapsed
    rc = res.returncode
    if rc is not None and rc < 0:
        return "signal %d" % -rc
    return "exit %s" % rc


def table(cases) -> str:
    by_cat: "OrderedDict[str, Counter]" = OrderedDict()
    for case in cases:
        by_cat.setdefault(case.category, Counter())[case.kind] += 1
    total = Counter()
    for counts in by_cat.values():
        total.update(counts)
    kinds = [k for k in KINDS if k not in OPTIONAL_KINDS or total[k]]
    head = ["category", "cases"] + [KIND_TITLES[k] for k in kinds]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for cat, counts in list(by_cat.items()) + [("**total**", total)]:
        row = [cat, str(sum(counts.values()))] + [str(counts[k]) for k in kinds]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def details(cases, binary: str, paths=()) -> str:
    def tidy(text):
        for real, shown in paths:
            text = text.replace(real, shown)
        return text

    bad = [c for c in cases if c.kind not in CLEAN]
    if not bad:
        return "No non-clean cases."
    out = ["Non-clean cases (%d). Relative paths in commands are inside the case's scratch folder; FIX is the "
           "fixtures folder built at startup: tiny.safetensors.gz (`csn data import` of 60 32x32 grey PNGs, conditions "
           "shape and tone), RUN (a 6-step csn-learned run on it, copied into the scratch folder as RUN), images/, "
           "attrs.csv." % len(bad)]
    order = list(BAD_KINDS) + [k for k in KINDS if k not in BAD_KINDS and k not in CLEAN]
    for kind in order:
        group = [c for c in bad if c.kind == kind]
        if not group:
            continue
        out.append("")
        out.append("### %s (%d)" % (KIND_TITLES[kind], len(group)))
        out.append("")
        for c in group:
            res = c.result
            note = (" — " + one_line(tidy(res.note), 300)) if res and res.note else ""
            out.append("- **%s / %s** — %s%s" % (c.category, c.name, status(c), note))
            out.append("  - command: `%s`" % tidy(c.command(binary)).replace("`", "'"))
            out.append("  - stderr: `%s`" % (one_line(tidy(res.stderr)) if res else ""))
    return "\n".join(out)


def render(cases, binary: str, elapsed: float, paths=()) -> str:
    parts = [table(cases), "", details(cases, binary, paths), "",
             "Run time: %.0f s (%d cases)." % (elapsed, len(cases))]
    return "\n".join(parts)


def failed(cases) -> bool:
    return any(c.kind in BAD_KINDS for c in cases)
