"""The scheduler side both reference connectors share: which pinned-pool slot holds which block.

The scheduler decides every transfer and the worker only executes it, as vLLM's CPU offloading
connector does, so the two roles share nothing but the metadata. Slots are handed out as contiguous
runs (one request's blocks in one run), so the worker moves a layer of a request in one copy per part.
"""
from dataclasses import dataclass, field


@dataclass
class Transfer:
    req_id: str
    block_ids: list  # GPU blocks
    slots: list  # pool slots, same order


@dataclass
class PoolMetadata:
    saves: list = field(default_factory=list)
    loads: list = field(default_factory=list)


class PoolIndex:
    def __init__(self, slots):
        self.slots = slots
        self.head = 0
        self.owner = [None] * slots  # slot -> block hash stored there (or pending)
        self.stored = {}  # block hash -> slot, saves that finished
        self.busy = [0] * slots  # loads reading a slot or a save writing it: never evicted

    def hits(self, hashes):
        n = 0
        for h in hashes:
            if h not in self.stored:
                break
            n += 1
        return n

    def take_run(self, n):
        """n contiguous slots, evicting the oldest stored blocks there; None when a busy slot is in the way."""
        if n == 0 or n > self.slots:
            return None
        start = self.head if self.head + n <= self.slots else 0
        run = range(start, start + n)
        if any(self.busy[s] for s in run):
            return None
        for s in run:
            old = self.owner[s]
            if old is not None and self.stored.get(old) == s:
                del self.stored[old]
            self.owner[s] = None
            self.busy[s] += 1
        self.head = (start + n) % self.slots
        return list(run)

    def commit(self, hashes, slots):
        for h, s in zip(hashes, slots):
            self.owner[s] = h
            self.stored[h] = s
            self.busy[s] -= 1

    def release(self, slots):
        for s in slots:
            self.busy[s] -= 1


class PoolScheduler:
    """The four scheduler hooks (and update_connector_output) over a PoolIndex.

    load_async: loads finish in a later step (the request waits) rather than inside the forward.
    delay_free: the request's blocks stay allocated until the worker reports its save finished.
    """

    load_async = False
    delay_free = False

    def __init__(self, config, role):
        self.role = role
        self.config = config
        self.meta = None  # the worker's metadata of the current step
        self.index = PoolIndex(int(config["pool_blocks"]))
        self.block_size = int(config["block_size"])
        self.pending_loads = []  # Transfers decided in update_state_after_alloc, sent with the next metadata
        self.saving = {}  # req_id -> (hashes, slots) not yet confirmed
        self.loading = {}  # req_id -> slots being read
        self.saves_skipped = 0

    def get_num_new_matched_tokens(self, request, num_computed_tokens):
        hit = min(self.index.hits(request.block_hashes), len(request.block_hashes) - 1)  # one block is computed
        tokens = hit * self.block_size - num_computed_tokens
        return max(tokens, 0), self.load_async

    def update_state_after_alloc(self, request, blocks, num_external_tokens):
        n = num_external_tokens // self.block_size
        if n == 0:
            return
        slots = [self.index.stored[h] for h in request.block_hashes[:n]]
        for s in slots:
            self.index.busy[s] += 1
        self.loading[request.request_id] = slots
        self.pending_loads.append(Transfer(request.request_id, blocks.get_block_ids()[0][:n], slots))

    def build_connector_meta(self, scheduler_output):
        meta = PoolMetadata(loads=self.pending_loads)
        self.pending_loads = []
        news = []
        for new in scheduler_output.scheduled_new_reqs:
            first = new.num_computed_tokens // self.block_size
            news.append((new, first, new.request.block_hashes[first:]))
        # The step's saves in one run of slots where it fits: the worker then moves a layer in one copy per part.
        run = self.index.take_run(sum(len(h) for _, _, h in news))
        at = 0
        for new, first, hashes in news:
            if run is not None:
                slots, at = run[at:at + len(hashes)], at + len(hashes)
            else:
                slots = self.index.take_run(len(hashes))
            if slots is None:
                self.saves_skipped += 1
                continue
            self.saving[new.req_id] = (hashes, slots)
            meta.saves.append(Transfer(new.req_id, new.block_ids[first:], slots))
        return meta

    def request_finished(self, request, block_ids):
        rid = request.request_id
        if not self.delay_free:  # the worker finished every transfer of the step before returning
            self._saved(rid)
            self._loaded(rid)
            return False, None
        return rid in self.saving, None

    def update_connector_output(self, connector_output):
        for rid in connector_output.finished_sending:
            self._saved(rid)
        for rid in connector_output.finished_recving:
            self._loaded(rid)

    def _saved(self, rid):
        if rid in self.saving:
            self.index.commit(*self.saving.pop(rid))

    def _loaded(self, rid):
        if rid in self.loading:
            self.index.release(self.loading.pop(rid))


def block_of(kv_layer, block):
    """One block of a layer's cache: [2, bs, heads, dim] (K and V) or MLA's [bs, latent]."""
    return kv_layer[:, block] if kv_layer.dim() == 5 else kv_layer[block]


def parts_view(kv_layer):
    """The layer as [parts, blocks, values per block], a view of the same memory."""
    if kv_layer.dim() == 5:
        return kv_layer.view(kv_layer.shape[0], kv_layer.shape[1], -1)
    return kv_layer.view(1, kv_layer.shape[0], -1)


def layer_groups(layers, most):
    """[(layer indices, [layers, parts, blocks, values] tensor)]: groups of up to `most` consecutive
    layers (a divisor of the layer count), each one view where the layers are evenly spaced in one
    allocation; one layer a group otherwise."""
    first = layers[0]
    step = layers[1].data_ptr() - first.data_ptr() if len(layers) > 1 else 0
    even = step > 0 and step % first.element_size() == 0 and all(
        l.data_ptr() - first.data_ptr() == i * step and l.shape == first.shape and l.stride() == first.stride() for i, l in enumerate(layers))
    size = max(d for d in range(1, most + 1) if len(layers) % d == 0) if even else 1
    out = []
    for start in range(0, len(layers), size):
        base = layers[start]
        view = base.as_strided((size,) + tuple(base.shape), (step // base.element_size(),) + base.stride(), base.storage_offset()) if size > 1 else base.unsqueeze(0)
        out.append((list(range(start, start + size)), view))
    return out


def device_ids(block_ids, device):
    """Block ids as a GPU tensor without stalling the host: pinned, then an asynchronous copy."""
    import torch

    return torch.tensor(block_ids, dtype=torch.int64).pin_memory().to(device, non_blocking=True)


def runs(slots):
    """(index into slots, first slot, count) for each run of consecutive slots."""
    out, i = [], 0
    while i < len(slots):
        j = i
        while j + 1 < len(slots) and slots[j + 1] == slots[j] + 1:
            j += 1
        out.append((i, slots[i], j - i + 1))
        i = j + 1
    return out
