/* workbench.c - the main loop: layout, focus, global keys, quitting cleanly.
 *
 * The loop waits at most 50 ms for a key, handles it, lets the workers' news in (runs
 * started or finished, scores, a loaded model), fires the debounced prompt scoring and
 * redraws. Drawing reads snapshots, never a worker's live state. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "workbench.h"

/* Every thread but the one that reads keys and draws runs at a lower priority (nice 10),
 * so that on a machine whose cores are all busy training, a key still gets the CPU at
 * once. Threads are created all the time (runs, the model's pool, OpenBLAS at start), so
 * this is applied again every second. Raising a nice value needs no privilege. */
static void lower_workers(pid_t ui_tid) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        pid_t tid = (pid_t)atoi(e->d_name);
        if (tid <= 0 || tid == ui_tid) continue;
        errno = 0;
        int nice = getpriority(PRIO_PROCESS, (id_t)tid);
        if (errno == 0 && nice < 10) setpriority(PRIO_PROCESS, (id_t)tid, 10);
    }
    closedir(d);
}

void Wb_status(Workbench *wb, bool bad, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(wb->status, sizeof wb->status, fmt, ap);
    va_end(ap);
    wb->status_at = sk_now_seconds();
    wb->status_bad = bad;
    TLog_add(&wb->log, "%s", wb->status);
}

int Wb_snapshot(Workbench *wb, RunView **out) {
    Runs *r = &wb->runs;
    pthread_mutex_lock(&r->mu);
    RunView *v = calloc((size_t)(r->n ? r->n : 1), sizeof *v);
    int n = 0;
    for (int i = 0; v && i < r->n; i++) {
        const Run *run = r->v[i];
        RunView *x = &v[n++];
        x->id = run->id, x->series = run->series;
        snprintf(x->label, sizeof x->label, "%s", run->label);
        x->state = run->state, x->step = run->step, x->steps = run->steps;
        x->loss = run->loss, x->score = run->score, x->best_score = run->best_score;
        x->best_step = run->best_step, x->seconds = run->seconds, x->params = run->params;
        x->kind = run->spec.method.kind;
        x->has_method = run->method != NULL;
        x->steps_to_target = -1;
        x->n_ex = run->n_ex;
        memcpy(x->ex_pred, run->ex_pred, sizeof x->ex_pred);
        memcpy(x->ex_prob, run->ex_prob, sizeof x->ex_prob);
        snprintf(x->message, sizeof x->message, "%s", run->message);
        snprintf(x->out_dir, sizeof x->out_dir, "%s", run->out_dir);
    }
    pthread_mutex_unlock(&r->mu);
    *out = v;
    return v ? n : 0;
}

int Wb_series(Workbench *wb, int id, bool loss, bool time, float **xs, float **ys) {
    Runs *r = &wb->runs;
    *xs = *ys = NULL;
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n; i++) {
        const Run *run = r->v[i];
        if (run->id != id) continue;
        *xs = malloc((size_t)(run->n_pts + 1) * sizeof **xs);
        *ys = malloc((size_t)(run->n_pts + 1) * sizeof **ys);
        if (!*xs || !*ys) break;
        for (int k = 0; k < run->n_pts; k++) {
            const RunPoint *p = &run->pts[k];
            float y = loss ? p->loss : p->score;
            if (!isfinite(y)) continue;
            (*xs)[n] = time ? p->seconds : (float)p->step;
            (*ys)[n] = y;
            n++;
        }
        break;
    }
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* ---- layout ------------------------------------------------------------------------- */

static void layout(Workbench *wb) {
    int W = COLS, H = LINES;
    wb->too_small = W < WB_MIN_W || H < WB_MIN_H;
    Layout *l = &wb->lay;
    l->title = (Rect){0, 0, 1, W};
    l->prompt = (Rect){1, 0, 6, W};
    int ex_h = 2 + SCORER_EXAMPLES;
    int max_ex = H / 5 > 4 ? H / 5 : 4;
    if (ex_h > max_ex) ex_h = max_ex;
    l->keys = (Rect){H - 1, 0, 1, W};
    l->examples = (Rect){H - 1 - ex_h, 0, ex_h, W};
    int mid_y = 7, mid_h = H - 1 - ex_h - mid_y;
    int runs_w = W * 55 / 100 < 58 ? 58 : W * 55 / 100;
    if (runs_w > 90) runs_w = 90;
    l->runs = (Rect){mid_y, 0, mid_h, runs_w};
    l->chart = (Rect){mid_y, runs_w, mid_h, W - runs_w};
}

/* ---- drawing ------------------------------------------------------------------------- */

static void draw_title(Workbench *wb, int n_runs, int active) {
    Rect r = wb->lay.title;
    int a = Crt_attr(CRT_TITLE);
    Crt_fill(r.y, r.x, 1, r.w, a);
    const SkModelConfig *c = sk_model_config(wb->session.model);
    char params[16], train[16];
    Crt_count(params, sizeof params, (double)c->n_params);
    Crt_count(train, sizeof train, wb->session.task.train.n);
    const char *base = strrchr(wb->session.model_dir, '/');
    base = base && base[1] ? base + 1 : wb->session.model_dir;
    char text[2800], held[56] = ""; /* weights held in 16 bits or quantized are worth a word: less memory */
    if (strcmp(sk_model_held(wb->session.model), "F32") != 0)
        snprintf(held, sizeof held, " %s", sk_model_held(wb->session.model));
    snprintf(text, sizeof text, " sktune %s %s %s %dx%d%s %s %s: %d classes, %s train, %d val %s %d run%s%s ",
             crt_glyphs->v, base, params, c->n_layer, c->d_model, held, crt_glyphs->v, wb->session.task_name,
             wb->session.task.train.n_labels, train, wb->session.task.validation.n, crt_glyphs->v, n_runs,
             n_runs == 1 ? "" : "s", active ? " training" : "");
    int used = Crt_put(r.y, r.x, r.w, text, a);
    if (used + 10 <= r.w) Crt_put(r.y, r.w - 9, 9, "F1 help ", a);
    if (wb->loader.state == 1) {
        const char *msg = " loading... ";
        Crt_put(r.y, r.w - Crt_width(msg), Crt_width(msg), msg, a | A_BOLD);
    }
}

static void draw_keys(Workbench *wb) {
    Rect r = wb->lay.keys;
    static const char *keys[][2] = {{"F1", "Help"}, {"F2", "Prompt"}, {"F3", "Runs"}, {"F4", "Open"},
                                    {"F5", "New run"}, {"F6", "Compare"}, {"F7", "Script"}, {"F8", "Log"},
                                    {"F10", "Quit"}};
    Crt_fill(r.y, 0, 1, r.w, 0);
    int x = 0;
    bool fresh = wb->status[0] && sk_now_seconds() - wb->status_at < 6;
    int room = fresh ? r.w / 2 : r.w;
    for (size_t i = 0; i < sizeof keys / sizeof *keys && x < room; i++) {
        x += Crt_put(r.y, x, room - x, keys[i][0], Crt_attr(CRT_KEY));
        char label[32];
        snprintf(label, sizeof label, "%s ", keys[i][1]);
        x += Crt_put(r.y, x, room - x, label, 0);
    }
    if (fresh) {
        int a = Crt_attr(wb->status_bad ? CRT_BAD : CRT_GOOD);
        Crt_put(r.y, x + 1, r.w - x - 1, wb->status, a);
    }
}

static void draw(Workbench *wb) {
    erase();
    layout(wb);
    if (wb->too_small) {
        char msg[160];
        snprintf(msg, sizeof msg, "terminal too small: %dx%d, the workbench needs at least %dx%d", COLS, LINES,
                 WB_MIN_W, WB_MIN_H);
        int y = LINES / 2, w = Crt_width(msg);
        Crt_put(y, w < COLS ? (COLS - w) / 2 : 0, COLS, msg, Crt_attr(CRT_WARN));
        Crt_put(y + 1, 0, COLS, "enlarge the window (training continues); q quits", 0);
        refresh();
        return;
    }
    RunView *v;
    int n = Wb_snapshot(wb, &v);
    int active = 0;
    for (int i = 0; i < n; i++) active += v[i].state == RUN_RUNNING || v[i].state == RUN_PAUSED;
    if (wb->sel >= n) wb->sel = n - 1;
    if (wb->sel < 0) wb->sel = 0;
    draw_title(wb, n, active);
    PanelPrompt_draw(wb, wb->lay.prompt);
    PanelRuns_draw(wb, wb->lay.runs, v, n);
    if (wb->show_log) PanelLog_draw(wb, wb->lay.chart);
    else PanelChart_draw(wb, wb->lay.chart, v, n);
    PanelExamples_draw(wb, wb->lay.examples, v, n);
    draw_keys(wb);
    free(v);
    switch (wb->dialog) {
    case DLG_HELP: DialogHelp_draw(wb); break;
    case DLG_FORM: DialogForm_draw(wb); break;
    case DLG_COMPARE: DialogCompare_draw(wb); break;
    case DLG_OPEN: DialogOpen_draw(wb); break;
    case DLG_SCRIPT: DialogScript_draw(wb); break;
    case DLG_INPUT: DialogInput_draw(wb); break;
    case DLG_CONFIRM_QUIT: DialogConfirm_draw(wb); break;
    case DLG_NONE: break;
    }
    refresh();
}

Rect Dialog_frame(int h, int w, const char *title) {
    if (w > COLS - 2) w = COLS - 2;
    if (h > LINES - 2) h = LINES - 2;
    Rect r = {(LINES - h) / 2, (COLS - w) / 2, h, w};
    Crt_fill(r.y, r.x, r.h, r.w, 0);
    Crt_box(r.y, r.x, r.h, r.w, title, true);
    return r;
}

/* ---- keys ---------------------------------------------------------------------------- */

void Wb_request_quit(Workbench *wb) {
    if (Runs_active(&wb->runs) > 0 || wb->script.running) wb->dialog = DLG_CONFIRM_QUIT;
    else wb->quit = true;
}

static void open_form(Workbench *wb) {
    DialogForm_free(wb->form);
    wb->form = DialogForm_new(wb);
    if (wb->form) wb->dialog = DLG_FORM;
}

/* Keys every screen answers (function keys); true when used. */
static bool global_key(Workbench *wb, int is_key, wint_t ch) {
    if (!is_key) {
        if (ch == '\t') { wb->focus = (Focus)((wb->focus + 1) % FOCUS_COUNT); return true; }
        return false;
    }
    switch ((int)ch) {
    case KEY_F(1): wb->dialog = DLG_HELP; return true;
    case KEY_F(2): wb->focus = FOCUS_PROMPT; return true;
    case KEY_F(3): wb->focus = FOCUS_RUNS; return true;
    case KEY_F(4): DialogOpen_show(wb); return true;
    case KEY_F(5): open_form(wb); return true;
    case KEY_F(6): wb->dialog = DLG_COMPARE, wb->compare_scroll = 0; return true;
    case KEY_F(7): DialogScript_show(wb); return true;
    case KEY_F(8): wb->show_log = !wb->show_log, wb->log_back = 0; if (wb->show_log) wb->focus = FOCUS_CHART; return true;
    case KEY_F(10): Wb_request_quit(wb); return true;
    case KEY_BTAB: wb->focus = (Focus)((wb->focus + FOCUS_COUNT - 1) % FOCUS_COUNT); return true;
    default: return false;
    }
}

/* Letters that act outside text fields. */
static bool command_key(Workbench *wb, wint_t ch) {
    switch (ch) {
    case 'q': Wb_request_quit(wb); return true;
    case '?': wb->dialog = DLG_HELP; return true;
    case 'n': open_form(wb); return true;
    case 'c': wb->dialog = DLG_COMPARE, wb->compare_scroll = 0; return true;
    case 'p': wb->focus = FOCUS_PROMPT; return true;
    case 'L': wb->show_log = !wb->show_log, wb->log_back = 0; return true;
    default: return false;
    }
}

static void handle_key(Workbench *wb, int is_key, wint_t ch) {
    if (is_key && ch == KEY_RESIZE) return;
    if (wb->too_small) {
        if (!is_key && (ch == 'q' || ch == 3)) Wb_request_quit(wb);
        else if (is_key && ch == KEY_F(10)) Wb_request_quit(wb);
        if (wb->dialog != DLG_CONFIRM_QUIT) return;
    }
    switch (wb->dialog) {
    case DLG_HELP: wb->dialog = DLG_NONE; return;
    case DLG_FORM: DialogForm_key(wb, is_key, ch); return;
    case DLG_COMPARE: DialogCompare_key(wb, is_key, ch); return;
    case DLG_OPEN: DialogOpen_key(wb, is_key, ch); return;
    case DLG_SCRIPT: DialogScript_key(wb, is_key, ch); return;
    case DLG_INPUT: DialogInput_key(wb, is_key, ch); return;
    case DLG_CONFIRM_QUIT: DialogConfirm_key(wb, is_key, ch); return;
    case DLG_NONE: break;
    }
    if (global_key(wb, is_key, ch)) return;
    RunView *v;
    int n = Wb_snapshot(wb, &v);
    bool used = false;
    switch (wb->focus) {
    case FOCUS_PROMPT: used = PanelPrompt_key(wb, is_key, ch); break;
    case FOCUS_RUNS: used = PanelRuns_key(wb, is_key, ch, v, n); break;
    case FOCUS_CHART: used = wb->show_log ? PanelLog_key(wb, is_key, ch) : PanelChart_key(wb, is_key, ch); break;
    case FOCUS_EXAMPLES: break;
    default: break;
    }
    if (!used && wb->focus != FOCUS_PROMPT) used = PanelRuns_key(wb, is_key, ch, v, n);
    if (!used && wb->focus != FOCUS_PROMPT && !is_key) used = command_key(wb, ch) || PanelChart_key(wb, is_key, ch);
    free(v);
}

/* ---- start and stop ------------------------------------------------------------------- */

static int start(Workbench *wb, const WorkbenchOptions *o, char *msg, size_t cap) {
    memset(wb, 0, sizeof *wb);
    wb->opt = *o;
    snprintf(wb->datasets_dir, sizeof wb->datasets_dir, "%s", o->datasets_dir);
    TLog_init(&wb->log);
    SkError err;
    fprintf(stderr, "sktune: opening %s ...\n", o->model_dir);
    if (Session_open(&wb->session, o->model_dir, o->datasets_dir, o->task, o->data, o->eval_data, &err) != 0) {
        snprintf(msg, cap, "%s", err.msg);
        TLog_free(&wb->log);
        return -1;
    }
    Runs_init(&wb->runs, &wb->session, &wb->log, o->parallel);
    if (Scorer_start(&wb->scorer, &wb->session, o->sample) != 0) {
        snprintf(msg, cap, "cannot start the scoring thread");
        Runs_free(&wb->runs);
        Session_close(&wb->session);
        TLog_free(&wb->log);
        return -1;
    }
    wb->runs.examples = &wb->scorer.examples;
    Editor_set_text(&wb->prompt, o->prompt ? o->prompt : wb->session.task.prompt);
    Editor_set_text(&wb->templ, o->templ ? o->templ : wb->session.task.template_text);
    wb->chat = o->chat;
    Session_history_load(&wb->session, &wb->history, &wb->n_history);
    wb->hist_pos = wb->n_history;
    wb->prev_score = wb->shown_score = NAN;
    wb->focus = FOCUS_PROMPT;
    PanelPrompt_edited(wb);
    wb->edited_at = 0; /* score the opening prompt at once */
    TLog_add(&wb->log, "opened %s (%s) on task %s: %d train, %d validation examples", wb->session.model_dir,
             sk_tokenizer_kind(wb->session.tok), wb->session.task_name, wb->session.task.train.n,
             wb->session.task.validation.n);
    return 0;
}

static void stop(Workbench *wb) {
    Script_free(&wb->script);
    Runs_free(&wb->runs);
    Scorer_stop(&wb->scorer);
    if (wb->loader.state != 0) {
        pthread_join(wb->loader.thread, NULL);
        if (wb->loader.rc == 0) Session_close(&wb->loader.result);
    }
    Session_close(&wb->session);
    DialogForm_free(wb->form);
    for (int i = 0; i < wb->n_history; i++) free(wb->history[i]);
    free(wb->history);
    for (int i = 0; i < wb->n_tasks; i++) free(wb->tasks[i]);
    free(wb->tasks);
    TLog_free(&wb->log);
}

int Workbench_main(const WorkbenchOptions *o) {
    static Workbench wb; /* large (editors, paths): not on the stack */
    char msg[1024];
    if (start(&wb, o, msg, sizeof msg) != 0) {
        fprintf(stderr, "sktune: %s\n", msg);
        return 1;
    }
    SkError err;
    sk_mkdir_p("runs", &err);
    if (Crt_init("runs/workbench.log", msg, sizeof msg) != 0) {
        stop(&wb);
        fprintf(stderr, "sktune: %s\n", msg);
        return 1;
    }
    timeout(50);
    pid_t ui_tid = (pid_t)syscall(SYS_gettid);
    /* SKTUNE_KEY_LOG=FILE: one line per key, the milliseconds from reading it to the
     * redrawn screen being handed to the terminal (what the latency benchmark reads) */
    const char *key_log_path = getenv("SKTUNE_KEY_LOG");
    FILE *key_log = key_log_path && key_log_path[0] ? fopen(key_log_path, "a") : NULL;
    double key_at = -1;
    double last_draw = 0, last_nice = 0;
    unsigned last_runs = ~0u, last_log = ~0u;
    bool dirty = true;
    while (!wb.quit) {
        if (crt_terminated) break;
        if (crt_interrupted) { /* Ctrl-C: like q; a second Ctrl-C while asked quits */
            crt_interrupted = 0;
            if (wb.dialog == DLG_CONFIRM_QUIT) wb.quit = true;
            else Wb_request_quit(&wb);
            dirty = true;
            continue;
        }
        Runs_poll(&wb.runs);
        Script_poll(&wb.script);
        DialogOpen_poll(&wb);
        double now = sk_now_seconds();
        if (now - last_nice > 1.0) lower_workers(ui_tid), last_nice = now;
        if (wb.score_due && now - wb.edited_at >= WB_DEBOUNCE) {
            wb.score_due = false;
            PromptLayout layout = Wb_layout(&wb);
            Scorer_request(&wb.scorer, &layout);
        }
        if (wb.runs.version != last_runs || wb.log.version != last_log || now - last_draw > 0.2) dirty = true;
        if (dirty) {
            last_runs = wb.runs.version, last_log = wb.log.version;
            wb.spin++;
            draw(&wb);
            last_draw = now;
            dirty = false;
            if (key_log && key_at >= 0) fprintf(key_log, "%.3f\n", 1000 * (sk_now_seconds() - key_at)), fflush(key_log);
            key_at = -1;
        }
        wint_t ch;
        int r = get_wch(&ch);
        if (r == ERR) continue;
        if (r != KEY_CODE_YES && ch == 27) { /* Esc, or Alt+key as Esc then the key */
            timeout(0);
            wint_t next;
            int r2 = get_wch(&next);
            timeout(50);
            if (r2 != ERR && r2 != KEY_CODE_YES && wb.dialog == DLG_NONE && wb.focus == FOCUS_PROMPT &&
                (next == 'b' || next == 'f')) {
                Editor_word(Wb_editor(&wb), next == 'b' ? -1 : 1);
                dirty = true;
                continue;
            }
            if (r2 == KEY_CODE_YES) ungetch((int)next); /* a function key typed right after Esc */
            else if (r2 != ERR) unget_wch(next);
        }
        if (r != KEY_CODE_YES && ch == 3) crt_interrupted++; /* Ctrl-C without a signal (raw input) */
        key_at = sk_now_seconds();
        handle_key(&wb, r == KEY_CODE_YES, ch);
        dirty = true;
    }
    if (key_log) fclose(key_log);
    if (Runs_active(&wb.runs) > 0 || wb.script.running) {
        erase();
        Crt_put(LINES / 2, 2, COLS - 4, "stopping the runs (each finishes its current step) ...", A_BOLD);
        refresh();
    }
    stop(&wb);
    Crt_done();
    return 0;
}
