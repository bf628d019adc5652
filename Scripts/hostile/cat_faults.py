"""Faults: SIGKILL mid-training, two trainings into one folder, catchable signals, stale
temporary files, and SIGKILL mid-import. Each case runs several processes and judges itself."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import fixtures
import formats
from common import Case, Result, crash_marker, kill_group, read_capped, run_process, spawn

CATEGORY = "faults"


def tiny_train(base, out="RUN", steps=1000, extra=()):
    return ["train", "--headless", "--data", str(base.dataset), "--steps", str(steps), "--batch", "8", "--widths", "4,8,8",
            "--dim", "8", "--checkpoint-every", "1", "--validate-every", "5", "--out", out] + list(extra)


class Judge:
    """Collects the processes of one case and the first verdict worth reporting."""

    def __init__(self, argv):
        self.res = Result(argv=list(argv))
        self.log = []

    def step(self, label, res):
        self.log.append("[%s: %s] %s" % (label, "timeout" if res.timed_out else "exit %s" % res.returncode, res.stderr.strip()[:300]))
        if crash_marker(res.stderr) or (res.returncode is not None and not res.timed_out and
                                        (res.returncode < 0 and res.returncode != -signal.SIGKILL)):
            self.fail("crash", "%s crashed" % label)
        return res

    def fail(self, verdict, note):
        if self.res.verdict in (None, "accepted", "clean"):
            self.res.verdict, self.res.note = verdict, note

    def done(self, default="accepted", rc=None):
        self.res.stderr = " ".join(self.log)
        self.res.returncode = rc
        if self.res.verdict is None:
            self.res.verdict = default
        return self.res


def wait_for(path: Path, proc, limit=20.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if path.exists():
            return True
        if proc.poll() is not None:
            return path.exists()
        time.sleep(0.02)
    return False


def saved_step(run: Path):
    try:
        return formats.read_archive(run / "model.safetensors").values("step")[0]
    except Exception:
        return None


def check_loadable(judge, binary, scratch, run="RUN", resume=True):
    """eval must succeed and a resume must proceed, when the folder holds a checkpoint."""
    if not (scratch / run / "model.safetensors").exists():
        res = judge.step("eval (no checkpoint saved)", run_process(binary, ["eval", run], scratch, 30, "eval"))
        if res.timed_out:
            judge.fail("hang", "eval of a folder without a checkpoint hung")
        return
    res = judge.step("eval", run_process(binary, ["eval", run], scratch, 30, "eval"))
    if res.timed_out:
        judge.fail("hang", "eval hung")
    elif res.returncode != 0:
        judge.fail("damaged", "the run no longer loads: " + res.stderr.strip()[:150])
    if not resume:
        return
    step = saved_step(scratch / run)
    if step is None:
        judge.fail("damaged", "model.safetensors exists but cannot be decoded")
        return
    res = judge.step("resume", run_process(binary, ["train", "--headless", "--resume", run, "--steps", str(step + 3)],
                                           scratch, 60, "resume"))
    if res.timed_out:
        judge.fail("hang", "the resume hung")
    elif res.returncode != 0:
        judge.fail("damaged", "the resume failed: " + res.stderr.strip()[:150])


def sigkill_case(base, k, delay):
    argv = tiny_train(base)

    def runner(case, scratch, ctx):
        judge = Judge(argv)
        proc, out, err = spawn(ctx.binary, argv, scratch, "train")
        time.sleep(delay)
        kill_group(proc)
        judge.step("train (SIGKILLed after %.2f s)" % delay, Result(argv, proc.returncode, "", read_capped(err)))
        check_loadable(judge, ctx.binary, scratch)
        return judge.done()
    return Case(CATEGORY, "sigkill-%02d-at-%.2fs" % (k, delay), argv, "accept", runner=runner)


def signal_case(base, sig, extra_delay):
    argv = tiny_train(base)
    name = signal.Signals(sig).name

    def runner(case, scratch, ctx):
        judge = Judge(argv)
        proc, out, err = spawn(ctx.binary, argv, scratch, "train")
        if not wait_for(scratch / "RUN" / "model.safetensors", proc):
            kill_group(proc)
            judge.fail("harness", "no checkpoint appeared within 20 s")
            return judge.done()
        time.sleep(extra_delay)
        sent = time.monotonic()
        proc.send_signal(sig)
        try:
            rc = proc.wait(timeout=10)
            res = Result(argv, rc, "", read_capped(err), elapsed=time.monotonic() - sent)
            if rc < 0 and rc != -sig:
                judge.fail("crash", "died of signal %d after %s" % (-rc, name))
            elif crash_marker(res.stderr):
                judge.fail("crash", "crash marker after %s" % name)
            judge.log.append("[train: %s after %.1f s] %s" % ("signal %d" % -rc if rc < 0 else "exit %d" % rc, res.elapsed,
                                                            res.stderr.strip()[-200:]))
        except Exception:
            kill_group(proc)
            judge.fail("hang", "still running 10 s after %s" % name)
            return judge.done()
        check_loadable(judge, ctx.binary, scratch)
        return judge.done(rc=rc)
    return Case(CATEGORY, "%s-after-checkpoint+%.1fs" % (name, extra_delay), argv, "accept", runner=runner, timeout=60)


def lock_case(base, k, stagger, second_resumes=False):
    """Two processes on one run folder at once (long runs, so both are alive): the later one
    (or whichever loses the race) must refuse, naming the lock; the survivor is then stopped
    with SIGTERM and the run must load."""
    argv = tiny_train(base, steps=100000)
    other = ["train", "--headless", "--resume", "RUN", "--steps", "100000"] if second_resumes else argv

    def runner(case, scratch, ctx):
        judge = Judge(argv)
        procs = {"first": spawn(ctx.binary, argv, scratch, "first")}
        if second_resumes and not wait_for(scratch / "RUN" / "model.safetensors", procs["first"][0]):
            kill_group(procs["first"][0])
            judge.fail("harness", "no checkpoint appeared within 20 s")
            return judge.done()
        time.sleep(stagger)
        procs["second"] = spawn(ctx.binary, other, scratch, "second")
        end = time.monotonic() + 30
        ended = []
        while not ended and time.monotonic() < end:
            time.sleep(0.05)
            ended = [label for label, (p, _, _) in procs.items() if p.poll() is not None]
        if not ended:
            judge.fail("damaged", "both processes were still writing the folder after 30 s; neither refused")
        for label in ended:
            p, _, err = procs[label]
            res = judge.step(label, Result(argv, p.returncode, "", read_capped(err)))
            if res.returncode == 0 or "lock" not in res.stderr.lower():
                judge.fail("damaged", "the %s process ended (exit %s) without refusing because of the lock" % (label, res.returncode))
        for label, (p, _, err) in procs.items():
            if label in ended:
                continue
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
                judge.step(label + " (after SIGTERM)", Result(argv, p.returncode, "", read_capped(err)))
            except Exception:
                kill_group(p)
                judge.fail("hang", "the %s process ignored SIGTERM for 10 s" % label)
        check_loadable(judge, ctx.binary, scratch, resume=False)
        return judge.done()
    what = "train-and-resume" if second_resumes else "two-trainings"
    return Case(CATEGORY, "%s-same-out-%d-stagger-%.2fs" % (what, k, stagger), other, "accept", runner=runner, timeout=120)


def stale_tmp_case(base, fname):
    argv = ["train", "--headless", "--resume", "RUN", "--steps", "8"]

    def runner(case, scratch, ctx):
        judge = Judge(argv)
        run = base.copy_run(scratch / "RUN")
        (run / fname).write_bytes(b"half-written junk")
        res = judge.step("resume", run_process(ctx.binary, argv, scratch, 60, "resume"))
        if res.timed_out:
            judge.fail("hang", "the resume hung")
        elif res.returncode != 0:
            judge.fail("wrong", "the resume refused: " + res.stderr.strip()[:150])
        elif (run / fname).exists() and fname.startswith("model.safetensors"):
            judge.fail("damaged", "the stale %s is still there after the resume" % fname)
        check_loadable(judge, ctx.binary, scratch, resume=False)
        return judge.done(rc=res.returncode)
    return Case(CATEGORY, "stale-" + fname, argv, "accept", runner=runner, timeout=120)


_big_lock = threading.Lock()


def big_images(base) -> Path:
    """400 64x64 PNGs and their CSV (made once), so that an import takes long enough to interrupt."""
    folder = base.dir / "big"
    with _big_lock:
        if not (folder / "attrs.csv").exists():
            rows = fixtures.write_images(folder / "images", count=400, size=64)
            fixtures.write_csv(folder / "attrs.csv", rows)
    return folder


def import_kill_case(base, k, delay):
    big = base.dir / "big"
    argv = ["data", "import", "--images", str(big / "images"), "--attributes", str(big / "attrs.csv"), "--conditions",
            "shape,tone", "--out", "out.safetensors.gz", "--size", "64", "--triplets", "20000"]

    def runner(case, scratch, ctx):
        big_images(base)
        judge = Judge(argv)
        proc, out, err = spawn(ctx.binary, argv, scratch, "import")
        time.sleep(delay)
        kill_group(proc)
        judge.step("import (SIGKILLed after %.2f s)" % delay, Result(argv, proc.returncode, "", read_capped(err)))
        if (scratch / "out.safetensors.gz").exists():
            res = judge.step("stats", run_process(ctx.binary, ["data", "stats", "--data", "out.safetensors.gz"], scratch, 30, "stats"))
            if res.returncode != 0:
                judge.fail("damaged", "a killed import left a broken out.safetensors.gz: " + res.stderr.strip()[:150])
        return judge.done()
    return Case(CATEGORY, "import-sigkill-%d-at-%.2fs" % (k, delay), argv, "accept", runner=runner)


def cases(rng, base) -> list:
    out = [sigkill_case(base, k, round(rng.uniform(0.05, 4.0), 2)) for k in range(16)]
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        for delay in (0.0, round(rng.uniform(0.2, 1.5), 1)):
            out.append(signal_case(base, sig, delay))
    out += [lock_case(base, k, s) for k, s in enumerate((0.0, 0.05, 0.5))]
    out += [lock_case(base, 3, 0.3, second_resumes=True)]
    out += [stale_tmp_case(base, f) for f in ("model.safetensors.tmp-12345", "best.safetensors.tmp-12345", "config.json.tmp-99999")]
    out += [import_kill_case(base, k, round(rng.uniform(0.02, 1.0), 2)) for k in range(6)]
    return out
