/* session.c - what the workbench is open on: a model, its tokenizer and a task (a
 * bundled one, or the user's data file split into train and validation), plus the
 * prompt history that survives between sessions (runs/prompts.tsv). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui.h"

/* A data file as a task: the whole file trains, unless no evaluation file is given, in
 * which case the last 10% of a seeded shuffle is held out for validation. */
static int open_data(Session *s, const char *data, const char *eval_data, SkError *err) {
    SkDataTask *t = &s->task;
    SkDataset all = {0};
    SkDataOptions o = {.path = data};
    if (sk_data_load(&o, &all, err) != 0) return -1;
    if (all.regression || all.n_labels < 2) {
        sk_data_free(&all);
        return sk_err(err, "%s: the workbench needs a classification data set with at least 2 labels", data);
    }
    const char *const *labels = (const char *const *)all.labels;
    if (sk_data_set_labels(&t->train, labels, all.n_labels) != 0 ||
        sk_data_set_labels(&t->validation, labels, all.n_labels) != 0 ||
        sk_data_set_labels(&t->test, labels, all.n_labels) != 0) {
        sk_data_free(&all);
        return sk_err(err, "out of memory");
    }
    int *order = malloc((size_t)all.n * sizeof *order);
    if (!order) {
        sk_data_free(&all);
        return sk_err(err, "out of memory");
    }
    for (int i = 0; i < all.n; i++) order[i] = i;
    int n_val = 0;
    if (!eval_data) {
        SkRng rng;
        sk_rng_seed(&rng, 1);
        for (int i = all.n - 1; i > 0; i--) {
            int j = (int)sk_rng_below(&rng, (uint64_t)i + 1), tmp = order[i];
            order[i] = order[j], order[j] = tmp;
        }
        n_val = all.n / 10 > 0 ? all.n / 10 : 1;
        if (all.n - n_val < 1) {
            free(order);
            sk_data_free(&all);
            return sk_err(err, "%s: %d example(s) are too few to hold out a validation split", data, all.n);
        }
    }
    int rc = 0;
    for (int i = 0; i < all.n && rc == 0; i++) {
        const SkExample *e = &all.ex[order[i]];
        SkDataset *dst = i >= all.n - n_val ? &t->validation : &t->train;
        rc = sk_data_add(dst, e->text, e->text_pair, e->label, e->target);
    }
    free(order);
    snprintf(t->train.source, sizeof t->train.source, "%s", data);
    if (rc == 0 && eval_data) {
        SkDataOptions oe = {.path = eval_data, .labels = labels, .n_labels = all.n_labels};
        sk_data_free(&t->validation);
        rc = sk_data_load(&oe, &t->validation, err);
    } else if (rc != 0) {
        sk_err(err, "out of memory");
    } else {
        snprintf(t->validation.source, sizeof t->validation.source, "%s (held-out 10%%)", data);
    }
    if (rc == 0) {
        t->words = calloc((size_t)all.n_labels, sizeof(char *));
        if (!t->words) rc = sk_err(err, "out of memory");
        for (int i = 0; rc == 0 && i < all.n_labels; i++)
            if (!(t->words[t->n_words++] = strdup(all.labels[i]))) rc = sk_err(err, "out of memory");
    }
    sk_data_free(&all);
    const char *base = strrchr(data, '/');
    snprintf(t->name, sizeof t->name, "%s", base ? base + 1 : data);
    return rc;
}

int Session_open(Session *s, const char *model_dir, const char *datasets_dir, const char *task,
                 const char *data, const char *eval_data, SkError *err) {
    memset(s, 0, sizeof *s);
    snprintf(s->model_dir, sizeof s->model_dir, "%s", model_dir);
    snprintf(s->datasets_dir, sizeof s->datasets_dir, "%s", datasets_dir);
    if (sk_model_load(model_dir, &s->model, err) != 0) return -1;
    if (sk_tokenizer_load(model_dir, &s->tok, err) != 0) {
        Session_close(s);
        return -1;
    }
    int rc;
    if (data) {
        s->from_file = true;
        rc = open_data(s, data, eval_data, err);
    } else {
        rc = sk_data_task_load(datasets_dir, task, &s->task, err);
    }
    if (rc != 0) {
        Session_close(s);
        return -1;
    }
    if (s->task.validation.n == 0) {
        Session_close(s);
        return sk_err(err, "%s: the validation split is empty", data ? data : task);
    }
    snprintf(s->task_name, sizeof s->task_name, "%s", s->task.name);
    return 0;
}

void Session_close(Session *s) {
    sk_data_task_free(&s->task);
    sk_tokenizer_free(s->tok);
    sk_model_free(s->model);
    s->tok = NULL, s->model = NULL;
}

bool PromptLayout_equal(const PromptLayout *a, const PromptLayout *b) {
    return a->chat == b->chat && !strcmp(a->prompt, b->prompt) && !strcmp(a->templ, b->templ);
}

int Session_compose(const Session *s, const PromptLayout *layout, char *prompt, size_t prompt_cap, char *templ,
                    size_t templ_cap, SkError *err) {
    char before[512] = "", after[256] = "";
    if (layout->chat && sk_tokenizer_chat_wrap(s->tok, before, sizeof before, after, sizeof after, err) != 0) return -1;
    bool text = layout->prompt[strspn(layout->prompt, " ")] != 0;
    if ((size_t)snprintf(prompt, prompt_cap, "%s%s", before, text ? layout->prompt : "") >= prompt_cap ||
        (size_t)snprintf(templ, templ_cap, "%s%s", layout->templ, after) >= templ_cap)
        return sk_err(err, "the prompt or template is too long");
    return 0;
}

int Session_head_config(const Session *s, bool verbalizer, const char *pool, const char *templ, SkHeadConfig *hc,
                        SkError *err) {
    cJSON *j = cJSON_CreateObject();
    if (templ && templ[0]) cJSON_AddStringToObject(j, "template", templ);
    if (verbalizer) {
        cJSON_AddStringToObject(j, "kind", "verbalizer");
        cJSON *words = cJSON_AddArrayToObject(j, "words");
        for (int c = 0; c < s->task.n_words; c++) cJSON_AddItemToArray(words, cJSON_CreateString(s->task.words[c]));
    } else {
        cJSON_AddStringToObject(j, "kind", "linear");
        cJSON_AddStringToObject(j, "pool", pool);
        cJSON_AddNumberToObject(j, "n_classes", s->task.train.n_labels);
    }
    int rc = sk_head_config_from_json(j, hc, err);
    cJSON_Delete(j);
    return rc;
}

#define HISTORY_FILE "runs/prompts.tsv"

int Session_history_load(const Session *s, char ***out, int *n) {
    *out = NULL, *n = 0;
    FILE *f = fopen(HISTORY_FILE, "r");
    if (!f) return 0;
    char line[4096];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        /* time \t model \t task \t score \t prompt */
        char *field[5] = {line};
        int k = 1;
        for (char *p = line; *p && k < 5; p++)
            if (*p == '\t') *p = 0, field[k++] = p + 1;
        if (k < 5 || strcmp(field[2], s->task_name) != 0 || !field[4][0]) continue;
        for (int i = 0; i < *n; i++) /* keep the newest copy of a repeated prompt */
            if (!strcmp((*out)[i], field[4])) {
                free((*out)[i]);
                memmove(*out + i, *out + i + 1, (size_t)(*n - i - 1) * sizeof **out);
                (*n)--;
                break;
            }
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = realloc(*out, (size_t)cap * sizeof **out);
            if (!grown) break;
            *out = grown;
        }
        (*out)[(*n)++] = strdup(field[4]);
    }
    fclose(f);
    return 0;
}

void Session_history_add(const Session *s, const char *prompt, double score) {
    SkError err;
    if (sk_mkdir_p("runs", &err) != 0) return;
    FILE *f = fopen(HISTORY_FILE, "a"); /* append-only: a partial line is skipped on load */
    if (!f) return;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    char clean[2048];
    snprintf(clean, sizeof clean, "%s", prompt);
    for (char *p = clean; *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r') *p = ' ';
    if (score >= 0) fprintf(f, "%s\t%s\t%s\t%.4f\t%s\n", stamp, s->model_dir, s->task_name, score, clean);
    else fprintf(f, "%s\t%s\t%s\t\t%s\n", stamp, s->model_dir, s->task_name, clean);
    fclose(f);
}
