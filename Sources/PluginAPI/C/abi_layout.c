/* Compile-time checks of the ABI's layout. The header is the contract; this file makes sure that a
 * change which would move a field fails the build instead of a plugin. Every offset of every
 * struct is pinned for the 64-bit platforms the host supports (LP64: x86_64, aarch64); a minor
 * version appends fields, so it adds lines here and changes none. Generated once from the header
 * with offsetof, then kept by hand. */
#include <stdint.h>
#include "stelltron_plugin.h"

_Static_assert(offsetof(stl_plugin_descriptor, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(stl_host_api, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(stl_request, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(stl_response, struct_size) == 0, "struct_size comes first");
_Static_assert(STL_DESCRIPTOR_MIN_SIZE_V1 == offsetof(stl_plugin_descriptor, reserved), "1.0 ends at free_bytes");
_Static_assert(STL_DESCRIPTOR_SIZE_V1_1 == sizeof(stl_plugin_descriptor), "1.1 is the whole descriptor");
_Static_assert(STL_HOST_API_SIZE_V1_1 == sizeof(stl_host_api), "1.1 is the whole host table");
_Static_assert(STL_MIGRATION_SIZE_V1_2 == sizeof(stl_migration), "1.2 is the whole migration");

#if UINTPTR_MAX == 0xffffffffffffffffu
_Static_assert(sizeof(stl_str) == 16, "stl_str");
_Static_assert(offsetof(stl_str, ptr) == 0, "stl_str.ptr");
_Static_assert(offsetof(stl_str, len) == 8, "stl_str.len");
_Static_assert(sizeof(stl_bytes_view) == 16, "stl_bytes_view");
_Static_assert(offsetof(stl_bytes_view, ptr) == 0, "stl_bytes_view.ptr");
_Static_assert(offsetof(stl_bytes_view, len) == 8, "stl_bytes_view.len");
_Static_assert(sizeof(stl_host_bytes) == 16, "stl_host_bytes");
_Static_assert(offsetof(stl_host_bytes, ptr) == 0, "stl_host_bytes.ptr");
_Static_assert(offsetof(stl_host_bytes, len) == 8, "stl_host_bytes.len");
_Static_assert(sizeof(stl_plugin_bytes) == 16, "stl_plugin_bytes");
_Static_assert(offsetof(stl_plugin_bytes, ptr) == 0, "stl_plugin_bytes.ptr");
_Static_assert(offsetof(stl_plugin_bytes, len) == 8, "stl_plugin_bytes.len");
_Static_assert(offsetof(stl_host_api, struct_size) == 0, "stl_host_api.struct_size");
_Static_assert(offsetof(stl_host_api, abi_major) == 4, "stl_host_api.abi_major");
_Static_assert(offsetof(stl_host_api, abi_minor) == 8, "stl_host_api.abi_minor");
_Static_assert(offsetof(stl_host_api, reserved0) == 12, "stl_host_api.reserved0");
_Static_assert(offsetof(stl_host_api, log) == 16, "stl_host_api.log");
_Static_assert(offsetof(stl_host_api, storage_query) == 24, "stl_host_api.storage_query");
_Static_assert(offsetof(stl_host_api, storage_exec) == 32, "stl_host_api.storage_exec");
_Static_assert(offsetof(stl_host_api, emit_event) == 40, "stl_host_api.emit_event");
_Static_assert(offsetof(stl_host_api, call_service) == 48, "stl_host_api.call_service");
_Static_assert(offsetof(stl_host_api, config_get) == 56, "stl_host_api.config_get");
_Static_assert(offsetof(stl_host_api, clock_now_ms) == 64, "stl_host_api.clock_now_ms");
_Static_assert(offsetof(stl_host_api, random_bytes) == 72, "stl_host_api.random_bytes");
_Static_assert(offsetof(stl_host_api, free_bytes) == 80, "stl_host_api.free_bytes");
_Static_assert(offsetof(stl_host_api, reserved) == 88, "stl_host_api.reserved");
_Static_assert(offsetof(stl_host_api, hook_function) == 152, "stl_host_api.hook_function");
_Static_assert(offsetof(stl_route, struct_size) == 0, "stl_route.struct_size");
_Static_assert(offsetof(stl_route, flags) == 4, "stl_route.flags");
_Static_assert(offsetof(stl_route, method) == 8, "stl_route.method");
_Static_assert(offsetof(stl_route, path) == 16, "stl_route.path");
_Static_assert(offsetof(stl_route, summary) == 24, "stl_route.summary");
_Static_assert(offsetof(stl_route, request_schema_json) == 32, "stl_route.request_schema_json");
_Static_assert(offsetof(stl_route, response_schema_json) == 40, "stl_route.response_schema_json");
_Static_assert(offsetof(stl_service, struct_size) == 0, "stl_service.struct_size");
_Static_assert(offsetof(stl_service, flags) == 4, "stl_service.flags");
_Static_assert(offsetof(stl_service, name) == 8, "stl_service.name");
_Static_assert(offsetof(stl_service, summary) == 16, "stl_service.summary");
_Static_assert(offsetof(stl_slot, struct_size) == 0, "stl_slot.struct_size");
_Static_assert(offsetof(stl_slot, revision) == 4, "stl_slot.revision");
_Static_assert(offsetof(stl_slot, name) == 8, "stl_slot.name");
_Static_assert(offsetof(stl_hook_point, struct_size) == 0, "stl_hook_point.struct_size");
_Static_assert(offsetof(stl_hook_point, reserved0) == 4, "stl_hook_point.reserved0");
_Static_assert(offsetof(stl_hook_point, name) == 8, "stl_hook_point.name");
_Static_assert(offsetof(stl_hook_point, signature) == 16, "stl_hook_point.signature");
_Static_assert(offsetof(stl_hook_point, summary) == 24, "stl_hook_point.summary");
_Static_assert(offsetof(stl_migration, struct_size) == 0, "stl_migration.struct_size");
_Static_assert(offsetof(stl_migration, reserved0) == 4, "stl_migration.reserved0");
_Static_assert(offsetof(stl_migration, id) == 8, "stl_migration.id");
_Static_assert(offsetof(stl_migration, sql) == 16, "stl_migration.sql");
_Static_assert(offsetof(stl_migration, sql_postgres) == 24, "stl_migration.sql_postgres (1.2)");
_Static_assert(offsetof(stl_request, struct_size) == 0, "stl_request.struct_size");
_Static_assert(offsetof(stl_request, flags) == 4, "stl_request.flags");
_Static_assert(offsetof(stl_request, method) == 8, "stl_request.method");
_Static_assert(offsetof(stl_request, path) == 24, "stl_request.path");
_Static_assert(offsetof(stl_request, route) == 40, "stl_request.route");
_Static_assert(offsetof(stl_request, path_params_json) == 56, "stl_request.path_params_json");
_Static_assert(offsetof(stl_request, query_json) == 72, "stl_request.query_json");
_Static_assert(offsetof(stl_request, headers_json) == 88, "stl_request.headers_json");
_Static_assert(offsetof(stl_request, body) == 104, "stl_request.body");
_Static_assert(offsetof(stl_request, client_ip) == 120, "stl_request.client_ip");
_Static_assert(offsetof(stl_request, request_id) == 136, "stl_request.request_id");
_Static_assert(offsetof(stl_request, user_id) == 152, "stl_request.user_id");
_Static_assert(offsetof(stl_request, user_role) == 168, "stl_request.user_role");
_Static_assert(offsetof(stl_response, struct_size) == 0, "stl_response.struct_size");
_Static_assert(offsetof(stl_response, status) == 4, "stl_response.status");
_Static_assert(offsetof(stl_response, body) == 8, "stl_response.body");
_Static_assert(offsetof(stl_plugin_descriptor, struct_size) == 0, "stl_plugin_descriptor.struct_size");
_Static_assert(offsetof(stl_plugin_descriptor, abi_major) == 4, "stl_plugin_descriptor.abi_major");
_Static_assert(offsetof(stl_plugin_descriptor, abi_minor) == 8, "stl_plugin_descriptor.abi_minor");
_Static_assert(offsetof(stl_plugin_descriptor, tick_interval_ms) == 12, "stl_plugin_descriptor.tick_interval_ms");
_Static_assert(offsetof(stl_plugin_descriptor, id) == 16, "stl_plugin_descriptor.id");
_Static_assert(offsetof(stl_plugin_descriptor, version) == 24, "stl_plugin_descriptor.version");
_Static_assert(offsetof(stl_plugin_descriptor, description) == 32, "stl_plugin_descriptor.description");
_Static_assert(offsetof(stl_plugin_descriptor, swift_compiler) == 40, "stl_plugin_descriptor.swift_compiler");
_Static_assert(offsetof(stl_plugin_descriptor, routes) == 48, "stl_plugin_descriptor.routes");
_Static_assert(offsetof(stl_plugin_descriptor, route_count) == 56, "stl_plugin_descriptor.route_count");
_Static_assert(offsetof(stl_plugin_descriptor, services) == 64, "stl_plugin_descriptor.services");
_Static_assert(offsetof(stl_plugin_descriptor, service_count) == 72, "stl_plugin_descriptor.service_count");
_Static_assert(offsetof(stl_plugin_descriptor, slots) == 80, "stl_plugin_descriptor.slots");
_Static_assert(offsetof(stl_plugin_descriptor, slot_count) == 88, "stl_plugin_descriptor.slot_count");
_Static_assert(offsetof(stl_plugin_descriptor, migrations) == 96, "stl_plugin_descriptor.migrations");
_Static_assert(offsetof(stl_plugin_descriptor, migration_count) == 104, "stl_plugin_descriptor.migration_count");
_Static_assert(offsetof(stl_plugin_descriptor, subscriptions) == 112, "stl_plugin_descriptor.subscriptions");
_Static_assert(offsetof(stl_plugin_descriptor, subscription_count) == 120, "stl_plugin_descriptor.subscription_count");
_Static_assert(offsetof(stl_plugin_descriptor, create) == 128, "stl_plugin_descriptor.create");
_Static_assert(offsetof(stl_plugin_descriptor, destroy) == 136, "stl_plugin_descriptor.destroy");
_Static_assert(offsetof(stl_plugin_descriptor, handle_request) == 144, "stl_plugin_descriptor.handle_request");
_Static_assert(offsetof(stl_plugin_descriptor, call_service) == 152, "stl_plugin_descriptor.call_service");
_Static_assert(offsetof(stl_plugin_descriptor, on_event) == 160, "stl_plugin_descriptor.on_event");
_Static_assert(offsetof(stl_plugin_descriptor, tick) == 168, "stl_plugin_descriptor.tick");
_Static_assert(offsetof(stl_plugin_descriptor, free_bytes) == 176, "stl_plugin_descriptor.free_bytes");
_Static_assert(offsetof(stl_plugin_descriptor, reserved) == 184, "stl_plugin_descriptor.reserved");
_Static_assert(offsetof(stl_plugin_descriptor, hook_points) == 248, "stl_plugin_descriptor.hook_points");
_Static_assert(offsetof(stl_plugin_descriptor, hook_point_count) == 256, "stl_plugin_descriptor.hook_point_count");
_Static_assert(offsetof(stl_plugin_descriptor, slot_uses) == 264, "stl_plugin_descriptor.slot_uses");
_Static_assert(offsetof(stl_plugin_descriptor, slot_use_count) == 272, "stl_plugin_descriptor.slot_use_count");
#endif
