/* crt.c - the terminal: curses set-up and a restore that always runs (normal exit,
 * error, Ctrl-C, crash), one palette (as htop's CRT.c) with a NO_COLOR/monochrome
 * fallback to attributes, glyphs in UTF-8 or plain ASCII, and width-aware text drawing. */
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "tui.h"

bool crt_utf8, crt_color;
volatile int crt_interrupted, crt_terminated;
static bool active;
static int saved_stderr = -1;
static int role_attr[CRT_N_ROLES];
static int series_attr[CRT_N_SERIES];

static const Glyphs GLYPHS_UTF8 = {
    "─", "│", "┌", "┐", "└", "┘", "│",
    "█", {" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"},
    "▲", "▼", "▶", {"⠋", "⠙", "⠸", "⠴"},
    "│", "─", "└", "┤", "┬",
};
static const Glyphs GLYPHS_ASCII = {
    "-", "|", "+", "+", "+", "+", "|",
    "#", {" ", " ", " ", " ", ":", ":", ":", ":"},
    "^", "v", ">", {"|", "/", "-", "\\"},
    "|", "-", "+", "+", "+",
};
const Glyphs *crt_glyphs = &GLYPHS_ASCII;

static void restore(void) {
    if (active) {
        active = false;
        endwin();
    }
    if (saved_stderr >= 0) {
        dup2(saved_stderr, 2);
        close(saved_stderr);
        saved_stderr = -1;
    }
}

void Crt_done(void) { restore(); }

static void on_signal(int sig) {
    if (sig == SIGINT) crt_interrupted++;
    else crt_terminated = 1;
}

static void on_crash(int sig) {
    /* endwin is not async-signal-safe, but a crashed program's terminal left in raw mode
     * is worse; this is what htop does too. */
    if (active) endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

int Crt_init(const char *err_log, char *msg, size_t cap) {
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    crt_utf8 = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
    crt_glyphs = crt_utf8 ? &GLYPHS_UTF8 : &GLYPHS_ASCII;
    if (!isatty(0) || !isatty(1)) {
        snprintf(msg, cap, "the workbench needs a terminal (stdin and stdout)");
        return -1;
    }
    if (err_log) {
        int fd = open(err_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            saved_stderr = dup(2);
            dup2(fd, 2);
            close(fd);
        }
    }
    /* newterm, not initscr: initscr exits the program itself when TERM is unknown */
    const char *term = getenv("TERM");
    if (!term || !term[0] || !newterm(NULL, stdout, stdin)) {
        restore();
        snprintf(msg, cap, "cannot start the screen: terminal type %s%s%s is unknown or unset", term ? "\"" : "",
                 term ? term : "(TERM unset)", term ? "\"" : "");
        return -1;
    }
    active = true;
    atexit(restore);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGABRT, on_crash);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    const char *nc = getenv("NO_COLOR");
    crt_color = has_colors() && !(nc && nc[0]);
    if (crt_color) {
        start_color();
        use_default_colors();
        init_pair(1, COLOR_CYAN, -1);
        init_pair(2, COLOR_BLACK, COLOR_CYAN);
        init_pair(3, COLOR_GREEN, -1);
        init_pair(4, COLOR_RED, -1);
        init_pair(5, COLOR_YELLOW, -1);
        init_pair(6, COLOR_BLACK, COLOR_WHITE);
        static const short series[CRT_N_SERIES] = {COLOR_GREEN, COLOR_MAGENTA, COLOR_CYAN, COLOR_YELLOW,
                                                   COLOR_BLUE, COLOR_RED};
        for (int i = 0; i < CRT_N_SERIES; i++) init_pair((short)(10 + i), series[i], -1);
        role_attr[CRT_NORMAL] = A_NORMAL;
        role_attr[CRT_BORDER] = A_NORMAL;
        role_attr[CRT_BORDER_FOCUS] = COLOR_PAIR(1) | A_BOLD;
        role_attr[CRT_TITLE] = COLOR_PAIR(2);
        role_attr[CRT_HEADER] = A_BOLD;
        role_attr[CRT_DIM] = A_DIM;
        role_attr[CRT_GOOD] = COLOR_PAIR(3) | A_BOLD;
        role_attr[CRT_BAD] = COLOR_PAIR(4) | A_BOLD;
        role_attr[CRT_KEY] = COLOR_PAIR(2);
        role_attr[CRT_SELECTED] = A_REVERSE;
        role_attr[CRT_FIELD] = COLOR_PAIR(6);
        role_attr[CRT_WARN] = COLOR_PAIR(5) | A_BOLD;
        for (int i = 0; i < CRT_N_SERIES; i++) series_attr[i] = COLOR_PAIR(10 + i);
    } else { /* monochrome: emphasis by attributes only */
        role_attr[CRT_NORMAL] = A_NORMAL;
        role_attr[CRT_BORDER] = A_NORMAL;
        role_attr[CRT_BORDER_FOCUS] = A_BOLD;
        role_attr[CRT_TITLE] = A_REVERSE;
        role_attr[CRT_HEADER] = A_BOLD | A_UNDERLINE;
        role_attr[CRT_DIM] = A_DIM;
        role_attr[CRT_GOOD] = A_BOLD;
        role_attr[CRT_BAD] = A_BOLD | A_UNDERLINE;
        role_attr[CRT_KEY] = A_REVERSE;
        role_attr[CRT_SELECTED] = A_REVERSE;
        role_attr[CRT_FIELD] = A_UNDERLINE;
        role_attr[CRT_WARN] = A_BOLD;
        for (int i = 0; i < CRT_N_SERIES; i++) series_attr[i] = i == 0 ? A_BOLD : A_NORMAL;
    }
    return 0;
}

int Crt_attr(int role) { return role_attr[role]; }
int Crt_series_attr(int i) { return series_attr[((i % CRT_N_SERIES) + CRT_N_SERIES) % CRT_N_SERIES]; }

/* Decodes one code point; invalid bytes count as one column each (shown as '?'). */
static size_t next_cp(const char *s, wchar_t *wc) {
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t n = mbrtowc(wc, s, MB_CUR_MAX, &st);
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
        *wc = L'?';
        return 1;
    }
    return n;
}

static int cp_width(wchar_t wc) {
    int w = wcwidth(wc);
    return w < 0 ? 1 : w;
}

int Crt_width(const char *s) {
    int w = 0;
    while (*s) {
        wchar_t wc;
        s += next_cp(s, &wc);
        w += cp_width(wc);
    }
    return w;
}

size_t Crt_fit(const char *s, int w) {
    const char *p = s;
    int used = 0;
    while (*p) {
        wchar_t wc;
        size_t n = next_cp(p, &wc);
        int cw = cp_width(wc);
        if (used + cw > w) break;
        used += cw;
        p += n;
    }
    return (size_t)(p - s);
}

int Crt_put(int y, int x, int w, const char *s, int attr) {
    if (w <= 0 || y < 0 || y >= LINES || x >= COLS) return 0;
    if (x + w > COLS) w = COLS - x;
    attron(attr);
    int used = 0;
    const char *p = s;
    while (*p) {
        wchar_t wc;
        size_t n = next_cp(p, &wc);
        int cw = cp_width(wc);
        if (used + cw > w) break;
        if (wc < 32 || wc == 127) wc = L'?';
        if (!crt_utf8 && wc > 126) wc = L'?';
        wchar_t one[2] = {wc, 0};
        mvaddwstr(y, x + used, one);
        used += cw;
        p += n;
    }
    attroff(attr);
    return used;
}

void Crt_fill(int y, int x, int h, int w, int attr) {
    attron(attr);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) mvaddch(y + r, x + c, ' ');
    attroff(attr);
}

void Crt_box(int y, int x, int h, int w, const char *title, bool focus) {
    if (h < 2 || w < 2) return;
    const Glyphs *g = crt_glyphs;
    int a = Crt_attr(focus ? CRT_BORDER_FOCUS : CRT_BORDER);
    Crt_put(y, x, 1, g->tl, a);
    Crt_put(y, x + w - 1, 1, g->tr, a);
    Crt_put(y + h - 1, x, 1, g->bl, a);
    Crt_put(y + h - 1, x + w - 1, 1, g->br, a);
    for (int c = 1; c < w - 1; c++) {
        Crt_put(y, x + c, 1, g->h, a);
        Crt_put(y + h - 1, x + c, 1, g->h, a);
    }
    for (int r = 1; r < h - 1; r++) {
        Crt_put(y + r, x, 1, g->v, a);
        Crt_put(y + r, x + w - 1, 1, g->v, a);
    }
    if (title && w > 6) {
        char t[256];
        snprintf(t, sizeof t, " %s ", title);
        Crt_put(y, x + 1, w - 3, t, a | (focus ? A_BOLD : 0));
    }
}

void Crt_count(char *buf, size_t cap, double n) {
    if (n >= 1e9) snprintf(buf, cap, "%.1fG", n / 1e9);
    else if (n >= 1e6) snprintf(buf, cap, "%.1fM", n / 1e6);
    else if (n >= 1e4) snprintf(buf, cap, "%.1fk", n / 1e3);
    else snprintf(buf, cap, "%.0f", n);
}
