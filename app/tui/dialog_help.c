/* dialog_help.c - every key, on one screen. */
#include "workbench.h"

static const char *HELP[][2] = {
    {"F1 / ?", "this help (? and letters: outside text fields)"},
    {"F2 F3 Tab S-Tab", "focus prompt / runs (examples: the run's predictions) / next / prev"},
    {"F4", "open another model or task"},
    {"F5 / n", "new run: method, its options, learning rate, steps"},
    {"F6 / c", "compare finished runs, claims, export files"},
    {"F7", "run a Lua script (output: log; its runs: table)"},
    {"F8 / L", "log pane instead of the chart (and back)"},
    {"F10 / q / Ctrl-C", "quit (asks first while runs are active)"},
    {"prompt", ""},
    {"typing", "edit; scored zero-shot after a 0.3 s pause"},
    {"Left Right Home End", "move; Ctrl+arrows, Alt-b / Alt-f: by word"},
    {"Bksp Del ^W ^U ^K", "delete char / word / to start / to end"},
    {"Up / Down", "earlier prompts (history)"},
    {"Enter ^S / ^R / Esc", "keep in history / suggested prompt and template / leave"},
    {"^T / ^O", "edit the template after the input / chat template on-off"},
    {"runs and chart", ""},
    {"Up Down (j k)", "select a run"},
    {"space / x / d", "pause-resume / stop / delete the selected run"},
    {"s / o", "save the run's adapter / open an adapter file"},
    {"a / l / t", "chart accuracy / loss; x axis steps or seconds"},
    {"PgUp PgDn / K", "scroll the log / stop the running script"},
};

void DialogHelp_draw(Workbench *wb) {
    (void)wb;
    int n = (int)(sizeof HELP / sizeof *HELP);
    Rect r = Dialog_frame(n + 2, 78, "Keys (any key closes; every action is also a Lua call)");
    int rows = r.h - 2;
    for (int i = 0; i < n && i < rows; i++) {
        int y = r.y + 1 + i;
        if (!HELP[i][1][0]) {
            Crt_put(y, r.x + 2, r.w - 4, HELP[i][0], Crt_attr(CRT_HEADER));
            continue;
        }
        Crt_put(y, r.x + 3, 22, HELP[i][0], Crt_attr(CRT_BORDER_FOCUS));
        Crt_put(y, r.x + 26, r.w - 28, HELP[i][1], 0);
    }
}
