/* tlog.c - the log pane's lines: a bounded ring that worker threads append to. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

void TLog_init(TLog *l) {
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
}

void TLog_free(TLog *l) {
    for (int i = 0; i < l->count; i++) free(l->lines[(l->start + i) % TLOG_MAX]);
    pthread_mutex_destroy(&l->mu);
}

static void push_line(TLog *l, const char *s, size_t n) {
    char *copy = malloc(n + 1);
    if (!copy) return;
    memcpy(copy, s, n);
    copy[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (copy[i] == '\t') copy[i] = ' ';
    if (l->count == TLOG_MAX) {
        free(l->lines[l->start]);
        l->lines[l->start] = copy;
        l->start = (l->start + 1) % TLOG_MAX;
    } else {
        l->lines[(l->start + l->count++) % TLOG_MAX] = copy;
    }
}

void TLog_add(TLog *l, const char *fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&l->mu);
    const char *p = buf;
    for (;;) { /* one entry per line of text */
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n && p[n - 1] == '\r') n--;
        if (nl || n) push_line(l, p, n);
        if (!nl) break;
        p = nl + 1;
    }
    l->version++;
    pthread_mutex_unlock(&l->mu);
}

int TLog_tail(TLog *l, int back, int n, char **out) {
    pthread_mutex_lock(&l->mu);
    int end = l->count - back;
    if (end < 0) end = 0;
    int first = end - n < 0 ? 0 : end - n;
    int k = 0;
    for (int i = first; i < end; i++) out[k++] = strdup(l->lines[(l->start + i) % TLOG_MAX]);
    pthread_mutex_unlock(&l->mu);
    return k;
}
