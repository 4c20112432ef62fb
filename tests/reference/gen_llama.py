#!/usr/bin/python3
"""Builds small random Llama-family models in the exact Hugging Face layout and dumps
what PyTorch computes on them, as .npy fixtures for tests/unit/test_reference.c.

    /usr/bin/python3 tests/reference/gen_llama.py      (needs python3-torch, python3-numpy)

The model is Hugging Face's Llama/Qwen2/MistralForCausalLM written out in plain
torch (transformers is not in Debian): RMSNorm in the input's precision, rotary
embeddings in the rotate-half layout with cos/sin computed in float32 exactly as
LlamaRotaryEmbedding does (inverse frequencies, scaling, position * inv_freq, cos, sin),
grouped-query attention (repeat_kv), additive padding mask, SwiGLU MLP. Everything else
is float64 from the stored (rounded) weights.

Fixtures (tests/fixtures/models/):
  llama-tiny-gqa  2 layers, hidden 64, 4 heads / 2 key-value heads, explicit head_dim 24
                  (not 64/4), intermediate 96, untied lm_head, llama3 rope scaling
                  (factor 8, original context 16), F32, `model.` prefix
  qwen2-tiny      2 layers, hidden 48, 6 heads / 2 key-value heads, q/k/v biases, tied
                  embeddings with a redundant lm_head.weight stored, rope_theta 1e6 with
                  dynamic scaling that engages (max_position_embeddings 8 < 9 tokens), BF16
  mistral-tiny    MistralForCausalLM: 2 layers, hidden 32, 4 heads sharing 1 key-value head
                  (multi-query), sliding_window 4 (< 9 tokens: the window masks; every
                  padded query still sees a real token), F16
"""
import json
import math
import os

import torch

from gen_gpt2 import OUT, reference, small_tokenizer, tokenizer_json, write_safetensors


def config_json(c):
    kind = "qwen2" if c["qwen"] else "mistral" if c.get("window") else "llama"
    j = {
        "architectures": [{"qwen2": "Qwen2", "mistral": "Mistral", "llama": "Llama"}[kind] + "ForCausalLM"],
        "model_type": kind,
        "hidden_size": c["d"], "intermediate_size": c["ff"], "num_hidden_layers": c["layers"],
        "num_attention_heads": c["heads"], "num_key_value_heads": c["kv_heads"],
        "max_position_embeddings": c["n_pos"], "vocab_size": c["vocab"], "rms_norm_eps": 1e-6,
        "rope_theta": c["theta"], "hidden_act": "silu", "tie_word_embeddings": c["tied"],
        "torch_dtype": c["torch_dtype"], "bos_token_id": c["vocab"] - 1, "eos_token_id": c["vocab"] - 1,
        "initializer_range": 0.02, "use_cache": True, "transformers_version": "4.45.2",
    }
    if kind == "llama":
        j["attention_bias"] = False
        j["mlp_bias"] = False
    if kind == "mistral":
        j["sliding_window"] = c["window"]
    if "head_dim" in c:
        j["head_dim"] = c["head_dim"]
    if c.get("rope_scaling"):
        j["rope_scaling"] = c["rope_scaling"]
    if c["qwen"]:
        j["use_sliding_window"] = False
        j["sliding_window"] = 4096
    return j


def head_dim(c):
    return c.get("head_dim", c["d"] // c["heads"])


def random_weights(c, gen):
    d, F, V, H, Hkv = c["d"], c["ff"], c["vocab"], c["heads"], c["kv_heads"]
    dh = head_dim(c)

    def normal(*shape, std=0.02):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * std

    w = {"embed_tokens.weight": normal(V, d, std=0.5)}
    for l in range(c["layers"]):
        p = f"layers.{l}."
        w[p + "input_layernorm.weight"] = 1 + normal(d, std=0.1)
        w[p + "self_attn.q_proj.weight"] = normal(H * dh, d, std=0.15)
        w[p + "self_attn.k_proj.weight"] = normal(Hkv * dh, d, std=0.15)
        w[p + "self_attn.v_proj.weight"] = normal(Hkv * dh, d, std=0.15)
        if c["qwen"]:
            w[p + "self_attn.q_proj.bias"] = normal(H * dh, std=0.1)
            w[p + "self_attn.k_proj.bias"] = normal(Hkv * dh, std=0.1)
            w[p + "self_attn.v_proj.bias"] = normal(Hkv * dh, std=0.1)
        w[p + "self_attn.o_proj.weight"] = normal(d, H * dh, std=0.1)
        w[p + "post_attention_layernorm.weight"] = 1 + normal(d, std=0.1)
        w[p + "mlp.gate_proj.weight"] = normal(F, d, std=0.15)
        w[p + "mlp.up_proj.weight"] = normal(F, d, std=0.15)
        w[p + "mlp.down_proj.weight"] = normal(d, F, std=0.1)
    w["norm.weight"] = 1 + normal(d, std=0.1)
    if not c["tied"]:
        w["lm_head.weight"] = normal(V, d, std=0.3)
    return w


def inv_freq(c, seq_len):
    """LlamaRotaryEmbedding's inverse frequencies, in float32 as transformers computes them."""
    dh = head_dim(c)
    base = float(c["theta"])
    rs = c.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    factor = rs.get("factor", 1.0)
    if kind == "dynamic" and seq_len > c["n_pos"]:
        base = base * ((factor * seq_len / c["n_pos"]) - (factor - 1)) ** (dh / (dh - 2))
    inv = 1.0 / (base ** (torch.arange(0, dh, 2, dtype=torch.int64).float() / dh))
    if kind == "linear":
        inv = inv / factor
    if kind == "llama3":
        low, high, old = rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        inv = torch.where(medium, smoothed, inv_l)
    return inv


def rope_cos_sin(c, T):
    inv = inv_freq(c, T)
    pos = torch.arange(T, dtype=torch.int64)
    freqs = (inv[None, :, None].float() @ pos[None, None, :].float()).transpose(1, 2)[0]  # [T, dh/2] float32
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(torch.float64), emb.sin().to(torch.float64)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rmsnorm(x, w, eps=1e-6):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def forward(w, c, ids, mask):
    B, T = ids.shape
    d, H, Hkv = c["d"], c["heads"], c["kv_heads"]
    dh = head_dim(c)
    emb = w["embed_tokens.weight"][ids]
    emb.retain_grad()
    x = emb
    cos, sin = rope_cos_sin(c, T)
    neg = torch.finfo(torch.float64).min
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    if c.get("window"):  # Mistral: key j visible to query i only when i - j < sliding_window
        i, j = torch.arange(T)[:, None], torch.arange(T)[None, :]
        causal &= (i - j) < c["window"]
    pad = (1.0 - mask[:, None, None, :].to(torch.float64)) * neg
    for l in range(c["layers"]):
        p = f"layers.{l}."
        h = rmsnorm(x, w[p + "input_layernorm.weight"])
        q = h @ w[p + "self_attn.q_proj.weight"].T
        k = h @ w[p + "self_attn.k_proj.weight"].T
        v = h @ w[p + "self_attn.v_proj.weight"].T
        if c["qwen"]:
            q = q + w[p + "self_attn.q_proj.bias"]
            k = k + w[p + "self_attn.k_proj.bias"]
            v = v + w[p + "self_attn.v_proj.bias"]
        q = q.view(B, T, H, dh).transpose(1, 2)
        k = k.view(B, T, Hkv, dh).transpose(1, 2)
        v = v.view(B, T, Hkv, dh).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // Hkv, dim=1)  # repeat_kv
        v = v.repeat_interleave(H // Hkv, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
        att = torch.where(causal, att, torch.tensor(neg, dtype=torch.float64)) + pad
        att = torch.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, H * dh)
        x = x + y @ w[p + "self_attn.o_proj.weight"].T
        h = rmsnorm(x, w[p + "post_attention_layernorm.weight"])
        g = h @ w[p + "mlp.gate_proj.weight"].T
        u = h @ w[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ w[p + "mlp.down_proj.weight"].T
    hidden = rmsnorm(x, w["norm.weight"])
    head = w["embed_tokens.weight"] if c["tied"] else w["lm_head.weight"]
    return hidden @ head.T, hidden, emb


def build(c, gen, vocab, merges, eot):
    d = os.path.join(OUT, c["name"])
    os.makedirs(os.path.join(d, "ref", "grad"), exist_ok=True)
    for f in os.listdir(d):
        if f.endswith(".safetensors") or f.endswith(".json"):
            os.remove(os.path.join(d, f))
    w = {k: v.to(c["store"]).to(torch.float64) for k, v in random_weights(c, gen).items()}
    stored = [("lm_head.weight" if k == "lm_head.weight" else "model." + k, v.to(c["store"])) for k, v in w.items()]
    if c["tied"] and c.get("redundant_head"):
        stored.append(("lm_head.weight", w["embed_tokens.weight"].to(c["store"])))
    write_safetensors(os.path.join(d, "model.safetensors"), stored, {"format": "pt"})
    json.dump(config_json(c), open(os.path.join(d, "config.json"), "w"), indent=2)
    json.dump(tokenizer_json(vocab, merges, eot, True), open(os.path.join(d, "tokenizer.json"), "w",
              encoding="utf-8"), ensure_ascii=False, indent=1)
    reference(d, c, w, gen, forward)


def main():
    gen = torch.Generator().manual_seed(20261128)
    vocab, merges, eot = small_tokenizer()
    V = eot + 1
    llama = {"name": "llama-tiny-gqa", "qwen": False, "layers": 2, "d": 64, "heads": 4, "kv_heads": 2,
             "head_dim": 24, "ff": 96, "n_pos": 64, "vocab": V, "theta": 10000.0, "tied": False,
             "store": torch.float32, "torch_dtype": "float32",
             "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                              "high_freq_factor": 4.0, "original_max_position_embeddings": 16}}
    qwen = {"name": "qwen2-tiny", "qwen": True, "layers": 2, "d": 48, "heads": 6, "kv_heads": 2, "ff": 80,
            "n_pos": 8, "vocab": V, "theta": 1000000.0, "tied": True, "redundant_head": True,
            "store": torch.bfloat16, "torch_dtype": "bfloat16",
            "rope_scaling": {"type": "dynamic", "factor": 2.0}}
    mistral = {"name": "mistral-tiny", "qwen": False, "layers": 2, "d": 32, "heads": 4, "kv_heads": 1,
               "ff": 64, "n_pos": 64, "vocab": V, "theta": 10000.0, "tied": False, "window": 4,
               "store": torch.float16, "torch_dtype": "float16"}
    build(llama, gen, vocab, merges, eot)
    build(qwen, gen, vocab, merges, eot)
    build(mistral, gen, vocab, merges, eot)  # sliding window 4 < 9 tokens, multi-query, F16


if __name__ == "__main__":
    main()
