#!/usr/bin/env python3
"""Builds the pretraining corpus of the bundled model (not committed; about 25 MB):

    python3 datasets/corpus/prepare.py OUT_DIR

Sources (all from Debian packages, all free to use):
  web      World English Bible (public domain), Debian sword-text-web, exported with
           diatheke; one document per chapter, verse numbers removed
  pydoc    Python 3.11 documentation sources (PSF licence), Debian python3-doc,
           reStructuredText reduced to prose; one document per file
  wordnet  WordNet 3.0 glosses and examples (WordNet licence), Debian wordnet-base,
           "word: definition; examples" lines in chunks of 40 synsets
  spam     the train split of datasets/spam (CC0)
No text of a bundled task's validation or test split is included: WordNet glosses
whose definition appears there are skipped. 1% of the documents (by an MD5 of their
text) are held out as OUT_DIR/val.txt; the rest is OUT_DIR/train.txt. Documents are
separated by <|endoftext|>. The output is the same bytes every time.
"""
import hashlib
import html
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EOT = "<|endoftext|>"


def norm(s):
    return re.sub(r"\s+", " ", s.lower()).strip()


def web_docs():
    raw = subprocess.run(["diatheke", "-b", "engWEB2015eb", "-k", "Genesis 1:1-Revelation 22:21"],
                         capture_output=True, text=True, check=True).stdout
    raw = raw.replace("</w><w", "</w> <w")
    chapters, cur, key = [], [], None
    for line in raw.split("\n"):
        # markup (psalm titles, line groups) may precede the reference: drop it first
        plain = html.unescape(re.sub(r"<[^>]*>", " ", line))
        m = re.search(r"(?:^|\s)((?:I{1,3} )?[A-Z][A-Za-z ]*?) (\d+):(\d+): (.*)$", plain)
        if not m:
            continue
        book, ch, text = m.group(1), m.group(2), m.group(4)
        text = re.sub(r"\s+", " ", text).strip()
        if (book, ch) != key:
            if cur:
                chapters.append(f"{key[0]} {key[1]}\n" + " ".join(cur))
            cur, key = [], (book, ch)
        if text:
            cur.append(text)
    if cur:
        chapters.append(f"{key[0]} {key[1]}\n" + " ".join(cur))
    return chapters


def rst_to_text(s):
    out, skip_block = [], False
    for line in s.split("\n"):
        if re.match(r"^\.\. ", line):          # directives, comments, targets
            skip_block = True
            continue
        if skip_block and (line.startswith("   ") or not line.strip()):
            if not line.strip():
                skip_block = False
            continue
        skip_block = False
        if re.match(r"^[=\-~^*#+`'\".:]{3,}\s*$", line):  # heading underlines
            continue
        if line.startswith("    ") or line.startswith(">>>") or line.startswith("..."):  # code
            continue
        line = re.sub(r":[a-z:]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", line)  # roles
        line = re.sub(r"``([^`]*)``", r"\1", line)
        line = re.sub(r"`([^`<]*?)(?:\s*<[^>]*>)?`_*", r"\1", line)
        line = line.replace("**", "").replace("::", ":")
        out.append(line.strip())
    text = "\n".join(out)
    paras = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    return "\n".join(p for p in paras if len(p) > 40)


def pydoc_docs():
    base = "/usr/share/doc/python3.11/html/_sources"
    docs = []
    for dirpath, _, files in sorted(os.walk(base)):
        for f in sorted(files):
            if f.endswith(".rst.txt"):
                t = rst_to_text(open(os.path.join(dirpath, f), encoding="utf-8", errors="replace").read())
                if len(t) > 200:
                    docs.append(t)
    return docs


def held_out_texts():
    """Texts of the bundled tasks' validation and test splits (never pretrained on)."""
    texts = set()
    for task in ("wordnet-topic", "gloss-sentiment", "spam"):
        for split in ("validation", "test"):
            p = os.path.join(ROOT, "datasets", task, f"{split}.jsonl")
            for line in open(p, encoding="utf-8"):
                texts.add(norm(json.loads(line)["text"]))
    return texts


def wordnet_docs(held):
    lines, skipped = [], 0
    for pos in ("noun", "verb", "adj", "adv"):
        for line in open(f"/usr/share/wordnet/data.{pos}", encoding="latin-1"):
            if line.startswith("  "):
                continue
            head, _, gloss = line.partition(" | ")
            f = head.split()
            word = f[4].replace("_", " ")
            definition = gloss.split('; "')[0].split(' "')[0].strip().rstrip(";").strip()
            if norm(definition) in held:
                skipped += 1
                continue
            lines.append(f"{word}: {gloss.strip()}")
    docs = ["\n".join(lines[i:i + 40]) for i in range(0, len(lines), 40)]
    return docs, skipped


def spam_docs():
    p = os.path.join(ROOT, "datasets", "spam", "train.jsonl")
    return [json.loads(l)["text"] for l in open(p, encoding="utf-8")]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    held = held_out_texts()
    wn, skipped = wordnet_docs(held)
    sources = {"web": web_docs(), "pydoc": pydoc_docs(), "wordnet": wn, "spam": spam_docs()}
    train, val, stats = [], [], {}
    for name, docs in sources.items():
        n_val = 0
        for d in docs:
            if norm(d) in held:
                continue
            if int(hashlib.md5(d.encode()).hexdigest(), 16) % 100 == 0:
                val.append(d)
                n_val += 1
            else:
                train.append(d)
        stats[name] = {"documents": len(docs), "bytes": sum(len(d.encode()) for d in docs), "validation_documents": n_val}
    stats["wordnet"]["glosses_skipped_as_task_eval_text"] = skipped
    for fname, docs in (("train.txt", train), ("val.txt", val)):
        with open(os.path.join(out, fname), "w", encoding="utf-8", newline="\n") as f:
            f.write(EOT.join(docs))
    json.dump(stats, open(os.path.join(out, "stats.json"), "w"), indent=2, sort_keys=True)
    print(json.dumps(stats, sort_keys=True))


if __name__ == "__main__":
    main()
