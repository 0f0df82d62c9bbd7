/*
 * A Node-API addon that runs convolutions on the tfjs wasm backend's heap:
 * every call gets that WebAssembly.Memory's ArrayBuffer and byte offsets of
 * tfjs tensors in it, so tensors never move. The instruction set is picked
 * per Node environment, by default the best CPUID shows (AVX-512 where the CPU
 * and OS have it, else AVX2 + FMA); `bestIsa()` is empty where neither runs,
 * and the JS side then keeps the wasm kernels. Scratch memory is the addon's own, kept per
 * environment (one per worker thread) and freed with it.
 */
#include <cpuid.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"
#include "node-api.h"

#define EXPORTED __attribute__((visibility("default")))
#define MAX_THREADS 64

enum isa { ISA_NONE, ISA_AVX2, ISA_AVX512 };
static const char *const ISA_NAMES[] = {"", "avx2", "avx512"};

static enum isa cpu_isa(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return ISA_NONE;
  const unsigned fma = 1u << 12, osxsave = 1u << 27, avx = 1u << 28;
  if ((c & (fma | osxsave | avx)) != (fma | osxsave | avx)) return ISA_NONE;
  unsigned lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & 0x6) != 0x6) return ISA_NONE; /* the OS saves SSE and AVX state */
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 5))) return ISA_NONE;
  const int avx512f = (b >> 16) & 1, os_saves_zmm = (lo & 0xe6) == 0xe6;
  return avx512f && os_saves_zmm ? ISA_AVX512 : ISA_AVX2;
}

typedef struct {
  enum isa isa;
  float *scratch;
  size_t capacity; /* floats */
} addon_state;

static void free_state(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  free(((addon_state *)data)->scratch);
  free(data);
}

/* ---- threads ---- */

typedef struct {
  void (*body)(void *, int, int);
  void *ctx;
  int t, threads;
} thread_part;

static void *run_part(void *arg) {
  thread_part *p = arg;
  p->body(p->ctx, p->t, p->threads);
  return NULL;
}

/* Threads are started per call: tens of microseconds against milliseconds of work, and nothing outlives a call. */
void parallel_for(int threads, void (*body)(void *, int, int), void *ctx) {
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  pthread_t ids[MAX_THREADS];
  thread_part parts[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (int t = 1; t < threads; t++) {
    parts[t] = (thread_part){body, ctx, t, threads};
    started[t] = pthread_create(&ids[t], NULL, run_part, &parts[t]) == 0;
  }
  body(ctx, 0, threads);
  for (int t = 1; t < threads; t++) {
    if (started[t]) {
      pthread_join(ids[t], NULL);
    } else {
      body(ctx, t, threads); /* no thread to spare: this one does that part too */
    }
  }
}

typedef struct {
  const float *src;
  float *dst;
  int n, h, w, c, hp, wp, top, left, step_h, step_w;
} spread_job;

static void spread_images(void *arg, int t, int threads) {
  const spread_job *j = arg;
  const int b0 = (int)((int64_t)j->n * t / threads), b1 = (int)((int64_t)j->n * (t + 1) / threads);
  for (int b = b0; b < b1; b++) {
    float *image = j->dst + (size_t)b * j->hp * j->wp * j->c;
    memset(image, 0, (size_t)j->hp * j->wp * j->c * sizeof(float));
    for (int y = 0; y < j->h; y++) {
      const int Y = j->top + y * j->step_h;
      if (Y < 0 || Y >= j->hp) continue;
      const float *from = j->src + ((size_t)b * j->h + y) * j->w * j->c;
      float *to = image + (size_t)Y * j->wp * j->c;
      for (int x = 0; x < j->w; x++) {
        const int X = j->left + x * j->step_w;
        if (X >= 0 && X < j->wp) memcpy(to + (size_t)X * j->c, from + (size_t)x * j->c, (size_t)j->c * sizeof(float));
      }
    }
  }
}

void spread_copy(const float *src, int n, int h, int w, int c, float *dst, int hp, int wp, int top, int left,
                 int step_h, int step_w, int threads) {
  spread_job job = {src, dst, n, h, w, c, hp, wp, top, left, step_h, step_w};
  parallel_for(threads < n ? threads : n, spread_images, &job);
}

/* ---- Node-API glue ---- */

static addon_state *state_of(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return data;
}

static float *scratch_of(napi_env env, addon_state *st, size_t floats) {
  if (floats <= st->capacity) return st->scratch;
  free(st->scratch);
  st->capacity = 0;
  st->scratch = aligned_alloc(64, ((floats * sizeof(float)) + 63) & ~(size_t)63);
  if (st->scratch == NULL) {
    napi_throw_error(env, NULL, "x86-64 kernels: out of memory for scratch");
    return NULL;
  }
  st->capacity = floats;
  return st->scratch;
}

#define MAX_ARGS 24

/* A call's arguments: the heap's ArrayBuffer, then unsigned integers. */
typedef struct {
  char *heap;
  size_t heap_bytes;
  uint32_t v[MAX_ARGS];
} call_args;

static int read_args(napi_env env, napi_callback_info info, size_t expected, call_args *out) {
  napi_value argv[MAX_ARGS + 1];
  size_t argc = MAX_ARGS + 1;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc != expected + 1 ||
      napi_get_arraybuffer_info(env, argv[0], &data, &out->heap_bytes) != 0) {
    napi_throw_error(env, NULL, "x86-64 kernels: expected the wasm heap's ArrayBuffer and unsigned integers");
    return 0;
  }
  out->heap = data;
  for (size_t i = 0; i < expected; i++) {
    if (napi_get_value_uint32(env, argv[i + 1], &out->v[i]) != 0) {
      napi_throw_error(env, NULL, "x86-64 kernels: every argument after the heap must be an unsigned integer");
      return 0;
    }
  }
  return 1;
}

/* The float array of `count` elements at byte `offset` of the heap, or NULL (and a JS error) if it does not fit. */
static float *tensor_at(napi_env env, const call_args *a, uint32_t offset, uint64_t count) {
  if (offset % sizeof(float) != 0 || (uint64_t)offset + count * sizeof(float) > a->heap_bytes) {
    napi_throw_error(env, NULL, "x86-64 kernels: a tensor lies outside the wasm heap");
    return NULL;
  }
  return (float *)(a->heap + offset);
}

/* Shape arguments in conv_shape's order, from a->v[first]; 0 (and a JS error) if one is out of range. */
static int shape_from(napi_env env, const call_args *a, int first, conv_shape *s) {
  const uint32_t *v = a->v + first;
  *s = (conv_shape){(int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4], (int)v[5], (int)v[6],
                    (int)v[7], (int)v[8], (int)v[9], (int)v[10], (int)v[11], (int)v[12]};
  for (int i = 0; i < 13; i++) {
    if (v[i] > (1u << 24) || (i < 11 && v[i] == 0)) {
      napi_throw_error(env, NULL, "x86-64 kernels: a convolution dimension is 0 or too large");
      return 0;
    }
  }
  /* The rows and columns a convolution reads, (oh - 1) * sh + fh, must stay far from int's range. */
  if ((uint64_t)(s->oh - 1) * s->sh + s->fh > (1u << 24) || (uint64_t)(s->ow - 1) * s->sw + s->fw > (1u << 24)) {
    napi_throw_error(env, NULL, "x86-64 kernels: a convolution reads too many rows or columns");
    return 0;
  }
  return 1;
}

static uint64_t count4(int a, int b, int c, int d) { return (uint64_t)a * b * c * d; }

static int supported(napi_env env, const addon_state *st) {
  if (st->isa != ISA_NONE) return 1;
  napi_throw_error(env, NULL, "x86-64 kernels: this CPU lacks AVX2 and FMA");
  return 0;
}

#define ISA_CALL(st, name, ...) \
  ((st)->isa == ISA_AVX512 ? name##_avx512(__VA_ARGS__) : name##_avx2(__VA_ARGS__))

/* The tensors at offsets a->v[0..count) of the given sizes, in t; 0 (and a JS error) if one does not fit the heap. */
static int tensors_at(napi_env env, const call_args *a, int count, const uint64_t *sizes, float **t) {
  for (int i = 0; i < count; i++) {
    t[i] = tensor_at(env, a, a->v[i], sizes[i]);
    if (t[i] == NULL) return 0;
  }
  return 1;
}

/* A call's arguments (the heap, then `expected` integers, the shape from a.v[first]) on a CPU the addon runs on. */
static int call_from(napi_env env, napi_callback_info info, size_t expected, int first, call_args *a, conv_shape *s) {
  return supported(env, state_of(env)) && read_args(env, info, expected, a) && shape_from(env, a, first, s);
}

/* conv2d(heap, x, w, y, bias (0: none), relu, threads, n, h, w, cin, oh, ow, cout, fh, fw, sh, sw, pt, pl) */
static napi_value conv2d(napi_env env, napi_callback_info info) {
  call_args a;
  conv_shape s;
  float *ts[3];
  if (!call_from(env, info, 19, 6, &a, &s)) return NULL;
  const uint64_t sizes[3] = {count4(s.n, s.h, s.w, s.cin), count4(s.fh, s.fw, s.cin, s.cout), count4(s.n, s.oh, s.ow, s.cout)};
  if (!tensors_at(env, &a, 3, sizes, ts)) return NULL;
  const float *bias = a.v[3] != 0 ? tensor_at(env, &a, a.v[3], (uint64_t)s.cout) : NULL;
  addon_state *st = state_of(env);
  float *scratch = a.v[3] == 0 || bias ? scratch_of(env, st, ISA_CALL(st, conv_forward_scratch, &s)) : NULL;
  if (scratch == NULL) return NULL;
  ISA_CALL(st, conv_forward, &s, ts[0], ts[1], bias, a.v[4] != 0, ts[2], scratch, (int)a.v[5]);
  return NULL;
}

/* conv2dFilterGrad(heap, x, dy, dw, threads, n, h, w, cin, oh, ow, cout, fh, fw, sh, sw, pt, pl) */
static napi_value conv2d_filter_grad(napi_env env, napi_callback_info info) {
  call_args a;
  conv_shape s;
  float *ts[3];
  if (!call_from(env, info, 17, 4, &a, &s)) return NULL;
  const uint64_t sizes[3] = {count4(s.n, s.h, s.w, s.cin), count4(s.n, s.oh, s.ow, s.cout), count4(s.fh, s.fw, s.cin, s.cout)};
  if (!tensors_at(env, &a, 3, sizes, ts)) return NULL;
  addon_state *st = state_of(env);
  float *scratch = scratch_of(env, st, ISA_CALL(st, conv_filter_grad_scratch, &s));
  if (scratch == NULL) return NULL;
  ISA_CALL(st, conv_filter_grad, &s, ts[0], ts[1], ts[2], scratch, (int)a.v[3]);
  return NULL;
}

/*
 * conv2dInputGrad(heap, dy, w, dx, threads, n, h, w, cin, oh, ow, cout, fh, fw, sh, sw, pt, pl): the forward
 * convolution, stride 1, of dy spread out by the strides and padded so the filter, turned half a turn with its
 * channel axes swapped, lines up with dx's pixels.
 */
static napi_value conv2d_input_grad(napi_env env, napi_callback_info info) {
  call_args a;
  conv_shape s;
  float *ts[3];
  if (!call_from(env, info, 17, 4, &a, &s)) return NULL;
  const uint64_t sizes[3] = {count4(s.n, s.oh, s.ow, s.cout), count4(s.fh, s.fw, s.cin, s.cout), count4(s.n, s.h, s.w, s.cin)};
  if (!tensors_at(env, &a, 3, sizes, ts)) return NULL;
  const float *dy = ts[0], *w = ts[1];
  float *dx = ts[2];
  addon_state *st = state_of(env);
  const conv_shape t = {s.n, s.h - 1 + s.fh, s.w - 1 + s.fw, s.cout, s.h, s.w, s.cin, s.fh, s.fw, 1, 1, 0, 0};
  const size_t flipped = ((size_t)s.fh * s.fw * s.cin * s.cout + 15) & ~(size_t)15;
  const size_t spread = ((size_t)t.n * t.h * t.w * t.cin + 15) & ~(size_t)15;
  float *scratch = scratch_of(env, st, flipped + spread + ISA_CALL(st, conv_forward_scratch, &t));
  if (scratch == NULL) return NULL;
  for (int ky = 0; ky < s.fh; ky++)
    for (int kx = 0; kx < s.fw; kx++)
      for (int ci = 0; ci < s.cin; ci++)
        for (int co = 0; co < s.cout; co++)
          scratch[(((size_t)(s.fh - 1 - ky) * s.fw + (s.fw - 1 - kx)) * s.cout + co) * s.cin + ci] =
              w[(((size_t)ky * s.fw + kx) * s.cin + ci) * s.cout + co];
  spread_copy(dy, s.n, s.oh, s.ow, s.cout, scratch + flipped, t.h, t.w, s.fh - 1 - s.pt, s.fw - 1 - s.pl, s.sh, s.sw,
              (int)a.v[3]);
  ISA_CALL(st, conv_forward, &t, scratch + flipped, scratch, NULL, 0, dx, scratch + flipped + spread, (int)a.v[3]);
  return NULL;
}

static napi_value best_isa(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  const char *name = ISA_NAMES[cpu_isa()];
  napi_create_string_utf8(env, name, strlen(name), &result);
  return result;
}

/* useIsa(name): runs "avx2" on a CPU that also has AVX-512, to compare them; refuses what the CPU lacks. */
static napi_value use_isa(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  size_t argc = 1;
  char name[16] = {0};
  size_t length;
  addon_state *st = state_of(env);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc != 1 ||
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &length) != 0) {
    napi_throw_error(env, NULL, "x86-64 kernels: useIsa expects \"avx2\" or \"avx512\"");
    return NULL;
  }
  const enum isa wanted = strcmp(name, "avx512") == 0 ? ISA_AVX512 : strcmp(name, "avx2") == 0 ? ISA_AVX2 : ISA_NONE;
  if (wanted == ISA_NONE) {
    napi_throw_error(env, NULL, "x86-64 kernels: useIsa expects \"avx2\" or \"avx512\"");
    return NULL;
  }
  if (wanted > cpu_isa()) {
    napi_throw_error(env, NULL, "x86-64 kernels: useIsa got an instruction set this CPU does not run");
    return NULL;
  }
  st->isa = wanted;
  return NULL;
}

static void export_function(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, strlen(name), cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

/* Node-API's entry point (what NAPI_MODULE_INIT defines): called once per environment, so workers load it too. */
EXPORTED napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  addon_state *st = calloc(1, sizeof *st);
  if (st == NULL || napi_set_instance_data(env, st, free_state, NULL) != 0) {
    free(st);
    napi_throw_error(env, NULL, "x86-64 kernels: could not keep the addon's state");
    return NULL;
  }
  st->isa = cpu_isa();
  export_function(env, exports, "bestIsa", best_isa);
  export_function(env, exports, "useIsa", use_isa);
  export_function(env, exports, "conv2d", conv2d);
  export_function(env, exports, "conv2dFilterGrad", conv2d_filter_grad);
  export_function(env, exports, "conv2dInputGrad", conv2d_input_grad);
  return exports;
}
