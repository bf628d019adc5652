"""Checks a case can attach: planted escape sequences, writes outside the output folder."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Optional

from common import Result


INJECTED = "\x1b[31m"


def no_injection(scratch: Path, res: Result) -> Optional[str]:
    """An escape sequence planted in an input must not reach the output verbatim."""
    if INJECTED in res.stdout or INJECTED in res.stderr:
        return "the planted ESC[31m reached the output unfiltered"
    return None


def all_checks(*checks):
    """One check from several: the first complaint wins."""
    def check(scratch: Path, res: Result) -> Optional[str]:
        for c in checks:
            if c is not None:
                why = c(scratch, res)
                if why:
                    return why
        return None
    return check


SNAPSHOT = ".snapshot"


def listing(scratch: Path) -> set:
    """Every path under scratch (relative), without the runner's own capture files."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(scratch, followlinks=False):
        for name in dirnames + filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), scratch)
            if not (rel.startswith(".") and rel.count("/") == 0 and (rel.endswith(".stdout") or rel.endswith(".stderr")
                                                                     or rel == SNAPSHOT)):
                out.add(rel)
    return out


def confined(setup, allowed: str):
    """Wraps a setup so that the case also gets a check: nothing may appear in the scratch folder
    outside `allowed` (a relative folder) and no file that setup made may change."""
    def wrapped(scratch: Path):
        if setup:
            setup(scratch)
        digest = {rel: _digest(scratch / rel) for rel in listing(scratch)}
        (scratch / SNAPSHOT).write_text(json.dumps(digest))

    def check(scratch: Path, res: Result) -> Optional[str]:
        before = json.loads((scratch / SNAPSHOT).read_text())
        prefix = allowed.rstrip("/") + "/"
        for rel in sorted(listing(scratch)):
            if rel not in before and rel != allowed.rstrip("/") and not rel.startswith(prefix) \
                    and not allowed.rstrip("/").startswith(rel + "/"):
                return "created %s outside %s" % (rel, allowed)
        for rel, digest in before.items():
            if rel.startswith(prefix):
                continue
            if _digest(scratch / rel) != digest:
                return "changed or removed %s" % rel
        return None
    return wrapped, check


def _digest(path: Path) -> str:
    try:
        if path.is_symlink():
            return "link:" + os.readlink(path)
        if path.is_dir():
            return "dir"
        if not path.is_file():
            return "special"   # never open a FIFO: it would block the harness
        return hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError:
        return "gone"
