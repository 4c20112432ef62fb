/* script.c - a Lua script run from the workbench, in a worker thread with its own Lua
 * state: print() and io.write() go to the log pane, every sk.train it calls appears in
 * the runs table and charts (through the binding's observer), and stopping it raises a
 * Lua error at the next instruction count hook or training step. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/sk_lua.h"
#include "tui.h"

static const char SCRIPT_KEY = 0;

static Script *script_of(lua_State *L) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &SCRIPT_KEY);
    Script *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return s;
}

static int l_print(lua_State *L) {
    Script *s = script_of(L);
    int n = lua_gettop(L); /* before luaL_buffinit, which may push a placeholder */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    TLog_add(s->log, "%s", lua_tostring(L, -1));
    return 0;
}

/* io.write: pieces until a newline make one log line; returns io.stdout as io.write does. */
static int l_write(lua_State *L) {
    Script *s = script_of(L);
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) luaL_checkany(L, i);
    lua_getfield(L, LUA_REGISTRYINDEX, "sktune.partial");
    int partial = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (lua_isstring(L, partial)) {
        lua_pushvalue(L, partial);
        luaL_addvalue(&b);
    }
    for (int i = 1; i <= n; i++) {
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    const char *text = lua_tostring(L, -1);
    const char *last_nl = strrchr(text, '\n');
    if (last_nl) {
        TLog_add(s->log, "%.*s", (int)(last_nl - text), text);
        lua_pushstring(L, last_nl + 1);
    } else {
        lua_pushvalue(L, -1);
    }
    lua_setfield(L, LUA_REGISTRYINDEX, "sktune.partial");
    lua_getfield(L, LUA_REGISTRYINDEX, "sktune.sink");
    return 1;
}

/* io.stdout / io.stderr stand-ins: f:write(...) goes to the log as well. */
static int l_sink_write(lua_State *L) {
    lua_remove(L, 1);
    return l_write(L);
}

static int l_sink_noop(lua_State *L) {
    lua_settop(L, 1);
    return 1;
}

static void install_sink(lua_State *L) {
    lua_newtable(L);
    lua_pushcfunction(L, l_sink_write);
    lua_setfield(L, -2, "write");
    lua_pushcfunction(L, l_sink_noop);
    lua_setfield(L, -2, "flush");
    lua_pushcfunction(L, l_sink_noop);
    lua_setfield(L, -2, "setvbuf");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "sktune.sink");
    lua_getglobal(L, "io");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "stdout");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "stderr");
    lua_pushcfunction(L, l_write);
    lua_setfield(L, -2, "write");
    lua_pop(L, 2);
}

static void hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    Script *s = script_of(L);
    if (s->stop) luaL_error(L, "stopped from the workbench");
}

/* ---- the observer: a script's sk.train as a run in the table ------------------------ */

static void *obs_begin(void *ctx, const char *method, int64_t params, int steps) {
    Script *s = ctx;
    return Runs_external_begin(s->runs, method, params, steps);
}

static int obs_step(void *ctx, void *run, const SkHistoryEntry *ev) {
    Script *s = ctx;
    return Runs_external_step(s->runs, run, ev) || s->stop;
}

static void obs_end(void *ctx, void *run, bool failed, const char *reason, double seconds, int64_t params) {
    Script *s = ctx;
    Run *r = run;
    pthread_mutex_lock(&s->runs->mu);
    if (params > 0) r->params = params;
    pthread_mutex_unlock(&s->runs->mu);
    Runs_external_end(s->runs, r, failed, reason, seconds);
}

static void *worker(void *arg) {
    Script *s = arg;
    lua_State *L = luaL_newstate();
    if (!L) {
        TLog_add(s->log, "script: out of memory");
        s->exit_status = 1;
        s->running = false;
        return NULL;
    }
    luaL_openlibs(L);
    sk_lua_open(L);
    SkLuaObserver obs = {s, obs_begin, obs_step, obs_end};
    sk_lua_set_observer(L, &obs);
    lua_pushlightuserdata(L, s);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &SCRIPT_KEY);
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
    install_sink(L);
    lua_sethook(L, hook, LUA_MASKCOUNT, 1000);
    /* arg: the script, then its arguments split on spaces ("..." keeps spaces) */
    lua_newtable(L);
    lua_pushstring(L, s->path);
    lua_rawseti(L, -2, 0);
    int argc = 0;
    const char *p = s->args;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        char word[1024];
        size_t n = 0;
        char quote = 0;
        if (*p == '"' || *p == '\'') quote = *p++;
        while (*p && (quote ? *p != quote : *p != ' ') && n < sizeof word - 1) word[n++] = *p++;
        if (quote && *p == quote) p++;
        word[n] = 0;
        lua_pushstring(L, word);
        lua_rawseti(L, -2, ++argc);
    }
    lua_setglobal(L, "arg");
    TLog_add(s->log, "script %s %s: started", s->path, s->args);
    lua_pushcfunction(L, sk_lua_traceback);
    int rc = luaL_loadfile(L, s->path);
    if (rc == LUA_OK) rc = lua_pcall(L, 0, 0, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, "sktune.partial");
    if (lua_isstring(L, -1) && lua_rawlen(L, -1) > 0) TLog_add(s->log, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    if (rc != LUA_OK) TLog_add(s->log, "script %s: error: %s", s->path, lua_tostring(L, -1));
    else TLog_add(s->log, "script %s: finished", s->path);
    s->exit_status = rc != LUA_OK;
    lua_close(L);
    s->running = false;
    return NULL;
}

int Script_start(Script *s, const char *path, const char *args, TLog *log, Runs *runs) {
    if (s->running) return -1;
    Script_poll(s);
    s->stop = 0;
    snprintf(s->path, sizeof s->path, "%s", path);
    snprintf(s->args, sizeof s->args, "%s", args ? args : "");
    s->log = log, s->runs = runs;
    s->running = true;
    if (pthread_create(&s->thread, NULL, worker, s) != 0) {
        s->running = false;
        return -1;
    }
    s->joinable = true;
    return 0;
}

void Script_stop(Script *s) {
    if (s->running) s->stop = 1;
}

void Script_poll(Script *s) {
    if (s->joinable && !s->running) {
        pthread_join(s->thread, NULL);
        s->joinable = false;
    }
}

void Script_free(Script *s) {
    Script_stop(s);
    if (s->joinable) pthread_join(s->thread, NULL);
    s->joinable = false;
}
