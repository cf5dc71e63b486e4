/* Checkpoints: the two half accumulators and the settings that define a run, in one binary file
 * (or buffer: the same bytes, for MPI ranks).
 *
 * Layout (little-endian; version 4):
 *   "NADCKPT\0"  u32 version  u32 0x01020304 (byte-order tag)
 *   char arch_name[64]  u64 graph fingerprint  i64 c, h, w  i32 mode  i32 eval_kind
 *   f64 step  u64 hash of the x0 bytes (EVAL_DATA: of the points and labels)  u64 seed
 *   i64 block rows  i64 n_ranges
 *   i32 network kind  i32 0  u64 hash of the fixed network's parameters (0: random networks)
 *   i64 output  i64 sketch L (0: exact)               (version 2 on)
 *   u32 length R  R bytes of run record               (version 4 on)
 *   n_ranges × (i64 lo, i64 hi)                      samples [lo, hi) covered
 *   exact: 2 × { i64 n  i64 n_pend  f64 mean[d]  f64 lower triangle of M2, row by row (i+1 per
 *          row)  f64 pending rows [n_pend][d] }     even, then odd network indices
 *   sketch: 2 × { i64 n  i64 n_pend  i64 rows  i64 shrinks  f64 shrunk  f64 mass  f64 mean[d]
 *          f64 sketch rows [rows][d]  f64 pending rows [n_pend][d]
 *          i64 spectrum n  f64 spectrum mean [2·nf]  f64 spectrum scatter [nf] }
 *   u32 CRC-32 (zlib, through lib/io/blob.c) of every byte before it
 * Version 1 files (no network kind, parameters hash, output or sketch) are still read: they hold
 * random networks, output 0, exact mode. Version 3 has version 2's layout; only its graph
 * fingerprint is computed otherwise (every hyper-parameter: lib/graph/fingerprint.c), so files of
 * versions 1 and 2 are checked against the fingerprint they were written with. Version 4 adds
 * the run record: the caller's text (nad_estimator_set_run_record; the nad tool writes
 * "key=value" lines, src/run_record.c) that says how to set the run up again, read back without
 * an estimator by nad_checkpoint_run_record. The library stores it and never interprets it: the
 * settings above stay what a load checks.
 * Pending rows (responses not yet folded into a block) are stored as they are, so a run that
 * is saved, loaded and resumed folds exactly the same blocks as one that never stopped.
 *
 * Writing is atomic (lib/io/atomic.c: a temporary file in the same directory, fflush + fsync,
 * rename). Loading first checks the size and CRC of the whole file, then the settings (each
 * mismatch is named), then reads into fresh accumulators, so a refused file leaves the
 * estimator untouched. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimator/run.h"
#include "io/io.h"

#define CKPT_VERSION 4u
#define CKPT_MAX_RECORD (16u << 20) /* bytes of run record a reader accepts */
#define CKPT_ENDIAN 0x01020304u
static const char ckpt_magic[8] = {'N', 'A', 'D', 'C', 'K', 'P', 'T', '\0'};

/* ---- hashes -------------------------------------------------------------------------------- */

#define fnv nadi_fnv
#define FNV0 NADI_FNV0

/* The settings of e as they go into a header. */
typedef struct ckpt_head {
  char arch_name[64];
  uint64_t fingerprint;
  int64_t shape[3];
  int32_t mode, eval_kind;
  double step;
  uint64_t x0_hash;
  uint64_t seed;
  int64_t block;
  int64_t n_ranges;
  int32_t network_kind;
  uint64_t params_hash;
  int64_t output;
  int64_t sketch;
  const char *record; /* save: the estimator's run record (NULL: none) */
  uint32_t record_len;
} ckpt_head;

static nad_status head_of(const nad_estimator *e, ckpt_head *hd) {
  memset(hd, 0, sizeof *hd);
  snprintf(hd->arch_name, sizeof hd->arch_name, "%s", e->arch_name);
  hd->fingerprint = nadi_graph_fingerprint(e->g);
  memcpy(hd->shape, e->shape, sizeof hd->shape);
  hd->mode = e->mode;
  hd->eval_kind = e->eval_kind;
  hd->step = e->step;
  hd->seed = e->seed;
  hd->block = NADI_ACC_BLOCK;
  hd->n_ranges = e->n_ranges;
  hd->sketch = e->sketch;
  hd->network_kind = e->network_kind;
  /* random networks: the hash of the parameter source's id (0: libnad's initialisation) */
  hd->params_hash = e->network_kind == NAD_NETWORK_FIXED ? e->params_hash : e->source_hash;
  hd->output = e->output;
  hd->record = e->run_record;
  hd->record_len = e->run_record ? (uint32_t)strlen(e->run_record) : 0;
  if (e->eval_kind == NAD_EVAL_DATA) {
    hd->x0_hash = e->points_hash;
    return NAD_OK;
  }
  float *x0 = nadi_alloc((size_t)e->d, sizeof(float));
  if (!x0)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "checkpoint: evaluation point");
  nad_status st = nadi_estimator_eval_point(e, x0);
  if (st == NAD_OK)
    hd->x0_hash = fnv(FNV0, x0, (size_t)e->d * sizeof(float));
  nadi_free(x0);
  return st;
}

static int little_endian(void) {
  const uint32_t x = 1;
  unsigned char b;
  memcpy(&b, &x, 1);
  return b == 1;
}

/* ---- save ---------------------------------------------------------------------------------- */

typedef struct writer {
  FILE *f;
  uint32_t crc;
  int err;
} writer;

static void put(writer *w, const void *p, size_t n) {
  const unsigned char *b = p;
  while (n > 0 && !w->err) {
    size_t c = n > (1u << 30) ? (1u << 30) : n;
    w->crc = nadi_crc32(w->crc, b, c);
    if (fwrite(b, 1, c, w->f) != c)
      w->err = errno ? errno : EIO;
    b += c;
    n -= c;
  }
}
static void put_u32(writer *w, uint32_t v) { put(w, &v, sizeof v); }
static void put_i32(writer *w, int32_t v) { put(w, &v, sizeof v); }
static void put_i64(writer *w, int64_t v) { put(w, &v, sizeof v); }
static void put_u64(writer *w, uint64_t v) { put(w, &v, sizeof v); }
static void put_f64(writer *w, double v) { put(w, &v, sizeof v); }

static void put_head(writer *w, const ckpt_head *hd) {
  put(w, ckpt_magic, sizeof ckpt_magic);
  put_u32(w, CKPT_VERSION);
  put_u32(w, CKPT_ENDIAN);
  put(w, hd->arch_name, sizeof hd->arch_name);
  put_u64(w, hd->fingerprint);
  for (int i = 0; i < 3; i++)
    put_i64(w, hd->shape[i]);
  put_i32(w, hd->mode);
  put_i32(w, hd->eval_kind);
  put_f64(w, hd->step);
  put_u64(w, hd->x0_hash);
  put_u64(w, hd->seed);
  put_i64(w, hd->block);
  put_i64(w, hd->n_ranges);
  put_i32(w, hd->network_kind);
  put_i32(w, 0);
  put_u64(w, hd->params_hash);
  put_i64(w, hd->output);
  put_i64(w, hd->sketch);
  put_u32(w, hd->record_len);
  put(w, hd->record ? hd->record : "", hd->record_len);
}

static void put_acc(writer *w, const nadi_acc *a) {
  const int64_t d = a->d;
  put_i64(w, a->n);
  put_i64(w, a->n_pend);
  put(w, a->mean, (size_t)d * sizeof(double));
  for (int64_t i = 0; i < d; i++)
    put(w, a->m2 + i * d, (size_t)(i + 1) * sizeof(double));
  put(w, a->pend, (size_t)(a->n_pend * d) * sizeof(double));
}

static void put_sketch(writer *w, const nadi_sketch *k, const nadi_specacc *sp) {
  const int64_t d = k->d;
  put_i64(w, k->n);
  put_i64(w, k->n_pend);
  put_i64(w, k->rows);
  put_i64(w, k->shrinks);
  put_f64(w, k->shrunk);
  put_f64(w, k->mass);
  put(w, k->mean, (size_t)d * sizeof(double));
  for (int64_t t = 0; t < k->rows; t++) { /* the format keeps double rows; work is scratch */
    nadi_sketch_get_row(k, t, k->work);
    put(w, k->work, (size_t)d * sizeof(double));
  }
  put(w, k->pend, (size_t)(k->n_pend * d) * sizeof(double));
  put_i64(w, sp->n);
  put(w, sp->mean, 2 * (size_t)sp->nf * sizeof(double));
  put(w, sp->m2, (size_t)sp->nf * sizeof(double));
}

/* The whole checkpoint into f; 0 or an errno. */
static int write_all(const nad_estimator *e, const ckpt_head *hd, FILE *f) {
  writer w = {f, 0, 0};
  put_head(&w, hd);
  for (int64_t i = 0; i < e->n_ranges; i++) {
    put_i64(&w, e->ranges[i].lo);
    put_i64(&w, e->ranges[i].hi);
  }
  for (int h = 0; h < 2; h++) {
    if (e->sketch)
      put_sketch(&w, &e->sk[h], &e->sp[h]);
    else
      put_acc(&w, &e->half[h]);
  }
  uint32_t crc = (uint32_t)w.crc;
  if (!w.err && fwrite(&crc, sizeof crc, 1, w.f) != 1)
    w.err = errno ? errno : EIO;
  return w.err;
}

static nad_status check_save(const nad_estimator *e, ckpt_head *hd) {
  if (!little_endian())
    return nadi_fail(NAD_ERR_UNSUPPORTED, "checkpoints are written on little-endian hosts only");
  if (!nadi_halves_ready(e))
    return nadi_fail(NAD_ERR_MISUSE, "nothing to save: no network accumulated yet");
  return head_of(e, hd);
}

nad_status nadi_checkpoint_save(const nad_estimator *e, const char *path) {
  ckpt_head hd;
  NADI_TRY(check_save(e, &hd));
  nadi_atomic_file af;
  if (nadi_atomic_open(&af, path) != 0)
    return nadi_atomic_fail(&af);
  int err = write_all(e, &hd, af.fp);
  if (err) {
    nadi_atomic_abort(&af);
    return nadi_fail(NAD_ERR_IO, "cannot write checkpoint '%s': %s", path, strerror(err));
  }
  if (nadi_atomic_commit(&af) != 0)
    return nadi_fail(NAD_ERR_IO, "cannot write checkpoint '%s': cannot %s: %s", path, af.failed,
                     strerror(af.err));
  return NAD_OK;
}

nad_status nadi_checkpoint_save_buffer(const nad_estimator *e, void **buf, size_t *len) {
  ckpt_head hd;
  NADI_TRY(check_save(e, &hd));
  char *mem = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&mem, &size);
  if (!f)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "checkpoint buffer: %s", strerror(errno));
  int err = write_all(e, &hd, f);
  if (fclose(f) != 0 && !err)
    err = errno ? errno : ENOMEM;
  if (err) {
    free(mem);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "checkpoint buffer: %s", strerror(err));
  }
  *buf = mem; /* malloc'd by the stream: nad_free releases it */
  *len = size;
  return NAD_OK;
}

/* ---- load ---------------------------------------------------------------------------------- */

typedef struct reader {
  FILE *f;
  int short_read;
} reader;

static void get(reader *r, void *p, size_t n) {
  if (r->short_read || fread(p, 1, n, r->f) != n) {
    r->short_read = 1;
    memset(p, 0, n);
  }
}
static uint32_t get_u32(reader *r) {
  uint32_t v;
  get(r, &v, sizeof v);
  return v;
}
static int32_t get_i32(reader *r) {
  int32_t v;
  get(r, &v, sizeof v);
  return v;
}
static int64_t get_i64(reader *r) {
  int64_t v;
  get(r, &v, sizeof v);
  return v;
}
static uint64_t get_u64(reader *r) {
  uint64_t v;
  get(r, &v, sizeof v);
  return v;
}
static double get_f64(reader *r) {
  double v;
  get(r, &v, sizeof v);
  return v;
}

static const size_t head_bytes_v1 = 8 + 4 + 4 + 64 + 8 + 3 * 8 + 4 + 4 + 8 + 8 + 8 + 8 + 8;
/* version 2: i32 network kind, i32 padding, u64 parameters hash, i64 output, i64 sketch */
static const size_t head_v2_extra = 4 + 4 + 8 + 8 + 8;

/* Size and CRC of the whole file (first pass). */
static nad_status check_crc(FILE *f, const char *path, int64_t *size, uint32_t *version_out) {
  if (fseeko(f, 0, SEEK_END) != 0)
    return nadi_fail(NAD_ERR_IO, "cannot seek in '%s': %s", path, strerror(errno));
  off_t sz = ftello(f);
  rewind(f);
  if (sz < (off_t)(head_bytes_v1 + 4))
    return nadi_fail(NAD_ERR_FORMAT, "'%s' is truncated or not a libnad checkpoint (%lld bytes)",
                     path, (long long)sz);
  char magic[8];
  if (fread(magic, 1, 8, f) != 8 || memcmp(magic, ckpt_magic, 8) != 0)
    return nadi_fail(NAD_ERR_FORMAT, "'%s' is not a libnad checkpoint (bad magic)", path);
  uint32_t version;
  if (fread(&version, sizeof version, 1, f) != 1 || version < 1 || version > CKPT_VERSION)
    return nadi_fail(NAD_ERR_FORMAT,
                     "'%s' has checkpoint format version %u; this libnad reads versions 1 to %u",
                     path, (unsigned)version, CKPT_VERSION);
  *version_out = version;
  rewind(f);
  uint32_t crc = 0;
  unsigned char *buf = malloc(1 << 20);
  if (!buf)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "checkpoint read buffer");
  int64_t left = (int64_t)sz - 4;
  while (left > 0) {
    size_t c = left > (1 << 20) ? (1 << 20) : (size_t)left;
    if (fread(buf, 1, c, f) != c) {
      free(buf);
      return nadi_fail(NAD_ERR_IO, "cannot read '%s'", path);
    }
    crc = nadi_crc32(crc, buf, c);
    left -= (int64_t)c;
  }
  free(buf);
  uint32_t stored;
  if (fread(&stored, sizeof stored, 1, f) != 1)
    return nadi_fail(NAD_ERR_IO, "cannot read '%s'", path);
  if (stored != (uint32_t)crc)
    return nadi_fail(NAD_ERR_FORMAT,
                     "'%s' is corrupted or truncated: CRC-32 mismatch (stored %08x, computed %08x)",
                     path, (unsigned)stored, (unsigned)crc);
  *size = (int64_t)sz;
  rewind(f);
  return NAD_OK;
}

/* Compare the file's settings with e's; name the first that differs. */
static nad_status check_head(const nad_estimator *e, const ckpt_head *f, const char *path,
                             uint32_t version) {
  ckpt_head me;
  NADI_TRY(head_of(e, &me));
  if (version <= 2)
    me.fingerprint = nadi_graph_fingerprint_v2(e->g);
  if (strncmp(f->arch_name, me.arch_name, sizeof me.arch_name) != 0)
    return nadi_fail(NAD_ERR_FORMAT, "'%s' is for architecture '%.63s', not '%s'", path,
                     f->arch_name, me.arch_name);
  for (int i = 0; i < 3; i++)
    if (f->shape[i] != me.shape[i])
      return nadi_fail(NAD_ERR_FORMAT, "'%s' is for inputs %lld×%lld×%lld, not %lld×%lld×%lld",
                       path, (long long)f->shape[0], (long long)f->shape[1],
                       (long long)f->shape[2], (long long)me.shape[0], (long long)me.shape[1],
                       (long long)me.shape[2]);
  if (f->fingerprint != me.fingerprint)
    return nadi_fail(NAD_ERR_FORMAT,
                     "'%s' is for a different graph of architecture '%s' (layers or shapes "
                     "differ: fingerprint %016llx, expected %016llx)",
                     path, me.arch_name, (unsigned long long)f->fingerprint,
                     (unsigned long long)me.fingerprint);
  if (f->mode != me.mode)
    return nadi_fail(NAD_ERR_FORMAT, "'%s' was computed in mode %s, not %s", path,
                     f->mode == NAD_MODE_DIPOLE ? "dipole" : "gradient",
                     me.mode == NAD_MODE_DIPOLE ? "dipole" : "gradient");
  if (me.mode == NAD_MODE_DIPOLE && f->step != me.step)
    return nadi_fail(NAD_ERR_FORMAT, "'%s' was computed with dipole step %.17g, not %.17g", path,
                     f->step, me.step);
  if (f->seed != me.seed)
    return nadi_fail(NAD_ERR_FORMAT, "'%s' was computed with seed %llu, not %llu", path,
                     (unsigned long long)f->seed, (unsigned long long)me.seed);
  static const char *const kinds[] = {"normal", "zeros", "user", "data"};
  if (f->eval_kind != me.eval_kind)
    return nadi_fail(NAD_ERR_FORMAT, "'%s' used evaluation point '%s', not '%s'", path,
                     (f->eval_kind >= 0 && f->eval_kind <= 3) ? kinds[f->eval_kind] : "?",
                     kinds[me.eval_kind]);
  if (f->x0_hash != me.x0_hash)
    return nadi_fail(NAD_ERR_FORMAT,
                     me.eval_kind == NAD_EVAL_DATA
                         ? "'%s' used different evaluation data (hash of the points and labels "
                           "differs)"
                         : "'%s' used a different evaluation point (hash of x0 differs)",
                     path);
  static const char *const networks[] = {"random networks", "a fixed network"};
  if (f->network_kind != me.network_kind)
    return nadi_fail(NAD_ERR_FORMAT, "'%s' was computed with %s, not %s", path,
                     (f->network_kind == 0 || f->network_kind == 1) ? networks[f->network_kind]
                                                                    : "an unknown network kind",
                     networks[me.network_kind]);
  if (f->params_hash != me.params_hash && me.network_kind != NAD_NETWORK_FIXED)
    return nadi_fail(NAD_ERR_FORMAT,
                     "'%s' was computed with random networks from another parameter source "
                     "(hash of the source's id %016llx, expected %016llx; 0 = libnad's own "
                     "initialisation)",
                     path, (unsigned long long)f->params_hash,
                     (unsigned long long)me.params_hash);
  if (f->params_hash != me.params_hash)
    return nadi_fail(NAD_ERR_FORMAT,
                     "'%s' was computed for a different fixed network (hash of the parameters "
                     "%016llx, expected %016llx)",
                     path, (unsigned long long)f->params_hash,
                     (unsigned long long)me.params_hash);
  if (f->output != me.output)
    return nadi_fail(NAD_ERR_FORMAT, "'%s' used output %lld as response, not %lld (-1: label)",
                     path, (long long)f->output, (long long)me.output);
  if (f->sketch != me.sketch) {
    char a[64], b[64];
    snprintf(a, sizeof a, f->sketch ? "a sketch of %lld rows" : "the exact mode", (long long)f->sketch);
    snprintf(b, sizeof b, me.sketch ? "a sketch of %lld rows" : "the exact mode", (long long)me.sketch);
    return nadi_fail(NAD_ERR_FORMAT, "'%s' was computed in %s, not %s (NAD_OPT_SKETCH, --sketch)",
                     path, a, b);
  }
  if (f->block != NADI_ACC_BLOCK)
    return nadi_fail(NAD_ERR_FORMAT, "'%s' uses accumulator blocks of %lld rows, not %d", path,
                     (long long)f->block, NADI_ACC_BLOCK);
  return NAD_OK;
}

static int64_t count_parity(const nadi_range *r, int64_t n, int parity) {
  int64_t c = 0;
  for (int64_t i = 0; i < n; i++) {
    /* networks j in [lo, hi) with j % 2 == parity (j >= 0) */
    int64_t lo = r[i].lo + ((r[i].lo & 1) != parity), hi = r[i].hi;
    if (lo < hi)
      c += (hi - lo + 1) / 2;
  }
  return c;
}

static void read_acc(reader *r, nadi_acc *a) {
  const int64_t d = a->d;
  get(r, a->mean, (size_t)d * sizeof(double));
  for (int64_t i = 0; i < d; i++)
    get(r, a->m2 + i * d, (size_t)(i + 1) * sizeof(double));
  get(r, a->pend, (size_t)(a->n_pend * d) * sizeof(double));
}

/* The state read from a file before it is committed to the estimator. */
typedef struct ckpt_body {
  nadi_acc acc[2];
  nadi_sketch sk[2];
  nadi_specacc sp[2];
} ckpt_body;

static void body_free(ckpt_body *b) {
  for (int h = 0; h < 2; h++) {
    nadi_acc_free(&b->acc[h]);
    nadi_sketch_free(&b->sk[h]);
    nadi_specacc_free(&b->sp[h]);
  }
}

/* One half of the body; *bytes += its size. Counts are checked against the ranges (expect). */
static nad_status read_half(reader *r, const nad_estimator *e, ckpt_body *b, int h,
                            int64_t expect, int64_t size, int64_t *bytes, const char *path) {
  const int64_t d = e->d;
  const int64_t n = get_i64(r), np = get_i64(r);
  if (r->short_read || n < 0 || np < 0 || np >= NADI_ACC_BLOCK || n + np != expect)
    return nadi_fail(NAD_ERR_FORMAT, "'%s': network counts do not match its network ranges",
                     path);
  if (!e->sketch) {
    const int64_t need = 16 + 8 * (d + d * (d + 1) / 2 + np * d);
    if (*bytes + need > size)
      return nadi_fail(NAD_ERR_FORMAT, "'%s' is truncated (%lld bytes, at least %lld expected)",
                       path, (long long)size, (long long)(*bytes + need));
    NADI_TRY(nadi_acc_init(&b->acc[h], d));
    b->acc[h].n = n;
    b->acc[h].n_pend = np;
    read_acc(r, &b->acc[h]);
    *bytes += need;
    return NAD_OK;
  }
  const int64_t l = e->sketch, rows = get_i64(r), shrinks = get_i64(r);
  const double shrunk = get_f64(r), mass = get_f64(r);
  /* A sketch may hold up to a block and a correction row past 2L whose shrink is due (a save
   * after a cancelled run); the next fold shrinks it first, as the run would have. */
  const int64_t max_rows = 2 * l + NADI_ACC_BLOCK;
  if (r->short_read || rows < 0 || rows > max_rows || shrinks < 0 || !(shrunk >= 0.0) ||
      !(mass >= 0.0))
    return nadi_fail(NAD_ERR_FORMAT, "'%s': malformed sketch (%lld rows of at most %lld)", path,
                     (long long)rows, (long long)max_rows);
  const int64_t nf = e->shape[0] * e->shape[1] * (e->shape[2] / 2 + 1);
  const int64_t need = 48 + 8 * (d + rows * d + np * d) + 8 + 24 * nf;
  if (*bytes + need > size)
    return nadi_fail(NAD_ERR_FORMAT, "'%s' is truncated (%lld bytes, at least %lld expected)",
                     path, (long long)size, (long long)(*bytes + need));
  NADI_TRY(nadi_sketch_init(&b->sk[h], d, l));
  NADI_TRY(nadi_specacc_init(&b->sp[h], e->shape[0], e->shape[1], e->shape[2]));
  nadi_sketch *k = &b->sk[h];
  k->n = n;
  k->n_pend = np;
  k->rows = rows;
  k->shrinks = shrinks;
  k->shrunk = shrunk;
  k->mass = mass;
  get(r, k->mean, (size_t)d * sizeof(double));
  for (int64_t t = 0; t < rows; t++) { /* double rows holding float32 values */
    get(r, k->work, (size_t)d * sizeof(double));
    nadi_sketch_set_row(k, t, k->work);
  }
  get(r, k->pend, (size_t)(np * d) * sizeof(double));
  nadi_specacc *sp = &b->sp[h];
  sp->n = get_i64(r);
  get(r, sp->mean, 2 * (size_t)nf * sizeof(double));
  get(r, sp->m2, (size_t)nf * sizeof(double));
  if (sp->n != n + np)
    return nadi_fail(NAD_ERR_FORMAT, "'%s': the spectrum holds %lld networks, the sketch %lld",
                     path, (long long)sp->n, (long long)(n + np));
  *bytes += need;
  return NAD_OK;
}

/* Adopt (e empty: exact resume) or merge the body into e. */
static nad_status commit_body(nad_estimator *e, ckpt_body *b) {
  const int empty = nadi_halves_count(e, 0) + nadi_halves_count(e, 1) == 0;
  if (empty) {
    nadi_halves_free(e);
    for (int h = 0; h < 2; h++) {
      e->half[h] = b->acc[h];
      e->sk[h] = b->sk[h];
      e->sp[h] = b->sp[h];
    }
    memset(b, 0, sizeof *b);
    return NAD_OK;
  }
  for (int h = 0; h < 2; h++) {
    if (e->sketch) {
      NADI_TRY(nadi_sketch_merge(&e->sk[h], &b->sk[h]));
      nadi_specacc_merge(&e->sp[h], &b->sp[h]);
    } else {
      nadi_acc_merge(&e->half[h], &b->acc[h]);
    }
  }
  return NAD_OK;
}

/* The header after check_crc (version, size: its results); the run record (version 4) is read
 * into *record (malloc'd) when record is not NULL, else skipped. */
static nad_status read_head(reader *r, uint32_t version, int64_t size, ckpt_head *hd,
                            uint32_t *endian, char **record, const char *path) {
  char magic[8];
  get(r, magic, 8);
  (void)get_u32(r); /* version, checked with the CRC */
  *endian = get_u32(r);
  get(r, hd->arch_name, sizeof hd->arch_name);
  hd->arch_name[sizeof hd->arch_name - 1] = '\0';
  hd->fingerprint = get_u64(r);
  for (int i = 0; i < 3; i++)
    hd->shape[i] = get_i64(r);
  hd->mode = get_i32(r);
  hd->eval_kind = get_i32(r);
  hd->step = get_f64(r);
  hd->x0_hash = get_u64(r);
  hd->seed = get_u64(r);
  hd->block = get_i64(r);
  hd->n_ranges = get_i64(r);
  if (version >= 2) {
    hd->network_kind = get_i32(r);
    (void)get_i32(r); /* padding */
    hd->params_hash = get_u64(r);
    hd->output = get_i64(r);
    hd->sketch = get_i64(r);
  } /* version 1: random networks (0), no parameters hash (0), output 0, exact */
  if (version < 4 || r->short_read)
    return NAD_OK;
  hd->record_len = get_u32(r);
  const int64_t at = (int64_t)(head_bytes_v1 + head_v2_extra + 4);
  if (r->short_read || hd->record_len > CKPT_MAX_RECORD || at + hd->record_len + 4 > size)
    return nadi_fail(NAD_ERR_FORMAT, "'%s': bad run record length %lu", path,
                     (unsigned long)hd->record_len);
  if (!record) { /* a resume or merge does not need the text: step over it */
    if (fseek(r->f, (long)hd->record_len, SEEK_CUR) != 0)
      r->short_read = 1;
    return NAD_OK;
  }
  char *text = malloc((size_t)hd->record_len + 1);
  if (!text)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "checkpoint run record");
  get(r, text, hd->record_len);
  text[hd->record_len] = '\0';
  *record = text;
  return NAD_OK;
}

/* Load from a stream named `path` in messages. */
static nad_status load_stream(nad_estimator *e, FILE *f, const char *path) {
  ckpt_body body;
  memset(&body, 0, sizeof body);
  nadi_range *ranges = NULL;
  int64_t size = 0;
  uint32_t version = 0;
  nad_status st = check_crc(f, path, &size, &version);
  reader r = {f, 0};
  ckpt_head hd;
  memset(&hd, 0, sizeof hd);
  uint32_t endian = 0;
  if (st == NAD_OK)
    st = read_head(&r, version, size, &hd, &endian, NULL, path);
  if (st == NAD_OK) {
    if (r.short_read)
      st = nadi_fail(NAD_ERR_FORMAT, "'%s' is truncated (header)", path);
    else if (endian != CKPT_ENDIAN)
      st = nadi_fail(NAD_ERR_FORMAT, "'%s' has the wrong byte order", path);
    else
      st = check_head(e, &hd, path, version);
  }
  const int64_t hbytes = (int64_t)(head_bytes_v1 + (version >= 2 ? head_v2_extra : 0) +
                                   (version >= 4 ? 4 + (int64_t)hd.record_len : 0));
  /* The size the header implies must be the size of the file (truncation, garbage). */
  if (st == NAD_OK && (hd.n_ranges < 0 || hd.n_ranges > (size - hbytes) / 16))
    st = nadi_fail(NAD_ERR_FORMAT, "'%s': bad number of network ranges %lld", path,
                   (long long)hd.n_ranges);
  if (st == NAD_OK && !(ranges = nadi_alloc((size_t)(hd.n_ranges + 1), sizeof(nadi_range))))
    st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "checkpoint ranges");
  for (int64_t i = 0; st == NAD_OK && i < hd.n_ranges; i++) {
    ranges[i].lo = get_i64(&r);
    ranges[i].hi = get_i64(&r);
    if (ranges[i].lo < 0 || ranges[i].hi <= ranges[i].lo ||
        (i > 0 && ranges[i].lo <= ranges[i - 1].hi))
      st = nadi_fail(NAD_ERR_FORMAT, "'%s': network range %lld [%lld, %lld) is malformed", path,
                     (long long)i, (long long)ranges[i].lo, (long long)ranges[i].hi);
  }
  /* The size the header implies must be the size of the file (truncation, garbage). */
  int64_t bytes = hbytes + 16 * hd.n_ranges + 4;
  for (int h = 0; h < 2 && st == NAD_OK; h++)
    st = read_half(&r, e, &body, h, count_parity(ranges, hd.n_ranges, h), size, &bytes, path);
  if (st == NAD_OK && (r.short_read || size != bytes))
    st = nadi_fail(NAD_ERR_FORMAT, "'%s' has %lld bytes, its header implies %lld", path,
                   (long long)size, (long long)bytes);
  if (st == NAD_OK && nadi_ranges_overlap(e, ranges, hd.n_ranges))
    st = nadi_fail(NAD_ERR_FORMAT,
                   "'%s' covers networks that are already accumulated (network ranges overlap)",
                   path);
  if (st == NAD_OK)
    st = commit_body(e, &body);
  for (int64_t i = 0; st == NAD_OK && i < hd.n_ranges; i++)
    st = nadi_ranges_add(e, ranges[i].lo, ranges[i].hi);
  if (st == NAD_OK)
    e->finalized = 0;
  body_free(&body);
  nadi_free(ranges);
  return st;
}

nad_status nadi_checkpoint_load(nad_estimator *e, const char *path) {
  if (!little_endian())
    return nadi_fail(NAD_ERR_UNSUPPORTED, "checkpoints are read on little-endian hosts only");
  FILE *f = fopen(path, "rb");
  if (!f)
    return nadi_fail(NAD_ERR_IO, "cannot open checkpoint '%s': %s", path, strerror(errno));
  nad_status st = load_stream(e, f, path);
  fclose(f);
  return st;
}

nad_status nadi_checkpoint_load_buffer(nad_estimator *e, const void *buf, size_t len) {
  if (!little_endian())
    return nadi_fail(NAD_ERR_UNSUPPORTED, "checkpoints are read on little-endian hosts only");
  if (len == 0)
    return nadi_fail(NAD_ERR_FORMAT, "checkpoint buffer is empty");
  FILE *f = fmemopen((void *)buf, len, "rb"); /* read-only: the buffer is not written */
  if (!f)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "checkpoint buffer: %s", strerror(errno));
  nad_status st = load_stream(e, f, "checkpoint buffer");
  fclose(f);
  return st;
}

static nad_status record_stream(FILE *f, const char *path, int32_t *version, char **text) {
  int64_t size = 0;
  uint32_t v = 0, endian = 0;
  NADI_TRY(check_crc(f, path, &size, &v));
  reader r = {f, 0};
  ckpt_head hd;
  memset(&hd, 0, sizeof hd);
  char *record = NULL;
  nad_status st = read_head(&r, v, size, &hd, &endian, &record, path);
  if (st == NAD_OK && r.short_read)
    st = nadi_fail(NAD_ERR_FORMAT, "'%s' is truncated (header)", path);
  else if (st == NAD_OK && endian != CKPT_ENDIAN)
    st = nadi_fail(NAD_ERR_FORMAT, "'%s' has the wrong byte order", path);
  if (st == NAD_OK && !record && !(record = calloc(1, 1))) /* formats 1 to 3: no record */
    st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "checkpoint run record");
  if (st != NAD_OK) {
    free(record);
    return st;
  }
  *version = (int32_t)v;
  *text = record;
  return NAD_OK;
}

nad_status nadi_checkpoint_record(const char *path, const void *buf, size_t len,
                                  int32_t *version, char **text) {
  if (!little_endian())
    return nadi_fail(NAD_ERR_UNSUPPORTED, "checkpoints are read on little-endian hosts only");
  if (!path && len == 0)
    return nadi_fail(NAD_ERR_FORMAT, "checkpoint buffer is empty");
  FILE *f = path ? fopen(path, "rb") : fmemopen((void *)buf, len, "rb");
  if (!f && path)
    return nadi_fail(NAD_ERR_IO, "cannot open checkpoint '%s': %s", path, strerror(errno));
  if (!f)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "checkpoint buffer: %s", strerror(errno));
  nad_status st = record_stream(f, path ? path : "checkpoint buffer", version, text);
  fclose(f);
  return st;
}
