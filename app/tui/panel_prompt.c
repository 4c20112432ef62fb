/* panel_prompt.c - the semantic prompt: the editor, its token pieces as the model's
 * tokenizer splits them, the template that follows each input (and whether both sit in
 * the model's chat template), and the zero-shot score of that layout (refreshed in the
 * background after a pause in typing, with a running estimate while it is computed, next
 * to the previous prompt's score). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workbench.h"

PromptLayout Wb_layout(const Workbench *wb) {
    PromptLayout l = {.chat = wb->chat};
    Editor_text(&wb->prompt, l.prompt, sizeof l.prompt);
    Editor_text(&wb->templ, l.templ, sizeof l.templ); /* the head's limit */
    return l;
}

Editor *Wb_editor(Workbench *wb) { return wb->on_template ? &wb->templ : &wb->prompt; }

void PanelPrompt_edited(Workbench *wb) {
    wb->score_due = true;
    wb->edited_at = sk_now_seconds();
}

/* A token's text made visible: newlines and tabs as symbols, bytes that are not whole
 * UTF-8 characters as <XX>. */
static void visible_piece(const char *raw, int n, char *out, size_t cap) {
    size_t o = 0;
    for (int i = 0; i < n && o + 8 < cap;) {
        unsigned char c = (unsigned char)raw[i];
        int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool whole = len > 0 && i + len <= n;
        for (int k = 1; whole && k < len; k++) whole = ((unsigned char)raw[i + k] & 0xC0) == 0x80;
        if (!whole) {
            o += (size_t)snprintf(out + o, cap - o, "<%02X>", c);
            i++;
        } else if (c == '\n') {
            o += (size_t)snprintf(out + o, cap - o, "%s", crt_utf8 ? "↵" : "\\n");
            i++;
        } else if (c == '\t' || c < 32) {
            o += (size_t)snprintf(out + o, cap - o, "%s", crt_utf8 ? "·" : ".");
            i++;
        } else {
            memcpy(out + o, raw + i, (size_t)len);
            o += (size_t)len;
            i += len;
        }
    }
    out[o] = 0;
}

static void draw_tokens(Workbench *wb, int y, int x, int w) {
    Session *s = &wb->session;
    SkIds ids = {0};
    SkError err;
    PromptLayout now = Wb_layout(wb);
    if (sk_tokenizer_encode(s->tok, now.prompt, strlen(now.prompt), true, &ids, &err) != 0) {
        Crt_put(y, x, w, err.msg, Crt_attr(CRT_BAD));
        return;
    }
    const SkModelConfig *c = sk_model_config(s->model);
    int budget = c->max_seq - 32; /* leave at least 32 positions for the input */
    char count[96];
    if (ids.n > budget) snprintf(count, sizeof count, " %d tokens: too long (max %d)", ids.n, budget);
    else snprintf(count, sizeof count, " %d token%s", ids.n, ids.n == 1 ? "" : "s");
    int cw = Crt_width(count);
    Crt_put(y, x + w - cw, cw, count, Crt_attr(ids.n > budget ? CRT_BAD : CRT_DIM));
    int room = w - cw - 1, used = 0;
    for (int i = 0; i < ids.n && used < room; i++) {
        char raw[256], vis[512];
        bool special = sk_tokenizer_is_special(s->tok, ids.ids[i]);
        int n = sk_tokenizer_token_bytes(s->tok, ids.ids[i], raw, sizeof raw);
        if (special || n < 0) snprintf(vis, sizeof vis, "%s", sk_tokenizer_piece(s->tok, ids.ids[i]));
        else visible_piece(raw, n, vis, sizeof vis);
        if (i > 0) used += Crt_put(y, x + used, room - used, crt_glyphs->sep, Crt_attr(CRT_DIM));
        int a = special ? Crt_attr(CRT_DIM) : (i >= budget ? Crt_attr(CRT_BAD) : 0);
        if (Crt_width(vis) > room - used) {
            Crt_put(y, x + used, room - used, "...", Crt_attr(CRT_DIM));
            break;
        }
        used += Crt_put(y, x + used, room - used, vis, a);
    }
    if (ids.n == 0) Crt_put(y, x, room, "(empty prompt: the zero-shot score reads the input alone)", Crt_attr(CRT_DIM));
    sk_ids_free(&ids);
}

bool Wb_score(Workbench *wb, ScorerResult *res) {
    bool busy;
    unsigned want;
    Scorer_snapshot(&wb->scorer, res, &busy, &want);
    PromptLayout now = Wb_layout(wb);
    return !wb->score_due && !busy && res->gen == want && !res->partial && PromptLayout_equal(&res->layout, &now);
}

/* A running estimate for the layout on screen (true while the full sample is still being scored). */
static bool running_estimate(Workbench *wb, ScorerResult *res) {
    bool busy;
    unsigned want;
    Scorer_snapshot(&wb->scorer, res, &busy, &want);
    PromptLayout now = Wb_layout(wb);
    return !wb->score_due && res->gen == want && res->partial && res->n > 0 && PromptLayout_equal(&res->layout, &now);
}

static void draw_score(Workbench *wb, int y, int x, int w) {
    ScorerResult res;
    bool current = Wb_score(wb, &res);
    if (res.gen != 0 && res.ok && !res.partial && res.gen != wb->shown_gen) { /* a new result */
        wb->shown_gen = res.gen;
        if (wb->shown.prompt[0] || isfinite(wb->shown_score)) wb->prev_score = wb->shown_score;
        wb->shown_score = res.accuracy;
        wb->shown = res.layout;
    }
    char head[96];
    snprintf(head, sizeof head, "zero-shot (verbalizer, %d val): ", wb->scorer.sample_set.n);
    int used = Crt_put(y, x, w, head, Crt_attr(CRT_DIM));
    if (!current) { /* the running estimate and how much it covers, or only that it is scoring */
        ScorerResult run;
        char sp[96];
        if (running_estimate(wb, &run))
            snprintf(sp, sizeof sp, "%s %5.1f%%  (%d of %d scored)", crt_glyphs->spinner[wb->spin % 4],
                     100 * run.accuracy, run.n, run.total);
        else snprintf(sp, sizeof sp, "%s scoring...", crt_glyphs->spinner[wb->spin % 4]);
        used += Crt_put(y, x + used, w - used, sp, Crt_attr(CRT_WARN));
        if (isfinite(wb->shown_score)) {
            char last[64];
            snprintf(last, sizeof last, "   (last: %.1f%%)", 100 * wb->shown_score);
            Crt_put(y, x + used, w - used, last, Crt_attr(CRT_DIM));
        }
        return;
    }
    if (!res.ok) {
        Crt_put(y, x + used, w - used, res.error, Crt_attr(CRT_BAD));
        return;
    }
    char pct[32];
    snprintf(pct, sizeof pct, "%5.1f%%  ", 100 * res.accuracy);
    used += Crt_put(y, x + used, w - used, pct, A_BOLD);
    int bar_w = 20;
    double cells = res.accuracy * bar_w;
    int full = (int)cells, part = (int)((cells - full) * 8);
    for (int i = 0; i < bar_w; i++) {
        const char *g = i < full ? crt_glyphs->bar_full : i == full ? crt_glyphs->bar_part[part] : " ";
        Crt_put(y, x + used + i, 1, g, Crt_attr(CRT_GOOD));
    }
    used += bar_w + 2;
    if (isfinite(wb->prev_score)) {
        double d = 100 * (res.accuracy - wb->prev_score);
        char delta[96];
        snprintf(delta, sizeof delta, "%s %+.1f vs previous prompt", d >= 0 ? crt_glyphs->arrow_up : crt_glyphs->arrow_down, d);
        Crt_put(y, x + used, w - used, delta, Crt_attr(d > 0 ? CRT_GOOD : d < 0 ? CRT_BAD : CRT_DIM));
    } else {
        char t[64];
        snprintf(t, sizeof t, "(%d/%d correct, %.2f s)", res.correct, res.n, res.seconds);
        Crt_put(y, x + used, w - used, t, Crt_attr(CRT_DIM));
    }
}

/* The template line: what follows each input, and the chat switch. */
static void draw_template(Workbench *wb, int y, int x, int w, bool focus) {
    const char *label = "after input: ";
    int lw = Crt_width(label);
    Crt_put(y, x, lw, label, Crt_attr(CRT_DIM));
    char chat[48];
    snprintf(chat, sizeof chat, "  chat %s (^O)  ^T edit", wb->chat ? "on" : "off");
    int cw = Crt_width(chat);
    Crt_put(y, x + w - cw, cw, chat, Crt_attr(wb->chat ? CRT_GOOD : CRT_DIM));
    if (!wb->templ.len && !(focus && wb->on_template))
        Crt_put(y, x + lw, w - lw - cw, "(nothing: the label word follows the input)", Crt_attr(CRT_DIM));
    else Editor_draw(&wb->templ, y, x + lw, w - lw - cw - 1, focus && wb->on_template, 0);
}

void PanelPrompt_draw(Workbench *wb, Rect r) {
    bool focus = wb->focus == FOCUS_PROMPT && wb->dialog == DLG_NONE;
    Crt_box(r.y, r.x, r.h, r.w, "Semantic prompt", focus);
    Crt_put(r.y + 1, r.x + 2, 2, ">", Crt_attr(focus && !wb->on_template ? CRT_BORDER_FOCUS : CRT_DIM));
    Editor_draw(&wb->prompt, r.y + 1, r.x + 4, r.w - 6, focus && !wb->on_template, 0);
    draw_tokens(wb, r.y + 2, r.x + 4, r.w - 6);
    Crt_put(r.y + 3, r.x + 2, 2, ">", Crt_attr(focus && wb->on_template ? CRT_BORDER_FOCUS : CRT_DIM));
    draw_template(wb, r.y + 3, r.x + 4, r.w - 6, focus);
    draw_score(wb, r.y + 4, r.x + 4, r.w - 6);
    if (wb->hist_pos < wb->n_history) {
        char h[48];
        snprintf(h, sizeof h, " history %d/%d ", wb->hist_pos + 1, wb->n_history);
        Crt_put(r.y + r.h - 1, r.x + r.w - 2 - Crt_width(h), Crt_width(h), h, Crt_attr(CRT_DIM));
    }
}

static void history_add(Workbench *wb) {
    const char *p = wb->prompt.buf;
    if (!p[0]) return;
    PromptLayout now = Wb_layout(wb); /* the score belongs to the prompt only with this template and chat setting */
    double score = PromptLayout_equal(&wb->shown, &now) && isfinite(wb->shown_score) ? wb->shown_score : -1;
    Session_history_add(&wb->session, p, score);
    for (int i = 0; i < wb->n_history; i++)
        if (!strcmp(wb->history[i], p)) {
            free(wb->history[i]);
            memmove(wb->history + i, wb->history + i + 1, (size_t)(wb->n_history - i - 1) * sizeof *wb->history);
            wb->n_history--;
            break;
        }
    char **grown = realloc(wb->history, (size_t)(wb->n_history + 1) * sizeof *grown);
    if (!grown) return;
    wb->history = grown;
    wb->history[wb->n_history++] = strdup(p);
    wb->hist_pos = wb->n_history;
}

bool PanelPrompt_key(Workbench *wb, int is_key, wint_t ch) {
    if (!is_key && ch == 20) { /* Ctrl-T: edit the template line (or back to the prompt) */
        wb->on_template = !wb->on_template;
        return true;
    }
    if (!is_key && ch == 15) { /* Ctrl-O: prompt and template inside the model's chat template */
        wb->chat = !wb->chat;
        PanelPrompt_edited(wb);
        return true;
    }
    if (is_key && (ch == KEY_UP || ch == KEY_DOWN) && !wb->on_template) {
        int to = wb->hist_pos + (ch == KEY_UP ? -1 : 1);
        if (to < 0 || to > wb->n_history) return true;
        if (wb->hist_pos == wb->n_history) snprintf(wb->hist_draft, sizeof wb->hist_draft, "%s", wb->prompt.buf);
        wb->hist_pos = to;
        Editor_set(&wb->prompt, to == wb->n_history ? wb->hist_draft : wb->history[to]);
        PanelPrompt_edited(wb);
        return true;
    }
    if ((is_key && ch == KEY_ENTER) || (!is_key && (ch == '\r' || ch == '\n' || ch == 19 /* Ctrl-S */))) {
        history_add(wb);
        Wb_status(wb, false, "prompt kept in the history (runs/prompts.tsv); Up/Down browse it");
        return true;
    }
    if (!is_key && ch == 18) { /* Ctrl-R: the task's suggested prompt and template */
        Editor_set_text(&wb->prompt, wb->session.task.prompt);
        Editor_set_text(&wb->templ, wb->session.task.template_text);
        PanelPrompt_edited(wb);
        return true;
    }
    if (!is_key && ch == 27) {
        wb->focus = FOCUS_RUNS;
        return true;
    }
    bool used;
    if (Editor_key(Wb_editor(wb), is_key, ch, &used)) {
        if (!wb->on_template) wb->hist_pos = wb->n_history;
        PanelPrompt_edited(wb);
    }
    return used;
}
