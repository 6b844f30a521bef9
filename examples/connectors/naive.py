"""What many first connectors do: one synchronous copy_ per block, on the compute stream.

Every save_kv_layer copies the step's new blocks of that layer to a pinned pool one block at a time
and waits for each copy; start_load_kv copies a prefix back the same way before the forward goes on.
Correct, and simple to read; it blocks the step for every block it moves.
"""
import torch

from connectors.pool_index import PoolScheduler, block_of


class NaiveConnector(PoolScheduler):
    load_async = False
    delay_free = False

    def register_kv_caches(self, kv_caches):
        self.names = list(kv_caches)
        self.layer_index = {n: i for i, n in enumerate(self.names)}
        self.caches = kv_caches
        first = next(iter(kv_caches.values()))
        block = block_of(first, 0)
        self.pool = torch.empty((int(self.config["pool_blocks"]), len(self.names)) + tuple(block.shape), dtype=first.dtype, pin_memory=True)

    def bind_connector_metadata(self, connector_metadata):
        self.meta = connector_metadata

    def start_load_kv(self, forward_context):
        for t in self.meta.loads:
            for name, kv in self.caches.items():
                layer = self.layer_index[name]
                for block, slot in zip(t.block_ids, t.slots):
                    block_of(kv, block).copy_(self.pool[slot, layer])

    def wait_for_layer_load(self, layer_name):
        pass

    def save_kv_layer(self, layer_name, kv_layer, attn_metadata):
        layer = self.layer_index[layer_name]
        for t in self.meta.saves:
            for block, slot in zip(t.block_ids, t.slots):
                self.pool[slot, layer].copy_(block_of(kv_layer, block))

    def wait_for_save(self):
        pass

    def get_finished(self, finished_req_ids):
        return None, None

    def clear_connector_metadata(self):
        self.meta = None
