#!/usr/bin/env bash
# test_cli.sh - the sktune command line: exit codes, output, and bad inputs.
# usage: test_cli.sh SKTUNE FIXTURES_DIR
set -u
SK="$1"
FIX="$2"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
checks=0
failures=0

# expect CODE NEEDLE -- command...: runs it, checks the exit code and that
# stdout+stderr contain NEEDLE
expect() {
  local code="$1" needle="$2"
  shift 3
  local out rc
  out=$("$@" 2>&1 </dev/null)
  rc=$?
  checks=$((checks + 1))
  if [ "$rc" != "$code" ] || ! grep -qF -- "$needle" <<<"$out"; then
    failures=$((failures + 1))
    echo "FAIL: $* -> exit $rc (want $code), output lacks '$needle':"
    echo "$out" | head -5 | sed 's/^/    /'
  fi
}

expect 0 "usage:" -- "$SK" --help
expect 0 "sktune 0." -- "$SK" --version
expect 2 "usage:" -- "$SK"
expect 2 "needs a terminal" -- "$SK" tui
expect 2 "not both" -- "$SK" tui --task spam --data x.csv
expect 2 "--eval goes with --data" -- "$SK" tui --eval x.csv
expect 2 "--parallel must be a whole number" -- "$SK" tui --parallel 0
expect 2 "unknown option" -- "$SK" tui --modle x
expect 2 "unknown command" -- "$SK" frobnicate
expect 2 "--model DIR is required" -- "$SK" info
for cmd in info tokenize generate convert bench tui compare; do  # every command answers --help
  expect 0 "usage:" -- "$SK" $cmd --help
done
expect 0 "held in Q8_0+Q4_0+Q5_1+Q4_1+Q5_0+F16+BF16" -- "$SK" info --model "$FIX/gguf/llama-legacy.gguf"
expect 1 "holds 4 GGUF files" -- "$SK" info --model "$FIX/gguf"
expect 2 "--model GGUF and --out DIR are required" -- "$SK" convert --model x.gguf
expect 2 "--dtype is bf16, f16 or f32" -- "$SK" convert --model x.gguf --out y --dtype q4
expect 1 "tokenizer.ggml.merges missing" -- "$SK" convert --model "$FIX/gguf/qwen2-bias.gguf" --out "$(mktemp -d)/x"
expect 2 "unknown option" -- "$SK" info --modle x
expect 2 "needs a value" -- "$SK" info --model
expect 0 "parameters   43904" -- "$SK" info --model "$FIX/models/gpt2-tiny-f32"
expect 0 "dtype        BF16" -- "$SK" info --model "$FIX/models/gpt2-tiny-bf16"
expect 0 "positions    64 (rotary, theta 10000, 24 of 24 dims, scaling llama3 x8)" -- "$SK" info --model "$FIX/models/llama-tiny-gqa"
expect 0 "biases       q/k/v yes, o no, mlp no" -- "$SK" info --model "$FIX/models/qwen2-tiny"
expect 0 "vocab.json + merges.txt" -- "$SK" info --model "$FIX/models/gpt2-tiny-sharded"
expect 1 "gpt2-tokenizer/config.json: No such file" -- "$SK" info --model "$FIX/gpt2-tokenizer"
expect 1 "config.json" -- "$SK" info --model "$TMP/none"
expect 0 "2 tokens: 15496 995" -- "$SK" tokenize --model "$FIX/gpt2-tokenizer" "Hello world"
expect 0 '" world"' -- "$SK" tokenize --model "$FIX/gpt2-tokenizer" "Hello world"
expect 0 "(special)" -- "$SK" tokenize --model "$FIX/gpt2-tokenizer" "<|endoftext|>"
out=$(printf 'Hello world' | "$SK" tokenize --model "$FIX/gpt2-tokenizer")
checks=$((checks + 1))
grep -qF "2 tokens: 15496 995" <<<"$out" || { failures=$((failures + 1)); echo "FAIL: tokenize from stdin"; }
expect 1 "no tokenizer.json" -- "$SK" tokenize --model "$TMP" "x"

# a truncated checkpoint is a clear error naming the file, never a crash
mkdir -p "$TMP/cut"
cp "$FIX/models/gpt2-tiny-f32/config.json" "$TMP/cut/"
head -c 20000 "$FIX/models/gpt2-tiny-f32/model.safetensors" >"$TMP/cut/model.safetensors"
expect 1 "cut/model.safetensors" -- "$SK" info --model "$TMP/cut"
printf '\x00\x00\x00\x00\x00\x00\x10\x00{}' >"$TMP/cut/model.safetensors"
expect 1 "runs past the end" -- "$SK" info --model "$TMP/cut"
printf '{"model_type": "gpt2", "n_embd": 32' >"$TMP/cut/config.json"
expect 1 "config.json: malformed JSON" -- "$SK" info --model "$TMP/cut"

# sktune generate
expect 0 "The cat" -- "$SK" generate --model "$FIX/models/gpt2-tiny-f32" --prompt "The cat" --max-tokens 4
expect 2 "--temperature >= 0" -- "$SK" generate --model "$FIX/models/gpt2-tiny-f32" --temperature -1
expect 1 "config.json" -- "$SK" generate --model "$TMP/none"
a=$("$SK" generate --model "$FIX/models/gpt2-tiny-f32" --prompt "x" --temperature 1 --seed 4 --max-tokens 8)
b=$("$SK" generate --model "$FIX/models/gpt2-tiny-f32" --prompt "x" --temperature 1 --seed 4 --max-tokens 8)
checks=$((checks + 1))
[ "$a" = "$b" ] || { failures=$((failures + 1)); echo "FAIL: generate is not repeatable under a seed"; }

# sktune compare: a small real comparison on the test model
expect 0 "claim 4: faster wall-clock per step than prefix tuning" -- "$SK" compare --model "$FIX/models/gpt2-tiny-f32" \
  --task gloss-sentiment --methods sk_prefix,prefix_tuning,head_only --steps 4 --seeds 2 --eval-every 2 --out "$TMP/cmp"
checks=$((checks + 1))
if [ -f "$TMP/cmp/results.csv" ] && [ -f "$TMP/cmp/curves.csv" ] && [ -f "$TMP/cmp/results.md" ] &&
   python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert len(d['methods'])==3 and len(d['verdicts'])==4" "$TMP/cmp/results.json"; then :; else
  failures=$((failures + 1)); echo "FAIL: compare output files"
fi
expect 0 "chosen: --lr-head_only" -- "$SK" run "$(dirname "$0")/../../scripts/sweep.lua" --model "$FIX/models/gpt2-tiny-f32" \
  --task gloss-sentiment --methods sk_prefix,head_only --steps 3 --grid 1e-3,1e-2 --out "$TMP/sweep"
checks=$((checks + 1))
grep -q -- "--lr-sk_prefix" "$TMP/sweep/chosen_lrs.txt" 2>/dev/null || { failures=$((failures + 1)); echo "FAIL: sweep chosen_lrs.txt"; }
expect 1 "unknown method nope" -- "$SK" compare --model "$FIX/models/gpt2-tiny-f32" --methods nope --steps 1
expect 1 "unknown option --stepz" -- "$SK" compare --stepz 3

# sktune run
expect 2 "usage: sktune run" -- "$SK" run
expect 1 "nope.lua" -- "$SK" run "$TMP/nope.lua"
printf 'print("args:", arg[0] ~= nil, arg[1], arg[2], select("#", ...))\n' >"$TMP/args.lua"
expect 0 "args:	true	x	y z	2" -- "$SK" run "$TMP/args.lua" x "y z"
printf 'error("boom from script")\n' >"$TMP/err.lua"
expect 1 "boom from script" -- "$SK" run "$TMP/err.lua"
printf 'local m = sk.load_model("%s/models/gpt2-tiny-f32")\nprint("decoded:", m.tokenizer:decode(m.tokenizer:encode("hi there")))\n' "$FIX" >"$TMP/ok.lua"
expect 0 "decoded:	hi there" -- "$SK" run "$TMP/ok.lua"
printf 'sk.load_model("%s/cut")\n' "$TMP" >"$TMP/bad.lua"
expect 1 "config.json: malformed JSON" -- "$SK" run "$TMP/bad.lua"
printf 'this is not lua\n' >"$TMP/syntax.lua"
expect 1 "syntax.lua:1" -- "$SK" run "$TMP/syntax.lua"

echo "test_cli.sh: $checks checks, $failures failed"
[ "$failures" = 0 ]
