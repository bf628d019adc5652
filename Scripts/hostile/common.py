"""Cases, the process runner and the classification of what a run did."""

from __future__ import annotations

import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

CRASH_CODES = (132, 133, 134, 135, 136, 137, 139)
CRASH_MARKERS = ("Fatal error", "Illegal instruction", "Trace/breakpoint trap", "Segmentation fault",
                 "Program crashed", "Swift runtime failure", "Backtrace", "Thread 0 crashed")
MEMORY_LIMIT = 4 << 30
FILE_LIMIT = 2 << 30

# Kinds, in the order the table prints them.
KINDS = ("clean", "accepted", "crash", "hang", "silent", "wrong", "mute", "vague", "damaged", "harness")
KIND_TITLES = {"clean": "clean errors", "accepted": "accepted", "crash": "crashes", "hang": "hangs",
               "silent": "silent acceptances", "wrong": "wrong rejections", "mute": "mute errors",
               "vague": "unclear errors", "damaged": "damaged", "harness": "harness errors"}
OPTIONAL_KINDS = ("mute", "vague", "harness")   # columns printed only when some case has them
BAD_KINDS = ("crash", "hang", "damaged")


@dataclass
class Result:
    argv: list
    returncode: Optional[int] = None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    elapsed: float = 0.0
    verdict: Optional[str] = None   # set by custom runners that judge for themselves
    note: str = ""                  # extra detail for the report


@dataclass
class Case:
    category: str
    name: str
    argv: list                      # arguments after the binary
    expect: str = "reject"          # reject, accept or either
    setup: Optional[Callable[[Path], None]] = None
    check: Optional[Callable[[Path, Result], Optional[str]]] = None
    timeout: Optional[float] = None
    runner: Optional[Callable[["Case", Path, "Context"], Result]] = None
    kind: str = ""                  # filled in after the run
    result: Optional[Result] = None

    def command(self, binary: str) -> str:
        return shlex.join([binary] + [str(a) for a in self.argv])


@dataclass
class Context:
    binary: str
    timeout: float
    root: Path                      # scratch root; each case gets root/cases/NNNN
    keep: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0


def limit_child():
    """Runs in the child before exec: cap the address space and file sizes, no core files."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def child_env(extra=None) -> dict:
    env = dict(os.environ)
    env["TERM"] = "dumb"
    for name in ("COLUMNS", "LINES", "TMUX"):
        env.pop(name, None)
    env.update(extra or {})
    return env


def read_capped(path: Path, head=256 * 1024, tail=64 * 1024) -> str:
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            data = f.read(head)
            if size > head + tail:
                f.seek(size - tail)
                data += b"\n[...]\n" + f.read(tail)
            elif size > head:
                data += f.read()
        return data.decode("utf-8", "replace")
    except OSError:
        return ""


def spawn(binary: str, argv, cwd: Path, tag: str = "out", extra_env=None) -> tuple:
    """Starts the binary in its own session with stdout/stderr to files in cwd; returns
    (Popen, stdout path, stderr path)."""
    out, err = cwd / (".%s.stdout" % tag), cwd / (".%s.stderr" % tag)
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.Popen([binary] + [str(a) for a in argv], cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=fo, stderr=fe, env=child_env(extra_env), preexec_fn=limit_child,
                                start_new_session=True)
    return proc, out, err


def kill_group(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def run_process(binary: str, argv, cwd: Path, timeout: float, tag: str = "out", extra_env=None) -> Result:
    start = time.monotonic()
    proc, out, err = spawn(binary, argv, cwd, tag, extra_env)
    res = Result(argv=list(argv))
    try:
        res.returncode = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        res.timed_out = True
        kill_group(proc)
        res.returncode = proc.returncode
    res.elapsed = time.monotonic() - start
    res.stdout, res.stderr = read_capped(out), read_capped(err)
    return res


def crash_marker(text: str) -> Optional[str]:
    for marker in CRASH_MARKERS:
        if marker in text:
            return marker
    return None


def is_crash(res: Result) -> bool:
    if crash_marker(res.stderr):
        return True
    if res.timed_out:
        return False
    rc = res.returncode
    return rc is not None and (rc < 0 or rc in CRASH_CODES)


def classify(case: Case, res: Result, damage: Optional[str]) -> str:
    if res.verdict:
        return res.verdict
    if is_crash(res):
        return "crash"
    if res.timed_out:
        return "hang"
    if damage:
        return "damaged"
    if res.returncode == 0:
        return "silent" if case.expect == "reject" else "accepted"
    if case.expect == "accept":
        return "wrong"
    return "clean" if res.stderr.strip() else "mute"


def run_case(case: Case, ctx: Context) -> Case:
    """Runs one case in a fresh scratch folder and fills in case.kind and case.result."""
    with ctx.lock:
        ctx.counter += 1
        number = ctx.counter
    slug = re.sub(r"[^A-Za-z0-9]+", "-", "%s-%s" % (case.category, case.name))[:60]
    scratch = ctx.root / "cases" / ("%05d-%s" % (number, slug))
    scratch.mkdir(parents=True)
    timeout = case.timeout or ctx.timeout
    try:
        if case.setup:
            case.setup(scratch)
        if case.runner:
            res = case.runner(case, scratch, ctx)
        else:
            res = run_process(ctx.binary, case.argv, scratch, timeout)
        damage = case.check(scratch, res) if case.check else None
        if damage and not res.note:
            res.note = damage if damage != "damaged" else ""
        case.result = res
        case.kind = classify(case, res, damage)
    except Exception as exc:  # a harness bug must not kill the whole run
        case.result = Result(argv=list(case.argv), stderr="harness error: %r" % (exc,))
        case.kind = "harness"
    finally:
        if not ctx.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return case


def ok_or_damaged(ok: bool, why: str = "damaged") -> Optional[str]:
    return None if ok else why


def cooked(stty: str) -> list:
    """What is wrong with the terminal modes in `stty -a` output (empty when icanon and echo are on)."""
    problems = []
    for flag in ("icanon", "echo"):
        if not re.search(r"(?<![-\w])%s(?![\w])" % flag, stty):
            problems.append("-" + flag if re.search(r"-%s(?![\w])" % flag, stty) else flag + " missing")
    return problems


def judge_terminal_case(res: Result, pane: str, scratch: Path, stty_file: str, still: list) -> bool:
    """The verdicts every tmux case shares. Reads the pane's text, the exit status csn's shell wrote
    to scratch/RC and the `stty -a` it wrote to scratch/STTY_FILE after csn; kills csn's processes
    still running. True when one applied: hang, crash, no stty, or the terminal left raw."""
    res.stdout, res.stderr = pane, pane.strip()[-600:]
    rc_text = (scratch / "RC").read_text().strip() if (scratch / "RC").exists() else ""
    res.returncode = int(rc_text) if rc_text.lstrip("-").isdigit() else None
    stty = (scratch / stty_file).read_text() if (scratch / stty_file).exists() else ""
    if still:
        res.timed_out = True
        res.verdict, res.note = "hang", "csn still running 5 s later"
        for pid in still:
            os.kill(pid, signal.SIGKILL)
    elif crash_marker(pane) or res.returncode in CRASH_CODES:
        res.verdict, res.note = "crash", "crash marker in the pane or exit status %s" % res.returncode
    elif not stty:
        res.verdict, res.note = "harness", "stty -a did not run after csn"
    elif cooked(stty):
        res.verdict, res.note = "damaged", "terminal left in raw mode after exit %s: %s" % (res.returncode, ", ".join(cooked(stty)))
    else:
        return False
    return True
