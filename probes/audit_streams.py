"""Python side of `kvbench audit-streams`: does "the current stream" leak between threads
in this Python stack (torch, and each engine accessor given as module:attr)?

Stdlib and torch only. Reads one JSON config from argv (--config), prints one JSON object on
stdout, exits 0 unless the script itself broke. Every probe judges behaviour across threads
(which stream each thread observes), never source text, and runs under a timeout.
"""
import argparse
import contextlib
import importlib
import inspect
import json
import os
import sys
import threading
import traceback

RESULTS = []


def last_line(exc):
    """The exception's last line as Python prints it, cut to its first physical line."""
    lines = [l for l in traceback.format_exception_only(type(exc), exc) if l.strip()]
    text = lines[-1].strip() if lines else repr(exc)
    return text.splitlines()[0].strip() if text else repr(exc)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def add(probe, target, outcome, evidence, fix=None, kind="audit"):
    RESULTS.append({"id": probe, "target": target, "outcome": outcome, "evidence": evidence, "fix": fix, "kind": kind})


def run_with_timeout(fn, timeout):
    """Runs fn in a daemon thread; returns (finished, error)."""
    box = {}

    def body():
        try:
            fn()
        except BaseException as exc:  # reported, not raised
            box["error"] = exc

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(timeout)
    return (not t.is_alive(), box.get("error"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    cfg = json.loads(ap.parse_args().config)
    timeout = float(cfg.get("timeout", 10))
    trials = int(cfg.get("trials", 10))
    info = {"python": sys.version.split()[0], "executable": sys.executable}

    # torch first, so its own functions are known before any user module can patch them.
    try:
        import torch
        import torch.cuda as tc
        originals = {"set_stream": tc.set_stream, "stream": tc.stream}
        info["torch"] = torch.__version__
        no_torch = None
    except BaseException as exc:
        info["torch"] = None
        no_torch = "torch is not importable: " + last_line(exc)

    import_errors = []
    for mod in cfg.get("imports", []):
        try:
            importlib.import_module(mod)
        except BaseException as exc:
            import_errors.append({"module": mod, "error": last_line(exc)})
    accessors, accessor_errors = [], []
    for spec in cfg.get("accessors", []):
        mod, _, attr = spec.partition(":")
        try:
            obj = importlib.import_module(mod)
        except BaseException as exc:
            accessor_errors.append({"accessor": spec, "error": "import failed: " + last_line(exc)})
            continue
        try:
            for part in attr.split("."):
                obj = getattr(obj, part)
        except AttributeError as exc:
            accessor_errors.append({"accessor": spec, "error": "no attribute: " + last_line(exc)})
            continue
        if not callable(obj):
            accessor_errors.append({"accessor": spec, "error": "%s is a %s, not callable" % (attr, type(obj).__name__)})
            continue
        accessors.append((spec, obj))
    if import_errors or accessor_errors:
        emit({**info, "importErrors": import_errors, "accessorErrors": accessor_errors, "probes": []})
        return
    if no_torch:
        emit({**info, "skip": no_torch, "probes": []})
        return

    if not torch.cuda.is_available():
        emit({**info, "skip": "torch sees no CUDA GPU (torch.cuda.is_available() is False)", "probes": []})
        return
    device = int(cfg.get("device", 0))
    ngpu = torch.cuda.device_count()
    if device >= ngpu:
        emit({**info, "skip": "no GPU %d for torch: it sees %d" % (device, ngpu), "probes": []})
        return
    torch.cuda.set_device(device)
    info["gpus"] = ngpu

    def probe(name, target, fn):
        finished, err = run_with_timeout(fn, timeout)
        if not finished:
            add(name, target, "error", "timed out after %gs" % timeout)
        elif err is not None:
            add(name, target, "error", last_line(err))

    torch_current = tc.current_stream
    probe("torch-baseline", "torch.cuda.current_stream", lambda: cross_thread("torch-baseline", "torch.cuda.current_stream", torch_current, torch, trials, timeout, device))
    probe("patch-detection", "torch.cuda.set_stream", lambda: patch_detection(torch, originals))
    for spec, fn in accessors:
        probe("accessor-isolation", spec, lambda: cross_thread("accessor-isolation", spec, fn, torch, trials, timeout, device))
        probe("bypass-desync", spec, lambda: bypass_desync(spec, fn, torch, device))
        probe("fresh-thread-device", spec, lambda: fresh_thread_device(spec, fn, torch, ngpu, device))
        probe("shared-stream-reentry", spec, lambda: shared_reentry(spec, fn, torch, trials, timeout, device))
    rep = cfg.get("reproduce")
    if rep == "nan":
        probe("reproduce-nan", "synthetic", lambda: reproduce_nan(torch, originals, trials, timeout, device))
    elif rep == "invalid-handle":
        probe("reproduce-invalid-handle", "synthetic", lambda: reproduce_invalid_handle(torch, originals, ngpu, timeout))
    emit({**info, "skip": None, "probes": RESULTS})


def same(a, b):
    return a is not None and b is not None and a.cuda_stream == b.cuda_stream and a.device == b.device


def show(s):
    return "none" if s is None else "0x%x@%s" % (s.cuda_stream, s.device)


FIX = "keep the current stream per thread (threading.local() or torch.cuda.current_stream itself), never in a module global"


def cross_thread(name, target, get, torch, trials, timeout, device):
    """Thread A holds torch.cuda.stream(S); thread B asks `get()` and compares with its own stream."""
    leaks, untracked, seen = 0, 0, None
    for _ in range(trials):
        s = torch.cuda.Stream(device=device)
        entered, done = threading.Event(), threading.Event()
        box = {}

        def a():
            torch.cuda.set_device(device)
            with torch.cuda.stream(s):
                box["a"] = get()
                entered.set()
                done.wait(timeout)

        def b():
            torch.cuda.set_device(device)
            entered.wait(timeout)
            box["b"] = get()
            box["b_own"] = torch.cuda.current_stream()
            done.set()

        ta, tb = threading.Thread(target=a), threading.Thread(target=b)
        ta.start(); tb.start(); tb.join(timeout); done.set(); ta.join(timeout)
        if "b" not in box:
            raise RuntimeError("thread B did not answer")
        if same(box["b"], s) and not same(box["b_own"], s):
            leaks += 1
            seen = seen or (box["b"], s, box["b_own"])
        if not same(box.get("a"), s):
            untracked += 1
    if leaks:
        b, s, own = seen
        add(name, target, "leak", "thread B saw thread A's stream %s instead of its own %s in %d/%d trials" % (show(b), show(own), leaks, trials), FIX)
    elif untracked:
        add(name, target, "hazard", "inside torch.cuda.stream(S) the same thread got another stream in %d/%d trials: it does not follow torch" % (untracked, trials), "return torch.cuda.current_stream() or track set_stream per thread")
    else:
        add(name, target, "pass", "thread B saw its own stream in %d/%d trials while thread A was inside torch.cuda.stream(S)" % (trials, trials))


def where(fn):
    mod = getattr(fn, "__module__", None) or "?"
    try:
        src = inspect.getsourcefile(fn) or "?"
    except TypeError:
        src = "builtin"
    return mod, src


def patch_detection(torch, originals):
    import torch.cuda as tc
    torch_dir = os.path.dirname(os.path.abspath(torch.__file__))
    found = []
    for name in ("set_stream", "stream"):
        fn = getattr(tc, name)
        mod, src = where(fn)
        own = fn is originals[name] or (mod.startswith("torch") and os.path.abspath(src).startswith(torch_dir))
        if not own:
            found.append("torch.cuda.%s replaced by %s (%s)" % (name, mod, src))
    if found:
        add("patch-detection", "torch.cuda.set_stream", "hazard", "; ".join(found), "a patched set_stream must keep its state per thread; run accessor-isolation on the accessor that reads it")
    else:
        add("patch-detection", "torch.cuda.set_stream", "pass", "torch.cuda.set_stream and torch.cuda.stream are torch's own")


def bypass_desync(spec, get, torch, device):
    """After switching streams by each route torch offers, does the accessor still agree with torch?"""
    torch.cuda.set_device(device)
    orig = torch.cuda.current_stream()
    s = torch.cuda.Stream(device=device)
    routes, desync = [], []

    def c_level(st):
        setter = getattr(torch.cuda, "_set_stream_by_id", None)
        if setter is not None:
            setter(stream_id=st.stream_id, device_index=st.device_index, device_type=st.device_type)
        else:
            torch._C._cuda_setStream(stream_id=st.stream_id, device_index=st.device_index, device_type=st.device_type)

    def check(route):
        routes.append(route)
        if not same(get(), torch.cuda.current_stream()):
            desync.append("%s (accessor %s, torch %s)" % (route, show(get()), show(torch.cuda.current_stream())))

    torch.cuda.set_stream(s)
    check("torch.cuda.set_stream")
    torch.cuda.set_stream(orig)
    try:
        with s:  # torch.Stream as a context manager (torch >= 2.3)
            check("with torch.Stream")
    except (AttributeError, TypeError):
        pass
    torch.cuda.set_stream(orig)
    c_level(s)
    check("torch's C-level setter")
    c_level(orig)
    torch.cuda.set_stream(orig)
    if desync:
        add("bypass-desync", spec, "hazard", "after a switch the accessor disagrees with torch: " + "; ".join(desync), "read torch.cuda.current_stream() instead of caching what set_stream was given")
    else:
        add("bypass-desync", spec, "pass", "agrees with torch after " + ", ".join(routes))


def fresh_thread_device(spec, get, torch, ngpu, device):
    if ngpu < 2:
        add("fresh-thread-device", spec, "skip", "needs 2 GPUs to tell a new thread's device from its parent's; torch sees %d" % ngpu)
        return
    k = device if device != 0 else ngpu - 1
    torch.cuda.set_device(k)
    box = {}
    t = threading.Thread(target=lambda: box.update(s=get()))
    t.start(); t.join()
    torch.cuda.set_device(device)
    s = box.get("s")
    if s is None or s.device.index != k:
        add("fresh-thread-device", spec, "hazard", "main thread on cuda:%d; a new thread's stream is %s" % (k, show(s)), "call torch.cuda.set_device in every connector thread before creating or reading streams")
    else:
        add("fresh-thread-device", spec, "pass", "main thread on cuda:%d; a new thread's stream is on cuda:%d" % (k, k))


def shared_reentry(spec, get, torch, trials, timeout, device):
    """Two threads enter and leave the same stream object, interleaved."""
    bad, example = 0, None
    for _ in range(trials):
        s = torch.cuda.Stream(device=device)
        e1, e2, x1 = threading.Event(), threading.Event(), threading.Event()
        box = {}

        def t1():
            torch.cuda.set_device(device)
            with torch.cuda.stream(s):
                e1.set(); e2.wait(timeout)
            x1.set()

        def t2():
            torch.cuda.set_device(device)
            e1.wait(timeout)
            with torch.cuda.stream(s):
                e2.set(); x1.wait(timeout)
                box["inside"] = get()
            box["after"] = get()
            box["own"] = torch.cuda.current_stream()

        a, b = threading.Thread(target=t1), threading.Thread(target=t2)
        a.start(); b.start(); a.join(timeout); b.join(timeout)
        if "after" not in box:
            raise RuntimeError("a thread did not finish")
        if not same(box["inside"], s) or not same(box["after"], box["own"]):
            bad += 1
            example = example or box
    if bad:
        add("shared-stream-reentry", spec, "leak", "after thread 1 left the shared stream, thread 2 (still inside it) saw %s and after leaving %s (own %s), %d/%d trials" % (show(example["inside"]), show(example["after"]), show(example["own"]), bad, trials), FIX)
    else:
        add("shared-stream-reentry", spec, "pass", "each thread kept its own view through %d interleaved enter/exit trials" % trials)


@contextlib.contextmanager
def patched_set_stream(torch, originals, per_thread):
    """The seed's bug (module global) or its fix (threading.local) behind torch.cuda.set_stream."""
    import torch.cuda as tc
    state = threading.local() if per_thread else type("G", (), {})()

    def set_stream(stream):
        state.stream = stream
        originals["set_stream"](stream)

    def current():
        return getattr(state, "stream", None) or torch.cuda.current_stream()

    tc.set_stream = set_stream
    try:
        yield current
    finally:
        tc.set_stream = originals["set_stream"]


def reproduce_nan(torch, originals, trials, timeout, device):
    """A connector thread's stream leaks; an op meant for the compute stream runs on it, before its input is written."""
    cycles = 50_000_000  # about 25-35 ms of spinning on the compute stream
    counts = {}
    for per_thread in (False, True):
        nans = 0
        with patched_set_stream(torch, originals, per_thread) as current:
            for _ in range(trials):
                torch.cuda.set_device(device)
                x = torch.full((1 << 20,), float("nan"), device="cuda:%d" % device)
                torch.cuda.synchronize()
                inside, release = threading.Event(), threading.Event()

                def connector():
                    torch.cuda.set_device(device)
                    with torch.cuda.stream(torch.cuda.Stream(device=device)):
                        inside.set(); release.wait(timeout)

                t = threading.Thread(target=connector)
                t.start(); inside.wait(timeout)
                torch.cuda._sleep(cycles)  # compute is busy, then writes the input
                x.fill_(1.0)
                with torch.cuda.stream(current()):  # what an all-reduce launched on "the current stream" does
                    y = x * 2
                torch.cuda.synchronize()
                release.set(); t.join(timeout)
                nans += int(torch.isnan(y).any().item())
        counts[per_thread] = nans
    leak_ok = counts[False] > 0
    fix_ok = counts[True] == 0
    ev = "op on the accessor's stream read unwritten input (NaN) in %d/%d trials with a module-global stream, %d/%d with threading.local()" % (counts[False], trials, counts[True], trials)
    add("reproduce-nan", "module global vs threading.local()", "pass" if leak_ok and fix_ok else "error", ev if leak_ok and fix_ok else ev + ": not reproduced", FIX, kind="reproduction")


def reproduce_invalid_handle(torch, originals, ngpu, timeout):
    """A stream made in a fresh thread (device 0) leaks to a worker on device 1; a raw CUDA call on it fails."""
    if ngpu < 2:
        add("reproduce-invalid-handle", "fresh thread's stream used on another device", "skip", "needs 2 GPUs; torch sees %d" % ngpu, kind="reproduction")
        return
    import ctypes
    import ctypes.util
    # The cudart torch itself loaded (same runtime, same error state), else any we can find.
    candidates = []
    try:
        with open("/proc/self/maps") as maps:
            candidates += sorted({l.split()[-1] for l in maps if "libcudart.so" in l})
    except OSError:
        pass
    candidates += ["libcudart.so.13", "libcudart.so.12"]
    lib = None
    for name in candidates:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        add("reproduce-invalid-handle", "fresh thread's stream used on another device", "error", "libcudart not found (looked in the process maps and the loader path)", kind="reproduction")
        return
    codes = {}
    for per_thread in (False, True):
        with patched_set_stream(torch, originals, per_thread) as current:
            torch.cuda.set_device(1)
            x = torch.zeros(1 << 16, device="cuda:1")
            made, release = threading.Event(), threading.Event()

            def connector():  # no set_device: a new thread is on device 0
                with torch.cuda.stream(torch.cuda.Stream()):
                    made.set(); release.wait(timeout)

            t = threading.Thread(target=connector)
            t.start(); made.wait(timeout)
            s = current()
            lib.cudaSetDevice(1)
            rc = lib.cudaMemsetAsync(ctypes.c_void_p(x.data_ptr()), 0, ctypes.c_size_t(x.numel() * 4), ctypes.c_void_p(s.cuda_stream))
            lib.cudaGetLastError()  # clear it, or torch reports it at its next launch
            torch.cuda.synchronize(1)
            codes[per_thread] = rc
            release.set(); t.join(timeout)
    ok = codes[False] != 0 and codes[True] == 0
    add("reproduce-invalid-handle", "fresh thread's stream used on another device", "pass" if ok else "error",
        "cudaMemsetAsync on the leaked stream returned %d with a module global, %d with threading.local()%s" % (codes[False], codes[True], "" if ok else ": not reproduced"), FIX, kind="reproduction")


if __name__ == "__main__":
    try:
        main()
    except BaseException as exc:
        emit({"fatal": last_line(exc), "probes": RESULTS})
    sys.stdout.flush()
    os._exit(0)  # a probe thread stuck past its timeout must not hold the process
