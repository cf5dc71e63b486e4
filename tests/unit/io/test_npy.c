/* .npy reader/writer (lib/io/npy_format.c) and its façade (lib/api/npy.c): C round trips, numpy's
 * exact byte layout, hand-written headers numpy accepts, one test per kind of malformed file,
 * atomic replacement, argument validation, and a mutation fuzz loop (statuses only). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "io/io.h"
#include "../check.h"
#include "../test_files.h"


static char dir[256];

static const char *tpath(const char *name) { return nadt_path(dir, name); }

static void put_file(const char *path, const void *bytes, size_t n) {
  /* a new inode each time: rewriting a truncated file makes ext4 flush it on close
   * (auto_da_alloc), which turns the fuzz loop into thousands of disk waits */
  unlink(path);
  FILE *fp = fopen(path, "wb");
  if (!fp) {
    printf("cannot create %s: %s\n", path, strerror(errno));
    exit(2);
  }
  if (n)
    fwrite(bytes, 1, n, fp);
  fclose(fp);
}

/* A .npy file from a header dict and raw data: preamble for version (major, 0) + dict, padded
 * with spaces to `align` (0 = no padding) and a '\n'. Returns the length. */
static size_t make_npy(unsigned char *out, int major, const char *dict, size_t align,
                       const void *data, size_t data_bytes) {
  size_t lenb = major == 1 ? 2 : 4;
  size_t pre = 8 + lenb, n = strlen(dict);
  size_t hl = n + 1;
  if (align)
    hl += (align - (pre + hl) % align) % align;
  memcpy(out, "\x93NUMPY", 6);
  out[6] = (unsigned char)major;
  out[7] = 0;
  for (size_t i = 0; i < lenb; i++)
    out[8 + i] = (unsigned char)((hl >> (8 * i)) & 0xff);
  memcpy(out + pre, dict, n);
  memset(out + pre + n, ' ', hl - n - 1);
  out[pre + hl - 1] = '\n';
  if (data_bytes)
    memcpy(out + pre + hl, data, data_bytes);
  return pre + hl + data_bytes;
}

static int64_t prod(const int64_t *s, int n) {
  int64_t p = 1;
  for (int i = 0; i < n; i++)
    p *= s[i];
  return p;
}

/* ---- round trips through C ---------------------------------------------------------------- */

static void test_roundtrip(void) {
  static const int64_t shapes[][8] = {{0}, {0}, {5}, {2, 3}, {2, 0, 3}, {1, 2, 3, 4, 1, 2, 1, 2}};
  static const int ndims[] = {0, 1, 1, 2, 3, 8};
  for (size_t s = 0; s < sizeof ndims / sizeof ndims[0]; s++) {
    int nd = ndims[s];
    int64_t n = prod(shapes[s], nd);
    float *f = malloc(sizeof(float) * (size_t)(n + 1));
    double *d = malloc(sizeof(double) * (size_t)(n + 1));
    for (int64_t i = 0; i < n; i++) {
      f[i] = (float)(0.1 * (double)i - 1.7);
      d[i] = 0.1 * (double)i - 1.7; /* not representable in float */
    }
    /* float32 file */
    EXPECT(nad_npy_write(tpath("rt32.npy"), f, 0, shapes[s], nd) == NAD_OK);
    float *rf = NULL;
    double *rd = NULL;
    int64_t shp[8] = {-7, -7, -7, -7, -7, -7, -7, -7};
    int32_t rn = -1;
    EXPECT(nad_npy_read_f32(tpath("rt32.npy"), &rf, shp, &rn) == NAD_OK);
    EXPECT(rf != NULL && rn == nd && memcmp(shp, shapes[s], sizeof(int64_t) * (size_t)nd) == 0);
    EXPECT(rf && (n == 0 || memcmp(rf, f, sizeof(float) * (size_t)n) == 0));
    nad_free(rf);
    EXPECT(nadi_npy_read_f64(tpath("rt32.npy"), &rd, shp, &rn) == NAD_OK && rn == nd);
    int ok = rd != NULL;
    for (int64_t i = 0; ok && i < n; i++)
      ok = rd[i] == (double)f[i];
    EXPECT(ok);
    nadi_free(rd);
    /* float64 file */
    EXPECT(nad_npy_write(tpath("rt64.npy"), d, 1, shapes[s], nd) == NAD_OK);
    EXPECT(nadi_npy_read_f64(tpath("rt64.npy"), &rd, shp, &rn) == NAD_OK);
    EXPECT(rd != NULL && rn == nd && memcmp(shp, shapes[s], sizeof(int64_t) * (size_t)nd) == 0);
    EXPECT(rd && (n == 0 || memcmp(rd, d, sizeof(double) * (size_t)n) == 0));
    nadi_free(rd);
    EXPECT(nad_npy_read_f32(tpath("rt64.npy"), &rf, shp, &rn) == NAD_OK && rn == nd);
    ok = rf != NULL;
    for (int64_t i = 0; ok && i < n; i++)
      ok = rf[i] == (float)d[i];
    EXPECT(ok);
    nad_free(rf);
    free(f);
    free(d);
  }
  /* 0-d arrays hold exactly one element */
  double one = 42.5;
  EXPECT(nad_npy_write(tpath("scalar.npy"), &one, 1, NULL, 0) == NAD_OK);
  float *rf = NULL;
  int64_t shp[8];
  int32_t rn = -1;
  EXPECT(nad_npy_read_f32(tpath("scalar.npy"), &rf, shp, &rn) == NAD_OK && rn == 0 && rf &&
         rf[0] == 42.5f);
  nad_free(rf);
  /* conversion of special values f8 -> f4 */
  double sp[5] = {NAN, INFINITY, -INFINITY, -0.0, 1e300};
  int64_t five = 5;
  EXPECT(nad_npy_write(tpath("special.npy"), sp, 1, &five, 1) == NAD_OK);
  EXPECT(nad_npy_read_f32(tpath("special.npy"), &rf, shp, &rn) == NAD_OK);
  EXPECT(rf && isnan(rf[0]) && rf[1] == INFINITY && rf[2] == -INFINITY && rf[3] == 0 &&
         signbit(rf[3]) && rf[4] == INFINITY);
  nad_free(rf);
  /* a large array crosses the conversion buffer several times */
  int64_t big = 10007;
  double *d = malloc(sizeof(double) * (size_t)big);
  for (int64_t i = 0; i < big; i++)
    d[i] = sin((double)i);
  EXPECT(nad_npy_write(tpath("big.npy"), d, 1, &big, 1) == NAD_OK);
  EXPECT(nad_npy_read_f32(tpath("big.npy"), &rf, shp, &rn) == NAD_OK && shp[0] == big);
  int ok = rf != NULL;
  for (int64_t i = 0; ok && i < big; i++)
    ok = rf[i] == (float)d[i];
  EXPECT(ok);
  nad_free(rf);
  free(d);
}

/* The writer reproduces numpy 1.24's np.save byte for byte (growth padding included). */
static void test_layout(void) {
  float z[6] = {0};
  int64_t s23[2] = {2, 3};
  EXPECT(nad_npy_write(tpath("layout.npy"), z, 0, s23, 2) == NAD_OK);
  size_t n = 0;
  unsigned char *b = nadt_read_file(tpath("layout.npy"), &n);
  /* np.save(f, np.zeros((2, 3), np.float32)): 10-byte preamble, dict, growth padding of 21 - 1
   * spaces, alignment padding, '\n' at byte 127, then 24 zero bytes */
  static const unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0};
  const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  size_t dl = strlen(dict);
  int spaces = 1;
  for (size_t i = 10 + dl; b && i < 127; i++)
    spaces &= b[i] == ' ';
  EXPECT(b && n == 128 + 24);
  EXPECT(b && memcmp(b, pre, 10) == 0 && memcmp(b + 10, dict, dl) == 0 && spaces && b[127] == '\n');
  free(b);
  /* 0-d: no growth padding; 1-d: "(5,)" */
  EXPECT(nad_npy_write(tpath("layout0.npy"), z, 1, NULL, 0) == NAD_OK);
  b = nadt_read_file(tpath("layout0.npy"), &n);
  EXPECT(b && n == 128 + 8 && b[8] == 118 && b[127] == '\n' &&
         memcmp(b + 10, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 55) == 0);
  free(b);
  int64_t s5 = 5;
  EXPECT(nad_npy_write(tpath("layout1.npy"), z, 0, &s5, 1) == NAD_OK);
  b = nadt_read_file(tpath("layout1.npy"), &n);
  EXPECT(b && n == 128 + 20 && (b[8] | b[9] << 8) + 10 == 128 && b[127] == '\n' &&
         memcmp(b + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", 57) == 0);
  free(b);
  /* 8 dimensions still fit a 64-byte multiple */
  int64_t s8[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT(nad_npy_write(tpath("layout8.npy"), z, 0, s8, 8) == NAD_OK);
  b = nadt_read_file(tpath("layout8.npy"), &n);
  EXPECT(b && (n - 4) % 64 == 0 && b[n - 5] == '\n');
  free(b);
}

/* Headers numpy accepts but does not write itself. */
static void test_flexible_headers(void) {
  static const struct {
    int major;
    const char *dict;
    size_t align;
    int64_t shape[3];
    int ndim;
  } cases[] = {
      {1, "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", 64, {2, 3}, 2},
      {1, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (6,)}", 16, {6}, 1},
      {1, "  {  'descr' :'<f4' ,\n 'fortran_order':False,'shape':( 3 ,2 , ) , }  ", 0, {3, 2}, 2},
      {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", 64, {1, 2, 3}, 3},
      {3, "{'descr': '<f4', 'fortran_order': False, 'shape': (6L,), }", 64, {6}, 1},
      {1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 6), }", 64, {1, 6}, 2},
      {1, "{'descr': '<f4', 'fortran_order': True, 'shape': (6,), }", 64, {6}, 1},
  };
  float data[6] = {1, 2, 3, 4, 5, 6};
  unsigned char file[512];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = make_npy(file, cases[i].major, cases[i].dict, cases[i].align, data, sizeof data);
    put_file(tpath("flex.npy"), file, n);
    float *rf = NULL;
    int64_t shp[8];
    int32_t rn = -1;
    nad_status st = nad_npy_read_f32(tpath("flex.npy"), &rf, shp, &rn);
    CHECK(st == NAD_OK, "case %zu: %s", i, nad_last_error());
    CHECK(rn == cases[i].ndim &&
                   memcmp(shp, cases[i].shape, sizeof(int64_t) * (size_t)cases[i].ndim) == 0,
               "case %zu", i);
    EXPECT(rf && memcmp(rf, data, sizeof data) == 0);
    nad_free(rf);
  }
}

/* ---- malformed files ---------------------------------------------------------------------- */

static void expect_format(const void *bytes, size_t n, const char *needle, const char *what) {
  const char *p = tpath("bad.npy");
  put_file(p, bytes, n);
  float *rf = (float *)1;
  int64_t shp[8];
  int32_t rn;
  nad_status st = nad_npy_read_f32(p, &rf, shp, &rn);
  const char *msg = nad_last_error();
  CHECK(st == NAD_ERR_FORMAT, "%s: status %d (%s)", what, (int)st, msg);
  CHECK(rf == NULL, "%s: data not reset", what);
  CHECK(strstr(msg, p) != NULL, "%s: message does not name the file: %s", what, msg);
  CHECK(strstr(msg, needle) != NULL, "%s: message lacks \"%s\": %s", what, needle, msg);
  double *rd = (double *)1;
  st = nadi_npy_read_f64(p, &rd, shp, &rn);
  CHECK(st == NAD_ERR_FORMAT && rd == NULL, "%s (f64): status %d", what, (int)st);
}

static void test_malformed(void) {
  unsigned char good[512], f[1024];
  float data[6] = {1, 2, 3, 4, 5, 6};
  size_t n = make_npy(good, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 64,
                      data, sizeof data);
  EXPECT(n == 128 + 24);
  /* the unmodified file reads */
  put_file(tpath("good.npy"), good, n);
  float *rf = NULL;
  int64_t shp[8];
  int32_t rn;
  EXPECT(nad_npy_read_f32(tpath("good.npy"), &rf, shp, &rn) == NAD_OK);
  nad_free(rf);

  /* truncated at every interesting point */
  expect_format(good, 0, "truncated", "empty file");
  expect_format(good, 3, "truncated", "inside magic");
  expect_format(good, 7, "truncated", "inside version");
  expect_format(good, 9, "truncated", "inside header length");
  expect_format(good, 30, "truncated", "inside header");
  expect_format(good, 127, "truncated", "header minus one byte");
  expect_format(good, 128, "truncated", "header only");
  expect_format(good, n - 1, "truncated", "data minus one byte");
  memcpy(f, good, n);
  f[n] = 0;
  expect_format(f, n + 1, "trailing", "one byte too many");

  memcpy(f, good, n);
  f[5] = 'X';
  expect_format(f, n, "magic", "wrong magic");
  static const char zip[] = "PK\x03\x04 not numpy at all, a zip archive.........";
  expect_format(zip, sizeof zip - 1, "magic", "zip file");
  memcpy(f, good, n);
  f[6] = 4;
  expect_format(f, n, "version 4.0", "version 4.0");
  f[6] = 1;
  f[7] = 1;
  expect_format(f, n, "version 1.1", "version 1.1");
  f[6] = 0;
  f[7] = 0;
  expect_format(f, n, "version 0.0", "version 0.0");

  static const struct {
    const char *dict, *needle;
  } bad[] = {
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", "'<i4'"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", "big-endian"},
      {"{'descr': '|f4', 'fortran_order': False, 'shape': (2, 3), }", "'|f4'"},
      {"{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", "'<f2'"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", "structured"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", "Fortran"},
      {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }", "fortran_order"},
      {"{'descr': '<f4', 'fortran_order': Truex, 'shape': (2, 3), }", "fortran_order"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2, -3), }", "negative"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", "64 bits"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }",
       "64 bits"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 2147483648), }",
       "addressed"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", "truncated"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }", "truncated"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", "trailing"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,6), }", "8 dim"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", "not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", "not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", "expected ','"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", "expected ','"},
      {"{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"},
      {"{'fortran_order': False, 'shape': (2, 3)}", "missing key 'descr'"},
      {"{'descr': '<f4', 'shape': (2, 3)}", "missing key 'fortran_order'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", "duplicate"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", "unexpected key"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} junk", "after the dictionary"},
      {"['descr', '<f4']", "expected '{'"},
      {"{'descr: '<f4', 'fortran_order': False, 'shape': (2, 3)}", "expected ':'"},
      {"{'descr': '<f4\\x', 'fortran_order': False, 'shape': (2, 3)}", "unsupported character"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", "expected a quoted string"},
      {"{'descr': '<f4", "string"},
      {"", "expected '{'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t m = make_npy(f, 1, bad[i].dict, 64, data, sizeof data);
    char what[64];
    snprintf(what, sizeof what, "bad header %zu", i);
    expect_format(f, m, bad[i].needle, what);
  }
  /* a NUL inside the header */
  size_t m = make_npy(f, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 64, data,
                      sizeof data);
  f[30] = '\0';
  expect_format(f, m, "malformed", "NUL in header");
  /* header length field far beyond the file / beyond the limit (version 2.0: 32 bits) */
  m = make_npy(f, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 64, data,
               sizeof data);
  f[8] = f[9] = f[10] = f[11] = 0xff;
  expect_format(f, m, "exceeds the limit", "huge header length");
  f[8] = 0;
  f[9] = f[11] = 0;
  f[10] = 1; /* 64 KiB: under the limit, beyond the file */
  expect_format(f, m, "truncated", "header length past the end");

  /* I/O errors */
  float *p = (float *)1;
  nad_status st = nad_npy_read_f32(tpath("does-not-exist.npy"), &p, shp, &rn);
  EXPECT(st == NAD_ERR_IO && p == NULL);
  EXPECT(strstr(nad_last_error(), "does-not-exist.npy") && strstr(nad_last_error(), "No such"));
  st = nad_npy_read_f32(dir, &p, shp, &rn); /* a directory */
  CHECK(st == NAD_ERR_IO, "directory: %d %s", (int)st, nad_last_error());
  int64_t two = 2;
  st = nad_npy_write(tpath("no-such-dir/x.npy"), data, 0, &two, 1);
  EXPECT(st == NAD_ERR_IO && strstr(nad_last_error(), "no-such-dir/x.npy"));
}

/* ---- atomic replacement ------------------------------------------------------------------- */

static int count_tmp_files(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -c '\\.tmp\\.'", dir);
  FILE *p = popen(cmd, "r");
  int k = -1;
  if (p) {
    if (fscanf(p, "%d", &k) != 1)
      k = -1;
    pclose(p);
  }
  return k;
}

static void test_atomic(void) {
  float small[3] = {7, 8, 9};
  int64_t three = 3;
  const char *p = tpath("atomic.npy");
  EXPECT(nad_npy_write(p, small, 0, &three, 1) == NAD_OK);
  EXPECT(count_tmp_files() == 0);
  size_t n0 = 0;
  unsigned char *before = nadt_read_file(p, &n0);

  /* Make the next write fail half way: a file-size limit turns write() into EFBIG. */
  struct rlimit old, lim;
  getrlimit(RLIMIT_FSIZE, &old);
  lim = old;
  lim.rlim_cur = 4096;
  void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
  int64_t big = 100000;
  float *data = calloc((size_t)big, sizeof(float));
  setrlimit(RLIMIT_FSIZE, &lim);
  nad_status st = nad_npy_write(p, data, 0, &big, 1);
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, prev);
  free(data);
  CHECK(st == NAD_ERR_IO && strstr(nad_last_error(), p), "status %d: %s", (int)st,
             nad_last_error());
  size_t n1 = 0;
  unsigned char *after = nadt_read_file(p, &n1);
  EXPECT(before && after && n0 == n1 && memcmp(before, after, n0) == 0); /* untouched */
  EXPECT(count_tmp_files() == 0);                                        /* cleaned up */
  free(before);
  free(after);
  /* and the old content still reads */
  float *rf = NULL;
  int64_t shp[8];
  int32_t rn;
  EXPECT(nad_npy_read_f32(p, &rf, shp, &rn) == NAD_OK && rn == 1 && shp[0] == 3 && rf &&
         rf[2] == 9);
  nad_free(rf);
}

/* ---- façade argument validation ----------------------------------------------------------- */

static void test_args(void) {
  float x[4] = {0};
  int64_t s2[2] = {2, 2}, neg[2] = {2, -1}, huge[2] = {INT64_MAX / 2, 3};
  const char *p = tpath("args.npy");
  EXPECT(nad_npy_write(NULL, x, 0, s2, 2) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_npy_write(p, NULL, 0, s2, 2) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_npy_write(p, x, 0, NULL, 2) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_npy_write(p, x, 2, s2, 2) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_npy_write(p, x, 0, s2, -1) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_npy_write(p, x, 0, s2, 9) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_npy_write(p, x, 0, neg, 2) == NAD_ERR_INVALID_ARG);
  EXPECT(strstr(nad_last_error(), "negative") != NULL);
  EXPECT(nad_npy_write(p, x, 0, huge, 2) == NAD_ERR_INVALID_ARG);
  EXPECT(access(p, F_OK) != 0); /* nothing was written */
  int64_t zero = 0;
  EXPECT(nad_npy_write(p, NULL, 0, &zero, 1) == NAD_OK); /* empty array needs no data */

  float *rf = (float *)1;
  int64_t shp[8];
  int32_t rn;
  EXPECT(nad_npy_read_f32(NULL, &rf, shp, &rn) == NAD_ERR_INVALID_ARG && rf == NULL);
  EXPECT(nad_npy_read_f32(p, NULL, shp, &rn) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_npy_read_f32(p, &rf, NULL, &rn) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_npy_read_f32(p, &rf, shp, NULL) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_npy_read_f32(p, &rf, shp, &rn) == NAD_OK && rn == 1 && shp[0] == 0 && rf != NULL);
  nad_free(rf);
  nad_free(NULL);
}

/* ---- fuzz --------------------------------------------------------------------------------- */

static void test_fuzz(int iterations) {
  unsigned char seeds[2][512];
  size_t seed_len[2];
  float data[24];
  for (int i = 0; i < 24; i++)
    data[i] = (float)i;
  seed_len[0] = make_npy(seeds[0], 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 6), }",
                         64, data, sizeof data);
  seed_len[1] = make_npy(seeds[1], 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                         64, data, sizeof data);
  static const char interesting[] = "(),-0123456789'\"{}:LTF \n\x93\xff";
  nadi_rng r;
  nadi_rng_init(&r, 2024, 0);
  int bad_status = 0, ok = 0, fmt = 0, bad_ok = 0;
  unsigned char buf[1024];
  const char *p = tpath("fuzz.npy");
  for (int it = 0; it < iterations; it++) {
    int s = (int)(nadi_rng_u64(&r) & 1);
    size_t n = seed_len[s];
    memcpy(buf, seeds[s], n);
    int muts = 1 + (int)(nadi_rng_u64(&r) % 4);
    for (int m = 0; m < muts; m++) {
      uint64_t kind = nadi_rng_u64(&r) % 6;
      /* bias positions towards the header, where the parser lives */
      size_t lim = nadi_rng_u64(&r) % 3 ? (n < 80 ? n : 80) : n + 1;
      size_t pos = (size_t)(nadi_rng_u64(&r) % (lim ? lim : 1));
      if (pos >= n)
        pos = n ? n - 1 : 0;
      switch (kind) {
      case 0: buf[pos] ^= (unsigned char)(1u << (nadi_rng_u64(&r) % 8)); break;
      case 1: buf[pos] = (unsigned char)nadi_rng_u64(&r); break;
      case 2:
        buf[pos] = (unsigned char)interesting[nadi_rng_u64(&r) % (sizeof interesting - 1)];
        break;
      case 3: n = (size_t)(nadi_rng_u64(&r) % (n + 1)); break; /* truncate */
      case 4:                                                  /* insert a byte */
        if (n + 1 < sizeof buf) {
          memmove(buf + pos + 1, buf + pos, n - pos);
          buf[pos] = (unsigned char)interesting[nadi_rng_u64(&r) % (sizeof interesting - 1)];
          n++;
        }
        break;
      default: /* delete a byte */
        if (n > 0) {
          memmove(buf + pos, buf + pos + 1, n - pos - 1);
          n--;
        }
      }
    }
    put_file(p, buf, n);
    int64_t shp[8];
    int32_t rn;
    float *rf = NULL;
    double *rd = NULL;
    nad_status st = nad_npy_read_f32(p, &rf, shp, &rn);
    nad_status st2 = nadi_npy_read_f64(p, &rd, shp, &rn);
    if ((st != NAD_OK && st != NAD_ERR_FORMAT) || st != st2)
      bad_status++;
    if (st == NAD_OK) {
      ok++;
      /* whatever was accepted must be self-consistent: data size matches the file */
      int64_t cnt = prod(shp, rn);
      if (!rf || !rd || rn < 0 || rn > 8 || cnt < 0 || (size_t)cnt * 4 > n)
        bad_ok++;
    } else {
      fmt++;
      if (rf || rd || strstr(nad_last_error(), p) == NULL)
        bad_ok++;
    }
    nad_free(rf);
    nadi_free(rd);
  }
  printf("fuzz: %d iterations, %d accepted, %d rejected as malformed\n", iterations, ok, fmt);
  EXPECT(bad_status == 0);
  EXPECT(bad_ok == 0);
  EXPECT(ok > 0 && fmt > iterations / 2); /* the mutations do reach both outcomes */
}

int main(int argc, char **argv) {
  nadt_scratch_dir(dir, sizeof dir, "nad-test-npy");
  int iterations = argc > 1 ? atoi(argv[1]) : 5000;
  test_roundtrip();
  test_layout();
  test_flexible_headers();
  test_malformed();
  test_atomic();
  test_args();
  test_fuzz(iterations);
  nadt_remove_dir(dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
