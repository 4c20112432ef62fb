/* sk_lua_tensor.c - sk.Tensor: shape, get (1-based), save_npy; sk.load_npy. */
#include <stdio.h>
#include <string.h>

#include "lua/sk_lua.h"
#include "sk_io.h"

#define TENSOR_MT "sk.Tensor"

static SkTensor *check_tensor(lua_State *L, int idx) { return luaL_checkudata(L, idx, TENSOR_MT); }

void sk_lua_push_tensor(lua_State *L, SkTensor *t) {
    SkTensor *u = lua_newuserdatauv(L, sizeof *u, 0);
    *u = *t;
    memset(t, 0, sizeof *t);
    luaL_setmetatable(L, TENSOR_MT);
}

static int t_gc(lua_State *L) {
    sk_tensor_free(check_tensor(L, 1));
    return 0;
}

static int t_shape(lua_State *L) {
    SkTensor *t = check_tensor(L, 1);
    lua_createtable(L, t->ndim, 0);
    for (int i = 0; i < t->ndim; i++) {
        lua_pushinteger(L, t->shape[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int t_get(lua_State *L) {
    SkTensor *t = check_tensor(L, 1);
    int nargs = lua_gettop(L) - 1;
    if (nargs != t->ndim)
        return luaL_error(L, "tensor:get needs %d indices for a tensor of rank %d, got %d", t->ndim,
                          t->ndim, nargs);
    size_t off = 0;
    for (int i = 0; i < t->ndim; i++) {
        lua_Integer k = luaL_checkinteger(L, 2 + i);
        if (k < 1 || k > t->shape[i])
            return luaL_error(L, "tensor:get: index %d is %d, outside 1..%d", i + 1, (int)k,
                              (int)t->shape[i]);
        off = off * (size_t)t->shape[i] + (size_t)(k - 1);
    }
    lua_pushnumber(L, t->data[off]);
    return 1;
}

static int t_save_npy(lua_State *L) {
    SkTensor *t = check_tensor(L, 1);
    const char *path = luaL_checkstring(L, 2);
    SkError err;
    if (sk_npy_save(path, t->data, t->ndim, t->shape, &err) != 0) return sk_lua_error(L, &err);
    return 0;
}

static int t_numel(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)check_tensor(L, 1)->numel);
    return 1;
}

/* t:row(i) -> a Lua array of the i-th row of a rank-2 tensor */
static int t_row(lua_State *L) {
    SkTensor *t = check_tensor(L, 1);
    if (t->ndim != 2) return luaL_error(L, "tensor:row needs a rank-2 tensor");
    lua_Integer i = luaL_checkinteger(L, 2);
    if (i < 1 || i > t->shape[0]) return luaL_error(L, "tensor:row: row %d outside 1..%d", (int)i, (int)t->shape[0]);
    int64_t n = t->shape[1];
    lua_createtable(L, (int)n, 0);
    for (int64_t j = 0; j < n; j++) {
        lua_pushnumber(L, t->data[(size_t)(i - 1) * (size_t)n + (size_t)j]);
        lua_rawseti(L, -2, j + 1);
    }
    return 1;
}

static int t_tostring(lua_State *L) {
    SkTensor *t = check_tensor(L, 1);
    char buf[128];
    int pos = snprintf(buf, sizeof buf, "sk.Tensor[");
    for (int i = 0; i < t->ndim; i++)
        pos += snprintf(buf + pos, sizeof buf - (size_t)pos, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    snprintf(buf + pos, sizeof buf - (size_t)pos, "]");
    lua_pushstring(L, buf);
    return 1;
}

int sk_lua_load_npy(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    SkTensor t;
    SkError err;
    if (sk_npy_load(path, &t, &err) != 0) return sk_lua_error(L, &err);
    sk_lua_push_tensor(L, &t);
    return 1;
}

void sk_lua_tensor_register(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"shape", t_shape}, {"get", t_get}, {"save_npy", t_save_npy}, {"numel", t_numel},
        {"row", t_row},     {NULL, NULL},
    };
    luaL_newmetatable(L, TENSOR_MT);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, t_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, t_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}
