-- test_bundled.lua - the bundled model, models/tiny-gpt2: it loads as a Hugging Face
-- GPT-2, its perplexity on a fixed held-out sample (tests/fixtures/heldout.txt, text
-- that was not trained on) stays under the bound documented in its card, and
-- generation is deterministic under a seed.
-- Run: sktune run tests/lua/test_bundled.lua MODEL_DIR FIXTURES_DIR
local dir, fixtures = arg[1], arg[2]
local checks, failures = 0, 0
local function check(cond, msg)
  checks = checks + 1
  if not cond then failures = failures + 1; print("FAIL " .. msg) end
end
local m = sk.load_model(dir)
check(m.config.arch == "gpt2" and m.config.n_layer == 6 and m.config.d_model == 256, "bundled model config")
check(m.config.dtype == "BF16" and m.tokenizer.vocab_size == 8192, "BF16 weights, 8,192-token tokenizer")
local BOUND = 120 -- documented in models/tiny-gpt2/README.md
local loss, ppl = m:perplexity(fixtures .. "/heldout.txt", {seq = 128, windows = 16})
print(string.format("  held-out sample: loss %.3f, perplexity %.1f (bound %d)", loss, ppl, BOUND))
check(ppl < BOUND, "perplexity " .. ppl .. " under " .. BOUND)
local a = m:generate("In the beginning", {max_tokens = 20, temperature = 0.9, top_p = 0.9, seed = 7})
local b = m:generate("In the beginning", {max_tokens = 20, temperature = 0.9, top_p = 0.9, seed = 7})
check(a == b and #a > 0, "sampling is repeatable under a seed")
local g1, g2 = m:generate("The function", {max_tokens = 12}), m:generate("The function", {max_tokens = 12})
check(g1 == g2, "greedy is deterministic")
print(string.format("test_bundled.lua: %d checks, %d failed", checks, failures))
if failures > 0 then os.exit(1) end
