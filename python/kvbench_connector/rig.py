"""The GPU side of a connector run, allocated once and shared by every design: the paged KV cache
in vLLM's per-layer layout, the verification patterns, and the synthetic forward's weights."""
import math


class Rig:
    def __init__(self, torch, geo, device):
        self.torch = torch
        self.device = device
        self.geo = geo
        L, P, N = geo["layers"], geo["parts"], geo["gpuBlocks"]
        bs, W = geo["blockSize"], geo["valuesPerTokenPart"]
        self.elems = bs * W  # values of one (layer, part, block) chunk
        dev = f"cuda:{device}"
        # One allocation; each layer's cache is a view of it, as vLLM's per-layer tensors are.
        self.kv_all = torch.zeros((L, P, N, self.elems), dtype=torch.bfloat16, device=dev)
        self.kv_bits = self.kv_all.view(torch.int16)
        if geo["attention"] == "mla":
            self.layer_views = [self.kv_all[l, 0].view(N, bs, W) for l in range(L)]
        else:
            self.layer_views = [self.kv_all[l].view(2, N, bs, geo["kvHeads"], geo["headDim"]) for l in range(L)]
        self.layer_names = [f"model.layers.{l}.self_attn.attn" for l in range(L)]
        self.kv_caches = dict(zip(self.layer_names, self.layer_views))
        # Patterns: chunk (layer, part, i) of prefix p holds base[layer, part, i] ^ key(p). Values stay
        # below 0x4000, finite bf16, so the forward may read them; checks compare bits.
        g = torch.Generator(device=dev).manual_seed(0x6B76)
        self.base = torch.randint(0, 0x4000, (L, P, geo["blocksPerRequest"], self.elems), dtype=torch.int16, device=dev, generator=g)
        # Decode context: the running batch's blocks, read by attention every layer.
        self.context_blocks = geo["batch"] * geo["contextBlocks"]
        self._forward_weights(torch, geo, dev)

    @staticmethod
    def key(prefix):
        return (prefix * 0x9E5 + 0x1F3) & 0x3FFF or 1

    def step_writes(self, writes):
        """The step's new K/V for every layer, made once: (GPU block ids, [layers, parts, blocks, values]).

        writes: (GPU block ids, prefix, first chunk index) per request. One write per layer follows.
        """
        t = self.torch
        if not writes:
            return None
        ids = t.cat([w[0] for w in writes])
        chunks, keys = [], []
        for block_ids, prefix, first in writes:
            n = block_ids.numel()
            chunks.extend(range(first, first + n))
            keys.extend([self.key(prefix)] * n)
        dev = self.kv_all.device
        chunk = t.tensor(chunks, dtype=t.int64).pin_memory().to(dev, non_blocking=True)
        key = t.tensor(keys, dtype=t.int16).pin_memory().to(dev, non_blocking=True)
        src = self.base.index_select(2, chunk)
        src ^= key.view(1, 1, -1, 1)
        return ids, src

    def write_layer(self, layer, step_writes):
        if step_writes is not None:
            self.kv_bits[layer].index_copy_(1, step_writes[0], step_writes[1][layer])

    def check_blocks(self, block_ids, prefix, count):
        """Chunks of the first `count` blocks of prefix in block_ids that differ (all layers and parts)."""
        got = self.kv_bits.index_select(2, block_ids[:count])
        want = self.base[:, :, :count] ^ self.key(prefix)
        bad = (got != want).any(dim=-1)
        return bad.sum()  # a GPU scalar: read when the design ends

    def _forward_weights(self, torch, geo, dev):
        H, M, B = geo["hiddenSize"], geo["mlpSize"], geo["batch"]
        q = geo["qkvOut"]
        g = torch.Generator(device=dev).manual_seed(7)

        def w(rows, cols):
            return (torch.randn((rows, cols), generator=g, device=dev) / math.sqrt(rows)).to(torch.bfloat16)

        # One layer's weights, reused by every layer (the forward's cost is in reading them).
        self.w_qkv, self.w_o, self.w_up, self.w_down = w(H, q), w(H, H), w(H, 2 * M), w(M, H)
        self.x0 = torch.randn((B, H), generator=g, device=dev).to(torch.bfloat16)
        L = geo["layers"]
        self.x = torch.empty((B, H), dtype=torch.bfloat16, device=dev)
        self.a = torch.empty((B, q), dtype=torch.bfloat16, device=dev)
        self.o = torch.empty((B, H), dtype=torch.bfloat16, device=dev)
        self.u = torch.empty((B, 2 * M), dtype=torch.bfloat16, device=dev)
        # Per layer, poisoned with NaN at each step: a read before its write shows as NaN.
        self.d = torch.empty((L, B, H), dtype=torch.bfloat16, device=dev)
        self.reduced = torch.empty((L, B, H), dtype=torch.bfloat16, device=dev)
        self.attn_acc = torch.zeros((), dtype=torch.float32, device=dev)
        ctx = self.context_blocks
        self.ctx_views = [self.kv_all[l, :, :ctx] for l in range(L)]
        # Each decode step writes one token per sequence into its last context block.
        last = torch.arange(B, device=dev) * geo["contextBlocks"] + geo["contextBlocks"] - 1
        self.decode_blocks = last
        self.decode_tokens = torch.ones((self.kv_all.shape[1], B, geo["valuesPerTokenPart"]), dtype=torch.bfloat16, device=dev)
