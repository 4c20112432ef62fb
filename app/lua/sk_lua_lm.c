/* sk_lua_lm.c - language modelling from Lua:
 *   sk.new_model{arch = "gpt2" | "llama", n_layer, d_model, n_head, n_kv_head, d_ff, max_seq,
 *                rope_theta, tokenizer = DIR, seed}
 *   sk.pretrain{model, train = FILE or ids, val = FILE or ids, steps, batch, seq, lr, warmup,
 *               weight_decay, clip, min_lr, seed, eval_every, eval_windows, checkpoint_every,
 *               out, resume, on_step}
 *   m:perplexity(FILE or ids [, {seq, windows}])  -> mean loss, perplexity */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lua/sk_lua.h"
#include "progress.h"
#include "sk_model.h"
#include "sk_tokenizer.h"
#include "sk_train.h"

int sk_lua_push_model(lua_State *L, SkModel *model, SkTokenizer *tok);

static int l_new_model(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const known[] = {"arch", "n_layer", "d_model", "n_head", "n_kv_head", "d_ff", "max_seq",
                                        "vocab_size", "rope_theta", "tokenizer", "seed", NULL};
    sk_lua_check_options(L, 1, "sk.new_model", known);
    lua_getfield(L, 1, "arch");
    const char *arch = lua_isnil(L, -1) ? "gpt2" : luaL_checkstring(L, -1);
    bool llama = !strcmp(arch, "llama");
    if (!llama && strcmp(arch, "gpt2") != 0) return luaL_error(L, "sk.new_model: arch \"%s\" (gpt2 or llama)", arch);
    lua_pop(L, 1);
    /* every option is read before the tokenizer is loaded: a bad one raises, with nothing to free */
    SkModelConfig c = {.norm_eps = llama ? 1e-6f : 1e-5f, .activation = SK_ACT_GELU_TANH, .tie_embeddings = true};
    snprintf(c.arch, sizeof c.arch, "%s", arch);
    c.n_layer = sk_lua_opt_int(L, 1, "n_layer", 6);
    c.d_model = sk_lua_opt_int(L, 1, "d_model", 256);
    c.n_head = sk_lua_opt_int(L, 1, "n_head", 8);
    c.n_kv_head = sk_lua_opt_int(L, 1, "n_kv_head", c.n_head);
    c.d_ff = sk_lua_opt_int(L, 1, "d_ff", llama ? (8 * c.d_model / 3 + 31) / 32 * 32 : 4 * c.d_model);
    c.max_seq = sk_lua_opt_int(L, 1, "max_seq", 256);
    int vocab = sk_lua_opt_int(L, 1, "vocab_size", 0), seed = sk_lua_opt_int(L, 1, "seed", 1);
    float theta = sk_lua_opt_num(L, 1, "rope_theta", 10000.0f);
    if (c.n_layer < 1 || c.d_model < 1 || c.n_head < 1 || c.d_model % c.n_head || c.max_seq < 2 || c.d_ff < 1 ||
        c.n_kv_head < 1 || c.n_head % c.n_kv_head || (!llama && c.n_kv_head != c.n_head) || !(theta > 0))
        return luaL_error(L, "sk.new_model: need n_head dividing d_model, n_kv_head dividing n_head (llama; gpt2 has "
                             "n_kv_head = n_head), max_seq >= 2, rope_theta > 0");
    c.head_dim = c.d_model / c.n_head;
    if (llama) c.rope = (SkRopeConfig){.dim = c.head_dim, .theta = theta, .max_pos = c.max_seq};
    lua_getfield(L, 1, "tokenizer");
    const char *tdir = luaL_checkstring(L, -1);
    SkTokenizer *tok;
    SkError err;
    if (sk_tokenizer_load(tdir, &tok, &err) != 0) return sk_lua_error(L, &err);
    c.vocab_size = vocab ? vocab : sk_tokenizer_vocab_size(tok);
    if (c.vocab_size < sk_tokenizer_vocab_size(tok)) {
        int tok_vocab = sk_tokenizer_vocab_size(tok);
        sk_tokenizer_free(tok);
        return luaL_error(L, "sk.new_model: vocab_size %d is below the tokenizer's %d", c.vocab_size, tok_vocab);
    }
    SkModel *m;
    if (sk_model_new_random(&c, (uint64_t)seed, &m, &err) != 0) {
        sk_tokenizer_free(tok);
        return sk_lua_error(L, &err);
    }
    return sk_lua_push_model(L, m, tok);
}

/* A text file (tokenized with the model's tokenizer) or a list of ids. */
static int32_t *token_stream(lua_State *L, int idx, SkModel *m, SkTokenizer *tok, size_t *n) {
    if (lua_type(L, idx) == LUA_TSTRING) {
        if (!tok) luaL_error(L, "the model has no tokenizer to read %s", lua_tostring(L, idx));
        char *text;
        size_t len;
        SkError err;
        if (sk_read_file(lua_tostring(L, idx), &text, &len, &err) != 0) sk_lua_error(L, &err);
        SkIds ids = {0};
        int rc = sk_tokenizer_encode(tok, text, len, false, &ids, &err);
        free(text);
        if (rc != 0) {
            sk_ids_free(&ids);
            sk_lua_error(L, &err);
        }
        *n = (size_t)ids.n;
        return ids.ids;
    }
    luaL_checktype(L, idx, LUA_TTABLE);
    size_t cnt = (size_t)luaL_len(L, idx);
    int32_t *ids = malloc((cnt ? cnt : 1) * sizeof *ids);
    if (!ids) luaL_error(L, "out of memory");
    int V = sk_model_config(m)->vocab_size;
    for (size_t i = 0; i < cnt; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        lua_Integer v = lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (v < 0 || v >= V) {
            free(ids);
            luaL_error(L, "token %d is not an id in 0..%d", (int)i + 1, V - 1);
        }
        ids[i] = (int32_t)v;
    }
    *n = cnt;
    return ids;
}

typedef struct {
    lua_State *L;
    int fn;
    bool failed;
    Progress progress;
    int steps;
} PtCtx;

static int pt_step(void *vctx, const SkHistoryEntry *h) {
    PtCtx *c = vctx;
    if (!c->fn) {
        progress_update(&c->progress, "pretraining", h->step, c->steps);
        return 0;
    }
    lua_pushvalue(c->L, c->fn);
    lua_createtable(c->L, 0, 5);
    lua_pushinteger(c->L, h->step), lua_setfield(c->L, -2, "step");
    lua_pushnumber(c->L, h->loss), lua_setfield(c->L, -2, "loss");
    lua_pushnumber(c->L, h->lr), lua_setfield(c->L, -2, "lr");
    lua_pushnumber(c->L, h->seconds), lua_setfield(c->L, -2, "seconds");
    if (h->evaluated) {
        lua_pushnumber(c->L, h->metrics.loss), lua_setfield(c->L, -2, "val_loss");
        lua_pushnumber(c->L, exp(h->metrics.loss)), lua_setfield(c->L, -2, "val_perplexity");
    }
    if (lua_pcall(c->L, 1, 1, 0) != LUA_OK) {
        c->failed = true;
        return 1;
    }
    int stop = lua_toboolean(c->L, -1);
    lua_pop(c->L, 1);
    return stop;
}

static int l_pretrain(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "model");
    SkTokenizer *tok;
    SkModel *m = sk_lua_check_model(L, -1, &tok);
    static const char *const known[] = {"model", "train", "val", "steps", "batch", "seq", "lr", "warmup",
                                        "weight_decay", "clip", "min_lr", "seed", "eval_every", "eval_windows",
                                        "checkpoint_every", "resume", "out", "on_step", NULL};
    sk_lua_check_options(L, 1, "sk.pretrain", known);
    SkPretrainConfig cfg;
    sk_pretrain_config_default(&cfg);
    cfg.steps = sk_lua_opt_int(L, 1, "steps", cfg.steps);
    cfg.batch = sk_lua_opt_int(L, 1, "batch", cfg.batch);
    cfg.seq = sk_lua_opt_int(L, 1, "seq", cfg.seq);
    cfg.lr = sk_lua_opt_num(L, 1, "lr", cfg.lr);
    cfg.warmup = sk_lua_opt_num(L, 1, "warmup", cfg.warmup);
    cfg.weight_decay = sk_lua_opt_num(L, 1, "weight_decay", cfg.weight_decay);
    cfg.clip = sk_lua_opt_num(L, 1, "clip", cfg.clip);
    cfg.min_lr = sk_lua_opt_num(L, 1, "min_lr", cfg.min_lr);
    cfg.seed = (uint64_t)sk_lua_opt_int(L, 1, "seed", (int)cfg.seed);
    cfg.eval_every = sk_lua_opt_int(L, 1, "eval_every", cfg.eval_every);
    cfg.eval_windows = sk_lua_opt_int(L, 1, "eval_windows", cfg.eval_windows);
    cfg.checkpoint_every = sk_lua_opt_int(L, 1, "checkpoint_every", cfg.checkpoint_every);
    lua_getfield(L, 1, "resume");
    cfg.resume = lua_toboolean(L, -1);
    lua_getfield(L, 1, "out");
    if (lua_type(L, -1) == LUA_TSTRING) snprintf(cfg.out_dir, sizeof cfg.out_dir, "%s", lua_tostring(L, -1));
    lua_pop(L, 2);
    size_t n_train = 0, n_val = 0;
    lua_getfield(L, 1, "train");
    int32_t *train = token_stream(L, lua_gettop(L), m, tok, &n_train);
    lua_getfield(L, 1, "val");
    int32_t *val = lua_isnil(L, -1) ? NULL : token_stream(L, lua_gettop(L), m, tok, &n_val);
    PtCtx ctx = {.L = L, .steps = cfg.steps};
    lua_getfield(L, 1, "on_step");
    if (lua_isfunction(L, -1)) ctx.fn = lua_gettop(L);
    progress_init(&ctx.progress);
    SkRunResult res;
    SkError err;
    int rc = sk_pretrain(m, train, n_train, val, n_val, &cfg, pt_step, &ctx, &res, &err);
    progress_done(&ctx.progress);
    free(train), free(val);
    if (ctx.failed) {
        sk_run_result_free(&res);
        return lua_error(L);
    }
    if (rc != 0) {
        sk_run_result_free(&res);
        return sk_lua_error(L, &err);
    }
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, res.params), lua_setfield(L, -2, "params");
    lua_pushinteger(L, res.steps_done), lua_setfield(L, -2, "steps");
    lua_pushnumber(L, res.seconds), lua_setfield(L, -2, "seconds");
    lua_pushboolean(L, res.failed), lua_setfield(L, -2, "failed");
    lua_pushstring(L, res.stop_reason), lua_setfield(L, -2, "stop_reason");
    lua_pushinteger(L, (lua_Integer)n_train), lua_setfield(L, -2, "train_tokens");
    lua_createtable(L, res.n_history, 0);
    for (int i = 0; i < res.n_history; i++) {
        const SkHistoryEntry *h = &res.history[i];
        lua_createtable(L, 0, 4);
        lua_pushinteger(L, h->step), lua_setfield(L, -2, "step");
        lua_pushnumber(L, h->loss), lua_setfield(L, -2, "loss");
        lua_pushnumber(L, h->lr), lua_setfield(L, -2, "lr");
        if (h->evaluated) {
            lua_pushnumber(L, h->metrics.loss), lua_setfield(L, -2, "val_loss");
            lua_pushnumber(L, exp(h->metrics.loss)), lua_setfield(L, -2, "val_perplexity");
        }
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "history");
    sk_run_result_free(&res);
    return 1;
}

int sk_lua_model_perplexity(lua_State *L);
int sk_lua_model_perplexity(lua_State *L) {
    SkTokenizer *tok;
    SkModel *m = sk_lua_check_model(L, 1, &tok);
    size_t n;
    int32_t *ids = token_stream(L, 2, m, tok, &n);
    int seq = 128, windows = 64;
    if (lua_istable(L, 3)) {
        seq = sk_lua_opt_int(L, 3, "seq", seq);
        windows = sk_lua_opt_int(L, 3, "windows", windows);
    }
    if (seq > sk_model_config(m)->max_seq) seq = sk_model_config(m)->max_seq;
    double loss;
    SkError err;
    int rc = sk_lm_eval(m, ids, n, seq, windows, 8, &loss, &err);
    free(ids);
    if (rc != 0) return sk_lua_error(L, &err);
    lua_pushnumber(L, loss);
    lua_pushnumber(L, exp(loss));
    return 2;
}

/* sk.tokenizer.train_bpe{files = {...} (or text = "..."), vocab_size = N,
 *                        special = {"<|endoftext|>"}, out = DIR} -> {vocab_size, merges}
 * Writes DIR/tokenizer.json. Files are read as UTF-8 text; between files the first
 * special token is placed, so no merge spans two documents. */
static int l_train_bpe(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "out");
    const char *out = luaL_checkstring(L, -1);
    int vocab = sk_lua_opt_int(L, 1, "vocab_size", 8192);
    const char *special[16];
    int n_special = 0;
    lua_getfield(L, 1, "special");
    if (lua_istable(L, -1)) {
        n_special = (int)luaL_len(L, -1);
        if (n_special > 16) return luaL_error(L, "train_bpe: at most 16 special tokens");
        for (int i = 0; i < n_special; i++) {
            lua_rawgeti(L, -1, i + 1);
            special[i] = luaL_checkstring(L, -1);
            lua_pop(L, 1);
        }
    } else {
        special[n_special++] = "<|endoftext|>";
    }
    /* the training text, gathered in C memory (a luaL_Buffer would share the stack) */
    char *all = NULL;
    size_t len = 0;
    lua_getfield(L, 1, "text");
    if (lua_type(L, -1) == LUA_TSTRING) {
        size_t n;
        const char *t = lua_tolstring(L, -1, &n);
        if (!(all = malloc(n + 1))) return luaL_error(L, "out of memory");
        memcpy(all, t, n);
        len = n;
    } else {
        lua_getfield(L, 1, "files");
        int ft = lua_gettop(L);
        if (!lua_istable(L, ft)) return luaL_error(L, "train_bpe: give files = {...} or text = \"...\"");
        lua_Integer nf = luaL_len(L, ft);
        for (lua_Integer i = 1; i <= nf; i++) {
            lua_rawgeti(L, ft, i);
            const char *path = lua_tostring(L, -1);
            if (!path) {
                free(all);
                return luaL_error(L, "train_bpe: files[%d] is not a path", (int)i);
            }
            char *text;
            size_t n;
            SkError err;
            if (sk_read_file(path, &text, &n, &err) != 0) {
                free(all);
                return sk_lua_error(L, &err);
            }
            lua_pop(L, 1);
            size_t sep = i > 1 && n_special ? strlen(special[0]) : 0;
            char *na = realloc(all, len + sep + n + 1);
            if (!na) {
                free(all), free(text);
                return luaL_error(L, "out of memory");
            }
            all = na;
            if (sep) memcpy(all + len, special[0], sep), len += sep;
            memcpy(all + len, text, n), len += n;
            free(text);
        }
    }
    const char *text = all ? all : "";
    SkTokenizer *t;
    SkError err;
    Progress pr;
    progress_init(&pr);
    int rc = sk_tokenizer_train_bpe(text, len, vocab, special, n_special, progress_update, &pr, &t, &err);
    progress_done(&pr);
    free(all);
    if (rc != 0) return sk_lua_error(L, &err);
    rc = sk_tokenizer_save(t, out, &err);
    int v = sk_tokenizer_vocab_size(t);
    sk_tokenizer_free(t);
    if (rc != 0) return sk_lua_error(L, &err);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, v), lua_setfield(L, -2, "vocab_size");
    lua_pushinteger(L, v - 256 - n_special), lua_setfield(L, -2, "merges");
    return 1;
}

void sk_lua_lm_register(lua_State *L) {
    lua_newtable(L);
    lua_pushcfunction(L, l_train_bpe), lua_setfield(L, -2, "train_bpe");
    lua_setfield(L, -2, "tokenizer");
    lua_pushcfunction(L, l_new_model), lua_setfield(L, -2, "new_model");
    lua_pushcfunction(L, l_pretrain), lua_setfield(L, -2, "pretrain");
}
