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
-- what `sktune convert` writes: a Hugging Face folder in F32 (dequantized exactly: the same
-- logits) with a tokenizer.json giving the same ids
local dir32 = os.tmpname()
os.remove(dir32)
m:save(dir32, {dtype = "F32"})
local m32 = sk.load_model(dir32)
local text = "Photosynthesis turns light into chemical energy."
local ids, ids32 = m.tokenizer:encode(text), m32.tokenizer:encode(text)
check(#ids == #ids32 and table.concat(ids, ",") == table.concat(ids32, ","), "saved tokenizer.json: same ids")
local a, b = m:logits(ids), m32:logits(ids)
local worst = 0
for t = 1, #ids do for v = 1, 49152, 97 do worst = math.max(worst, math.abs(a:get(t, v) - b:get(t, v))) end end
check(worst < 1e-4 and m32.held == "F32", "the F32 folder computes the GGUF's logits: max diff " .. worst)
os.execute("rm -rf '" .. dir32 .. "'")
print(string.format("test_smollm2.lua: %d checks, %d failed", checks, failures))
if failures > 0 then os.exit(1) end
