/* dialog_open.c - open another model directory and/or task (a bundled task or a data
 * file). Loading runs in a thread; the new session replaces the old one only once it
 * has loaded, and only when no run is active (their adapters belong to the old model). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workbench.h"

void DialogOpen_show(Workbench *wb) {
    if (wb->loader.state == 1) {
        Wb_status(wb, true, "still loading the previous choice");
        return;
    }
    for (int i = 0; i < wb->n_tasks; i++) free(wb->tasks[i]);
    free(wb->tasks);
    wb->tasks = NULL, wb->n_tasks = 0;
    SkError err;
    if (sk_data_task_list(wb->datasets_dir, &wb->tasks, &wb->n_tasks, &err) != 0) Wb_status(wb, true, "%s", err.msg);
    wb->open_task = 0;
    for (int i = 0; i < wb->n_tasks; i++)
        if (!strcmp(wb->tasks[i], wb->session.task_name)) wb->open_task = i;
    Editor_set(&wb->open_model, wb->session.model_dir);
    Editor_set(&wb->open_data, wb->session.from_file ? wb->session.task.train.source : "");
    wb->open_field = 0;
    wb->dialog = DLG_OPEN;
}

void DialogOpen_draw(Workbench *wb) {
    int list_h = wb->n_tasks < 8 ? wb->n_tasks : 8;
    Rect r = Dialog_frame(list_h + 10, 76, "Open a model and task (Enter: open, Esc: cancel)");
    int x = r.x + 2, w = r.w - 4, y = r.y + 1;
    Crt_put(y, x, 14, "model", wb->open_field == 0 ? Crt_attr(CRT_BORDER_FOCUS) : 0);
    Editor_draw(&wb->open_model, y++, x + 15, w - 15, wb->open_field == 0, Crt_attr(CRT_FIELD));
    Crt_put(y++, x + 15, w - 15, "a Hugging Face folder, a .gguf file, or a folder holding one", Crt_attr(CRT_DIM));
    Crt_put(y, x, 14, "task", wb->open_field == 1 ? Crt_attr(CRT_BORDER_FOCUS) : 0);
    for (int i = 0; i < wb->n_tasks && i < list_h; i++) {
        int first = wb->open_task >= list_h ? wb->open_task - list_h + 1 : 0;
        int k = first + i;
        if (k >= wb->n_tasks) break;
        int a = k == wb->open_task ? (wb->open_field == 1 ? Crt_attr(CRT_SELECTED) : (int)A_BOLD) : 0;
        Crt_put(y + i, x + 15, w - 15, wb->tasks[k], a);
    }
    y += list_h > 0 ? list_h : 1;
    y++;
    Crt_put(y, x, 14, "or data file", wb->open_field == 2 ? Crt_attr(CRT_BORDER_FOCUS) : 0);
    Editor_draw(&wb->open_data, y++, x + 15, w - 15, wb->open_field == 2, Crt_attr(CRT_FIELD));
    Crt_put(y++, x + 15, w - 15, "CSV/TSV/JSONL with text and label columns (overrides the task)", Crt_attr(CRT_DIM));
    y++;
    Crt_put(y, x, w, "Tab: next field  Up/Down: task", Crt_attr(CRT_DIM));
}

static void *load(void *arg) {
    Workbench *wb = arg;
    Loader *l = &wb->loader;
    l->rc = Session_open(&l->result, l->model, wb->datasets_dir, l->task, l->data[0] ? l->data : NULL, NULL, &l->err);
    l->state = 2;
    return NULL;
}

void DialogOpen_key(Workbench *wb, int is_key, wint_t ch) {
    if (!is_key && ch == 27) {
        wb->dialog = DLG_NONE;
        return;
    }
    if ((!is_key && ch == '\t') || (is_key && ch == KEY_BTAB)) {
        wb->open_field = (wb->open_field + (is_key ? 2 : 1)) % 3;
        return;
    }
    if ((is_key && ch == KEY_ENTER) || (!is_key && (ch == '\r' || ch == '\n'))) {
        if (Runs_active(&wb->runs) > 0 || wb->script.running) {
            Wb_status(wb, true, "stop the active runs and scripts first: their model would go away");
            return;
        }
        Loader *l = &wb->loader;
        snprintf(l->model, sizeof l->model, "%s", wb->open_model.buf);
        snprintf(l->task, sizeof l->task, "%s", wb->n_tasks ? wb->tasks[wb->open_task] : "");
        snprintf(l->data, sizeof l->data, "%s", wb->open_data.buf);
        l->state = 1;
        if (pthread_create(&l->thread, NULL, load, wb) != 0) {
            l->state = 0;
            Wb_status(wb, true, "cannot start a thread");
            return;
        }
        Wb_status(wb, false, "loading %s ...", l->model);
        wb->dialog = DLG_NONE;
        return;
    }
    if (wb->open_field == 1) {
        if (is_key && ch == KEY_UP && wb->open_task > 0) wb->open_task--;
        if (is_key && ch == KEY_DOWN && wb->open_task < wb->n_tasks - 1) wb->open_task++;
        return;
    }
    bool used;
    Editor_key(wb->open_field == 0 ? &wb->open_model : &wb->open_data, is_key, ch, &used);
}

void DialogOpen_poll(Workbench *wb) {
    Loader *l = &wb->loader;
    if (l->state != 2) return;
    pthread_join(l->thread, NULL);
    l->state = 0;
    if (l->rc != 0) {
        Wb_status(wb, true, "open: %s", l->err.msg);
        return;
    }
    if (Runs_active(&wb->runs) > 0 || wb->script.running) { /* started meanwhile: keep the old session */
        Session_close(&l->result);
        Wb_status(wb, true, "open cancelled: runs became active while loading");
        return;
    }
    Scorer_pause(&wb->scorer);
    Runs_forget_model(&wb->runs);
    Session_close(&wb->session);
    wb->session = l->result;
    memset(&l->result, 0, sizeof l->result);
    Scorer_resume(&wb->scorer, &wb->session);
    Editor_set_text(&wb->prompt, wb->session.task.prompt);
    Editor_set_text(&wb->templ, wb->session.task.template_text);
    for (int i = 0; i < wb->n_history; i++) free(wb->history[i]);
    free(wb->history);
    Session_history_load(&wb->session, &wb->history, &wb->n_history);
    wb->hist_pos = wb->n_history;
    memset(&wb->shown, 0, sizeof wb->shown);
    wb->prev_score = wb->shown_score = NAN;
    PanelPrompt_edited(wb);
    Wb_status(wb, false, "opened %s on task %s (%d train, %d validation)", wb->session.model_dir, wb->session.task_name,
              wb->session.task.train.n, wb->session.task.validation.n);
}
