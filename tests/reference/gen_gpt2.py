#!/usr/bin/python3
"""Builds small random GPT-2 models in the exact Hugging Face layout and dumps what
PyTorch computes on them, as .npy fixtures for tests/unit/test_reference.c.

Needs Debian's python3-torch and python3-numpy (not needed to run the tests):
    /usr/bin/python3 tests/reference/gen_gpt2.py

The model below is Hugging Face's GPT2LMHeadModel written out in plain torch
(Conv1D weights stored [in, out], pre-LN blocks, gelu_new, causal attention with an
additive padding mask, LM head tied to wte); transformers is not in Debian, so the
math is spelled out here. References are computed in float64 from the stored
(rounded) weights, so they are the exact values an fp32 engine should approach.

Fixtures (tests/fixtures/models/):
  gpt2-tiny-f32      2 layers, d=32, 4 heads; F32; names with the `transformer.`
                     prefix; with lm_head.weight and the attn.bias/masked_bias
                     buffers; tokenizer.json with "a b" merges
  gpt2-tiny-bf16     3 layers, d=48, 3 heads, n_inner=80; BF16; bare names; no
                     lm_head.weight; tokenizer.json with ["a", "b"] merges
  gpt2-tiny-sharded  gpt2-tiny-f32's weights in F16, split over two shards with
                     model.safetensors.index.json; vocab.json + merges.txt
"""
import json
import math
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "fixtures", "models")
GPT2_TOK = os.path.join(ROOT, "tests", "fixtures", "gpt2-tokenizer")
N_MERGES = 255  # vocabulary: 256 bytes + 255 merges + <|endoftext|> = 512

DTYPE_NAME = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, torch tensor) in the dtype to store."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors:
        t = t.contiguous()
        if t.dtype in (torch.float16, torch.bfloat16):
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[name] = {"dtype": DTYPE_NAME[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def small_tokenizer():
    """The first N_MERGES merges of GPT-2's BPE over its 256-byte alphabet."""
    vocab_full = json.load(open(os.path.join(GPT2_TOK, "vocab.json"), encoding="utf-8"))
    lines = open(os.path.join(GPT2_TOK, "merges.txt"), encoding="utf-8").read().split("\n")
    merges = [tuple(l.split(" ")) for l in lines[1:N_MERGES + 1]]
    by_id = sorted(vocab_full.items(), key=lambda kv: kv[1])
    vocab = {tok: i for tok, i in by_id if i < 256}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    eot = len(vocab)
    return vocab, merges, eot


def tokenizer_json(vocab, merges, eot, pair_merges):
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": eot, "content": "<|endoftext|>", "single_word": False,
                          "lstrip": False, "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {**vocab, "<|endoftext|>": eot},
                  "merges": [list(m) for m in merges] if pair_merges else
                  [f"{a} {b}" for a, b in merges]},
    }


def config_json(c):
    return {
        "_name_or_path": c["name"], "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1, "bos_token_id": c["vocab"] - 1,
        "embd_pdrop": 0.1, "eos_token_id": c["vocab"] - 1, "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": c["n_pos"],
        "n_embd": c["d"], "n_head": c["heads"], "n_inner": c.get("n_inner"),
        "n_layer": c["layers"], "n_positions": c["n_pos"], "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1, "scale_attn_by_inverse_layer_idx": False, "scale_attn_weights": True,
        "summary_activation": None, "summary_first_dropout": 0.1, "summary_proj_to_labels": True,
        "summary_type": "cls_index", "summary_use_proj": True, "torch_dtype": c["torch_dtype"],
        "transformers_version": "4.44.2", "use_cache": True, "vocab_size": c["vocab"],
    }


def random_weights(c, gen):
    d, F, V, P = c["d"], c.get("n_inner") or 4 * c["d"], c["vocab"], c["n_pos"]

    def normal(*shape, std=0.02):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * std

    w = {"wte.weight": normal(V, d), "wpe.weight": normal(P, d, std=0.01)}
    for l in range(c["layers"]):
        p = f"h.{l}."
        # norms and biases get non-trivial values so their gradients are tested
        w[p + "ln_1.weight"] = 1 + normal(d, std=0.1)
        w[p + "ln_1.bias"] = normal(d, std=0.1)
        w[p + "attn.c_attn.weight"] = normal(d, 3 * d, std=0.15)
        w[p + "attn.c_attn.bias"] = normal(3 * d, std=0.05)
        w[p + "attn.c_proj.weight"] = normal(d, d, std=0.1)
        w[p + "attn.c_proj.bias"] = normal(d, std=0.05)
        w[p + "ln_2.weight"] = 1 + normal(d, std=0.1)
        w[p + "ln_2.bias"] = normal(d, std=0.1)
        w[p + "mlp.c_fc.weight"] = normal(d, F, std=0.1)
        w[p + "mlp.c_fc.bias"] = normal(F, std=0.05)
        w[p + "mlp.c_proj.weight"] = normal(F, d, std=0.1)
        w[p + "mlp.c_proj.bias"] = normal(d, std=0.05)
    w["ln_f.weight"] = 1 + normal(d, std=0.1)
    w["ln_f.bias"] = normal(d, std=0.1)
    # scale embeddings up so logits are not all ~0 (a sharper test of the LM head)
    w["wte.weight"] *= 10
    return w


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def forward(w, c, ids, mask, eps=1e-5):
    """GPT2LMHeadModel.forward in float64. Returns logits, final hidden, input embeds."""
    B, T = ids.shape
    d, H = c["d"], c["heads"]
    dh = d // H
    emb = w["wte.weight"][ids]
    emb.retain_grad()
    x = emb + w["wpe.weight"][torch.arange(T)]
    neg = torch.finfo(torch.float64).min
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    pad = (1.0 - mask[:, None, None, :].to(torch.float64)) * neg
    for l in range(c["layers"]):
        p = f"h.{l}."
        h = torch.nn.functional.layer_norm(x, (d,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]  # Conv1D
        q, k, v = qkv.split(d, dim=2)
        q, k, v = (t.view(B, T, H, dh).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
        att = torch.where(causal, att, torch.tensor(neg, dtype=torch.float64))
        att = att + pad
        att = torch.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, d)
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = torch.nn.functional.layer_norm(x, (d,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        h = gelu_new(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    hidden = torch.nn.functional.layer_norm(x, (d,), w["ln_f.weight"], w["ln_f.bias"], eps)
    logits = hidden @ w["wte.weight"].T
    return logits, hidden, emb


def lm_loss(logits, ids, mask):
    """GPT2LMHeadModel's loss: next-token cross-entropy, padding labels ignored (-100)."""
    labels = ids.clone()
    labels[mask == 0] = -100
    shift_logits = logits[:, :-1, :].reshape(-1, logits.shape[-1])
    shift_labels = labels[:, 1:].reshape(-1)
    return torch.nn.functional.cross_entropy(shift_logits, shift_labels, ignore_index=-100)


def save(path, arr):
    np.save(path, np.ascontiguousarray(arr.detach().numpy().astype(np.float32)))


def reference(d, c, w, gen, forward, grads=True):
    """Runs forward(params, c, ids, mask) -> (logits, hidden, input embeddings) on two rows
    of random ids (the second right-padded by 3) and writes what the C test compares:
    ids, mask, logits, hidden states, LM loss, d(loss)/d(input embeddings) and, with grads,
    d(loss)/d(every weight) under the weight's name (in the checkpoint's layout)."""
    B, T = 2, 9
    ids = torch.randint(0, c["vocab"], (B, T), generator=gen)
    mask = torch.ones(B, T)
    mask[1, T - 3:] = 0
    params = {k: v.clone().requires_grad_(True) for k, v in w.items()}
    logits, hidden, emb = forward(params, c, ids, mask)
    loss = lm_loss(logits, ids, mask)
    loss.backward()
    r = os.path.join(d, "ref")
    np.save(os.path.join(r, "ids.npy"), ids.numpy().astype(np.int64))
    save(os.path.join(r, "mask.npy"), mask)
    save(os.path.join(r, "logits.npy"), logits)
    save(os.path.join(r, "hidden.npy"), hidden)
    save(os.path.join(r, "loss.npy"), loss.reshape(1))
    save(os.path.join(r, "d_input.npy"), emb.grad)
    if grads:
        for k, v in params.items():
            save(os.path.join(r, "grad", k + ".npy"), v.grad)
    print(f"{c['name']}: loss {loss.item():.6f}, {sum(v.numel() for v in w.values())} params")


def build(c, gen, vocab, merges, eot, weights=None):
    d = os.path.join(OUT, c["name"])
    os.makedirs(os.path.join(d, "ref", "grad"), exist_ok=True)
    for f in os.listdir(d):
        if f.endswith(".safetensors") or f.endswith(".json") or f.endswith(".txt"):
            os.remove(os.path.join(d, f))
    w = weights if weights is not None else random_weights(c, gen)
    store = c["store"]
    # round to the stored dtype; the reference uses exactly the stored values
    w = {k: v.to(store).to(torch.float64) for k, v in w.items()}
    prefix = c.get("prefix", "")
    stored = [(prefix + k, v.to(store)) for k, v in w.items()]
    if c.get("lm_head"):
        stored.append(("lm_head.weight", w["wte.weight"].to(store)))
    if c.get("buffers"):
        P = c["n_pos"]
        for l in range(c["layers"]):
            stored.append((f"{prefix}h.{l}.attn.bias",
                           torch.tril(torch.ones(P, P)).view(1, 1, P, P).to(torch.float32)))
            stored.append((f"{prefix}h.{l}.attn.masked_bias", torch.tensor(-1e4)))
    if c.get("shards"):
        half = len(stored) // 2
        parts = [stored[:half], stored[half:]]
        wm, total = {}, 0
        for i, part in enumerate(parts):
            fname = f"model-{i + 1:05d}-of-{len(parts):05d}.safetensors"
            write_safetensors(os.path.join(d, fname), part, {"format": "pt"})
            for n, t in part:
                wm[n] = fname
                total += t.numel() * t.element_size()
        json.dump({"metadata": {"total_size": total}, "weight_map": wm},
                  open(os.path.join(d, "model.safetensors.index.json"), "w"), indent=2)
    else:
        write_safetensors(os.path.join(d, "model.safetensors"), stored, {"format": "pt"})
    cfg = config_json(c)
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2)
    if c["tokenizer"] == "vocab+merges":
        json.dump({**vocab, "<|endoftext|>": eot}, open(os.path.join(d, "vocab.json"), "w",
                  encoding="utf-8"), ensure_ascii=False)
        with open(os.path.join(d, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    else:
        json.dump(tokenizer_json(vocab, merges, eot, c["tokenizer"] == "pairs"),
                  open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8"),
                  ensure_ascii=False, indent=1)

    reference(d, c, w, gen, forward, grads=c.get("grads", True))
    return w


def main():
    gen = torch.Generator().manual_seed(20241011)
    vocab, merges, eot = small_tokenizer()
    V = eot + 1
    a = {"name": "gpt2-tiny-f32", "layers": 2, "d": 32, "heads": 4, "n_pos": 64, "vocab": V,
         "store": torch.float32, "torch_dtype": "float32", "prefix": "transformer.",
         "lm_head": True, "buffers": True, "tokenizer": "strings"}
    b = {"name": "gpt2-tiny-bf16", "layers": 3, "d": 48, "heads": 3, "n_inner": 80,
         "n_pos": 32, "vocab": V, "store": torch.bfloat16, "torch_dtype": "bfloat16",
         "tokenizer": "pairs"}
    s = dict(a, name="gpt2-tiny-sharded", store=torch.float16, torch_dtype="float16",
             shards=True, tokenizer="vocab+merges", grads=False, buffers=False)
    wa = build(a, gen, vocab, merges, eot)
    build(b, gen, vocab, merges, eot)
    build(s, gen, vocab, merges, eot, weights=wa)


if __name__ == "__main__":
    main()
