/* Plugins written in plain C against stelltron_plugin.h, compiled by the tests with the system C
 * compiler. One source, several variants chosen with -D, each a deliberate case for the loader:
 *
 *   -DVARIANT_NO_ENTRY        exports no stl_plugin_entry
 *   -DVARIANT_RETURNS_NULL    the entry refuses the host (returns NULL)
 *   -DVARIANT_WRONG_MAJOR     built "against" ABI 99
 *   -DVARIANT_TOO_SMALL       a descriptor shorter than ABI 1.0's
 *   (none of the above)       a working plugin: -DPLUGIN_ID="\"name\"", optionally
 *                             -DCLAIM_ROUTE="\"/api/v1/...\"" and -DFILL_PRICING=<price>
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "stelltron_plugin.h"

#ifndef PLUGIN_ID
#define PLUGIN_ID "cfixture"
#endif

static stl_plugin_bytes copy_bytes(const char *text) {
    stl_plugin_bytes out = {0};
    size_t len = strlen(text);
    out.ptr = malloc(len);
    if (out.ptr) { memcpy(out.ptr, text, len); out.len = len; }
    return out;
}

static stl_status fixture_create(const stl_host_api *api, stl_host_ctx *ctx, stl_str config, void **instance,
                                 stl_plugin_bytes *err) {
    (void)ctx; (void)config; (void)err;
    *instance = (void *)api; /* nothing of its own to keep; the host table is enough */
    return STL_OK;
}

static void fixture_destroy(void *instance) { (void)instance; }

static stl_status fixture_handle(void *instance, stl_host_ctx *ctx, const stl_request *req, stl_response *res) {
    (void)instance; (void)ctx; (void)req;
    res->status = 200;
    res->body = copy_bytes("{\"plugin\":\"" PLUGIN_ID "\"}");
    return STL_OK;
}

static stl_status fixture_call_service(void *instance, stl_host_ctx *ctx, stl_str name, stl_str request,
                                       stl_plugin_bytes *out) {
    (void)instance; (void)ctx; (void)request;
#ifdef FILL_PRICING
    if ((name.len == 13 && memcmp(name.ptr, "pricing.quote", 13) == 0) ||
        (name.len == 15 && memcmp(name.ptr, "pricing.current", 15) == 0)) {
        char buffer[96];
        snprintf(buffer, sizeof buffer, "{\"price\":%.2f,\"plugin\":\"%s\"}", (double)(FILL_PRICING), PLUGIN_ID);
        *out = copy_bytes(buffer);
        return STL_OK;
    }
#endif
#ifdef VARIANT_TRAP_SERVICE
    /* A plugin bug the validator must survive: the check fails, the validator goes on. */
    if (name.len == 13 && memcmp(name.ptr, "cfixture.boom", 13) == 0) __builtin_trap();
#endif
    (void)name;
    *out = copy_bytes("no such service");
    return STL_ERR_UNKNOWN_SERVICE;
}

static void fixture_free(stl_plugin_bytes bytes) { free(bytes.ptr); }

#ifdef CLAIM_ROUTE
static const stl_route routes[] = {
    { sizeof(stl_route), 0, "GET", CLAIM_ROUTE, "a route another plugin also claims", NULL, NULL },
};
#endif

#ifdef MIGRATION_SQL
/* MIGRATION_V1_1: the migration as a 1.1 plugin lays it out (no sql_postgres field at all). */
#ifdef MIGRATION_V1_1
#define MIGRATION_SIZE offsetof(stl_migration, sql_postgres)
#else
#define MIGRATION_SIZE sizeof(stl_migration)
#endif
#ifndef MIGRATION_SQL_POSTGRES
#define MIGRATION_SQL_POSTGRES NULL
#endif
static const stl_migration migrations[] = { { MIGRATION_SIZE, 0, "001_things", MIGRATION_SQL, MIGRATION_SQL_POSTGRES } };
#endif

#ifdef ROUTE_SCHEMA
static const stl_route schema_routes[] = {
    { sizeof(stl_route), STL_ROUTE_WRITE, "POST", "/api/v1/cfixture/things", "a route with a declared schema", ROUTE_SCHEMA, NULL },
};
#endif

#ifdef VARIANT_TRAP_SERVICE
static const stl_service trap_services[] = { { sizeof(stl_service), 0, "cfixture.boom", "traps" } };
#endif

#ifndef PRICING_REVISION
#define PRICING_REVISION 2
#endif

#ifdef FILL_PRICING
static const stl_slot slots[] = { { sizeof(stl_slot), PRICING_REVISION, "pricing" } };
static const stl_service services[] = {
    { sizeof(stl_service), 0, "pricing.quote", "a constant price" },
    { sizeof(stl_service), 0, "pricing.current", "the same constant price" },
};
#endif

#ifdef VARIANT_ABI_1_0
/* Where a 1.0 plugin's descriptor ends, whatever lies in memory after it. */
#define DESCRIPTOR_SIZE offsetof(stl_plugin_descriptor, hook_points)
#else
#define DESCRIPTOR_SIZE sizeof(stl_plugin_descriptor)
#endif

static const stl_plugin_descriptor descriptor = {
    .struct_size = DESCRIPTOR_SIZE,
#ifdef VARIANT_WRONG_MAJOR
    .abi_major = 99,
#else
    .abi_major = STL_ABI_MAJOR,
#endif
#ifdef VARIANT_ABI_1_0
    .abi_minor = 0,
    /* Past struct_size: a 1.1 host must not read these (they would fail every check). */
    .hook_points = (const stl_hook_point *)16, .hook_point_count = 3,
#else
    .abi_minor = STL_ABI_MINOR,
#endif
    .id = PLUGIN_ID,
    .version = "1.0.0",
    .description = "C fixture",
    .swift_compiler = "",
#ifdef CLAIM_ROUTE
    .routes = routes, .route_count = 1,
#endif
#ifdef ROUTE_SCHEMA
    .routes = schema_routes, .route_count = 1,
#endif
#ifdef MIGRATION_SQL
    .migrations = migrations, .migration_count = 1,
#endif
#ifdef VARIANT_TRAP_SERVICE
    .services = trap_services, .service_count = 1,
#endif
#ifdef FILL_PRICING
    .slots = slots, .slot_count = 1,
    .services = services, .service_count = 2,
#endif
    .create = fixture_create,
    .destroy = fixture_destroy,
    .handle_request = fixture_handle,
    .call_service = fixture_call_service,
    .free_bytes = fixture_free,
};

/* What an ABI 0.x plugin might have looked like: far too short for a 1.x host. */
static const struct { uint32_t struct_size, abi_major, abi_minor, tick; } short_descriptor = { 16, 1, 0, 0 };

#ifndef VARIANT_NO_ENTRY
const stl_plugin_descriptor *stl_plugin_entry(uint32_t host_major, uint32_t host_minor) {
    (void)host_major; (void)host_minor;
#if defined(VARIANT_RETURNS_NULL)
    return NULL;
#elif defined(VARIANT_TOO_SMALL)
    return (const stl_plugin_descriptor *)&short_descriptor;
#else
    (void)short_descriptor;
    return &descriptor;
#endif
}
#else
int not_the_entry_symbol(void) { return (int)short_descriptor.struct_size + (descriptor.create != NULL); }
#endif
