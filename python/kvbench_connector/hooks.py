"""Calling the connector's hooks: host time of every call, the hook that raised, and a watchdog
that ends the process when one blocks past --hook-timeout (kvbench then names it)."""
import os
import threading
import time

from .spec import last_line


class HookFailed(Exception):
    def __init__(self, hook, exc):
        super().__init__(f"{hook} raised {last_line(exc)}")
        self.hook = hook
        self.detail = last_line(exc)


class HookClock:
    """One per process. samples[hook] holds host nanoseconds per call for the current design."""

    def __init__(self, timeout_s, report):
        self.timeout_ns = int(timeout_s * 1e9)
        self.report = report
        self.samples = {}
        self.total_ns = 0  # all hooks of the design: blocked time per step is its difference
        self.design = None
        self._current = None  # (hook, start ns): read by the watchdog thread
        threading.Thread(target=self._watch, name="kvbench-watchdog", daemon=True).start()

    def start_design(self, design):
        self.design = design
        self.samples = {}
        self.total_ns = 0

    def call(self, hook, fn, *args):
        t0 = time.perf_counter_ns()
        self._current = (hook, t0)
        try:
            out = fn(*args)
        except Exception as e:
            self._current = None
            raise HookFailed(hook, e) from e
        t1 = time.perf_counter_ns()
        self._current = None
        self.samples.setdefault(hook, []).append(t1 - t0)
        self.total_ns += t1 - t0
        return out

    def _watch(self):
        beat = time.monotonic()
        while True:
            time.sleep(0.02)
            cur = self._current
            if cur is not None and time.perf_counter_ns() - cur[1] > self.timeout_ns:
                self.report({"type": "hook-timeout", "design": self.design, "hook": cur[0], "timeoutS": self.timeout_ns / 1e9})
                os._exit(4)
            if time.monotonic() - beat > 1.0:  # kvbench ends a child that stops beating (a hook holding the GIL)
                beat = time.monotonic()
                self.report({"type": "beat", "design": self.design, "hook": cur[0] if cur else None})


def floor_ns(clock, calls=20000):
    """What the harness itself adds: host time it reports for a hook that returns at once."""
    saved, design, total = clock.samples, clock.design, clock.total_ns
    clock.samples = {}

    def noop(*_):
        return None

    for _ in range(calls):
        clock.call("noop", noop, None)
    out = clock.samples["noop"]
    clock.samples, clock.design, clock.total_ns = saved, design, total
    return out
