/* runs.c - training runs in worker threads. Each run trains through the engine's
 * sk_train; its step callback appends to the run's history under the mutex, sleeps
 * while the run is paused and tells the engine to stop when asked. The screen reads
 * the same state under the same mutex. Runs beyond max_parallel wait in a queue. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tui.h"

const char *Run_state_name(RunState s) {
    static const char *names[] = {"queued", "running", "paused", "done", "stopped", "failed"};
    return names[s];
}

void Runs_init(Runs *r, Session *s, TLog *log, int max_parallel) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->session = s;
    r->log = log;
    r->max_parallel = max_parallel > 0 ? max_parallel : 1;
    r->next_id = 1;
}

static bool is_active(const Run *run) {
    return run->state == RUN_QUEUED || run->state == RUN_RUNNING || run->state == RUN_PAUSED;
}

static void run_free(Run *run) {
    sk_head_free(run->head);
    sk_method_free(run->method);
    free(run->pts);
    free(run);
}

void Runs_free(Runs *r) {
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n; i++) {
        r->v[i]->stop_req = true;
        if (r->v[i]->state == RUN_QUEUED) r->v[i]->state = RUN_STOPPED;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < r->n; i++)
        if (r->v[i]->joinable) pthread_join(r->v[i]->thread, NULL);
    for (int i = 0; i < r->n; i++) run_free(r->v[i]);
    free(r->v);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

/* Appends a run (mutex held). */
static Run *append(Runs *r) {
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 16;
        Run **v = realloc(r->v, (size_t)cap * sizeof *v);
        if (!v) return NULL;
        r->v = v, r->cap = cap;
    }
    Run *run = calloc(1, sizeof *run);
    if (!run) return NULL;
    run->owner = r;
    run->id = r->next_id++;
    run->series = run->id - 1;
    run->loss = run->score = run->best_score = NAN;
    r->v[r->n++] = run;
    r->version++;
    return run;
}

static Run *find(Runs *r, int id) {
    for (int i = 0; i < r->n; i++)
        if (r->v[i]->id == id) return r->v[i];
    return NULL;
}

int Runs_add(Runs *r, const RunSpec *spec) {
    pthread_mutex_lock(&r->mu);
    Run *run = append(r);
    int id = -1;
    if (run) {
        run->spec = *spec;
        run->steps = spec->train.steps;
        snprintf(run->label, sizeof run->label, "%s", sk_method_name(spec->method.kind));
        run->state = RUN_QUEUED;
        id = run->id;
    }
    pthread_mutex_unlock(&r->mu);
    return id;
}

int Runs_add_adapter(Runs *r, const char *path) {
    pthread_mutex_lock(&r->mu);
    Run *run = append(r);
    int id = -1;
    if (run) {
        run->loaded = true;
        snprintf(run->adapter_path, sizeof run->adapter_path, "%s", path);
        const char *base = strrchr(path, '/');
        snprintf(run->label, sizeof run->label, "file:%s", base ? base + 1 : path);
        run->state = RUN_QUEUED;
        id = run->id;
    }
    pthread_mutex_unlock(&r->mu);
    return id;
}

static void point(Run *run, int step, double loss, double score, double seconds) {
    if (run->n_pts == run->cap_pts) {
        int cap = run->cap_pts ? run->cap_pts * 2 : 256;
        RunPoint *p = realloc(run->pts, (size_t)cap * sizeof *p);
        if (!p) return;
        run->pts = p, run->cap_pts = cap;
    }
    run->pts[run->n_pts++] = (RunPoint){step, (float)loss, (float)score, (float)seconds};
}

/* The engine's step callback (worker thread). */
static int on_step(void *ctx, const SkHistoryEntry *ev) {
    Run *run = ctx;
    Runs *r = run->owner;
    pthread_mutex_lock(&r->mu);
    run->step = ev->step;
    run->seconds = ev->seconds - run->paused_total;
    if (!ev->evaluated || isfinite(ev->loss)) run->loss = ev->loss;
    double score = ev->evaluated ? ev->metrics.accuracy : NAN;
    if (ev->evaluated) {
        run->score = score;
        if (!(score <= run->best_score)) run->best_score = score, run->best_step = ev->step;
    }
    point(run, ev->step, ev->loss, score, run->seconds);
    r->version++;
    while (run->pause_req && !run->stop_req) {
        if (run->state != RUN_PAUSED) run->state = RUN_PAUSED, run->paused_at = sk_now_seconds(), r->version++;
        pthread_cond_wait(&r->cv, &r->mu);
    }
    if (run->state == RUN_PAUSED) {
        run->paused_total += sk_now_seconds() - run->paused_at;
        run->state = RUN_RUNNING;
        r->version++;
    }
    int stop = run->stop_req;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

static void finish(Runs *r, Run *run, RunState state, const char *fmt, const char *detail) {
    pthread_mutex_lock(&r->mu);
    run->state = state;
    snprintf(run->message, sizeof run->message, fmt, detail);
    r->version++;
    pthread_mutex_unlock(&r->mu);
}

/* A trained run's predictions for the example rows, for the examples pane (worker thread). */
static void predict_examples(Runs *r, Run *run, const SkTask *task, int max_len) {
    const SkDataset *ex = r->examples;
    if (!ex || ex->n == 0 || ex->n > SCORER_EXAMPLES) return;
    int pred[SCORER_EXAMPLES];
    float *probs = malloc((size_t)ex->n * (size_t)ex->n_labels * sizeof *probs);
    SkMetrics m;
    SkError err;
    if (!probs || sk_evaluate(task, ex, ex->n, max_len, &m, pred, probs, &err) != 0) {
        if (probs) TLog_add(r->log, "run %d: predicting the example rows: %s", run->id, err.msg);
        free(probs);
        return;
    }
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < ex->n; i++) run->ex_pred[i] = pred[i], run->ex_prob[i] = probs[i * ex->n_labels + pred[i]];
    run->n_ex = ex->n;
    r->version++;
    pthread_mutex_unlock(&r->mu);
    free(probs);
}

static void evaluate_adapter(Runs *r, Run *run) {
    Session *s = r->session;
    SkError err;
    char **labels = NULL;
    int n_labels = 0;
    SkMethod *method = NULL;
    SkHead *head = NULL;
    if (sk_adapter_load(run->adapter_path, s->model, s->tok, 16, &method, &head, &labels, &n_labels, &err) != 0) {
        TLog_add(r->log, "run %d: %s", run->id, err.msg);
        finish(r, run, RUN_FAILED, "%s", err.msg);
        return;
    }
    bool same = n_labels == s->task.validation.n_labels;
    for (int i = 0; same && i < n_labels; i++) same = !strcmp(labels[i], s->task.validation.labels[i]);
    for (int i = 0; i < n_labels; i++) free(labels[i]);
    free(labels);
    if (!same) {
        sk_method_free(method), sk_head_free(head);
        TLog_add(r->log, "run %d: %s: its classes differ from task %s", run->id, run->adapter_path, s->task_name);
        finish(r, run, RUN_FAILED, "%s", "classes differ from the task's");
        return;
    }
    SkTask task = {.model = s->model, .tok = s->tok, .method = method, .head = head};
    SkMetrics m;
    double t0 = sk_now_seconds();
    if (sk_evaluate(&task, &s->task.validation, 16, 128, &m, NULL, NULL, &err) != 0) {
        sk_method_free(method), sk_head_free(head);
        finish(r, run, RUN_FAILED, "%s", err.msg);
        return;
    }
    predict_examples(r, run, &task, 128);
    pthread_mutex_lock(&r->mu);
    run->method = method, run->head = head;
    run->params = sk_method_n_params(method);
    run->spec.method = *sk_method_config(method);
    run->spec.head = *sk_head_config(head);
    run->score = run->best_score = m.accuracy;
    run->seconds = sk_now_seconds() - t0;
    point(run, 0, NAN, m.accuracy, 0);
    pthread_mutex_unlock(&r->mu);
    TLog_add(r->log, "run %d: adapter %s: validation accuracy %.4f", run->id, run->adapter_path, m.accuracy);
    finish(r, run, RUN_DONE, "%s", "adapter evaluated on validation");
}

static void *worker(void *arg) {
    Run *run = arg;
    Runs *r = run->owner;
    Session *s = r->session;
    if (run->loaded) {
        evaluate_adapter(r, run);
        return NULL;
    }
    SkError err;
    SkMethod *method = NULL;
    SkHead *head = NULL;
    SkTrainConfig tc = run->spec.train;
    tc.progress = NULL, tc.progress_ctx = NULL;
    int max_b = tc.batch > tc.eval_batch ? tc.batch : tc.eval_batch;
    if (sk_method_new(s->model, s->tok, &run->spec.method, &method, &err) != 0 ||
        sk_head_new(sk_method_model(method), s->tok, &run->spec.head, max_b, tc.seed, &head, &err) != 0) {
        sk_method_free(method);
        TLog_add(r->log, "run %d (%s): %s", run->id, run->label, err.msg);
        finish(r, run, RUN_FAILED, "%s", err.msg);
        return NULL;
    }
    pthread_mutex_lock(&r->mu);
    run->params = sk_method_n_params(method);
    pthread_mutex_unlock(&r->mu);
    if (!tc.out_dir[0]) sk_train_default_out(tc.out_dir, sizeof tc.out_dir, sk_method_name(run->spec.method.kind));
    pthread_mutex_lock(&r->mu);
    snprintf(run->out_dir, sizeof run->out_dir, "%s", tc.out_dir);
    pthread_mutex_unlock(&r->mu);
    TLog_add(r->log, "run %d: %s started (%s, lr %g, %d steps, seed %llu) -> %s", run->id, run->label,
             sk_method_describe(method), tc.lr, tc.steps, (unsigned long long)tc.seed, tc.out_dir);
    SkTask task = {.model = s->model, .tok = s->tok, .method = method, .head = head};
    SkRunResult res;
    int rc = sk_train(&task, &s->task.train, &s->task.validation, &tc, on_step, run, &res, &err);
    if (rc == 0 && !res.failed) predict_examples(r, run, &task, tc.max_len);
    pthread_mutex_lock(&r->mu);
    run->method = method, run->head = head;
    if (rc == 0) run->params = res.params;
    if (rc == 0 && !res.failed) {
        run->score = res.final.accuracy;
        if (!(res.final.accuracy <= run->best_score)) run->best_score = res.final.accuracy, run->best_step = res.steps_done;
    }
    pthread_mutex_unlock(&r->mu);
    if (rc != 0) {
        TLog_add(r->log, "run %d (%s) failed: %s", run->id, run->label, err.msg);
        finish(r, run, RUN_FAILED, "%s", err.msg);
    } else if (res.failed) {
        TLog_add(r->log, "run %d (%s): %s", run->id, run->label, res.stop_reason);
        finish(r, run, RUN_FAILED, "%s", res.stop_reason);
    } else {
        TLog_add(r->log, "run %d (%s): %s; validation accuracy %.4f; %.1f s; saved in %s", run->id, run->label,
                 res.stop_reason, res.final.accuracy, res.seconds, res.out_dir);
        finish(r, run, run->stop_req ? RUN_STOPPED : RUN_DONE, "%s", res.stop_reason);
    }
    sk_run_result_free(&res);
    return NULL;
}

void Runs_poll(Runs *r) {
    pthread_mutex_lock(&r->mu);
    int running = 0;
    for (int i = 0; i < r->n; i++)
        if (!r->v[i]->external && (r->v[i]->state == RUN_RUNNING || r->v[i]->state == RUN_PAUSED)) running++;
    for (int i = 0; i < r->n && running < r->max_parallel; i++) {
        Run *run = r->v[i];
        if (run->state != RUN_QUEUED) continue;
        run->state = RUN_RUNNING;
        if (pthread_create(&run->thread, NULL, worker, run) != 0) {
            run->state = RUN_FAILED;
            snprintf(run->message, sizeof run->message, "cannot start a thread");
            continue;
        }
        run->joinable = true;
        running++;
        r->version++;
    }
    Run *to_join[64];
    int nj = 0;
    for (int i = 0; i < r->n && nj < 64; i++)
        if (r->v[i]->joinable && !is_active(r->v[i])) to_join[nj++] = r->v[i], r->v[i]->joinable = false;
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < nj; i++) pthread_join(to_join[i]->thread, NULL);
}

void Runs_toggle_pause(Runs *r, int id) {
    pthread_mutex_lock(&r->mu);
    Run *run = find(r, id);
    if (run && (run->state == RUN_RUNNING || run->state == RUN_PAUSED || run->state == RUN_QUEUED)) {
        run->pause_req = !run->pause_req;
        if (!run->pause_req) pthread_cond_broadcast(&r->cv);
        r->version++;
    }
    pthread_mutex_unlock(&r->mu);
}

void Runs_stop(Runs *r, int id) {
    pthread_mutex_lock(&r->mu);
    Run *run = find(r, id);
    if (run && is_active(run)) {
        run->stop_req = true;
        if (run->state == RUN_QUEUED) run->state = RUN_STOPPED, snprintf(run->message, sizeof run->message, "stopped before it started");
        pthread_cond_broadcast(&r->cv);
        r->version++;
    }
    pthread_mutex_unlock(&r->mu);
}

int Runs_remove(Runs *r, int id) {
    pthread_mutex_lock(&r->mu);
    int rc = -1;
    for (int i = 0; i < r->n; i++) {
        Run *run = r->v[i];
        if (run->id != id) continue;
        if (!is_active(run) && !run->joinable) {
            memmove(r->v + i, r->v + i + 1, (size_t)(r->n - i - 1) * sizeof *r->v);
            r->n--;
            run_free(run);
            r->version++;
            rc = 0;
        }
        break;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int Runs_active(Runs *r) {
    pthread_mutex_lock(&r->mu);
    int n = 0;
    for (int i = 0; i < r->n; i++) n += is_active(r->v[i]);
    pthread_mutex_unlock(&r->mu);
    return n;
}

int Runs_save_adapter(Runs *r, int id, const char *path, SkError *err) {
    pthread_mutex_lock(&r->mu);
    Run *run = find(r, id);
    int rc;
    if (!run) rc = sk_err(err, "no run %d", id);
    else if (is_active(run) || !run->method) rc = sk_err(err, "run %d has no finished adapter to save", id);
    else {
        Session *s = r->session;
        SkTask t = {.model = s->model, .tok = s->tok, .method = run->method, .head = run->head};
        rc = sk_adapter_save(path, &t, (const char *const *)s->task.train.labels, s->task.train.n_labels, err);
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

void Runs_forget_model(Runs *r) {
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n; i++) {
        sk_head_free(r->v[i]->head);
        sk_method_free(r->v[i]->method);
        r->v[i]->head = NULL, r->v[i]->method = NULL;
        r->v[i]->n_ex = 0; /* the rows belonged to the task being closed */
    }
    r->version++;
    pthread_mutex_unlock(&r->mu);
}

/* ---- runs a script drives (sk.train inside a script run from the workbench) ---------- */

Run *Runs_external_begin(Runs *r, const char *method, int64_t params, int steps) {
    pthread_mutex_lock(&r->mu);
    Run *run = append(r);
    if (run) {
        run->external = true;
        run->state = RUN_RUNNING;
        run->params = params;
        run->steps = steps;
        snprintf(run->label, sizeof run->label, "lua:%s", method);
        SkMethodKind k;
        if (sk_method_kind_parse(method, &k) == 0) run->spec.method.kind = k;
    }
    pthread_mutex_unlock(&r->mu);
    return run;
}

int Runs_external_step(Runs *r, Run *run, const SkHistoryEntry *ev) {
    (void)r;
    return on_step(run, ev);
}

void Runs_external_end(Runs *r, Run *run, bool failed, const char *reason, double seconds) {
    pthread_mutex_lock(&r->mu);
    run->state = failed ? RUN_FAILED : (run->stop_req ? RUN_STOPPED : RUN_DONE);
    if (seconds > 0) run->seconds = seconds - run->paused_total;
    snprintf(run->message, sizeof run->message, "%s", reason ? reason : "");
    r->version++;
    pthread_mutex_unlock(&r->mu);
}
