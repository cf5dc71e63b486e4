/* Frequent Directions sketch of the centred responses (Liberty 2013; Ghashami, Liberty, Phillips
 * & Woodruff 2016): O(L·D) memory instead of the D×D scatter, one pass, mergeable.
 *
 * What is sketched. The scatter M2 = Σ_j (g_j − ḡ)(g_j − ḡ)ᵀ is, exactly as in accum.c, a sum of
 * rank-one terms that arrive in blocks: for each block of NADI_ACC_BLOCK responses, its rows
 * centred on the block's own mean, and one correction row sqrt(n·B/(n + B))·(b̄ − mean) (Chan's
 * update written as a row: its outer product is the correction term). Call A the matrix of all
 * those rows: AᵀA = M2 exactly, and the sketch B (at most 2L rows of D) is a Frequent Directions
 * sketch of A. Merging two sketches (halves, parts of a job array, MPI ranks) stacks their rows
 * plus one correction row for the two means, so a merged sketch is a sketch of the same A.
 *
 * Shrinking. Rows are appended to a buffer of 2L; when it is full, its SVD B = U Σ Vᵀ (through
 * the 2L×2L Gram matrix B Bᵀ = U Σ² Uᵀ, one GEMM and a small LAPACK eigensolve) gives
 * δ = σ_L², and B is replaced by the rows sqrt(σ_i² − δ)·v_iᵀ = sqrt(1 − δ/σ_i²)·(u_iᵀ B) for the
 * σ_i² > δ (fewer than L). Each shrink removes at least L·δ from ||B||²_F and at most δ from any
 * direction, whence the guarantee, for every k < L, with Δ = Σ δ (kept in `shrunk`):
 *     0 ≼ M2 − BᵀB ≼ Δ·I,    Δ <= (||A||²_F − ||B||²_F) / L <= ||A − A_k||²_F / (L − k),
 * where ||A||²_F = tr(M2) (kept in `mass`) and ||A − A_k||²_F = Σ_{i>k} λ_i(M2). The buffer of 2L
 * rows amortises one shrink (O(L²·D)) over L + 1 new rows. The new rows overwrite the old ones
 * block of columns by block of columns, so the sketch needs no second L×D matrix.
 *
 * Storage: B is kept in float32 and every product (Gram matrix, shrink, eigenvectors) is computed
 * in double on blocks of columns converted to double. The responses are float32 computations,
 * and rounding a stored row (relative 6e-8, once per shrink) is far below the sketch's own error
 * Δ; what it buys is half the memory (each sketch of L = 256 rows at 3×224×224 holds 308 MB of
 * rows, not 617) and half the bytes every shrink reads.
 *
 * Determinism: rows are folded in the order they come and every shrink is a fixed sequence of
 * BLAS/LAPACK calls, so the same responses in the same order give the same sketch; pending rows
 * are part of the state (checkpoints save them) as in accum.c. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "estimator/stats.h"

/* Columns of b converted to double at once: the Gram matrix and the products are computed a
 * block of columns at a time (see shrink). */
enum { SHRINK_COLS = 1024 };
/* A shrink's Gram matrix is the ordered sum of this many partial ones, each over a fixed run of
 * column blocks: the tasks a pool shares, and the same sums whoever computes them. */
enum { GRAM_GROUPS = 8 };

/* Rows b can hold: 2L, plus one folded block and its correction row past 2L (the shrink after a
 * fold may wait for nadi_sketch_maintain). */
static int64_t sketch_cap(int64_t l) { return 2 * l + NADI_ACC_BLOCK + 1; }

/* Doubles of the work area: one row of d (means, corrections), or a cap × SHRINK_COLS block of b
 * in double (nadi_sketch_top), whichever is larger. */
static int64_t sketch_work(int64_t d, int64_t l) {
  const int64_t blk = sketch_cap(l) * SHRINK_COLS;
  return d > blk ? d : blk;
}

nad_status nadi_sketch_init(nadi_sketch *s, int64_t d, int64_t l) {
  memset(s, 0, sizeof *s);
  int64_t rows_d, pend_d;
  if (l < 1 || l > INT64_MAX / (4 * SHRINK_COLS) || !nadi_mul_ok(sketch_cap(l), d, &rows_d) ||
      !nadi_mul_ok(NADI_ACC_BLOCK, d, &pend_d))
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "sketch of %lld rows of dimension %lld is too large",
                     (long long)l, (long long)d);
  const int64_t cap = sketch_cap(l);
  s->d = d;
  s->l = l;
  s->mean = nadi_calloc((size_t)d, sizeof(double));
  s->b = nadi_calloc((size_t)rows_d, sizeof(float));
  s->pend = nadi_calloc((size_t)pend_d, sizeof(double));
  s->bmean = nadi_calloc((size_t)d, sizeof(double));
  s->work = nadi_calloc((size_t)sketch_work(d, l), sizeof(double));
  s->gram = nadi_calloc((size_t)(cap * cap), sizeof(double));
  s->u = nadi_calloc((size_t)(l * cap), sizeof(double));
  s->lam = nadi_calloc((size_t)cap, sizeof(double));
  if (!s->mean || !s->b || !s->pend || !s->bmean || !s->work || !s->gram || !s->u || !s->lam) {
    nadi_sketch_free(s);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "cannot allocate the %.1f MB sketch of %lld rows of "
                                            "dimension %lld",
                     nadi_sketch_bytes(d, l) / 1e6, (long long)l, (long long)d);
  }
  return NAD_OK;
}

double nadi_sketch_bytes(int64_t d, int64_t l) {
  const double cap = (double)sketch_cap(l);
  return 4.0 * cap * (double)d +
         8.0 * ((NADI_ACC_BLOCK + 2.0) * (double)d + (double)sketch_work(d, l) + cap * cap +
                (double)l * cap + cap);
}

void nadi_sketch_free(nadi_sketch *s) {
  nadi_free(s->mean);
  nadi_free(s->b);
  nadi_free(s->pend);
  nadi_free(s->bmean);
  nadi_free(s->work);
  nadi_free(s->gram);
  nadi_free(s->u);
  nadi_free(s->lam);
  memset(s, 0, sizeof *s);
}

/* Columns [c0, c0 + cb) of rows [0, r) of b into w (r × cb doubles, leading dimension cb). */
static void block_to_double(const nadi_sketch *s, int64_t r, int64_t c0, int64_t cb, double *w) {
  for (int64_t t = 0; t < r; t++) {
    const float *src = s->b + t * s->d + c0;
    double *dst = w + t * cb;
    for (int64_t i = 0; i < cb; i++)
      dst[i] = src[i];
  }
}

/* ---- shrinking ----------------------------------------------------------------------------
 * Both heavy steps of a shrink are split into tasks fixed by the sketch alone: GRAM_GROUPS
 * partial Gram matrices over fixed runs of column blocks (summed in order afterwards), then the
 * product U·B one column block per task. A task's result does not depend on which worker of a
 * pool computes it (single-threaded BLAS), so a shrink gives the same bits on a pool of any size
 * or on the calling thread alone. */
typedef struct shrink_job {
  nadi_sketch *s;
  int64_t r, keep, n_blocks, groups;
  int phase;               /* 0: the partial Gram matrices, 1: the product */
  double *partial;         /* groups × r × r (lower triangles) */
  double *work;            /* per worker: r × SHRINK_COLS, then keep × SHRINK_COLS */
  int64_t work_per_worker; /* doubles */
  atomic_int_fast64_t next;
} shrink_job;

static void block_range(const shrink_job *j, int64_t g, int64_t *lo, int64_t *hi) {
  *lo = g * j->n_blocks / j->groups;
  *hi = (g + 1) * j->n_blocks / j->groups;
}

static void shrink_task(void *ctx, int tid) {
  shrink_job *j = ctx;
  nadi_sketch *s = j->s;
  const int64_t d = s->d, r = j->r;
  double *wb = j->work + (int64_t)tid * j->work_per_worker, *wo = wb + r * SHRINK_COLS;
  for (;;) {
    const int64_t t = atomic_fetch_add(&j->next, 1);
    if (j->phase == 0) {
      if (t >= j->groups)
        return;
      int64_t lo, hi;
      block_range(j, t, &lo, &hi);
      for (int64_t blk = lo; blk < hi; blk++) {
        const int64_t c0 = blk * SHRINK_COLS, cb = d - c0 < SHRINK_COLS ? d - c0 : SHRINK_COLS;
        block_to_double(s, r, c0, cb, wb);
        nadi_dsyrk_lower_n(r, cb, 1.0, wb, cb, blk == lo ? 0.0 : 1.0, j->partial + t * r * r);
      }
    } else {
      if (t >= j->n_blocks)
        return;
      /* B[0..keep) = U[0..keep) B on this column block, in place: the block of the product
       * reads only the same columns of B, so it overwrites them once it is computed. */
      const int64_t c0 = t * SHRINK_COLS, cb = d - c0 < SHRINK_COLS ? d - c0 : SHRINK_COLS;
      block_to_double(s, r, c0, cb, wb);
      nadi_dgemm(0, 0, j->keep, cb, r, 1.0, s->u, r, wb, cb, 0.0, wo, cb);
      for (int64_t q = 0; q < j->keep; q++)
        for (int64_t i = 0; i < cb; i++)
          s->b[q * d + c0 + i] = (float)wo[q * cb + i];
    }
  }
}

/* Run the job's current phase on the pool's n workers, or on the calling thread (pool NULL). */
static void run_phase(shrink_job *j, int phase, nadi_pool *pool) {
  j->phase = phase;
  atomic_store(&j->next, 0);
  if (pool)
    nadi_pool_run(pool, shrink_task, j);
  else
    shrink_task(j, 0);
}

/* Replace the rows (at least 2L) by their Frequent Directions shrink (fewer than L rows). */
static nad_status shrink(nadi_sketch *s, nadi_pool *pool, int n_workers) {
  const int64_t d = s->d, l = s->l, r = s->rows;
  shrink_job j = {.s = s, .r = r, .n_blocks = (d + SHRINK_COLS - 1) / SHRINK_COLS};
  j.groups = j.n_blocks < GRAM_GROUPS ? j.n_blocks : GRAM_GROUPS;
  const int workers = pool ? n_workers : 1;
  j.work_per_worker = (r + l) * SHRINK_COLS;
  j.partial = nadi_alloc((size_t)(j.groups * r * r), sizeof(double));
  j.work = nadi_alloc((size_t)(workers * j.work_per_worker), sizeof(double));
  if (!j.partial || !j.work) {
    nadi_free(j.partial);
    nadi_free(j.work);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "sketch shrink workspace (%lld rows of %lld)",
                     (long long)r, (long long)d);
  }
  run_phase(&j, 0, pool);
  for (int64_t i = 0; i < r; i++)
    for (int64_t t = 0; t <= i; t++) {
      double v = 0.0;
      for (int64_t g = 0; g < j.groups; g++) /* in order: the same sum for every pool */
        v += j.partial[g * r * r + i * r + t];
      s->gram[i * r + t] = s->gram[t * r + i] = v;
    }
  nad_status st = nadi_eig_top(s->gram, r, l, s->lam, s->u); /* top L of the Gram matrix */
  if (st == NAD_OK) {
    const double delta = s->lam[l - 1] > 0.0 ? s->lam[l - 1] : 0.0;
    for (int64_t i = 0; i < l - 1; i++) {
      const double li = s->lam[i];
      if (!(li > delta))
        break; /* descending: the rest vanish too */
      const double f = sqrt((li - delta) / li);
      for (int64_t t = 0; t < r; t++)
        s->u[i * r + t] *= f;
      j.keep = i + 1;
    }
    if (j.keep > 0)
      run_phase(&j, 1, pool);
    s->rows = j.keep;
    s->shrunk += delta;
    s->shrinks++;
  }
  nadi_free(j.partial);
  nadi_free(j.work);
  return st;
}

nad_status nadi_sketch_maintain(nadi_sketch *s, nadi_pool *pool, int n_workers) {
  return s->rows >= 2 * s->l ? shrink(s, pool, n_workers) : NAD_OK;
}

/* gram = B Bᵀ over rows [0, r) (r × r, both triangles) for nadi_sketch_top: a symmetric rank-cb
 * update (dsyrk) per block of columns converted to double. */
static void gram(nadi_sketch *s, int64_t r) {
  const int64_t d = s->d;
  for (int64_t c0 = 0; c0 < d; c0 += SHRINK_COLS) {
    const int64_t cb = d - c0 < SHRINK_COLS ? d - c0 : SHRINK_COLS;
    block_to_double(s, r, c0, cb, s->work);
    nadi_dsyrk_lower_n(r, cb, 1.0, s->work, cb, c0 == 0 ? 0.0 : 1.0, s->gram);
  }
  for (int64_t i = 0; i < r; i++)
    for (int64_t j = 0; j < i; j++)
      s->gram[j * r + i] = s->gram[i * r + j];
}

/* Append count rows of d (not modified), given in double (rd: their mass is added) or float
 * (rf: a merged sketch's rows, whose mass the merge accounts), shrinking whenever the buffer
 * fills (only a merge can fill it: a fold appends at most a block and a correction row). */
static nad_status append(nadi_sketch *s, const double *rd, const float *rf, int64_t count) {
  const int64_t d = s->d, cap = sketch_cap(s->l);
  while (count > 0) {
    int64_t c = cap - s->rows < count ? cap - s->rows : count;
    float *dst = s->b + s->rows * d;
    if (rd) {
      for (int64_t i = 0; i < c * d; i++) {
        dst[i] = (float)rd[i];
        s->mass += rd[i] * rd[i];
      }
      rd += c * d;
    } else {
      memcpy(dst, rf, (size_t)(c * d) * sizeof(float));
      rf += c * d;
    }
    s->rows += c;
    count -= c;
    if (s->rows == cap)
      NADI_TRY(shrink(s, NULL, 1));
  }
  return NAD_OK;
}

static nad_status add_rows(nadi_sketch *s, const double *rows, int64_t count) {
  return append(s, rows, NULL, count);
}

/* The correction row of Chan's update between (na, mean) and (nb, other) into s->bmean, added. */
static nad_status add_correction(nadi_sketch *s, double na, double nb, const double *delta) {
  if (na == 0.0 || nb == 0.0)
    return NAD_OK;
  const double f = sqrt(na * nb / (na + nb));
  for (int64_t i = 0; i < s->d; i++)
    s->bmean[i] = f * delta[i];
  return add_rows(s, s->bmean, 1);
}

/* Fold rows[0..b) (b×d, overwritten by their centred values). */
static nad_status fold_rows(nadi_sketch *s, double *rows, int64_t b) {
  const int64_t d = s->d;
  NADI_TRY(nadi_sketch_maintain(s, NULL, 1)); /* the last fold's shrink, if nobody did it */
  double *bm = s->bmean;
  memset(bm, 0, (size_t)d * sizeof(double));
  for (int64_t r = 0; r < b; r++)
    for (int64_t i = 0; i < d; i++)
      bm[i] += rows[r * d + i];
  for (int64_t i = 0; i < d; i++)
    bm[i] /= (double)b;
  for (int64_t r = 0; r < b; r++)
    for (int64_t i = 0; i < d; i++)
      rows[r * d + i] -= bm[i];
  NADI_TRY(add_rows(s, rows, b));
  const double na = (double)s->n, nb = (double)b, n = na + nb;
  for (int64_t i = 0; i < d; i++)
    bm[i] -= s->mean[i]; /* δ = b̄ − mean */
  for (int64_t i = 0; i < d; i++)
    s->mean[i] += bm[i] * (nb / n);
  /* add_correction overwrites bmean: apply it last (mean already moved with δ). */
  memcpy(s->work, bm, (size_t)d * sizeof(double));
  NADI_TRY(add_correction(s, na, nb, s->work));
  s->n += b;
  return NAD_OK;
}

double *nadi_sketch_next_row(nadi_sketch *s) { return s->pend + s->n_pend * s->d; }

nad_status nadi_sketch_commit(nadi_sketch *s) {
  if (++s->n_pend == NADI_ACC_BLOCK) {
    nad_status st = fold_rows(s, s->pend, s->n_pend);
    s->n_pend = 0;
    return st;
  }
  return NAD_OK;
}

nad_status nadi_sketch_push(nadi_sketch *s, const double *row) {
  memcpy(nadi_sketch_next_row(s), row, (size_t)s->d * sizeof(double));
  return nadi_sketch_commit(s);
}

nad_status nadi_sketch_flush(nadi_sketch *s) {
  if (s->n_pend == 0)
    return NAD_OK;
  nad_status st = fold_rows(s, s->pend, s->n_pend);
  s->n_pend = 0;
  return st;
}

nad_status nadi_sketch_merge(nadi_sketch *dst, const nadi_sketch *src) {
  const int64_t d = dst->d;
  NADI_TRY(nadi_sketch_flush(dst));
  if (src->n > 0) {
    const double na = (double)dst->n, nb = (double)src->n, n = na + nb;
    double *delta = dst->work; /* add_rows of the correction copies it into b first */
    for (int64_t i = 0; i < d; i++)
      delta[i] = src->mean[i] - dst->mean[i];
    for (int64_t i = 0; i < d; i++)
      dst->mean[i] += delta[i] * (nb / n);
    NADI_TRY(add_correction(dst, na, nb, delta));
    const double mass = dst->mass;
    NADI_TRY(append(dst, NULL, src->b, src->rows));
    dst->mass = mass + src->mass; /* src's rows carry src's mass, shrunk or not */
    dst->shrunk += src->shrunk;
    dst->shrinks += src->shrinks;
    dst->n += src->n;
  }
  if (src->n_pend > 0) {
    memcpy(dst->pend, src->pend, (size_t)(src->n_pend * d) * sizeof(double));
    NADI_TRY(fold_rows(dst, dst->pend, src->n_pend));
  }
  return nadi_sketch_maintain(dst, NULL, 1);
}

void nadi_sketch_copy(nadi_sketch *dst, const nadi_sketch *src) {
  const int64_t d = src->d;
  dst->n = src->n;
  dst->n_pend = src->n_pend;
  dst->rows = src->rows;
  dst->shrunk = src->shrunk;
  dst->mass = src->mass;
  dst->shrinks = src->shrinks;
  memcpy(dst->mean, src->mean, (size_t)d * sizeof(double));
  memcpy(dst->b, src->b, (size_t)(src->rows * d) * sizeof(float));
  memcpy(dst->pend, src->pend, (size_t)(src->n_pend * d) * sizeof(double));
}

void nadi_sketch_get_row(const nadi_sketch *s, int64_t i, double *row) {
  for (int64_t t = 0; t < s->d; t++)
    row[t] = s->b[i * s->d + t];
}

void nadi_sketch_set_row(nadi_sketch *s, int64_t i, const double *row) {
  for (int64_t t = 0; t < s->d; t++)
    s->b[i * s->d + t] = (float)row[t];
}

nad_status nadi_sketch_combine(nadi_sketch *work, const nadi_sketch *const *parts, int n_parts) {
  if (n_parts == 0) {
    work->n = work->n_pend = work->rows = work->shrinks = 0;
    work->shrunk = work->mass = 0.0;
    memset(work->mean, 0, (size_t)work->d * sizeof(double));
    return NAD_OK;
  }
  nadi_sketch_copy(work, parts[0]);
  for (int i = 1; i < n_parts; i++)
    NADI_TRY(nadi_sketch_merge(work, parts[i]));
  return nadi_sketch_flush(work);
}

nad_status nadi_sketch_top(nadi_sketch *s, int64_t k, double *evals, double *evecs) {
  const int64_t d = s->d, r = s->rows;
  if (k < 1 || k > s->l || k > d)
    return nadi_fail(NAD_ERR_INVALID_ARG, "%lld eigenpairs of a sketch of %lld rows",
                     (long long)k, (long long)s->l);
  const double scale = s->n > 1 ? 1.0 / (double)(s->n - 1) : 0.0;
  const int64_t kr = k < r ? k : r; /* pairs the rows can give; the rest have eigenvalue 0 */
  int64_t good = 0;
  if (kr > 0) {
    gram(s, r);
    NADI_TRY(nadi_eig_top(s->gram, r, kr, s->lam, s->u));
    /* v_i = B ᵀu_i / σ_i for σ_i² clearly above rounding of the Gram matrix. */
    const double tiny = 1e-13 * (s->lam[0] > 0.0 ? s->lam[0] : 0.0);
    for (int64_t i = 0; i < kr && s->lam[i] > tiny; i++) {
      const double f = 1.0 / sqrt(s->lam[i]);
      for (int64_t t = 0; t < r; t++)
        s->u[i * r + t] *= f;
      good = i + 1;
    }
    for (int64_t c0 = 0; c0 < d && good > 0; c0 += SHRINK_COLS) {
      const int64_t cb = d - c0 < SHRINK_COLS ? d - c0 : SHRINK_COLS;
      block_to_double(s, r, c0, cb, s->work);
      nadi_dgemm(0, 0, good, cb, r, 1.0, s->u, r, s->work, cb, 0.0, evecs + c0, d);
    }
  }
  for (int64_t i = 0; i < k; i++)
    evals[i] = i < good ? s->lam[i] * scale : 0.0;
  if (good < k) {
    /* Eigenvalue 0: complete the basis with orthonormalised random rows (fixed stream). */
    nadi_rng g;
    nadi_rng_init(&g, 0, 0x736b6574 /* "sket" */);
    for (int64_t i = good * d; i < k * d; i++)
      evecs[i] = nadi_rng_normal(&g);
  }
  /* QR keeps the span of every leading set of rows; it repairs the orthogonality the Gram route
   * loses for small σ_i (and orthogonalises the completion). The sign convention follows. */
  NADI_TRY(nadi_orthonormal_rows(evecs, k, d));
  for (int64_t i = 0; i < k; i++)
    nadi_eig_fix_sign(evecs + i * d, d);
  return NAD_OK;
}
