/* dialog_input.c - the small dialogs: one text field (a path to save or open an adapter)
 * and the quit confirmation. */
#include <stdio.h>
#include <string.h>

#include "workbench.h"

void DialogInput_show(Workbench *wb, InputAction action, const char *title, const char *initial) {
    wb->input_action = action;
    snprintf(wb->input_title, sizeof wb->input_title, "%s", title);
    Editor_set(&wb->input, initial);
    wb->dialog = DLG_INPUT;
}

void DialogInput_draw(Workbench *wb) {
    Rect r = Dialog_frame(5, 76, wb->input_title);
    Editor_draw(&wb->input, r.y + 1, r.x + 2, r.w - 4, true, Crt_attr(CRT_FIELD));
    Crt_put(r.y + 3, r.x + 2, r.w - 4, "Enter: ok  Esc: cancel", Crt_attr(CRT_DIM));
}

static void parent_dirs(const char *path) {
    char dir[2048];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return;
    *slash = 0;
    SkError err;
    sk_mkdir_p(dir, &err);
}

void DialogInput_key(Workbench *wb, int is_key, wint_t ch) {
    if (!is_key && ch == 27) {
        wb->dialog = DLG_NONE;
        return;
    }
    if ((is_key && ch == KEY_ENTER) || (!is_key && (ch == '\r' || ch == '\n'))) {
        const char *path = wb->input.buf;
        wb->dialog = DLG_NONE;
        if (wb->input_action == INPUT_SAVE_ADAPTER) {
            SkError err;
            parent_dirs(path);
            if (Runs_save_adapter(&wb->runs, wb->input_run, path, &err) != 0) Wb_status(wb, true, "save: %s", err.msg);
            else Wb_status(wb, false, "run %d's adapter saved to %s", wb->input_run, path);
        } else {
            if (!sk_file_exists(path)) {
                Wb_status(wb, true, "%s: no such file", path);
                return;
            }
            int id = Runs_add_adapter(&wb->runs, path);
            Wb_status(wb, false, "run %d: evaluating %s on validation", id, path);
        }
        return;
    }
    bool used;
    Editor_key(&wb->input, is_key, ch, &used);
}

void DialogConfirm_draw(Workbench *wb) {
    int active = Runs_active(&wb->runs);
    Rect r = Dialog_frame(6, 70, "Quit?");
    char line[256];
    snprintf(line, sizeof line, "%d run%s still training or queued%s.", active, active == 1 ? " is" : "s are",
             wb->script.running ? ", and a script is running" : "");
    Crt_put(r.y + 1, r.x + 2, r.w - 4, line, A_BOLD);
    Crt_put(r.y + 2, r.x + 2, r.w - 4, "Quitting stops them: the steps so far stay logged in runs/,", 0);
    Crt_put(r.y + 3, r.x + 2, r.w - 4, "queued runs never start.   y: quit   n / Esc: stay", 0);
}

void DialogConfirm_key(Workbench *wb, int is_key, wint_t ch) {
    if (!is_key && (ch == 'y' || ch == 'Y')) wb->quit = true;
    else wb->dialog = DLG_NONE;
}
