/* editor.c - one line of UTF-8 text: insert, delete, word jumps, home/end, kill keys.
 * The cursor and the scroll position are byte offsets on code point boundaries. */
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "tui.h"

void Editor_set(Editor *e, const char *s) {
    snprintf(e->buf, sizeof e->buf, "%s", s ? s : "");
    e->len = (int)strlen(e->buf);
    e->cur = e->len;
    e->scroll = 0;
}

void Editor_set_text(Editor *e, const char *text) {
    char buf[sizeof e->buf];
    size_t o = 0;
    for (const char *p = text ? text : ""; *p && o + 3 < sizeof buf; p++) {
        const char *esc = *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : *p == '\\' ? "\\\\" : NULL;
        if (esc) buf[o++] = esc[0], buf[o++] = esc[1];
        else buf[o++] = *p;
    }
    buf[o] = 0;
    Editor_set(e, buf);
}

void Editor_text(const Editor *e, char *out, size_t cap) {
    size_t o = 0;
    for (int i = 0; i < e->len && o + 1 < cap; i++) {
        char c = e->buf[i];
        if (c == '\\' && i + 1 < e->len && strchr("nt\\", e->buf[i + 1])) {
            char n = e->buf[++i];
            c = n == 'n' ? '\n' : n == 't' ? '\t' : '\\';
        }
        out[o++] = c;
    }
    out[o] = 0;
}

static bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

static int prev_cp(const Editor *e, int i) {
    if (i <= 0) return 0;
    i--;
    while (i > 0 && is_cont((unsigned char)e->buf[i])) i--;
    return i;
}

static int next_cp(const Editor *e, int i) {
    if (i >= e->len) return e->len;
    i++;
    while (i < e->len && is_cont((unsigned char)e->buf[i])) i++;
    return i;
}

static bool is_space_at(const Editor *e, int i) { return e->buf[i] == ' '; }

static int word_left(const Editor *e, int i) {
    while (i > 0 && is_space_at(e, prev_cp(e, i))) i = prev_cp(e, i);
    while (i > 0 && !is_space_at(e, prev_cp(e, i))) i = prev_cp(e, i);
    return i;
}

static int word_right(const Editor *e, int i) {
    while (i < e->len && is_space_at(e, i)) i = next_cp(e, i);
    while (i < e->len && !is_space_at(e, i)) i = next_cp(e, i);
    return i;
}

static void erase_range(Editor *e, int from, int to) {
    if (to <= from) return;
    memmove(e->buf + from, e->buf + to, (size_t)(e->len - to + 1));
    e->len -= to - from;
    e->cur = from;
}

static bool insert(Editor *e, wint_t ch) {
    char mb[8];
    mbstate_t st;
    memset(&st, 0, sizeof st);
    if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' '; /* a pasted line break: one line */
    size_t n = wcrtomb(mb, (wchar_t)ch, &st);
    if (n == (size_t)-1) { /* not representable in this locale: write UTF-8 ourselves */
        if (ch < 0x80) mb[0] = (char)ch, n = 1;
        else if (ch < 0x800) mb[0] = (char)(0xC0 | (ch >> 6)), mb[1] = (char)(0x80 | (ch & 0x3F)), n = 2;
        else if (ch < 0x10000)
            mb[0] = (char)(0xE0 | (ch >> 12)), mb[1] = (char)(0x80 | ((ch >> 6) & 0x3F)),
            mb[2] = (char)(0x80 | (ch & 0x3F)), n = 3;
        else
            mb[0] = (char)(0xF0 | (ch >> 18)), mb[1] = (char)(0x80 | ((ch >> 12) & 0x3F)),
            mb[2] = (char)(0x80 | ((ch >> 6) & 0x3F)), mb[3] = (char)(0x80 | (ch & 0x3F)), n = 4;
    }
    if (e->len + (int)n >= (int)sizeof e->buf) return false;
    memmove(e->buf + e->cur + n, e->buf + e->cur, (size_t)(e->len - e->cur + 1));
    memcpy(e->buf + e->cur, mb, n);
    e->len += (int)n;
    e->cur += (int)n;
    return true;
}

/* Terminal-specific names of Ctrl+arrows (xterm, tmux: kLFT5/kRIT5). */
static bool key_named(int key, const char *name) {
    const char *k = keyname(key);
    return k && !strcmp(k, name);
}

bool Editor_key(Editor *e, int is_key, wint_t ch, bool *used) {
    *used = true;
    int old_len = e->len;
    if (is_key) {
        int k = (int)ch;
        if (k == KEY_LEFT) e->cur = prev_cp(e, e->cur);
        else if (k == KEY_RIGHT) e->cur = next_cp(e, e->cur);
        else if (k == KEY_HOME) e->cur = 0;
        else if (k == KEY_END) e->cur = e->len;
        else if (k == KEY_BACKSPACE) erase_range(e, prev_cp(e, e->cur), e->cur);
        else if (k == KEY_DC) erase_range(e, e->cur, next_cp(e, e->cur));
        else if (key_named(k, "kLFT5") || key_named(k, "kLFT3")) e->cur = word_left(e, e->cur);
        else if (key_named(k, "kRIT5") || key_named(k, "kRIT3")) e->cur = word_right(e, e->cur);
        else *used = false;
        return e->len != old_len;
    }
    switch (ch) {
    case 1: e->cur = 0; break;                        /* Ctrl-A */
    case 5: e->cur = e->len; break;                   /* Ctrl-E */
    case 2: e->cur = prev_cp(e, e->cur); break;       /* Ctrl-B */
    case 6: e->cur = next_cp(e, e->cur); break;       /* Ctrl-F */
    case 8: case 127: erase_range(e, prev_cp(e, e->cur), e->cur); break;
    case 4: erase_range(e, e->cur, next_cp(e, e->cur)); break;      /* Ctrl-D */
    case 11: erase_range(e, e->cur, e->len); break;                 /* Ctrl-K */
    case 21: erase_range(e, 0, e->cur); break;                      /* Ctrl-U */
    case 23: erase_range(e, word_left(e, e->cur), e->cur); break;   /* Ctrl-W */
    default:
        if (ch >= 32 && ch != 127) {
            insert(e, ch);
        } else {
            *used = false;
        }
    }
    return e->len != old_len;
}

/* Alt-b / Alt-f arrive as Esc + letter: the caller maps them to these. */
void Editor_word(Editor *e, int dir) { e->cur = dir < 0 ? word_left(e, e->cur) : word_right(e, e->cur); }

void Editor_draw(Editor *e, int y, int x, int w, bool focus, int attr) {
    if (w < 2) return;
    /* keep the cursor visible: scroll so that [scroll, cur] fits in w-1 columns */
    if (e->cur < e->scroll) e->scroll = e->cur;
    for (;;) {
        char tmp[sizeof e->buf];
        int n = e->cur - e->scroll;
        memcpy(tmp, e->buf + e->scroll, (size_t)n);
        tmp[n] = 0;
        if (Crt_width(tmp) <= w - 1) break;
        e->scroll = next_cp(e, e->scroll);
    }
    Crt_fill(y, x, 1, w, attr);
    Crt_put(y, x, w, e->buf + e->scroll, attr);
    if (focus) { /* the cursor as a reversed cell */
        char before[sizeof e->buf];
        int n = e->cur - e->scroll;
        memcpy(before, e->buf + e->scroll, (size_t)n);
        before[n] = 0;
        int cx = x + Crt_width(before);
        char at[8] = " ";
        if (e->cur < e->len) {
            int m = next_cp(e, e->cur) - e->cur;
            memcpy(at, e->buf + e->cur, (size_t)m);
            at[m] = 0;
        }
        Crt_put(y, cx, 2, at, attr | A_REVERSE);
    }
}
