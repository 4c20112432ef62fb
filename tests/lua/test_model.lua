-- test_model.lua - the Lua module `sk` against the PyTorch fixtures.
-- Run: sktune run tests/lua/test_model.lua tests/fixtures
local fixtures = assert(arg[1], "usage: sktune run test_model.lua FIXTURES_DIR")
local checks, failures = 0, 0
local function check(cond, msg)
  checks = checks + 1
  if not cond then
    failures = failures + 1
    print("FAIL " .. msg)
  end
end

local function errors_with(fn, needle, label)
  local ok, err = pcall(fn)
  check(not ok, label .. ": no error raised")
  if not ok then
    check(tostring(err):find(needle, 1, true) ~= nil,
          label .. ": error '" .. tostring(err) .. "' lacks '" .. needle .. "'")
  end
end

check(require("sk") == sk, "require 'sk' returns the global sk")
check(type(sk.version) == "string", "sk.version")

local dir = fixtures .. "/models/gpt2-tiny-f32"
local m = sk.load_model(dir)
local c = m.config
check(c.arch == "gpt2" and c.n_layer == 2 and c.d_model == 32 and c.n_head == 4, "config fields")
check(c.n_kv_head == 4 and c.vocab_size == 512 and c.max_seq == 64, "config sizes")
check(c.n_params == 43904, "n_params " .. tostring(c.n_params))

-- logits and hidden states of row 1 of the fixture (no padding) against PyTorch
local ids_t = sk.load_npy(dir .. "/ref/ids.npy")
local T = ids_t:shape()[2]
local ids = {}
for t = 1, T do ids[t] = math.tointeger(ids_t:get(1, t)) end
local function max_rel(a, ref, rows, cols)
  local diff, scale = 0, 0
  for i = 1, rows do
    for j = 1, cols do
      local r = ref:get(1, i, j)
      diff = math.max(diff, math.abs(a:get(i, j) - r))
      scale = math.max(scale, math.abs(r))
    end
  end
  return diff / scale
end
local lg = m:logits(ids)
local shp = lg:shape()
check(shp[1] == T and shp[2] == 512, "logits shape")
local e = max_rel(lg, sk.load_npy(dir .. "/ref/logits.npy"), T, 512)
check(e < 1e-4, "logits rel err " .. e)
local h = m:hidden(ids)
e = max_rel(h, sk.load_npy(dir .. "/ref/hidden.npy"), T, 32)
check(e < 1e-4, "hidden rel err " .. e)
print(string.format("logits/hidden vs PyTorch: ok (rel err %.1e)", e))

-- the bf16 checkpoint without the transformer. prefix
local mb = sk.load_model(fixtures .. "/models/gpt2-tiny-bf16")
check(mb.config.dtype == "BF16" and mb.config.d_ff == 80, "bf16 model config")

-- tokenizer
local tok = m.tokenizer
local enc = tok:encode("The quick brown fox")
check(#enc > 0 and tok:decode(enc) == "The quick brown fox", "encode/decode round trip")
local with = tok:encode("a<|endoftext|>b")
check(#with == 3 and with[2] == 511, "special token split out")
check(#tok:encode("hi", {special = false}) == #tok:encode("hi"), "GPT-2 adds no BOS")
check(tok:piece(with[2]) == "<|endoftext|>", "piece of a special token")
check(tok.vocab_size == 512, "tokenizer vocab_size")
local full = sk.load_model(fixtures .. "/models/gpt2-tiny-sharded")
check(full.config.dtype == "F16", "sharded F16 model")

-- tensors and npy
local path = os.tmpname()
lg:save_npy(path)
local back = sk.load_npy(path)
check(back:shape()[1] == T and back:get(3, 7) == lg:get(3, 7), "save_npy/load_npy round trip")
os.remove(path)
check(tostring(lg):find("sk.Tensor%[9, 512%]") ~= nil, "tostring " .. tostring(lg))

-- generation: greedy picks the argmax; a seed fixes sampling; top_k = 1 is greedy
local prompt_ids = tok:encode("The quick brown fox")
local last = m:logits(prompt_ids):row(#prompt_ids)
local best = 1
for v = 2, #last do if last[v] > last[best] then best = v end end
local text, gids = m:generate(prompt_ids, {max_tokens = 8})
check(gids[1] == best - 1 and #gids == 8, "greedy first token is the argmax")
check(tok:decode(gids) == text, "generate returns the decoded text")
local _, s1 = m:generate("The quick brown fox", {max_tokens = 12, temperature = 1.0, top_p = 0.9, seed = 5})
local _, s2 = sk.generate(m, "The quick brown fox", {max_tokens = 12, temperature = 1.0, top_p = 0.9, seed = 5})
local _, s3 = m:generate("The quick brown fox", {max_tokens = 12, temperature = 1.0, top_p = 0.9, seed = 6})
check(table.concat(s1, ",") == table.concat(s2, ","), "same seed, same sample")
check(table.concat(s1, ",") ~= table.concat(s3, ","), "another seed, another sample")
local _, k1 = m:generate(prompt_ids, {max_tokens = 8, temperature = 0.7, top_k = 1, seed = 9})
check(table.concat(k1, ",") == table.concat(gids, ","), "top_k = 1 equals greedy")
local streamed = {}
m:generate(prompt_ids, {max_tokens = 5, on_token = function(piece, id) streamed[#streamed + 1] = id; return #streamed == 3 end})
check(#streamed == 3, "on_token streams and can stop")
errors_with(function() m:generate(prompt_ids, {max_tokens = 5, on_token = function() error("token boom") end}) end,
            "token boom", "on_token error propagates")

-- save in Hugging Face layout, load back: the same logits and tokens
local sdir = os.tmpname(); os.remove(sdir)
mb:save(sdir, {dtype = "BF16"})
local back = sk.load_model(sdir)
local ids2 = mb.tokenizer:encode("a<|endoftext|>b c")
local la, lb = mb:logits(ids2), back:logits(ids2)
local same = true
for t = 1, #ids2 do for v = 1, 512, 7 do same = same and la:get(t, v) == lb:get(t, v) end end
check(same and back.config.dtype == "BF16", "save -> load gives identical logits")
check(table.concat(back.tokenizer:encode("a<|endoftext|>b c"), ",") == table.concat(ids2, ","), "saved tokenizer.json")
os.execute("rm -rf " .. sdir)

-- errors a user can act on
errors_with(function() sk.load_model("/nonexistent/model") end, "config.json", "missing model dir")
errors_with(function() m:logits({1, 2, 99999}) end, "not an id", "token id out of range")
errors_with(function() m:logits({}) end, "empty", "empty id list")
local long = {}
for i = 1, 65 do long[i] = 1 end
errors_with(function() m:logits(long) end, "exceed", "too many tokens")
errors_with(function() lg:get(0, 1) end, "outside", "tensor index out of range")
errors_with(function() lg:get(1) end, "needs 2 indices", "tensor rank mismatch")
errors_with(function() sk.load_npy("/nonexistent.npy") end, "nonexistent.npy", "missing npy")
errors_with(function() tok:decode({100000}) end, "not an id", "decode bad id")

-- holding the weights in 16 bits: half the memory, logits of the rounded weights
local m16 = sk.load_model(fixtures .. "/models/gpt2-tiny-bf16")
check(m16.held == "BF16", "a BF16 checkpoint is held in BF16: " .. m16.held)
local ids16 = m16.tokenizer:encode("The quick brown fox")
local before = m16:logits(ids16):row(#ids16)
local bytes16 = m16.weight_bytes
m16:hold_weights("f32")
check(m16.held == "F32" and m16.weight_bytes > 1.9 * bytes16, "f32 holding doubles the matrices' memory")
local after = m16:logits(ids16):row(#ids16)
local same = true
for v = 1, #before do same = same and math.abs(before[v] - after[v]) <= 1e-5 * (1 + math.abs(before[v])) end
check(same, "the same values held in fp32 give the same logits")
m16:hold_weights("bf16")
check(m16.held == "BF16" and m16.weight_bytes == bytes16, "and back to BF16")
errors_with(function() m16:hold_weights("int8") end, "bf16, f16 or f32", "hold_weights bad type")

print(string.format("test_model.lua: %d checks, %d failed", checks, failures))
if failures > 0 then os.exit(1) end
