-- sweep.lua - a fair learning-rate sweep: every method tries the same grid on the same
-- model, task, head, steps and seed; the rate with the best VALIDATION accuracy is
-- chosen (the test split is never looked at), recorded, and printed as the --lr-METHOD
-- arguments for compare.lua.
--
--   sktune run scripts/sweep.lua [--model DIR] [--task NAME] [--methods a,b,...] [--steps N]
--                                [--grid 1e-4,3e-4,...] [--seed S] [--out DIR] [--compare SEEDS]
--                                [--max-len N]
-- With --compare K it then runs compare.lua with the chosen rates and K seeds.
local opts = {model = "models/tiny-gpt2", task = "spam",
              methods = "sk_prefix,prefix_tuning,prompt_tuning,lora,head_only",
              steps = 200, grid = "1e-4,3e-4,1e-3,3e-3,1e-2,3e-2", seed = 1, batch = 16, compare = 0,
              ["max-len"] = 128}
local i = 1
while i <= #arg do
  local k = arg[i]:match("^%-%-(.+)$")
  if not k or not arg[i + 1] or (opts[k] == nil and k ~= "out") then error("unknown option " .. tostring(arg[i])) end
  opts[k] = tonumber(arg[i + 1]) or arg[i + 1]
  i = i + 2
end
local model = sk.load_model(opts.model)
local task = sk.data.task(opts.task)
local out = opts.out or ("runs/sweep-" .. opts.task .. "-" .. os.date("%Y%m%d-%H%M%S"))
os.execute("mkdir -p '" .. out .. "'")
local grid = {}
for x in tostring(opts.grid):gmatch("[^,]+") do grid[#grid + 1] = assert(tonumber(x), "bad grid value " .. x) end

print(string.format("sweep: %s on %s, %d steps, seed %d, max %d tokens, grid %s (selection on validation only)",
                    opts.model, opts.task, opts.steps, opts.seed, opts["max-len"], opts.grid))
local chosen, rows, t0 = {}, {}, os.time()
for name in tostring(opts.methods):gmatch("[^,]+") do
  assert(sk.method[name], "unknown method " .. name)
  local best, best_lr = -1, nil
  local scores = {}
  for _, lr in ipairs(grid) do
    local spec = (name == "sk_prefix" or name == "sk_prompt") and sk.method[name]{prompt = task.prompt} or sk.method[name]{}
    local run = sk.train{model = model, method = spec, train = task.train, eval = task.validation,
                         head = {kind = "linear", pool = "last"}, steps = opts.steps, batch = opts.batch,
                         lr = lr, seed = opts.seed, max_len = opts["max-len"], out = false}
    local acc = run.failed and 0 or run.final.accuracy
    scores[#scores + 1] = string.format("%g:%.3f%s", lr, acc, run.failed and "(diverged)" or "")
    if acc > best then best, best_lr = acc, lr end
  end
  chosen[name] = best_lr
  rows[#rows + 1] = string.format("| %s | %s | %g | %.3f |", name, table.concat(scores, " "), best_lr, best)
  print(string.format("  %-14s chose lr %g (validation %.3f)   [%s]", name, best_lr, best, table.concat(scores, " ")))
end
local md = {"| method | lr:validation accuracy | chosen lr | validation |", "|---|---|---:|---:|"}
for _, r in ipairs(rows) do md[#md + 1] = r end
local f = io.open(out .. "/sweep.md", "w"); f:write(table.concat(md, "\n"), "\n"); f:close()
local args = {}
for name, lr in pairs(chosen) do args[#args + 1] = string.format("--lr-%s %g", name, lr) end
table.sort(args)
local f2 = io.open(out .. "/chosen_lrs.txt", "w"); f2:write(table.concat(args, " "), "\n"); f2:close()
print(string.format("chosen: %s   (%d s; written to %s)", table.concat(args, " "), os.time() - t0, out))
if opts.compare > 0 then
  local cmd = {"--model", opts.model, "--task", opts.task, "--methods", opts.methods, "--steps", tostring(opts.steps),
               "--seeds", tostring(opts.compare), "--out", out .. "/compare", "--max-len", tostring(opts["max-len"])}
  for name, lr in pairs(chosen) do cmd[#cmd + 1] = "--lr-" .. name; cmd[#cmd + 1] = string.format("%g", lr) end
  arg = cmd
  dofile((debug.getinfo(1, "S").source:sub(2):gsub("sweep%.lua$", "compare.lua")))
end
