/* sk_lua_train.c - sk.method.*, sk.train, sk.evaluate, sk.load_adapter and the Run
 * userdata (run.params, run.history, run.final, run.seconds, run:predict, run:save,
 * run:evaluate). A thin layer: options become the engine's JSON configurations, which
 * validate them (unknown options are errors that name the option). */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lua/sk_lua.h"
#include "progress.h"
#include "sk_train.h"

#define RUN_MT "sk.Run"
#define SPEC_MT "sk.MethodSpec"

SkDataset *sk_lua_check_dataset(lua_State *L, int idx);

typedef struct {
    SkModel *model;
    SkTokenizer *tok;
    SkMethod *method;
    SkHead *head;
    char **labels;
    int n_labels;
    bool regression;
} LuaRun;

/* ---- sk.method.<name>{...} --------------------------------------------------------- */

static int method_ctor(lua_State *L) {
    const char *name = lua_tostring(L, lua_upvalueindex(1));
    lua_newtable(L);
    if (lua_istable(L, 1)) {
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_settable(L, -4);
        }
    } else if (!lua_isnoneornil(L, 1)) {
        return luaL_error(L, "sk.method.%s: options must be a table", name);
    }
    lua_pushstring(L, name);
    lua_setfield(L, -2, "method");
    luaL_setmetatable(L, SPEC_MT);
    /* validate now, so a typo fails where it was written */
    cJSON *j = sk_lua_to_json(L, -1);
    SkMethodConfig c;
    SkError err;
    int rc = sk_method_config_from_json(j, &c, &err);
    cJSON_Delete(j);
    if (rc != 0) return sk_lua_error(L, &err);
    return 1;
}

/* ---- helpers ------------------------------------------------------------------------- */

static void push_metrics(lua_State *L, const SkMetrics *m) {
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, m->n), lua_setfield(L, -2, "n");
    if (isfinite(m->loss)) lua_pushnumber(L, m->loss), lua_setfield(L, -2, "loss");
    if (m->regression) {
        lua_pushnumber(L, m->pearson), lua_setfield(L, -2, "pearson");
        lua_pushnumber(L, m->spearman), lua_setfield(L, -2, "spearman");
        lua_pushnumber(L, m->mse), lua_setfield(L, -2, "mse");
        return;
    }
    lua_pushnumber(L, m->accuracy), lua_setfield(L, -2, "accuracy");
    lua_pushnumber(L, m->f1), lua_setfield(L, -2, "f1");
    lua_pushnumber(L, m->mcc), lua_setfield(L, -2, "mcc");
    int C = m->n_classes;
    lua_createtable(L, C, 0);
    for (int g = 0; g < C; g++) {
        lua_createtable(L, C, 0);
        for (int p = 0; p < C; p++) lua_pushinteger(L, m->confusion[g * C + p]), lua_rawseti(L, -2, p + 1);
        lua_rawseti(L, -2, g + 1);
    }
    lua_setfield(L, -2, "confusion");
}

static cJSON *method_json(lua_State *L, int idx, SkMethodConfig *c, SkError *err) {
    if (!lua_istable(L, idx)) {
        sk_err(err, "method must be a table from sk.method.<name>{...}");
        return NULL;
    }
    cJSON *j = sk_lua_to_json(L, idx);
    if (sk_method_config_from_json(j, c, err) != 0) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static int head_config(lua_State *L, int idx, const SkDataset *ds, SkHeadConfig *hc, SkError *err) {
    cJSON *j = lua_istable(L, idx) ? sk_lua_to_json(L, idx) : cJSON_CreateObject();
    if (!cJSON_GetObjectItem(j, "n_classes") && !cJSON_GetObjectItem(j, "words"))
        cJSON_AddNumberToObject(j, "n_classes", ds->regression ? 1 : ds->n_labels);
    if (ds->regression && !cJSON_GetObjectItem(j, "regression")) cJSON_AddBoolToObject(j, "regression", 1);
    int rc = sk_head_config_from_json(j, hc, err);
    cJSON_Delete(j);
    return rc;
}

static LuaRun *push_run(lua_State *L, int model_idx) {
    LuaRun *r = lua_newuserdatauv(L, sizeof *r, 2);
    memset(r, 0, sizeof *r);
    luaL_setmetatable(L, RUN_MT);
    lua_pushvalue(L, model_idx);
    lua_setiuservalue(L, -2, 1);
    return r;
}

static void set_labels(LuaRun *r, const SkDataset *ds) {
    r->regression = ds->regression;
    r->n_labels = ds->n_labels;
    r->labels = calloc((size_t)(ds->n_labels ? ds->n_labels : 1), sizeof(char *));
    for (int i = 0; r->labels && i < ds->n_labels; i++) r->labels[i] = strdup(ds->labels[i]);
}


/* ---- sk.train{...} ------------------------------------------------------------------------ */

typedef struct {
    lua_State *L;
    int fn;          /* stack index of on_step, or 0 */
    bool failed;     /* the callback raised an error (message on the stack top) */
    Progress progress;
    int steps;
    const SkLuaObserver *obs; /* the workbench, when it runs the script */
    void *obs_run;
} StepCtx;

static int on_step(void *vctx, const SkHistoryEntry *ev) {
    StepCtx *c = vctx;
    if (c->obs && c->obs_run && c->obs->step(c->obs->ctx, c->obs_run, ev)) return 1;
    if (!c->fn) {
        char what[64];
        snprintf(what, sizeof what, "training %d/%d", ev->step, c->steps);
        progress_update(&c->progress, what, ev->step, c->steps > 0 ? c->steps : 1);
        return 0;
    }
    lua_State *L = c->L;
    lua_pushvalue(L, c->fn);
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, ev->step), lua_setfield(L, -2, "step");
    if (!ev->evaluated || isfinite(ev->loss)) lua_pushnumber(L, ev->loss), lua_setfield(L, -2, "loss");
    lua_pushnumber(L, ev->lr), lua_setfield(L, -2, "lr");
    lua_pushnumber(L, ev->seconds), lua_setfield(L, -2, "seconds");
    if (ev->evaluated) push_metrics(L, &ev->metrics), lua_setfield(L, -2, "metrics");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        c->failed = true;
        return 1; /* error message stays on the stack */
    }
    bool stop = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return stop;
}

static void push_history(lua_State *L, const SkRunResult *res) {
    lua_createtable(L, res->n_history, 0);
    for (int i = 0; i < res->n_history; i++) {
        const SkHistoryEntry *h = &res->history[i];
        lua_createtable(L, 0, 5);
        lua_pushinteger(L, h->step), lua_setfield(L, -2, "step");
        if (isfinite(h->loss) || !h->evaluated) lua_pushnumber(L, h->loss), lua_setfield(L, -2, "loss");
        lua_pushnumber(L, h->lr), lua_setfield(L, -2, "lr");
        lua_pushnumber(L, h->seconds), lua_setfield(L, -2, "seconds");
        if (h->evaluated) push_metrics(L, &h->metrics), lua_setfield(L, -2, "metrics");
        lua_rawseti(L, -2, i + 1);
    }
}

static int l_train(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *known[] = {"model", "method", "train", "eval", "head", "steps", "batch", "accum",
                                  "lr", "warmup", "weight_decay", "clip", "seed", "eval_every",
                                  "eval_batch", "max_len", "target", "target_metric", "out", "on_step",
                                  NULL};
    sk_lua_check_options(L, 1, "sk.train", known);
    lua_getfield(L, 1, "model");
    int mi = lua_gettop(L);
    SkTokenizer *tok;
    SkModel *model = sk_lua_check_model(L, mi, &tok);
    lua_getfield(L, 1, "train");
    SkDataset *train = sk_lua_check_dataset(L, -1);
    lua_getfield(L, 1, "eval");
    SkDataset *eval = lua_isnil(L, -1) ? NULL : sk_lua_check_dataset(L, -1);
    SkTrainConfig tc;
    sk_train_config_default(&tc);
    tc.steps = sk_lua_opt_int(L, 1, "steps", tc.steps);
    tc.batch = sk_lua_opt_int(L, 1, "batch", tc.batch);
    tc.accum = sk_lua_opt_int(L, 1, "accum", tc.accum);
    tc.lr = sk_lua_opt_num(L, 1, "lr", tc.lr);
    tc.warmup = sk_lua_opt_num(L, 1, "warmup", tc.warmup);
    tc.weight_decay = sk_lua_opt_num(L, 1, "weight_decay", tc.weight_decay);
    tc.clip = sk_lua_opt_num(L, 1, "clip", tc.clip);
    tc.seed = (uint64_t)sk_lua_opt_int(L, 1, "seed", (int)tc.seed);
    tc.eval_every = sk_lua_opt_int(L, 1, "eval_every", tc.eval_every);
    tc.eval_batch = sk_lua_opt_int(L, 1, "eval_batch", tc.eval_batch);
    tc.max_len = sk_lua_opt_int(L, 1, "max_len", tc.max_len);
    tc.target = sk_lua_opt_num(L, 1, "target", 0.0f);
    lua_getfield(L, 1, "target_metric");
    if (!lua_isnil(L, -1)) snprintf(tc.target_metric, sizeof tc.target_metric, "%s", luaL_checkstring(L, -1));
    lua_pop(L, 1);
    SkError err;
    SkMethodConfig mc;
    lua_getfield(L, 1, "method");
    cJSON *mj = method_json(L, -1, &mc, &err);
    lua_pop(L, 1);
    if (!mj) return sk_lua_error(L, &err);
    cJSON_Delete(mj);
    mc.seed = tc.seed;
    lua_getfield(L, 1, "out");
    if (lua_type(L, -1) == LUA_TSTRING) snprintf(tc.out_dir, sizeof tc.out_dir, "%s", lua_tostring(L, -1));
    else if (lua_isnil(L, -1)) sk_train_default_out(tc.out_dir, sizeof tc.out_dir, sk_method_name(mc.kind));
    else if (lua_toboolean(L, -1)) return luaL_error(L, "sk.train: out must be a folder path or false");
    lua_pop(L, 1);
    SkHeadConfig hc;
    lua_getfield(L, 1, "head");
    int rc = head_config(L, -1, train, &hc, &err);
    lua_pop(L, 1);
    if (rc != 0) return sk_lua_error(L, &err);

    LuaRun *run = push_run(L, mi);
    int run_idx = lua_gettop(L);
    run->model = model, run->tok = tok;
    set_labels(run, train);
    if (!tok) return luaL_error(L, "sk.train: the model has no tokenizer");
    if (sk_method_new(model, tok, &mc, &run->method, &err) != 0) return sk_lua_error(L, &err);
    int max_b = tc.batch > tc.eval_batch ? tc.batch : tc.eval_batch;
    if (sk_head_new(sk_method_model(run->method), tok, &hc, max_b, tc.seed, &run->head, &err) != 0)
        return sk_lua_error(L, &err);

    StepCtx ctx = {.L = L, .steps = tc.steps, .obs = sk_lua_observer(L)};
    if (ctx.obs) ctx.obs_run = ctx.obs->begin(ctx.obs->ctx, sk_method_name(mc.kind), sk_method_n_params(run->method), tc.steps);
    lua_getfield(L, 1, "on_step");
    if (lua_isfunction(L, -1)) ctx.fn = lua_gettop(L);
    else lua_pop(L, 1);
    progress_init(&ctx.progress);
    tc.progress = progress_update;
    tc.progress_ctx = &ctx.progress;
    SkTask task = {.model = model, .tok = tok, .method = run->method, .head = run->head};
    SkRunResult res;
    rc = sk_train(&task, train, eval, &tc, on_step, &ctx, &res, &err);
    progress_done(&ctx.progress);
    if (ctx.obs_run)
        ctx.obs->end(ctx.obs->ctx, ctx.obs_run, rc != 0 || res.failed || ctx.failed,
                     rc != 0 ? err.msg : res.stop_reason, res.seconds, res.params);
    if (ctx.failed) {
        sk_run_result_free(&res);
        return lua_error(L); /* the callback's error */
    }
    if (rc != 0) {
        sk_run_result_free(&res);
        return sk_lua_error(L, &err);
    }
    lua_settop(L, run_idx);
    lua_createtable(L, 0, 10);
    lua_pushinteger(L, res.params), lua_setfield(L, -2, "params");
    push_history(L, &res), lua_setfield(L, -2, "history");
    if (eval && !res.failed) push_metrics(L, &res.final), lua_setfield(L, -2, "final");
    lua_pushnumber(L, res.seconds), lua_setfield(L, -2, "seconds");
    lua_pushinteger(L, res.steps_done), lua_setfield(L, -2, "steps");
    lua_pushboolean(L, res.failed), lua_setfield(L, -2, "failed");
    lua_pushstring(L, res.stop_reason), lua_setfield(L, -2, "stop_reason");
    lua_pushstring(L, sk_method_describe(run->method)), lua_setfield(L, -2, "describe");
    lua_pushstring(L, sk_method_name(mc.kind)), lua_setfield(L, -2, "method");
    if (res.out_dir[0]) lua_pushstring(L, res.out_dir), lua_setfield(L, -2, "out");
    lua_setiuservalue(L, run_idx, 2);
    sk_run_result_free(&res);
    return 1;
}

/* ---- the Run userdata ------------------------------------------------------------------- */

static LuaRun *check_run(lua_State *L, int idx) {
    LuaRun *r = luaL_checkudata(L, idx, RUN_MT);
    if (!r->method) luaL_error(L, "run has no trained method");
    return r;
}

static int run_gc(lua_State *L) {
    LuaRun *r = luaL_checkudata(L, 1, RUN_MT);
    sk_head_free(r->head);
    sk_method_free(r->method);
    for (int i = 0; r->labels && i < r->n_labels; i++) free(r->labels[i]);
    free(r->labels);
    memset(r, 0, sizeof *r);
    return 0;
}

static int run_save(lua_State *L) {
    LuaRun *r = check_run(L, 1);
    const char *path = luaL_checkstring(L, 2);
    SkTask t = {.model = r->model, .tok = r->tok, .method = r->method, .head = r->head};
    SkError err;
    if (sk_adapter_save(path, &t, (const char *const *)r->labels, r->n_labels, &err) != 0) return sk_lua_error(L, &err);
    return 0;
}

static int run_predict(lua_State *L) {
    LuaRun *r = check_run(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    int n = (int)luaL_len(L, 2);
    SkDataset ds = {0};
    snprintf(ds.source, sizeof ds.source, "predict");
    ds.regression = r->regression;
    if (!r->regression && sk_data_set_labels(&ds, (const char *const *)r->labels, r->n_labels) != 0)
        return luaL_error(L, "out of memory");
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, 2, i);
        const char *text = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!text) {
            sk_data_free(&ds);
            return luaL_error(L, "run:predict: item %d is not a string", i);
        }
        sk_data_add(&ds, text, NULL, 0, 0);
        lua_pop(L, 1);
    }
    int C = sk_head_n_outputs(r->head);
    int *pred = calloc((size_t)(n ? n : 1), sizeof *pred);
    float *probs = calloc((size_t)(n ? n : 1) * C, sizeof *probs);
    SkMetrics m;
    SkError err;
    SkTask t = {.model = r->model, .tok = r->tok, .method = r->method, .head = r->head};
    int rc = n ? sk_evaluate(&t, &ds, 32, 128, &m, pred, probs, &err) : 0;
    sk_data_free(&ds);
    if (rc != 0) {
        free(pred), free(probs);
        return sk_lua_error(L, &err);
    }
    lua_createtable(L, n, 0);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        if (r->regression) {
            lua_pushnumber(L, probs[i]);
            lua_rawseti(L, -3, i + 1);
            continue;
        }
        lua_pushinteger(L, pred[i] + 1);
        lua_rawseti(L, -3, i + 1);
        lua_createtable(L, C, 0);
        for (int c = 0; c < C; c++) lua_pushnumber(L, probs[(size_t)i * C + c]), lua_rawseti(L, -2, c + 1);
        lua_rawseti(L, -2, i + 1);
    }
    free(pred), free(probs);
    return 2;
}

static int evaluate_with(lua_State *L, SkModel *model, SkTokenizer *tok, SkMethod *me, SkHead *head,
                         SkDataset *ds) {
    SkTask t = {.model = model, .tok = tok, .method = me, .head = head};
    SkMetrics m;
    SkError err;
    if (sk_evaluate(&t, ds, 32, 128, &m, NULL, NULL, &err) != 0) return sk_lua_error(L, &err);
    push_metrics(L, &m);
    return 1;
}

static int run_evaluate(lua_State *L) {
    LuaRun *r = check_run(L, 1);
    return evaluate_with(L, r->model, r->tok, r->method, r->head, sk_lua_check_dataset(L, 2));
}

static int run_index(lua_State *L) {
    luaL_checkudata(L, 1, RUN_MT);
    const char *k = luaL_checkstring(L, 2);
    if (!strcmp(k, "save")) return lua_pushcfunction(L, run_save), 1;
    if (!strcmp(k, "predict")) return lua_pushcfunction(L, run_predict), 1;
    if (!strcmp(k, "evaluate")) return lua_pushcfunction(L, run_evaluate), 1;
    if (!strcmp(k, "labels")) {
        LuaRun *r = luaL_checkudata(L, 1, RUN_MT);
        lua_createtable(L, r->n_labels, 0);
        for (int i = 0; i < r->n_labels; i++) lua_pushstring(L, r->labels[i]), lua_rawseti(L, -2, i + 1);
        return 1;
    }
    lua_getiuservalue(L, 1, 2);
    if (!lua_istable(L, -1)) return 0;
    lua_getfield(L, -1, k);
    return 1;
}

/* ---- sk.evaluate{model=, method=spec or run, data=, head=, batch=, on_batch=} -------------- */

typedef struct {
    lua_State *L;
    int fn;      /* stack index of on_batch */
    bool failed; /* on_batch raised an error (left on the stack) */
} EvalHook;

/* on_batch(done, total, correct) after each batch (shortest examples first); returning true stops */
static int eval_hook(void *ctx, int done, int total, int correct) {
    EvalHook *h = ctx;
    lua_pushvalue(h->L, h->fn);
    lua_pushinteger(h->L, done), lua_pushinteger(h->L, total), lua_pushinteger(h->L, correct);
    if (lua_pcall(h->L, 3, 1, 0) != LUA_OK) {
        h->failed = true;
        return 1;
    }
    int stop = lua_toboolean(h->L, -1);
    lua_pop(h->L, 1);
    return stop;
}

static int l_evaluate(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *known[] = {"model", "method", "data", "head", "batch", "on_batch", NULL};
    sk_lua_check_options(L, 1, "sk.evaluate", known);
    lua_getfield(L, 1, "batch");
    lua_Integer batch = luaL_optinteger(L, -1, 32);
    if (batch < 1 || batch > 4096) return luaL_error(L, "sk.evaluate: batch must be 1..4096");
    lua_getfield(L, 1, "on_batch");
    EvalHook hook = {.L = L, .fn = lua_gettop(L)};
    bool has_hook = lua_isfunction(L, -1);
    if (!has_hook && !lua_isnil(L, -1)) return luaL_error(L, "sk.evaluate: on_batch must be a function");
    lua_getfield(L, 1, "model");
    SkTokenizer *tok;
    SkModel *model = sk_lua_check_model(L, -1, &tok);
    lua_getfield(L, 1, "data");
    SkDataset *ds = sk_lua_check_dataset(L, -1);
    lua_getfield(L, 1, "method");
    if (luaL_testudata(L, -1, RUN_MT)) {
        LuaRun *r = check_run(L, -1);
        return evaluate_with(L, r->model, r->tok, r->method, r->head, ds);
    }
    SkMethodConfig mc;
    SkError err;
    cJSON *mj = method_json(L, -1, &mc, &err);
    if (!mj) return sk_lua_error(L, &err);
    cJSON_Delete(mj);
    SkHeadConfig hc;
    lua_getfield(L, 1, "head");
    if (head_config(L, -1, ds, &hc, &err) != 0) return sk_lua_error(L, &err);
    if (hc.kind == SK_HEAD_LINEAR && mc.kind != SK_M_FULL)
        fprintf(stderr, "sk.evaluate: note: an untrained linear head scores at chance; use a "
                        "verbalizer head for zero-shot scores\n");
    SkMethod *me = NULL;
    SkHead *head = NULL;
    if (sk_method_new(model, tok, &mc, &me, &err) != 0) return sk_lua_error(L, &err);
    if (sk_head_new(sk_method_model(me), tok, &hc, (int)batch, mc.seed, &head, &err) != 0) {
        sk_method_free(me);
        return sk_lua_error(L, &err);
    }
    SkTask t = {.model = model, .tok = tok, .method = me, .head = head};
    SkMetrics m;
    int rc = sk_evaluate_progress(&t, ds, (int)batch, 128, &m, NULL, NULL, has_hook ? eval_hook : NULL, &hook, &err);
    sk_head_free(head);
    sk_method_free(me);
    if (hook.failed) return lua_error(L);
    if (rc == 1) return lua_pushnil(L), 1; /* stopped by on_batch */
    if (rc != 0) return sk_lua_error(L, &err);
    push_metrics(L, &m);
    return 1;
}

/* ---- sk.load_adapter(model, path) ---------------------------------------------------------- */

static int l_load_adapter(lua_State *L) {
    SkTokenizer *tok;
    SkModel *model = sk_lua_check_model(L, 1, &tok);
    const char *path = luaL_checkstring(L, 2);
    LuaRun *r = push_run(L, 1);
    r->model = model, r->tok = tok;
    SkError err;
    if (sk_adapter_load(path, model, tok, 32, &r->method, &r->head, &r->labels, &r->n_labels, &err) != 0)
        return sk_lua_error(L, &err);
    r->regression = sk_head_config(r->head)->regression;
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, sk_method_n_params(r->method)), lua_setfield(L, -2, "params");
    lua_pushstring(L, sk_method_describe(r->method)), lua_setfield(L, -2, "describe");
    lua_pushstring(L, sk_method_name(sk_method_config(r->method)->kind)), lua_setfield(L, -2, "method");
    lua_newtable(L), lua_setfield(L, -2, "history");
    lua_setiuservalue(L, -2, 2);
    return 1;
}

/* sk.default_lr("sk_prefix") -> the engine's starting learning rate for a method */
static int l_default_lr(lua_State *L) {
    SkMethodKind k;
    const char *name = luaL_checkstring(L, 1);
    if (sk_method_kind_parse(name, &k) != 0) return luaL_error(L, "sk.default_lr: unknown method \"%s\"", name);
    char buf[32]; /* the float as written in the engine (3e-4, not 0.00030000001) */
    snprintf(buf, sizeof buf, "%g", sk_method_default_lr(k));
    lua_pushnumber(L, strtod(buf, NULL));
    return 1;
}

/* One method's numbers for sk.claims, or absent when the field is nil. */
static SkMethodResult method_result(lua_State *L, const char *method) {
    SkMethodResult r = {0};
    if (lua_getfield(L, 1, method) == LUA_TTABLE) {
        static const char *const keys[] = {"params", "steps_to_target", "accuracy", "ms_per_step"};
        double *dst[] = {&r.params, &r.steps_to_target, &r.accuracy, &r.ms_per_step};
        static const char *const known[] = {"params", "steps_to_target", "accuracy", "ms_per_step", NULL};
        r.present = true;
        r.steps_to_target = -1;
        char fn[64];
        snprintf(fn, sizeof fn, "sk.claims: %s", method);
        sk_lua_check_options(L, lua_gettop(L), fn, known);
        for (int k = 0; k < 4; k++) {
            int t = lua_getfield(L, -1, keys[k]);
            if (t == LUA_TNUMBER) *dst[k] = lua_tonumber(L, -1);
            else if (t != LUA_TNIL || k != 1) /* steps_to_target nil: not reached */
                luaL_error(L, "sk.claims: %s.%s must be a number", method, keys[k]);
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "sk.claims: %s must be a table", method);
    }
    lua_pop(L, 1);
    return r;
}

/* sk.claims{sk_prefix = {params, steps_to_target, accuracy, ms_per_step}, prefix_tuning = ...,
 * prompt_tuning = ...} -> {{claim = n, holds = true|false|nil, text = "claim n: ..."}, x4}:
 * the engine's rules, the same the workbench's compare view applies */
static int l_claims(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    for (lua_pushnil(L); lua_next(L, 1); lua_pop(L, 1))
        if (lua_type(L, -2) != LUA_TSTRING || (strcmp(lua_tostring(L, -2), "sk_prefix") &&
                                               strcmp(lua_tostring(L, -2), "prefix_tuning") &&
                                               strcmp(lua_tostring(L, -2), "prompt_tuning")))
            return luaL_error(L, "sk.claims: unknown method \"%s\" (sk_prefix, prefix_tuning, prompt_tuning)",
                              lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
    SkMethodResult sk = method_result(L, "sk_prefix"), pre = method_result(L, "prefix_tuning"),
                   pro = method_result(L, "prompt_tuning");
    SkClaims c;
    sk_claims_judge(&sk, &pre, &pro, &c);
    lua_createtable(L, 4, 0);
    for (int k = 0; k < 4; k++) {
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, k + 1), lua_setfield(L, -2, "claim");
        if (c.holds[k] >= 0) lua_pushboolean(L, c.holds[k]), lua_setfield(L, -2, "holds");
        lua_pushstring(L, c.text[k]), lua_setfield(L, -2, "text");
        lua_rawseti(L, -2, k + 1);
    }
    return 1;
}

void sk_lua_train_register(lua_State *L) {
    luaL_newmetatable(L, RUN_MT);
    lua_pushcfunction(L, run_index), lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, run_gc), lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, SPEC_MT);
    lua_pop(L, 1);
    lua_newtable(L);
    for (int k = 0; k < SK_M_COUNT; k++) {
        lua_pushstring(L, sk_method_name((SkMethodKind)k));
        lua_pushcclosure(L, method_ctor, 1);
        lua_setfield(L, -2, sk_method_name((SkMethodKind)k));
    }
    lua_setfield(L, -2, "method");
    lua_pushcfunction(L, l_train), lua_setfield(L, -2, "train");
    lua_pushcfunction(L, l_evaluate), lua_setfield(L, -2, "evaluate");
    lua_pushcfunction(L, l_load_adapter), lua_setfield(L, -2, "load_adapter");
    lua_pushcfunction(L, l_default_lr), lua_setfield(L, -2, "default_lr");
    lua_pushcfunction(L, l_claims), lua_setfield(L, -2, "claims");
}
