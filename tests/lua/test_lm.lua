-- test_lm.lua - causal-LM pretraining: the loss falls, perplexity is reported,
-- checkpoints resume bit for bit, and a pretrained model saves and loads.
-- Run: sktune run tests/lua/test_lm.lua tests/fixtures
local fixtures = assert(arg[1], "usage: sktune run test_lm.lua FIXTURES_DIR")
local checks, failures = 0, 0
local function check(cond, msg)
  checks = checks + 1
  if not cond then failures = failures + 1; print("FAIL " .. msg) end
end
local tmp = os.tmpname(); os.remove(tmp); os.execute("mkdir -p " .. tmp)
local tokdir = fixtures .. "/models/gpt2-tiny-f32"
local text = ("the cat sat on the mat. the dog sat on the log. a bird sang in the tree. "):rep(40)
local f = io.open(tmp .. "/corpus.txt", "w"); f:write(text); f:close()
local g = io.open(tmp .. "/val.txt", "w"); g:write(("the dog sat on the mat. the cat sang in the tree. "):rep(10)); g:close()

local function fresh() return sk.new_model{n_layer = 2, d_model = 32, n_head = 4, max_seq = 64, tokenizer = tokdir, seed = 3} end
local m = fresh()
check(m.config.n_layer == 2 and m.config.vocab_size == 512, "sk.new_model config")
local _, ppl0 = m:perplexity(tmp .. "/val.txt", {seq = 32, windows = 8})
local run = sk.pretrain{model = m, train = tmp .. "/corpus.txt", val = tmp .. "/val.txt", steps = 300, batch = 8,
                        seq = 32, lr = 3e-3, warmup = 5, eval_every = 40, eval_windows = 8}
local first, last = run.history[1].loss, run.history[#run.history].loss
local _, ppl1 = m:perplexity(tmp .. "/val.txt", {seq = 32, windows = 8})
print(string.format("  pretraining: loss %.3f -> %.3f; validation perplexity %.1f -> %.1f (%d params, %.2fs)",
                    first, last, ppl0, ppl1, run.params, run.seconds))
check(last < first * 0.5, "loss falls: " .. first .. " -> " .. last)
check(ppl1 < ppl0 / 4, "perplexity falls: " .. ppl0 .. " -> " .. ppl1)
check(run.history[40].val_perplexity ~= nil and run.history[41].val_perplexity == nil, "evaluation every 40 steps")
local greedy = m:generate("the cat", {max_tokens = 6})
check(greedy:find("sat") ~= nil, "the pretrained model continues 'the cat' with 'sat': '" .. greedy .. "'")

-- resume: 3 steps, stop, resume to 6 == 6 straight
local function losses(r, from) local t = {} for i = from, #r.history do t[#t + 1] = r.history[i].loss end return t end
local opts = function(out, extra)
  local o = {train = tmp .. "/corpus.txt", steps = 6, batch = 4, seq = 16, lr = 3e-3, checkpoint_every = 3,
             eval_every = 0, out = out, seed = 11}
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end
local oA = opts(tmp .. "/a"); oA.model = fresh()
local A = sk.pretrain(oA)
local oB = opts(tmp .. "/b", {on_step = function(ev) return ev.step == 3 end}); oB.model = fresh()
local B = sk.pretrain(oB)
check(B.steps == 3, "stopped after 3 steps")
local oC = opts(tmp .. "/b", {resume = true}); oC.model = fresh()
local C = sk.pretrain(oC)
local a, c = losses(A, 4), losses(C, 1)
local same = #a == 3 and #c == 3
for i = 1, 3 do same = same and a[i] == c[i] end
check(same, "resumed run continues bit for bit: " .. table.concat(a, ",") .. " vs " .. table.concat(c, ","))
local lines = 0
for _ in io.lines(tmp .. "/b/metrics.jsonl") do lines = lines + 1 end
check(lines == 6, "metrics.jsonl of the resumed run has 6 steps: " .. lines)

-- save the pretrained model in Hugging Face layout and load it back
m:save(tmp .. "/model", {dtype = "BF16"})
local back = sk.load_model(tmp .. "/model")
local _, pb = back:perplexity(tmp .. "/val.txt", {seq = 32, windows = 8})
check(math.abs(pb - ppl1) / ppl1 < 0.05, string.format("BF16 copy perplexity %.2f vs %.2f", pb, ppl1))

-- a Llama-architecture model from scratch: it learns the same text, saves as Hugging Face's
-- LlamaForCausalLM and loads back (held in BF16) with the same perplexity
local ml = sk.new_model{arch = "llama", n_layer = 2, d_model = 32, n_head = 4, n_kv_head = 2, max_seq = 64,
                        tokenizer = tokdir, seed = 3}
check(ml.config.arch == "llama" and ml.config.n_kv_head == 2, "sk.new_model{arch = 'llama'}")
local _, lp0 = ml:perplexity(tmp .. "/val.txt", {seq = 32, windows = 8})
local lr_ = sk.pretrain{model = ml, train = tmp .. "/corpus.txt", steps = 200, batch = 8, seq = 32, lr = 3e-3,
                        warmup = 5, eval_every = 0}
local _, lp1 = ml:perplexity(tmp .. "/val.txt", {seq = 32, windows = 8})
print(string.format("  llama pretraining: loss %.3f -> %.3f; validation perplexity %.1f -> %.1f", lr_.history[1].loss,
                    lr_.history[#lr_.history].loss, lp0, lp1))
check(lp1 < lp0 / 4, "the llama model learns: perplexity " .. lp0 .. " -> " .. lp1)
ml:save(tmp .. "/llama", {dtype = "BF16"})
local lback = sk.load_model(tmp .. "/llama")
local _, lpb = lback:perplexity(tmp .. "/val.txt", {seq = 32, windows = 8})
check(lback.config.arch == "llama" and lback.held == "BF16", "saved llama loads as llama, held in BF16")
check(math.abs(lpb - lp1) / lp1 < 0.05, string.format("llama BF16 copy perplexity %.2f vs %.2f", lpb, lp1))
local okn, errn = pcall(sk.new_model, {arch = "llama", n_layer = 2, d_model = 32, n_head = 4, n_kv_head = 3,
                                       tokenizer = tokdir})
check(not okn and tostring(errn):find("n_kv_head dividing n_head", 1, true), "n_kv_head must divide n_head")
local okt, errt = pcall(sk.new_model, {n_layers = 2, tokenizer = tokdir})
check(not okt and tostring(errt):find('unknown option "n_layers"', 1, true), "sk.new_model option typo")
local okp, errp = pcall(sk.pretrain, {model = ml, train = tmp .. "/corpus.txt", stepz = 3})
check(not okp and tostring(errp):find('unknown option "stepz"', 1, true), "sk.pretrain option typo")

os.execute("rm -rf " .. tmp)
print(string.format("test_lm.lua: %d checks, %d failed", checks, failures))
if failures > 0 then os.exit(1) end
