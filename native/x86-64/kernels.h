/*
 * The convolution kernels of the x86-64 addon. conv.c is compiled once per
 * instruction set (ISA names the functions: conv_forward_avx2, ...); addon.c
 * picks one at run time and owns threads, scratch memory and the Node-API glue.
 * All layouts are NHWC, filters HWIO, float32.
 */
#ifndef X86_KERNELS_H
#define X86_KERNELS_H
#include <stddef.h>

/* One convolution's shapes: x (n, h, w, cin) -> y (n, oh, ow, cout), filter (fh, fw, cin, cout). */
typedef struct {
  int n, h, w, cin, oh, ow, cout, fh, fw, sh, sw, pt, pl;
} conv_shape;

/* Runs body(ctx, t, threads) for t in [0, threads) on that many threads, the caller's being t = 0. */
void parallel_for(int threads, void (*body)(void *ctx, int t, int threads), void *ctx);

/*
 * Copies src (n, h, w, c) into dst (n, hp, wp, c), zero elsewhere: src pixel
 * (y, x) lands on (top + y * step_h, left + x * step_w); pixels that land
 * outside dst are dropped (a negative top or left crops). Images are split
 * over `threads` threads.
 */
void spread_copy(const float *src, int n, int h, int w, int c, float *dst, int hp, int wp, int top, int left,
                 int step_h, int step_w, int threads);

#define DECLARE_ISA(isa)                                                                                       \
  size_t conv_forward_scratch_##isa(const conv_shape *s);                                                      \
  void conv_forward_##isa(const conv_shape *s, const float *x, const float *w, const float *bias, int relu,    \
                          float *y, float *scratch, int threads);                                              \
  size_t conv_filter_grad_scratch_##isa(const conv_shape *s);                                                  \
  void conv_filter_grad_##isa(const conv_shape *s, const float *x, const float *dy, float *dw, float *scratch,  \
                              int threads);
DECLARE_ISA(avx2)
DECLARE_ISA(avx512)

#endif
