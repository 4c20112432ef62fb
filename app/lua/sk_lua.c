/* sk_lua.c - the `sk` module table and `sktune run`. */
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"
#include "lua/sk_lua.h"

int sk_lua_error(lua_State *L, const SkError *err) { return luaL_error(L, "%s", err->msg); }

int sk_lua_check_options(lua_State *L, int t, const char *fn, const char *const *known) {
    lua_pushnil(L);
    while (lua_next(L, t)) {
        bool ok = lua_type(L, -2) != LUA_TSTRING;
        for (int i = 0; !ok && known[i]; i++) ok = !strcmp(lua_tostring(L, -2), known[i]);
        if (!ok) return luaL_error(L, "%s: unknown option \"%s\"", fn, lua_tostring(L, -2));
        lua_pop(L, 1);
    }
    return 0;
}

int sk_lua_opt_int(lua_State *L, int t, const char *k, int def) {
    lua_getfield(L, t, k);
    int ok, v = def;
    if (!lua_isnil(L, -1)) {
        v = (int)lua_tointegerx(L, -1, &ok);
        if (!ok) luaL_error(L, "option %s must be an integer", k);
    }
    lua_pop(L, 1);
    return v;
}

float sk_lua_opt_num(lua_State *L, int t, const char *k, float def) {
    lua_getfield(L, t, k);
    float v = lua_isnil(L, -1) ? def : (float)luaL_checknumber(L, -1);
    lua_pop(L, 1);
    return v;
}

cJSON *sk_lua_to_json(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN: return cJSON_CreateBool(lua_toboolean(L, idx));
    case LUA_TNUMBER: return cJSON_CreateNumber(lua_tonumber(L, idx));
    case LUA_TSTRING: return cJSON_CreateString(lua_tostring(L, idx));
    case LUA_TTABLE: {
        lua_Integer n = luaL_len(L, idx);
        if (n > 0) { /* an array */
            cJSON *a = cJSON_CreateArray();
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, idx, i);
                cJSON_AddItemToArray(a, sk_lua_to_json(L, -1));
                lua_pop(L, 1);
            }
            return a;
        }
        cJSON *o = cJSON_CreateObject();
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (lua_type(L, -2) == LUA_TSTRING) {
                const char *k = lua_tostring(L, -2);
                if (lua_type(L, -1) != LUA_TFUNCTION && lua_type(L, -1) != LUA_TUSERDATA)
                    cJSON_AddItemToObject(o, k, sk_lua_to_json(L, -1));
            }
            lua_pop(L, 1);
        }
        return o;
    }
    default: return cJSON_CreateNull();
    }
}

static int sk_threads(lua_State *L) {
    lua_pushinteger(L, sk_cpu_count());
    return 1;
}

/* sk.now(): wall-clock seconds (for timing in scripts; os.clock counts CPU time) */
static int sk_now(lua_State *L) {
    lua_pushnumber(L, sk_now_seconds());
    return 1;
}

int sk_lua_generate(lua_State *L);

static const luaL_Reg SK_FUNCS[] = {
    {"load_model", sk_lua_model_load},
    {"generate", sk_lua_generate},
    {"load_npy", sk_lua_load_npy},
    {"cpu_count", sk_threads},
    {"now", sk_now},
    {NULL, NULL},
};

static int open_sk(lua_State *L) {
    luaL_newlib(L, SK_FUNCS);
    sk_lua_train_register(L);
    sk_lua_data_register(L);
    sk_lua_lm_register(L);
    lua_pushstring(L, SKTUNE_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}

int sk_lua_open(lua_State *L) {
    sk_lua_tensor_register(L);
    sk_lua_model_register(L);
    luaL_requiref(L, "sk", open_sk, 1);
    lua_pop(L, 1);
    return 0;
}

int sk_lua_traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (!msg) msg = luaL_tolstring(L, 1, NULL);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static const char OBSERVER_KEY = 0; /* its address is the registry key */

void sk_lua_set_observer(lua_State *L, const SkLuaObserver *obs) {
    lua_pushlightuserdata(L, (void *)obs);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &OBSERVER_KEY);
}

const SkLuaObserver *sk_lua_observer(lua_State *L) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &OBSERVER_KEY);
    const SkLuaObserver *o = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return o;
}

int cli_run(int argc, char **argv) {
    if (argc < 1 || argv[0][0] == '-') {
        fprintf(stderr, "usage: sktune run SCRIPT.lua [ARGS...]\n");
        return 2;
    }
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "sktune run: cannot create a Lua state (out of memory)\n");
        return 1;
    }
    luaL_openlibs(L);
    sk_lua_open(L);
    /* arg, as the standalone lua sets it: arg[0] = script, arg[1..] = ARGS */
    lua_createtable(L, argc, 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_setglobal(L, "arg");
    lua_pushcfunction(L, sk_lua_traceback);
    int rc = 0;
    if (luaL_loadfile(L, argv[0]) != LUA_OK) {
        fprintf(stderr, "sktune run: %s\n", lua_tostring(L, -1));
        rc = 1;
    } else {
        for (int i = 1; i < argc; i++) lua_pushstring(L, argv[i]);
        if (lua_pcall(L, argc - 1, 0, 1) != LUA_OK) {
            fprintf(stderr, "sktune run: %s\n", lua_tostring(L, -1));
            rc = 1;
        }
    }
    fflush(stdout);
    lua_close(L);
    return rc;
}
