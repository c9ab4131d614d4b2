/* A plain C plugin that drives ABI 1.3's typed statements (storage_query_values,
 * storage_exec_values, free_rows) the way a C, Rust or Zig plugin would, without the Swift kit in
 * between. Its one write route runs a fixed list of cases and answers what the host did in each,
 * so the tests assert the host's side: values stored and read back exactly, bad parameters
 * refused with a message, rows released. Other routes try a typed write on a read snapshot and SQL
 * the engine refuses. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stelltron_plugin.h"

static stl_plugin_bytes copy_bytes(const char *text, size_t len) {
    stl_plugin_bytes out = {0};
    out.ptr = malloc(len ? len : 1);
    if (out.ptr) { memcpy(out.ptr, text, len); out.len = len; }
    return out;
}

static stl_str str(const char *text) { stl_str s = { text, strlen(text) }; return s; }

static stl_value integer(int64_t v) { stl_value x = {0}; x.type = STL_VALUE_INTEGER; x.integer = v; return x; }
static stl_value real(double v) { stl_value x = {0}; x.type = STL_VALUE_REAL; x.real = v; return x; }
static stl_value bytes(int32_t type, const void *p, size_t n) {
    stl_value x = {0}; x.type = type; x.bytes.ptr = p; x.bytes.len = n; return x;
}

static stl_status create(const stl_host_api *api, stl_host_ctx *ctx, stl_str config, void **instance, stl_plugin_bytes *err) {
    (void)ctx; (void)config;
    if (api->struct_size < STL_HOST_API_SIZE_V1_3) {
        *err = copy_bytes("this host has no typed statements", 33);
        return STL_ERR_UNSUPPORTED;
    }
    *instance = (void *)api;
    return STL_OK;
}

static void destroy(void *instance) { (void)instance; }

/* Appends `"name":status` and, on failure, `"name_message":"..."` (the host's words, with
 * quotes and backslashes turned into apostrophes and control bytes into spaces: JSON enough). */
static void report(char *out, size_t cap, const char *name, stl_status status, stl_host_bytes *err, const stl_host_api *api) {
    size_t used = strlen(out);
    snprintf(out + used, cap - used, "%s\"%s\":%d", used > 1 ? "," : "", name, (int)status);
    if (status != STL_OK && err->len) {
        used = strlen(out);
        char message[256];
        size_t n = err->len < sizeof message - 1 ? err->len : sizeof message - 1;
        for (size_t i = 0; i < n; i++) {
            char c = (char)err->ptr[i];
            message[i] = (c == '"' || c == '\\') ? '\'' : ((unsigned char)c < 0x20 ? ' ' : c);
        }
        message[n] = 0;
        snprintf(out + used, cap - used, ",\"%s_message\":\"%s\"", name, message);
    }
    api->free_bytes(NULL, *err);
    err->ptr = NULL; err->len = 0;
}

static const char text_value[] = "gr\xc3\xbc\xc3\x9f" "e \"quoted\"";
static const unsigned char blob_value[] = { 0, 1, 127, 128, 255 };

/* What the row read back must be; "ok" or the first difference. */
static const char *check_row(const stl_rows *rows) {
    if (rows->struct_size < sizeof(stl_rows)) return "struct_size";
    if (rows->row_count != 1 || rows->column_count != 5) return "shape";
    const char *names[] = { "i", "r", "t", "b", "n" };
    for (int c = 0; c < 5; c++) {
        if (rows->columns[c].len != 1 || memcmp(rows->columns[c].ptr, names[c], 1) != 0 || rows->columns[c].ptr[1] != 0) return "column names";
    }
    const stl_value *v = rows->values;
    if (v[0].type != STL_VALUE_INTEGER || v[0].integer != INT64_MIN) return "integer";
    if (v[1].type != STL_VALUE_REAL || v[1].real != 2.5) return "real";
    if (v[2].type != STL_VALUE_TEXT || v[2].bytes.len != sizeof text_value - 1 || memcmp(v[2].bytes.ptr, text_value, v[2].bytes.len) != 0) return "text";
    if (v[2].bytes.ptr[v[2].bytes.len] != 0) return "text terminator";
    if (v[3].type != STL_VALUE_BLOB || v[3].bytes.len != sizeof blob_value || memcmp(v[3].bytes.ptr, blob_value, sizeof blob_value) != 0) return "blob";
    if (v[4].type != STL_VALUE_NULL) return "null";
    return "ok";
}

static int is_route(const stl_request *req, const char *route) {
    return req->route.len == strlen(route) && memcmp(req->route.ptr, route, req->route.len) == 0;
}

static stl_status handle(void *instance, stl_host_ctx *ctx, const stl_request *req, stl_response *res) {
    const stl_host_api *api = instance;
    char out[2048] = "{";
    stl_host_bytes err = {0};
    int64_t changes = -1, rowid = -1;
    stl_status status;

    res->status = 200;
    if (is_route(req, "/api/v1/cvalues/read")) {
        stl_value one = integer(1);
        status = api->storage_exec_values(ctx, str("INSERT INTO cvalues_cells (i) VALUES (?)"), &one, 1, &changes, &rowid, &err);
        report(out, sizeof out, "exec_on_read", status, &err, api);
    } else if (is_route(req, "/api/v1/cvalues/syntax")) {
        /* SQL the engine refuses. On PostgreSQL that fails the rest of the call, so it has a
         * route of its own, which answers 400: its transaction is rolled back. */
        stl_rows rows = {0};
        status = api->storage_query_values(ctx, str("SELEKT 1"), NULL, 0, &rows, &err);
        report(out, sizeof out, "syntax", status, &err, api);
        res->status = 400;
    } else {
        stl_value row[4] = { integer(INT64_MIN), real(2.5), bytes(STL_VALUE_TEXT, text_value, sizeof text_value - 1),
                             bytes(STL_VALUE_BLOB, blob_value, sizeof blob_value) };
        status = api->storage_exec_values(ctx, str("INSERT INTO cvalues_cells (i, r, t, b) VALUES (?, ?, ?, ?)"), row, 4, &changes, &rowid, &err);
        report(out, sizeof out, "insert", status, &err, api);
        snprintf(out + strlen(out), sizeof out - strlen(out), ",\"changes\":%lld", (long long)changes);

        stl_rows rows = {0};
        stl_value key = integer(INT64_MIN);
        status = api->storage_query_values(ctx, str("SELECT i, r, t, b, NULL AS n FROM cvalues_cells WHERE i = ?"), &key, 1, &rows, &err);
        report(out, sizeof out, "select", status, &err, api);
        snprintf(out + strlen(out), sizeof out - strlen(out), ",\"row\":\"%s\"", status == STL_OK ? check_row(&rows) : "none");
        api->free_rows(ctx, &rows);
        api->free_rows(ctx, &rows); /* a second release finds the rows emptied */

        stl_value nan_value = real(NAN);
        status = api->storage_query_values(ctx, str("SELECT ? AS x"), &nan_value, 1, &rows, &err);
        report(out, sizeof out, "nan", status, &err, api);

        stl_value unknown = integer(1);
        unknown.type = 99;
        status = api->storage_query_values(ctx, str("SELECT ? AS x"), &unknown, 1, &rows, &err);
        report(out, sizeof out, "unknown_type", status, &err, api);

        status = api->storage_query_values(ctx, str("SELECT ? AS x, ? AS y"), &key, 1, &rows, &err);
        report(out, sizeof out, "count", status, &err, api);

        stl_value broken = bytes(STL_VALUE_TEXT, "\xff\xfe", 2);
        status = api->storage_query_values(ctx, str("SELECT ? AS x"), &broken, 1, &rows, &err);
        report(out, sizeof out, "utf8", status, &err, api);

        status = api->storage_exec_values(ctx, str("COMMIT"), NULL, 0, &changes, &rowid, &err);
        report(out, sizeof out, "commit", status, &err, api);


        /* The 1.0 JSON calls stay for plugins that want them: the same row through both. */
        stl_host_bytes json = {0};
        status = api->storage_exec(ctx, str("INSERT INTO cvalues_cells (i, r, t) VALUES (?, ?, ?)"), str("[7, 0.5, \"seven\"]"), &json);
        api->free_bytes(ctx, json);
        report(out, sizeof out, "json_insert", status, &err, api);
        status = api->storage_query(ctx, str("SELECT i, r, t FROM cvalues_cells WHERE i = ?"), str("[7]"), &json);
        if (status == STL_OK) {
            snprintf(out + strlen(out), sizeof out - strlen(out), ",\"json_rows\":%.*s", (int)json.len, (const char *)json.ptr);
        }
        api->free_bytes(ctx, json);
        status = api->storage_query(ctx, str("SELECT b FROM cvalues_cells WHERE i = ?"), str("[-9223372036854775808]"), &json);
        if (status == STL_OK) {
            snprintf(out + strlen(out), sizeof out - strlen(out), ",\"json_blob\":%.*s", (int)json.len, (const char *)json.ptr);
        }
        api->free_bytes(ctx, json);
        key = integer(7);
        status = api->storage_query_values(ctx, str("SELECT i, r, t FROM cvalues_cells WHERE i = ?"), &key, 1, &rows, &err);
        report(out, sizeof out, "typed_select", status, &err, api);
        if (status == STL_OK && rows.row_count == 1 && rows.column_count == 3) {
            snprintf(out + strlen(out), sizeof out - strlen(out), ",\"typed_row\":[%lld,%g,\"%.*s\"]", (long long)rows.values[0].integer,
                     rows.values[1].real, (int)rows.values[2].bytes.len, (const char *)rows.values[2].bytes.ptr);
        }
        api->free_rows(ctx, &rows);
    }
    strcat(out, "}");
    res->body = copy_bytes(out, strlen(out));
    return STL_OK;
}

static void free_bytes(stl_plugin_bytes b) { free(b.ptr); }

static const stl_route routes[] = {
    { sizeof(stl_route), STL_ROUTE_WRITE, "POST", "/api/v1/cvalues/check", "typed statements, case by case", NULL, NULL },
    { sizeof(stl_route), 0, "GET", "/api/v1/cvalues/read", "a typed write on a read snapshot", NULL, NULL },
    { sizeof(stl_route), STL_ROUTE_WRITE, "POST", "/api/v1/cvalues/syntax", "SQL the engine refuses", NULL, NULL },
};

static const stl_migration migrations[] = {
    { sizeof(stl_migration), 0, "001_cells", "CREATE TABLE cvalues_cells (i INTEGER, r REAL, t TEXT, b BLOB)", NULL },
};

static const stl_plugin_descriptor descriptor = {
    .struct_size = sizeof(stl_plugin_descriptor),
    .abi_major = STL_ABI_MAJOR,
    .abi_minor = STL_ABI_MINOR,
    .id = "cvalues",
    .version = "1.0.0",
    .description = "C fixture for typed statements",
    .swift_compiler = "",
    .routes = routes, .route_count = 3,
    .migrations = migrations, .migration_count = 1,
    .create = create,
    .destroy = destroy,
    .handle_request = handle,
    .free_bytes = free_bytes,
};

const stl_plugin_descriptor *stl_plugin_entry(uint32_t host_major, uint32_t host_minor) {
    (void)host_major; (void)host_minor;
    return &descriptor;
}
