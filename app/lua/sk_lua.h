/* sk_lua.h - the Lua module `sk`: a thin binding over the engine's C API. */
#ifndef SK_LUA_H
#define SK_LUA_H

#include <lauxlib.h>
#include <lua.h>

#include "sk_core.h"

/* Opens `sk` into L: sets the global `sk` and package.loaded.sk. */
int sk_lua_open(lua_State *L);

/* internal: registration of the userdata types */
void sk_lua_tensor_register(lua_State *L);
void sk_lua_model_register(lua_State *L);
/* Pushes a new tensor userdata that takes ownership of t's data. */
void sk_lua_push_tensor(lua_State *L, SkTensor *t);
int sk_lua_model_load(lua_State *L);
int sk_lua_load_npy(lua_State *L);
/* The model userdata at idx (raises a Lua error otherwise); tok may be NULL. */
struct SkModel;
struct SkTokenizer;
struct SkModel *sk_lua_check_model(lua_State *L, int idx, struct SkTokenizer **tok);
/* Converts the Lua value at idx (tables, strings, numbers, booleans) to JSON. */
struct cJSON *sk_lua_to_json(lua_State *L, int idx);
void sk_lua_train_register(lua_State *L);  /* sk.method, sk.train, sk.evaluate, sk.load_adapter */
void sk_lua_data_register(lua_State *L);   /* sk.data */
void sk_lua_lm_register(lua_State *L);     /* sk.new_model, sk.pretrain */
/* Option k of the table at t, or def when absent; a value of the wrong type is a Lua
 * error naming the option. */
/* Raises "FN: unknown option "x"" for a string key of table t not in known (NULL-ended):
 * a misspelt option is an error, never silently ignored. */
int sk_lua_check_options(lua_State *L, int t, const char *fn, const char *const *known);
int sk_lua_opt_int(lua_State *L, int t, const char *k, int def);
float sk_lua_opt_num(lua_State *L, int t, const char *k, float def);
/* Someone watching sk.train (the workbench charts the runs of a script it runs). begin
 * returns a handle for the run (or NULL); step returns nonzero to stop training. */
struct SkHistoryEntry;
typedef struct SkLuaObserver {
    void *ctx;
    void *(*begin)(void *ctx, const char *method, int64_t params, int steps);
    int (*step)(void *ctx, void *run, const struct SkHistoryEntry *ev);
    void (*end)(void *ctx, void *run, bool failed, const char *reason, double seconds, int64_t params);
} SkLuaObserver;
void sk_lua_set_observer(lua_State *L, const SkLuaObserver *obs); /* obs outlives L */
const SkLuaObserver *sk_lua_observer(lua_State *L);
/* A message handler for lua_pcall: the error with a traceback. */
int sk_lua_traceback(lua_State *L);
/* Raises a Lua error with the engine's message. */
int sk_lua_error(lua_State *L, const SkError *err);

#endif
