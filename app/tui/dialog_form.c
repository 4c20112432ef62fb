/* dialog_form.c - the new-run form: a method, the options that method has, and the
 * training settings. Choices cycle with Left/Right (or space); numbers are typed.
 * Enter queues the run (or several, with consecutive seeds); Esc cancels. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workbench.h"

typedef enum { FLD_CHOICE, FLD_INT, FLD_NUM } FieldType;

enum { F_METHOD, F_LR, F_STEPS, F_BATCH, F_SEED, F_COPIES, F_EVAL, F_MAXLEN, F_HEAD, F_ADAPTER, F_RANK, F_MODE,
       F_VIRTUAL, F_INIT, F_PROJ, F_LORA_R, F_LORA_ALPHA, F_LORA_TARGETS, F_COUNT };

#define M(k) (1u << (k))
#define SK_METHODS (M(SK_M_SK_PREFIX) | M(SK_M_SK_PROMPT))
#define VIRTUAL_METHODS (M(SK_M_PREFIX_TUNING) | M(SK_M_P_TUNING_V2) | M(SK_M_PROMPT_TUNING) | M(SK_M_P_TUNING))

typedef struct Field {
    const char *label;
    FieldType type;
    const char *const *choices;
    int n_choices, choice;
    Editor text;
    unsigned methods; /* the methods that have this option; 0 = all */
    const char *hint;
} Field;

struct Form {
    Field f[F_COUNT];
    int cur;
    char error[1100];
};

static const char *const METHODS[] = {"sk_prefix", "sk_prompt", "prefix_tuning", "p_tuning_v2", "prompt_tuning",
                                      "p_tuning", "lora", "head_only", "full"};
static const char *const HEADS[] = {"linear (last token)", "linear (mean of tokens)", "verbalizer (label words)"};
static const char *const ADAPTERS[] = {"lowrank", "linear", "mlp", "none"};
static const char *const MODES[] = {"cached", "live"};
static const char *const INITS[] = {"random", "vocab", "text (the prompt)"};
static const char *const ONOFF[] = {"on", "off"};
/* PEFT's default for the model (GPT-2: c_attn; Llama: q_proj, v_proj), its attention
 * projections, or all of them */
static const char *const TARGETS[] = {"default (PEFT's)", "attention", "all projections"};

static void field(Form *f, int i, const char *label, FieldType t, unsigned methods, const char *hint) {
    f->f[i].label = label, f->f[i].type = t, f->f[i].methods = methods, f->f[i].hint = hint;
}

static void choices(Form *f, int i, const char *const *c, int n, int sel) {
    f->f[i].choices = c, f->f[i].n_choices = n, f->f[i].choice = sel;
}

static void set_num(Form *f, int i, double v) {
    char buf[32];
    snprintf(buf, sizeof buf, f->f[i].type == FLD_INT ? "%.0f" : "%g", v);
    Editor_set(&f->f[i].text, buf);
}

static SkMethodKind kind_of(const Form *f) { return (SkMethodKind)f->f[F_METHOD].choice; }

static bool visible(const Form *f, int i) {
    unsigned m = f->f[i].methods;
    return !m || (m & M(kind_of(f)));
}

Form *DialogForm_new(Workbench *wb) {
    (void)wb;
    Form *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    field(f, F_METHOD, "method", FLD_CHOICE, 0, "sk_*: read the prompt; others: baselines");
    choices(f, F_METHOD, METHODS, 9, SK_M_SK_PREFIX);
    field(f, F_LR, "learning rate", FLD_NUM, 0, "AdamW peak rate (warmup 6%, then linear decay)");
    field(f, F_STEPS, "steps", FLD_INT, 0, "optimizer steps");
    field(f, F_BATCH, "batch", FLD_INT, 0, "examples per step");
    field(f, F_SEED, "seed", FLD_INT, 0, "initialisation, data order, dropout");
    field(f, F_COPIES, "runs", FLD_INT, 0, "how many runs, seeds seed, seed+1, ...");
    field(f, F_EVAL, "evaluate every", FLD_INT, 0, "steps between validation scores (the chart)");
    field(f, F_MAXLEN, "max tokens", FLD_INT, 0, "per sequence; longer inputs are truncated");
    field(f, F_HEAD, "head", FLD_CHOICE, 0, "how the last hidden states become class scores");
    choices(f, F_HEAD, HEADS, 3, 0);
    field(f, F_ADAPTER, "adapter", FLD_CHOICE, SK_METHODS, "the trainable map applied to the prompt's states");
    choices(f, F_ADAPTER, ADAPTERS, 4, SK_ADAPTER_LOWRANK);
    field(f, F_RANK, "adapter rank", FLD_INT, SK_METHODS, "lowrank rank (mlp: hidden = rank x 8)");
    field(f, F_MODE, "prompt states", FLD_CHOICE, M(SK_M_SK_PREFIX), "cached: read once; live: recomputed each step");
    choices(f, F_MODE, MODES, 2, 0);
    field(f, F_VIRTUAL, "virtual tokens", FLD_INT, VIRTUAL_METHODS, "0 = the method's default");
    field(f, F_INIT, "initialisation", FLD_CHOICE, M(SK_M_PROMPT_TUNING), "of the soft prompt");
    choices(f, F_INIT, INITS, 3, 0);
    field(f, F_PROJ, "reparameterisation", FLD_CHOICE, M(SK_M_PREFIX_TUNING), "the prefix MLP of Li & Liang");
    choices(f, F_PROJ, ONOFF, 2, 0);
    field(f, F_LORA_R, "LoRA r", FLD_INT, M(SK_M_LORA), "rank of each delta");
    field(f, F_LORA_ALPHA, "LoRA alpha", FLD_NUM, M(SK_M_LORA), "scale alpha / r");
    field(f, F_LORA_TARGETS, "LoRA targets", FLD_CHOICE, M(SK_M_LORA), "which linear maps get a delta");
    choices(f, F_LORA_TARGETS, TARGETS, 3, 0);
    SkTrainConfig tc;
    sk_train_config_default(&tc);
    set_num(f, F_LR, sk_method_default_lr(SK_M_SK_PREFIX));
    set_num(f, F_STEPS, 200);
    set_num(f, F_BATCH, tc.batch);
    set_num(f, F_SEED, 1);
    set_num(f, F_COPIES, 1);
    set_num(f, F_EVAL, 20);
    set_num(f, F_MAXLEN, tc.max_len);
    set_num(f, F_RANK, 8);
    set_num(f, F_VIRTUAL, 0);
    set_num(f, F_LORA_R, 8);
    set_num(f, F_LORA_ALPHA, 8);
    return f;
}

void DialogForm_free(Form *f) { free(f); }

static int visible_list(const Form *f, int *list) {
    int n = 0;
    for (int i = 0; i < F_COUNT; i++)
        if (visible(f, i)) list[n++] = i;
    return n;
}

void DialogForm_draw(Workbench *wb) {
    Form *f = wb->form;
    int list[F_COUNT], n = visible_list(f, list);
    Rect r = Dialog_frame(n + 6, COLS - 4 < 100 ? COLS - 4 : 100, "New run (Enter: start, Esc: cancel)");
    int lw = 20;
    for (int k = 0; k < n && k < r.h - 6; k++) {
        int i = list[k], y = r.y + 1 + k;
        Field *fl = &f->f[i];
        bool cur = i == f->cur;
        Crt_put(y, r.x + 2, lw, fl->label, cur ? Crt_attr(CRT_BORDER_FOCUS) : 0);
        int fx = r.x + 2 + lw, fw = 26;
        if (fl->type == FLD_CHOICE) {
            char buf[64];
            snprintf(buf, sizeof buf, "< %s >", fl->choices[fl->choice]);
            Crt_fill(y, fx, 1, fw, Crt_attr(CRT_FIELD));
            Crt_put(y, fx, fw, buf, Crt_attr(CRT_FIELD) | (cur ? A_BOLD : 0));
        } else {
            Editor_draw(&fl->text, y, fx, 12, cur, Crt_attr(CRT_FIELD));
        }
        if (cur) Crt_put(y, fx + fw + 1, r.x + r.w - fx - fw - 3, fl->hint, Crt_attr(CRT_DIM));
    }
    SkMethodKind k = kind_of(f);
    char note[2200];
    if (k == SK_M_SK_PREFIX || k == SK_M_SK_PROMPT || (k == SK_M_PROMPT_TUNING && f->f[F_INIT].choice == 2))
        snprintf(note, sizeof note, "prompt: \"%s\"", wb->prompt.buf);
    else
        snprintf(note, sizeof note, "this method does not read the prompt");
    Crt_put(r.y + r.h - 4, r.x + 2, r.w - 4, note, Crt_attr(CRT_DIM));
    Crt_put(r.y + r.h - 3, r.x + 2, r.w - 4, "Up/Down: field  Left/Right/space: choice  Enter: start  Esc: cancel",
            Crt_attr(CRT_DIM));
    if (f->error[0]) Crt_put(r.y + r.h - 2, r.x + 2, r.w - 4, f->error, Crt_attr(CRT_BAD));
}

static int read_int(Form *f, int i, int lo, int hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(f->f[i].text.buf, &end, 10);
    if (errno || end == f->f[i].text.buf || *end || v < lo || v > hi) {
        snprintf(f->error, sizeof f->error, "%s: a whole number from %d to %d", f->f[i].label, lo, hi);
        f->cur = i;
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int read_num(Form *f, int i, double lo, double hi, double *out) {
    char *end;
    double v = strtod(f->f[i].text.buf, &end);
    if (end == f->f[i].text.buf || *end || !isfinite(v) || v <= lo || v > hi) {
        snprintf(f->error, sizeof f->error, "%s: a number above %g, at most %g", f->f[i].label, lo, hi);
        f->cur = i;
        return -1;
    }
    *out = v;
    return 0;
}

static void submit(Workbench *wb) {
    Form *f = wb->form;
    f->error[0] = 0;
    SkMethodKind k = kind_of(f);
    int steps, batch, seed, copies, eval, maxlen, rank, nvirt, lora_r;
    double lr, alpha;
    if (read_num(f, F_LR, 0, 10, &lr) || read_int(f, F_STEPS, 1, 1000000, &steps) ||
        read_int(f, F_BATCH, 1, 1024, &batch) || read_int(f, F_SEED, 0, 1 << 30, &seed) ||
        read_int(f, F_COPIES, 1, 16, &copies) || read_int(f, F_EVAL, 0, 1000000, &eval) ||
        read_int(f, F_MAXLEN, 8, 100000, &maxlen) || read_int(f, F_RANK, 1, 4096, &rank) ||
        read_int(f, F_VIRTUAL, 0, 4096, &nvirt) || read_int(f, F_LORA_R, 1, 4096, &lora_r) ||
        read_num(f, F_LORA_ALPHA, 0, 1e6, &alpha))
        return;
    RunSpec spec;
    memset(&spec, 0, sizeof spec);
    SkMethodConfig *mc = &spec.method;
    sk_method_config_default(mc, k);
    bool reads_prompt = k == SK_M_SK_PREFIX || k == SK_M_SK_PROMPT || (k == SK_M_PROMPT_TUNING && f->f[F_INIT].choice == 2);
    /* the layout on screen: the prompt (chat-wrapped when chat is on) and the template after the input */
    SkError err;
    PromptLayout layout = Wb_layout(wb);
    char prompt[2600], templ[256];
    if (Session_compose(&wb->session, &layout, prompt, sizeof prompt, templ, sizeof templ, &err) != 0) {
        snprintf(f->error, sizeof f->error, "%s", err.msg);
        return;
    }
    if (reads_prompt) {
        if (!wb->prompt.buf[strspn(wb->prompt.buf, " ")]) {
            snprintf(f->error, sizeof f->error, "%s reads the semantic prompt: write one first (F2)", METHODS[k]);
            return;
        }
        if ((size_t)snprintf(mc->prompt, sizeof mc->prompt, "%s", prompt) >= sizeof mc->prompt) {
            snprintf(f->error, sizeof f->error, "the prompt is too long");
            return;
        }
    }
    mc->adapter = (SkAdapterKind)f->f[F_ADAPTER].choice;
    mc->rank = rank;
    mc->live = f->f[F_MODE].choice == 1;
    mc->n_virtual = nvirt;
    mc->init = (SkPromptInit)f->f[F_INIT].choice;
    mc->projection = f->f[F_PROJ].choice == 0;
    mc->lora_rank = lora_r;
    mc->lora_alpha = (float)alpha;
    int targets = f->f[F_LORA_TARGETS].choice;
    mc->lora_targets = targets == 0 ? 0 : sk_lora_all_targets(wb->session.model, targets == 1);
    int head = f->f[F_HEAD].choice; /* HEADS: last, mean, verbalizer */
    if (Session_head_config(&wb->session, head == 2, head == 0 ? "last" : "mean", templ, &spec.head, &err) != 0) {
        snprintf(f->error, sizeof f->error, "%s", err.msg);
        return;
    }
    sk_train_config_default(&spec.train);
    spec.train.steps = steps, spec.train.batch = batch, spec.train.lr = (float)lr;
    spec.train.eval_every = eval, spec.train.max_len = maxlen;
    int first = -1;
    for (int c = 0; c < copies; c++) {
        spec.train.seed = (uint64_t)seed + (uint64_t)c;
        mc->seed = spec.train.seed;
        int id = Runs_add(&wb->runs, &spec);
        if (first < 0) first = id;
    }
    if (copies > 1) Wb_status(wb, false, "runs %d-%d queued: %s", first, first + copies - 1, METHODS[k]);
    else Wb_status(wb, false, "run %d queued: %s", first, METHODS[k]);
    wb->dialog = DLG_NONE;
}

static void move_field(Form *f, int dir) {
    int list[F_COUNT], n = visible_list(f, list), at = 0;
    for (int k = 0; k < n; k++)
        if (list[k] == f->cur) at = k;
    at = (at + dir + n) % n;
    f->cur = list[at];
}

void DialogForm_key(Workbench *wb, int is_key, wint_t ch) {
    Form *f = wb->form;
    Field *fl = &f->f[f->cur];
    if (!is_key && ch == 27) {
        wb->dialog = DLG_NONE;
        return;
    }
    if ((is_key && ch == KEY_ENTER) || (!is_key && (ch == '\r' || ch == '\n'))) {
        submit(wb);
        return;
    }
    if ((is_key && (ch == KEY_DOWN || ch == KEY_UP || ch == KEY_BTAB)) || (!is_key && ch == '\t')) {
        move_field(f, (is_key && (ch == KEY_UP || ch == KEY_BTAB)) ? -1 : 1);
        return;
    }
    if (fl->type == FLD_CHOICE) {
        int dir = (is_key && ch == KEY_LEFT) ? -1 : ((is_key && ch == KEY_RIGHT) || (!is_key && ch == ' ')) ? 1 : 0;
        if (!dir) return;
        fl->choice = (fl->choice + dir + fl->n_choices) % fl->n_choices;
        if (f->cur == F_METHOD) set_num(f, F_LR, sk_method_default_lr(kind_of(f)));
        f->error[0] = 0;
        return;
    }
    bool used;
    if (!is_key && ch >= 32 && !strchr("0123456789.eE-+", (int)ch)) return; /* numbers only */
    Editor_key(&fl->text, is_key, ch, &used);
    f->error[0] = 0;
}
