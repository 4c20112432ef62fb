-- test_data.lua - the bundled tasks (documented counts, balance, no text in two
-- splits) and GLUE file layouts through sk.data.load.
-- Run: sktune run tests/lua/test_data.lua tests/fixtures
local fixtures = assert(arg[1], "usage: sktune run test_data.lua FIXTURES_DIR")
local checks, failures = 0, 0
local function check(cond, msg)
  checks = checks + 1
  if not cond then failures = failures + 1; print("FAIL " .. msg) end
end

-- documented in datasets/*/README.md
local expected = {
  spam = {train = {3351, 1417}, validation = {357, 143}, test = {355, 145}},
  ["wordnet-topic"] = {train = {250, 250, 250, 250, 250, 250, 250, 250},
                       validation = {50, 50, 50, 50, 50, 50, 50, 50}, test = {50, 50, 50, 50, 50, 50, 50, 50}},
  ["gloss-sentiment"] = {train = {684, 684}, validation = {50, 50}, test = {50, 50}},
  ["brown-genre"] = {train = {500, 500, 500, 500}, validation = {100, 100, 100, 100}, test = {100, 100, 100, 100}},
}
local names = {}
local present = {}
for _, n in ipairs(sk.data.tasks()) do present[n] = true end
for _, n in ipairs{"gloss-sentiment", "spam", "wordnet-topic", "brown-genre"} do
  if present[n] then names[#names + 1] = n end
end
check(present.spam and present["wordnet-topic"] and present["gloss-sentiment"], "the three committed tasks")
check(sk.data.task("gloss-sentiment").template == "\nSentiment:" and sk.data.task("spam").template == "",
      "a task's suggested template (text after the input), empty when it has none")
local function norm(s) return (s:lower():gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")) end
for _, name in ipairs(names) do
  local t = sk.data.task(name)
  check(type(t.prompt) == "string" and #t.prompt > 10 and #t.words == #t.labels, name .. ": prompt and words")
  local seen = {}
  for _, split in ipairs{"train", "validation", "test"} do
    local ds = t[split]
    local counts = {}
    for i = 1, #ds do
      local e = ds:get(i)
      counts[e.label] = (counts[e.label] or 0) + 1
      local k = norm(e.text)
      check(seen[k] == nil or seen[k] == split, name .. ": text in " .. tostring(seen[k]) .. " and " .. split)
      if seen[k] == split then check(false, name .. ": duplicate text within " .. split) end
      seen[k] = split
    end
    local want = expected[name][split]
    for c = 1, #t.labels do
      check(counts[c] == want[c], string.format("%s %s %s: %s examples, documented %d", name, split,
                                                t.labels[c], tostring(counts[c]), want[c]))
    end
  end
  print(string.format("  %-16s train %5d  validation %4d  test %4d  labels %s", name, #t.train,
                      #t.validation, #t.test, table.concat(t.labels, ",")))
end
local ok, err = pcall(sk.data.task, "nope")
check(not ok and tostring(err):find("tasks: ", 1, true) ~= nil and tostring(err):find("spam", 1, true) ~= nil,
      "unknown task: " .. tostring(err))

-- GLUE layouts
local g = fixtures .. "/glue/"
local sst = sk.data.load{path = g .. "sst2.tsv"}
check(#sst == 2 and sst.labels[1] == "0" and sst:get(1).label == 2, "SST-2")
local cola = sk.data.load{path = g .. "cola.tsv", header = false, text = 4, label = 2}
check(#cola == 3 and cola:get(2).text == "Book this buy friends our will." and cola:get(2).label_name == "0", "CoLA (no header)")
local mrpc = sk.data.load{path = g .. "mrpc.tsv", text = "#1 String", text_pair = "#2 String", label = "Quality"}
check(#mrpc == 2 and mrpc:get(1).text == 'The company said "profits rose" on Monday.', "MRPC (BOM, quotes kept)")
local qqp = sk.data.load{path = g .. "qqp.tsv", text = "question1", text_pair = "question2", label = "is_duplicate"}
check(#qqp == 2 and qqp:get(2).text_pair == "How tall is Everest?", "QQP")
local qnli = sk.data.load{path = g .. "qnli.tsv", text = "question", text_pair = "sentence",
                          labels = {"entailment", "not_entailment"}}
check(#qnli == 2 and qnli:get(2).label == 2, "QNLI")
local rte = sk.data.load{path = g .. "rte.tsv", text = "sentence1", text_pair = "sentence2"}
check(#rte == 2 and rte.labels[2] == "not_entailment", "RTE")
local mnli = sk.data.load{path = g .. "mnli.tsv", text = "sentence1", text_pair = "sentence2", label = "gold_label",
                          labels = {"entailment", "neutral", "contradiction"}}
check(#mnli == 3 and mnli:get(1).label == 3 and mnli:get(3).label_name == "neutral", "MNLI")
local sts = sk.data.load{path = g .. "stsb.tsv", text = "sentence1", text_pair = "sentence2", label = "score",
                         regression = true}
check(#sts == 2 and sts.regression and math.abs(sts:get(2).label - 0.5) < 1e-6, "STS-B regression")
local ok2, err2 = pcall(sk.data.load, {path = g .. "cola.tsv", header = false, text = 9, label = 2})
check(not ok2 and tostring(err2):find("no column 9") ~= nil, "column out of range: " .. tostring(err2))

print(string.format("test_data.lua: %d checks, %d failed", checks, failures))
if failures > 0 then os.exit(1) end
