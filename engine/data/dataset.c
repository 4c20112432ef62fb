/* dataset.c - reading labelled text: CSV (RFC 4180: quoted fields, doubled quotes,
 * embedded newlines, CRLF, a UTF-8 BOM), TSV (tab-separated, no quoting, as the
 * GLUE files are distributed) and JSONL (one object per line, as `datasets` exports).
 * A malformed row is an error naming the file, the line and the reason, unless
 * skip_bad is set, in which case it is skipped and counted. */
#include <cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sk_data.h"

/* ---- a growing dataset ----------------------------------------------------------- */

int sk_data_add(SkDataset *ds, const char *text, const char *pair, int label, float target) {
    if (ds->n == ds->cap) {
        int ncap = ds->cap ? ds->cap * 2 : 256;
        SkExample *n = realloc(ds->ex, (size_t)ncap * sizeof *n);
        if (!n) return -1;
        ds->ex = n, ds->cap = ncap;
    }
    SkExample *e = &ds->ex[ds->n];
    e->text = strdup(text);
    e->text_pair = pair ? strdup(pair) : NULL;
    e->label = label;
    e->target = target;
    if (!e->text || (pair && !e->text_pair)) {
        free(e->text), free(e->text_pair);
        return -1;
    }
    ds->n++;
    return 0;
}

int sk_data_set_labels(SkDataset *ds, const char *const *names, int n) {
    ds->labels = calloc((size_t)n, sizeof(char *));
    if (!ds->labels) return -1;
    ds->n_labels = n;
    for (int i = 0; i < n; i++)
        if (!(ds->labels[i] = strdup(names[i]))) return -1;
    return 0;
}

void sk_data_free(SkDataset *ds) {
    for (int i = 0; i < ds->n; i++) free(ds->ex[i].text), free(ds->ex[i].text_pair);
    free(ds->ex);
    for (int i = 0; i < ds->n_labels; i++) free(ds->labels[i]);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

/* ---- rows as string arrays -------------------------------------------------------- */

typedef struct {
    char **cells;
    int n, cap;
    int line; /* first line of the row */
} Row;

static int row_push(Row *r, const char *s, size_t len) {
    if (r->n == r->cap) {
        int ncap = r->cap ? r->cap * 2 : 16;
        char **n = realloc(r->cells, (size_t)ncap * sizeof *n);
        if (!n) return -1;
        r->cells = n, r->cap = ncap;
    }
    char *c = malloc(len + 1);
    if (!c) return -1;
    memcpy(c, s, len);
    c[len] = 0;
    r->cells[r->n++] = c;
    return 0;
}

static void row_clear(Row *r) {
    for (int i = 0; i < r->n; i++) free(r->cells[i]);
    r->n = 0;
}

/* Reads one CSV record starting at *pos. Returns 1 with a row, 0 at the end, -1 on a
 * malformed record (message in err). */
static int csv_next(const char *buf, size_t len, size_t *pos, int *line, char sep, bool quoting,
                    Row *row, char *field, size_t field_cap, const char *path, SkError *err) {
    size_t i = *pos;
    if (i >= len) return 0;
    row_clear(row);
    row->line = *line;
    for (;;) {
        size_t f = 0;
        bool quoted = false;
        if (quoting && i < len && buf[i] == '"') {
            quoted = true;
            i++;
            for (;;) {
                if (i >= len)
                    return sk_err(err, "%s: line %d: a quoted field is not closed", path, row->line);
                if (buf[i] == '"') {
                    if (i + 1 < len && buf[i + 1] == '"') {
                        if (f + 1 < field_cap) field[f++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (buf[i] == '\n') (*line)++;
                if (f + 1 < field_cap) field[f++] = buf[i];
                i++;
            }
            if (i < len && buf[i] != sep && buf[i] != '\n' && buf[i] != '\r')
                return sk_err(err, "%s: line %d: text after a closing quote", path, *line);
        } else {
            while (i < len && buf[i] != sep && buf[i] != '\n' && !(buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')) {
                if (f + 1 < field_cap) field[f++] = buf[i];
                i++;
            }
        }
        (void)quoted;
        if (row_push(row, field, f) != 0) return sk_err(err, "out of memory");
        if (i < len && buf[i] == sep) {
            i++;
            continue;
        }
        if (i < len && buf[i] == '\r') i++;
        if (i < len && buf[i] == '\n') i++;
        (*line)++;
        break;
    }
    *pos = i;
    return 1;
}

static int find_col(const Row *header, const char *name) {
    for (int i = 0; i < header->n; i++)
        if (!strcmp(header->cells[i], name)) return i;
    return -1;
}

/* Raw (text, pair, label string) triples before labels are mapped. */
typedef struct {
    char **text, **pair, **label;
    int *line;
    int n, cap;
} Raw;

static int raw_add(Raw *r, const char *t, const char *p, const char *l, int line) {
    if (r->n == r->cap) {
        int ncap = r->cap ? r->cap * 2 : 256;
        char **a = realloc(r->text, (size_t)ncap * sizeof *a);
        if (!a) return -1;
        r->text = a;
        a = realloc(r->pair, (size_t)ncap * sizeof *a);
        if (!a) return -1;
        r->pair = a;
        a = realloc(r->label, (size_t)ncap * sizeof *a);
        if (!a) return -1;
        r->label = a;
        int *ln = realloc(r->line, (size_t)ncap * sizeof *ln);
        if (!ln) return -1;
        r->line = ln;
        r->cap = ncap;
    }
    r->text[r->n] = strdup(t);
    r->pair[r->n] = p ? strdup(p) : NULL;
    r->label[r->n] = strdup(l);
    r->line[r->n] = line;
    r->n++;
    return 0;
}

static void raw_free(Raw *r) {
    for (int i = 0; i < r->n; i++) free(r->text[i]), free(r->pair[i]), free(r->label[i]);
    free(r->text), free(r->pair), free(r->label), free(r->line);
}

static const char *ext_of(const char *path) {
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : "";
}

static int read_delimited(const SkDataOptions *o, const char *buf, size_t len, char sep,
                          bool quoting, Raw *raw, SkDataset *ds, SkError *err) {
    size_t pos = 0;
    if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) pos = 3; /* BOM */
    int line = 1;
    size_t cap = len + 1;
    char *field = malloc(cap);
    Row header = {0}, row = {0};
    int rc = -1;
    if (!field) {
        sk_err(err, "out of memory");
        goto done;
    }
    int ti, pi, li, ncols = 0;
    const char *tname = "", *lname = "";
    if (o->no_header) {
        if (o->text_col < 1 || o->label_col < 1) {
            sk_err(err, "%s: without a header row, give text and label as column numbers", o->path);
            goto done;
        }
        ti = o->text_col - 1, li = o->label_col - 1, pi = o->pair_col - 1;
    } else {
        int got = csv_next(buf, len, &pos, &line, sep, quoting, &header, field, cap, o->path, err);
        if (got <= 0) {
            if (got == 0) sk_err(err, "%s: empty file (no header row)", o->path);
            goto done;
        }
        ncols = header.n;
        tname = o->text ? o->text : (find_col(&header, "text") >= 0 ? "text" : "sentence");
        lname = o->label ? o->label : "label";
        ti = o->text_col ? o->text_col - 1 : find_col(&header, tname);
        pi = o->pair_col ? o->pair_col - 1 : (o->text_pair ? find_col(&header, o->text_pair) : -1);
        li = o->label_col ? o->label_col - 1 : find_col(&header, lname);
    }
    if (!o->no_header && (ti < 0 || li < 0 || ((o->text_pair || o->pair_col) && pi < 0))) {
        char cols[512] = "";
        for (int i = 0; i < header.n; i++) {
            strncat(cols, i ? ", " : "", sizeof cols - strlen(cols) - 1);
            strncat(cols, header.cells[i], sizeof cols - strlen(cols) - 1);
        }
        sk_err(err, "%s: no column \"%s\" (columns: %s)", o->path,
               ti < 0 ? tname : (li < 0 ? lname : o->text_pair), cols);
        goto done;
    }
    for (;;) {
        SkError rerr;
        int got = csv_next(buf, len, &pos, &line, sep, quoting, &row, field, cap, o->path, &rerr);
        if (got == 0) break;
        if (got < 0) {
            if (!o->skip_bad) {
                *err = rerr;
                goto done;
            }
            ds->skipped++;
            /* resynchronise at the next line */
            while (pos < len && buf[pos] != '\n') pos++;
            if (pos < len) pos++;
            line++;
            continue;
        }
        if (row.n == 1 && row.cells[0][0] == 0) continue; /* blank line */
        if (ncols == 0) ncols = row.n; /* no header: the first row sets the width */
        int need = ti > li ? ti : li;
        if (pi > need) need = pi;
        if (row.n != ncols || row.n <= need) {
            if (o->skip_bad) {
                ds->skipped++;
                continue;
            }
            if (row.n != ncols)
                sk_err(err, "%s: line %d: %d fields, %s has %d", o->path, row.line, row.n,
                       o->no_header ? "the first row" : "the header", ncols);
            else
                sk_err(err, "%s: line %d: no column %d", o->path, row.line, need + 1);
            goto done;
        }
        if (raw_add(raw, row.cells[ti], pi >= 0 ? row.cells[pi] : NULL, row.cells[li], row.line) != 0) {
            sk_err(err, "out of memory");
            goto done;
        }
        if (o->limit && raw->n >= o->limit) break;
    }
    rc = 0;
done:
    row_clear(&header), row_clear(&row);
    free(header.cells), free(row.cells), free(field);
    return rc;
}

static int read_jsonl(const SkDataOptions *o, const char *buf, size_t len, Raw *raw, SkDataset *ds,
                      SkError *err) {
    const char *tname = o->text ? o->text : NULL, *lname = o->label ? o->label : "label";
    size_t pos = 0;
    int line = 0;
    if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) pos = 3;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        line++;
        size_t a = pos;
        pos = end + 1;
        while (a < end && isspace((unsigned char)buf[a])) a++;
        if (a == end) continue;
        cJSON *j = cJSON_ParseWithLength(buf + a, end - a);
        const char *why = NULL;
        const cJSON *t = NULL, *p = NULL, *l = NULL;
        if (!j || !cJSON_IsObject(j)) why = "not a JSON object";
        else {
            t = cJSON_GetObjectItemCaseSensitive(j, tname ? tname : "text");
            if (!t && !tname) t = cJSON_GetObjectItemCaseSensitive(j, "sentence");
            p = o->text_pair ? cJSON_GetObjectItemCaseSensitive(j, o->text_pair) : NULL;
            l = cJSON_GetObjectItemCaseSensitive(j, lname);
            if (!cJSON_IsString(t)) why = "text field missing or not a string";
            else if (o->text_pair && !cJSON_IsString(p)) why = "text_pair field missing or not a string";
            else if (!cJSON_IsString(l) && !cJSON_IsNumber(l) && !cJSON_IsBool(l)) why = "label field missing";
        }
        if (why) {
            cJSON_Delete(j);
            if (o->skip_bad) {
                ds->skipped++;
                continue;
            }
            return sk_err(err, "%s: line %d: %s", o->path, line, why);
        }
        char num[64];
        const char *ls = num;
        if (cJSON_IsString(l)) ls = l->valuestring;
        else if (cJSON_IsBool(l)) snprintf(num, sizeof num, "%d", cJSON_IsTrue(l));
        else if (l->valuedouble == floor(l->valuedouble) && fabs(l->valuedouble) < 1e15)
            snprintf(num, sizeof num, "%.0f", l->valuedouble);
        else snprintf(num, sizeof num, "%.17g", l->valuedouble);
        int rc = raw_add(raw, t->valuestring, p ? p->valuestring : NULL, ls, line);
        cJSON_Delete(j);
        if (rc != 0) return sk_err(err, "out of memory");
        if (o->limit && raw->n >= o->limit) break;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    /* numeric labels sort numerically ("2" before "10") */
    char *ex, *ey;
    double dx = strtod(x, &ex), dy = strtod(y, &ey);
    if (*x && *y && !*ex && !*ey) return dx < dy ? -1 : dx > dy;
    return strcmp(x, y);
}

int sk_data_load(const SkDataOptions *o, SkDataset *ds, SkError *err) {
    memset(ds, 0, sizeof *ds);
    snprintf(ds->source, sizeof ds->source, "%s", o->path);
    char *buf;
    size_t len;
    if (sk_read_file(o->path, &buf, &len, err) != 0) return -1;
    const char *fmt = o->format ? o->format : ext_of(o->path);
    Raw raw = {0};
    int rc;
    if (!strcmp(fmt, "csv")) rc = read_delimited(o, buf, len, ',', true, &raw, ds, err);
    else if (!strcmp(fmt, "tsv")) rc = read_delimited(o, buf, len, '\t', false, &raw, ds, err);
    else if (!strcmp(fmt, "jsonl") || !strcmp(fmt, "json")) rc = read_jsonl(o, buf, len, &raw, ds, err);
    else rc = sk_err(err, "%s: unknown format \"%s\" (csv, tsv or jsonl)", o->path, fmt);
    free(buf);
    if (rc == 0 && raw.n == 0) rc = sk_err(err, "%s: no examples", o->path);
    ds->regression = o->regression;
    if (rc == 0 && !o->regression) {
        if (o->labels && o->n_labels > 0) {
            rc = sk_data_set_labels(ds, o->labels, o->n_labels) ? sk_err(err, "out of memory") : 0;
        } else { /* sorted distinct values */
            const char **names = malloc((size_t)raw.n * sizeof *names);
            int n = 0;
            if (!names) rc = sk_err(err, "out of memory");
            for (int i = 0; rc == 0 && i < raw.n; i++) names[n++] = raw.label[i];
            if (rc == 0) {
                qsort(names, (size_t)n, sizeof *names, cmp_str);
                int u = 0;
                for (int i = 0; i < n; i++)
                    if (u == 0 || strcmp(names[u - 1], names[i])) names[u++] = names[i];
                if (u > 1000) rc = sk_err(err, "%s: %d distinct labels; is \"%s\" the label column?",
                                          o->path, u, o->label ? o->label : "label");
                else rc = sk_data_set_labels(ds, names, u) ? sk_err(err, "out of memory") : 0;
            }
            free(names);
        }
    }
    for (int i = 0; rc == 0 && i < raw.n; i++) {
        int label = -1;
        float target = 0;
        if (o->regression) {
            char *end;
            double v = strtod(raw.label[i], &end);
            if (end == raw.label[i] || *end || !isfinite(v)) {
                if (o->skip_bad) {
                    ds->skipped++;
                    continue;
                }
                rc = sk_err(err, "%s: line %d: label \"%s\" is not a number", o->path, raw.line[i], raw.label[i]);
                break;
            }
            target = (float)v;
        } else {
            for (int k = 0; k < ds->n_labels; k++)
                if (!strcmp(ds->labels[k], raw.label[i])) label = k;
            if (label < 0) {
                if (o->skip_bad) {
                    ds->skipped++;
                    continue;
                }
                rc = sk_err(err, "%s: line %d: unknown label \"%s\"", o->path, raw.line[i], raw.label[i]);
                break;
            }
        }
        if (sk_data_add(ds, raw.text[i], raw.pair[i], label, target) != 0) rc = sk_err(err, "out of memory");
    }
    raw_free(&raw);
    if (rc == 0 && ds->n == 0) rc = sk_err(err, "%s: every row was skipped as malformed", o->path);
    if (rc != 0) sk_data_free(ds);
    return rc;
}

/* ---- bundled tasks ---------------------------------------------------------------------- */

#include <dirent.h>
#include <sys/stat.h>

#include "sk_io.h"

void sk_data_task_free(SkDataTask *t) {
    sk_data_free(&t->train), sk_data_free(&t->validation), sk_data_free(&t->test);
    for (int i = 0; i < t->n_words; i++) free(t->words[i]);
    free(t->words);
    memset(t, 0, sizeof *t);
}

static int json_strings(const cJSON *a, char ***out, int *n) {
    *n = cJSON_GetArraySize(a);
    *out = calloc((size_t)(*n ? *n : 1), sizeof(char *));
    if (!*out) return -1;
    int i = 0;
    for (const cJSON *e = a ? a->child : NULL; e; e = e->next, i++)
        if (!cJSON_IsString(e) || !((*out)[i] = strdup(e->valuestring))) return -1;
    return 0;
}

int sk_data_task_load(const char *dir, const char *name, SkDataTask *t, SkError *err) {
    memset(t, 0, sizeof *t);
    if (!*name || strchr(name, '/') || name[0] == '.') return sk_err(err, "bad task name \"%s\"", name);
    char tdir[1024], path[1200];
    snprintf(tdir, sizeof tdir, "%s/%s", dir, name);
    snprintf(path, sizeof path, "%s/task.json", tdir);
    if (!sk_file_exists(path)) {
        char **names;
        int n;
        char list[512] = "";
        if (sk_data_task_list(dir, &names, &n, NULL) == 0) {
            for (int i = 0; i < n; i++) {
                strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, names[i], sizeof list - strlen(list) - 1);
                free(names[i]);
            }
            free(names);
        }
        return sk_err(err, "no bundled task \"%s\" (tasks: %s)", name, list[0] ? list : "none found");
    }
    cJSON *j;
    if (sk_json_load(path, &j, err) != 0) return -1;
    int rc = -1;
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(j, "labels");
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(j, "files");
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(j, "prompt");
    char **lab = NULL;
    int nlab = 0;
    if (!cJSON_IsArray(labels) || !cJSON_IsObject(files) || !cJSON_IsString(prompt)) {
        sk_err(err, "%s: fields labels, files and prompt are required", path);
        goto done;
    }
    if (json_strings(labels, &lab, &nlab) != 0) {
        sk_err(err, "%s: labels must be strings", path);
        goto done;
    }
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->prompt, sizeof t->prompt, "%s", prompt->valuestring);
    const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(j, "template");
    if (tpl && (!cJSON_IsString(tpl) || strlen(tpl->valuestring) >= sizeof t->template_text)) {
        sk_err(err, "%s: field template must be a string of fewer than %zu bytes", path, sizeof t->template_text);
        goto done;
    }
    if (tpl) snprintf(t->template_text, sizeof t->template_text, "%s", tpl->valuestring);
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(j, "source"), *lic = cJSON_GetObjectItemCaseSensitive(j, "licence");
    if (cJSON_IsString(src)) snprintf(t->source, sizeof t->source, "%s", src->valuestring);
    if (cJSON_IsString(lic)) snprintf(t->licence, sizeof t->licence, "%s", lic->valuestring);
    const cJSON *words = cJSON_GetObjectItemCaseSensitive(j, "words");
    if (cJSON_IsArray(words) && json_strings(words, &t->words, &t->n_words) != 0) {
        sk_err(err, "%s: words must be strings", path);
        goto done;
    }
    const char *splits[3] = {"train", "validation", "test"};
    SkDataset *dst[3] = {&t->train, &t->validation, &t->test};
    for (int s = 0; s < 3; s++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(files, splits[s]);
        if (!cJSON_IsString(f) || strchr(f->valuestring, '/')) {
            sk_err(err, "%s: files.%s missing or not a file name", path, splits[s]);
            goto done;
        }
        char fp[1400];
        snprintf(fp, sizeof fp, "%s/%s", tdir, f->valuestring);
        SkDataOptions o = {.path = fp, .labels = (const char *const *)lab, .n_labels = nlab};
        if (sk_data_load(&o, dst[s], err) != 0) goto done;
    }
    rc = 0;
done:
    for (int i = 0; i < nlab; i++) free(lab[i]);
    free(lab);
    cJSON_Delete(j);
    if (rc != 0) sk_data_task_free(t);
    return rc;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int sk_data_task_list(const char *dir, char ***names, int *n, SkError *err) {
    *names = NULL, *n = 0;
    DIR *d = opendir(dir);
    if (!d) return sk_err(err, "%s: cannot open the datasets folder", dir);
    struct dirent *e;
    int cap = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s/task.json", dir, e->d_name);
        if (!sk_file_exists(path)) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            char **nn = realloc(*names, (size_t)cap * sizeof *nn);
            if (!nn) break;
            *names = nn;
        }
        (*names)[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(*names, (size_t)*n, sizeof **names, cmp_name);
    return 0;
}
