/* tui.h - the workbench: an ncurses client of the engine.
 *
 * The pieces, one concern per file:
 *   crt.c        terminal set-up/restore, the palette, glyphs (UTF-8 or ASCII), text drawing
 *   tlog.c       a thread-safe log of lines (runs, scripts, errors) for the log pane
 *   editor.c     a one-line UTF-8 text editor (the prompt and every text field)
 *   session.c    the model, tokenizer and task the workbench is open on; prompt history
 *   runs.c       training runs in worker threads: queue, pause, stop, live history
 *   scorer.c     zero-shot scoring of the prompt in the background, stale work cancelled
 *   script.c     a Lua script in a worker thread, print() to the log, its runs charted
 *   chart.c      line charts on a braille (or ASCII) canvas
 *   panel_*.c    the screen's panels; dialog_*.c the overlays
 *   workbench.c  layout, focus, keys, the main loop
 * Worker threads never touch the screen: they update shared state under a mutex and the
 * main loop redraws from it. */
#ifndef SK_TUI_H
#define SK_TUI_H

#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <pthread.h>
#include <stdbool.h>

#include "sk_data.h"
#include "sk_train.h"

/* ---- crt: terminal, palette, glyphs ---------------------------------------------------- */

enum {
    CRT_NORMAL, CRT_BORDER, CRT_BORDER_FOCUS, CRT_TITLE, CRT_HEADER, CRT_DIM, CRT_GOOD, CRT_BAD,
    CRT_KEY, CRT_SELECTED, CRT_FIELD, CRT_WARN, CRT_N_ROLES
};
#define CRT_N_SERIES 6

typedef struct Glyphs {
    const char *h, *v, *tl, *tr, *bl, *br; /* box drawing */
    const char *sep;                        /* between token pieces */
    const char *bar_full, *bar_part[8];     /* bar fractions (1/8 steps) */
    const char *arrow_up, *arrow_down, *cursor_run, *spinner[4];
    const char *axis_v, *axis_h, *axis_corner, *axis_tick_v, *axis_tick_h;
} Glyphs;

extern bool crt_utf8;  /* braille, box drawing and bars; false under a non-UTF-8 locale */
extern bool crt_color; /* false with NO_COLOR or a monochrome terminal */
extern const Glyphs *crt_glyphs;

/* Sets the locale, starts curses, installs the handlers that restore the terminal on
 * SIGINT/SIGTERM/SIGHUP (flag only) and on crashes; stderr goes to err_log so nothing a
 * library prints can scribble on the screen. Returns 0, or -1 with a message. */
int Crt_init(const char *err_log, char *msg, size_t cap);
void Crt_done(void); /* idempotent */
int Crt_attr(int role);
int Crt_series_attr(int i);
/* Set by the signal handlers; the main loop reads and clears them. */
extern volatile int crt_interrupted, crt_terminated;
/* Writes s (UTF-8) at y,x, at most w columns wide; returns the columns used. */
int Crt_put(int y, int x, int w, const char *s, int attr);
/* Display width of s (UTF-8); byte length of the longest prefix of s fitting in w columns. */
int Crt_width(const char *s);
size_t Crt_fit(const char *s, int w);
void Crt_box(int y, int x, int h, int w, const char *title, bool focus);
void Crt_fill(int y, int x, int h, int w, int attr);
/* "12.3k", "1.7M": parameter counts in table cells. */
void Crt_count(char *buf, size_t cap, double n);

/* ---- tlog: the log pane's lines -------------------------------------------------------- */

#define TLOG_MAX 2000
typedef struct TLog {
    pthread_mutex_t mu;
    char *lines[TLOG_MAX];
    int start, count;
    unsigned version;
} TLog;
void TLog_init(TLog *l);
void TLog_free(TLog *l);
void TLog_add(TLog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies (strdup) up to n lines ending `back` lines before the newest; returns the count. */
int TLog_tail(TLog *l, int back, int n, char **out);

/* ---- editor: one line of UTF-8 text ----------------------------------------------------- */

typedef struct Editor {
    char buf[2048];
    int len, cur;  /* bytes; cur on a code point boundary */
    int scroll;    /* first visible byte */
} Editor;
void Editor_set(Editor *e, const char *s);
/* Text with line breaks in a one-line editor: set shows a newline as \n and a tab as \t (a
 * backslash as \\); text gives them back, so typing \n puts a line break in a prompt. */
void Editor_set_text(Editor *e, const char *text);
void Editor_text(const Editor *e, char *out, size_t cap);
/* Handles a key (wide character or KEY_*); returns true when the text changed. Keys it
 * does not edit with (Tab, Enter, Esc, F-keys, Up/Down) return false and *used = false. */
bool Editor_key(Editor *e, int is_key, wint_t ch, bool *used);
/* Draws the line at y,x in w columns with the cursor shown when focused. */
void Editor_draw(Editor *e, int y, int x, int w, bool focus, int attr);
void Editor_word(Editor *e, int dir); /* Alt-b (-1) / Alt-f (+1) */

/* ---- session: model + task ----------------------------------------------------------- */

/* What the frozen model reads around each input: the semantic prompt before it, the
 * template after it (e.g. "\nCategory:"), and whether both go inside the model's chat
 * template (a user turn, the answer scored after the assistant's header). */
typedef struct PromptLayout {
    char prompt[2048];
    char templ[256];
    bool chat;
} PromptLayout;
bool PromptLayout_equal(const PromptLayout *a, const PromptLayout *b);

typedef struct Session {
    char model_dir[2048];
    SkModel *model;
    SkTokenizer *tok;
    char task_name[64];   /* a bundled task, or the data file's base name */
    SkDataTask task;      /* train/validation/test, label words, suggested prompt */
    bool from_file;
    char datasets_dir[1024];
} Session;

/* Opens a model and either a bundled task (task) or a data file (data, with an optional
 * evaluation file; without one the last 10% of a seeded shuffle is held out). */
int Session_open(Session *s, const char *model_dir, const char *datasets_dir, const char *task,
                 const char *data, const char *eval_data, SkError *err);
void Session_close(Session *s);
/* The head for this task: a verbalizer over its label words, or a linear head with the
 * given pooling ("last", "mean") over its classes. */
int Session_head_config(const Session *s, bool verbalizer, const char *pool, const char *templ, SkHeadConfig *hc,
                        SkError *err);
/* The texts a method and a head get from a layout: the prompt (and the template, the head's
 * suffix after the input) wrapped in the model's chat template when layout->chat. An error
 * when the tokenizer has no chat template sktune can use. */
int Session_compose(const Session *s, const PromptLayout *layout, char *prompt, size_t prompt_cap, char *templ,
                    size_t templ_cap, SkError *err);
/* The prompt history kept in runs/prompts.tsv (time, model, task, score, prompt). */
int Session_history_load(const Session *s, char ***out, int *n);
void Session_history_add(const Session *s, const char *prompt, double score);

/* ---- runs: training in worker threads --------------------------------------------------- */

typedef enum { RUN_QUEUED, RUN_RUNNING, RUN_PAUSED, RUN_DONE, RUN_STOPPED, RUN_FAILED } RunState;

typedef struct RunPoint {
    int step;
    float loss;     /* NAN on the step-0 evaluation */
    float score;    /* validation accuracy, NAN when not evaluated */
    float seconds;  /* training time, pauses excluded */
} RunPoint;

typedef struct RunSpec {
    SkMethodConfig method;
    SkHeadConfig head;
    SkTrainConfig train;
} RunSpec;

struct Runs;
#define SCORER_EXAMPLES 6 /* example rows shown under the runs */

typedef struct Run {
    struct Runs *owner;
    int id;
    int series;           /* colour index */
    char label[64];       /* method name, "script:<method>" or "adapter:<file>" */
    RunSpec spec;
    bool external;        /* driven by a script, not by this workbench */
    bool loaded;          /* an adapter file evaluated, not trained */
    char adapter_path[1024];
    /* guarded by Runs.mu */
    RunState state;
    int step, steps;
    double loss, score, best_score;
    int best_step;
    RunPoint *pts;
    int n_pts, cap_pts;
    double seconds, paused_at, paused_total;
    int64_t params;
    char message[1100];
    char out_dir[1024];
    bool stop_req, pause_req;
    /* worker */
    pthread_t thread;
    bool joinable;
    SkMethod *method;     /* kept after training for saving and predicting */
    SkHead *head;
    /* its predictions for the example rows once trained (guarded by Runs.mu) */
    int n_ex;
    int ex_pred[SCORER_EXAMPLES];
    float ex_prob[SCORER_EXAMPLES];
} Run;

typedef struct Runs {
    pthread_mutex_t mu;
    pthread_cond_t cv;    /* pause/resume */
    Run **v;
    int n, cap, next_id;
    int max_parallel;
    Session *session;
    TLog *log;
    const SkDataset *examples; /* the example rows a finished run predicts (the scorer's) */
    unsigned version;     /* bumped on every change: the screen redraws */
} Runs;

void Runs_init(Runs *r, Session *s, TLog *log, int max_parallel);
/* Stops every run, waits for the workers, frees everything. */
void Runs_free(Runs *r);
/* Queues a run (started by Runs_poll when a slot is free); returns its id. */
int Runs_add(Runs *r, const RunSpec *spec);
/* Evaluates an adapter file on the validation split as a finished run. */
int Runs_add_adapter(Runs *r, const char *path);
void Runs_poll(Runs *r);                 /* starts queued runs, joins finished workers */
void Runs_toggle_pause(Runs *r, int id);
void Runs_stop(Runs *r, int id);
int Runs_remove(Runs *r, int id);       /* only a run that is not active; 0 on success */
int Runs_active(Runs *r);               /* queued + running + paused */
int Runs_save_adapter(Runs *r, int id, const char *path, SkError *err);
/* Drops trained methods (before the model they belong to is closed). */
void Runs_forget_model(Runs *r);
/* Runs driven from elsewhere (a script's sk.train): */
Run *Runs_external_begin(Runs *r, const char *method, int64_t params, int steps);
int Runs_external_step(Runs *r, Run *run, const SkHistoryEntry *ev); /* nonzero: stop */
void Runs_external_end(Runs *r, Run *run, bool failed, const char *reason, double seconds);
const char *Run_state_name(RunState s);

/* ---- scorer: zero-shot score of the prompt ----------------------------------------------- */

typedef struct ScorerResult {
    unsigned gen;
    PromptLayout layout;
    bool ok;
    bool partial;         /* still scoring: n of total done so far */
    int total;
    char error[1100];
    int n, correct;       /* validation sample */
    double accuracy;
    double seconds;
    int n_examples;
    int pred[SCORER_EXAMPLES];
    float prob[SCORER_EXAMPLES];
} ScorerResult;

typedef struct Scorer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool started, quit;
    Session *session;     /* swapped only while idle (Scorer_pause) */
    int sample;           /* validation examples scored */
    SkDataset sample_set, examples;
    unsigned want_gen;    /* the newest request */
    PromptLayout want;
    bool busy, paused;
    ScorerResult result;  /* the newest finished (maybe stale) result */
} Scorer;

int Scorer_start(Scorer *sc, Session *s, int sample);
void Scorer_stop(Scorer *sc);
void Scorer_request(Scorer *sc, const PromptLayout *layout); /* cancels older work */
/* Blocks until the worker is idle and keeps it idle until Scorer_resume (session swap). */
void Scorer_pause(Scorer *sc);
void Scorer_resume(Scorer *sc, Session *s);
void Scorer_snapshot(Scorer *sc, ScorerResult *out, bool *busy, unsigned *want);

/* ---- script: a Lua script in a worker thread --------------------------------------------- */

typedef struct Script {
    pthread_t thread;
    _Atomic bool running;
    bool joinable;
    _Atomic int stop;
    char path[1024], args[1024];
    TLog *log;
    Runs *runs;
    int exit_status;      /* 0 ok, 1 error */
} Script;

int Script_start(Script *s, const char *path, const char *args, TLog *log, Runs *runs);
void Script_stop(Script *s);    /* asks the script to stop (a Lua error at the next hook) */
void Script_poll(Script *s);    /* joins a finished worker */
void Script_free(Script *s);

/* ---- chart ---------------------------------------------------------------------------- */

typedef struct ChartSeries {
    const float *x, *y;
    int n;
    int attr;
    const char *name;
} ChartSeries;

/* Draws a line chart in the rectangle (axes, y labels, x ticks, legend). */
void Chart_draw(int y, int x, int h, int w, const ChartSeries *s, int ns, const char *x_label,
                bool fixed_01);

/* ---- the workbench --------------------------------------------------------------------- */

typedef enum { FOCUS_PROMPT, FOCUS_RUNS, FOCUS_CHART, FOCUS_EXAMPLES, FOCUS_COUNT } Focus;
typedef enum { DLG_NONE, DLG_HELP, DLG_FORM, DLG_COMPARE, DLG_OPEN, DLG_SCRIPT, DLG_INPUT,
               DLG_CONFIRM_QUIT } DialogKind;

typedef struct Form Form;
typedef struct Workbench Workbench;

typedef struct WorkbenchOptions {
    const char *model_dir, *task, *data, *eval_data, *prompt, *datasets_dir;
    const char *templ;    /* text after the input (NULL: the task's suggestion) */
    bool chat;            /* prompt and template inside the model's chat template */
    int parallel;         /* runs trained at once */
    int sample;           /* validation examples for the zero-shot score */
} WorkbenchOptions;

int Workbench_main(const WorkbenchOptions *o);

#endif
