"""Faults: SIGKILL mid-training, two trainings into one folder, catchable signals, stale
temporary files, and SIGKILL mid-import. Each case runs several processes and judges itself."""

from __future__ import annotations

import signal
import time
from pathlib import Path

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


def lock_case(base, k, stagger):
    argv = tiny_train(base, steps=40)

    def runner(case, scratch, ctx):
        judge = Judge(argv)
        first = spawn(ctx.binary, argv, scratch, "first")
        time.sleep(stagger)
        second = spawn(ctx.binary, argv, scratch, "second")
        results = []
        for label, (proc, out, err) in (("first", first), ("second", second)):
            try:
                rc = proc.wait(timeout=90)
                results.append(judge.step(label, Result(argv, rc, "", read_capped(err))))
            except Exception:
                kill_group(proc)
                judge.fail("hang", "the %s training did not finish in 90 s" % label)
                return judge.done()
        refused = [r for r in results if r.returncode != 0 and "lock" in r.stderr.lower()]
        if not refused:
            judge.fail("damaged", "both trainings ran into the same folder; none refused with a lock error")
        check_loadable(judge, ctx.binary, scratch, resume=False)
        return judge.done()
    return Case(CATEGORY, "two-trainings-same-out-%d-stagger-%.2fs" % (k, stagger), argv, "accept", runner=runner, timeout=200)


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


def import_kill_case(base, k, delay):
    argv = ["data", "import", "--images", str(base.images), "--attributes", str(base.csv), "--conditions", "shape,tone",
            "--out", "out.safetensors.gz", "--triplets", "2000"]

    def runner(case, scratch, ctx):
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
    out += [stale_tmp_case(base, f) for f in ("model.safetensors.tmp-12345", "best.safetensors.tmp-12345", "config.json.tmp-99999")]
    out += [import_kill_case(base, k, round(rng.uniform(0.01, 0.25), 2)) for k in range(6)]
    return out
