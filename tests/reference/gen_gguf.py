#!/usr/bin/env python3
"""Builds small random GGUF models the way llama.cpp's converter writes them and records
what Hugging Face transformers computes after loading them (`from_pretrained(dir,
gguf_file=...)`, which dequantizes with llama.cpp's own `gguf` package and undoes the
converter's Q/K permutation), as fixtures for tests/unit/test_gguf.c.

Needs a virtual environment with the pinned libraries (not needed to run the tests):

    python3 -m venv .venv
    .venv/bin/pip install torch==2.15.0 transformers==5.23.0 gguf==0.19.0 numpy==2.4.6
    .venv/bin/python tests/reference/gen_gguf.py

Fixtures (tests/fixtures/gguf/), each NAME.gguf with NAME.ids.npy (int64 [2, 9]) and
NAME.logits.npy (float32 [2, 9, vocab], transformers' fp32 logits; no padding):
  llama-legacy  `llama`, 2 layers, hidden 64, 4 heads / 2 key-value heads, ff 96, untied
                output; one type per matrix kind so every legacy type and the stacking of
                q|k|v parts of different types are exercised: q Q4_0, k Q8_0, v Q5_1,
                o Q4_1, gate Q5_0, up F16, down BF16, token_embd Q8_0, output F32
  llama-kquant  `llama`, 1 layer, hidden 256, 4 heads / 1 key-value head, ff 512, tied:
                q Q4_K, k Q5_K, v Q6_K, o Q3_K, gate Q2_K, up Q4_K, down Q6_K,
                token_embd Q8_0 (random super-blocks with small scales: gguf cannot
                quantize K-quants, and random blocks are valid weights)
  qwen2-bias    `qwen2` (no permutation), 2 layers, hidden 64, 4 heads / 2 kv heads, q/k/v
                biases, tied embeddings, rope base 1e6, all matrices Q8_0
  gpt2-mixed    `gpt2`, 2 layers, n_embd 64, 4 heads, n_positions 32, vocab 96, tied (the
                current converter writes no output.weight); the Conv1D weights drawn in
                Hugging Face's [in, out] layout and transposed to [out, in] as the converter
                does: attn_qkv Q8_0, attn_output Q4_1, ffn_up F16, ffn_down Q5_0, token_embd
                Q8_0, position_embd, norms and biases F32 (transformers is told n_positions:
                it does not read gpt2.context_length, see build_gpt2)

The models are drawn from one seeded generator in the order above: a new fixture goes after
the others, so theirs stay byte for byte what they were.
"""
import os

import numpy as np
import torch
from gguf import GGMLQuantizationType as QT
from gguf import GGUFWriter
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import quantize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "gguf")
rng = np.random.default_rng(20261202)


def permute(w, n_head, n_head_kv):
    """llama.cpp's convert_hf_to_gguf.py LlamaModel.permute: rotate-half rows -> pairs."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def random_kquant(rows, cols, qt):
    """Random super-blocks of a K-quant type whose f16 scales (the block's last or first
    bytes) are small, so the weights have a sensible size."""
    block, nbytes = GGML_QUANT_SIZES[qt]
    nblocks = rows * cols // block
    raw = rng.integers(0, 256, size=(nblocks, nbytes), dtype=np.uint8)
    d = rng.uniform(2e-4, 1e-3, size=(nblocks, 2)).astype(np.float16).view(np.uint8)
    if qt in (QT.Q2_K,):        # scales[16], qs[64], d, dmin
        raw[:, -4:] = d.reshape(nblocks, 4)
    elif qt == QT.Q3_K:         # hmask[32], qs[64], scales[12], d
        raw[:, -2:] = d[:, :2]
    elif qt in (QT.Q4_K, QT.Q5_K):  # d, dmin, scales[12], ...
        raw[:, :4] = d.reshape(nblocks, 4)
    elif qt == QT.Q6_K:         # ql[128], qh[64], scales[16] (int8), d
        raw[:, -2:] = d[:, :2]
    return raw.reshape(rows, cols // block * nbytes)


def stored(w, qt):
    """(array to write, raw_dtype, the values transformers will see)."""
    from gguf.quants import dequantize
    if qt == QT.F32:
        a = w.astype(np.float32)
        return a, None, a
    if qt == QT.F16:
        a = w.astype(np.float16)
        return a, None, a.astype(np.float32)
    if qt in (QT.Q2_K, QT.Q3_K, QT.Q4_K, QT.Q5_K, QT.Q6_K):
        q = random_kquant(w.shape[0], w.shape[1], qt)
    else:
        q = quantize(w.astype(np.float32), qt)
    return q, qt, dequantize(q, qt)


def reference(name, V, seed_text, **overrides):
    """transformers' fp32 logits for the GGUF fixture NAME on random ids [2, 9], saved."""
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(OUT, gguf_file=name + ".gguf", dtype=torch.float32, **overrides)
    model.eval()
    g = torch.Generator().manual_seed(seed_text)
    ids = torch.randint(0, V, (2, 9), generator=g)
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    np.save(os.path.join(OUT, name + ".ids.npy"), ids.numpy().astype(np.int64))
    np.save(os.path.join(OUT, name + ".logits.npy"), logits.numpy().astype(np.float32))
    print(f"{name}: {os.path.getsize(os.path.join(OUT, name + '.gguf'))} bytes, "
          f"logits |max| {logits.abs().max().item():.3f}")


def add_vocab(wr, V):
    """A byte-level vocabulary so the file is a complete model (tokens are not tested here)."""
    tokens = [f"<t{i}>" for i in range(V)]
    wr.add_tokenizer_model("gpt2")
    wr.add_tokenizer_pre("default")
    wr.add_token_list(tokens)
    wr.add_token_types([1] * V)
    wr.add_token_merges([])
    wr.add_bos_token_id(0)
    wr.add_eos_token_id(1)


def build(name, arch, c, types, seed_text):
    os.makedirs(OUT, exist_ok=True)
    d, H, Hkv, F, L, V = c["d"], c["heads"], c["kv_heads"], c["ff"], c["layers"], c["vocab"]
    dh = d // H
    path = os.path.join(OUT, name + ".gguf")
    wr = GGUFWriter(path, arch)
    wr.add_name(name)
    wr.add_context_length(c["ctx"])
    wr.add_embedding_length(d)
    wr.add_feed_forward_length(F)
    wr.add_block_count(L)
    wr.add_head_count(H)
    wr.add_head_count_kv(Hkv)
    wr.add_rope_freq_base(c["rope_base"])
    wr.add_layer_norm_rms_eps(1e-6)
    wr.add_rope_dimension_count(dh)
    wr.add_vocab_size(V)
    wr.add_file_type(1)
    add_vocab(wr, V)

    def mat(rows, cols, scale=0.08):
        return (rng.standard_normal((rows, cols)) * scale).astype(np.float32)

    def add(gname, w, qt, perm=None):
        if perm is not None and arch == "llama":
            w = permute(w, *perm)
        a, raw, _ = stored(w, qt)
        wr.add_tensor(gname, a, raw_dtype=raw)

    add("token_embd.weight", mat(V, d, 0.5), types["embd"])
    for l in range(L):
        p = f"blk.{l}."
        wr.add_tensor(p + "attn_norm.weight", (1 + 0.1 * rng.standard_normal(d)).astype(np.float32))
        add(p + "attn_q.weight", mat(H * dh, d), types["q"], (H, H))
        add(p + "attn_k.weight", mat(Hkv * dh, d), types["k"], (H, Hkv))
        add(p + "attn_v.weight", mat(Hkv * dh, d), types["v"])
        if c.get("bias"):
            wr.add_tensor(p + "attn_q.bias", (0.1 * rng.standard_normal(H * dh)).astype(np.float32))
            wr.add_tensor(p + "attn_k.bias", (0.1 * rng.standard_normal(Hkv * dh)).astype(np.float32))
            wr.add_tensor(p + "attn_v.bias", (0.1 * rng.standard_normal(Hkv * dh)).astype(np.float32))
        add(p + "attn_output.weight", mat(d, H * dh), types["o"])
        wr.add_tensor(p + "ffn_norm.weight", (1 + 0.1 * rng.standard_normal(d)).astype(np.float32))
        add(p + "ffn_gate.weight", mat(F, d), types["gate"])
        if types["up"] == "BF16":
            add(p + "ffn_up.weight", mat(F, d), QT.F16)
        else:
            add(p + "ffn_up.weight", mat(F, d), types["up"])
        w = mat(d, F)
        if types["down"] == "BF16":  # bf16 bytes as the converter writes them
            b = torch.from_numpy(w).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint8).reshape(d, F * 2)
            wr.add_tensor(p + "ffn_down.weight", b, raw_dtype=QT.BF16)
        else:
            add(p + "ffn_down.weight", w, types["down"])
    wr.add_tensor("output_norm.weight", (1 + 0.1 * rng.standard_normal(d)).astype(np.float32))
    if not c.get("tied"):
        add("output.weight", mat(V, d), types["output"])
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()
    reference(name, V, seed_text)


def build_gpt2(name, c, types, seed_text):
    """A `gpt2` file as convert_hf_to_gguf.py's GPT2Model writes one: the hyper-parameters it
    writes (feed_forward_length is always 4 * n_embd there), the tensors in the Hugging Face
    state dict's order, Conv1D weights transposed from [in, out] to [out, in]."""
    os.makedirs(OUT, exist_ok=True)
    d, H, L, V, P = c["d"], c["heads"], c["layers"], c["vocab"], c["ctx"]
    F = 4 * d
    path = os.path.join(OUT, name + ".gguf")
    wr = GGUFWriter(path, "gpt2")
    wr.add_name(name)
    wr.add_block_count(L)
    wr.add_context_length(P)
    wr.add_embedding_length(d)
    wr.add_feed_forward_length(F)
    wr.add_head_count(H)
    wr.add_layer_norm_eps(1e-5)
    wr.add_file_type(1)
    add_vocab(wr, V)

    def vec(n, mean=0.0, scale=0.1):
        return (mean + scale * rng.standard_normal(n)).astype(np.float32)

    def add(gname, w, qt):
        a, raw, _ = stored(w, qt)
        wr.add_tensor(gname, a, raw_dtype=raw)

    def conv1d(gname, n_in, n_out, qt):  # HF's Conv1D weight is [in, out]: the converter transposes it
        w = (rng.standard_normal((n_in, n_out)) * 0.08).astype(np.float32)
        add(gname + ".weight", np.ascontiguousarray(w.T), qt)
        wr.add_tensor(gname + ".bias", vec(n_out))

    add("token_embd.weight", (rng.standard_normal((V, d)) * 0.5).astype(np.float32), types["embd"])
    add("position_embd.weight", (rng.standard_normal((P, d)) * 0.1).astype(np.float32), types["pos"])
    for l in range(L):
        p = f"blk.{l}."
        wr.add_tensor(p + "attn_norm.weight", vec(d, 1.0))
        wr.add_tensor(p + "attn_norm.bias", vec(d))
        conv1d(p + "attn_qkv", d, 3 * d, types["qkv"])
        conv1d(p + "attn_output", d, d, types["o"])
        wr.add_tensor(p + "ffn_norm.weight", vec(d, 1.0))
        wr.add_tensor(p + "ffn_norm.bias", vec(d))
        conv1d(p + "ffn_up", d, F, types["up"])
        conv1d(p + "ffn_down", F, d, types["down"])
    wr.add_tensor("output_norm.weight", vec(d, 1.0))
    wr.add_tensor("output_norm.bias", vec(d))
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()
    # transformers maps gpt2.context_length to n_ctx, which GPT2Config no longer reads: its
    # n_positions stays 1024 and the 32-row position table would not fit (GPT-2's own 1024
    # hides this), so the table's height is given to it by hand
    reference(name, V, seed_text, n_positions=P)


build("llama-legacy", "llama",
      dict(d=64, heads=4, kv_heads=2, ff=96, layers=2, vocab=96, ctx=64, rope_base=10000.0),
      dict(embd=QT.Q8_0, q=QT.Q4_0, k=QT.Q8_0, v=QT.Q5_1, o=QT.Q4_1, gate=QT.Q5_0, up=QT.F16, down="BF16",
           output=QT.F32), 1)
build("llama-kquant", "llama",
      dict(d=256, heads=4, kv_heads=1, ff=512, layers=1, vocab=64, ctx=64, rope_base=10000.0, tied=True),
      dict(embd=QT.Q8_0, q=QT.Q4_K, k=QT.Q5_K, v=QT.Q6_K, o=QT.Q3_K, gate=QT.Q2_K, up=QT.Q4_K, down=QT.Q6_K), 2)
build("qwen2-bias", "qwen2",
      dict(d=64, heads=4, kv_heads=2, ff=96, layers=2, vocab=80, ctx=64, rope_base=1e6, bias=True, tied=True),
      dict(embd=QT.Q8_0, q=QT.Q8_0, k=QT.Q8_0, v=QT.Q8_0, o=QT.Q8_0, gate=QT.Q8_0, up=QT.Q8_0, down=QT.Q8_0), 3)
build_gpt2("gpt2-mixed", dict(d=64, heads=4, layers=2, vocab=96, ctx=32),
           dict(embd=QT.Q8_0, pos=QT.F32, qkv=QT.Q8_0, o=QT.Q4_1, up=QT.F16, down=QT.Q5_0), 4)
