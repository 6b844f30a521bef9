"""The connector kvbench's seed was about, done right.

A connector thread sets its device and creates its own stream there. save_kv_layer records an event
after each layer's KV write; at the end of each group of layers it queues the group, and the thread
waits on that event on its own stream, gathers the step's new blocks of those layers and moves them
in one large copy (the scheduler side gives a step's saves one run of pool slots). It reports the
step's requests through a queue once every group is done. Loads run on the same thread while their
requests wait (load_async), so requests that are not ready cost the scheduler nothing.

Few large operations matter twice in Python: PCIe moves large copies at full rate, and every call the
thread makes takes the GIL from the thread that launches the forward.
"""
import queue
import threading

import torch

from connectors.pool_index import PoolScheduler, device_ids, layer_groups, parts_view, runs


class AsyncPinnedConnector(PoolScheduler):
    load_async = True
    delay_free = True

    def __init__(self, config, role):
        super().__init__(config, role)
        self.thread = None  # started in register_kv_caches, on the worker only

    # --- worker -------------------------------------------------------------------------------
    def register_kv_caches(self, kv_caches):
        self.layer_index = {n: i for i, n in enumerate(kv_caches)}
        layers = [parts_view(kv) for kv in kv_caches.values()]
        # [layers, parts, blocks, values] per group: consecutive layers as one tensor where they are
        # evenly spaced in one allocation (vLLM's are), else one layer a group.
        self.groups = layer_groups(layers, int(self.config.get("layers_per_copy", 8)))
        self.last_layer = {g[-1]: i for i, (g, _) in enumerate(self.groups)}
        size, parts, _, values = self.groups[0][1].shape
        self.device = layers[0].device
        slots = int(self.config["pool_blocks"])
        # [group, slot, layer in group, part, values]: a run of slots of one group is one contiguous region.
        self.pool = torch.empty((len(self.groups), slots, size, parts, values), dtype=layers[0].dtype, pin_memory=True)
        self.jobs = queue.Queue()
        self.done = queue.Queue()  # (kind, req_ids, event) from the thread
        self.in_flight = []  # (kind, req_ids, event) waiting for their event
        self.batch = None  # the step's saves: (block ids, slots, req_ids, GPU ids once made)
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, name="kv-connector", daemon=True)
        self.thread.start()
        self.started.wait()

    def _run(self):
        torch.cuda.set_device(self.device)  # a new thread starts on device 0, whatever its parent set
        self.stream = torch.cuda.Stream(self.device)
        self.started.set()
        with torch.cuda.stream(self.stream):
            while True:
                job = self.jobs.get()
                if job is None:
                    return
                job()

    def bind_connector_metadata(self, connector_metadata):
        self.meta = connector_metadata

    def start_load_kv(self, forward_context):
        loads = self.meta.loads
        if loads:
            block_ids = [b for t in loads for b in t.block_ids]
            slots = [s for t in loads for s in t.slots]
            self.jobs.put(lambda: self._load(block_ids, slots, [t.req_id for t in loads]))

    def _load(self, block_ids, slots, req_ids):
        ids = device_ids(block_ids, self.device)  # on this thread's stream, so ordered before its use
        for g, (_, view) in enumerate(self.groups):
            staged = torch.empty((len(slots),) + self.pool.shape[2:], dtype=view.dtype, device=self.device)
            for i, first, n in runs(slots):  # one DMA per run of slots
                staged[i:i + n].copy_(self.pool[g, first:first + n], non_blocking=True)
            view.index_copy_(2, ids, staged.permute(1, 2, 0, 3))
        self._finish("recv", req_ids)

    def wait_for_layer_load(self, layer_name):
        pass  # loads finish before their request is scheduled

    def save_kv_layer(self, layer_name, kv_layer, attn_metadata):
        saves = self.meta.saves
        if not saves:
            return
        layer = self.layer_index[layer_name]
        if layer == 0:
            self.batch = ([b for t in saves for b in t.block_ids], [s for t in saves for s in t.slots], [t.req_id for t in saves], {})
        group = self.last_layer.get(layer)
        if group is None:
            return  # the group's last layer queues it
        written = torch.cuda.Event()
        written.record()  # on the compute stream: after the group's last KV write
        self.jobs.put(lambda batch=self.batch, group=group, written=written: self._save(batch, group, written))

    def _save(self, batch, group, written):
        block_ids, slots, req_ids, made = batch
        if "ids" not in made:  # once a step, on this thread's stream, as in _load
            made["ids"] = device_ids(block_ids, self.device)
        self.stream.wait_event(written)
        view = self.groups[group][1]
        staged = view.permute(2, 0, 1, 3)[made["ids"]]  # one gather, straight into [block, layer, part, values]
        for i, first, n in runs(slots):
            self.pool[group, first:first + n].copy_(staged[i:i + n], non_blocking=True)
        if group == len(self.groups) - 1:
            self._finish("send", req_ids)

    def _finish(self, kind, req_ids):
        done = torch.cuda.Event()
        done.record(self.stream)
        self.done.put((kind, req_ids, done))

    def wait_for_save(self):
        pass  # saves finish on the thread; the requests' blocks stay held until get_finished says so

    def get_finished(self, finished_req_ids):
        while True:
            try:
                self.in_flight.append(self.done.get_nowait())
            except queue.Empty:
                break
        sending, recving, left = set(), set(), []
        for kind, req_ids, event in self.in_flight:
            if event.query():
                (sending if kind == "send" else recving).update(req_ids)
            else:
                left.append((kind, req_ids, event))
        self.in_flight = left
        return sending or None, recving or None

    def clear_connector_metadata(self):
        self.meta = None

    def shutdown(self):
        if self.thread is not None:
            self.jobs.put(None)
            self.thread.join(timeout=30)
            self.thread = None
