-- next_token.lua - a model's top next-token predictions for a sentence, as a bar chart.
--   sktune run scripts/examples/next_token.lua [MODEL_DIR] [TEXT] [K]
-- MODEL_DIR is any GPT-2-family Hugging Face directory (config.json, model.safetensors,
-- tokenizer.json or vocab.json + merges.txt); by default the bundled model,
-- models/tiny-gpt2 (about 7M parameters, pretrained by sktune: see its README.md).
local default_model = "models/tiny-gpt2"
local dir = arg[1] or default_model
local text = arg[2] or "In the beginning God created the"
local k = tonumber(arg[3] or "10")

local t0 = os.clock()
local m = sk.load_model(dir)
local c = m.config
print(string.format("model     %s: %s, %d layers x %d, %d heads, %.2fM params, %s",
  dir, c.arch, c.n_layer, c.d_model, c.n_head, c.n_params / 1e6, c.dtype))
if dir == default_model then
  print("          (the bundled tiny model: it knows a little English; pass a real checkpoint")
  print("           directory, e.g. gpt2 saved by transformers, for better predictions)")
end

local tok = m.tokenizer
local ids = tok:encode(text)
local pieces = {}
for i, id in ipairs(ids) do pieces[i] = tok:piece(id) end
print(string.format("input     %q -> %d tokens: %s", text, #ids, table.concat(pieces, "|")))

local logits = m:logits(ids)
local row = logits:row(#ids)
-- softmax over the vocabulary, then the k best
local mx = -math.huge
for _, z in ipairs(row) do if z > mx then mx = z end end
local sum = 0
for i, z in ipairs(row) do
  row[i] = math.exp(z - mx)
  sum = sum + row[i]
end
local order = {}
for i = 1, #row do order[i] = i end
table.sort(order, function(a, b) return row[a] > row[b] end)

print(string.format("next      top %d of %d tokens (%.2f s):", k, #row, os.clock() - t0))
local width = 40
for r = 1, math.min(k, #order) do
  local id = order[r] - 1
  local p = row[order[r]] / sum
  local piece = tok:piece(id):gsub("\n", "\\n")
  local bar = string.rep("#", math.max(1, math.floor(p * width / (row[order[1]] / sum) + 0.5)))
  print(string.format("  %2d  %-14s %6.2f%%  %s", r, string.format("%q", piece), 100 * p, bar))
end
