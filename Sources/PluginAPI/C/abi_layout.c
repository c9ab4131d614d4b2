/* Compile-time checks of the ABI's layout on this platform. The header is the contract; this file
 * only makes sure a change that would move a 1.0 field fails the build instead of a plugin. */
#include "stelltron_plugin.h"

_Static_assert(sizeof(stl_str) == 2 * sizeof(void *), "stl_str is a pointer and a length");
_Static_assert(offsetof(stl_plugin_descriptor, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(stl_host_api, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(stl_request, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(stl_response, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(stl_plugin_descriptor, id) == 16, "1.0 header fields are fixed");
