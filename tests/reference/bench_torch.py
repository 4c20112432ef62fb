#!/usr/bin/python3
"""Times the passes `sktune bench` times, in PyTorch, on the same shapes, so the two
can be read side by side:

    build/sktune bench && /usr/bin/python3 tests/reference/bench_torch.py

GPT-2 small shape (12 layers, d=768, 12 heads, vocab 50257), random weights, batch
8 x 128 tokens, float32, the machine's cores. Passes: forward with the LM head;
forward + backward with frozen weights (gradients reach only the input embeddings,
as in parameter-efficient tuning); forward + backward with every weight trainable.
Each reports the median of --steps timed runs after one warm-up run.
Needs Debian's python3-torch.
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--d", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=50257)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    B, T, L, d, H, V = a.batch, a.seq, a.layers, a.d, a.heads, a.vocab
    dh = d // H
    g = torch.Generator().manual_seed(0)

    def w(*shape):
        return torch.randn(*shape, generator=g) * 0.02

    P = {"wte": w(V, d), "wpe": w(1024, d), "lnf_w": torch.ones(d), "lnf_b": torch.zeros(d)}
    for l in range(L):
        P.update({f"{l}.ln1_w": torch.ones(d), f"{l}.ln1_b": torch.zeros(d),
                  f"{l}.qkv_w": w(3 * d, d), f"{l}.qkv_b": torch.zeros(3 * d),
                  f"{l}.o_w": w(d, d), f"{l}.o_b": torch.zeros(d),
                  f"{l}.ln2_w": torch.ones(d), f"{l}.ln2_b": torch.zeros(d),
                  f"{l}.fc_w": w(4 * d, d), f"{l}.fc_b": torch.zeros(4 * d),
                  f"{l}.p_w": w(d, 4 * d), f"{l}.p_b": torch.zeros(d)})
    ids = torch.randint(0, V, (B, T), generator=g)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))

    def forward(emb):
        x = emb + P["wpe"][:T]
        for l in range(L):
            h = F.layer_norm(x, (d,), P[f"{l}.ln1_w"], P[f"{l}.ln1_b"])
            q, k, v = F.linear(h, P[f"{l}.qkv_w"], P[f"{l}.qkv_b"]).split(d, dim=2)
            q, k, v = (t.view(B, T, H, dh).transpose(1, 2) for t in (q, k, v))
            att = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
            att = att.masked_fill(~causal, float("-inf")).softmax(-1)
            y = (att @ v).transpose(1, 2).reshape(B, T, d)
            x = x + F.linear(y, P[f"{l}.o_w"], P[f"{l}.o_b"])
            h = F.layer_norm(x, (d,), P[f"{l}.ln2_w"], P[f"{l}.ln2_b"])
            h = F.gelu(F.linear(h, P[f"{l}.fc_w"], P[f"{l}.fc_b"]), approximate="tanh")
            x = x + F.linear(h, P[f"{l}.p_w"], P[f"{l}.p_b"])
        x = F.layer_norm(x, (d,), P["lnf_w"], P["lnf_b"])
        return x @ P["wte"].T

    def step(mode):
        if mode == "forward":
            with torch.no_grad():
                forward(P["wte"][ids])
            return
        emb = P["wte"][ids].detach().requires_grad_(True)
        logits = forward(emb)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
        loss.backward()

    n_params = sum(p.numel() for p in P.values())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"BLAS: {'openblas' if 'openblas' in torch.__config__.show().lower() else 'other'}")
    print(f"model  gpt2 {L}x{d}, {H} heads, vocab {V}: {n_params / 1e6:.1f}M params "
          f"(random weights), batch {B} x {T} tokens\n")
    print(f"{'pass (median of steps)':34s} {'ms/step':>9s} {'tokens/s':>10s}")
    for name, mode, train in [("forward + LM head", "forward", False),
                              ("forward + backward, frozen (PEFT)", "backward", False),
                              ("forward + backward, all weights", "backward", True)]:
        for p in P.values():
            p.requires_grad_(train)
            p.grad = None
        step(mode)
        times = []
        for _ in range(a.steps):
            for p in P.values():
                p.grad = None
            t0 = time.perf_counter()
            step(mode)
            times.append(time.perf_counter() - t0)
        s = statistics.median(times)
        print(f"{name:34s} {s * 1e3:9.1f} {B * T / s:10.0f}")


if __name__ == "__main__":
    main()
