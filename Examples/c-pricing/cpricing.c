/* A pricing plugin in plain C: the proof that the Stelltron ABI is language-neutral.
 *
 * It fills the `pricing` slot with a linear supply/demand formula:
 *     price = base × clamp(1 + 0.05 × (D − S), 0.5, 5)
 * where S and D are the market's open sell and buy orders (asked through `market.stats`) and
 * `base` is `base_price` from its [plugin.config] (default 6.0).
 *
 *     cc -shared -fPIC -I Sources/PluginAPI/C/include Examples/c-pricing/cpricing.c -o libcpricing.so
 *
 * then in plugins.conf:  [[plugin]] id = "cpricing" library = "/path/libcpricing.so"
 *                        [slots] pricing = "cpricing"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stelltron_plugin.h"

typedef struct { const stl_host_api *api; } instance_t;

static stl_plugin_bytes owned(const char *text) {
    stl_plugin_bytes out = {0};
    size_t len = strlen(text);
    out.ptr = malloc(len);
    if (out.ptr) { memcpy(out.ptr, text, len); out.len = len; }
    return out;
}

static stl_str view(const char *text) { stl_str s = { text, strlen(text) }; return s; }

/* Reads an integer field from a small JSON object: enough for market.stats' flat answer. */
static long field(const stl_host_bytes *json, const char *name) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    char *text = malloc(json->len + 1);
    if (!text) return 0;
    memcpy(text, json->ptr, json->len);
    text[json->len] = 0;
    const char *at = strstr(text, key);
    long value = at ? strtol(at + strlen(key), NULL, 10) : 0;
    free(text);
    return value;
}

static stl_status create(const stl_host_api *api, stl_host_ctx *ctx, stl_str config, void **out, stl_plugin_bytes *err) {
    (void)ctx; (void)config;
    instance_t *instance = calloc(1, sizeof *instance);
    if (!instance) { *err = owned("out of memory"); return STL_ERR_INTERNAL; }
    instance->api = api;
    *out = instance;
    return STL_OK;
}

static void destroy(void *instance) { (void)instance; /* kept: destroy must stay idempotent */ }

static stl_status handle(void *instance, stl_host_ctx *ctx, const stl_request *req, stl_response *res) {
    (void)instance; (void)ctx; (void)req;
    res->status = 404;
    res->body = owned("{\"error\":\"cpricing serves no routes\"}");
    return STL_OK;
}

static stl_status call_service(void *raw, stl_host_ctx *ctx, stl_str name, stl_str request, stl_plugin_bytes *out) {
    (void)request;
    const instance_t *instance = raw;
    /* pricing/2: pricing.quote and pricing.current answer alike — this formula records nothing. */
    int quote = name.len == 13 && memcmp(name.ptr, "pricing.quote", 13) == 0;
    int current = name.len == 15 && memcmp(name.ptr, "pricing.current", 15) == 0;
    if (!quote && !current) {
        *out = owned("cpricing offers pricing.quote and pricing.current only");
        return STL_ERR_UNKNOWN_SERVICE;
    }
    double base = 6.0;
    stl_host_bytes config = {0};
    if (instance->api->config_get(ctx, view("base_price"), &config) == STL_OK && config.len > 0 && config.len < 32) {
        char number[32] = {0};
        memcpy(number, config.ptr, config.len);
        base = strtod(number, NULL);
    }
    instance->api->free_bytes(ctx, config);

    long sells = 0, buys = 0;
    stl_host_bytes stats = {0};
    if (instance->api->call_service(ctx, view("market.stats"), view("{}"), &stats) == STL_OK) {
        sells = field(&stats, "open_sell_orders");
        buys = field(&stats, "open_buy_orders");
    }
    instance->api->free_bytes(ctx, stats);

    double factor = 1.0 + 0.05 * (double)(buys - sells);
    if (factor < 0.5) factor = 0.5;
    if (factor > 5.0) factor = 5.0;
    double price = (double)(long)(base * factor * 100.0 + 0.5) / 100.0;
    char answer[512];
    snprintf(answer, sizeof answer,
             "{\"price\":%.2f,\"supply\":%ld,\"demand\":%ld,\"formula\":\"cpricing linear\","
             "\"breakdown\":{\"base_price\":%.2f,\"f_sd\":%.3f,\"f_soc\":1,\"f_dist\":1,\"f_time\":1,\"f_quality\":1,\"final_price\":%.2f}}",
             price, sells, buys, base, factor, price);
    *out = owned(answer);
    return STL_OK;
}

static void free_bytes(stl_plugin_bytes bytes) { free(bytes.ptr); }

static const stl_slot slots[] = { { sizeof(stl_slot), 2, "pricing" } };
static const stl_service services[] = {
    { sizeof(stl_service), 0, "pricing.quote", "linear supply/demand price" },
    { sizeof(stl_service), 0, "pricing.current", "the same, for read routes" },
};

static const stl_plugin_descriptor descriptor = {
    .struct_size = sizeof(stl_plugin_descriptor),
    .abi_major = STL_ABI_MAJOR,
    .abi_minor = STL_ABI_MINOR,
    .id = "cpricing",
    .version = "1.0.0",
    .description = "a linear pricing formula written in C",
    .swift_compiler = "",
    .services = services, .service_count = 2,
    .slots = slots, .slot_count = 1,
    .create = create,
    .destroy = destroy,
    .handle_request = handle,
    .call_service = call_service,
    .free_bytes = free_bytes,
};

const stl_plugin_descriptor *stl_plugin_entry(uint32_t host_major, uint32_t host_minor) {
    (void)host_minor;
    return host_major == STL_ABI_MAJOR ? &descriptor : NULL;
}
