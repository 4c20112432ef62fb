-- test_smollm2.lua - the real SmolLM2-135M-Instruct (scripts/setup fetches it) reads the
-- bundled tasks' suggested prompts: zero-shot on the validation splits clearly above the
-- majority class for wordnet-topic and gloss-sentiment, the chat template wraps a prompt as
-- ChatML, the weights stay quantized. Skipped (exit 77) when the model is absent.
-- Run: sktune run tests/lua/test_smollm2.lua MODEL_DIR
local dir = arg[1]
local ok, m = pcall(sk.load_model, dir)
if not ok then print(dir .. ": " .. tostring(m) .. "; skipped"); os.exit(77) end
local checks, failures = 0, 0
local function check(cond, msg)
  checks = checks + 1
  if not cond then failures = failures + 1; print("FAIL " .. msg) end
end
check(m.held == "Q8_0+Q4_1" and m.weight_bytes < 100e6, "held quantized as stored: " .. m.held)
local before, after = m.tokenizer:chat_wrap("Hi", "!")
check(before == "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
               .. "<|im_start|>user\nHi", "chat_wrap before: " .. before)
check(after == "!<|im_end|>\n<|im_start|>assistant\n", "chat_wrap after: " .. after)
-- the bound each suggested layout must beat on its whole validation split: well above the
-- majority class (0.125 and 0.5); measured 0.590 and 0.770 (README, "Using a real model")
for name, bound in pairs({["wordnet-topic"] = 0.45, ["gloss-sentiment"] = 0.65}) do
  local t = sk.data.task(name)
  local r = sk.evaluate{model = m, method = sk.method.sk_prefix{prompt = t.prompt}, data = t.validation,
                        head = {kind = "verbalizer", words = t.words, template = t.template}}
  print(string.format("  %s: zero-shot %.3f with the suggested prompt and template", name, r.accuracy))
  check(r.accuracy > bound, name .. " zero-shot " .. r.accuracy .. " > " .. bound)
end
print(string.format("test_smollm2.lua: %d checks, %d failed", checks, failures))
if failures > 0 then os.exit(1) end
