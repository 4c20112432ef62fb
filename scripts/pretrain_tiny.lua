-- pretrain_tiny.lua - trains the bundled model, models/tiny-gpt2, from scratch.
--
--   /usr/bin/python3 datasets/corpus/prepare.py corpus        # the corpus (about 25 MB)
--   build/sktune run scripts/pretrain_tiny.lua [CORPUS_DIR] [RUN_DIR] [STEPS]
--
-- Resumable: rerun the same command after an interruption and it continues from the
-- last checkpoint in RUN_DIR (every 200 steps) exactly as if it had not stopped.
-- Steps: 1. a byte-level BPE tokenizer of 8,192 tokens learned from the training text
-- (kept in RUN_DIR/tokenizer, so a resumed run uses the same one); 2. a GPT-2 of 6
-- layers x 256 (8 heads, 256 positions); 3. next-token training on windows of 128
-- tokens, batch 16, AdamW (lr 2e-3, 100 warm-up steps, linear decay to 10%, weight
-- decay 0.1, clipping at 1.0), seed 1; 4. the result saved in BF16 to models/tiny-gpt2
-- with its tokenizer, and RUN_DIR/summary.json with token counts and the loss curve.
local corpus = arg[1] or "corpus"
local run_dir = arg[2] or "runs/pretrain-tiny-gpt2"
local steps = tonumber(arg[3] or "3000")
local out = "models/tiny-gpt2"

os.execute("mkdir -p " .. run_dir)
local tokdir = run_dir .. "/tokenizer"
if not io.open(tokdir .. "/tokenizer.json") then
  print("learning an 8,192-token BPE vocabulary from " .. corpus .. "/train.txt")
  local t0 = os.clock()
  local r = sk.tokenizer.train_bpe{files = {corpus .. "/train.txt"}, vocab_size = 8192, out = tokdir}
  print(string.format("  %d tokens (%d merges) in %.1f s", r.vocab_size, r.merges, os.clock() - t0))
end

local m = sk.new_model{n_layer = 6, d_model = 256, n_head = 8, max_seq = 256, tokenizer = tokdir, seed = 1}
print(string.format("model: %d layers x %d, %d heads, vocab %d: %d parameters", m.config.n_layer,
                    m.config.d_model, m.config.n_head, m.config.vocab_size, m.config.n_params))
local train = m.tokenizer:encode(io.open(corpus .. "/train.txt"):read("a"), {special = false})
local val = m.tokenizer:encode(io.open(corpus .. "/val.txt"):read("a"), {special = false})
print(string.format("corpus: %d training tokens, %d validation tokens", #train, #val))

local log = io.open(run_dir .. "/progress.txt", "a")
local run = sk.pretrain{
  model = m, train = train, val = val, steps = steps, batch = 16, seq = 128, lr = 2e-3, warmup = 100,
  min_lr = 0.1, weight_decay = 0.1, clip = 1.0, seed = 1, eval_every = 200, eval_windows = 128,
  checkpoint_every = 200, out = run_dir, resume = true,
  on_step = function(ev)
    if ev.step % 50 == 0 or ev.val_loss then
      local line = string.format("step %5d  loss %.4f  lr %.2e  %6.0f s%s", ev.step, ev.loss, ev.lr, ev.seconds,
                                 ev.val_loss and string.format("  val loss %.4f  perplexity %.1f", ev.val_loss, ev.val_perplexity) or "")
      print(line); log:write(line, "\n"); log:flush()
    end
  end,
}
log:close()
print(run.stop_reason)
if run.failed then os.exit(1) end

m:save(out, {dtype = "BF16"})
local val_loss, ppl = m:perplexity(val, {seq = 128, windows = 256})
local summary = string.format('{"steps": %d, "tokens_seen": %d, "train_tokens": %d, "validation_tokens": %d, ' ..
  '"params": %d, "validation_loss": %.5f, "validation_perplexity": %.3f, "seconds_this_run": %.0f}\n',
  run.steps, run.steps * 16 * 128, #train, #val, m.config.n_params, val_loss, ppl, run.seconds)
local f = io.open(run_dir .. "/summary-pretrain.json", "w"); f:write(summary); f:close()
print(summary)
