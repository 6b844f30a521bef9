"""kvbench's connector harness: `python3 -m kvbench_connector.harness --config JSON`.

Runs the user's connector and the references beside one torch forward and writes raw samples as
JSON lines on file descriptor 3 (stdout stays the connector's own). kvbench (TypeScript) computes
every statistic. Lines: hello, fatal, design-error, ceiling, design, floor, done, beat, hook-timeout,
ready and peer-stopped (--gpus: one harness a GPU, each phase started on all of them together).
"""
import faulthandler
import json
import os
import statistics
import sys
import threading
import time

from .api import API_VERSION, KVCacheBlocks, KVConnectorRole, Request, SchedulerOutput, NewRequestData
from .hooks import HookClock, HookFailed, floor_ns
from .spec import BadInput, NoTorch, last_line, load_accessor, load_connector_class

_lock = threading.Lock()
_out = None


def report(obj):
    with _lock:
        _out.write(json.dumps(obj) + "\n")
        _out.flush()


class PeerStopped(Exception):
    """--gpus: kvbench said stop at a phase's start (another GPU's harness ended early)."""


def together(cfg, phase):
    """--gpus: say this harness is ready for `phase` and wait for kvbench's word on stdin, given
    when every GPU's harness is ready for the same phase, so that they copy and step at once."""
    if not cfg.get("together"):
        return
    report({"type": "ready", "phase": phase})
    word = sys.stdin.readline().strip()
    if word != "go":
        raise PeerStopped(phase)


def design_order(cfg):
    """The designs' names in the order they run: the user's connector first, then the references."""
    return [d["name"] for d in sorted(cfg["designs"], key=lambda d: d["role"] != "user")]


def load_designs(cfg, clock):
    """The user's connector first (imported, checked, dry-run), then the references, which need torch."""
    designs = []
    for d in sorted(cfg["designs"], key=lambda d: d["role"] != "user"):
        if d["role"] == "user":
            cls = load_connector_class(d["spec"], "--connector")
            try:
                dry_run(cls, d, cfg, clock)
            except HookFailed as e:  # that design stops; the references still run
                report({"type": "design-error", "design": d["name"], "hook": e.hook, "message": e.detail})
                continue
        else:
            try:
                cls = load_connector_class(d["spec"], "--compare-with")
            except NoTorch:
                import_torch(cfg["device"])  # says what is missing: torch itself, or CUDA
                raise
        designs.append((d, cls))
    return designs


def dry_run(cls, d, cfg, clock):
    """A throwaway scheduler-role instance walks one request through the scheduler hooks before any
    GPU work, so a hook that raises, blocks or returns the wrong shape is caught in seconds."""
    clock.start_design(d["name"])
    report({"type": "phase", "design": d["name"], "phase": "dry-run"})
    g = cfg["geometry"]
    sched = clock.call("__init__", cls, connector_config(d, cfg), KVConnectorRole.SCHEDULER)
    req = Request("dry-run", range(g["blocksPerRequest"] * g["blockSize"]), [-(i + 1) for i in range(g["blocksPerRequest"])], g["blockSize"])
    got = clock.call("get_num_new_matched_tokens", sched.get_num_new_matched_tokens, req, 0)
    if not (isinstance(got, tuple) and len(got) == 2 and (got[0] is None or isinstance(got[0], int)) and isinstance(got[1], bool)):
        raise HookFailed("get_num_new_matched_tokens", TypeError(f"returned {got!r}, expected (tokens: int | None, load_async: bool)"))
    blocks = list(range(g["blocksPerRequest"]))
    clock.call("update_state_after_alloc", sched.update_state_after_alloc, req, KVCacheBlocks(blocks), 0)
    out = SchedulerOutput(0, [NewRequestData("dry-run", blocks, 0, req)], {"dry-run": req.num_tokens}, set())
    clock.call("build_connector_meta", sched.build_connector_meta, out)
    clock.call("request_finished", sched.request_finished, req, blocks)
    if hasattr(sched, "shutdown"):
        clock.call("shutdown", sched.shutdown)


def connector_config(d, cfg):
    """kvbench's defaults (what the references need), under the user's --connector-config."""
    out = {"pool_blocks": cfg["poolBlocks"], "block_size": cfg["geometry"]["blockSize"], "device": cfg["device"]}
    if d["role"] == "user":
        out.update(cfg["connectorConfig"])
    return out


def import_torch(device):
    try:
        import torch
    except ImportError as e:
        raise NoTorch(f"the connector run needs torch with CUDA; {sys.executable} (Python {sys.version.split()[0]}) cannot import torch ({last_line(e)})")
    if not torch.cuda.is_available():
        raise NoTorch(f"the connector run needs torch with CUDA; torch {torch.__version__} here sees no CUDA GPU")
    if device >= torch.cuda.device_count():
        raise BadInput(f"--device {device}: torch sees {torch.cuda.device_count()} GPU(s)", "NO_GPU")
    torch.cuda.set_device(device)
    return torch


def _bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024


def check_memory(torch, cfg):
    """Needed against available, before anything is allocated: GPU, host, locked memory."""
    hint = "lower --batch or --prompt-tokens"
    free, _ = torch.cuda.mem_get_info(cfg["device"])
    if cfg["gpuBytesNeeded"] > free:
        raise BadInput(f"GPU {cfg['device']} needs {_bytes(cfg['gpuBytesNeeded'])} but has {_bytes(free)} free: {hint}", "TOO_BIG")
    pinned = cfg["pinnedBytes"]
    try:
        with open("/proc/meminfo") as f:
            avail = next(int(l.split()[1]) * 1024 for l in f if l.startswith("MemAvailable:"))
    except (OSError, StopIteration):
        avail = None
    together = cfg.get("pinnedBytesTogether", pinned)  # --gpus: every GPU's harness pins its pools at once
    if avail is not None and together > 0.9 * avail:
        every = " (every GPU's harness together)" if together != pinned else ""
        raise BadInput(f"the pinned pools need {_bytes(together)}{every} but the host has {_bytes(avail)} available: {hint}, or --compare-with none", "TOO_BIG")
    import resource
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if soft != resource.RLIM_INFINITY and pinned > soft:
        raise BadInput(f"locked-memory limit (ulimit -l) is {_bytes(soft)} but the run pins {_bytes(pinned)}: raise it with `ulimit -l unlimited` (containers: --ulimit memlock=-1), {hint}, or --compare-with none", "MEMLOCK_LIMIT")


def ceilings(torch, cfg, device):
    """One large copy each way between a device buffer and pinned memory, the median of several."""
    n = cfg["ceilingBytes"] // 2
    dev = torch.empty(n, dtype=torch.int16, device=f"cuda:{device}")
    host = torch.empty(n, dtype=torch.int16, pin_memory=True)
    out = {}
    for name, dst, src in (("d2h", host, dev), ("h2d", dev, host)):
        ms = []
        for _ in range(cfg["ceilingIterations"] + 1):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            dst.copy_(src, non_blocking=True)
            b.record()
            b.synchronize()
            ms.append(a.elapsed_time(b))
        out[name] = ms[1:]  # the first warms the path
    report({"type": "ceiling", "bytes": n * 2, "d2hMs": out["d2h"], "h2dMs": out["h2d"]})
    del dev, host
    return out


def run_phase(engine, cfg, plan, measured_steps, new_rate, ret_rate, fill=0, fill_rate=0.0):
    """Fill (load direction: prefixes saved first), warm-up, measured steps, drain."""
    step = 0
    if fill:
        while len(engine.saved_prefixes) < fill and step < plan["fillStepLimit"]:
            engine.step(step, False, fill_rate if engine.work.next_prefix < fill else 0.0, 0.0)
            step += 1
        if len(engine.saved_prefixes) < fill:
            raise HookFailed("get_finished", RuntimeError(f"only {len(engine.saved_prefixes)} of {fill} prefixes saved after {step} steps"))
    for _ in range(cfg["warmupSteps"]):
        engine.step(step, False, new_rate, ret_rate)
        step += 1
    engine.clock.start_design(engine.clock.design)
    for _ in range(measured_steps):
        engine.step(step, True, new_rate, ret_rate)
        step += 1
    drained = 0
    while engine.busy() and drained < plan["drainStepLimit"]:
        engine.step(step, False, 0.0, 0.0)
        step += 1
        drained += 1
    return drained


def main(argv):
    global _out
    cfg = json.loads(argv[argv.index("--config") + 1])
    _out = os.fdopen(3, "w")
    faulthandler.enable(file=sys.stderr)  # a segfault in the connector's extension prints where it was
    report({"type": "hello", "api": API_VERSION, "python": sys.version.split()[0], "executable": sys.executable})
    clock = HookClock(cfg["hookTimeoutS"], report)
    sys.path.append(cfg["examplesDir"])  # the references (and connectors built on them) import connectors.*
    try:
        accessor_spec = cfg["streamAccessor"]  # None: torch.cuda.current_stream, the default
        user_accessor = None if accessor_spec is None else load_accessor(accessor_spec)
        designs = load_designs(cfg, clock)
        torch = import_torch(cfg["device"])
        report({"type": "torch", "version": torch.__version__, "cuda": torch.version.cuda, "gpu": torch.cuda.get_device_name(cfg["device"])})
        accessor = user_accessor or torch.cuda.current_stream
        probe = accessor()
        if not isinstance(probe, torch.cuda.Stream):
            raise BadInput(f"--stream-accessor {accessor_spec or 'torch.cuda:current_stream'}: returned {type(probe).__name__}, not a torch.cuda.Stream")
        run_all(torch, cfg, designs, clock, accessor)
    except BadInput as e:
        report({"type": "fatal", "code": e.code, "message": str(e), "exit": 2})
        return 2
    except HookFailed as e:
        report({"type": "design-error", "design": clock.design, "hook": e.hook, "message": e.detail})
        return 1
    except KeyboardInterrupt:
        report({"type": "interrupted", "design": clock.design})
        return 130
    except PeerStopped as e:
        report({"type": "peer-stopped", "phase": str(e)})
        return 1
    except Exception as e:  # kvbench's own fault, or torch's: named in one line, the traceback on stderr
        import traceback
        traceback.print_exc()
        report({"type": "fatal", "code": "HARNESS_FAILED", "message": f"{type(e).__name__} in design {clock.design}: {last_line(e)}", "exit": 1})
        return 1
    report({"type": "done"})
    return 0


def run_all(torch, cfg, designs, clock, accessor):
    from .engine import Engine, Workload
    from .forward import Forward
    from .rig import Rig

    plan = dict(cfg["plan"], returning="cycle" if cfg["direction"] == "load" else "newest")
    check_memory(torch, cfg)
    rig = Rig(torch, cfg["geometry"], cfg["device"])
    fwd = Forward(torch, rig, accessor, cfg["measuredSteps"])
    together(cfg, "ceiling")
    ceil = ceilings(torch, cfg, cfg["device"])
    report({"type": "floor", "ns": floor_ns(clock)})
    report({"type": "forward", "graphs": fwd.graphs, "note": fwd.graph_note})
    load = cfg["direction"] == "load"
    g = cfg["geometry"]
    request_bytes = (g["blocksPerRequest"] - (1 if load else 0)) * g["layers"] * g["parts"] * rig.elems * 2
    ceiling_gbps = cfg["ceilingBytes"] / (statistics.median(ceil["h2d" if load else "d2h"]) * 1e6)
    reference = {}

    def calibrate(rate):
        eng = Engine(torch, rig, fwd, clock, plan, Workload())
        eng.saved_prefixes.extend(range(plan["fillRequests"]))
        for i in range(cfg["warmupSteps"] + plan["calibrationSteps"]):
            eng.step(i, i >= cfg["warmupSteps"], 0.0 if load else rate, rate if load else 0.0)
        return statistics.median(eng.s["stepWallMs"])

    def baseline(name, rate):
        together(cfg, name)
        eng = Engine(torch, rig, fwd, clock, plan, Workload())
        clock.start_design(name)
        eng.saved_prefixes.extend(range(plan["fillRequests"]))  # recomputed, never loaded
        run_phase(eng, cfg, plan, cfg["measuredSteps"], 0.0 if load else rate, rate if load else 0.0)
        return emit(name, "baseline", None, eng, fwd, reference, 0)

    # Calibration: the connector-off step sets the offered rate, 1.15 x the ceiling by default. The
    # arrivals' own KV writes lengthen the step, so it is measured again with them.
    rate = 0.0
    together(cfg, "calibrate")
    for _ in range(2):
        cal = calibrate(rate)
        rate = plan["offeredFactor"] * ceiling_gbps * 1e6 * cal / request_bytes
    step_ms = cal
    baseline("off-before", rate)
    report({"type": "offered", "requestsPerStep": rate, "requestBytes": request_bytes, "stepMs": step_ms, "ceilingGBps": ceiling_gbps})
    loaded = {d["name"]: (d, cls) for d, cls in designs}
    for name in design_order(cfg):
        together(cfg, name)  # a design that failed its dry run here still passes its start with the others
        if name not in loaded:
            continue
        d, cls = loaded[name]
        clock.start_design(d["name"])
        report({"type": "phase", "design": d["name"], "phase": "run"})
        try:
            sched = clock.call("__init__", cls, connector_config(d, cfg), KVConnectorRole.SCHEDULER)
            worker = clock.call("__init__", cls, connector_config(d, cfg), KVConnectorRole.WORKER)
            clock.call("register_kv_caches", worker.register_kv_caches, rig.kv_caches)
            eng = Engine(torch, rig, fwd, clock, plan, Workload(), (sched, worker))
            new_rate = 0.0 if load else rate
            ret_rate = rate if load else plan["returningPerStep"]
            drained = run_phase(eng, cfg, plan, cfg["measuredSteps"], new_rate, ret_rate, plan["fillRequests"] if load else 0, rate)
            emit(d["name"], d["role"], d["spec"], eng, fwd, reference, drained)
        except HookFailed as e:
            report({"type": "design-error", "design": d["name"], "hook": e.hook, "message": e.detail})
        finally:
            for who in (locals().get("worker"), locals().get("sched")):
                if who is not None and hasattr(who, "shutdown"):
                    try:
                        who.shutdown()
                    except Exception:
                        pass
            worker = sched = None
            torch.cuda.synchronize()
    baseline("off-after", rate)


def emit(name, role, spec, eng, fwd, reference, drained):
    torch = eng.t
    torch.cuda.synchronize()
    n = len(eng.s["checks"])
    sums = fwd.sums[:n].tolist()
    nonfinite = fwd.nonfinite[:n].tolist()
    if "sum" not in reference and sums and not any(nonfinite):
        reference["sum"] = statistics.median(sums)
    ref = reference.get("sum")
    wrong = sum(1 for s, bad in zip(sums, nonfinite) if bad == 0 and ref is not None and abs(s - ref) > 1e-3 * abs(ref))
    bad_chunks = int(sum(int(b) for b, _ in eng.s["verify"]))
    g = eng.rig.geo
    checked_chunks = sum(c for _, c in eng.s["verify"]) * g["layers"] * g["parts"]
    s = eng.s
    line = {
        "type": "design", "name": name, "role": role, "spec": spec,
        "stepGpuMs": s["stepGpuMs"], "stepWallMs": s["stepWallMs"], "blockedUs": s["blockedUs"],
        "hooksNs": eng.clock.samples, "saveBytes": s["saveBytes"], "loadBytes": s["loadBytes"], "windowMs": s["windowMs"],
        "timeToReadyMs": s["timeToReadyMs"], "requests": dict(s["requests"]),
        "verify": {"requests": len(s["verify"]), "chunksChecked": checked_chunks, "chunksBad": bad_chunks},
        "outputs": {"steps": n, "nonFinite": sum(1 for b in nonfinite if b), "wrong": wrong, "streams": fwd.stream_report()},
        "drain": {"steps": drained, "undrained": len(eng.remote) + len(eng.held)},
    }
    fwd.streams = {}
    report(line)
    return line


if __name__ == "__main__":
    sys.exit(main(sys.argv))
