/* sk_lua_model.c - sk.load_model and the Model / Tokenizer userdata.
 *   m.config, m.tokenizer, m:logits(ids), m:hidden(ids)
 *   tok:encode(text [, {special = bool}]), tok:decode(ids), tok:piece(id) */
#include <stdlib.h>
#include <string.h>

#include "lua/sk_lua.h"
#include "progress.h"
#include "sk_model.h"
#include "sk_tokenizer.h"

#define MODEL_MT "sk.Model"
#define TOKENIZER_MT "sk.Tokenizer"

typedef struct {
    SkModel *model;
    SkTokenizer *tok; /* NULL when the directory has no tokenizer */
} LuaModel;

typedef struct {
    SkTokenizer *tok; /* owned by the model; the userdata keeps the model alive */
} LuaTokenizer;

static LuaModel *check_model(lua_State *L, int idx) {
    LuaModel *m = luaL_checkudata(L, idx, MODEL_MT);
    if (!m->model) luaL_error(L, "model has been freed");
    return m;
}

SkModel *sk_lua_check_model(lua_State *L, int idx, SkTokenizer **tok) {
    LuaModel *m = check_model(L, idx);
    if (tok) *tok = m->tok;
    return m->model;
}

static void push_config(lua_State *L, const SkModel *m) {
    const SkModelConfig *c = sk_model_config(m);
    lua_createtable(L, 0, 12);
    lua_pushstring(L, c->arch), lua_setfield(L, -2, "arch");
    lua_pushinteger(L, c->n_layer), lua_setfield(L, -2, "n_layer");
    lua_pushinteger(L, c->d_model), lua_setfield(L, -2, "d_model");
    lua_pushinteger(L, c->n_head), lua_setfield(L, -2, "n_head");
    lua_pushinteger(L, c->n_kv_head), lua_setfield(L, -2, "n_kv_head");
    lua_pushinteger(L, c->head_dim), lua_setfield(L, -2, "head_dim");
    lua_pushinteger(L, c->d_ff), lua_setfield(L, -2, "d_ff");
    lua_pushinteger(L, c->vocab_size), lua_setfield(L, -2, "vocab_size");
    lua_pushinteger(L, c->max_seq), lua_setfield(L, -2, "max_seq");
    lua_pushinteger(L, c->n_params), lua_setfield(L, -2, "n_params");
    lua_pushstring(L, c->dtype), lua_setfield(L, -2, "dtype");
    lua_pushstring(L, sk_model_dir(m)), lua_setfield(L, -2, "path");
}

/* Wraps an engine model (and its tokenizer, may be NULL) in a new userdata. */
int sk_lua_push_model(lua_State *L, SkModel *model, SkTokenizer *tok);
int sk_lua_push_model(lua_State *L, SkModel *model, SkTokenizer *tok) {
    LuaModel *u = lua_newuserdatauv(L, sizeof *u, 2);
    u->model = model, u->tok = tok;
    luaL_setmetatable(L, MODEL_MT);
    push_config(L, u->model);
    lua_setiuservalue(L, -2, 1);
    if (u->tok) {
        LuaTokenizer *t = lua_newuserdatauv(L, sizeof *t, 1);
        t->tok = u->tok;
        luaL_setmetatable(L, TOKENIZER_MT);
        lua_pushvalue(L, -2);
        lua_setiuservalue(L, -2, 1);
    } else {
        lua_pushboolean(L, 0);
    }
    lua_setiuservalue(L, -2, 2);
    return 1;
}

int sk_lua_model_load(lua_State *L) {
    const char *dir = luaL_checkstring(L, 1);
    SkError err;
    SkModel *model;
    SkTokenizer *tok = NULL;
    Progress pr;
    progress_init(&pr);
    int rc = sk_model_load_progress(dir, progress_update, &pr, &model, &err);
    progress_done(&pr);
    if (rc != 0) return sk_lua_error(L, &err);
    if (sk_tokenizer_load(dir, &tok, &err) != 0) tok = NULL;
    else if (sk_tokenizer_vocab_size(tok) > sk_model_config(model)->vocab_size) {
        int tv = sk_tokenizer_vocab_size(tok), mv = sk_model_config(model)->vocab_size;
        sk_tokenizer_free(tok);
        sk_model_free(model);
        return luaL_error(L, "%s: tokenizer has %d tokens but config.json vocab_size is %d", dir, tv, mv);
    }
    return sk_lua_push_model(L, model, tok);
}

static int model_gc(lua_State *L) {
    LuaModel *m = luaL_checkudata(L, 1, MODEL_MT);
    sk_tokenizer_free(m->tok);
    sk_model_free(m->model);
    m->tok = NULL;
    m->model = NULL;
    return 0;
}

/* Reads a Lua array of 0-based token ids. */
static SkIds check_ids(lua_State *L, int idx, int vocab, int max_len) {
    luaL_checktype(L, idx, LUA_TTABLE);
    SkIds ids = {0};
    lua_Integer n = luaL_len(L, idx);
    if (n < 1) luaL_error(L, "token id list is empty");
    if (n > max_len) luaL_error(L, "%d tokens exceed the model's %d positions", (int)n, max_len);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        int ok;
        lua_Integer v = lua_tointegerx(L, -1, &ok);
        lua_pop(L, 1);
        if (!ok || v < 0 || v >= vocab) {
            sk_ids_free(&ids);
            luaL_error(L, "token %d is not an id in 0..%d", (int)i, vocab - 1);
        }
        sk_ids_push(&ids, (int32_t)v);
    }
    return ids;
}

/* Runs the model on one sequence; logits if want_logits, else final hidden states. */
static int model_run(lua_State *L, bool want_logits) {
    LuaModel *m = check_model(L, 1);
    const SkModelConfig *c = sk_model_config(m->model);
    SkIds ids = check_ids(L, 2, c->vocab_size, c->max_seq);
    SkError err;
    SkActs *acts = NULL;
    SkActsShape shape = {.B = 1, .T = ids.n};
    SkBatch batch = {.B = 1, .T = ids.n, .ids = ids.ids};
    SkTensor out = {0};
    int64_t dims[2] = {ids.n, want_logits ? c->vocab_size : c->d_model};
    int rc = sk_acts_new(m->model, &shape, &acts, &err);
    if (rc == 0) rc = sk_model_forward(m->model, acts, &batch, NULL, &err);
    if (rc == 0) rc = sk_tensor_alloc(&out, 2, dims, &err);
    if (rc == 0) {
        if (want_logits) sk_model_lm_logits(m->model, sk_acts_hidden(acts), ids.n, out.data);
        else memcpy(out.data, sk_acts_hidden(acts), out.numel * sizeof(float));
    }
    sk_acts_free(acts);
    sk_ids_free(&ids);
    if (rc != 0) {
        sk_tensor_free(&out);
        return sk_lua_error(L, &err);
    }
    sk_lua_push_tensor(L, &out);
    return 1;
}

/* m:save(dir [, {dtype = "F32"|"F16"|"BF16"}]): config.json, model.safetensors, tokenizer.json */
static int model_save(lua_State *L) {
    LuaModel *m = check_model(L, 1);
    const char *dir = luaL_checkstring(L, 2);
    const char *dtype = "F32";
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "dtype");
        if (!lua_isnil(L, -1)) dtype = luaL_checkstring(L, -1);
        lua_pop(L, 1);
    }
    SkError err;
    if (sk_model_save(m->model, dir, dtype, &err) != 0) return sk_lua_error(L, &err);
    if (m->tok && sk_tokenizer_save(m->tok, dir, &err) != 0) return sk_lua_error(L, &err);
    return 0;
}

/* m:generate(prompt [, {max_tokens, temperature, top_k, top_p, seed, stop, on_token}])
 * prompt: text or a list of ids. Returns the generated text and its ids. */
typedef struct {
    lua_State *L;
    SkTokenizer *tok;
    int fn;
    bool failed; /* on_token raised an error (message on the stack top) */
} GenCtx;

static int gen_token(void *vctx, int32_t id) {
    GenCtx *c = vctx;
    if (!c->fn) return 0;
    char buf[1024];
    int n = c->tok ? sk_tokenizer_token_bytes(c->tok, id, buf, sizeof buf) : 0;
    lua_pushvalue(c->L, c->fn);
    lua_pushlstring(c->L, buf, n > 0 ? (size_t)n : 0);
    lua_pushinteger(c->L, id);
    /* protected: an error must not jump over the engine's cleanup */
    if (lua_pcall(c->L, 2, 1, 0) != LUA_OK) {
        c->failed = true;
        return 1;
    }
    int stop = lua_toboolean(c->L, -1);
    lua_pop(c->L, 1);
    return stop;
}

static int model_generate(lua_State *L) {
    LuaModel *m = check_model(L, 1);
    const SkModelConfig *c = sk_model_config(m->model);
    SkIds ids = {0};
    SkError err;
    if (lua_type(L, 2) == LUA_TSTRING) {
        if (!m->tok) return luaL_error(L, "generate: the model has no tokenizer; pass token ids");
        size_t len;
        const char *text = lua_tolstring(L, 2, &len);
        if (sk_tokenizer_encode(m->tok, text, len, true, &ids, &err) != 0) return sk_lua_error(L, &err);
        if (ids.n == 0 && sk_tokenizer_bos(m->tok) >= 0) sk_ids_push(&ids, sk_tokenizer_bos(m->tok));
    } else {
        ids = check_ids(L, 2, c->vocab_size, c->max_seq);
    }
    SkGenerateOptions o = {.max_tokens = 64, .temperature = 0.0f, .top_k = 0, .top_p = 1.0f, .seed = 1,
                           .stop_id = m->tok ? sk_tokenizer_eos(m->tok) : -1};
    GenCtx ctx = {.L = L, .tok = m->tok};
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "max_tokens");
        o.max_tokens = (int)luaL_optinteger(L, -1, o.max_tokens);
        lua_getfield(L, 3, "temperature");
        o.temperature = (float)luaL_optnumber(L, -1, o.temperature);
        lua_getfield(L, 3, "top_k");
        o.top_k = (int)luaL_optinteger(L, -1, o.top_k);
        lua_getfield(L, 3, "top_p");
        o.top_p = (float)luaL_optnumber(L, -1, o.top_p);
        lua_getfield(L, 3, "seed");
        o.seed = (uint64_t)luaL_optinteger(L, -1, (lua_Integer)o.seed);
        lua_getfield(L, 3, "stop");
        if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) o.stop_id = -1;
        lua_pop(L, 6);
        lua_getfield(L, 3, "on_token");
        if (lua_isfunction(L, -1)) ctx.fn = lua_gettop(L);
        else lua_pop(L, 1);
    }
    if (o.max_tokens < 0 || o.temperature < 0 || o.top_p <= 0 || o.top_p > 1 || o.top_k < 0) {
        sk_ids_free(&ids);
        return luaL_error(L, "generate: max_tokens >= 0, temperature >= 0, 0 < top_p <= 1, top_k >= 0");
    }
    int32_t *out = malloc((size_t)(o.max_tokens + 1) * sizeof *out);
    int n_out = 0;
    int rc = out ? sk_model_generate(m->model, ids.ids, ids.n, &o, out, &n_out, gen_token, &ctx, &err)
                 : sk_err(&err, "out of memory");
    sk_ids_free(&ids);
    if (ctx.failed) {
        free(out);
        return lua_error(L); /* the callback's error */
    }
    if (rc != 0) {
        free(out);
        return sk_lua_error(L, &err);
    }
    char *text = NULL;
    size_t tlen = 0;
    if (m->tok && sk_tokenizer_decode(m->tok, out, n_out, &text, &tlen, &err) != 0) {
        free(out);
        return sk_lua_error(L, &err);
    }
    lua_pushlstring(L, text ? text : "", tlen);
    lua_createtable(L, n_out, 0);
    for (int i = 0; i < n_out; i++) lua_pushinteger(L, out[i]), lua_rawseti(L, -2, i + 1);
    free(text);
    free(out);
    return 2;
}

/* m:hold_weights("bf16" | "f16" | "f32"): how the weight matrices are held in memory
 * (16 bits halves them; from fp32 that rounds each weight). */
static int model_hold_weights(lua_State *L) {
    LuaModel *m = check_model(L, 1);
    const char *name = luaL_checkstring(L, 2);
    SkDtype dt = !strcmp(name, "bf16") ? SK_DT_BF16 : !strcmp(name, "f16") ? SK_DT_F16 : !strcmp(name, "f32") ? SK_DT_F32
                                                                                                              : SK_DT_COUNT;
    if (dt == SK_DT_COUNT) return luaL_error(L, "hold_weights: \"%s\" (bf16, f16 or f32)", name);
    SkError err;
    if (sk_model_set_dtype(m->model, dt, &err) != 0) return sk_lua_error(L, &err);
    return 0;
}

static int model_logits(lua_State *L) { return model_run(L, true); }
static int model_hidden(lua_State *L) { return model_run(L, false); }

static int model_index(lua_State *L) {
    check_model(L, 1);
    const char *key = luaL_checkstring(L, 2);
    if (!strcmp(key, "config")) {
        lua_getiuservalue(L, 1, 1);
        return 1;
    }
    if (!strcmp(key, "held")) { /* "F32", "F16", "BF16" or GGUF types ("Q4_1+Q8_0"): how the weights are held now */
        return lua_pushstring(L, sk_model_held(check_model(L, 1)->model)), 1;
    }
    if (!strcmp(key, "weight_bytes")) {
        return lua_pushinteger(L, (lua_Integer)sk_model_weight_bytes(check_model(L, 1)->model)), 1;
    }
    if (!strcmp(key, "tokenizer")) {
        lua_getiuservalue(L, 1, 2);
        if (!lua_toboolean(L, -1))
            return luaL_error(L, "%s has no tokenizer (tokenizer.json or vocab.json + merges.txt)",
                              sk_model_dir(check_model(L, 1)->model));
        return 1;
    }
    luaL_getmetatable(L, MODEL_MT);
    lua_getfield(L, -1, "methods");
    lua_getfield(L, -1, key);
    return 1;
}

/* ---- tokenizer --------------------------------------------------------------------- */

static SkTokenizer *check_tok(lua_State *L, int idx) {
    return ((LuaTokenizer *)luaL_checkudata(L, idx, TOKENIZER_MT))->tok;
}

static int tok_encode(lua_State *L) {
    SkTokenizer *t = check_tok(L, 1);
    size_t len;
    const char *text = luaL_checklstring(L, 2, &len);
    bool special = true;
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "special");
        if (!lua_isnil(L, -1)) special = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    SkIds ids = {0};
    SkError err;
    if (sk_tokenizer_encode(t, text, len, special, &ids, &err) != 0) {
        sk_ids_free(&ids);
        return sk_lua_error(L, &err);
    }
    lua_createtable(L, ids.n, 0);
    for (int i = 0; i < ids.n; i++) {
        lua_pushinteger(L, ids.ids[i]);
        lua_rawseti(L, -2, i + 1);
    }
    sk_ids_free(&ids);
    return 1;
}

static int tok_decode(lua_State *L) {
    SkTokenizer *t = check_tok(L, 1);
    SkIds ids = check_ids(L, 2, sk_tokenizer_vocab_size(t), 1 << 30);
    char *out;
    size_t len;
    SkError err;
    int rc = sk_tokenizer_decode(t, ids.ids, ids.n, &out, &len, &err);
    sk_ids_free(&ids);
    if (rc != 0) return sk_lua_error(L, &err);
    lua_pushlstring(L, out, len);
    free(out);
    return 1;
}

/* tok:piece(id) -> the bytes this token stands for */
static int tok_piece(lua_State *L) {
    SkTokenizer *t = check_tok(L, 1);
    lua_Integer id = luaL_checkinteger(L, 2);
    char buf[1024];
    int n = sk_tokenizer_token_bytes(t, (int32_t)id, buf, sizeof buf);
    if (n < 0) return luaL_error(L, "token id %d is not in the vocabulary", (int)id);
    lua_pushlstring(L, buf, (size_t)n);
    return 1;
}

/* tok:chat_wrap(prompt, template) -> the prompt and template inside the chat template's
 * user turn, the assistant's turn opened after them (what the workbench's ^O does) */
static int tok_chat_wrap(lua_State *L) {
    SkTokenizer *t = check_tok(L, 1);
    const char *prompt = luaL_optstring(L, 2, ""), *templ = luaL_optstring(L, 3, "");
    char before[512], after[256];
    SkError err;
    if (sk_tokenizer_chat_wrap(t, before, sizeof before, after, sizeof after, &err) != 0) return sk_lua_error(L, &err);
    lua_pushfstring(L, "%s%s", before, prompt);
    lua_pushfstring(L, "%s%s", templ, after);
    return 2;
}

static int tok_index(lua_State *L) {
    SkTokenizer *t = check_tok(L, 1);
    const char *key = luaL_checkstring(L, 2);
    if (!strcmp(key, "vocab_size")) return lua_pushinteger(L, sk_tokenizer_vocab_size(t)), 1;
    if (!strcmp(key, "bos")) return lua_pushinteger(L, sk_tokenizer_bos(t)), 1;
    if (!strcmp(key, "eos")) return lua_pushinteger(L, sk_tokenizer_eos(t)), 1;
    if (!strcmp(key, "kind")) return lua_pushstring(L, sk_tokenizer_kind(t)), 1;
    if (!strcmp(key, "chat_template")) {
        const char *ct = sk_tokenizer_chat_template(t);
        return ct ? lua_pushstring(L, ct) : lua_pushnil(L), 1;
    }
    luaL_getmetatable(L, TOKENIZER_MT);
    lua_getfield(L, -1, "methods");
    lua_getfield(L, -1, key);
    return 1;
}

/* sk.generate(m, prompt, opts) = m:generate(prompt, opts) */
int sk_lua_generate(lua_State *L);
int sk_lua_generate(lua_State *L) { return model_generate(L); }

int sk_lua_model_perplexity(lua_State *L);

void sk_lua_model_register(lua_State *L) {
    static const luaL_Reg model_methods[] = {
        {"logits", model_logits}, {"hidden", model_hidden}, {"save", model_save},
        {"generate", model_generate}, {"perplexity", sk_lua_model_perplexity},
        {"hold_weights", model_hold_weights}, {NULL, NULL}};
    static const luaL_Reg tok_methods[] = {
        {"encode", tok_encode}, {"decode", tok_decode}, {"piece", tok_piece}, {"chat_wrap", tok_chat_wrap},
        {NULL, NULL}};
    luaL_newmetatable(L, MODEL_MT);
    luaL_newlib(L, model_methods);
    lua_setfield(L, -2, "methods");
    lua_pushcfunction(L, model_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, model_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, TOKENIZER_MT);
    luaL_newlib(L, tok_methods);
    lua_setfield(L, -2, "methods");
    lua_pushcfunction(L, tok_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}
