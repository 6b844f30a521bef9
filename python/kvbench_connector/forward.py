"""The synthetic forward in torch, shaped by the profile like kvbench's native one. Per layer: an
attention read of the running batch's KV blocks, the new tokens' K/V written into their blocks, the
layer's matrix work, and a tensor-parallel all-reduce stand-in enqueued on the stream the engine's
accessor returns, with no extra wait, exactly as vLLM's pynccl enqueues it. Checked every step: a
stand-in on a leaked stream reads NaN-poisoned or unfinished buffers, and the outputs show it.

Each layer's fixed work runs as two CUDA graphs split at the stand-in, as vLLM's piecewise graphs
split at attention, so the forward is bound by the GPU rather than by Python launching kernels."""


class Forward:
    def __init__(self, torch, rig, accessor, check_capacity):
        self.torch = torch
        self.rig = rig
        self.accessor = accessor
        self.compute = torch.cuda.current_stream(rig.device)
        self.H = rig.geo["hiddenSize"]
        self.M = rig.geo["mlpSize"]
        cap = max(1, check_capacity)
        self.sums = torch.zeros(cap, dtype=torch.float32, device=rig.kv_all.device)
        self.nonfinite = torch.zeros(cap, dtype=torch.int64, device=rig.kv_all.device)
        self.streams = {}  # handle -> calls: the streams the stand-in ran on
        set_by_id = getattr(torch.cuda, "_set_stream_by_id", None)
        self._set_by_id = set_by_id or (lambda **kw: torch._C._cuda_setStream(**kw))
        self.graphs, self.graph_note = False, None
        try:
            self._capture()
            self.graphs = True
        except Exception as e:  # eager still measures; the output says which
            self.graph_note = f"CUDA graph capture failed ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); the forward ran eagerly"
            self.pre = self.post = None

    def _pre(self, l):
        t, r = self.torch, self.rig
        r.attn_acc += t.sum(r.ctx_views[l], dtype=t.float32)
        r.kv_all[l, :, r.decode_blocks, : r.decode_tokens.shape[-1]] = r.decode_tokens
        t.matmul(r.x, r.w_qkv, out=r.a)
        t.matmul(r.a[:, : self.H], r.w_o, out=r.o)
        t.matmul(r.o, r.w_up, out=r.u)
        t.matmul(r.u[:, : self.M], r.w_down, out=r.d[l])

    def _post(self, l):
        r = self.rig
        r.x.copy_(self.torch.nn.functional.rms_norm(r.reduced[l], (self.H,)))

    def _capture(self):
        t = self.torch
        L = self.rig.geo["layers"]
        side = t.cuda.Stream(self.rig.device)
        side.wait_stream(self.compute)
        with t.cuda.stream(side):  # warm-up outside capture: cuBLAS picks and allocates its workspace
            for l in range(L):
                self._pre(l)
                self._post(l)
        self.compute.wait_stream(side)
        self.pre, self.post = [], []
        pool = t.cuda.graph_pool_handle()
        for l in range(L):
            for fn, out in ((self._pre, self.pre), (self._post, self.post)):
                g = t.cuda.CUDAGraph()
                with t.cuda.graph(g, pool=pool):
                    fn(l)
                out.append(g)
        self.rig.attn_acc.zero_()

    def _on(self, stream, fn):
        # Launch on `stream` as pynccl does with a raw handle: no wait, and the current stream is set
        # through torch's internal setter, so a patched torch.cuda.set_stream sees nothing of it.
        prev = self.torch.cuda.current_stream()
        self._set_by_id(stream_id=stream.stream_id, device_index=stream.device_index, device_type=stream.device_type)
        try:
            fn()
        finally:
            self._set_by_id(stream_id=prev.stream_id, device_index=prev.device_index, device_type=prev.device_type)

    def begin(self):
        r = self.rig
        r.d.fill_(float("nan"))
        r.reduced.fill_(float("nan"))
        r.x.copy_(r.x0)

    def layer(self, l, writes):
        r = self.rig
        r.write_layer(l, writes)
        if self.graphs:
            self.pre[l].replay()
        else:
            self._pre(l)
        stream = self.accessor()
        key = (stream.cuda_stream, stream.device_index)
        self.streams[key] = self.streams.get(key, 0) + 1
        src, dst = r.d[l], r.reduced[l]
        self._on(stream, lambda: dst.copy_(src))
        if self.graphs:
            self.post[l].replay()
        else:
            self._post(l)

    def end(self, slot):
        x = self.rig.x.float()
        self.sums[slot] = x.abs().sum()
        self.nonfinite[slot] = (~self.torch.isfinite(x)).sum()

    def stream_report(self):
        compute = (self.compute.cuda_stream, self.compute.device_index)
        return [{"stream": hex(h), "device": d, "calls": n, "compute": (h, d) == compute} for (h, d), n in self.streams.items()]
