/* scorer.c - the prompt's zero-shot score, computed in the background.
 *
 * The score: SK-Tuning's method at step 0 (sk_prefix with the prompt; the adapter starts
 * as the identity, so this is the frozen model reading prompt ++ input) with a
 * verbalizer head over the task's label words, on a fixed seeded sample of the
 * validation split, plus the predictions for a few example inputs. The running estimate
 * is published after every batch (shortest inputs first). Every request has a generation
 * number; the worker checks it between batches and drops work that a newer request has
 * made stale, so an old prompt's score is never shown as the current one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

#define CHUNK 16
/* examples per batch while scoring the sample: small, so the first estimate is on screen
 * within a fraction of a second; larger batches gain nothing (SmolLM2, 64 wordnet-topic
 * glosses: 2.76 s in batches of 4, 4.29 s in batches of 32) */
#define SCORER_BATCH 4

/* The sample and the example rows, rebuilt for each session. */
static void build_sets(Scorer *sc) {
    sk_data_free(&sc->sample_set);
    sk_data_free(&sc->examples);
    memset(&sc->sample_set, 0, sizeof sc->sample_set);
    memset(&sc->examples, 0, sizeof sc->examples);
    const SkDataset *v = &sc->session->task.validation;
    sk_data_set_labels(&sc->sample_set, (const char *const *)v->labels, v->n_labels);
    sk_data_set_labels(&sc->examples, (const char *const *)v->labels, v->n_labels);
    int *order = malloc((size_t)(v->n ? v->n : 1) * sizeof *order);
    if (!order) return;
    for (int i = 0; i < v->n; i++) order[i] = i;
    SkRng rng;
    sk_rng_seed(&rng, 7);
    for (int i = v->n - 1; i > 0; i--) {
        int j = (int)sk_rng_below(&rng, (uint64_t)i + 1), t = order[i];
        order[i] = order[j], order[j] = t;
    }
    int n = sc->sample < v->n ? sc->sample : v->n;
    for (int i = 0; i < n; i++) {
        const SkExample *e = &v->ex[order[i]];
        sk_data_add(&sc->sample_set, e->text, e->text_pair, e->label, e->target);
    }
    /* examples: classes in turn, the shortest texts first (they fit on one line) */
    for (int round = 0; sc->examples.n < SCORER_EXAMPLES && round < SCORER_EXAMPLES; round++)
        for (int c = 0; c < v->n_labels && sc->examples.n < SCORER_EXAMPLES; c++) {
            int best = -1, seen = 0;
            for (int i = 0; i < v->n; i++) {
                if (v->ex[order[i]].label != c) continue;
                if (seen++ < round) continue;
                best = order[i];
                break;
            }
            if (best >= 0) sk_data_add(&sc->examples, v->ex[best].text, v->ex[best].text_pair, c, 0);
        }
    free(order);
}

static bool stale(Scorer *sc, unsigned gen) {
    pthread_mutex_lock(&sc->mu);
    bool s = sc->want_gen != gen || sc->quit || sc->paused;
    pthread_mutex_unlock(&sc->mu);
    return s;
}

/* SK-Tuning at step 0 (the frozen model reads the composed prompt once, and every input
 * attends to its cached keys/values) with a verbalizer after the template. */
static int make_task(Session *s, const PromptLayout *layout, SkTask *t, SkError *err) {
    char prompt[2600], templ[256];
    memset(t, 0, sizeof *t);
    t->model = s->model, t->tok = s->tok;
    if (Session_compose(s, layout, prompt, sizeof prompt, templ, sizeof templ, err) != 0) return -1;
    SkMethodConfig mc;
    bool has_text = prompt[strspn(prompt, " ")] != 0;
    sk_method_config_default(&mc, has_text ? SK_M_SK_PREFIX : SK_M_HEAD_ONLY);
    if (has_text && (size_t)snprintf(mc.prompt, sizeof mc.prompt, "%s", prompt) >= sizeof mc.prompt)
        return sk_err(err, "the prompt is too long");
    SkHeadConfig hc;
    int rc = Session_head_config(s, true, NULL, templ, &hc, err);
    if (rc == 0) rc = sk_method_new(s->model, s->tok, &mc, &t->method, err);
    if (rc == 0) rc = sk_head_new(s->model, s->tok, &hc, CHUNK, 1, &t->head, err);
    return rc;
}

typedef struct {
    Scorer *sc;
    ScorerResult *r;
} Progress;

/* After each batch: the running estimate goes on screen at once (the first batch is the
 * shortest inputs, so it arrives soonest); a newer request stops the work. */
static int on_batch(void *ctx, int done, int total, int correct) {
    Progress *p = ctx;
    p->r->n = done, p->r->total = total, p->r->correct = correct;
    p->r->accuracy = done ? (double)correct / done : NAN;
    p->r->partial = done < total;
    if (stale(p->sc, p->r->gen)) return 1;
    if (done < total) { /* the last batch's result is published complete, by score() */
        pthread_mutex_lock(&p->sc->mu);
        p->sc->result = *p->r;
        pthread_mutex_unlock(&p->sc->mu);
    }
    return 0;
}

static void score(Scorer *sc, unsigned gen, const PromptLayout *layout) {
    ScorerResult r;
    memset(&r, 0, sizeof r);
    r.gen = gen;
    r.layout = *layout;
    r.total = sc->sample_set.n;
    double t0 = sk_now_seconds();
    SkError err;
    SkTask t;
    int pred[SCORER_EXAMPLES];
    float probs[SCORER_EXAMPLES * SK_MAX_CLASSES];
    int rc = make_task(sc->session, layout, &t, &err);
    if (rc == 0) {
        Progress p = {sc, &r};
        SkMetrics m;
        rc = sk_evaluate_progress(&t, &sc->sample_set, SCORER_BATCH, 128, &m, NULL, NULL, on_batch, &p, &err);
        if (rc == 1) goto cancelled;
    }
    if (rc == 0 && sc->examples.n > 0 && !stale(sc, gen)) {
        SkMetrics m;
        rc = sk_evaluate(&t, &sc->examples, CHUNK, 128, &m, pred, probs, &err);
        int nc = sc->examples.n_labels;
        for (int i = 0; rc == 0 && i < sc->examples.n; i++) r.pred[i] = pred[i], r.prob[i] = probs[i * nc + pred[i]];
        r.n_examples = sc->examples.n;
    }
    if (stale(sc, gen)) goto cancelled;
    r.ok = rc == 0;
    r.partial = false;
    if (rc != 0) snprintf(r.error, sizeof r.error, "%s", err.msg);
    r.accuracy = r.n ? (double)r.correct / r.n : NAN;
    r.seconds = sk_now_seconds() - t0;
    pthread_mutex_lock(&sc->mu);
    sc->result = r;
    pthread_mutex_unlock(&sc->mu);
cancelled:
    sk_method_free(t.method);
    sk_head_free(t.head);
}

static void *worker(void *arg) {
    Scorer *sc = arg;
    unsigned done = 0;
    pthread_mutex_lock(&sc->mu);
    for (;;) {
        while (!sc->quit && (sc->paused || sc->want_gen == done)) pthread_cond_wait(&sc->cv, &sc->mu);
        if (sc->quit) break;
        unsigned gen = sc->want_gen;
        PromptLayout layout = sc->want;
        sc->busy = true;
        pthread_mutex_unlock(&sc->mu);
        score(sc, gen, &layout);
        pthread_mutex_lock(&sc->mu);
        sc->busy = false;
        if (!sc->paused) done = gen; /* a paused (swapped) session scores the request again */
        pthread_cond_broadcast(&sc->cv);
    }
    pthread_mutex_unlock(&sc->mu);
    return NULL;
}

int Scorer_start(Scorer *sc, Session *s, int sample) {
    memset(sc, 0, sizeof *sc);
    pthread_mutex_init(&sc->mu, NULL);
    pthread_cond_init(&sc->cv, NULL);
    sc->session = s;
    sc->sample = sample > 0 ? sample : 64;
    sc->result.accuracy = NAN;
    build_sets(sc);
    if (pthread_create(&sc->thread, NULL, worker, sc) != 0) return -1;
    sc->started = true;
    return 0;
}

void Scorer_stop(Scorer *sc) {
    if (sc->started) {
        pthread_mutex_lock(&sc->mu);
        sc->quit = true;
        pthread_cond_broadcast(&sc->cv);
        pthread_mutex_unlock(&sc->mu);
        pthread_join(sc->thread, NULL);
    }
    sk_data_free(&sc->sample_set);
    sk_data_free(&sc->examples);
    pthread_mutex_destroy(&sc->mu);
    pthread_cond_destroy(&sc->cv);
    sc->started = false;
}

void Scorer_request(Scorer *sc, const PromptLayout *layout) {
    pthread_mutex_lock(&sc->mu);
    sc->want_gen++;
    sc->want = *layout;
    pthread_cond_broadcast(&sc->cv);
    pthread_mutex_unlock(&sc->mu);
}

void Scorer_pause(Scorer *sc) {
    pthread_mutex_lock(&sc->mu);
    sc->paused = true;
    while (sc->busy) pthread_cond_wait(&sc->cv, &sc->mu);
    pthread_mutex_unlock(&sc->mu);
}

void Scorer_resume(Scorer *sc, Session *s) {
    pthread_mutex_lock(&sc->mu);
    sc->session = s;
    build_sets(sc);
    memset(&sc->result, 0, sizeof sc->result);
    sc->result.accuracy = NAN;
    sc->paused = false;
    sc->want_gen++; /* rescore the current prompt on the new session */
    pthread_cond_broadcast(&sc->cv);
    pthread_mutex_unlock(&sc->mu);
}

void Scorer_snapshot(Scorer *sc, ScorerResult *out, bool *busy, unsigned *want) {
    pthread_mutex_lock(&sc->mu);
    *out = sc->result;
    *busy = sc->busy || sc->want_gen != sc->result.gen;
    *want = sc->want_gen;
    pthread_mutex_unlock(&sc->mu);
}
