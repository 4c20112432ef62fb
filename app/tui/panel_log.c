/* panel_log.c - what happened: runs starting and ending, errors, a script's output. */
#include <stdlib.h>
#include <string.h>

#include "workbench.h"

void PanelLog_draw(Workbench *wb, Rect r) {
    bool focus = wb->focus == FOCUS_CHART && wb->dialog == DLG_NONE;
    Crt_box(r.y, r.x, r.h, r.w, wb->script.running ? "Log (script running: K stops it)" : "Log (F8: chart)", focus);
    int rows = r.h - 2, w = r.w - 2;
    char *lines[256];
    if (rows > 256) rows = 256;
    int n = TLog_tail(&wb->log, wb->log_back, rows, lines);
    /* long lines wrap; the newest rows are at the bottom */
    int y = r.y + r.h - 2;
    for (int i = n - 1; i >= 0 && y > r.y; i--) {
        const char *starts[64];
        int k = 0;
        for (const char *p = lines[i]; k < 64;) {
            starts[k++] = p;
            size_t fit = Crt_fit(p, w);
            if (!p[fit] || fit == 0) break;
            p += fit;
        }
        for (int j = k - 1; j >= 0 && y > r.y; j--, y--) {
            char part[1024];
            size_t len = j + 1 < k ? (size_t)(starts[j + 1] - starts[j]) : strlen(starts[j]);
            if (len >= sizeof part) len = sizeof part - 1;
            memcpy(part, starts[j], len);
            part[len] = 0;
            Crt_put(y, r.x + 1, w, part, j ? Crt_attr(CRT_DIM) : 0);
        }
    }
    for (int i = 0; i < n; i++) free(lines[i]);
}

bool PanelLog_key(Workbench *wb, int is_key, wint_t ch) {
    int page = wb->lay.chart.h - 3;
    if (is_key && (ch == KEY_PPAGE || ch == KEY_UP)) {
        wb->log_back += ch == KEY_PPAGE ? page : 1;
        if (wb->log_back > wb->log.count - 1) wb->log_back = wb->log.count > 0 ? wb->log.count - 1 : 0;
        return true;
    }
    if (is_key && (ch == KEY_NPAGE || ch == KEY_DOWN)) {
        wb->log_back -= ch == KEY_NPAGE ? page : 1;
        if (wb->log_back < 0) wb->log_back = 0;
        return true;
    }
    if (!is_key && ch == 'K' && wb->script.running) {
        Script_stop(&wb->script);
        Wb_status(wb, false, "stopping the script");
        return true;
    }
    return false;
}
