/* workbench.h - the workbench's state, shared by its panels and dialogs (private to
 * app/tui). Only the main thread reads or writes this struct; the workers it talks to
 * (runs, scorer, script, loader) have their own locked state. */
#ifndef SK_WORKBENCH_H
#define SK_WORKBENCH_H

#include "tui.h"

#define WB_MIN_W 80
#define WB_MIN_H 24
#define WB_DEBOUNCE 0.3 /* seconds without typing before the prompt is scored */

typedef struct Rect {
    int y, x, h, w;
} Rect;

typedef struct Layout {
    Rect title, prompt, runs, chart, examples, keys;
} Layout;

/* A run as the screen sees it: copied under the runs mutex, drawn without it. */
typedef struct RunView {
    int id, series;
    char label[64];
    RunState state;
    int step, steps;
    double loss, score, best_score, seconds;
    int best_step;
    int64_t params;
    SkMethodKind kind;
    char message[1100];
    char out_dir[1024];
    bool has_method;
    int steps_to_target; /* filled by the compare view */
    int n_ex;            /* predictions for the example rows once trained */
    int ex_pred[SCORER_EXAMPLES];
    float ex_prob[SCORER_EXAMPLES];
} RunView;

typedef enum { INPUT_SAVE_ADAPTER, INPUT_LOAD_ADAPTER } InputAction;

typedef struct Loader { /* opens another model/task in the background */
    pthread_t thread;
    _Atomic int state;    /* 0 idle, 1 loading, 2 done (ok or error) */
    char model[2048], task[64], data[2048];
    Session result;
    int rc;
    SkError err;
} Loader;

struct Workbench {
    WorkbenchOptions opt;
    char datasets_dir[1024];
    Session session;
    TLog log;
    Runs runs;
    Scorer scorer;
    Script script;
    Loader loader;
    Layout lay;
    bool too_small;

    /* the prompt, and the template after the input (one of the two is edited: ^T) */
    Editor prompt, templ;
    bool on_template;        /* the template line has the cursor */
    bool chat;               /* both wrapped in the model's chat template (^O) */
    double edited_at;
    bool score_due;
    char **history;
    int n_history, hist_pos; /* hist_pos == n_history: the line being edited */
    char hist_draft[2048];
    double prev_score;       /* the last different prompt's score (NAN: none yet) */
    double shown_score;
    PromptLayout shown;      /* the layout the shown score is for */
    unsigned shown_gen;      /* the scorer request the shown score answers */
    unsigned spin;

    /* panels */
    Focus focus;
    int sel;                 /* selected row of the runs table */
    bool chart_loss, chart_time, show_log;
    int log_back;            /* lines scrolled back from the newest */

    /* dialogs */
    DialogKind dialog;
    Form *form;
    Editor input;
    char input_title[128];
    InputAction input_action;
    int input_run;
    Editor open_model, open_data;
    char **tasks;
    int n_tasks, open_task, open_field;
    Editor script_path, script_args;
    int script_field;
    int compare_scroll;

    char status[512];
    double status_at;
    bool status_bad;
    bool quit;
};

void Wb_status(Workbench *wb, bool bad, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Copies the runs for drawing; returns the count (caller frees *out). */
int Wb_snapshot(Workbench *wb, RunView **out);
/* Chart points of one run: x (step or seconds) and y (loss or score). */
int Wb_series(Workbench *wb, int id, bool loss, bool time, float **x, float **y);
void Wb_request_quit(Workbench *wb);

/* panels: draw, and handle a key when focused (true when used) */
/* The scorer's newest result; true when it is for the prompt as it stands now (not for
 * older text, and no newer request pending). */
bool Wb_score(Workbench *wb, ScorerResult *res);
void PanelPrompt_draw(Workbench *wb, Rect r);
bool PanelPrompt_key(Workbench *wb, int is_key, wint_t ch);
void PanelPrompt_edited(Workbench *wb);
/* The layout on screen now: prompt, template, chat. */
PromptLayout Wb_layout(const Workbench *wb);
/* The editor that has the cursor in the prompt panel. */
Editor *Wb_editor(Workbench *wb);
void PanelRuns_draw(Workbench *wb, Rect r, const RunView *v, int n);
bool PanelRuns_key(Workbench *wb, int is_key, wint_t ch, const RunView *v, int n);
void PanelChart_draw(Workbench *wb, Rect r, const RunView *v, int n);
bool PanelChart_key(Workbench *wb, int is_key, wint_t ch);
void PanelLog_draw(Workbench *wb, Rect r);
bool PanelLog_key(Workbench *wb, int is_key, wint_t ch);
/* the example rows: zero-shot with the current prompt, or, while the runs table has the
 * focus, the selected trained run's predictions */
void PanelExamples_draw(Workbench *wb, Rect r, const RunView *v, int n);

/* dialogs: open, draw, key (a dialog closes itself by setting wb->dialog = DLG_NONE) */
void DialogHelp_draw(Workbench *wb);
Form *DialogForm_new(Workbench *wb);
void DialogForm_free(Form *f);
void DialogForm_draw(Workbench *wb);
void DialogForm_key(Workbench *wb, int is_key, wint_t ch);
void DialogCompare_draw(Workbench *wb);
void DialogCompare_key(Workbench *wb, int is_key, wint_t ch);
/* Writes runs/compare-<time>.{md,csv,json}; returns 0 and the base path. */
int DialogCompare_export(Workbench *wb, char *base, size_t cap, SkError *err);
void DialogOpen_show(Workbench *wb);
void DialogOpen_draw(Workbench *wb);
void DialogOpen_key(Workbench *wb, int is_key, wint_t ch);
void DialogOpen_poll(Workbench *wb); /* swaps in a loaded session */
void DialogScript_show(Workbench *wb);
void DialogScript_draw(Workbench *wb);
void DialogScript_key(Workbench *wb, int is_key, wint_t ch);
void DialogInput_show(Workbench *wb, InputAction action, const char *title, const char *initial);
void DialogInput_draw(Workbench *wb);
void DialogInput_key(Workbench *wb, int is_key, wint_t ch);
void DialogConfirm_draw(Workbench *wb);
void DialogConfirm_key(Workbench *wb, int is_key, wint_t ch);
/* A centred box for a dialog; returns its rectangle. */
Rect Dialog_frame(int h, int w, const char *title);

#endif
