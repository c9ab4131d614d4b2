/*
 * stelltron_plugin.h — the Stelltron plugin ABI, version 1.3.
 *
 * This header is the whole contract between the Stelltron host and a plugin. It depends on the C
 * standard library only, so a plugin can be written in C, Swift, Rust or Zig. Everything that
 * crosses it is a C type or UTF-8 JSON bytes. The stability promise is written in ABI.md beside
 * this folder; in short:
 *
 *   - One entry symbol, STL_ENTRY_SYMBOL, exported by every plugin (see stl_plugin_entry_fn).
 *   - Every struct that crosses starts with `struct_size`. A minor version only appends fields at
 *     the end, after the 1.0 reserved slots (which stay zero); readers check `struct_size` before
 *     they touch a field newer than 1.0. A major version is a break and the host refuses it.
 *   - Ownership is in the type names: `stl_host_bytes` are allocated by the host and released with
 *     `stl_host_api.free_bytes`; `stl_plugin_bytes` are allocated by the plugin and released with
 *     `stl_plugin_descriptor.free_bytes`. `stl_str` and `stl_bytes_view` are borrowed views whose
 *     lifetime is written next to each use.
 *   - Errors are values: fallible functions return an `stl_status` and put a UTF-8 message into
 *     their output buffer. A plugin must not let an exception, a Swift error or a panic cross.
 *   - Thread tags: every function pointer carries one of
 *       [load-thread]   called once, from the thread that loads plugins, before any request;
 *       [any-thread]    may be called from several threads at once (the plugin keeps no
 *                       unsynchronised mutable state of its own: state lives in storage);
 *       [write-serial]  called while the host holds the single write transaction: never two such
 *                       calls at once across all plugins (SQLite has one writer);
 *       [ctx-thread]    a host function: call it only on the thread that received the ctx, and
 *                       only during the call that received it.
 */
#ifndef STELLTRON_PLUGIN_H
#define STELLTRON_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STL_ABI_MAJOR 1u
#define STL_ABI_MINOR 3u
#define STL_ENTRY_SYMBOL "stl_plugin_entry"

/* ---- Status codes (errors are values) --------------------------------------------------------
 * A fixed-width integer, not an enum: an enum's size is the compiler's choice. The host maps the
 * codes to HTTP statuses where a request is involved (in parentheses). */
typedef int32_t stl_status;
#define STL_OK                  0
#define STL_ERR_BAD_REQUEST     1  /* 400: the input is invalid */
#define STL_ERR_UNAUTHORIZED    2  /* 401 */
#define STL_ERR_FORBIDDEN       3  /* 403: the caller may not do this */
#define STL_ERR_NOT_FOUND       4  /* 404: an unknown id, or an unknown config key */
#define STL_ERR_CONFLICT        5  /* 409: the state does not allow it (duplicate, already done) */
#define STL_ERR_INTERNAL        6  /* 500: a bug or a broken invariant */
#define STL_ERR_UNKNOWN_SERVICE 7  /* no loaded plugin offers the named service */
#define STL_ERR_STORAGE         8  /* the SQL failed (syntax, constraint, write on a read snapshot) */
#define STL_ERR_UNSUPPORTED     9  /* the callee does not implement the optional function */

/* ---- Byte views and owned buffers ----------------------------------------------------------- */

/* A borrowed UTF-8 string. `ptr` may be NULL only when `len` is 0. Strings the host passes are
 * also NUL-terminated at ptr[len] for C convenience; strings a plugin passes need not be. */
typedef struct stl_str {
    const char *ptr;
    size_t len;
} stl_str;

/* Borrowed raw bytes (a request body). */
typedef struct stl_bytes_view {
    const uint8_t *ptr;
    size_t len;
} stl_bytes_view;

/* Bytes allocated by the HOST. The plugin releases them with stl_host_api.free_bytes. */
typedef struct stl_host_bytes {
    uint8_t *ptr;
    size_t len;
} stl_host_bytes;

/* Bytes allocated by the PLUGIN. The host releases them with stl_plugin_descriptor.free_bytes. */
typedef struct stl_plugin_bytes {
    uint8_t *ptr;
    size_t len;
} stl_plugin_bytes;

/* Opaque context of one host call (one request, one service call, one event delivery, one tick).
 * It carries the storage transaction, the events to publish on commit and the calling plugin.
 * Lifetime: only during the plugin call that received it. Never store it. */
typedef struct stl_host_ctx stl_host_ctx;

/* ---- Log levels ------------------------------------------------------------------------------ */
#define STL_LOG_DEBUG   0
#define STL_LOG_INFO    1
#define STL_LOG_WARNING 2
#define STL_LOG_ERROR   3

/* ---- Typed statement values (ABI 1.3) ---------------------------------------------------------
 * A parameter bound to a `?`, or one cell of a row, without JSON either way: the storage calls of
 * a hot route spent more time writing and parsing JSON than running their statements. A plain
 * value like stl_str (no struct_size): its layout is fixed for the life of the major version. */
#define STL_VALUE_NULL    0
#define STL_VALUE_INTEGER 1  /* `integer` */
#define STL_VALUE_REAL    2  /* `real`; parameters must be finite */
#define STL_VALUE_TEXT    3  /* `bytes`, UTF-8 (cells the host passes are also NUL-terminated) */
#define STL_VALUE_BLOB    4  /* `bytes` */

typedef struct stl_value {
    int32_t type;          /* STL_VALUE_* */
    uint32_t reserved0;    /* zero */
    int64_t integer;
    double real;
    stl_bytes_view bytes;  /* borrowed: a parameter's during the call; a cell's until free_rows */
} stl_value;

/* The rows of one statement, filled by the host: `values` holds row_count * column_count cells,
 * row after row, in the statement's column order. Every pointer stays valid until the plugin
 * passes the rows to stl_host_api.free_rows (once). Column types are SQLite's on both engines:
 * on PostgreSQL a boolean is an INTEGER 1/0, an integral numeric an INTEGER, a bytea a BLOB. */
typedef struct stl_rows {
    uint32_t struct_size;    /* set by the host */
    uint32_t column_count;
    size_t row_count;
    const stl_str *columns;  /* column_count names */
    const stl_value *values;
    void *host_owned;        /* the host's; do not touch */
} stl_rows;

/* ---- The host table -------------------------------------------------------------------------
 * Passed to `create`. Lifetime: until `destroy` returns (the plugin may keep the pointer).
 * Every function takes the ctx of the current call; there are no globals, so one process can run
 * two hosts with the same plugin loaded. */
typedef struct stl_host_api {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t reserved0;

    /* [ctx-thread] Write one line to the host's log, tagged with the plugin id and request id. */
    void (*log)(stl_host_ctx *ctx, int32_t level, stl_str message);

    /* [ctx-thread] Run a read-only SQL statement with `?` placeholders. `params_json` is a JSON
     * array of scalars (integer, real, string, true/false as 1/0, null); an empty string means no
     * parameters. On STL_OK, *out is a JSON array of objects, one per row, keyed by column name
     * (blobs as base64 strings). On error, *out is the message. */
    stl_status (*storage_query)(stl_host_ctx *ctx, stl_str sql, stl_str params_json, stl_host_bytes *out);

    /* [ctx-thread] Run one writing statement inside the current transaction. On STL_OK, *out is
     * {"changes":N,"last_insert_rowid":N}. Fails with STL_ERR_STORAGE on a read-only call, and
     * with STL_ERR_BAD_REQUEST for transaction-control statements (the host owns the transaction). */
    stl_status (*storage_exec)(stl_host_ctx *ctx, stl_str sql, stl_str params_json, stl_host_bytes *out);

    /* [ctx-thread] Queue an event (`type`, JSON object `payload_json`) for the live feeds. It is
     * published only after the current transaction commits, and dropped if it rolls back.
     * On error, *err holds the message (and must be freed); on STL_OK, *err is left empty. */
    stl_status (*emit_event)(stl_host_ctx *ctx, stl_str type, stl_str payload_json, stl_host_bytes *err);

    /* [ctx-thread] Call a service by name ("ledger.mint", "pricing.quote", "host.plugins.list")
     * synchronously, inside the caller's transaction. A name whose first part is a slot
     * ("pricing") reaches the plugin that plugins.conf put in that slot. *out is the JSON answer,
     * or the error message when the status is not STL_OK. */
    stl_status (*call_service)(stl_host_ctx *ctx, stl_str name, stl_str request_json, stl_host_bytes *out);

    /* [ctx-thread] Look up one key of this plugin's config (plugins.conf). *out is a JSON value;
     * STL_ERR_NOT_FOUND when the key is absent. */
    stl_status (*config_get)(stl_host_ctx *ctx, stl_str key, stl_host_bytes *out);

    /* [ctx-thread] The host clock in milliseconds since 1970 (UTC). Tests may freeze or move it. */
    int64_t (*clock_now_ms)(stl_host_ctx *ctx);

    /* [ctx-thread] Fill `dst` with `len` cryptographically secure random bytes. */
    stl_status (*random_bytes)(stl_host_ctx *ctx, uint8_t *dst, size_t len);

    /* [any-thread] Release bytes the host handed out. `ctx` may be NULL. Safe on empty bytes. */
    void (*free_bytes)(stl_host_ctx *ctx, stl_host_bytes bytes);

    void *reserved[8];

    /* ---- ABI 1.1: check struct_size before reading ---- */

    /* [ctx-thread, during create only] The plain C function plugins.conf's [hooks] bound to one of
     * this plugin's declared hook points (`name` as declared). On STL_OK, *function is valid for
     * the life of the process; call it with the declared signature. STL_ERR_NOT_FOUND when nothing
     * is bound (use the built-in rule); STL_ERR_FORBIDDEN outside create. */
    stl_status (*hook_function)(stl_host_ctx *ctx, stl_str name, void **function);

    /* ---- ABI 1.3: check struct_size before reading (STL_HOST_API_SIZE_V1_3) ---- */

    /* [ctx-thread] storage_query with typed parameters and rows: `params` holds `param_count`
     * values (borrowed, during the call), as many as the statement's `?`. On STL_OK, *rows holds
     * the rows (release them with free_rows) and *err is left empty; otherwise *err holds the
     * message (free it) and *rows is empty. Statuses as storage_query's. */
    stl_status (*storage_query_values)(stl_host_ctx *ctx, stl_str sql, const stl_value *params, size_t param_count,
                                       stl_rows *rows, stl_host_bytes *err);

    /* [ctx-thread] storage_exec with typed parameters: on STL_OK, *changes and *last_insert_rowid
     * (0 on PostgreSQL: read generated keys with RETURNING) and *err is left empty; otherwise *err
     * holds the message. Statuses as storage_exec's. */
    stl_status (*storage_exec_values)(stl_host_ctx *ctx, stl_str sql, const stl_value *params, size_t param_count,
                                      int64_t *changes, int64_t *last_insert_rowid, stl_host_bytes *err);

    /* [any-thread] Release rows storage_query_values filled; safe on empty rows. `ctx` may be NULL. */
    void (*free_rows)(stl_host_ctx *ctx, stl_rows *rows);
} stl_host_api;

/* ---- Declarations a plugin makes ------------------------------------------------------------
 * All strings below are NUL-terminated and owned by the plugin for the life of the process (the
 * host never unloads a plugin). Arrays of these structs share one element size: the host strides
 * through an array by the `struct_size` of its first element. */

#define STL_ROUTE_PROTECTED 0x1u  /* the host authenticates the caller and passes user_id/role */
#define STL_ROUTE_WRITE     0x2u  /* runs in the write transaction; otherwise on a read snapshot */

typedef struct stl_route {
    uint32_t struct_size;
    uint32_t flags;                   /* STL_ROUTE_* */
    const char *method;               /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *path;                 /* "/iot/nodes/:device_id" — `:name` is a path parameter */
    const char *summary;              /* one line for docs; may be NULL */
    const char *request_schema_json;  /* JSON Schema of the body; may be NULL */
    const char *response_schema_json; /* JSON Schema of a 2xx body; may be NULL */
} stl_route;

#define STL_SERVICE_WRITE 0x1u  /* may write: refused when called from a read-only route */

typedef struct stl_service {
    uint32_t struct_size;
    uint32_t flags;       /* STL_SERVICE_* */
    const char *name;     /* "<plugin id>.<verb>", or "<slot>.<verb>" for a slot the plugin fills */
    const char *summary;  /* may be NULL */
} stl_service;

typedef struct stl_slot {
    uint32_t struct_size;
    uint32_t revision;    /* "scheduler" revision 1 is written scheduler/1 in docs */
    const char *name;     /* "pricing", "scheduler", ... */
} stl_slot;

/* ABI 1.1: a point where an operator may plug a plain C function instead of the plugin's built-in
 * rule ([hooks] in plugins.conf). The host binds it at load, checking the signature, and hands the
 * function to the plugin during create (stl_host_api.hook_function). */
typedef struct stl_hook_point {
    uint32_t struct_size;
    uint32_t reserved0;
    const char *name;       /* "pricing.f_time": "<plugin id or a slot it fills>.<name>" */
    const char *signature;  /* "double(int32,int32)": returns and arguments from int32, int64, double */
    const char *summary;    /* what the function decides and what its arguments mean; may be NULL */
} stl_hook_point;

typedef struct stl_migration {
    uint32_t struct_size;
    uint32_t reserved0;
    const char *id;       /* unique within the plugin, applied in array order, never edited */
    const char *sql;      /* one or more statements; tables are prefixed "<plugin id>_" */
    /* ---- ABI 1.2: check struct_size before reading (STL_MIGRATION_SIZE_V1_2) ---- */
    const char *sql_postgres; /* the same step in PostgreSQL's dialect, or NULL: on PostgreSQL the
                                 host then translates `sql`, and refuses at load what it cannot */
} stl_migration;

/* An stl_migration this large carries sql_postgres. */
#define STL_MIGRATION_SIZE_V1_2 (offsetof(stl_migration, sql_postgres) + sizeof(const char *))

/* ---- A request to a plugin route ------------------------------------------------------------
 * Lifetime of every view: during handle_request only. */
typedef struct stl_request {
    uint32_t struct_size;
    uint32_t flags;               /* the route's STL_ROUTE_* flags */
    stl_str method;
    stl_str path;                 /* as received, without the query string */
    stl_str route;                /* the declared pattern that matched */
    stl_str path_params_json;     /* {"device_id":"rpi-1"} */
    stl_str query_json;           /* {"limit":"10"} (last value wins) */
    stl_str headers_json;         /* {"content-type":"application/json"} (lower-case names; never
                                     authorization, proxy-authorization or cookie: the host checks
                                     credentials and passes the user below) */
    stl_bytes_view body;
    stl_str client_ip;
    stl_str request_id;
    stl_str user_id;              /* empty on public routes */
    stl_str user_role;            /* the role stored now, not the one in the token; empty if public */
} stl_request;

/* Filled by the plugin. `status` is the HTTP status; a status >= 400 rolls the transaction back.
 * `body` is the JSON answer (for errors: {"error":"..."}), released by the host with free_bytes. */
typedef struct stl_response {
    uint32_t struct_size;
    uint32_t status;
    stl_plugin_bytes body;
} stl_response;

/* ---- The descriptor ------------------------------------------------------------------------- */
typedef struct stl_plugin_descriptor {
    uint32_t struct_size;         /* sizeof(stl_plugin_descriptor) as the plugin was compiled */
    uint32_t abi_major;           /* STL_ABI_MAJOR the plugin was compiled against */
    uint32_t abi_minor;           /* STL_ABI_MINOR the plugin was compiled against */
    uint32_t tick_interval_ms;    /* how often the host calls `tick`; 0 = never */

    const char *id;               /* [a-z][a-z0-9_]*, unique among loaded plugins */
    const char *version;          /* the plugin's own version, e.g. "1.0.0" */
    const char *description;      /* may be NULL */
    const char *swift_compiler;   /* "6.3" for Swift plugins (must equal the host's); "" otherwise */

    const stl_route *routes;          size_t route_count;
    const stl_service *services;      size_t service_count;
    const stl_slot *slots;            size_t slot_count;
    const stl_migration *migrations;  size_t migration_count;
    const char *const *subscriptions; size_t subscription_count; /* event types for on_event, "*" = all */

    /* [load-thread] Make an instance. `api` lives until destroy. `config_json` is the plugin's
     * table from plugins.conf as a JSON object (borrowed, during the call). On error, *err holds
     * the message. `ctx` allows storage reads/writes (migrations have already run). */
    stl_status (*create)(const stl_host_api *api, stl_host_ctx *ctx, stl_str config_json,
                         void **instance, stl_plugin_bytes *err);

    /* [load-thread] Release the instance. Idempotent: a second call does nothing. */
    void (*destroy)(void *instance);

    /* [any-thread] for read routes, [write-serial] for write routes. Must always fill *res; the
     * return value is STL_OK unless the plugin itself failed (then the host answers 500 and logs
     * the message found in res->body). */
    stl_status (*handle_request)(void *instance, stl_host_ctx *ctx, const stl_request *req,
                                 stl_response *res);

    /* [any-thread], or [write-serial] for STL_SERVICE_WRITE services. *out is the JSON answer, or
     * the error message when the status is not STL_OK. May be NULL when service_count is 0. */
    stl_status (*call_service)(void *instance, stl_host_ctx *ctx, stl_str name, stl_str request_json,
                               stl_plugin_bytes *out);

    /* [write-serial] Optional (NULL): an event of a subscribed type was emitted. Runs inside the
     * producing transaction, after the call that emitted it: its writes commit or roll back with
     * that call's. (1.0 hosts ran it after the commit, in transactions of its own.) */
    void (*on_event)(void *instance, stl_host_ctx *ctx, stl_str type, stl_str payload_json);

    /* [write-serial] Optional (NULL): periodic work (e.g. liquidating overdue loans), every
     * tick_interval_ms, inside one write transaction; an error rolls it back and is logged. */
    stl_status (*tick)(void *instance, stl_host_ctx *ctx, stl_plugin_bytes *err);

    /* [any-thread] Release bytes the plugin handed out. Safe on empty bytes. */
    void (*free_bytes)(stl_plugin_bytes bytes);

    void *reserved[8];

    /* ---- ABI 1.1: check struct_size before reading ---- */

    const stl_hook_point *hook_points; size_t hook_point_count;
    /* The slots whose services this plugin calls, with the revision it speaks: the host refuses
     * to load it next to a plugin that fills the slot with another revision. */
    const stl_slot *slot_uses;         size_t slot_use_count;
} stl_plugin_descriptor;

/* The entry point every plugin exports under the name STL_ENTRY_SYMBOL.
 * [load-thread] Returns the plugin's static descriptor (lifetime: the process), or NULL when the
 * plugin cannot work with a host of that ABI version. May be called more than once. */
typedef const stl_plugin_descriptor *(*stl_plugin_entry_fn)(uint32_t host_abi_major, uint32_t host_abi_minor);

/* The smallest descriptor a 1.x host accepts: every field up to and including free_bytes. A 1.1
 * host reads hook_points and slot_uses only from a descriptor of at least STL_DESCRIPTOR_SIZE_V1_1
 * bytes; a plugin calls hook_function only on a host table of at least STL_HOST_API_SIZE_V1_1. */
#define STL_DESCRIPTOR_MIN_SIZE_V1 (offsetof(stl_plugin_descriptor, free_bytes) + sizeof(void (*)(stl_plugin_bytes)))
#define STL_DESCRIPTOR_SIZE_V1_1 (offsetof(stl_plugin_descriptor, slot_use_count) + sizeof(size_t))
#define STL_HOST_API_SIZE_V1_1 (offsetof(stl_host_api, hook_function) + sizeof(void *))
/* A host table this large has the typed statements of 1.3 (storage_query_values, storage_exec_values,
 * free_rows). */
#define STL_HOST_API_SIZE_V1_3 (offsetof(stl_host_api, free_rows) + sizeof(void *))

#ifdef __cplusplus
}
#endif

#endif /* STELLTRON_PLUGIN_H */
