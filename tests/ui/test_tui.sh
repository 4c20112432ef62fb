#!/usr/bin/env bash
# test_tui.sh - drives the real workbench in tmux (send-keys, capture-pane) and checks
# the screen: the prompt's token pieces and zero-shot score follow typing, two runs
# train side by side in the table and the chart, the screen survives a resize below the
# minimum, help opens, quitting asks while runs are active and leaves their logs, and
# NO_COLOR + a non-UTF-8 locale give a plain ASCII screen.
#   test_tui.sh SKTUNE MODEL_DIR DATASETS_DIR
set -uo pipefail
SKTUNE=$(realpath "$1") MODEL=$(realpath "$2") DATASETS=$(realpath "$3")
command -v tmux >/dev/null || { echo "tmux is not installed (scripts/setup installs it)"; exit 1; }
WORK=$(mktemp -d)
SESSIONS=0
SOCK="sktune-test-$$-0"
T() { tmux -L "$SOCK" "$@"; }
cleanup() { for i in $(seq 0 "$SESSIONS"); do tmux -L "sktune-test-$$-$i" kill-server 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; echo "---- screen ----"; T capture-pane -t ui -p; echo "----------------"; failures=$((failures + 1)); }
screen() { T capture-pane -t ui -p 2>/dev/null; }
# wait_for PATTERN SECONDS: polls the screen until grep -E finds PATTERN
wait_for() {
  local end=$((SECONDS + $2))
  while ((SECONDS < end)); do
    screen | grep -qE -- "$1" && return 0
    sleep 0.1
  done
  return 1
}
check() { if wait_for "$2" "$3"; then pass "$1"; else fail "$1 (waited $3 s for /$2/)"; fi; }
start() { # start NAME COLS ROWS ENV... : the workbench in a fresh tmux session
  local cols=$1 rows=$2
  shift 2
  T kill-server 2>/dev/null
  SESSIONS=$((SESSIONS + 1))
  SOCK="sktune-test-$$-$SESSIONS" # a fresh server: never race a dying one
  T new-session -d -s ui -x "$cols" -y "$rows" -c "$WORK" \
    "env SKTUNE_DATASETS='$DATASETS' $* '$SKTUNE' tui --model '$MODEL' --task gloss-sentiment --sample 32; echo EXITED rc=\$?; sleep 600"
}

# ---- 1. prompt: token pieces and the zero-shot score follow typing ------------------------
start 100 30 LANG=C.UTF-8
check "workbench opens on the bundled model" "Semantic prompt" 20
check "the opening prompt gets a zero-shot score" "zero-shot \(verbalizer, 32 val\): +[0-9.]+%" 30
first=$(screen | grep "zero-shot (verbalizer")
T send-keys -t ui C-u "Is the word sad or happy?"
check "token pieces of the typed prompt" "Is│ the│ word│ .*│\? +[0-9]+ tokens" 5
check "a stale score is marked as scoring, not shown as current" "scoring\.\.\.|vs previous prompt" 5
check "the new prompt's score, compared with the previous one" "%.*(▲|▼) [-+][0-9.]+ vs previous prompt" 30
second=$(screen | grep "zero-shot (verbalizer")
[ "$first" != "$second" ] && pass "the score line changed" || fail "the score line changed"
T send-keys -t ui Home Right Right "X"
check "editing in the middle of the line (cursor keys)" "> IsX the word sad" 5
T send-keys -t ui BSpace End C-w "glad?"
check "word deletion (Ctrl-W) and typing at the end" "> Is the word sad or glad\?" 5
T send-keys -t ui Enter
check "Enter keeps the prompt in the history" "prompt kept in the history" 5
# the template after the input: ^T moves to its line; \n typed there is a line break (shown as ↵)
check "the task's suggested template is on its own line" "after input: \\\\nSentiment:" 5
T send-keys -t ui C-t C-u '\nAnswer:'
check "^T edits the template line" "after input: \\\\nAnswer:" 5
check "a template edit is scored again" "%.*(▲|▼) [-+][0-9.]+ vs previous prompt|\(last: " 30
T send-keys -t ui C-o
check "^O on a tokenizer without a chat template says so" "chat on .*|no chat template" 5
check "... and names the problem instead of a score" "has no chat template" 30
T send-keys -t ui C-o C-t
check "back on the prompt line" "chat off \(\^O\)" 5

# ---- 2. two runs, in the table and the chart ------------------------------------------------
T send-keys -t ui F5
check "F5 opens the new-run form" "New run \(Enter: start" 5
T send-keys -t ui Down Down C-u 12 Down Down Down Down C-u 4 Enter
T send-keys -t ui F5
sleep 0.3
T send-keys -t ui Right Right Down Down C-u 12 Down Down Down Down C-u 4 Enter
check "both runs are listed" "1 +sk_prefix.*" 10
check "both runs are listed (2)" "2 +prefix_tuning" 10
check "the chart has a legend entry per run" "1 sk_prefix .*2 prefix_tuning" 10
check "both runs finish" "sk_prefix .* done" 120
check "both runs finish (2)" "prefix_tuning .* done" 120
# two runs with the same seed, trained at the same time, give the same numbers: the model
# they share is read-only and the engine keeps no global state
for k in 1 2; do
  T send-keys -t ui F5
  sleep 0.3
  T send-keys -t ui Down Down C-u 12 Down Down C-u 5 Down Down C-u 4 Enter
done
check "two same-seed runs finish" "4 +sk_prefix .* done" 120
check "two same-seed runs finish (both)" "3 +sk_prefix .* done" 120
r3=$(screen | grep -E "3 +sk_prefix" | awk '{print $5, $6, $7}')
r4=$(screen | grep -E "4 +sk_prefix" | awk '{print $5, $6, $7}')
[ -n "$r3" ] && [ "$r3" = "$r4" ] && pass "same seed at the same time, same step/loss/accuracy ($r3)" ||
  fail "same seed at the same time, same step/loss/accuracy ('$r3' vs '$r4')"
if screen | LC_ALL=C.UTF-8 grep -qP '[\x{2801}-\x{28ff}]'; then pass "the chart draws braille curves"; else fail "the chart draws braille curves"; fi
T send-keys -t ui Tab l
check "the chart switches to the loss" "training loss vs step" 5
T send-keys -t ui c
check "compare lists finished runs with claim verdicts" "claim 1: fewer trainable parameters than prefix tuning: (TRUE|FALSE)" 5
T send-keys -t ui e
check "compare exports files" "wrote runs/compare-" 5
T send-keys -t ui Escape
ls "$WORK"/runs/compare-*.json >/dev/null 2>&1 && pass "export files exist" || fail "export files exist"
# with the runs table focused, the examples pane shows the selected trained run's predictions
T send-keys -t ui F3
check "the examples pane shows the selected run's predictions" "Examples \(validation, run [0-9]+ [a-z_]+ after training\)" 5
check "the run's predictions fill the rows" "(ok|no) +\(" 5
T send-keys -t ui F2
check "back on the prompt, the examples are zero-shot again" "Examples \(validation, zero-shot with this prompt\)" 5

# ---- 2b. a Lua script run from the workbench: output in the log, its runs in the table --------
T send-keys -t ui F7
check "F7 asks for a script" "Run a Lua script" 5
T send-keys -t ui Tab C-u "--model $MODEL --task gloss-sentiment --methods head_only --steps 6 --seeds 1 --eval-every 3 --out $WORK/cmp" Enter
check "the script's sk.train run joins the table" "5 +lua:head_only" 60
check "the script's print() output streams to the log" "compare took [0-9]+ s" 90
check "the script's run finishes in the table" "5 +lua:head_only .* done" 10
T send-keys -t ui F8
check "F8 returns to the chart" "vs step \(l/a, t\)" 5

# ---- 2c. save a run's adapter, open it again: evaluated on validation, same accuracy ------------
T send-keys -t ui F3 Up Up Up Up Up Up s
check "s offers to save the selected run's adapter" "Save the run's adapter as" 5
T send-keys -t ui Enter
check "the adapter is saved" "run 1's adapter saved to adapters/" 10
[ -s "$WORK/adapters/sk_prefix-run1.safetensors" ] && pass "the adapter file exists" || fail "the adapter file exists"
# the accuracy column of a run's row: "ID  LABEL  PARAMS STEP LOSS ACC"
row_acc() { screen | grep -oE "$1 +[0-9.kM-]+ +[0-9]+ +[0-9.-]+ +[0-9.-]+" | head -1 | awk '{print $NF}'; }
acc1=$(row_acc "1 +sk_prefix")
T send-keys -t ui o
check "o offers to open an adapter file" "Open an adapter file" 5
T send-keys -t ui C-u "adapters/sk_prefix-run1.safetensors" Enter
check "the opened adapter is evaluated as a run" "6 +file:sk_prefi .* done" 60
acc6=$(row_acc "6 +file:sk_prefi")
[ -n "$acc1" ] && [ "$acc1" = "$acc6" ] && pass "the opened adapter scores what the run scored ($acc6)" ||
  fail "the opened adapter scores what the run scored ('$acc1' vs '$acc6')"

# ---- 3. resize below the minimum and back ---------------------------------------------------
T resize-window -t ui -x 70 -y 20
check "a too-small terminal is named" "terminal too small: 70x20" 5
T resize-window -t ui -x 80 -y 24
check "80x24 fits every panel: runs table with ETA" "# +method +params +step +loss +acc +s/s +ETA" 5
check "80x24 fits every panel: the key bar" "F1Help F2Prompt" 1
screen | grep -q "Examples" && pass "80x24 fits every panel: examples" || fail "80x24 fits every panel: examples"
T resize-window -t ui -x 100 -y 30
check "the workbench comes back after resizing" "Semantic prompt" 5

# ---- 4. help ------------------------------------------------------------------------------
T send-keys -t ui F1
check "F1 opens the help" "Keys \(any key closes" 5
check "help lists the quit key" "F10 / q / Ctrl-C" 1
T send-keys -t ui x
sleep 0.3
screen | grep -q "Keys (any key closes" && fail "help closes on a key" || pass "help closes on a key"

# ---- 5. quitting asks while a run is active; its log is kept ---------------------------------
T send-keys -t ui F5
sleep 0.3
T send-keys -t ui Down Down C-u 100000 Enter
check "a long run starts" "7 +sk_prefix" 10
check "the long run trains" "7 +sk_prefix +[0-9.k]+ +[1-9][0-9]* " 60
T send-keys -t ui F3 Down Down Down Down Down Down Down Space
check "space pauses the selected run" "7 +sk_prefix .* pause" 30
step_paused=$(screen | grep -E "7 +sk_prefix" | awk '{print $4}')
sleep 2
step_later=$(screen | grep -E "7 +sk_prefix" | awk '{print $4}')
[ "$step_paused" = "$step_later" ] && pass "a paused run stays at step $step_paused" || fail "a paused run stays put ($step_paused -> $step_later)"
T send-keys -t ui Space
sleep 1
screen | grep -qE "7 +sk_prefix .* pause" && fail "space resumes the run" || pass "space resumes the run"
T send-keys -t ui F10
check "quitting with an active run asks first" "Quit\?" 5
T send-keys -t ui n
sleep 0.3
screen | grep -q "Quit?" && fail "n keeps the workbench open" || pass "n keeps the workbench open"
T send-keys -t ui F10
check "asked again" "Quit\?" 5
T send-keys -t ui y
check "y quits with status 0" "EXITED rc=0" 30
lines=$(cat "$WORK"/runs/*-sk_prefix*/metrics.jsonl 2>/dev/null | wc -l)
((lines > 0)) && pass "the stopped run's metrics are on disk ($lines lines)" || fail "the stopped run's metrics are on disk"
grep -q "gloss-sentiment.*Is the word sad or glad?" "$WORK/runs/prompts.tsv" 2>/dev/null && pass "prompt history saved" ||
  fail "prompt history saved in runs/prompts.tsv"

# ---- 6. NO_COLOR and a non-UTF-8 locale: plain ASCII -------------------------------------------
start 90 26 LANG=C LC_ALL=C NO_COLOR=1
check "ASCII boxes under the C locale" "^\+ Semantic prompt -+" 20
check "ASCII token separators" "Class\|ify" 10
if screen | LC_ALL=C grep -q $'[\x80-\xff]'; then fail "no UTF-8 bytes on an ASCII screen"; else pass "no UTF-8 bytes on an ASCII screen"; fi
T send-keys -t ui F3 q
check "q quits outside text fields" "EXITED rc=0" 15

# ---- 6b. an unknown terminal type: a clear message, exit 1, no screen left behind -------------
start 100 30 TERM=nosuchterm
check "an unknown TERM is named" 'terminal type "nosuchterm" is unknown' 20
check "and the exit status is 1" "EXITED rc=1" 5

# ---- 7. another task from the picker; Ctrl-C quits cleanly ------------------------------------
start 100 30 LANG=C.UTF-8
check "workbench opens again" "Semantic prompt" 20
T send-keys -t ui F4
check "F4 opens the model/task picker" "Open a model and task" 5
T send-keys -t ui Tab Down Down Down Down Enter
check "the picked task opens (loaded in the background)" "wordnet-topic: 8 classes" 30
check "its prompt is scored" "zero-shot \(verbalizer, 32 val\): +[0-9.]+%" 30
T send-keys -t ui C-c
check "Ctrl-C quits with status 0" "EXITED rc=0" 15

echo "tui: $failures failure(s)"
exit $((failures > 0))
