#!/usr/bin/python3
"""PyTorch references for three PEFT methods on the random GPT-2 fixture
tests/fixtures/models/gpt2-tiny-f32 (run gen_gpt2.py first), for
tests/unit/test_peft_reference.c:

  sk_prefix      SK-Tuning for prefix, cached mode, low-rank adapters (sk-tuning.md)
  prefix_tuning  PEFT's PrefixEncoder with the projection (Embedding -> Linear -> tanh -> Linear)
  lora           LoRA (r=4, alpha=8) on every layer's c_attn

Each with a linear head on the last real token, a batch of two rows (the second
right-padded), cross-entropy loss. Dumps the trainable tensors (so the C side uses
the same values), the loss, and the gradient of every trainable tensor, in sktune's
names and layouts, under tests/fixtures/peft/<method>/. The prompt's token ids come
from sktune's own tokenizer (verified against OpenAI's encoder by the tokenizer
tests):   /usr/bin/python3 tests/reference/gen_peft.py [path/to/sktune]
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODEL = os.path.join(ROOT, "tests", "fixtures", "models", "gpt2-tiny-f32")
OUT = os.path.join(ROOT, "tests", "fixtures", "peft")
PROMPT = "Classify the sentiment of the text:"


def load_weights():
    """Reads model.safetensors (F32) into float64 tensors keyed by bare GPT-2 names."""
    raw = open(os.path.join(MODEL, "model.safetensors"), "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    w = {}
    for name, e in header.items():
        if name == "__metadata__" or name.endswith(".attn.bias") or "masked_bias" in name or name == "lm_head.weight":
            continue
        a, b = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(e["shape"])
        w[name.removeprefix("transformer.")] = t.to(torch.float64)
    return w


def forward(w, cfg, ids, mask, pos0=0, prefix=None, lora=None, embeds=None):
    """GPT-2 with optional per-layer prefix (k, v) [P, d], LoRA on c_attn, and input
    positions starting at pos0. Returns the final hidden states and each block's input."""
    B, T = ids.shape
    d, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    dh = d // H
    x = w["wte.weight"][ids] if embeds is None else embeds
    x = x + w["wpe.weight"][pos0 + torch.arange(T)]
    P = prefix[0][0].shape[0] if prefix else 0
    visible = torch.ones(B, 1, T, P + T, dtype=torch.bool)
    visible[:, :, :, P:] = torch.tril(torch.ones(T, T, dtype=torch.bool))
    visible[:, :, :, P:] &= mask[:, None, None, :].bool()
    blocks = []
    for l in range(L):
        blocks.append(x)
        p = f"h.{l}."
        h = F.layer_norm(x, (d,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], 1e-5)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        if lora is not None:
            A, Bm, scale = lora[l]
            qkv = qkv + scale * (h @ A.T) @ Bm.T
        q, k, v = qkv.split(d, dim=2)
        if prefix:
            k = torch.cat([prefix[l][0].expand(B, P, d), k], dim=1)
            v = torch.cat([prefix[l][1].expand(B, P, d), v], dim=1)
        q = q.view(B, T, H, dh).transpose(1, 2)
        k = k.view(B, P + T, H, dh).transpose(1, 2)
        v = v.view(B, P + T, H, dh).transpose(1, 2)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
        att = att.masked_fill(~visible, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, d)
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = F.layer_norm(x, (d,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], 1e-5)
        h = F.gelu(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"], approximate="tanh")
        x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    return F.layer_norm(x, (d,), w["ln_f.weight"], w["ln_f.bias"], 1e-5), blocks


def head_loss(hidden, mask, Wh, bh, labels):
    last = mask.sum(1).long() - 1
    pooled = hidden[torch.arange(hidden.shape[0]), last]
    return F.cross_entropy(pooled @ Wh.T + bh, labels)


def save(d, name, t):
    np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(t.detach().numpy().astype(np.float32)))


def main():
    sktune = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "sktune")
    out = subprocess.run([sktune, "tokenize", "--model", MODEL, PROMPT], capture_output=True, text=True, check=True)
    prompt_ids = torch.tensor([int(x) for x in out.stdout.split("\n")[0].split(":")[1].split()])
    cfg = json.load(open(os.path.join(MODEL, "config.json")))
    w = load_weights()
    d, L = cfg["n_embd"], cfg["n_layer"]
    g = torch.Generator().manual_seed(4242)
    ids = torch.randint(0, cfg["vocab_size"], (2, 6), generator=g)
    mask = torch.ones(2, 6)
    mask[1, 4:] = 0
    labels = torch.tensor([1, 0])

    def rand(*shape, std=0.1):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * std).requires_grad_(True)

    cases = {}
    # ---- sk_prefix: g_l = h_l + (h_l U_l) V_l; K = LN1(g) Wk + bk; V = LN1(g) Wv + bv
    m = len(prompt_ids)
    with torch.no_grad():
        _, states = forward(w, cfg, prompt_ids[None, :], torch.ones(1, m))
    T = {f"layer{l}.U": rand(d, 8, std=0.2) for l in range(L)}
    T.update({f"layer{l}.V": rand(8, d, std=0.2) for l in range(L)})
    prefix = []
    for l in range(L):
        h = states[l][0]
        gl = h + (h @ T[f"layer{l}.U"]) @ T[f"layer{l}.V"]
        p = f"h.{l}."
        ln = F.layer_norm(gl, (d,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], 1e-5)
        kv = ln @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        prefix.append((kv[:, d:2 * d], kv[:, 2 * d:]))
    cases["sk_prefix"] = (T, dict(pos0=m, prefix=prefix), {"method": "sk_prefix", "prompt": PROMPT})

    # ---- prefix_tuning with projection: table = tanh(E W1^T + b1) W2^T + b2
    mv, hid = 4, 16
    width = 2 * L * d
    T2 = {"embedding": rand(mv, d, std=1.0), "W1": rand(hid, d, std=0.2), "b1": rand(hid, std=0.1),
          "W2": rand(width, hid, std=0.2), "b2": rand(width, std=0.1)}
    table = torch.tanh(T2["embedding"] @ T2["W1"].T + T2["b1"]) @ T2["W2"].T + T2["b2"]
    prefix2 = [(table[:, 2 * l * d:(2 * l + 1) * d], table[:, (2 * l + 1) * d:(2 * l + 2) * d]) for l in range(L)]
    cases["prefix_tuning"] = (T2, dict(pos0=mv, prefix=prefix2),
                              {"method": "prefix_tuning", "n_virtual": mv, "hidden": hid})

    # ---- lora on c_attn (r = 4, alpha = 8)
    T3 = {}
    lora = []
    for l in range(L):
        A, Bm = rand(4, d, std=0.2), rand(3 * d, 4, std=0.2)
        T3[f"h.{l}.c_attn.lora_A"], T3[f"h.{l}.c_attn.lora_B"] = A, Bm
        lora.append((A, Bm, 8.0 / 4))
    cases["lora"] = (T3, dict(lora=lora), {"method": "lora", "r": 4, "alpha": 8})

    for name, (tensors, kw, method_cfg) in cases.items():
        Wh, bh = rand(2, d, std=0.3), rand(2, std=0.1)
        hidden, _ = forward(w, cfg, ids, mask, **kw)
        loss = head_loss(hidden, mask, Wh, bh, labels)
        loss.backward()
        dd = os.path.join(OUT, name)
        os.makedirs(dd, exist_ok=True)
        np.save(os.path.join(dd, "ids.npy"), ids.numpy().astype(np.int64))
        save(dd, "mask", mask)
        save(dd, "labels", labels.to(torch.float32))
        save(dd, "loss", loss.reshape(1))
        for k, t in list(tensors.items()) + [("head.weight", Wh), ("head.bias", bh)]:
            save(dd, "value." + k, t)
            save(dd, "grad." + k, t.grad)
        json.dump(method_cfg, open(os.path.join(dd, "method.json"), "w"))
        print(f"{name}: loss {loss.item():.6f}, {len(tensors) + 2} tensors")


if __name__ == "__main__":
    main()
