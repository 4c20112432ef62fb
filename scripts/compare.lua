-- compare.lua - methods side by side on one model, task, head and step budget, over
-- several seeds; prints one table and writes it as JSON, CSV and Markdown, plus the
-- per-step curves as CSV; checks the four headline claims of SK-Tuning.
--
--   sktune compare [--model DIR] [--task NAME] [--methods a,b,...] [--steps N] [--seeds K]
--                  [--out DIR] [--batch B] [--eval-every N] [--target-frac F] [--max-len N]
--                  [--lr-METHOD X]
--   (the same as: sktune run scripts/compare.lua ...)
--
-- Steps to target: the first evaluated step whose validation accuracy reaches
-- target-frac (default 0.9) of the best method's mean final validation accuracy,
-- averaged over seeds ("-" when a seed never reaches it). ms/step is training time per
-- step including the periodic evaluations. Test accuracy is measured once, at the end.
local opts = {model = "models/tiny-gpt2", task = "spam",
              methods = "sk_prefix,prefix_tuning,prompt_tuning,lora,head_only",
              steps = 200, seeds = 3, batch = 16, ["eval-every"] = 20, ["target-frac"] = 0.9,
              ["max-len"] = 128}
local lrs = {} -- default: the engine's starting rate per method (sk.default_lr), overridden by --lr-METHOD
for _, name in ipairs{"sk_prefix", "sk_prompt", "prefix_tuning", "p_tuning_v2", "prompt_tuning", "p_tuning", "lora",
                      "head_only", "full"} do lrs[name] = sk.default_lr(name) end
local USAGE = "usage: sktune compare [--model DIR] [--task NAME] [--methods a,b] [--steps N] [--seeds K] [--out DIR]\n"
  .. "  [--batch B] [--eval-every N] [--target-frac F] [--max-len T] [--lr-METHOD LR]"
for _, a in ipairs(arg) do
  if a == "--help" or a == "-h" then print(USAGE); os.exit(0) end
end
local i = 1
while i <= #arg do
  local k = arg[i]:match("^%-%-(.+)$")
  if not k or not arg[i + 1] then error(USAGE) end
  local m = k:match("^lr%-(.+)$")
  if m then
    if not lrs[m] then error("unknown method in --" .. k) end
    lrs[m] = tonumber(arg[i + 1])
  elseif opts[k] ~= nil or k == "out" then
    opts[k] = tonumber(arg[i + 1]) or arg[i + 1]
  else
    error("unknown option --" .. k)
  end
  i = i + 2
end

local model = sk.load_model(opts.model)
local task = sk.data.task(opts.task)
local methods = {}
for name in tostring(opts.methods):gmatch("[^,]+") do
  if not sk.method[name] then error("unknown method " .. name) end
  methods[#methods + 1] = name
end
local out = opts.out or ("runs/compare-" .. opts.task .. "-" .. os.date("%Y%m%d-%H%M%S"))
os.execute("mkdir -p '" .. out .. "'")
local function spec(name)
  if name == "sk_prefix" or name == "sk_prompt" then return sk.method[name]{prompt = task.prompt} end
  return sk.method[name]{}
end
local function mean_std(xs)
  local s = 0
  for _, x in ipairs(xs) do s = s + x end
  local m = s / #xs
  local v = 0
  for _, x in ipairs(xs) do v = v + (x - m) ^ 2 end
  return m, #xs > 1 and math.sqrt(v / (#xs - 1)) or 0
end

print(string.format("compare: %s on %s (%d train, %d validation, %d test), %d steps x batch %d, %d seeds, max %d tokens",
                    opts.model, opts.task, #task.train, #task.validation, #task.test, opts.steps, opts.batch, opts.seeds,
                    opts["max-len"]))
local results, curves, started = {}, {"method,seed,step,loss,val_accuracy"}, os.time()
for _, name in ipairs(methods) do
  local r = {method = name, lr = lrs[name], val = {}, test = {}, ms = {}, histories = {}}
  for seed = 1, opts.seeds do
    local run = sk.train{model = model, method = spec(name), train = task.train, eval = task.validation,
                         head = {kind = "linear", pool = "last"}, steps = opts.steps, batch = opts.batch,
                         lr = lrs[name], seed = seed, eval_every = opts["eval-every"], max_len = opts["max-len"],
                         out = out .. "/" .. name .. "-seed" .. seed}
    if run.failed then error(name .. " seed " .. seed .. ": " .. run.stop_reason) end
    r.params = run.params
    r.val[#r.val + 1] = run.final.accuracy
    r.test[#r.test + 1] = run:evaluate(task.test).accuracy
    r.ms[#r.ms + 1] = 1000 * run.seconds / math.max(run.steps, 1)
    r.histories[seed] = run.history
    for _, h in ipairs(run.history) do
      curves[#curves + 1] = string.format("%s,%d,%d,%s,%s", name, seed, h.step, h.loss and string.format("%.6f", h.loss) or "",
                                          h.metrics and string.format("%.6f", h.metrics.accuracy) or "")
    end
    io.stderr:write(string.format("  %s seed %d: validation %.3f (%.1f s)\n", name, seed, run.final.accuracy, run.seconds))
  end
  r.val_mean, r.val_std = mean_std(r.val)
  r.test_mean, r.test_std = mean_std(r.test)
  r.ms_mean = mean_std(r.ms)
  results[#results + 1] = r
end

local best = 0
for _, r in ipairs(results) do best = math.max(best, r.val_mean) end
local target = opts["target-frac"] * best
for _, r in ipairs(results) do
  local steps, reached = {}, true
  for _, hist in ipairs(r.histories) do
    local s
    for _, h in ipairs(hist) do
      if h.metrics and h.metrics.accuracy >= target then s = h.step; break end
    end
    if not s then reached = false else steps[#steps + 1] = s end
  end
  r.to_target = reached and (mean_std(steps)) or nil
end

local header = {"method", "trainable params", "lr", "steps to target", "validation accuracy", "test accuracy", "ms/step"}
local rows = {}
for _, r in ipairs(results) do
  rows[#rows + 1] = {r.method, tostring(r.params), string.format("%g", r.lr),
                     r.to_target and string.format("%.0f", r.to_target) or "-",
                     string.format("%.3f ± %.3f", r.val_mean, r.val_std), string.format("%.3f ± %.3f", r.test_mean, r.test_std),
                     string.format("%.0f", r.ms_mean)}
end
local widths = {}
for c, h in ipairs(header) do
  widths[c] = utf8.len(h)
  for _, row in ipairs(rows) do widths[c] = math.max(widths[c], utf8.len(row[c])) end
end
local function line(cells)
  local parts = {}
  for c, v in ipairs(cells) do parts[c] = v .. string.rep(" ", widths[c] - utf8.len(v)) end
  return table.concat(parts, "  ")
end
print(string.format("\ntarget: validation accuracy %.3f (%.2f x the best mean, %.3f)", target, opts["target-frac"], best))
print(line(header))
for _, row in ipairs(rows) do print(line(row)) end

-- the four claims, each derived from the numbers above (the engine's rules: sk.claims)
local by = {}
for _, r in ipairs(results) do by[r.method] = r end
local judged = {}
for _, name in ipairs{"sk_prefix", "prefix_tuning", "prompt_tuning"} do
  local r = by[name]
  if r then
    judged[name] = {params = r.params, steps_to_target = r.to_target, accuracy = r.val_mean, ms_per_step = r.ms_mean}
  end
end
local verdicts = {}
print("")
for _, c in ipairs(sk.claims(judged)) do
  verdicts[#verdicts + 1] = c.text
  print(c.text)
end
print("(claim 3 compares validation means over the seeds)")
local sk_ = by.sk_prefix
if sk_ and by.head_only and by.head_only.val_mean >= sk_.val_mean - 0.005 then
  print(string.format("note: head_only (%.3f) already matches sk_prefix (%.3f): the prompt adds nothing here",
                      by.head_only.val_mean, sk_.val_mean))
end

-- files
local md = {"| " .. table.concat(header, " | ") .. " |", "|" .. string.rep("---|", #header)}
for _, row in ipairs(rows) do md[#md + 1] = "| " .. table.concat(row, " | ") .. " |" end
md[#md + 1] = ""
for _, v in ipairs(verdicts) do md[#md + 1] = "- " .. v end
local function write(name, text) local f = assert(io.open(out .. "/" .. name, "w")); f:write(text, "\n"); f:close() end
write("results.md", table.concat(md, "\n"))
local csv = {"method,params,lr,steps_to_target,val_mean,val_std,test_mean,test_std,ms_per_step"}
for _, r in ipairs(results) do
  csv[#csv + 1] = string.format("%s,%d,%g,%s,%.6f,%.6f,%.6f,%.6f,%.1f", r.method, r.params, r.lr,
                                r.to_target and string.format("%.1f", r.to_target) or "", r.val_mean, r.val_std,
                                r.test_mean, r.test_std, r.ms_mean)
end
write("results.csv", table.concat(csv, "\n"))
write("curves.csv", table.concat(curves, "\n"))
local js = {}
for _, r in ipairs(results) do
  js[#js + 1] = string.format('{"method": "%s", "params": %d, "lr": %g, "steps_to_target": %s, "validation": {"mean": %.6f, "std": %.6f}, "test": {"mean": %.6f, "std": %.6f}, "ms_per_step": %.1f}',
                              r.method, r.params, r.lr, r.to_target and string.format("%.1f", r.to_target) or "null",
                              r.val_mean, r.val_std, r.test_mean, r.test_std, r.ms_mean)
end
local vq = {}
for _, v in ipairs(verdicts) do vq[#vq + 1] = string.format("%q", v) end
local elapsed = os.time() - started
write("results.json", string.format('{"model": %q, "task": %q, "steps": %d, "seeds": %d, "batch": %d, "target": %.6f, "seconds": %d, "methods": [%s], "verdicts": [%s]}',
                                     opts.model, opts.task, opts.steps, opts.seeds, opts.batch, target, elapsed, table.concat(js, ", "), table.concat(vq, ", ")))
print(string.format("\ncompare took %d s (%.1f min)", elapsed, elapsed / 60))
print("wrote " .. out .. "/results.{md,csv,json}, curves.csv and one run folder per method and seed")
