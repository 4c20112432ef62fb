-- model_card.lua - measures the bundled model and writes its card, models/tiny-gpt2/README.md.
--   build/sktune run scripts/model_card.lua [MODEL_DIR] [RUN_DIR] [CORPUS_DIR]
-- Everything in the card comes from this script: parameters and tokens from the run's
-- summary, the loss curve from its metrics.jsonl, validation perplexity on the held-out
-- corpus text, samples (greedy and seeded sampling), and the zero-shot verbalizer
-- accuracy of each bundled task's suggested prompt on its validation split.
local dir = arg[1] or "models/tiny-gpt2"
local run_dir = arg[2] or "runs/pretrain-tiny-gpt2"
local corpus = arg[3] or "corpus"
local m = sk.load_model(dir)
local c = m.config

local function read(p) local f = assert(io.open(p)); local s = f:read("a"); f:close(); return s end
local summary = read(run_dir .. "/summary-pretrain.json")
local function field(name) return tonumber(summary:match('"' .. name .. '": ([%d%.]+)')) end

-- the loss curve: training loss (mean of each 100 steps) and validation loss
local curve, val_points = {}, {}
local acc, n = 0, 0
for line in io.lines(run_dir .. "/metrics.jsonl") do
  local step = tonumber(line:match('"step":(%d+)'))
  local loss = tonumber(line:match('"loss":([%d%.e%-]+)'))
  local vl = tonumber(line:match('"val_loss":([%d%.e%-]+)'))
  if loss then acc, n = acc + loss, n + 1 end
  if step % 100 == 0 and n > 0 then curve[#curve + 1] = {step, acc / n}; acc, n = 0, 0 end
  if vl then val_points[#val_points + 1] = {step, vl} end
end
local function chart(points, height, width)
  local lo, hi = math.huge, -math.huge
  for _, p in ipairs(points) do lo = math.min(lo, p[2]); hi = math.max(hi, p[2]) end
  local rows = {}
  for r = 1, height do rows[r] = {} for x = 1, width do rows[r][x] = " " end end
  local last = points[#points][1]
  for _, p in ipairs(points) do
    local x = math.max(1, math.min(width, math.floor(p[1] / last * (width - 1) + 1.5)))
    local y = math.floor((hi - p[2]) / math.max(hi - lo, 1e-9) * (height - 1) + 1.5)
    rows[y][x] = "*"
  end
  local out = {}
  for r = 1, height do
    local v = hi - (r - 1) / (height - 1) * (hi - lo)
    out[#out + 1] = string.format("%6.2f |%s", v, table.concat(rows[r]))
  end
  out[#out + 1] = "       +" .. string.rep("-", width)
  out[#out + 1] = string.format("        step 0%s%d", string.rep(" ", width - 6 - #tostring(last)), last)
  return table.concat(out, "\n")
end

local val_loss, ppl = m:perplexity(corpus .. "/val.txt", {seq = 128, windows = 256})
local _, test_ppl = m:perplexity("tests/fixtures/heldout.txt", {seq = 128, windows = 16})

local prompts = {"In the beginning", "The function returns", "A dog is a", "Subject: meeting"}
local samples = {}
for _, p in ipairs(prompts) do
  local g = m:generate(p, {max_tokens = 30})
  local s = m:generate(p, {max_tokens = 30, temperature = 0.8, top_p = 0.9, seed = 1})
  samples[#samples + 1] = string.format("| `%s` | %s | %s |", p, (p .. g):gsub("\n", " "):gsub("|", "\\|"),
                                        (p .. s):gsub("\n", " "):gsub("|", "\\|"))
end

local zs = {}
for _, name in ipairs(sk.data.tasks()) do
  local t = sk.data.task(name)
  local head = {kind = "verbalizer", words = t.words}
  local with = sk.evaluate{model = m, method = sk.method.sk_prefix{prompt = t.prompt}, data = t.validation, head = head}
  local without = sk.evaluate{model = m, method = sk.method.head_only{}, data = t.validation, head = head}
  local counts = {}
  for i = 1, #t.validation do local l = t.validation:get(i).label; counts[l] = (counts[l] or 0) + 1 end
  local majority = 0
  for _, v in pairs(counts) do majority = math.max(majority, v) end
  zs[#zs + 1] = string.format("| `%s` | %d | %s | %.1f%% | %.1f%% | %.1f%% | %.3f |", name, #t.validation,
                              t.prompt, 100 * with.accuracy, 100 * without.accuracy,
                              100 * majority / #t.validation, with.f1)
  print(zs[#zs])
end

local card = {}
local function w(s) card[#card + 1] = s end
w("# tiny-gpt2: sktune's bundled model")
w("")
w("A small GPT-2-architecture language model that sktune pretrains itself (this machine has no")
w("access to downloadable weights), so a new user's first minute runs on a model that knows some")
w("English. It is a drop-in Hugging Face GPT-2 checkpoint: `config.json`, `model.safetensors`")
w("(BF16), `tokenizer.json` (byte-level BPE).")
w("")
w("| | |")
w("|---|---|")
w(string.format("| architecture | GPT-2, %d layers x %d, %d heads, %d positions, tied embeddings |", c.n_layer, c.d_model, c.n_head, c.max_seq))
w(string.format("| parameters | %d |", c.n_params))
w(string.format("| tokenizer | byte-level BPE, %d tokens, learned by `sk.tokenizer.train_bpe` on the training text |", c.vocab_size))
w(string.format("| training | %d steps x 16 windows x 128 tokens = %d tokens seen (%.2f passes over %d training tokens) |",
                field("steps"), field("tokens_seen"), field("tokens_seen") / field("train_tokens"), field("train_tokens")))
w(string.format("| validation perplexity | %.1f (mean loss %.3f nats/token over 256 windows of the %d held-out tokens) |", ppl, val_loss, field("validation_tokens")))
w(string.format("| test bound | perplexity %.1f on `tests/fixtures/heldout.txt` (4.8 KB of held-out text); `tests/lua/test_bundled.lua` requires it to stay under 120 |", test_ppl))
w(string.format("| size | %.1f MB (BF16 weights) + tokenizer.json |", c.n_params * 2 / 1e6))
w("")
w("Why a trained 8k BPE and not GPT-2's tokenizer: with GPT-2's 50,257 tokens the embedding table")
w("alone would take 12.9M of a 25 MB budget and the LM head would dominate every training step;")
w("8,192 tokens leave the parameters to the transformer and train about 2x faster per token.")
w("")
w("## Training data (`datasets/corpus/prepare.py`)")
w("")
w("| source | licence | documents | bytes |")
w("|---|---|---:|---:|")
local stats = read(corpus .. "/stats.json")
for _, s in ipairs{{"web", "World English Bible (Debian sword-text-web)", "public domain"},
                   {"pydoc", "Python 3.11 documentation (Debian python3-doc)", "PSF licence"},
                   {"wordnet", "WordNet 3.0 glosses (Debian wordnet-base)", "WordNet licence"},
                   {"spam", "train split of datasets/spam", "CC0"}} do
  local block = stats:match('"' .. s[1] .. '": (%b{})')
  w(string.format("| %s | %s | %s | %s |", s[2], s[3], block:match('"documents": (%d+)'), block:match('"bytes": (%d+)')))
end
w("")
w("No text of a bundled task's validation or test split is in the corpus (1,006 WordNet glosses")
w("were left out for that reason). 1% of the documents are held out for validation.")
w("")
w("## Loss curve")
w("")
w("Training loss (nats/token, mean of each 100 steps), from the run's `metrics.jsonl` (kept in `training/` with its summary and the corpus statistics):")
w("")
w("```")
w(chart(curve, 12, 60))
w("```")
w("")
w("Validation loss every 200 steps:")
w("")
local vl = {}
for _, p in ipairs(val_points) do vl[#vl + 1] = string.format("%d: %.3f", p[1], p[2]) end
w(table.concat(vl, " · "))
w("")
w("## Samples")
w("")
w("Greedy, and sampled (temperature 0.8, top-p 0.9, seed 1), 30 tokens each:")
w("")
w("| prompt | greedy | sampled |")
w("|---|---|---|")
for _, s in ipairs(samples) do w(s) end
w("")
w("## Zero-shot accuracy (verbalizer head, validation split)")
w("")
w("The untrained `sk_prefix` with each task's suggested prompt (identical to \"prompt + input\"),")
w("next to the same verbalizer with no prompt, and the majority class:")
w("")
w("| task | examples | prompt | with prompt | no prompt | majority | macro-F1 |")
w("|---|---:|---|---:|---:|---:|---:|")
for _, z in ipairs(zs) do w(z) end
w("")
w("A model this small is a weak zero-shot classifier; it is here so every method has something to")
w("start from. Regenerate this card with `build/sktune run scripts/model_card.lua`.")
w("")
w("## How to rebuild")
w("")
w("```sh")
w("/usr/bin/python3 datasets/corpus/prepare.py corpus      # needs sword-text-web, diatheke, python3-doc, wordnet-base")
w("build/sktune run scripts/pretrain_tiny.lua corpus runs/pretrain-tiny-gpt2 3000")
w("build/sktune run scripts/model_card.lua")
w("```")
w("")
w("Licence of the weights: the model is trained on public-domain, PSF-licensed, WordNet-licensed")
w("and CC0 text; the weights are released under the MIT licence like the rest of sktune.")
local f = io.open(dir .. "/README.md", "w"); f:write(table.concat(card, "\n"), "\n"); f:close()
print("wrote " .. dir .. "/README.md")
