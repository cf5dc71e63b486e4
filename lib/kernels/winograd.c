/* Winograd convolution F(m×m, 3×3) (Lavin & Gray 2016) for 3×3 stride-1 layers, m = 2 or 4.
 *
 * The output is cut into m×m tiles; tile t of channel o needs the a×a input patch d (a = m + 2)
 * of every input channel c, and
 *     Y_t = Aᵀ [ Σ_c (G g_oc Gᵀ) ⊙ (Bᵀ d_ct B) ] A.
 * With U[ξ][o][c] = (G g_oc Gᵀ)_ξ and V[ξ][c][t] = (Bᵀ d_ct B)_ξ for the a² positions ξ, the sum
 * is a² independent GEMMs M[ξ] = U[ξ] · V[ξ] ([O×C]·[C×T]) through nadi_sgemm: a²/m² multiplies
 * per output and input channel instead of 9 (F(2×2): 4, F(4×4): 2.25). The transforms are
 * O(a²) additions per tile and channel, cheap next to the GEMMs when O and C are large.
 *
 * Tiles are numbered over (image, tile row, tile column) of the whole batch and processed in
 * groups of whole tile rows (on small maps a group spans many images) whose V and M stay in
 * cache; each group's GEMMs have N = T columns.
 *
 * Transforms use the points 0, ±1, (±2), ∞. The filter transform is done in double and rounded
 * once. F(4×4)'s transforms have entries up to 8 and 1/24, which costs half a decimal digit
 * normwise against the direct sum (up to one elementwise; measured in
 * tests/unit/kernels/test_conv_algo.c); F(2×2)'s are ±1, ½ and lose almost nothing.
 *
 * Workspace (floats): U a²·O·C, V a²·C·T, M a²·O·T, T = tiles per group (wino_group_rows ·
 * tiles per row). */
#include <string.h>

#include "common/clones.h"
#include "kernels/conv_algo.h"

/* Tiles per group: as many as keep a group's V and M (a²·(C+O)·T floats) within about
 * WINO_GROUP_FLOATS, so that the GEMMs read V and the output transform reads M from cache
 * (measured single-threaded on ResNet18's 64-channel 32×32 layers: T = 128 is 1.2× faster
 * than T = 1024), but at least WINO_MIN_T: wide layers need wide GEMMs, because OpenBLAS
 * packs the O×C operand U anew for every call. */
#ifndef WINO_GROUP_FLOATS
#define WINO_GROUP_FLOATS (1 << 20)
#endif
#ifndef WINO_MIN_T
#define WINO_MIN_T 128
#endif
#define WINO_ALIGN 16

typedef struct wino_geom {
  int m, a;
  int64_t c, h, w, o, oh, ow, p;
  int64_t th, tw; /* tile rows / columns per image */
} wino_geom;

static wino_geom wino_geometry(const nadi_layer *l, int m) {
  wino_geom g;
  g.m = m;
  g.a = m + 2;
  g.c = l->in_shape[0][0];
  g.h = l->in_shape[0][1];
  g.w = l->in_shape[0][2];
  g.o = l->out_shape[0];
  g.oh = l->out_shape[1];
  g.ow = l->out_shape[2];
  g.p = l->pad_t; /* plain: the same on all sides */
  g.th = (g.oh + m - 1) / m;
  g.tw = (g.ow + m - 1) / m;
  return g;
}

int nadi_wino_applicable(const nadi_layer *l) {
  return l->kind == NADI_CONV2D && nadi_conv_is_plain(l) && l->kh == 3 && l->sh == 1 &&
         l->out_shape[1] >= 1 &&
         l->out_shape[2] >= 1;
}

/* Tile rows per group: enough for the target above, at most the whole batch. Non-decreasing
 * in batch, so that a workspace sized for the batch capacity fits every smaller batch. */
static int64_t wino_group_rows(const wino_geom *g, int64_t batch) {
  int64_t target = WINO_GROUP_FLOATS / ((int64_t)g->a * g->a * (g->c + g->o));
  if (target < WINO_MIN_T)
    target = WINO_MIN_T;
  int64_t rows = (target + g->tw - 1) / g->tw;
  return rows < batch * g->th ? rows : batch * g->th;
}

static int64_t round_up(int64_t n) { return (n + WINO_ALIGN - 1) / WINO_ALIGN * WINO_ALIGN; }

typedef struct wino_ws {
  int64_t u, v, mm, total;
} wino_ws;

static wino_ws wino_layout(const wino_geom *g, int64_t batch) {
  int64_t a2 = (int64_t)g->a * g->a, t = wino_group_rows(g, batch) * g->tw;
  wino_ws w;
  w.u = 0;
  w.v = w.u + round_up(a2 * g->o * g->c);
  w.mm = w.v + round_up(a2 * g->c * t);
  w.total = w.mm + round_up(a2 * g->o * t);
  return w;
}

size_t nadi_wino_workspace(const nadi_layer *l, int m, int64_t batch) {
  wino_geom g = wino_geometry(l, m);
  return (size_t)wino_layout(&g, batch).total;
}

/* ---- filter transform: U[ξ][o][c] = (G g Gᵀ)_ξ ---------------------------------------------- */

/* It runs on every call, so it must cost little next to the GEMMs even for 512×512 layers on
 * tiny maps: kernels are taken FT_BLOCK at a time and transposed so that the arithmetic is
 * vector code over the block (in double, rounded once), and each position ξ is stored as one
 * contiguous run instead of a² scattered floats per kernel. */
#define FT_BLOCK 64

/* out[r][i] = Σ_q G[r][q] in[q][i], i < n (G of F(2×2) or F(4×4)) */
static void g_apply(int m, double in[3][FT_BLOCK], double out[6][FT_BLOCK], int n) {
  if (m == 2) {
    for (int i = 0; i < n; i++) {
      double k0 = in[0][i], k1 = in[1][i], k2 = in[2][i];
      out[0][i] = k0;
      out[1][i] = 0.5 * (k0 + k1 + k2);
      out[2][i] = 0.5 * (k0 - k1 + k2);
      out[3][i] = k2;
    }
    return;
  }
  for (int i = 0; i < n; i++) {
    double k0 = in[0][i], k1 = in[1][i], k2 = in[2][i];
    out[0][i] = 0.25 * k0;
    out[1][i] = -(k0 + k1 + k2) / 6.0;
    out[2][i] = -(k0 - k1 + k2) / 6.0;
    out[3][i] = k0 / 24.0 + k1 / 12.0 + k2 / 6.0;
    out[4][i] = k0 / 24.0 - k1 / 12.0 + k2 / 6.0;
    out[5][i] = k2;
  }
}

static void filter_transform(const wino_geom *g, const float *wt, float *u) {
  const int a = g->a;
  const int64_t oc = g->o * g->c;
  double k[3][3][FT_BLOCK], t[3][6][FT_BLOCK], col[3][FT_BLOCK], uu[6][FT_BLOCK];
  float out[FT_BLOCK];
  for (int64_t i0 = 0; i0 < oc; i0 += FT_BLOCK) {
    int n = oc - i0 < FT_BLOCK ? (int)(oc - i0) : FT_BLOCK;
    for (int i = 0; i < n; i++)
      for (int q = 0; q < 3; q++)
        for (int j = 0; j < 3; j++)
          k[j][q][i] = wt[(i0 + i) * 9 + q * 3 + j]; /* k[column j][row q] */
    for (int j = 0; j < 3; j++) /* t[j][r] = (G g)[r][j]: G down each kernel column */
      g_apply(g->m, k[j], t[j], n);
    for (int r = 0; r < a; r++) { /* u[r][s] = Σ_j (G g)[r][j] G[s][j]: G along the rows */
      for (int j = 0; j < 3; j++)
        memcpy(col[j], t[j][r], (size_t)n * sizeof(double));
      g_apply(g->m, col, uu, n);
      for (int s2 = 0; s2 < a; s2++) {
        for (int i = 0; i < n; i++)
          out[i] = (float)uu[s2][i];
        memcpy(u + (r * a + s2) * oc + i0, out, (size_t)n * sizeof(float));
      }
    }
  }
}

/* ---- tiles ----------------------------------------------------------------------------------- */

/* The transforms run on chunks of up to XB consecutive tiles of a group (across tile rows and
 * images, so that small maps vectorize as well as large ones) as vector code over the tile:
 * each tile's patch is gathered into d[i][j][q] (row i, column j, tile q), after which both
 * one-dimensional transforms are contiguous loops over q. Where a tile starts in the input and
 * output is computed once per chunk and reused for every channel. */
#define XB 32

typedef struct chunk {
  int n;                 /* tiles */
  int64_t in_off[XB];    /* offset of the patch's top-left (may lie in the padding) in an image's
                            channel plane, plus img·C·H·W */
  int32_t iy[XB], ix[XB]; /* top-left input row / column of the patch (negative in the padding) */
  int inside[XB];        /* patch entirely inside the image */
  int64_t out_off[XB];   /* offset of the tile's top-left output in channel 0 of its image */
  int32_t rows[XB], cols[XB]; /* output rows / columns of the tile inside OH×OW */
} chunk;

/* Tiles [t0, t0 + n) of the batch, numbered (image, tile row, tile column). */
static void chunk_init(const wino_geom *g, int64_t t0, int n, chunk *ch) {
  const int m = g->m, a = g->a;
  ch->n = n;
  for (int q = 0; q < n; q++) {
    int64_t t = t0 + q, tx = t % g->tw, r = t / g->tw, ty = r % g->th, img = r / g->th;
    int64_t iy = ty * m - g->p, ix = tx * m - g->p;
    ch->iy[q] = (int32_t)iy, ch->ix[q] = (int32_t)ix;
    ch->inside[q] = iy >= 0 && ix >= 0 && iy + a <= g->h && ix + a <= g->w;
    ch->in_off[q] = img * g->c * g->h * g->w + iy * g->w + ix;
    ch->out_off[q] = img * g->o * g->oh * g->ow + ty * m * g->ow + tx * m;
    ch->rows[q] = (int32_t)(g->oh - ty * m < m ? g->oh - ty * m : m);
    ch->cols[q] = (int32_t)(g->ow - tx * m < m ? g->ow - tx * m : m);
  }
}

/* Bᵀ·(d_0..d_{a-1}) elementwise over n floats: out[k][q] = Σ_i Bᵀ[k][i] d[i][q]. */
static inline void bt_apply(const int m, const float *const d[6], float *const out[6], int n) {
  if (m == 2) {
    for (int q = 0; q < n; q++) {
      float d0 = d[0][q], d1 = d[1][q], d2 = d[2][q], d3 = d[3][q];
      out[0][q] = d0 - d2;
      out[1][q] = d1 + d2;
      out[2][q] = d2 - d1;
      out[3][q] = d1 - d3;
    }
    return;
  }
  for (int q = 0; q < n; q++) { /* Bᵀ rows: [4 0 -5 0 1 0] [0 -4 -4 1 1 0] [0 4 -4 -1 1 0]
                                   [0 -2 -1 2 1 0] [0 2 -1 -2 1 0] [0 4 0 -5 0 1] */
    float d0 = d[0][q], d1 = d[1][q], d2 = d[2][q], d3 = d[3][q], d4 = d[4][q], d5 = d[5][q];
    out[0][q] = 4.0f * d0 - 5.0f * d2 + d4;
    out[1][q] = -4.0f * (d1 + d2) + d3 + d4;
    out[2][q] = 4.0f * (d1 - d2) - d3 + d4;
    out[3][q] = 2.0f * (d3 - d1) - d2 + d4;
    out[4][q] = 2.0f * (d1 - d3) - d2 + d4;
    out[5][q] = 4.0f * d1 - 5.0f * d3 + d5;
  }
}

/* Aᵀ·(s_0..s_{a-1}) elementwise over n floats: out[i][q] = Σ_k Aᵀ[i][k] s[k][q] + bias. */
static inline void at_apply(const int m, const float *const s[6], float *const out[4], float bias,
                            int n) {
  if (m == 2) { /* Aᵀ = [1 1 1 0; 0 1 -1 -1] */
    for (int q = 0; q < n; q++) {
      out[0][q] = s[0][q] + s[1][q] + s[2][q] + bias;
      out[1][q] = s[1][q] - s[2][q] - s[3][q] + bias;
    }
    return;
  }
  for (int q = 0; q < n; q++) { /* Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1] */
    float a1 = s[1][q] + s[2][q], b1 = s[1][q] - s[2][q];
    float a2 = s[3][q] + s[4][q], b2 = s[3][q] - s[4][q];
    out[0][q] = s[0][q] + a1 + a2 + bias;
    out[1][q] = b1 + 2.0f * b2 + bias;
    out[2][q] = a1 + 4.0f * a2 + bias;
    out[3][q] = b1 + 8.0f * b2 + s[5][q] + bias;
  }
}

/* ---- input transform: V[c][ξ][t] = (Bᵀ d B)_ξ ------------------------------------------------ */

/* The chunk's tiles of channel c (xc = channel plane c of image 0) into v = V[c][0][first tile],
 * positions ξ ld floats apart. */
static inline void input_chunk(const int m, const wino_geom *g, const chunk *ch, const float *xc,
                               float *v, int64_t ld) {
  const int a = m + 2, n = ch->n;
  float d[6][6][XB], e[6][6][XB]; /* patches [row][col][tile]; Bᵀ d: [k][col][tile] */
  for (int q = 0; q < n; q++) {
    const float *src = xc + ch->in_off[q];
    if (ch->inside[q]) {
      for (int i = 0; i < a; i++)
        for (int j = 0; j < a; j++)
          d[i][j][q] = src[i * g->w + j];
      continue;
    }
    int jlo = ch->ix[q] < 0 ? -ch->ix[q] : 0; /* columns [jlo, jhi) lie inside the image */
    int jhi = g->w - ch->ix[q] < a ? (int)(g->w - ch->ix[q]) : a;
    for (int i = 0; i < a; i++) {
      int64_t y = ch->iy[q] + i;
      int lo = y >= 0 && y < g->h ? jlo : a, hi = y >= 0 && y < g->h ? jhi : a;
      for (int j = 0; j < lo; j++)
        d[i][j][q] = 0.0f;
      for (int j = lo; j < hi; j++)
        d[i][j][q] = src[i * g->w + j];
      for (int j = hi > lo ? hi : lo; j < a; j++)
        d[i][j][q] = 0.0f;
    }
  }
  for (int j = 0; j < a; j++) { /* Bᵀ down the columns */
    const float *in[6];
    float *out[6];
    for (int i = 0; i < a; i++)
      in[i] = d[i][j], out[i] = e[i][j];
    bt_apply(m, in, out, n);
  }
  for (int k = 0; k < a; k++) { /* B along the rows (into d again: V would need alias checks
                                   that keep the compiler from vectorizing) */
    const float *in[6];
    float *out[6];
    for (int j = 0; j < a; j++)
      in[j] = e[k][j], out[j] = d[k][j];
    bt_apply(m, in, out, n);
    for (int j = 0; j < a; j++)
      memcpy(v + (int64_t)(k * a + j) * ld, d[k][j], (size_t)n * sizeof(float));
  }
}

/* ---- output transform: Y = Aᵀ M A + bias ------------------------------------------------------ */

/* The chunk's tiles of output channel o: mo = M[o][0][first tile], positions ξ ld floats apart;
 * yo = channel plane o of image 0. */
static inline void output_chunk(const int m, const wino_geom *g, const chunk *ch, const float *mo,
                                int64_t ld, float bias, float *yo) {
  const int a = m + 2, n = ch->n;
  float st[4][6][XB], out[4][4][XB]; /* Aᵀ M: [i][l][tile];  (Aᵀ M) A: [i][j][tile] */
  for (int l = 0; l < a; l++) {       /* Aᵀ down the columns: M row k is position k·a + l */
    const float *in[6];
    float *r[4];
    for (int k = 0; k < a; k++)
      in[k] = mo + (int64_t)(k * a + l) * ld;
    for (int i = 0; i < m; i++)
      r[i] = st[i][l];
    at_apply(m, in, r, 0.0f, n);
  }
  for (int i = 0; i < m; i++) { /* A along the rows, plus the bias */
    const float *in[6];
    float *r[4];
    for (int l = 0; l < a; l++)
      in[l] = st[i][l];
    for (int j = 0; j < m; j++)
      r[j] = out[i][j];
    at_apply(m, in, r, bias, n);
  }
  for (int q = 0; q < n; q++) {
    float *dst = yo + ch->out_off[q];
    if (ch->rows[q] == m && ch->cols[q] == m) {
      for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++)
          dst[i * g->ow + j] = out[i][j][q];
      continue;
    }
    for (int i = 0; i < ch->rows[q]; i++)
      for (int j = 0; j < ch->cols[q]; j++)
        dst[i * g->ow + j] = out[i][j][q];
  }
}

/* ---- driver -------------------------------------------------------------------------------- */

/* V of the group's t tiles from t0 on (all channels). */
NADI_CLONES static void input_group(const wino_geom *g, const float *x, int64_t t0, int64_t t,
                                    float *v) {
  const int64_t ld = (int64_t)g->a * g->a * t, hw = g->h * g->w;
  chunk ch;
  for (int64_t q0 = 0; q0 < t; q0 += XB) {
    chunk_init(g, t0 + q0, t - q0 < XB ? (int)(t - q0) : XB, &ch);
    for (int64_t c = 0; c < g->c; c++) {
      if (g->m == 2)
        input_chunk(2, g, &ch, x + c * hw, v + c * ld + q0, t);
      else
        input_chunk(4, g, &ch, x + c * hw, v + c * ld + q0, t);
    }
  }
}

/* The group's outputs (all channels) from M. */
NADI_CLONES static void output_group(const wino_geom *g, const float *mm, const float *bias,
                                     int64_t t0, int64_t t, float *y) {
  const int64_t ld = (int64_t)g->a * g->a * t, ohw = g->oh * g->ow;
  chunk ch;
  for (int64_t q0 = 0; q0 < t; q0 += XB) {
    chunk_init(g, t0 + q0, t - q0 < XB ? (int)(t - q0) : XB, &ch);
    for (int64_t o = 0; o < g->o; o++) {
      float b = bias ? bias[o] : 0.0f;
      if (g->m == 2)
        output_chunk(2, g, &ch, mm + o * ld + q0, t, b, y + o * ohw);
      else
        output_chunk(4, g, &ch, mm + o * ld + q0, t, b, y + o * ohw);
    }
  }
}

/* Layouts: U[ξ][o][c] (GEMM A, lda C); V[c][ξ][t] and M[o][ξ][t] (B and C of GEMM ξ at offset
 * ξ·T, ld a²·T): each channel's transforms read or write one contiguous block of a²·T floats. */
void nadi_wino_forward(const nadi_layer *l, int m, const float *wt, const float *bias,
                       const float *x, float *y, int64_t batch, float *ws) {
  wino_geom g = wino_geometry(l, m);
  wino_ws lay = wino_layout(&g, batch);
  const int64_t a2 = (int64_t)g.a * g.a;
  float *u = ws + lay.u, *v = ws + lay.v, *mm = ws + lay.mm;
  filter_transform(&g, wt, u);

  const int64_t per_group = wino_group_rows(&g, batch) * g.tw, total = batch * g.th * g.tw;
  for (int64_t t0 = 0; t0 < total; t0 += per_group) {
    int64_t t = total - t0 < per_group ? total - t0 : per_group; /* columns of every GEMM */
    int64_t ld = a2 * t;
    input_group(&g, x, t0, t, v);
    for (int64_t xi = 0; xi < a2; xi++)
      nadi_sgemm(0, 0, g.o, t, g.c, 1.0f, u + xi * g.o * g.c, g.c, v + xi * t, ld, 0.0f,
                 mm + xi * t, ld);
    output_group(&g, mm, bias, t0, t, y);
  }
}
