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
import resource
import statistics
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--layers", type=int, default=None)
    ap.add_argument("--d", type=int, default=None)
    ap.add_argument("--heads", type=int, default=None)
    ap.add_argument("--vocab", type=int, default=None)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--arch", choices=["gpt2", "llama"], default="gpt2",
                    help="llama: SmolLM-135M's shape (30 x 576, 9 heads / 3 key-value, SwiGLU 1536, vocab 49152)")
    ap.add_argument("--kv-heads", type=int, default=3)
    ap.add_argument("--ff", type=int, default=1536)
    ap.add_argument("--methods", default=None,
                    help="all or a,b,...: one training step of each PEFT method, as sktune bench --methods")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    shape = {"gpt2": (12, 768, 12, 50257), "llama": (30, 576, 9, 49152)}[a.arch]
    for name, value in zip(("layers", "d", "heads", "vocab"), shape):
        if getattr(a, name) is None:
            setattr(a, name, value)
    if a.arch == "llama":
        return bench_llama(a)
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

    if a.methods:
        bench_methods(a, P, ids)
        return
    n_params = sum(p.numel() for p in P.values())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"BLAS: {'openblas' if 'openblas' in torch.__config__.show().lower() else 'other'}")
    print(f"model  gpt2 {L}x{d}, {H} heads, vocab {V}: {n_params / 1e6:.1f}M params "
          f"(random weights), batch {B} x {T} tokens\n")
    time_passes(P, step, B * T, a.steps)


def time_passes(P, step, tokens, steps):
    """The three passes, each the median of `steps` timed runs after a warm-up; then the
    process's peak resident memory."""
    print(f"{'pass (median of steps)':34s} {'ms/step':>9s} {'tokens/s':>10s}")
    for name, mode, train in [("forward + LM head", "forward", False),
                              ("forward + backward, frozen (PEFT)", "backward", False),
                              ("forward + backward, all weights", "backward", True)]:
        for p in P.values():
            p.requires_grad_(train)
            p.grad = None
        step(mode)
        times = []
        for _ in range(steps):
            for p in P.values():
                p.grad = None
            t0 = time.perf_counter()
            step(mode)
            times.append(time.perf_counter() - t0)
        s = statistics.median(times)
        print(f"{name:34s} {s * 1e3:9.1f} {tokens / s:10.0f}")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (resident, whole process)")


def bench_llama(a):
    """The same three passes on a Llama-shaped model (RMSNorm, rotary embeddings,
    grouped-query attention, SwiGLU, tied embeddings), as sktune bench --arch llama."""
    B, T, L, d, H, Hkv, F_, V = a.batch, a.seq, a.layers, a.d, a.heads, a.kv_heads, a.ff, a.vocab
    dh = d // H
    g = torch.Generator().manual_seed(0)

    def w(*shape):
        return torch.randn(*shape, generator=g) * 0.02

    P = {"emb": w(V, d), "norm": torch.ones(d)}
    for l in range(L):
        P.update({f"{l}.ln1": torch.ones(d), f"{l}.q": w(H * dh, d), f"{l}.k": w(Hkv * dh, d),
                  f"{l}.v": w(Hkv * dh, d), f"{l}.o": w(d, H * dh), f"{l}.ln2": torch.ones(d),
                  f"{l}.gate": w(F_, d), f"{l}.up": w(F_, d), f"{l}.down": w(d, F_)})
    ids = torch.randint(0, V, (B, T), generator=g)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    inv = 1.0 / (10000.0 ** (torch.arange(0, dh, 2).float() / dh))
    ang = torch.arange(T).float()[:, None] * inv[None, :]
    cos, sin = torch.cat((ang, ang), -1).cos(), torch.cat((ang, ang), -1).sin()

    def rms(x, wt):
        return wt * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))

    def rot(x):
        x1, x2 = x[..., : dh // 2], x[..., dh // 2:]
        return x * cos + torch.cat((-x2, x1), -1) * sin

    def forward(emb):
        x = emb
        for l in range(L):
            h = rms(x, P[f"{l}.ln1"])
            q = F.linear(h, P[f"{l}.q"]).view(B, T, H, dh).transpose(1, 2)
            k = F.linear(h, P[f"{l}.k"]).view(B, T, Hkv, dh).transpose(1, 2)
            v = F.linear(h, P[f"{l}.v"]).view(B, T, Hkv, dh).transpose(1, 2)
            q, k = rot(q), rot(k)
            k, v = k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1)
            att = ((q @ k.transpose(-1, -2)) / math.sqrt(dh)).masked_fill(~causal, float("-inf")).softmax(-1)
            x = x + F.linear((att @ v).transpose(1, 2).reshape(B, T, H * dh), P[f"{l}.o"])
            h = rms(x, P[f"{l}.ln2"])
            x = x + F.linear(F.silu(F.linear(h, P[f"{l}.gate"])) * F.linear(h, P[f"{l}.up"]), P[f"{l}.down"])
        return rms(x, P["norm"]) @ P["emb"].T

    def step(mode):
        if mode == "forward":
            with torch.no_grad():
                forward(P["emb"][ids])
            return
        emb = P["emb"][ids].detach().requires_grad_(True)
        loss = F.cross_entropy(forward(emb)[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
        loss.backward()

    n_params = sum(p.numel() for p in P.values())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"model  llama {L}x{d}, {H} heads ({Hkv} key/value), ff {F_}, vocab {V}: {n_params / 1e6:.1f}M params "
          f"(random weights), batch {B} x {T} tokens\n")
    time_passes(P, step, B * T, a.steps)


def bench_methods(a, P, ids):
    """One training step (forward, backward, AdamW) of each method, with the same
    shapes and defaults as `sktune bench --methods`: linear head on the last token,
    prompt of 10 tokens for sk_prefix/sk_prompt (the GPT-2 ids of the bench prompt),
    20 virtual tokens, prefix projection hidden 512, LoRA r=8 on c_attn, rank-8
    SK adapters."""
    B, T, L, d, H, V = a.batch, a.seq, a.layers, a.d, a.heads, a.vocab
    dh = d // H
    g = torch.Generator().manual_seed(1)
    prompt = torch.tensor([9487, 1958, 262, 3967, 393, 4633, 15598, 422, 262, 2420])

    def run(x_ids=None, embeds=None, pos0=0, prefix=None, lora=None, states=False, grad_ok=True):
        x = embeds if embeds is not None else P["wte"][x_ids]
        n = x.shape[1]
        x = x + P["wpe"][pos0:pos0 + n]
        Pn = prefix[0][0].shape[0] if prefix else 0
        vis = torch.ones(n, Pn + n, dtype=torch.bool)
        vis[:, Pn:] = torch.tril(torch.ones(n, n, dtype=torch.bool))
        out = []
        for l in range(L):
            out.append(x)
            h = F.layer_norm(x, (d,), P[f"{l}.ln1_w"], P[f"{l}.ln1_b"])
            qkv = F.linear(h, P[f"{l}.qkv_w"], P[f"{l}.qkv_b"])
            if lora is not None:
                qkv = qkv + (h @ lora[l][0].T) @ lora[l][1].T
            q, k, v = qkv.split(d, dim=2)
            b = x.shape[0]
            if prefix:
                k = torch.cat([prefix[l][0].expand(b, Pn, d), k], 1)
                v = torch.cat([prefix[l][1].expand(b, Pn, d), v], 1)
            q = q.view(b, n, H, dh).transpose(1, 2)
            k = k.view(b, Pn + n, H, dh).transpose(1, 2)
            v = v.view(b, Pn + n, H, dh).transpose(1, 2)
            att = ((q @ k.transpose(-1, -2)) / math.sqrt(dh)).masked_fill(~vis, float("-inf")).softmax(-1)
            y = (att @ v).transpose(1, 2).reshape(b, n, d)
            x = x + F.linear(y, P[f"{l}.o_w"], P[f"{l}.o_b"])
            h = F.layer_norm(x, (d,), P[f"{l}.ln2_w"], P[f"{l}.ln2_b"])
            h = F.gelu(F.linear(h, P[f"{l}.fc_w"], P[f"{l}.fc_b"]), approximate="tanh")
            x = x + F.linear(h, P[f"{l}.p_w"], P[f"{l}.p_b"])
        x = F.layer_norm(x, (d,), P["lnf_w"], P["lnf_b"])
        return (x, out) if states else x

    def param(*shape, std=0.02, zero=False):
        t = torch.zeros(*shape) if zero else torch.randn(*shape, generator=g) * std
        return t.requires_grad_(True)

    labels = torch.arange(B) % 2
    m = len(prompt)
    with torch.no_grad():
        _, st = run(prompt[None, :], states=True)
    width = 2 * L * d

    def kv_of(l, gl):
        h = F.layer_norm(gl, (d,), P[f"{l}.ln1_w"], P[f"{l}.ln1_b"])
        return (F.linear(h, P[f"{l}.qkv_w"][d:2 * d], P[f"{l}.qkv_b"][d:2 * d]),
                F.linear(h, P[f"{l}.qkv_w"][2 * d:], P[f"{l}.qkv_b"][2 * d:]))

    def make(name):
        if name == "sk_prefix":
            T_ = {f"U{l}": param(d, 8) for l in range(L)} | {f"V{l}": param(8, d, zero=True) for l in range(L)}
            def fwd():
                pre = [kv_of(l, st[l][0] + (st[l][0] @ T_[f"U{l}"]) @ T_[f"V{l}"]) for l in range(L)]
                return run(ids, pos0=m, prefix=pre)
            return T_, fwd
        if name == "sk_prompt":
            src = P["wte"][prompt]
            T_ = {"U": param(d, 8), "V": param(8, d, zero=True)}
            def fwd():
                gm = src + (src @ T_["U"]) @ T_["V"]
                e = torch.cat([gm.expand(B, m, d), P["wte"][ids]], 1)
                return run(embeds=e)[:, m:]
            return T_, fwd
        if name in ("prefix_tuning", "p_tuning_v2"):
            if name == "prefix_tuning":
                T_ = {"E": param(20, d, std=1.0), "W1": param(512, d), "b1": param(512),
                      "W2": param(width, 512), "b2": param(width)}
                tab = lambda: F.linear(torch.tanh(F.linear(T_["E"], T_["W1"], T_["b1"])), T_["W2"], T_["b2"])
            else:
                T_ = {"table": param(20, width, std=1.0)}
                tab = lambda: T_["table"]
            def fwd():
                t = tab()
                pre = [(t[:, 2 * l * d:(2 * l + 1) * d], t[:, (2 * l + 1) * d:(2 * l + 2) * d]) for l in range(L)]
                return run(ids, pos0=20, prefix=pre)
            return T_, fwd
        if name in ("prompt_tuning", "p_tuning"):
            if name == "prompt_tuning":
                T_ = {"P": param(20, d, std=1.0)}
                emb = lambda: T_["P"]
            else:
                T_ = {"E": param(20, d, std=1.0), "W1": param(d, d), "b1": param(d), "W2": param(d, d),
                      "b2": param(d), "W3": param(d, d), "b3": param(d)}
                emb = lambda: F.linear(F.relu(F.linear(F.relu(F.linear(T_["E"], T_["W1"], T_["b1"])),
                                                       T_["W2"], T_["b2"])), T_["W3"], T_["b3"])
            def fwd():
                e = torch.cat([emb().expand(B, 20, d), P["wte"][ids]], 1)
                return run(embeds=e)[:, 20:]
            return T_, fwd
        if name == "lora":
            T_ = {f"A{l}": param(8, d) for l in range(L)} | {f"B{l}": param(3 * d, 8, zero=True) for l in range(L)}
            return T_, lambda: run(ids, lora=[(T_[f"A{l}"], T_[f"B{l}"]) for l in range(L)])
        if name == "head_only":
            def fwd():
                with torch.no_grad():
                    return run(ids)
            return {}, fwd
        if name == "full":
            for p in P.values():
                p.requires_grad_(True)
            return dict(P), lambda: run(ids)
        raise ValueError(name)

    names = ["sk_prefix", "sk_prompt", "prefix_tuning", "p_tuning_v2", "prompt_tuning", "p_tuning",
             "lora", "head_only", "full"]
    if a.methods != "all":
        names = [n for n in names if n in a.methods.split(",")]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; one training step per method, "
          f"batch {B} x {T}")
    print(f"{'method':15s} {'trainable':>12s} {'ms/step':>9s} {'tokens/s':>10s}")
    for name in names:
        for p in P.values():
            p.requires_grad_(False)
        T_, fwd = make(name)
        Wh, bh = param(2, d), param(2, zero=True)
        params = list(T_.values()) + [Wh, bh]
        opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)

        def step():
            opt.zero_grad(set_to_none=True)
            hidden = fwd()
            loss = F.cross_entropy(F.dropout(hidden[:, -1], 0.1) @ Wh.T + bh, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()

        step()
        times = []
        for _ in range(a.steps):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        s = statistics.median(times)
        n = sum(p.numel() for p in params)
        print(f"{name:15s} {n:12d} {s * 1e3:9.1f} {B * T / s:10.0f}", flush=True)


if __name__ == "__main__":
    main()
