/* panel_runs.c - the runs table: one row per run in its chart colour, live step,
 * loss, validation accuracy, speed and time left; the keys that act on a run. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "workbench.h"

static void fmt_eta(char *buf, size_t cap, double s) {
    if (!isfinite(s) || s < 0) snprintf(buf, cap, "-");
    else if (s < 60) snprintf(buf, cap, "%.0fs", s);
    else if (s < 3600) snprintf(buf, cap, "%dm%02d", (int)(s / 60), (int)s % 60);
    else snprintf(buf, cap, "%dh%02d", (int)(s / 3600), ((int)s % 3600) / 60);
}

void PanelRuns_draw(Workbench *wb, Rect r, const RunView *v, int n) {
    bool focus = wb->focus == FOCUS_RUNS && wb->dialog == DLG_NONE;
    char title[64];
    snprintf(title, sizeof title, "Runs (%d at once)", wb->runs.max_parallel);
    Crt_box(r.y, r.x, r.h, r.w, title, focus);
    int x = r.x + 1, w = r.w - 2;
    char line[256];
    snprintf(line, sizeof line, " %-3s%-13s %6s %6s %6s %5s %5s %5s", "#", "method", "params", "step", "loss", "acc",
             "s/s", "ETA");
    Crt_put(r.y + 1, x, w, line, Crt_attr(CRT_HEADER));
    int rows = r.h - 4; /* header, hint line, message line */
    int first = wb->sel >= rows ? wb->sel - rows + 1 : 0;
    for (int i = first; i < n && i - first < rows; i++) {
        const RunView *run = &v[i];
        int y = r.y + 2 + i - first;
        char params[16], step[16], loss[16], acc[16], rate[16], eta[16];
        Crt_count(params, sizeof params, (double)run->params);
        if (!run->params) snprintf(params, sizeof params, "-");
        snprintf(step, sizeof step, "%d", run->step);
        snprintf(loss, sizeof loss, isfinite(run->loss) ? "%.3f" : "-", run->loss);
        snprintf(acc, sizeof acc, isfinite(run->score) ? "%.1f" : "-", 100 * run->score);
        double sps = run->seconds > 0 && run->step > 0 ? run->step / run->seconds : NAN;
        snprintf(rate, sizeof rate, isfinite(sps) ? "%.1f" : "-", sps);
        switch (run->state) {
        case RUN_QUEUED: snprintf(eta, sizeof eta, "queue"); break;
        case RUN_PAUSED: snprintf(eta, sizeof eta, "pause"); break;
        case RUN_DONE: snprintf(eta, sizeof eta, "done"); break;
        case RUN_STOPPED: snprintf(eta, sizeof eta, "stop"); break;
        case RUN_FAILED: snprintf(eta, sizeof eta, "FAIL"); break;
        case RUN_RUNNING:
            if (run->step == 0) snprintf(eta, sizeof eta, "prep"); /* tokenizing, first evaluation */
            else fmt_eta(eta, sizeof eta, (run->steps - run->step) / sps);
            break;
        }
        bool sel = i == wb->sel;
        int a = sel && focus ? Crt_attr(CRT_SELECTED) : 0;
        Crt_fill(y, x, 1, w, a);
        Crt_put(y, x, 1, sel ? crt_glyphs->cursor_run : " ", a);
        char id[8];
        snprintf(id, sizeof id, "%-3d", run->id);
        Crt_put(y, x + 1, 3, id, a | Crt_series_attr(run->series) | A_BOLD);
        snprintf(line, sizeof line, "%-13.13s %6s %6s %6s %5s %5s %5s", run->label, params, step, loss, acc, rate, eta);
        Crt_put(y, x + 4, w - 4, line, a | (run->state == RUN_FAILED ? Crt_attr(CRT_BAD) : 0));
    }
    if (n == 0) Crt_put(r.y + 3, x + 2, w - 2, "no runs yet: press n (or F5) to train one", Crt_attr(CRT_DIM));
    if (n > 0 && wb->sel < n) { /* what happened to the selected run */
        const RunView *run = &v[wb->sel];
        char msg[2400];
        if (run->state == RUN_FAILED || run->state == RUN_DONE || run->state == RUN_STOPPED)
            snprintf(msg, sizeof msg, "%d: %s%s%s", run->id, run->message, run->out_dir[0] ? " -> " : "", run->out_dir);
        else if (run->state == RUN_RUNNING || run->state == RUN_PAUSED)
            snprintf(msg, sizeof msg, "%d: step %d of %d, best %.1f%% at step %d", run->id, run->step, run->steps,
                     isfinite(run->best_score) ? 100 * run->best_score : 0.0, run->best_step);
        else snprintf(msg, sizeof msg, "%d: waiting for a free slot", run->id);
        Crt_put(r.y + r.h - 3, x + 1, w - 1, msg, Crt_attr(run->state == RUN_FAILED ? CRT_BAD : CRT_DIM));
    }
    Crt_put(r.y + r.h - 2, x + 1, w - 1, "n new spc pause x stop d del s save o open c cmp",
            Crt_attr(CRT_DIM));
}

bool PanelRuns_key(Workbench *wb, int is_key, wint_t ch, const RunView *v, int n) {
    const RunView *sel = n > 0 && wb->sel < n ? &v[wb->sel] : NULL;
    if (is_key) {
        switch ((int)ch) {
        case KEY_UP: if (wb->sel > 0) wb->sel--; return true;
        case KEY_DOWN: if (wb->sel < n - 1) wb->sel++; return true;
        case KEY_DC: break;
        default: return false;
        }
    }
    if (wb->focus != FOCUS_RUNS && !(ch == ' ' || ch == 'x' || ch == 'd' || ch == 's' || ch == 'o' || (is_key && ch == KEY_DC)))
        return false;
    if (!is_key && ch == 'k') { if (wb->sel > 0) wb->sel--; return true; }
    if (!is_key && ch == 'j') { if (wb->sel < n - 1) wb->sel++; return true; }
    if (!is_key && ch == 'o') {
        DialogInput_show(wb, INPUT_LOAD_ADAPTER, "Open an adapter file (evaluated on validation)", "runs/");
        return true;
    }
    if (!sel) return !is_key && (ch == ' ' || ch == 'x' || ch == 'd' || ch == 's');
    if (!is_key && ch == ' ') {
        Runs_toggle_pause(&wb->runs, sel->id);
        return true;
    }
    if (!is_key && ch == 'x') {
        Runs_stop(&wb->runs, sel->id);
        Wb_status(wb, false, "run %d: stopping (its adapter and logs are kept)", sel->id);
        return true;
    }
    if ((!is_key && ch == 'd') || (is_key && ch == KEY_DC)) {
        if (Runs_remove(&wb->runs, sel->id) != 0) Wb_status(wb, true, "run %d is still active: stop it first (x)", sel->id);
        else Wb_status(wb, false, "run %d removed from the table (its folder stays on disk)", sel->id);
        return true;
    }
    if (!is_key && ch == 's') {
        if (!sel->has_method) {
            Wb_status(wb, true, "run %d has no finished adapter to save", sel->id);
            return true;
        }
        char path[256];
        snprintf(path, sizeof path, "adapters/%s-run%d.safetensors", sel->label, sel->id);
        for (char *p = path; *p; p++)
            if (*p == ':') *p = '-';
        wb->input_run = sel->id;
        DialogInput_show(wb, INPUT_SAVE_ADAPTER, "Save the run's adapter as", path);
        return true;
    }
    return false;
}
