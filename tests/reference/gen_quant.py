#!/usr/bin/env python3
"""Reference fixtures for sktune's GGUF tensor types (engine/ops/quant.c), from llama.cpp's
own Python package gguf (gguf.quants, which reimplements ggml's quantizers and
dequantizers in numpy), for tests/unit/test_quant.c.

Make the environment once and run the script from anywhere:

    python3 -m venv .venv && .venv/bin/pip install gguf==0.19.0 numpy==2.4.6
    .venv/bin/python tests/reference/gen_quant.py

It writes tests/fixtures/quant/:

  types.txt          every type gguf.constants knows: number, name, values per block,
                     bytes per block (GGML_QUANT_SIZES), for the C type table to match
  <T>.bin            raw blocks of type T (rows one after the other, as in a GGUF file)
  <T>.npy            the values they hold, float32, from gguf.quants.dequantize
  <T>_src.npy        legacy types only: the floats gguf.quants.quantize made <T>.bin from,
                     so the C quantizers can be checked byte for byte (Q8_0, Q4_0, Q4_1)

F32/F16/BF16 hold random values plus the special ones (zeros, subnormals, the largest
finite values, infinities, quiet and signalling NaNs). The legacy types (Q4_0 ... Q8_0)
quantize random normal rows, a row of zeros, a row with one huge value, a row so small its
fp16 scales are subnormal, and a row with an exact tie for the largest magnitude and values
on rounding ties, and a row whose Q4_0/Q4_1 bytes change if the C compiler fuses a multiply
and an add into an FMA. gguf.quants cannot quantize the K-quants, so their super-blocks are
random bytes with random finite fp16 scales, one with d = dmin = 0 and one with the
largest finite fp16, 65504. Deterministic (fixed seed).
"""
import os

import numpy as np
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T
import gguf.quants

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "fixtures", "quant")

rng = np.random.default_rng(20240611)


def save(name, raw, values, src=None):
    raw = np.ascontiguousarray(raw, dtype=np.uint8)
    values = np.ascontiguousarray(values, dtype=np.float32)
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(raw.tobytes())
    np.save(os.path.join(OUT, name + ".npy"), values)
    if src is not None:
        np.save(os.path.join(OUT, name + "_src.npy"), np.ascontiguousarray(src, dtype=np.float32))
    print(f"{name}: {values.size} values, {raw.size} bytes")


def random_finite_f16(n):
    """Random fp16 bit patterns over every exponent, subnormals included, no inf/NaN."""
    h = rng.integers(0, 1 << 16, size=n, dtype=np.uint32).astype(np.uint16)
    bad = (h & 0x7C00) == 0x7C00
    h[bad] &= 0xBFFF  # exponent 31 -> 15: a finite value
    return h


def plain_types():
    special16 = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x7BFF, 0xFBFF,
                 0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7C01, 0x7DFF, 0xFFFF, 0x3555]
    h = np.concatenate([np.array(special16, dtype=np.uint16),
                        rng.integers(0, 1 << 16, size=494, dtype=np.uint32).astype(np.uint16)])
    raw = h.view(np.uint8)
    save("F16", raw, gguf.quants.dequantize(raw, T.F16))
    bf = np.concatenate([np.array([0x0000, 0x8000, 0x0001, 0x007F, 0x0080, 0x7F7F, 0xFF7F, 0x7F80,
                                   0xFF80, 0x7FC0, 0x7F81, 0xFFFF, 0x3F80], dtype=np.uint16),
                         rng.integers(0, 1 << 16, size=499, dtype=np.uint32).astype(np.uint16)])
    raw = bf.view(np.uint8)
    save("BF16", raw, gguf.quants.dequantize(raw, T.BF16))
    bits = np.array([0x00000000, 0x80000000, 0x00000001, 0x007FFFFF, 0x7F7FFFFF, 0x7F800000,
                     0xFF800000, 0x7FC00000, 0x7F800001], dtype=np.uint32)
    f = np.concatenate([bits.view(np.float32), rng.standard_normal(247).astype(np.float32)])
    raw = f.view(np.uint8)
    save("F32", raw, gguf.quants.dequantize(raw, T.F32))


def contraction_block(offset):
    """A block of 32 whose Q4_0 (offset 8.5) or Q4_1 (offset 0.5) quantization changes if
    the compiler fuses ggml's x * id + offset into one fused multiply-add (which rounds
    once): values where the two roundings and the one straddle an integer, which trunc()
    then tells apart. Found by search; numpy computes without fusing, like the C code must."""
    f32 = np.float32
    while True:
        lo, hi = sorted(f32(v) for v in rng.uniform(-10, 10, 2))
        if offset == 8.5:  # Q4_0: the value of largest magnitude sets d = -max / 8
            big = hi if abs(hi) >= abs(lo) else lo
            d = f32(big / f32(-8))
            lo, hi = -abs(big), abs(big)
        else:              # Q4_1: d = (max - min) / 15 and x - min is rounded on its own
            d = f32((hi - lo) / f32(15))
        inv = f32(f32(1) / d)
        x = rng.uniform(lo, hi, 1 << 22).astype(np.float32)
        x = x[(x > lo) & (x < hi)]
        t = x if offset == 8.5 else (x - lo).astype(np.float32)
        two = ((t * inv).astype(np.float32) + f32(offset)).astype(np.float32)
        one = (t.astype(np.float64) * np.float64(inv) + offset).astype(np.float32)  # exact product
        hits = x[np.trunc(two) != np.trunc(one)]
        if len(hits) >= 2:
            block = (lo + (hi - lo) * rng.uniform(0.05, 0.95, 32)).astype(np.float32)  # inside (lo, hi)
            if offset == 8.5:
                block[0] = big
            else:
                block[0], block[1] = lo, hi
            block[4:4 + min(len(hits), 8)] = hits[:8]
            return block


def legacy_rows(n):
    rows = [rng.standard_normal(n),
            rng.standard_normal(n) * 0.05 + 0.3,  # all positive: Q4_1's min is positive
            np.zeros(n),
            rng.standard_normal(n),
            rng.standard_normal(n) * 1e-6,        # fp16 scales come out subnormal
            rng.standard_normal(n) * 3.0]
    rows[3][37] = 30000.0                          # one huge value (its block's scale ~fp16 max / 2)
    tie = rows[5]
    tie[:32] = rng.uniform(-3, 3, 32)
    tie[3], tie[10] = -4.0, 4.0                    # equal magnitudes: the first one is the max
    tie[32:64] = np.arange(32) - 15.5              # x.5 values, and
    tie[40] = 127.0                                # amax 127: Q8_0's d = 1 and exact ties
    fused = rng.standard_normal(n)
    fused[:32], fused[32:64] = contraction_block(8.5), contraction_block(0.5)
    rows.append(fused)
    return np.stack(rows).astype(np.float32)


def legacy_types():
    src = legacy_rows(128)
    for t in (T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0):
        raw = gguf.quants.quantize(src, t)
        save(t.name, raw, gguf.quants.dequantize(raw, t), src)


def k_types(nblocks=4):
    # (type, byte offsets of the fp16 d and, if any, dmin inside the block)
    layouts = [(T.Q2_K, 80, 82), (T.Q3_K, 108, None), (T.Q4_K, 0, 2), (T.Q5_K, 0, 2), (T.Q6_K, 208, None)]
    for t, d_at, dmin_at in layouts:
        size = GGML_QUANT_SIZES[t][1]
        blocks = rng.integers(0, 256, size=(nblocks, size), dtype=np.uint32).astype(np.uint8)
        for at in (d_at, dmin_at):
            if at is None:
                continue
            scales = random_finite_f16(nblocks)
            scales[1] = 0x0000  # d = dmin = 0
            scales[2] = 0x7BFF  # 65504, the largest finite fp16
            blocks[:, at:at + 2] = scales.view(np.uint8).reshape(nblocks, 2)
        save(t.name, blocks, gguf.quants.dequantize(blocks, t))


def types_table():
    with open(os.path.join(OUT, "types.txt"), "w") as f:
        f.write("# number name values_per_block bytes_per_block (gguf.constants.GGML_QUANT_SIZES)\n")
        for t in T:
            elems, size = GGML_QUANT_SIZES[t]
            f.write(f"{int(t)} {t.name} {elems} {size}\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    types_table()
    plain_types()
    legacy_types()
    k_types()


if __name__ == "__main__":
    main()
