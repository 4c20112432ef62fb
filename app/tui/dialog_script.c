/* dialog_script.c - run a Lua script: its path and arguments. The script runs in a
 * worker thread; print() goes to the log pane, its sk.train runs to the table. */
#include <stdio.h>
#include <string.h>

#include "workbench.h"

void DialogScript_show(Workbench *wb) {
    if (wb->script.running) {
        wb->show_log = true;
        Wb_status(wb, true, "a script is running (K in the log stops it)");
        return;
    }
    if (!wb->script_path.len) {
        Editor_set(&wb->script_path, sk_file_exists("scripts/compare.lua") ? "scripts/compare.lua"
                                                                           : SKTUNE_SOURCE_ROOT "/scripts/compare.lua");
        char args[2400];
        snprintf(args, sizeof args, "--model %s --task %s --methods sk_prefix,prefix_tuning --steps 60 --seeds 1",
                 wb->session.model_dir, wb->session.task_name);
        Editor_set(&wb->script_args, args);
    }
    wb->script_field = 0;
    wb->dialog = DLG_SCRIPT;
}

void DialogScript_draw(Workbench *wb) {
    Rect r = Dialog_frame(8, 76, "Run a Lua script (Enter: run, Esc: cancel)");
    int x = r.x + 2, w = r.w - 4;
    Crt_put(r.y + 1, x, 10, "script", wb->script_field == 0 ? Crt_attr(CRT_BORDER_FOCUS) : 0);
    Editor_draw(&wb->script_path, r.y + 1, x + 11, w - 11, wb->script_field == 0, Crt_attr(CRT_FIELD));
    Crt_put(r.y + 3, x, 10, "arguments", wb->script_field == 1 ? Crt_attr(CRT_BORDER_FOCUS) : 0);
    Editor_draw(&wb->script_args, r.y + 3, x + 11, w - 11, wb->script_field == 1, Crt_attr(CRT_FIELD));
    Crt_put(r.y + 5, x, w, "Tab: next field. Output goes to the log (F8); sk.train runs appear in the table.",
            Crt_attr(CRT_DIM));
}

void DialogScript_key(Workbench *wb, int is_key, wint_t ch) {
    if (!is_key && ch == 27) {
        wb->dialog = DLG_NONE;
        return;
    }
    if ((!is_key && ch == '\t') || (is_key && (ch == KEY_BTAB || ch == KEY_UP || ch == KEY_DOWN))) {
        wb->script_field ^= 1;
        return;
    }
    if ((is_key && ch == KEY_ENTER) || (!is_key && (ch == '\r' || ch == '\n'))) {
        if (!sk_file_exists(wb->script_path.buf)) {
            Wb_status(wb, true, "%s: no such file", wb->script_path.buf);
            return;
        }
        if (Script_start(&wb->script, wb->script_path.buf, wb->script_args.buf, &wb->log, &wb->runs) != 0) {
            Wb_status(wb, true, "cannot start the script");
            return;
        }
        wb->dialog = DLG_NONE;
        wb->show_log = true;
        Wb_status(wb, false, "running %s (output in the log; K stops it)", wb->script_path.buf);
        return;
    }
    bool used;
    Editor_key(wb->script_field == 0 ? &wb->script_path : &wb->script_args, is_key, ch, &used);
}
