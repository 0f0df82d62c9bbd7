/*
 * Convolution forward and filter gradient as register-blocked matrix
 * products, written once with vector types of VW floats and compiled per
 * instruction set (scripts/build-x86-64.sh): AVX2 + FMA (VW 8) and AVX-512
 * (VW 16). The input is zero-padded into scratch unless the convolution reads
 * it as it lies, so every patch is in bounds and the inner loops have no
 * branches. A block of MR pixels (or MR patch entries) times NR output
 * channels stays in 2 * MR registers while the loop runs along the shared
 * axis; partial sums of the filter gradient go to float64 per PIXEL_CHUNK
 * pixels, since one float32 sum over a batch's million pixels loses digits.
 * Every result is the same whatever the thread count: forward pixels are
 * computed whole by one thread, and the filter gradient is summed in
 * GRADIENT_SLICES fixed slices of the pixels, added in order, so the main
 * thread (two threads) and a worker (one) give the same bits.
 */
#include <stdint.h>
#include <string.h>
#include <immintrin.h>
#include "kernels.h"

#if defined(__AVX512F__)
#define ISA avx512
#define VW 16
#define VMAX(a, b) ((vf)_mm512_max_ps((__m512)(a), (__m512)(b)))
#else
#define ISA avx2
#define VW 8
#define VMAX(a, b) ((vf)_mm256_max_ps((__m256)(a), (__m256)(b)))
#endif
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, ISA)

#define MR 6           /* rows of a register block: pixels (forward) or patch entries (filter gradient) */
#define NV 2           /* vectors per row */
#define NR (NV * VW)   /* output channels of a register block */
#define PIXEL_CHUNK 256
#define GRADIENT_SLICES 8

typedef float vf __attribute__((vector_size(VW * 4)));

static inline vf load_v(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void store_v(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf splat(float s) { return (vf){0} + s; }
static inline int min_i(int a, int b) { return a < b ? a : b; }
static inline size_t round16(size_t floats) { return (floats + 15) & ~(size_t)15; }
static inline int panels_of(int cout) { return (cout + NR - 1) / NR; }

/* Where a convolution reads its input: in place, or a zero-padded copy of hp x wp pixels. */
typedef struct {
  int hp, wp, in_place;
  size_t image_stride;
} input_layout;

static input_layout layout_of(const conv_shape *s) {
  input_layout g = {(s->oh - 1) * s->sh + s->fh, (s->ow - 1) * s->sw + s->fw, 0, 0};
  g.in_place = s->pt == 0 && s->pl == 0 && g.wp == s->w && g.hp <= s->h;
  if (g.in_place) g.hp = s->h;
  g.image_stride = (size_t)g.hp * g.wp * s->cin;
  return g;
}

static size_t padded_floats(const conv_shape *s, const input_layout *g) {
  return g->in_place ? 0 : round16((size_t)s->n * g->image_stride);
}

/* The input as the kernels read it: x itself, or its padded copy written to *scratch (advanced past it). */
static const float *readable_input(const conv_shape *s, const input_layout *g, const float *x, float **scratch,
                                  int threads) {
  if (g->in_place) return x;
  float *xp = *scratch;
  spread_copy(x, s->n, s->h, s->w, s->cin, xp, g->hp, g->wp, s->pt, s->pl, 1, 1, threads);
  *scratch += padded_floats(s, g);
  return xp;
}

/* Offset in the readable input of the top-left patch entry of output pixel p. */
static inline size_t pixel_base(const conv_shape *s, const input_layout *g, int p) {
  const int hw = s->oh * s->ow, image = p / hw, r = p % hw, oy = r / s->ow, ox = r % s->ow;
  return (size_t)image * g->image_stride + ((size_t)oy * s->sh * g->wp + (size_t)ox * s->sw) * s->cin;
}

/* ---- forward: y[p, co] = bias[co] + sum_k patch(p)[k] * w[k, co] ---- */

/*
 * A few output channels and many input channels (the input gradient of a
 * first layer: 32 channels in, 1 out) would waste most of a register block's
 * NR channels, so such a convolution runs as dot products along the patch
 * instead, 8 lanes wide on every instruction set so that AVX2 and AVX-512
 * still give the same bits.
 */
static int narrow(const conv_shape *s) { return s->cout <= 4 && s->cin >= 8; }

typedef float v8 __attribute__((vector_size(32)));

static inline v8 load8(const float *p) { v8 v; memcpy(&v, p, sizeof v); return v; }

size_t FN(conv_forward_scratch)(const conv_shape *s) {
  const input_layout g = layout_of(s);
  const size_t k = (size_t)s->fh * s->fw * s->cin, panels = (size_t)panels_of(s->cout);
  return padded_floats(s, &g) + round16(k * panels * NR) + round16(panels * NR);
}

typedef struct {
  const conv_shape *s;
  const input_layout *g;
  const float *x, *w, *bias; /* readable input; filter transposed to (cout, k) */
  float *y;
  int relu;
} narrow_job;

/* Pixels a narrow dot product runs at once: independent sums, so the FMAs overlap instead of waiting on one another. */
#define NARROW_PIXELS 4

static void forward_narrow_rows(void *arg, int t, int threads) {
  const narrow_job *job = arg;
  const conv_shape *s = job->s;
  const int pixels = s->n * s->oh * s->ow, k = s->fh * s->fw * s->cin, whole = s->cin & ~7;
  const int blocks = (pixels + NARROW_PIXELS - 1) / NARROW_PIXELS;
  const int b0 = (int)((int64_t)blocks * t / threads), b1 = (int)((int64_t)blocks * (t + 1) / threads);
  for (int b = b0; b < b1; b++) {
    const int p0 = b * NARROW_PIXELS, count = min_i(NARROW_PIXELS, pixels - p0);
    const float *patch[NARROW_PIXELS];
    for (int i = 0; i < NARROW_PIXELS; i++) patch[i] = job->x + pixel_base(s, job->g, p0 + min_i(i, count - 1));
    for (int co = 0; co < s->cout; co++) {
      const float *w = job->w + (size_t)co * k;
      v8 acc[NARROW_PIXELS] = {{0}};
      float tail[NARROW_PIXELS] = {0};
      for (int ky = 0; ky < s->fh; ky++) {
        for (int kx = 0; kx < s->fw; kx++, w += s->cin) {
          const size_t tap = ((size_t)ky * job->g->wp + kx) * s->cin;
          for (int ci = 0; ci < whole; ci += 8) {
            const v8 wv = load8(w + ci);
            for (int i = 0; i < NARROW_PIXELS; i++) acc[i] += load8(patch[i] + tap + ci) * wv;
          }
          for (int ci = whole; ci < s->cin; ci++)
            for (int i = 0; i < NARROW_PIXELS; i++) tail[i] += patch[i][tap + ci] * w[ci];
        }
      }
      for (int i = 0; i < count; i++) {
        const v8 a = acc[i];
        float sum = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + tail[i];
        if (job->bias != NULL) sum += job->bias[co];
        job->y[(size_t)(p0 + i) * s->cout + co] = job->relu && sum < 0.f ? 0.f : sum;
      }
    }
  }
}

typedef struct {
  const conv_shape *s;
  const input_layout *g;
  const float *x, *w, *bias; /* readable input; filter and bias packed in panels of NR channels */
  float *y;
  int relu, blocks;
} forward_job;

static void forward_rows(void *arg, int t, int threads) {
  const forward_job *job = arg;
  const conv_shape *s = job->s;
  const int pixels = s->n * s->oh * s->ow, k = s->fh * s->fw * s->cin, panels = panels_of(s->cout);
  const int b0 = (int)((int64_t)job->blocks * t / threads), b1 = (int)((int64_t)job->blocks * (t + 1) / threads);
  for (int b = b0; b < b1; b++) {
    const int p0 = b * MR, rows = min_i(MR, pixels - p0);
    const float *row[MR];
    for (int i = 0; i < MR; i++) row[i] = job->x + pixel_base(s, job->g, p0 + min_i(i, rows - 1));
    for (int j = 0; j < panels; j++) {
      const float *wp = job->w + (size_t)j * k * NR;
      vf acc[MR][NV];
      for (int i = 0; i < MR; i++)
        for (int v = 0; v < NV; v++) acc[i][v] = load_v(job->bias + j * NR + v * VW);
      for (int ky = 0; ky < s->fh; ky++) {
        for (int kx = 0; kx < s->fw; kx++) {
          const size_t tap = ((size_t)ky * job->g->wp + kx) * s->cin;
          const float *r[MR];
          for (int i = 0; i < MR; i++) r[i] = row[i] + tap;
          for (int ci = 0; ci < s->cin; ci++, wp += NR) {
            const vf w0 = load_v(wp), w1 = load_v(wp + VW);
            for (int i = 0; i < MR; i++) {
              const vf xi = splat(r[i][ci]);
              acc[i][0] += xi * w0;
              acc[i][1] += xi * w1;
            }
          }
        }
      }
      if (job->relu)
        for (int i = 0; i < MR; i++)
          for (int v = 0; v < NV; v++) acc[i][v] = VMAX(splat(0.f), acc[i][v]); /* NaN stays NaN: max returns its second operand */
      const int cols = min_i(NR, s->cout - j * NR);
      float *out = job->y + (size_t)p0 * s->cout + j * NR;
      if (cols == NR) {
        for (int i = 0; i < rows; i++)
          for (int v = 0; v < NV; v++) store_v(out + (size_t)i * s->cout + v * VW, acc[i][v]);
      } else {
        float tail[NR];
        for (int i = 0; i < rows; i++) {
          for (int v = 0; v < NV; v++) store_v(tail + v * VW, acc[i][v]);
          memcpy(out + (size_t)i * s->cout, tail, (size_t)cols * sizeof(float));
        }
      }
    }
  }
}

/* Copies the (k, cout) matrix m into panels of NR columns, zero-padded: panel j is k rows of NR. */
static void pack_panels(const float *m, int k, int cout, float *out) {
  for (int j = 0; j < panels_of(cout); j++) {
    const int cols = min_i(NR, cout - j * NR);
    for (int r = 0; r < k; r++, out += NR) {
      memcpy(out, m + (size_t)r * cout + j * NR, (size_t)cols * sizeof(float));
      memset(out + cols, 0, (size_t)(NR - cols) * sizeof(float));
    }
  }
}

void FN(conv_forward)(const conv_shape *s, const float *x, const float *w, const float *bias, int relu, float *y,
                      float *scratch, int threads) {
  const input_layout g = layout_of(s);
  const int k = s->fh * s->fw * s->cin, panels = panels_of(s->cout);
  const float *input = readable_input(s, &g, x, &scratch, threads);
  const int pixels = s->n * s->oh * s->ow;
  if (narrow(s)) {
    for (int e = 0; e < k; e++)
      for (int co = 0; co < s->cout; co++) scratch[(size_t)co * k + e] = w[(size_t)e * s->cout + co];
    narrow_job job = {s, &g, input, scratch, bias, y, relu};
    parallel_for(min_i(threads, (pixels + NARROW_PIXELS - 1) / NARROW_PIXELS), forward_narrow_rows, &job);
    return;
  }
  float *packed_w = scratch, *packed_bias = scratch + round16((size_t)k * panels * NR);
  pack_panels(w, k, s->cout, packed_w);
  if (bias != NULL) {
    pack_panels(bias, 1, s->cout, packed_bias);
  } else {
    memset(packed_bias, 0, (size_t)panels * NR * sizeof(float));
  }
  const int blocks = (pixels + MR - 1) / MR;
  forward_job job = {s, &g, input, packed_w, packed_bias, y, relu, blocks};
  parallel_for(min_i(threads, blocks), forward_rows, &job);
}

/* ---- filter gradient: dw[k, co] = sum_p patch(p)[k] * dy[p, co] ---- */

/* dy as the kernel reads it: in place when cout fills whole panels, else packed in zero-padded panels. */
static int dy_in_place(const conv_shape *s) { return s->cout % NR == 0; }

static size_t partial_floats(const conv_shape *s) {
  /* float64 partial sums, counted in floats */
  return round16(2 * (size_t)s->fh * s->fw * s->cin * panels_of(s->cout) * NR);
}

size_t FN(conv_filter_grad_scratch)(const conv_shape *s) {
  const input_layout g = layout_of(s);
  const size_t pixels = (size_t)s->n * s->oh * s->ow;
  return padded_floats(s, &g) + (dy_in_place(s) ? 0 : round16(pixels * panels_of(s->cout) * NR)) +
         GRADIENT_SLICES * partial_floats(s);
}

typedef struct {
  const conv_shape *s;
  const input_layout *g;
  const float *x, *dy;
  size_t dy_stride, panel_stride; /* floats between pixels of dy, and between its panels */
  double *partials;               /* one (panels, k, NR) block per slice */
  int chunks;
} filter_grad_job;

/* Sums the chunks of one slice of the pixels into that slice's partial. */
static void filter_grad_slice(const filter_grad_job *job, int slice) {
  const conv_shape *s = job->s;
  const int pixels = s->n * s->oh * s->ow, k = s->fh * s->fw * s->cin, panels = panels_of(s->cout);
  const int row_len = s->fw * s->cin;
  double *part = (double *)((float *)job->partials + (size_t)slice * partial_floats(s));
  memset(part, 0, (size_t)panels * k * NR * sizeof(double));
  const int c0 = (int)((int64_t)job->chunks * slice / GRADIENT_SLICES);
  const int c1 = (int)((int64_t)job->chunks * (slice + 1) / GRADIENT_SLICES);
  size_t base[PIXEL_CHUNK];
  for (int c = c0; c < c1; c++) {
    const int p0 = c * PIXEL_CHUNK, count = min_i(PIXEL_CHUNK, pixels - p0);
    for (int q = 0; q < count; q++) base[q] = pixel_base(s, job->g, p0 + q);
    for (int j = 0; j < panels; j++) {
      const float *dy = job->dy + (size_t)j * job->panel_stride + (size_t)p0 * job->dy_stride;
      for (int k0 = 0; k0 < k; k0 += MR) {
        const int rows = min_i(MR, k - k0);
        size_t off[MR];
        for (int i = 0; i < MR; i++) {
          const int e = k0 + min_i(i, rows - 1), ky = e / row_len, rem = e % row_len;
          off[i] = (size_t)ky * job->g->wp * s->cin + rem;
        }
        vf acc[MR][NV];
        for (int i = 0; i < MR; i++)
          for (int v = 0; v < NV; v++) acc[i][v] = splat(0.f);
        const float *d = dy;
        for (int q = 0; q < count; q++, d += job->dy_stride) {
          const float *xr = job->x + base[q];
          const vf d0 = load_v(d), d1 = load_v(d + VW);
          for (int i = 0; i < MR; i++) {
            const vf xi = splat(xr[off[i]]);
            acc[i][0] += xi * d0;
            acc[i][1] += xi * d1;
          }
        }
        float sums[NR];
        for (int i = 0; i < rows; i++) {
          double *to = part + ((size_t)j * k + k0 + i) * NR;
          for (int v = 0; v < NV; v++) store_v(sums + v * VW, acc[i][v]);
          for (int col = 0; col < NR; col++) to[col] += sums[col];
        }
      }
    }
  }
}

static void filter_grad_slices(void *arg, int t, int threads) {
  for (int slice = t; slice < GRADIENT_SLICES; slice += threads) filter_grad_slice(arg, slice);
}

void FN(conv_filter_grad)(const conv_shape *s, const float *x, const float *dy, float *dw, float *scratch,
                          int threads) {
  const input_layout g = layout_of(s);
  const int pixels = s->n * s->oh * s->ow, k = s->fh * s->fw * s->cin, panels = panels_of(s->cout);
  const float *input = readable_input(s, &g, x, &scratch, threads);
  filter_grad_job job = {s, &g, input, dy, (size_t)s->cout, NR, NULL, (pixels + PIXEL_CHUNK - 1) / PIXEL_CHUNK};
  if (!dy_in_place(s)) {
    pack_panels(dy, pixels, s->cout, scratch);
    job.dy = scratch;
    job.dy_stride = NR;
    job.panel_stride = (size_t)pixels * NR;
    scratch += round16((size_t)pixels * panels * NR);
  }
  job.partials = (double *)scratch;
  parallel_for(min_i(threads, GRADIENT_SLICES), filter_grad_slices, &job);
  for (int e = 0; e < k; e++) {
    for (int co = 0; co < s->cout; co++) {
      const size_t at = ((size_t)(co / NR) * k + e) * NR + co % NR;
      double sum = 0;
      for (int slice = 0; slice < GRADIENT_SLICES; slice++) {
        sum += ((const double *)(scratch + (size_t)slice * partial_floats(s)))[at];
      }
      dw[(size_t)e * s->cout + co] = (float)sum;
    }
  }
}
