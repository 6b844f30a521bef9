"""The objects kvbench hands a connector (docs/connector-api.md, API_VERSION).

Hook names, call order and meaning follow vLLM's KVConnectorBase_V1; the objects are kvbench's
own and small, so a connector written against them reads like a vLLM connector without vLLM.
Stdlib only: the scheduler side and the protocol check run without torch.
"""
import enum
from dataclasses import dataclass, field

API_VERSION = "1.0"


class KVConnectorRole(enum.Enum):
    SCHEDULER = 0
    WORKER = 1


# Hooks every connector must define, by role, with the positional parameters kvbench passes
# (self excluded). Optional hooks are called where defined.
SCHEDULER_HOOKS = {
    "get_num_new_matched_tokens": ("request", "num_computed_tokens"),
    "update_state_after_alloc": ("request", "blocks", "num_external_tokens"),
    "build_connector_meta": ("scheduler_output",),
    "request_finished": ("request", "block_ids"),
}
WORKER_HOOKS = {
    "register_kv_caches": ("kv_caches",),
    "bind_connector_metadata": ("connector_metadata",),
    "start_load_kv": ("forward_context",),
    "wait_for_layer_load": ("layer_name",),
    "save_kv_layer": ("layer_name", "kv_layer", "attn_metadata"),
    "wait_for_save": (),
    "get_finished": ("finished_req_ids",),
    "clear_connector_metadata": (),
}
OPTIONAL_HOOKS = {
    "update_connector_output": ("connector_output",),
    "shutdown": (),
}


@dataclass
class Request:
    """One prompt. Equal prefixes have equal token ids and equal block_hashes (one per block)."""
    request_id: str
    prompt_token_ids: range  # synthetic ids, a range so a long prompt costs nothing to hand over
    block_hashes: list
    block_size: int
    num_computed_tokens: int = 0

    @property
    def num_tokens(self):
        return len(self.prompt_token_ids)


@dataclass
class KVCacheBlocks:
    """The GPU blocks given to a request, in prompt order (vLLM: KVCacheBlocks.get_block_ids())."""
    block_ids: list

    def get_block_ids(self):
        return [list(self.block_ids)]

    def get_unhashed_block_ids(self):
        return list(self.block_ids)


@dataclass
class NewRequestData:
    req_id: str
    block_ids: list
    num_computed_tokens: int
    request: Request


@dataclass
class SchedulerOutput:
    """What the scheduler decided this step; the connector turns it into its metadata."""
    step: int
    scheduled_new_reqs: list  # NewRequestData, requests computing tokens this step
    num_scheduled_tokens: dict  # req_id -> tokens computed this step
    finished_req_ids: set  # requests that finished in the previous step
    kv_connector_metadata: object = None


@dataclass
class KVConnectorOutput:
    """The worker's get_finished(), handed back to the scheduler side (vLLM: update_connector_output)."""
    finished_sending: set = field(default_factory=set)
    finished_recving: set = field(default_factory=set)


class KVConnectorMetadata:
    """Base of whatever build_connector_meta returns; kvbench only passes it on."""


@dataclass
class ForwardContext:
    """The step being run: the layers in order and the KV cache of each (name -> tensor)."""
    step: int
    layer_names: list
    no_compile_layers: dict


@dataclass
class AttentionMetadata:
    """The layer's attention inputs: slot_mapping[i] = block_id * block_size + offset of token i."""
    slot_mapping: object  # a torch int64 tensor on the GPU
    block_size: int


class KVConnectorBase:
    """Optional base class: every hook defined as a no-op, so a connector overrides what it needs.

    kvbench does not require it; a class is checked hook by hook against the lists above.
    """

    def __init__(self, config, role):
        self.config = config
        self.role = role

    def get_num_new_matched_tokens(self, request, num_computed_tokens):
        return 0, False

    def update_state_after_alloc(self, request, blocks, num_external_tokens):
        pass

    def build_connector_meta(self, scheduler_output):
        return KVConnectorMetadata()

    def request_finished(self, request, block_ids):
        return False, None

    def register_kv_caches(self, kv_caches):
        pass

    def bind_connector_metadata(self, connector_metadata):
        self._connector_metadata = connector_metadata

    def start_load_kv(self, forward_context):
        pass

    def wait_for_layer_load(self, layer_name):
        pass

    def save_kv_layer(self, layer_name, kv_layer, attn_metadata):
        pass

    def wait_for_save(self):
        pass

    def get_finished(self, finished_req_ids):
        return None, None

    def clear_connector_metadata(self):
        self._connector_metadata = None
