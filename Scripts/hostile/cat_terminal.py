"""`explore` in a real terminal (tmux): signals, hostile metrics, tiny panes, junk keys. After
csn exits, `stty -a` must show the terminal back in cooked mode (icanon, echo)."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

from common import Case, Result, judge_terminal_case

CATEGORY = "terminal"
SOCKET = "hostile"
METRICS = {
    "1e300-and-short-rows": '{"step":3,"triplet":1e300,"validation":[1e300,-1e300],"validation_mean":1e300}\n'
                            '{"step":4,"validation":[0.5]}\n{"step":5,"validation":[]}\n',
    "nan-strings": '{"step":3,"triplet":"NaN","validation":["NaN","nan"],"validation_mean":"NaN"}\n',
    "binary-junk": bytes(range(256)) * 32,
    "10k-lines": "".join('{"step":%d,"triplet":%g,"validation":[0.5,0.6],"validation_mean":0.55}\n' % (i, 1.0 / (i + 1))
                         for i in range(10000)),
    "escape-in-values": '{"step":3,"note":"\\u001b[2J\\u001b]0;pwned\\u0007","validation":[0.5,0.5]}\n',
}


def tmux(*args, check=False, timeout=10):
    return subprocess.run(["tmux", "-L", SOCKET] + list(args), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=check)


def csn_pids(binary: str, run: Path) -> list:
    """The csn processes exploring this run (pgrep -f also finds tmux and sh, whose argv holds the command)."""
    found = subprocess.run(["pgrep", "-f", "--", "explore %s" % run], capture_output=True, text=True).stdout.split()
    pids = []
    for pid in found:
        try:
            argv0 = Path("/proc/%s/cmdline" % pid).read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        if argv0 == binary:
            pids.append(int(pid))
    return pids


def explore_case(name, setup_run, size, action, extra_args=()):
    """action(session, pids, scratch) does the hostile thing (a signal, keys) to a running explore."""
    def runner(case, scratch, ctx):
        run = scratch / "RUN"
        setup_run(run)
        session = "h%d-%s" % (os.getpid(), scratch.name[:5])
        inner = "%s explore %s %s; echo $? > %s; stty -a > %s; sleep 120" % (
            shlex.quote(ctx.binary), shlex.quote(str(run)), " ".join(map(shlex.quote, extra_args)),
            shlex.quote(str(scratch / "RC")), shlex.quote(str(scratch / "OUT")))
        res = Result(argv=case.argv)
        w, h = size
        try:
            # remain-on-exit keeps the pane (and what it shows) even if a stray key kills the shell.
            tmux("new-session", "-d", "-s", session, "-x", str(w), "-y", str(h), "sh -c %s" % shlex.quote(inner),
                 ";", "set-option", "-w", "-t", session, "remain-on-exit", "on", check=True)
            pids = []
            end = time.monotonic() + 10
            while not pids and time.monotonic() < end:
                time.sleep(0.1)
                pids = csn_pids(ctx.binary, run)
            if not pids:
                res.verdict, res.note = "harness", "csn explore did not start (or exited at once)"
                res.stderr = tmux("capture-pane", "-p", "-t", session).stdout
                return res
            time.sleep(1.5)   # let it draw its first frames
            start = time.monotonic()
            action(session, pids, scratch)
            while csn_pids(ctx.binary, run) and time.monotonic() - start < 5:
                time.sleep(0.05)
            res.elapsed = time.monotonic() - start
            still = csn_pids(ctx.binary, run)
            time.sleep(0.3)
            pane = tmux("capture-pane", "-p", "-S", "-200", "-t", session).stdout
            if not judge_terminal_case(res, pane, scratch, "OUT", still):
                res.verdict = "accepted"
                res.note = "exit %s after %.1f s" % (res.returncode, res.elapsed)
        finally:
            tmux("kill-session", "-t", session)
        return res
    argv = ["explore", "RUN"] + list(extra_args)
    return Case(CATEGORY, name, argv, "accept", runner=runner, timeout=40)


def send_signal(sig):
    def action(session, pids, scratch):
        for pid in pids:
            os.kill(pid, sig)
    return action


def keys(*sequences, resize=None):
    def action(session, pids, scratch):
        if resize:
            tmux("resize-window", "-t", session, "-x", str(resize[0]), "-y", str(resize[1]))
            time.sleep(0.5)
        for seq in sequences:
            if isinstance(seq, bytes):
                tmux("send-keys", "-t", session, "-H", *["%02x" % b for b in seq])
            else:
                tmux("send-keys", "-t", session, "-l", seq)
            time.sleep(0.05)
        if sequences:
            # Leave whatever mode the junk opened (a search box takes 'q' as text), then quit.
            time.sleep(0.2)
            tmux("send-keys", "-t", session, "Escape")
            time.sleep(0.4)
        tmux("send-keys", "-t", session, "-l", "q")
    return action


def cases(rng, base) -> list:
    if shutil.which("tmux") is None:
        return [Case(CATEGORY, "tmux-missing", ["explore"], "accept",
                     runner=lambda c, s, x: Result(argv=[], verdict="harness", note="tmux is not installed"))]

    def plain(run: Path):
        base.copy_run(run)

    def metrics(text):
        def fn(run: Path):
            base.copy_run(run)
            with open(run / "metrics.jsonl", "ab") as f:
                f.write(text if isinstance(text, bytes) else text.encode())
        return fn
    out = []
    sizes = [(120, 40), (20, 5), (80, 24)]
    for sig in (signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM, signal.SIGINT):
        for size in sizes:
            out.append(explore_case("%s-%dx%d" % (signal.Signals(sig).name, *size), plain, size, send_signal(sig)))
    for label, text in METRICS.items():
        for size in sizes[:2]:
            out.append(explore_case("metrics-%s-q-%dx%d" % (label, *size), metrics(text), size, keys()))
    out.append(explore_case("metrics-1e300-q-2x2", metrics(METRICS["1e300-and-short-rows"]), (2, 2), keys()))
    out.append(explore_case("last-q-20x5", plain, (20, 5), keys(), ["--last"]))
    out.append(explore_case("ascii-q-20x5", metrics(METRICS["1e300-and-short-rows"]), (20, 5), keys(), ["--ascii"]))
    out.append(explore_case("resize-to-20x5-then-q", metrics(METRICS["1e300-and-short-rows"]), (120, 40), keys(resize=(20, 5))))
    out.append(explore_case("resize-to-1x1-then-q", plain, (80, 24), keys(resize=(1, 1))))
    # Random bytes, minus the ones that mean "quit" or raise a signal (they would end the test early).
    allowed = [b for b in range(256) if b not in b"qQ\x03\x04\x1a\x1c\x1b"]
    junk = [bytes(rng.choice(allowed) for _ in range(64)) for _ in range(3)]
    out.append(explore_case("junk-keys-then-q", plain, (80, 24), keys(*junk)))
    out.append(explore_case("escape-sequences-then-q", plain, (80, 24),
                            keys(b"\x1b[A\x1b[B\x1b[5~\x1b[6~\x1b[200~paste\x1b[201~", b"\x1b[<0;10;5M\x1b[M !!", b"\x1b\x1b\x1b", "/", "\x7f" * 5)))
    out.append(explore_case("tab-and-arrows-20x5", plain, (20, 5), keys("\t\t\t", b"\x1b[C\x1b[C\x1b[D", "?")))
    return out
