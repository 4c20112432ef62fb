/* sk_data.h - labelled text data sets: CSV (RFC 4180), TSV and JSONL files. */
#ifndef SK_DATA_H
#define SK_DATA_H

#include "sk_core.h"

typedef struct SkExample {
    char *text;
    char *text_pair;  /* NULL when the data set has no second text */
    int label;        /* class index, 0-based (classification) */
    float target;     /* regression value */
} SkExample;

typedef struct SkDataset {
    SkExample *ex;
    int n, cap;
    char **labels;    /* class names in class order */
    int n_labels;
    bool regression;
    int skipped;      /* bad rows skipped (skip_bad) */
    char source[1024];
} SkDataset;

typedef struct SkDataOptions {
    const char *path;
    const char *format;       /* "csv", "tsv", "jsonl" or NULL: from the file name */
    const char *text;         /* column names (defaults: "text" / "sentence", "label") */
    const char *text_pair;    /* NULL: none */
    const char *label;
    const char *const *labels; /* class order (NULL: sorted distinct values) */
    int n_labels;
    bool regression;
    bool skip_bad;            /* skip malformed rows and count them instead of failing */
    int limit;                /* at most this many examples (0: all) */
    bool no_header;           /* csv/tsv without a header row (GLUE's CoLA): columns by index */
    int text_col, pair_col, label_col; /* 1-based column indexes (0: by name) */
} SkDataOptions;

int sk_data_load(const SkDataOptions *o, SkDataset *ds, SkError *err);

/* ---- bundled tasks: DIR/<name>/task.json + its split files ------------------------ */
typedef struct SkDataTask {
    char name[64];
    char prompt[512];         /* a suggested semantic prompt */
    char template_text[256];  /* suggested text after the input ("\nCategory:"), or "" */
    char **words;             /* a label word per class (for the verbalizer head) */
    int n_words;
    char source[512], licence[256];
    SkDataset train, validation, test;
} SkDataTask;

int sk_data_task_load(const char *datasets_dir, const char *name, SkDataTask *t, SkError *err);
void sk_data_task_free(SkDataTask *t);
/* Names of the tasks in datasets_dir (folders with a task.json), sorted. */
int sk_data_task_list(const char *datasets_dir, char ***names, int *n, SkError *err);
void sk_data_free(SkDataset *ds);
/* Appends a copy of an example (labels as given). */
int sk_data_add(SkDataset *ds, const char *text, const char *pair, int label, float target);
/* Sets the class names (copies). */
int sk_data_set_labels(SkDataset *ds, const char *const *names, int n);

#endif
