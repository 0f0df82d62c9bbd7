/*
 * The few Node-API (N-API) functions the addon calls, declared here rather
 * than taken from node_api.h so the build needs a compiler and nothing else.
 * Node-API is a stable C ABI: these signatures are the same in Node 20, 22
 * and 24, so one binary loads in each (js_native_api.h, NAPI_VERSION 8).
 */
#ifndef X86_NODE_API_H
#define X86_NODE_API_H
#include <stddef.h>
#include <stdint.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status; /* napi_ok is 0 */
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);
typedef void (*napi_finalize)(napi_env env, void *data, void *hint);

napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv,
                             napi_value *this_arg, void **data);
napi_status napi_get_arraybuffer_info(napi_env env, napi_value buffer, void **data, size_t *byte_length);
napi_status napi_get_value_uint32(napi_env env, napi_value value, uint32_t *result);
napi_status napi_get_value_string_utf8(napi_env env, napi_value value, char *buf, size_t bufsize, size_t *result);
napi_status napi_create_function(napi_env env, const char *name, size_t length, napi_callback cb, void *data,
                                 napi_value *result);
napi_status napi_create_string_utf8(napi_env env, const char *str, size_t length, napi_value *result);
napi_status napi_get_undefined(napi_env env, napi_value *result);
napi_status napi_set_named_property(napi_env env, napi_value object, const char *name, napi_value value);
napi_status napi_throw_error(napi_env env, const char *code, const char *msg);
napi_status napi_set_instance_data(napi_env env, void *data, napi_finalize finalize_cb, void *finalize_hint);
napi_status napi_get_instance_data(napi_env env, void **data);

#endif
