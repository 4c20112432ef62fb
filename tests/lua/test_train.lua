-- test_train.lua - methods, heads, training, evaluation and adapters through `sk`.
-- Run: sktune run tests/lua/test_train.lua tests/fixtures
local fixtures = assert(arg[1], "usage: sktune run test_train.lua FIXTURES_DIR")
local checks, failures = 0, 0
local function check(cond, msg)
  checks = checks + 1
  if not cond then failures = failures + 1; print("FAIL " .. msg) end
end
local function errors_with(fn, needle, label)
  local ok, err = pcall(fn)
  check(not ok, label .. ": no error raised")
  if not ok then
    check(tostring(err):find(needle, 1, true) ~= nil, label .. ": '" .. tostring(err) .. "' lacks '" .. needle .. "'")
  end
end
local tmp = os.tmpname(); os.remove(tmp); os.execute("mkdir -p " .. tmp)

local m = sk.load_model(fixtures .. "/models/gpt2-tiny-f32")

-- a small task the random test model can learn: is the keyword "good" or "bad"?
local filler = {"the", "a", "cat", "dog", "sat", "on", "mat", "house", "tree", "runs", "big",
                "small", "over", "under", "and", "with"}
local seed = 7
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n + 1 end
local function make(n)
  local rows = {}
  for i = 1, n do
    local lab = (i % 2 == 0) and "pos" or "neg"
    local words, len = {}, 4 + rnd(5)
    local at = rnd(len)
    for j = 1, len do
      words[#words + 1] = (j == at) and (lab == "pos" and "good" or "bad") or filler[rnd(#filler)]
    end
    rows[#rows + 1] = {text = table.concat(words, " "), label = lab}
  end
  return sk.data.from{labels = {"neg", "pos"}, rows = rows}
end
local train, eval = make(64), make(48)
check(#train == 64 and train.labels[2] == "pos" and train:get(2).label == 2, "sk.data.from")

local probe = m:logits(m.tokenizer:encode("the good cat"))
-- every method learns well above chance (0.5) in a short run
local prompt = "Is the text good or bad?"
local methods = {
  {"sk_prefix", sk.method.sk_prefix{prompt = prompt}, 1e-2},
  {"sk_prefix", sk.method.sk_prefix{prompt = prompt, mode = "live"}, 1e-2},
  {"sk_prompt", sk.method.sk_prompt{prompt = prompt}, 1e-2},
  {"prefix_tuning", sk.method.prefix_tuning{n_virtual = 5}, 1e-2},
  {"p_tuning_v2", sk.method.p_tuning_v2{n_virtual = 5}, 1e-2},
  {"prompt_tuning", sk.method.prompt_tuning{n_virtual = 5}, 1e-2},
  {"p_tuning", sk.method.p_tuning{n_virtual = 5}, 1e-2},
  {"lora", sk.method.lora{}, 1e-2},
  {"lora", sk.method.lora{dropout = 0.1, targets = {"c_attn", "mlp.c_fc"}}, 1e-2},
  {"head_only", sk.method.head_only{}, 1e-2},
  {"full", sk.method.full{}, 1e-3},
}
for _, spec in ipairs(methods) do
  local run = sk.train{model = m, method = spec[2], train = train, eval = eval, steps = 150,
                       batch = 16, lr = spec[3], seed = 1, out = false, head = {pool = "mean"}}
  print(string.format("  %-14s %6d params  accuracy %.3f  (%s)", spec[1], run.params,
                      run.final.accuracy, run.describe))
  check(run.final.accuracy >= 0.7, spec[1] .. " accuracy " .. run.final.accuracy)
  check(run.params > 0 and #run.history == 150 and run.steps == 150, spec[1] .. " run fields")
  check(type(run.describe) == "string" and run.describe:find(spec[1], 1, true), spec[1] .. " describe")
end

-- full fine-tuning trained its own copy: the shared model is unchanged for later runs
local after = m:logits(m.tokenizer:encode("the good cat"))
check(after:get(3, 5) == probe:get(3, 5) and after:get(1, 1) == probe:get(1, 1), "full leaves the model as it was")

-- the same seed gives the same curve bit for bit; another seed does not
local function curve(s, extra)
  local opts = {model = m, method = sk.method.sk_prefix{prompt = prompt}, train = train, steps = 12,
                batch = 8, lr = 1e-2, seed = s, out = false}
  for k, v in pairs(extra or {}) do opts[k] = v end
  local run = sk.train(opts)
  local c = {}
  for i, h in ipairs(run.history) do c[i] = h.loss end
  return c, run
end
local a, b, c = curve(3), curve(3), curve(4)
local same, differs = true, false
for i = 1, #a do
  same = same and a[i] == b[i]
  differs = differs or a[i] ~= c[i]
end
check(same and #a == 12, "same seed, same curve")
check(differs, "another seed, another curve")

-- gradient accumulation: 2 x 8 follows the 1 x 16 trajectory (no dropout)
local g1 = curve(5, {batch = 16, head = {dropout = 0}, steps = 6})
local g2 = curve(5, {batch = 8, accum = 2, head = {dropout = 0}, steps = 6})
local close = true
for i = 1, 6 do close = close and math.abs(g1[i] - g2[i]) <= 1e-4 * math.abs(g1[i]) end
check(close, string.format("accum 2x8 vs 16: %.6f vs %.6f", g1[6], g2[6]))

-- run folder, adapter save -> load -> predict gives identical outputs
local out = tmp .. "/run1"
local run = sk.train{model = m, method = sk.method.sk_prefix{prompt = prompt}, train = train,
                     eval = eval, steps = 20, batch = 8, lr = 1e-2, seed = 2, eval_every = 10, out = out}
for _, f in ipairs{"config.json", "metrics.jsonl", "summary.json", "adapter.safetensors"} do
  local fh = io.open(out .. "/" .. f)
  check(fh ~= nil, "run folder has " .. f)
  if fh then fh:close() end
end
local lines = 0
for _ in io.lines(out .. "/metrics.jsonl") do lines = lines + 1 end
check(lines == 21, "metrics.jsonl has step 0 + 20 steps: " .. lines)
check(run.history[1].step == 0 and run.history[1].metrics ~= nil, "step 0 evaluation logged")
check(run.history[11].metrics ~= nil and run.history[12].metrics == nil, "eval every 10 steps")
local texts = {"the good cat", "a bad dog sat", "house tree and"}
local l1, p1 = run:predict(texts)
run:save(tmp .. "/a.safetensors")
local back = sk.load_adapter(m, tmp .. "/a.safetensors")
local l2, p2 = back:predict(texts)
local identical = true
for i = 1, #texts do
  identical = identical and l1[i] == l2[i]
  for k = 1, 2 do identical = identical and p1[i][k] == p2[i][k] end
end
check(identical, "save -> load -> predict identical")
check(math.abs(p1[1][1] + p1[1][2] - 1) < 1e-5, "probabilities sum to 1")
check(back.params == run.params - 66, "loaded method params (head excluded)")
local ev1, ev2 = run:evaluate(eval), sk.evaluate{model = m, method = back, data = eval}
check(ev1.accuracy == ev2.accuracy and ev1.accuracy == run.final.accuracy, "evaluate after load")
local other = sk.load_model(fixtures .. "/models/gpt2-tiny-bf16")
errors_with(function() sk.load_adapter(other, tmp .. "/a.safetensors") end, "adapter was trained for gpt2/2x32",
            "adapter refused by another model")

-- the same on a Llama-family model held in 16 bits (Mistral fixture: F16, sliding window):
-- SK-Tuning and PEFT's default LoRA (q_proj, v_proj) train, save and load back identically
local mm = sk.load_model(fixtures .. "/models/mistral-tiny")
check(mm.held == "F16", "the F16 Mistral fixture is held in F16")
for _, spec in ipairs{{"sk_prefix", sk.method.sk_prefix{prompt = prompt}}, {"lora", sk.method.lora{}}} do
  local lrun = sk.train{model = mm, method = spec[2], train = train, eval = eval, steps = 40, batch = 8, lr = 1e-2,
                        seed = 2, eval_every = 0, out = false, head = {kind = "verbalizer", words = {"bad", "good"}}}
  local la, pa = lrun:predict(texts)
  lrun:save(tmp .. "/" .. spec[1] .. ".safetensors")
  local lb, pb = sk.load_adapter(mm, tmp .. "/" .. spec[1] .. ".safetensors"):predict(texts)
  local same = true
  for i = 1, #texts do same = same and la[i] == lb[i] and pa[i][1] == pb[i][1] and pa[i][2] == pb[i][2] end
  check(same and lrun.final.accuracy ~= nil, spec[1] .. " on mistral-tiny: save -> load -> predict identical")
  print(string.format("  mistral-tiny %-9s %6d params, validation accuracy %.3f", spec[1], lrun.params,
                      lrun.final.accuracy))
end
check(mm.held == "F16", "training PEFT methods leaves the model in 16 bits")

-- zero-shot: the verbalizer with steps = 0 scores the untrained prompt
local vz = {kind = "verbalizer", words = {"bad", "good"}}
local z = sk.train{model = m, method = sk.method.sk_prefix{prompt = prompt}, train = train, eval = eval,
                   steps = 0, head = vz, out = false}
local z2 = sk.evaluate{model = m, method = sk.method.head_only{prompt = prompt}, data = eval, head = vz}
check(z.params == 1090 - 66 + 0 and z.final.accuracy == z2.accuracy,
      string.format("zero-shot sk_prefix %.3f == prompt + input %.3f", z.final.accuracy, z2.accuracy))

-- the NaN/Inf guard names the step and keeps the log
local out2 = tmp .. "/run2"
local bad = sk.train{model = m, method = sk.method.prompt_tuning{n_virtual = 3}, train = train,
                     steps = 30, batch = 8, lr = 1e30, clip = 0, out = out2, head = {dropout = 0}}
check(bad.failed and bad.stop_reason:find("step %d+") ~= nil, "NaN guard: " .. tostring(bad.stop_reason))
local n2 = 0
for _ in io.lines(out2 .. "/metrics.jsonl") do n2 = n2 + 1 end
check(n2 == #bad.history and n2 >= 1, "failed run keeps its log")
local sf = io.open(out2 .. "/summary.json"):read("a")
check(sf:find('"status":%s*"failed"') ~= nil, "summary says failed")

-- regression head
local rrows = {}
for i = 1, 40 do rrows[i] = {text = (i % 2 == 0) and "good good" or "bad", label = (i % 2 == 0) and 1.0 or -1.0} end
local rds = sk.data.from{regression = true, rows = rrows}
local rr = sk.train{model = m, method = sk.method.head_only{}, train = rds, eval = rds, steps = 60,
                    batch = 8, lr = 1e-2, out = false, head = {pool = "mean"}}
check(rr.final.pearson > 0.9, "regression pearson " .. tostring(rr.final.pearson))
local vals = rr:predict({"good good", "bad"})
check(vals[1] > vals[2], "regression predict")

-- stopping at a target
local tgt = sk.train{model = m, method = sk.method.lora{}, train = train, eval = eval, steps = 200,
                     batch = 16, lr = 1e-2, eval_every = 5, target = 0.8, out = false, head = {pool = "mean"}}
check(tgt.steps < 200 and tgt.stop_reason:find("reached accuracy") ~= nil, "target stop: " .. tgt.stop_reason)

-- on_step sees every step and can stop the run
local seen = 0
local st = sk.train{model = m, method = sk.method.head_only{}, train = train, steps = 50, batch = 8,
                    out = false, on_step = function(ev) seen = seen + 1; return ev.step == 7 end}
check(seen == 7 and st.steps == 7, "on_step stop at 7: " .. seen)
errors_with(function()
  sk.train{model = m, method = sk.method.head_only{}, train = train, steps = 5, out = false,
           on_step = function() error("callback boom") end}
end, "callback boom", "on_step error propagates")

-- the four claims: the engine's rules (the workbench's compare view applies the same)
local cl = sk.claims{sk_prefix = {params = 100, steps_to_target = 40, accuracy = 0.80, ms_per_step = 90},
                     prefix_tuning = {params = 1000, steps_to_target = nil, accuracy = 0.804, ms_per_step = 120},
                     prompt_tuning = {params = 50, steps_to_target = 30, accuracy = 0.70, ms_per_step = 80}}
check(#cl == 4 and cl[1].holds == true and cl[2].holds == true and cl[4].holds == true, "claims 1, 2, 4 hold")
check(cl[3].holds == true and cl[3].text:find("sk_prefix 0.800 vs prefix_tuning 0.804, prompt_tuning 0.700", 1, true),
      "claim 3 within 0.005: " .. cl[3].text)
check(cl[2].text == "claim 2: faster convergence than prefix tuning: TRUE (steps to target 40 vs not reached)", cl[2].text)
local cl2 = sk.claims{sk_prefix = {params = 100, steps_to_target = nil, accuracy = 0.7, ms_per_step = 90},
                      prompt_tuning = {params = 50, steps_to_target = 30, accuracy = 0.71, ms_per_step = 80}}
check(cl2[1].holds == nil and cl2[1].text:find("not tested", 1, true) and cl2[3].holds == false,
      "without prefix_tuning: claims 1, 2, 4 not tested; claim 3 against prompt_tuning alone")
errors_with(function() sk.claims{sk_prefix = {params = 1, acc = 2}} end, 'unknown option "acc"', "claims field typo")
errors_with(function() sk.claims{lora = {}} end, 'unknown method "lora"', "claims method")

-- options are checked where they are written
errors_with(function() sk.method.sk_prefix{promt = "x"} end, 'unknown option "promt"', "method typo")
errors_with(function() sk.method.sk_prefix{adapter = "huge"} end, "lowrank, linear, mlp or none", "bad adapter")
errors_with(function() sk.method.lora{targets = {"c_atn"}} end, '"default" or names among c_attn', "bad LoRA target")
errors_with(function() sk.train{model = m, method = sk.method.lora{targets = {"q_proj"}}, train = train, out = false} end,
            "gpt2 has no q_proj of its own", "q_proj on GPT-2")
errors_with(function() sk.train{model = m, method = sk.method.head_only{}, train = train, stepz = 3} end,
            'unknown option "stepz"', "train typo")
errors_with(function() sk.train{model = m, method = sk.method.sk_prefix{}, train = train, out = false} end,
            "needs a semantic prompt", "sk_prefix without prompt")
errors_with(function() sk.train{model = m, method = sk.method.head_only{}, train = train, out = false,
                                head = {kind = "verbalizer", words = {"a", "b", "c"}}} end,
            "2 classes in the data, the head has 3", "head/data class mismatch")

-- data files: CSV quoting, CRLF, BOM; TSV; JSONL; errors that name file and line
local function write(name, s) local f = io.open(tmp .. "/" .. name, "wb"); f:write(s); f:close(); return tmp .. "/" .. name end
local csv = write("d.csv", '\239\187\191text,label\r\n"hello, world",pos\r\n"she said ""hi""\nthen left",neg\r\nplain,pos\r\n')
local ds = sk.data.load{path = csv}
check(#ds == 3 and ds:get(1).text == "hello, world" and ds:get(2).text == 'she said "hi"\nthen left',
      "CSV quoting/BOM/CRLF/embedded newline")
check(ds.labels[1] == "neg" and ds.labels[2] == "pos" and ds:get(1).label == 2, "labels sorted by default")
local ds2 = sk.data.load{path = csv, labels = {"pos", "neg"}}
check(ds2:get(1).label == 1 and ds2:get(1).label_name == "pos", "labels in the given order")
local tsv = write("d.tsv", "sentence1\tsentence2\tlabel\nA man\tA person\t1\nA cat\tNo dog\t0\n")
local pd = sk.data.load{path = tsv, text = "sentence1", text_pair = "sentence2"}
check(#pd == 2 and pd:get(1).text_pair == "A person" and pd.labels[2] == "1", "TSV sentence pairs")
local jl = write("d.jsonl", '{"text": "x", "label": 1}\n\n{"text": "y", "label": 0}\n')
check(#sk.data.load{path = jl} == 2, "JSONL")
errors_with(function() sk.data.load{path = write("e.csv", "text,label\na,pos\nb\n")} end, "e.csv: line 3: 1 fields",
            "ragged CSV row")
errors_with(function() sk.data.load{path = write("f.csv", "txt,label\na,pos\n")} end, 'no column "sentence"',
            "missing column")
errors_with(function() sk.data.load{path = csv, labels = {"pos"}} end, 'line 3: unknown label "neg"', "unknown label")
errors_with(function() sk.data.load{path = write("g.jsonl", '{"text": "a", "label": 1}\nnot json\n')} end,
            "g.jsonl: line 2: not a JSON object", "bad JSONL line")
local sb = sk.data.load{path = write("h.csv", "text,label\na,pos\nb\nc,neg\n"), skip_bad = true}
check(#sb == 2 and sb.skipped == 1, "skip_bad counts skipped rows")
errors_with(function() sk.data.load{path = csv, lables = {}} end, 'unknown option "lables"', "data typo")

os.execute("rm -rf " .. tmp)
print(string.format("test_train.lua: %d checks, %d failed", checks, failures))
if failures > 0 then os.exit(1) end
