/* sk_lua_data.c - sk.data: data sets as userdata.
 *   sk.data.load{path=, text=, text_pair=, label=, labels={...}, regression=, skip_bad=, limit=}
 *   sk.data.from{labels={...}, rows={{text=, text_pair=, label=}, ...}}   (label: name or 1-based)
 *   #ds, ds:get(i), ds.labels, ds.skipped, ds.source, ds.regression */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lua/sk_lua.h"
#include "sk_data.h"

#define DATASET_MT "sk.Dataset"

SkDataset *sk_lua_check_dataset(lua_State *L, int idx);
SkDataset *sk_lua_check_dataset(lua_State *L, int idx) { return luaL_checkudata(L, idx, DATASET_MT); }

static SkDataset *push_dataset(lua_State *L) {
    SkDataset *ds = lua_newuserdatauv(L, sizeof *ds, 0);
    memset(ds, 0, sizeof *ds);
    luaL_setmetatable(L, DATASET_MT);
    return ds;
}

/* A column: a name, or a 1-based column number (for files without a header row). */
static const char *opt_column(lua_State *L, int t, const char *k, int *index) {
    lua_getfield(L, t, k);
    const char *s = NULL;
    if (lua_type(L, -1) == LUA_TNUMBER) {
        *index = (int)lua_tointeger(L, -1);
        if (*index < 1) luaL_error(L, "sk.data.load: column %s must be >= 1", k);
    } else if (!lua_isnil(L, -1)) {
        s = luaL_checkstring(L, -1);
    }
    lua_pop(L, 1);
    return s;
}

static const char *opt_string(lua_State *L, int t, const char *k) {
    lua_getfield(L, t, k);
    const char *s = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
    lua_pop(L, 1); /* the string stays alive in the table */
    return s;
}

static bool opt_bool(lua_State *L, int t, const char *k) {
    lua_getfield(L, t, k);
    bool b = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return b;
}

static int d_load(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const known[] = {"path", "format", "text", "text_pair", "label", "labels", "regression",
                                        "skip_bad", "limit", "header", NULL};
    sk_lua_check_options(L, 1, "sk.data.load", known);
    SkDataOptions o = {0};
    o.path = opt_string(L, 1, "path");
    if (!o.path) return luaL_error(L, "sk.data.load: path is required");
    o.format = opt_string(L, 1, "format");
    o.text = opt_column(L, 1, "text", &o.text_col);
    o.text_pair = opt_column(L, 1, "text_pair", &o.pair_col);
    o.label = opt_column(L, 1, "label", &o.label_col);
    lua_getfield(L, 1, "header");
    o.no_header = lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1);
    lua_pop(L, 1);
    o.regression = opt_bool(L, 1, "regression");
    o.skip_bad = opt_bool(L, 1, "skip_bad");
    lua_getfield(L, 1, "limit");
    o.limit = (int)luaL_optinteger(L, -1, 0);
    lua_pop(L, 1);
    const char *names[1024];
    lua_getfield(L, 1, "labels");
    if (lua_istable(L, -1)) {
        o.n_labels = (int)luaL_len(L, -1);
        if (o.n_labels > 1024) return luaL_error(L, "sk.data.load: too many labels");
        for (int i = 0; i < o.n_labels; i++) {
            lua_rawgeti(L, -1, i + 1);
            names[i] = luaL_checkstring(L, -1);
            lua_pop(L, 1);
        }
        o.labels = names;
    }
    SkDataset *ds = push_dataset(L);
    SkError err;
    if (sk_data_load(&o, ds, &err) != 0) return sk_lua_error(L, &err);
    return 1;
}

static int d_from(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    SkDataset *ds = push_dataset(L);
    int dsi = lua_gettop(L);
    ds->regression = opt_bool(L, 1, "regression");
    snprintf(ds->source, sizeof ds->source, "(table)");
    lua_getfield(L, 1, "labels");
    if (!ds->regression) {
        if (!lua_istable(L, -1)) return luaL_error(L, "sk.data.from: labels = {...} is required");
        int n = (int)luaL_len(L, -1);
        const char *names[256];
        if (n < 1 || n > 256) return luaL_error(L, "sk.data.from: 1..256 labels");
        for (int i = 0; i < n; i++) {
            lua_rawgeti(L, -1, i + 1);
            names[i] = luaL_checkstring(L, -1);
            lua_pop(L, 1);
        }
        if (sk_data_set_labels(ds, names, n) != 0) return luaL_error(L, "out of memory");
    }
    lua_pop(L, 1);
    lua_getfield(L, 1, "rows");
    luaL_checktype(L, -1, LUA_TTABLE);
    int rows = lua_gettop(L);
    lua_Integer n = luaL_len(L, rows);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, rows, i);
        int r = lua_gettop(L);
        if (!lua_istable(L, r)) return luaL_error(L, "sk.data.from: row %d is not a table", (int)i);
        const char *text = opt_string(L, r, "text"), *pair = opt_string(L, r, "text_pair");
        if (!text) return luaL_error(L, "sk.data.from: row %d has no text", (int)i);
        lua_getfield(L, r, "label");
        int label = -1;
        float target = 0;
        if (ds->regression) {
            target = (float)luaL_checknumber(L, -1);
        } else if (lua_type(L, -1) == LUA_TNUMBER) {
            label = (int)lua_tointeger(L, -1) - 1;
        } else if (lua_type(L, -1) == LUA_TSTRING) {
            for (int k = 0; k < ds->n_labels; k++)
                if (!strcmp(ds->labels[k], lua_tostring(L, -1))) label = k;
        }
        if (!ds->regression && (label < 0 || label >= ds->n_labels))
            return luaL_error(L, "sk.data.from: row %d: unknown label", (int)i);
        lua_pop(L, 2);
        if (sk_data_add(ds, text, pair, label, target) != 0) return luaL_error(L, "out of memory");
    }
    lua_settop(L, dsi);
    return 1;
}

static int d_len(lua_State *L) {
    lua_pushinteger(L, sk_lua_check_dataset(L, 1)->n);
    return 1;
}

static int d_get(lua_State *L) {
    SkDataset *ds = sk_lua_check_dataset(L, 1);
    lua_Integer i = luaL_checkinteger(L, 2);
    if (i < 1 || i > ds->n) return luaL_error(L, "dataset:get: index %d outside 1..%d", (int)i, ds->n);
    const SkExample *e = &ds->ex[i - 1];
    lua_createtable(L, 0, 4);
    lua_pushstring(L, e->text), lua_setfield(L, -2, "text");
    if (e->text_pair) lua_pushstring(L, e->text_pair), lua_setfield(L, -2, "text_pair");
    if (ds->regression) {
        lua_pushnumber(L, e->target), lua_setfield(L, -2, "label");
    } else {
        lua_pushinteger(L, e->label + 1), lua_setfield(L, -2, "label");
        lua_pushstring(L, ds->labels[e->label]), lua_setfield(L, -2, "label_name");
    }
    return 1;
}

static int d_index(lua_State *L) {
    SkDataset *ds = sk_lua_check_dataset(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (!strcmp(k, "labels")) {
        lua_createtable(L, ds->n_labels, 0);
        for (int i = 0; i < ds->n_labels; i++) lua_pushstring(L, ds->labels[i]), lua_rawseti(L, -2, i + 1);
        return 1;
    }
    if (!strcmp(k, "skipped")) return lua_pushinteger(L, ds->skipped), 1;
    if (!strcmp(k, "source")) return lua_pushstring(L, ds->source), 1;
    if (!strcmp(k, "regression")) return lua_pushboolean(L, ds->regression), 1;
    if (!strcmp(k, "get")) return lua_pushcfunction(L, d_get), 1;
    return 0;
}

static int d_gc(lua_State *L) {
    sk_data_free(sk_lua_check_dataset(L, 1));
    return 0;
}

static const char *datasets_dir(void) { return cli_datasets_dir(); }

/* Moves a dataset into a new userdata. */
static void push_moved(lua_State *L, SkDataset *src) {
    SkDataset *ds = push_dataset(L);
    *ds = *src;
    memset(src, 0, sizeof *src);
}

static int d_task(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    SkDataTask t;
    SkError err;
    if (sk_data_task_load(datasets_dir(), name, &t, &err) != 0) return sk_lua_error(L, &err);
    lua_createtable(L, 0, 8);
    lua_pushstring(L, t.name), lua_setfield(L, -2, "name");
    lua_pushstring(L, t.prompt), lua_setfield(L, -2, "prompt");
    lua_pushstring(L, t.template_text), lua_setfield(L, -2, "template");
    lua_pushstring(L, t.source), lua_setfield(L, -2, "source");
    lua_pushstring(L, t.licence), lua_setfield(L, -2, "licence");
    lua_createtable(L, t.train.n_labels, 0);
    for (int i = 0; i < t.train.n_labels; i++) lua_pushstring(L, t.train.labels[i]), lua_rawseti(L, -2, i + 1);
    lua_setfield(L, -2, "labels");
    lua_createtable(L, t.n_words, 0);
    for (int i = 0; i < t.n_words; i++) lua_pushstring(L, t.words[i]), lua_rawseti(L, -2, i + 1);
    lua_setfield(L, -2, "words");
    push_moved(L, &t.train), lua_setfield(L, -2, "train");
    push_moved(L, &t.validation), lua_setfield(L, -2, "validation");
    push_moved(L, &t.test), lua_setfield(L, -2, "test");
    sk_data_task_free(&t);
    return 1;
}

static int d_tasks(lua_State *L) {
    char **names;
    int n;
    SkError err;
    if (sk_data_task_list(datasets_dir(), &names, &n, &err) != 0) return sk_lua_error(L, &err);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, names[i]), lua_rawseti(L, -2, i + 1);
        free(names[i]);
    }
    free(names);
    return 1;
}

void sk_lua_data_register(lua_State *L) {
    luaL_newmetatable(L, DATASET_MT);
    lua_pushcfunction(L, d_index), lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, d_len), lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, d_gc), lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {{"load", d_load}, {"from", d_from}, {"task", d_task},
                                   {"tasks", d_tasks}, {NULL, NULL}};
    luaL_newlib(L, fns);
    lua_setfield(L, -2, "data"); /* into the sk table on the stack */
}
