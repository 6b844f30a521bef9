"""One design's run: kvbench's scheduler and worker loop around the forward, calling the
connector's hooks in vLLM's order. Returns raw samples; statistics are kvbench's (TypeScript)."""
import collections
import time

from .api import (AttentionMetadata, ForwardContext, KVCacheBlocks, KVConnectorOutput, NewRequestData,
                  Request, SchedulerOutput)
from .hooks import HookFailed


class ProtocolError(Exception):
    pass


class Req:
    """kvbench's own record of a request around the api.Request the connector sees."""

    def __init__(self, rid, prefix, nblocks, block_size, returning):
        hashes = [prefix * 1_000_003 + i for i in range(nblocks)]
        n = nblocks * block_size
        self.api = Request(rid, range(prefix * n, (prefix + 1) * n), hashes, block_size)
        self.prefix = prefix
        self.returning = returning
        self.blocks = None
        self.ids = None  # GPU tensor of self.blocks
        self.ext = 0
        self.t_load = None
        self.sync_load = False


class Workload:
    """Arrivals: new prompts (saved) and returning prefixes (loaded and checked)."""

    def __init__(self):
        self.credit = 0.0
        self.ret_credit = 0.0
        self.next_prefix = 0

    def fresh(self):
        p = self.next_prefix
        self.next_prefix += 1
        return p


class Engine:
    def __init__(self, torch, rig, forward, clock, plan, workload, connector=None, on_output=None):
        self.t, self.rig, self.fwd, self.clock, self.plan = torch, rig, forward, clock, plan
        self.work = workload
        self.sched, self.worker = connector or (None, None)
        self.on_output = on_output
        g = rig.geo
        self.bs = g["blockSize"]
        self.bpr = g["blocksPerRequest"]
        self.chunk_bytes_block = g["layers"] * g["parts"] * rig.elems * 2  # one block, all layers and parts
        self.free = list(range(g["gpuBlocks"] - 1, rig.context_blocks - 1, -1))  # LIFO: freed blocks are reused first
        self.waiting = collections.deque()
        self.remote = {}
        self.ready = []
        self.held = {}
        self.prev_finished = set()
        self.saved_prefixes = collections.deque(maxlen=max(1, plan["fillRequests"]))  # recent prefixes whose save finished
        self.n = 0
        self.s = self._fresh_samples()

    @staticmethod
    def _fresh_samples():
        return {"stepGpuMs": [], "stepWallMs": [], "blockedUs": [], "timeToReadyMs": [], "saveBytes": 0, "loadBytes": 0,
                "requests": collections.Counter(), "checks": [], "verify": [], "windowMs": 0.0}

    # --- the scheduler -------------------------------------------------------------------------
    def arrive(self, returning_rate, new_rate):
        w = self.work
        w.credit += new_rate
        while w.credit >= 1.0:
            w.credit -= 1.0
            if len(self.waiting) >= self.plan["maxWaiting"]:
                self.s["requests"]["notOfferedQueueFull"] += 1
                continue
            self.waiting.append(Req(f"r{self.n}", w.fresh(), self.bpr, self.bs, False))
            self.n += 1
            self.s["requests"]["arrived"] += 1
        w.ret_credit += returning_rate
        while w.ret_credit >= 1.0 and self.saved_prefixes:
            w.ret_credit -= 1.0
            if self.plan["returning"] == "newest":  # save: the prefix saved last, still in any store
                prefix = self.saved_prefixes[-1]
            else:  # load: every filled prefix in turn
                prefix = self.saved_prefixes[0]
                self.saved_prefixes.rotate(-1)
            self.waiting.append(Req(f"r{self.n}", prefix, self.bpr, self.bs, True))
            self.n += 1
            self.s["requests"]["returning"] += 1

    def _hook(self, who, name, *args):
        return self.clock.call(name, getattr(who, name), *args)

    def schedule(self, step):
        computing = list(self.ready)
        self.ready = []
        bs = self.bs
        still = collections.deque()
        while self.waiting:
            req = self.waiting.popleft()
            ext, is_async = 0, False
            if self.sched is not None:
                got = self._hook(self.sched, "get_num_new_matched_tokens", req.api, req.api.num_computed_tokens)
                if not (isinstance(got, tuple) and len(got) == 2):
                    raise HookFailed("get_num_new_matched_tokens", ProtocolError(f"returned {got!r}, expected (tokens, load_async)"))
                ext, is_async = got
                if ext is None:  # the lookup is still running: ask again next step
                    self.s["requests"]["lookupPending"] += 1
                    still.append(req)
                    continue
                if not isinstance(ext, int) or ext < 0 or ext > req.api.num_tokens:
                    raise HookFailed("get_num_new_matched_tokens", ProtocolError(f"returned {ext!r} tokens for a {req.api.num_tokens}-token prompt"))
            if len(self.free) < self.bpr:
                self.s["requests"]["waitedForBlocks"] += 1
                still.append(req)
                still.extend(self.waiting)
                self.waiting.clear()
                break
            req.blocks = [self.free.pop() for _ in range(self.bpr)]
            req.ids = self.t.tensor(req.blocks, dtype=self.t.int64).pin_memory().to(self.rig.kv_all.device, non_blocking=True)
            if self.sched is None and req.returning and self.plan["returning"] == "cycle":
                # load direction, connector off: the prefix counts as already there, so the forward
                # computes what it computes beside a connector that loaded it (nothing is checked)
                ext = (self.bpr - 1) * bs
            req.ext = ext
            if req.returning and ext == 0 and self.sched is not None:
                self.s["requests"]["prefixMisses"] += 1
            if self.sched is not None:
                self._hook(self.sched, "update_state_after_alloc", req.api, KVCacheBlocks(list(req.blocks)), ext)
            if ext > 0 and is_async:
                req.t_load = time.perf_counter_ns()
                self.remote[req.api.request_id] = req
                self.s["requests"]["asyncLoads"] += 1
            else:
                if ext > 0 and self.sched is not None:
                    req.sync_load, req.t_load = True, time.perf_counter_ns()
                    self.s["requests"]["syncLoads"] += 1
                computing.append(req)
        self.waiting = still
        for req in computing:
            req.api.num_computed_tokens = req.ext
        out = SchedulerOutput(step, [NewRequestData(r.api.request_id, list(r.blocks), r.ext, r.api) for r in computing],
                              {r.api.request_id: r.api.num_tokens - r.ext for r in computing}, set(self.prev_finished))
        meta = self._hook(self.sched, "build_connector_meta", out) if self.sched is not None else None
        out.kv_connector_metadata = meta
        return computing, meta

    # --- one step -------------------------------------------------------------------------------
    def step(self, step, measured, new_rate, returning_rate):
        t, rig, fwd, w = self.t, self.rig, self.fwd, self.worker
        hooks_before = self._hook_total()
        t0 = time.perf_counter_ns()
        self.arrive(returning_rate, new_rate)
        computing, meta = self.schedule(step)
        if measured:
            self.s["requests"]["stepsWaitingForLoad"] += len(self.remote)
        writes = [(r.ids[r.ext // self.bs:], r.prefix, r.ext // self.bs) for r in computing]
        if w is not None:
            self._hook(w, "bind_connector_metadata", meta)
            self._hook(w, "start_load_kv", ForwardContext(step, rig.layer_names, rig.kv_caches))
        if writes:
            slots = t.cat([ids.view(-1, 1) * self.bs + t.arange(self.bs, device=ids.device) for ids, _, _ in writes]).view(-1)
        else:
            slots = t.empty(0, dtype=t.int64, device=rig.kv_all.device)
        attn = AttentionMetadata(slots, self.bs)
        e0, e1 = t.cuda.Event(enable_timing=True), t.cuda.Event(enable_timing=True)
        fwd.begin()
        e0.record()
        writes = rig.step_writes(writes)  # the KV the step's requests compute, written layer by layer
        for l, name in enumerate(rig.layer_names):
            if w is not None:
                self._hook(w, "wait_for_layer_load", name)
            fwd.layer(l, writes)
            if w is not None:
                self._hook(w, "save_kv_layer", name, rig.layer_views[l], attn)
        e1.record()
        slot = len(self.s["checks"]) if measured else None
        if slot is not None and slot < fwd.sums.numel():
            fwd.end(slot)
            self.s["checks"].append(slot)
        sending, recving = set(), set()
        if w is not None:
            self._hook(w, "wait_for_save")
            got = self._hook(w, "get_finished", set(self.prev_finished))
            if not (isinstance(got, tuple) and len(got) == 2):
                raise HookFailed("get_finished", ProtocolError(f"returned {got!r}, expected (finished_sending, finished_recving)"))
            sending, recving = set(got[0] or ()), set(got[1] or ())
            self._hook(w, "clear_connector_metadata")
        e1.synchronize()
        if self.sched is not None and hasattr(self.sched, "update_connector_output"):
            self._hook(self.sched, "update_connector_output", KVConnectorOutput(sending, recving))
        verify = self._after_step(computing, sending, recving, measured)
        t1 = time.perf_counter_ns()
        if measured:
            self.s["stepGpuMs"].append(e0.elapsed_time(e1))
            self.s["stepWallMs"].append((t1 - t0) / 1e6)
            self.s["blockedUs"].append((self._hook_total() - hooks_before) / 1e3)
            self.s["windowMs"] += (t1 - t0) / 1e6
        for req, count in verify:
            self.s["verify"].append((rig.check_blocks(req.ids, req.prefix, count), count))
        if verify:
            fwd.compute.synchronize()  # checks run outside the timed step

    def _hook_total(self):
        return self.clock.total_ns

    def _after_step(self, computing, sending, recving, measured):
        now = time.perf_counter_ns()
        verify = []
        for rid in recving:
            req = self.remote.pop(rid, None)
            if req is None:
                continue  # a load kvbench never asked for: ignored, counted
            self.ready.append(req)
            self._loaded(req, now, measured, verify)
        for req in computing:
            if req.sync_load:
                self._loaded(req, now, measured, verify)
        finished = set()
        for req in computing:
            rid = req.api.request_id
            delay = False
            if self.sched is not None:
                got = self._hook(self.sched, "request_finished", req.api, list(req.blocks))
                delay = bool(got[0]) if isinstance(got, tuple) else bool(got)
            if delay:
                self.held[rid] = req
            else:
                self._release(req, measured, saved=self.sched is not None)
            finished.add(rid)
        for rid in sending:
            req = self.held.pop(rid, None)
            if req is not None:
                self._release(req, measured, saved=True)
        self.prev_finished = finished
        return verify

    def _loaded(self, req, now, measured, verify):
        if self.sched is None:
            return
        blocks = req.ext // self.bs
        if measured:
            self.s["loadBytes"] += blocks * self.chunk_bytes_block
            self.s["timeToReadyMs"].append((now - req.t_load) / 1e6)
        if self.plan["verify"] and blocks > 0:
            verify.append((req, blocks))

    def _release(self, req, measured, saved):
        if saved:
            new_blocks = self.bpr - req.ext // self.bs
            if measured:
                self.s["saveBytes"] += new_blocks * self.chunk_bytes_block
            if not req.returning:
                self.saved_prefixes.append(req.prefix)
        self.free.extend(reversed(req.blocks))
        req.blocks = None

    def busy(self):
        return bool(self.remote or self.held or self.waiting or self.ready)
