/*
 * SIMD training kernels that run on tensors living in the tfjs wasm backend's
 * heap. The module imports that backend's WebAssembly.Memory, so every pointer
 * below is a tfjs tensor's memoryOffset (or scratch from the backend's malloc)
 * and nothing is copied in or out.
 *
 * Built without libc (scripts/build-wasm.sh): no static data and no stack
 * frames (temporaries stay in wasm locals or caller-provided scratch), so the
 * module never touches memory the tfjs allocator owns except the buffers it is
 * handed. All layouts are NHWC / row-major float32.
 */
#include <wasm_simd128.h>

typedef __SIZE_TYPE__ size_t;
typedef unsigned int uint32_t;
typedef int int32_t;

#define EXPORT(name) __attribute__((export_name(#name)))

/*
 * acc + a * b. scripts/build-wasm.sh compiles this file twice: the relaxed
 * SIMD build fuses it into one instruction (an FMA where the CPU has one,
 * which is faster and rounds once); the plain simd128 build, for runtimes
 * without relaxed SIMD, multiplies then adds. clang 16 has the builtin but
 * not yet wasm_f32x4_relaxed_madd.
 */
#ifdef __wasm_relaxed_simd__
#define MADD(a, b, acc) ((v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)(a), (__f32x4)(b), (__f32x4)(acc)))
#else
#define MADD(a, b, acc) wasm_f32x4_add(wasm_f32x4_mul(a, b), acc)
#endif

/*
 * Rows summed in float32 before being added to the float64 totals: long
 * float32 running sums lose digits (a 4096-image batch has 2.8M conv output
 * pixels), per-block float32 sums do not.
 */
#define BLOCK_ROWS 64

static void zero_f32(float *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = 0.f;
}

static void zero_f64(double *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = 0.0;
}

/* acc[0..4) += the four lanes of v. */
static void add_f32x4_to_f64(double *acc, v128_t v) {
  wasm_v128_store(acc, wasm_f64x2_add(wasm_v128_load(acc), wasm_f64x2_promote_low_f32x4(v)));
  wasm_v128_store(acc + 2, wasm_f64x2_add(wasm_v128_load(acc + 2),
                                          wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1))));
}

/* acc[0..n) += v[0..n). */
static void add_f32_to_f64(double *acc, const float *v, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) add_f32x4_to_f64(acc + i, wasm_v128_load(v + i));
  for (; i < n; i++) acc[i] += v[i];
}

static void store_f64_as_f32(float *out, const double *acc, int n) {
  for (int i = 0; i < n; i++) out[i] = (float)acc[i];
}

/*
 * out[c] = (sum over r of x[r][c]) / divisor for x of shape [rows, cols]: a
 * Sum (divisor 1) or Mean (divisor rows) over the leading axes, e.g. a bias
 * gradient or batch-norm statistics. `blockSum` (cols floats) and `total`
 * (cols doubles) are scratch.
 */
EXPORT(sum_leading_axes)
void sum_leading_axes(const float *x, float *out, float *blockSum, double *total, int rows, int cols, double divisor) {
  zero_f64(total, (size_t)cols);
  for (int r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const int r1 = r0 + BLOCK_ROWS < rows ? r0 + BLOCK_ROWS : rows;
    int c = 0;
    for (; c + 4 <= cols; c += 4) {
      /* Two chains so consecutive adds do not wait on each other. */
      v128_t a = wasm_f32x4_splat(0.f), b = wasm_f32x4_splat(0.f);
      int r = r0;
      for (; r + 2 <= r1; r += 2) {
        a = wasm_f32x4_add(a, wasm_v128_load(x + (size_t)r * cols + c));
        b = wasm_f32x4_add(b, wasm_v128_load(x + (size_t)(r + 1) * cols + c));
      }
      if (r < r1) a = wasm_f32x4_add(a, wasm_v128_load(x + (size_t)r * cols + c));
      wasm_v128_store(blockSum + c, wasm_f32x4_add(a, b));
    }
    for (; c < cols; c++) {
      float s = 0.f;
      for (int r = r0; r < r1; r++) s += x[(size_t)r * cols + c];
      blockSum[c] = s;
    }
    add_f32_to_f64(total, blockSum, cols);
  }
  for (int c = 0; c < cols; c++) out[c] = (float)(total[c] / divisor);
}

/* First output index c in [0, outSize) whose input index c*stride - pad + k lies in [0, inSize). */
static int first_valid(int k, int stride, int pad) {
  int c = 0;
  while (c * stride - pad + k < 0) c++;
  return c;
}

/* One past the last such output index. */
static int end_valid(int k, int stride, int pad, int inSize, int outSize) {
  int c = outSize;
  while (c > 0 && (c - 1) * stride - pad + k >= inSize) c--;
  return c;
}

/*
 * dw[kh][kw][ci][co] = sum over n, oh, ow of
 *   x[n][oh*sh - pt + kh][ow*sw - pl + kw][ci] * dy[n][oh][ow][co]
 * Out-of-image taps contribute zero (that is what the padding is).
 *
 * For each output row and tap, 16 output channels at a time are summed over
 * the row's pixels in four SIMD registers (one broadcast of x serves 16
 * multiply-adds), then added to the float64 `total` scratch (fh*fw*cin*cout
 * doubles), which keeps a 4096-image batch's 2.8M-term sums accurate.
 */
EXPORT(conv2d_backprop_filter)
void conv2d_backprop_filter(const float *x, const float *dy, float *dw, double *total,
                            int n, int h, int w, int cin, int oh, int ow, int cout,
                            int fh, int fw, int sh, int sw, int pt, int pl) {
  const int size = fh * fw * cin * cout;
  const size_t xStep = (size_t)sw * cin;
  zero_f64(total, (size_t)size);
  for (int b = 0; b < n; b++) {
    for (int r = 0; r < oh; r++) {
      const float *dyRow = dy + ((size_t)b * oh + r) * ow * cout;
      for (int kh = 0; kh < fh; kh++) {
        const int ih = r * sh - pt + kh;
        if (ih < 0 || ih >= h) continue;
        const float *xRow = x + ((size_t)b * h + ih) * w * cin;
        for (int kw = 0; kw < fw; kw++) {
          const int c0 = first_valid(kw, sw, pl);
          const int c1 = end_valid(kw, sw, pl, w, ow);
          if (c0 >= c1) continue;
          for (int ci = 0; ci < cin; ci++) {
            const float *xStart = xRow + (size_t)(c0 * sw - pl + kw) * cin + ci;
            double *tot = total + (size_t)((kh * fw + kw) * cin + ci) * cout;
            int co = 0;
            for (; co + 16 <= cout; co += 16) {
              v128_t a0 = wasm_f32x4_splat(0.f), a1 = a0, a2 = a0, a3 = a0;
              const float *xp = xStart;
              const float *g = dyRow + (size_t)c0 * cout + co;
              for (int c = c0; c < c1; c++, xp += xStep, g += cout) {
                const v128_t xs = wasm_v128_load32_splat(xp);
                a0 = MADD(xs, wasm_v128_load(g), a0);
                a1 = MADD(xs, wasm_v128_load(g + 4), a1);
                a2 = MADD(xs, wasm_v128_load(g + 8), a2);
                a3 = MADD(xs, wasm_v128_load(g + 12), a3);
              }
              add_f32x4_to_f64(tot + co, a0);
              add_f32x4_to_f64(tot + co + 4, a1);
              add_f32x4_to_f64(tot + co + 8, a2);
              add_f32x4_to_f64(tot + co + 12, a3);
            }
            for (; co + 4 <= cout; co += 4) {
              v128_t a = wasm_f32x4_splat(0.f);
              const float *xp = xStart;
              const float *g = dyRow + (size_t)c0 * cout + co;
              for (int c = c0; c < c1; c++, xp += xStep, g += cout) {
                a = MADD(wasm_v128_load32_splat(xp), wasm_v128_load(g), a);
              }
              add_f32x4_to_f64(tot + co, a);
            }
            for (; co < cout; co++) {
              float a = 0.f;
              const float *xp = xStart;
              const float *g = dyRow + (size_t)c0 * cout + co;
              for (int c = c0; c < c1; c++, xp += xStep, g += cout) a += *xp * *g;
              tot[co] += a;
            }
          }
        }
      }
    }
  }
  store_f64_as_f32(dw, total, size);
}

/*
 * Gradient of max pooling: each window's dy goes to the window's first
 * maximal input (row-major order, strict >, as tfjs's cpu backend picks it);
 * overlapping windows add up. Padded taps are skipped.
 * When windows tile the input (stride == window, no padding; the usual 2x2
 * pooling) every covered input is written exactly once, so dx is stored
 * directly instead of zero-filled and accumulated: one pass over memory
 * instead of three.
 */
EXPORT(max_pool_grad)
void max_pool_grad(const float *x, const float *dy, float *dx,
                   int n, int h, int w, int ch, int oh, int ow,
                   int fh, int fw, int sh, int sw, int pt, int pl) {
  const int chVec = ch & ~3;
  const int tiles = sh == fh && sw == fw && pt == 0 && pl == 0;
  if (!tiles) zero_f32(dx, (size_t)n * h * w * ch);
  for (int b = 0; b < n; b++) {
    const float *xImg = x + (size_t)b * h * w * ch;
    float *dxImg = dx + (size_t)b * h * w * ch;
    for (int r = 0; r < oh; r++) {
      const int h0 = r * sh - pt;
      const int kh0 = h0 < 0 ? -h0 : 0;
      const int kh1 = h0 + fh > h ? h - h0 : fh;
      for (int c = 0; c < ow; c++) {
        const int w0 = c * sw - pl;
        const int kw0 = w0 < 0 ? -w0 : 0;
        const int kw1 = w0 + fw > w ? w - w0 : fw;
        const float *g = dy + (((size_t)b * oh + r) * ow + c) * ch;
        int d = 0;
        for (; d < chVec; d += 4) {
          v128_t best = wasm_f32x4_splat(-__builtin_inff());
          v128_t bestTap = wasm_i32x4_splat(-1);
          for (int kh = kh0; kh < kh1; kh++) {
            for (int kw = kw0; kw < kw1; kw++) {
              const v128_t v = wasm_v128_load(xImg + ((size_t)(h0 + kh) * w + (w0 + kw)) * ch + d);
              const v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              bestTap = wasm_v128_bitselect(wasm_i32x4_splat(kh * fw + kw), bestTap, gt);
            }
          }
          const v128_t gv = wasm_v128_load(g + d);
          for (int kh = kh0; kh < kh1; kh++) {
            for (int kw = kw0; kw < kw1; kw++) {
              float *p = dxImg + ((size_t)(h0 + kh) * w + (w0 + kw)) * ch + d;
              const v128_t share = wasm_v128_and(gv, wasm_i32x4_eq(bestTap, wasm_i32x4_splat(kh * fw + kw)));
              wasm_v128_store(p, tiles ? share : wasm_f32x4_add(wasm_v128_load(p), share));
            }
          }
        }
        for (; d < ch; d++) {
          float best = -__builtin_inff();
          int bestTap = -1;
          for (int kh = kh0; kh < kh1; kh++) {
            for (int kw = kw0; kw < kw1; kw++) {
              float *p = dxImg + ((size_t)(h0 + kh) * w + (w0 + kw)) * ch + d;
              if (tiles) *p = 0.f;
              const float v = xImg[p - dxImg];
              if (v > best) {
                best = v;
                bestTap = kh * fw + kw;
              }
            }
          }
          if (bestTap >= 0) dxImg[((size_t)(h0 + bestTap / fw) * w + (w0 + bestTap % fw)) * ch + d] += g[d];
        }
      }
    }
    if (tiles) {
      /* Inputs no window covers: the right-hand columns and bottom rows left over. */
      const int coveredH = oh * fh < h ? oh * fh : h;
      const int coveredW = ow * fw < w ? ow * fw : w;
      for (int y = 0; y < coveredH; y++) zero_f32(dxImg + ((size_t)y * w + coveredW) * ch, (size_t)(w - coveredW) * ch);
      zero_f32(dxImg + (size_t)coveredH * w * ch, (size_t)(h - coveredH) * w * ch);
    }
  }
}

/*
 * Inverted dropout with a counter-based mask: element i is kept when the top
 * 24 bits of hash(seed, i) are >= `threshold` (= ceil(rate * 2^24)) and then
 * scaled by `scale` (= float32 1 / (1 - rate)). No mask is stored: the
 * gradient is this same function applied to dy with the same seed.
 * lib/model/seeded-dropout.ts has the same hash in JS for the cpu backend;
 * both must give identical bits.
 */
static uint32_t mix32(uint32_t v) { /* "lowbias32", C. Wellons */
  v ^= v >> 16;
  v *= 0x7feb352du;
  v ^= v >> 15;
  v *= 0x846ca68bu;
  v ^= v >> 16;
  return v;
}

static v128_t mix32x4(v128_t v) {
  v = wasm_v128_xor(v, wasm_u32x4_shr(v, 16));
  v = wasm_i32x4_mul(v, wasm_i32x4_splat(0x7feb352d));
  v = wasm_v128_xor(v, wasm_u32x4_shr(v, 15));
  v = wasm_i32x4_mul(v, wasm_i32x4_splat((int)0x846ca68bu));
  v = wasm_v128_xor(v, wasm_u32x4_shr(v, 16));
  return v;
}

EXPORT(seeded_dropout)
void seeded_dropout(const float *x, float *out, uint32_t size, uint32_t seed, int32_t threshold, float scale) {
  const uint32_t seedB = mix32(seed ^ 0x5bd1e995u);
  const v128_t vSeedA = wasm_i32x4_splat((int)seed), vSeedB = wasm_i32x4_splat((int)seedB);
  const v128_t vThreshold = wasm_i32x4_splat(threshold), vScale = wasm_f32x4_splat(scale);
  v128_t index = wasm_i32x4_make(0, 1, 2, 3);
  uint32_t i = 0;
  for (; i + 4 <= size; i += 4) {
    const v128_t h = mix32x4(wasm_v128_xor(mix32x4(wasm_i32x4_add(index, vSeedA)), vSeedB));
    const v128_t keep = wasm_i32x4_ge(wasm_u32x4_shr(h, 8), vThreshold);
    wasm_v128_store(out + i, wasm_v128_and(wasm_f32x4_mul(wasm_v128_load(x + i), vScale), keep));
    index = wasm_i32x4_add(index, wasm_i32x4_splat(4));
  }
  for (; i < size; i++) {
    const uint32_t h = mix32(mix32(i + seed) ^ seedB);
    out[i] = (int32_t)(h >> 8) >= threshold ? x[i] * scale : 0.f;
  }
}

/* Broadcast lane j of v. */
#define LANE(v, j) wasm_i32x4_shuffle(v, v, j, j, j, j)

/*
 * out[b][m][n] = sum over k of a[b][k][m] * b[b][k][n]: a matmul with the
 * left operand transposed, as in a Dense layer's kernel gradient xᵀ·dy.
 * Tiles of 4 (m) x 8 (n) stay in eight registers while k runs; the 4-wide
 * column strip of `a` being read is reused from cache across the n tiles.
 */
EXPORT(matmul_tn)
void matmul_tn(const float *a, const float *bm, float *out, int batch, int k, int m, int n) {
  for (int t = 0; t < batch; t++) {
    const float *A = a + (size_t)t * k * m;
    const float *B = bm + (size_t)t * k * n;
    float *O = out + (size_t)t * m * n;
    int i = 0;
    for (; i + 4 <= m; i += 4) {
      int j = 0;
      for (; j + 8 <= n; j += 8) {
        v128_t c00 = wasm_f32x4_splat(0.f), c01 = c00, c10 = c00, c11 = c00;
        v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int p = 0; p < k; p++) {
          const v128_t av = wasm_v128_load(A + (size_t)p * m + i);
          const v128_t b0 = wasm_v128_load(B + (size_t)p * n + j);
          const v128_t b1 = wasm_v128_load(B + (size_t)p * n + j + 4);
          const v128_t s0 = LANE(av, 0), s1 = LANE(av, 1), s2 = LANE(av, 2), s3 = LANE(av, 3);
          c00 = MADD(s0, b0, c00);
          c01 = MADD(s0, b1, c01);
          c10 = MADD(s1, b0, c10);
          c11 = MADD(s1, b1, c11);
          c20 = MADD(s2, b0, c20);
          c21 = MADD(s2, b1, c21);
          c30 = MADD(s3, b0, c30);
          c31 = MADD(s3, b1, c31);
        }
        float *o = O + (size_t)i * n + j;
        wasm_v128_store(o, c00);
        wasm_v128_store(o + 4, c01);
        wasm_v128_store(o + n, c10);
        wasm_v128_store(o + n + 4, c11);
        wasm_v128_store(o + 2 * n, c20);
        wasm_v128_store(o + 2 * n + 4, c21);
        wasm_v128_store(o + 3 * n, c30);
        wasm_v128_store(o + 3 * n + 4, c31);
      }
      for (; j + 4 <= n; j += 4) {
        v128_t c0 = wasm_f32x4_splat(0.f), c1 = c0, c2 = c0, c3 = c0;
        for (int p = 0; p < k; p++) {
          const v128_t av = wasm_v128_load(A + (size_t)p * m + i);
          const v128_t b0 = wasm_v128_load(B + (size_t)p * n + j);
          c0 = MADD(LANE(av, 0), b0, c0);
          c1 = MADD(LANE(av, 1), b0, c1);
          c2 = MADD(LANE(av, 2), b0, c2);
          c3 = MADD(LANE(av, 3), b0, c3);
        }
        float *o = O + (size_t)i * n + j;
        wasm_v128_store(o, c0);
        wasm_v128_store(o + n, c1);
        wasm_v128_store(o + 2 * n, c2);
        wasm_v128_store(o + 3 * n, c3);
      }
      for (; j < n; j++) {
        v128_t c = wasm_f32x4_splat(0.f);
        for (int p = 0; p < k; p++) {
          c = MADD(wasm_v128_load(A + (size_t)p * m + i),
                                               wasm_v128_load32_splat(B + (size_t)p * n + j), c);
        }
        O[(size_t)i * n + j] = wasm_f32x4_extract_lane(c, 0);
        O[(size_t)(i + 1) * n + j] = wasm_f32x4_extract_lane(c, 1);
        O[(size_t)(i + 2) * n + j] = wasm_f32x4_extract_lane(c, 2);
        O[(size_t)(i + 3) * n + j] = wasm_f32x4_extract_lane(c, 3);
      }
    }
    for (; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float c = 0.f;
        for (int p = 0; p < k; p++) c += A[(size_t)p * m + i] * B[(size_t)p * n + j];
        O[(size_t)i * n + j] = c;
      }
    }
  }
}

/*
 * out[r][c] = x[r][c] + bias[c] for x of shape [rows, cols]: a broadcast Add
 * of a bias over the trailing axes, which tfjs's wasm Add runs through its
 * general per-element broadcasting path.
 */
EXPORT(add_bias)
void add_bias(const float *x, const float *bias, float *out, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * cols;
    float *o = out + (size_t)r * cols;
    int c = 0;
    for (; c + 4 <= cols; c += 4) wasm_v128_store(o + c, wasm_f32x4_add(wasm_v128_load(xr + c), wasm_v128_load(bias + c)));
    for (; c < cols; c++) o[c] = xr[c] + bias[c];
  }
}

/*
 * wf[fh-1-kh][fw-1-kw][co][ci] = w[kh][kw][ci][co]: the filter of the
 * convolution that maps dy back onto x, rotated half a turn with its channel
 * axes swapped, so that for stride 1 the input gradient is a plain
 * convolution (tfjs's XNNPACK Conv2D) and otherwise the taps of one output
 * channel are contiguous over input channels.
 */
EXPORT(flip_filter)
void flip_filter(const float *w, float *wf, int fh, int fw, int cin, int cout) {
  for (int kh = 0; kh < fh; kh++) {
    for (int kw = 0; kw < fw; kw++) {
      const float *src = w + (size_t)(kh * fw + kw) * cin * cout;
      float *dst = wf + (size_t)((fh - 1 - kh) * fw + (fw - 1 - kw)) * cout * cin;
      for (int ci = 0; ci < cin; ci++) {
        for (int co = 0; co < cout; co++) dst[(size_t)co * cin + ci] = src[(size_t)ci * cout + co];
      }
    }
  }
}

/*
 * The dy pixel (its cout channels) that filter tap (kh, kw) carries to dx
 * pixel (y, x) of image b, or NULL when the tap falls between strides or
 * outside dy.
 */
static const float *tap_dy(const float *dy, int b, int y, int x, int kh, int kw,
                           int oh, int ow, int cout, int sh, int sw, int pt, int pl) {
  const int ty = y + pt - kh, tx = x + pl - kw;
  if (ty < 0 || ty % sh != 0 || ty / sh >= oh) return 0;
  if (tx < 0 || tx % sw != 0 || tx / sw >= ow) return 0;
  return dy + (((size_t)b * oh + ty / sh) * ow + tx / sw) * cout;
}

/*
 * dx[n][ih][iw][ci] = sum over taps (kh, kw) and co of
 *   dy[n][oy][ox][co] * w[kh][kw][ci][co]  where ih + pt - kh = oy*sh, iw + pl - kw = ox*sw
 * with `wf` the flip_filter of w. Gathers per input pixel, so dx is written
 * once and needs no zero fill; 16 input channels stay in four registers while
 * the taps and output channels run. Used for strides other than 1, where a
 * plain convolution would first need zeros inserted into dy.
 */
EXPORT(conv2d_backprop_input)
void conv2d_backprop_input(const float *dy, const float *wf, float *dx,
                           int n, int h, int w, int cin, int oh, int ow, int cout,
                           int fh, int fw, int sh, int sw, int pt, int pl) {
  for (int b = 0; b < n; b++) {
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        float *out = dx + (((size_t)b * h + y) * w + x) * cin;
        int ci = 0;
        for (; ci + 4 <= cin; ci += ci + 16 <= cin ? 16 : 4) {
          const int wide = ci + 16 <= cin;
          v128_t a0 = wasm_f32x4_splat(0.f), a1 = a0, a2 = a0, a3 = a0;
          for (int kh = 0; kh < fh; kh++) {
            for (int kw = 0; kw < fw; kw++) {
              const float *g = tap_dy(dy, b, y, x, kh, kw, oh, ow, cout, sh, sw, pt, pl);
              if (!g) continue;
              const float *f = wf + (size_t)((fh - 1 - kh) * fw + (fw - 1 - kw)) * cout * cin + ci;
              if (wide) {
                for (int co = 0; co < cout; co++, f += cin) {
                  const v128_t gs = wasm_v128_load32_splat(g + co);
                  a0 = MADD(gs, wasm_v128_load(f), a0);
                  a1 = MADD(gs, wasm_v128_load(f + 4), a1);
                  a2 = MADD(gs, wasm_v128_load(f + 8), a2);
                  a3 = MADD(gs, wasm_v128_load(f + 12), a3);
                }
              } else {
                for (int co = 0; co < cout; co++, f += cin) {
                  a0 = MADD(wasm_v128_load32_splat(g + co), wasm_v128_load(f), a0);
                }
              }
            }
          }
          wasm_v128_store(out + ci, a0);
          if (wide) {
            wasm_v128_store(out + ci + 4, a1);
            wasm_v128_store(out + ci + 8, a2);
            wasm_v128_store(out + ci + 12, a3);
          }
        }
        for (; ci < cin; ci++) {
          float a = 0.f;
          for (int kh = 0; kh < fh; kh++) {
            for (int kw = 0; kw < fw; kw++) {
              const float *g = tap_dy(dy, b, y, x, kh, kw, oh, ow, cout, sh, sw, pt, pl);
              if (!g) continue;
              const float *f = wf + (size_t)((fh - 1 - kh) * fw + (fw - 1 - kw)) * cout * cin + ci;
              for (int co = 0; co < cout; co++) a += g[co] * f[(size_t)co * cin];
            }
          }
          out[ci] = a;
        }
      }
    }
  }
}

/*
 * out[r][c] = dy[c] / rows: the gradient of a Mean over the leading axes,
 * written once (tfjs multiplies dy by a tensor of ones and then divides).
 */
EXPORT(mean_leading_axes_grad)
void mean_leading_axes_grad(const float *dy, float *out, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    float *o = out + (size_t)r * cols;
    for (int c = 0; c < cols; c++) o[c] = dy[c] / (float)rows;
  }
}

/*
 * Batch normalisation over the leading axes of x [rows, cols]:
 * out = offset + (x - mean) * scale / sqrt(variance + eps), one pass.
 * `offset` and `scale` may be 0 (absent: 0 and 1). `k` (cols floats) is scratch.
 */
EXPORT(batch_norm)
void batch_norm(const float *x, const float *mean, const float *variance, const float *offset, const float *scale,
                float *out, float *k, int rows, int cols, float eps) {
  for (int c = 0; c < cols; c++) k[c] = (scale ? scale[c] : 1.f) / __builtin_sqrtf(variance[c] + eps);
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * cols;
    float *o = out + (size_t)r * cols;
    int c = 0;
    for (; c + 4 <= cols; c += 4) {
      const v128_t centred = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c));
      const v128_t base = offset ? wasm_v128_load(offset + c) : wasm_f32x4_splat(0.f);
      wasm_v128_store(o + c, MADD(centred, wasm_v128_load(k + c), base));
    }
    for (; c < cols; c++) o[c] = (offset ? offset[c] : 0.f) + (xr[c] - mean[c]) * k[c];
  }
}

/*
 * Every gradient of batch_norm at once (tfjs's gradient tiles 1/sqrt(v+eps)
 * to x's full shape and makes five more full-size temporaries). With
 * rs = 1/sqrt(variance + eps), s = scale (or 1), S1 = sum over rows of dy and
 * S2 = sum over rows of dy * (x - mean), per column:
 *   dx = dy * s * rs, dOffset = S1, dScale = S2 * rs,
 *   dMean = -rs * s * S1, dVariance = -0.5 * rs^3 * s * S2.
 * The sums go through float32 blocks into float64 like sum_leading_axes.
 * Scratch: `f` 3 * cols floats, `total` 2 * cols doubles.
 */
EXPORT(batch_norm_grad)
void batch_norm_grad(const float *x, const float *dy, const float *mean, const float *variance, const float *scale,
                     float *dx, float *dMean, float *dVariance, float *dScale, float *dOffset,
                     float *f, double *total, int rows, int cols, float eps) {
  float *k = f, *block1 = f + cols, *block2 = f + 2 * cols;
  double *total1 = total, *total2 = total + cols;
  zero_f64(total, (size_t)2 * cols);
  for (int c = 0; c < cols; c++) k[c] = (scale ? scale[c] : 1.f) / __builtin_sqrtf(variance[c] + eps);
  for (int r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const int r1 = r0 + BLOCK_ROWS < rows ? r0 + BLOCK_ROWS : rows;
    int c = 0;
    for (; c + 4 <= cols; c += 4) {
      const v128_t m = wasm_v128_load(mean + c), kv = wasm_v128_load(k + c);
      v128_t s1 = wasm_f32x4_splat(0.f), s2 = s1;
      for (int r = r0; r < r1; r++) {
        const size_t at = (size_t)r * cols + c;
        const v128_t g = wasm_v128_load(dy + at);
        s1 = wasm_f32x4_add(s1, g);
        s2 = MADD(g, wasm_f32x4_sub(wasm_v128_load(x + at), m), s2);
        wasm_v128_store(dx + at, wasm_f32x4_mul(g, kv));
      }
      wasm_v128_store(block1 + c, s1);
      wasm_v128_store(block2 + c, s2);
    }
    for (; c < cols; c++) {
      float s1 = 0.f, s2 = 0.f;
      for (int r = r0; r < r1; r++) {
        const size_t at = (size_t)r * cols + c;
        s1 += dy[at];
        s2 += dy[at] * (x[at] - mean[c]);
        dx[at] = dy[at] * k[c];
      }
      block1[c] = s1;
      block2[c] = s2;
    }
    add_f32_to_f64(total1, block1, cols);
    add_f32_to_f64(total2, block2, cols);
  }
  for (int c = 0; c < cols; c++) {
    const double rs = 1.0 / __builtin_sqrt((double)variance[c] + eps);
    const double s = scale ? scale[c] : 1.0;
    dOffset[c] = (float)total1[c];
    dScale[c] = (float)(total2[c] * rs);
    dMean[c] = (float)(-rs * s * total1[c]);
    dVariance[c] = (float)(-0.5 * rs * rs * rs * s * total2[c]);
  }
}

/*
 * Gradient of average pooling as tfjs computes it: each input gets the sum of
 * dy over the windows that contain it, times 1 / (fh * fw) (the full window,
 * also where padding cuts it). Gathered per input pixel, 4 channels at a time,
 * so dx is written once.
 */
EXPORT(avg_pool_grad)
void avg_pool_grad(const float *dy, float *dx, int n, int h, int w, int ch, int oh, int ow,
                   int fh, int fw, int sh, int sw, int pt, int pl) {
  const v128_t mult = wasm_f32x4_splat(1.f / (float)(fh * fw));
  for (int b = 0; b < n; b++) {
    for (int y = 0; y < h; y++) {
      /* Windows r with r*sh - pt <= y < r*sh - pt + fh. */
      int r0 = y + pt - fh + 1 > 0 ? (y + pt - fh + 1 + sh - 1) / sh : 0;
      int r1 = y + pt >= 0 ? (y + pt) / sh + 1 : 0;
      if (r1 > oh) r1 = oh;
      for (int x = 0; x < w; x++) {
        int c0 = x + pl - fw + 1 > 0 ? (x + pl - fw + 1 + sw - 1) / sw : 0;
        int c1 = x + pl >= 0 ? (x + pl) / sw + 1 : 0;
        if (c1 > ow) c1 = ow;
        float *out = dx + (((size_t)b * h + y) * w + x) * ch;
        int d = 0;
        for (; d + 4 <= ch; d += 4) {
          v128_t s = wasm_f32x4_splat(0.f);
          for (int r = r0; r < r1; r++) {
            for (int c = c0; c < c1; c++) s = wasm_f32x4_add(s, wasm_v128_load(dy + (((size_t)b * oh + r) * ow + c) * ch + d));
          }
          wasm_v128_store(out + d, wasm_f32x4_mul(s, mult));
        }
        for (; d < ch; d++) {
          float s = 0.f;
          for (int r = r0; r < r1; r++) {
            for (int c = c0; c < c1; c++) s += dy[(((size_t)b * oh + r) * ow + c) * ch + d];
          }
          out[d] = s * wasm_f32x4_extract_lane(mult, 0);
        }
      }
    }
  }
}
