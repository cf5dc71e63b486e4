/* The real-data loaders (lib/data/idx.c, cifar10.c, npy_data.c, source.c, lib/io/blob.c)
 * through nad_dataset_load: files written here in each real format (IDX raw and gzipped, also
 * as two gzip members; CIFAR-10 batches, also in cifar-10-batches-bin/; .npy of every accepted
 * dtype) load to the exact pixel values (bytes / 255, placed by zero-padding or centre-cropping)
 * and labels; then every corruption the issue lists, one at a time, must give its status, a
 * message naming the file and the problem, and no dataset. */
#include <math.h>

#include "data/data.h"
#include "data_files.h"

/* A loaded split as arrays: count, shape, classes and their counts, pixels, labels. */
typedef struct loaded {
  int64_t n, s[3], k, counts[16];
  float *x;
  int32_t *y;
} loaded;

static void loaded_free(loaded *l) {
  free(l->x);
  free(l->y);
  memset(l, 0, sizeof *l);
}

/* Loads split of src at h x w (0, 0: as stored) into l, checked (the message names src);
 * returns 1 when it loaded (free l with loaded_free), 0 when not (l empty). */
static int load(const char *src, nad_split split, int64_t h, int64_t w, loaded *l) {
  memset(l, 0, sizeof *l);
  nad_dataset *d = NULL;
  CHECK(nad_dataset_load(src, split, h, w, &d) == NAD_OK, "%s: %s", src, nad_last_error());
  if (!d)
    return 0;
  nad_dataset_size(d, &l->n, l->s);
  size_t len = (size_t)(l->n * l->s[0] * l->s[1] * l->s[2]);
  l->x = malloc(len * sizeof(float));
  l->y = malloc((size_t)l->n * sizeof(int32_t));
  EXPECT(nad_dataset_get(d, l->x, len, l->y, (size_t)l->n) == NAD_OK);
  EXPECT(nad_dataset_num_classes(d, &l->k) == NAD_OK && l->k >= 1 && l->k <= 16);
  EXPECT(nad_dataset_class_counts(d, l->counts, (size_t)l->k) == NAD_OK);
  nad_dataset_destroy(d);
  return 1;
}

/* ---- IDX --------------------------------------------------------------------------------- */

enum { IN = 5, IH = 3, IW = 4 };
static unsigned char img_bytes[IN * IH * IW];
static const unsigned char lab_bytes[IN] = {0, 1, 2, 1, 0};

static void write_idx_dir(const char *sub, int gz) {
  unsigned char buf[512];
  const uint32_t idims[3] = {IN, IH, IW}, ldims[1] = {IN}, tdims[3] = {2, IH, IW}, tl[1] = {2};
  const unsigned char tlab[2] = {2, 2};
  char name[128];
  struct {
    const char *file;
    int ndim;
    const uint32_t *dims;
    const void *data;
    size_t len;
  } files[] = {{"train-images-idx3-ubyte", 3, idims, img_bytes, sizeof img_bytes},
               {"train-labels-idx1-ubyte", 1, ldims, lab_bytes, sizeof lab_bytes},
               {"t10k-images-idx3-ubyte", 3, tdims, img_bytes + 7, 2 * IH * IW},
               {"t10k-labels-idx1-ubyte", 1, tl, tlab, 2}};
  for (int f = 0; f < 4; f++) {
    size_t n = make_idx(buf, 0x08, files[f].ndim, files[f].dims, files[f].data, files[f].len);
    snprintf(name, sizeof name, "%s/%s%s", sub, files[f].file, gz ? ".gz" : "");
    if (gz == 2) { /* two gzip members: the file split in the middle */
      put_gz(tpath(name), buf, n / 2, 0);
      put_gz(tpath(name), buf + n / 2, n - n / 2, 1);
    } else if (gz) {
      put_gz(tpath(name), buf, n, 0);
    } else {
      put_file(tpath(name), buf, n);
    }
  }
}

static void test_idx_good(void) {
  for (int i = 0; i < IN * IH * IW; i++)
    img_bytes[i] = (unsigned char)(i * 5 + 3);
  write_idx_dir("idx_raw", 0);
  write_idx_dir("idx_gz", 1);
  write_idx_dir("idx_gz2", 2);
  char src[600];
  loaded ref = {0}, l;
  for (int variant = 0; variant < 3; variant++) {
    snprintf(src, sizeof src, "idx:%s",
             tpath(variant == 0 ? "idx_raw" : variant == 1 ? "idx_gz" : "idx_gz2"));
    if (!load(src, NAD_SPLIT_TRAIN, 0, 0, &l))
      continue;
    EXPECT(l.n == IN && l.s[0] == 1 && l.s[1] == IH && l.s[2] == IW);
    int exact = 1;
    for (int i = 0; i < IN * IH * IW; i++)
      exact &= l.x[i] == (float)img_bytes[i] / 255.0f;
    CHECK(exact, "%s: pixels are bytes / 255", src);
    EXPECT(memcmp(l.y, (int32_t[]){0, 1, 2, 1, 0}, sizeof(int32_t) * IN) == 0);
    EXPECT(l.k == 3 && l.counts[0] == 2 && l.counts[1] == 2 && l.counts[2] == 1);
    if (variant == 0) {
      ref = l;
      continue;
    }
    CHECK(ref.x && memcmp(ref.x, l.x, sizeof(float) * IN * IH * IW) == 0, "%s = raw", src);
    loaded_free(&l);
  }
  loaded_free(&ref);
  /* zero-padding 3x4 -> 5x7: 1 row above, 1 below; 1 column left, 2 right */
  snprintf(src, sizeof src, "idx:%s", tpath("idx_gz"));
  if (load(src, NAD_SPLIT_TRAIN, 5, 7, &l)) {
    int ok = l.s[1] == 5 && l.s[2] == 7;
    for (int i = 0; ok && i < IN; i++)
      for (int r = 0; r < 5; r++)
        for (int c = 0; c < 7; c++) {
          float want = r >= 1 && r < 4 && c >= 1 && c < 5
                           ? (float)img_bytes[(i * IH + r - 1) * IW + c - 1] / 255.0f
                           : 0.0f;
          ok &= l.x[(i * 5 + r) * 7 + c] == want;
        }
    CHECK(ok, "padding 3x4 -> 5x7 puts the image at row 1, column 1");
    loaded_free(&l);
  }
  /* centre crop 3x4 -> 1x2: row 1, columns 1..2 */
  if (load(src, NAD_SPLIT_TRAIN, 1, 2, &l)) {
    int ok = l.s[1] == 1 && l.s[2] == 2;
    for (int i = 0; ok && i < IN; i++)
      for (int c = 0; c < 2; c++)
        ok &= l.x[i * 2 + c] == (float)img_bytes[(i * IH + 1) * IW + 1 + c] / 255.0f;
    CHECK(ok, "crop 3x4 -> 1x2 keeps row 1, columns 1 and 2");
    loaded_free(&l);
  }
  /* the test split: t10k files */
  if (load(src, NAD_SPLIT_TEST, 0, 0, &l)) {
    EXPECT(l.n == 2 && l.y[0] == 2 && l.y[1] == 2 && l.x[0] == (float)img_bytes[7] / 255.0f);
    loaded_free(&l);
  }
}

/* One corrupted images (or labels) file in idx_bad/, everything else good. */
static void idx_case(int line, const void *img, size_t img_len, const void *lab, size_t lab_len,
                     int gz_images, nad_status want, const char *needle) {
  const char *ip = tpath(gz_images ? "idx_bad/train-images-idx3-ubyte.gz"
                                   : "idx_bad/train-images-idx3-ubyte");
  unlink(tpath("idx_bad/train-images-idx3-ubyte"));
  unlink(tpath("idx_bad/train-images-idx3-ubyte.gz"));
  put_file(ip, img, img_len);
  put_file(tpath("idx_bad/train-labels-idx1-ubyte"), lab, lab_len);
  char src[600];
  snprintf(src, sizeof src, "idx:%s", tpath("idx_bad"));
  expect_load_fail_at(__FILE__, line, src, NAD_SPLIT_TRAIN, want, needle, "idx_bad/train-");
}

static void test_idx_bad(void) {
  unsigned char img[512], lab[64], tmp[512];
  const uint32_t idims[3] = {IN, IH, IW}, ldims[1] = {IN};
  size_t ni = make_idx(img, 0x08, 3, idims, img_bytes, sizeof img_bytes);
  size_t nl = make_idx(lab, 0x08, 1, ldims, lab_bytes, sizeof lab_bytes);
  idx_case(__LINE__, img, 3, lab, nl, 0, NAD_ERR_FORMAT, "shorter than the 4-byte magic");
  memcpy(tmp, img, ni);
  tmp[0] = 0x1f, tmp[1] = 0x00; /* neither IDX nor gzip */
  idx_case(__LINE__, tmp, ni, lab, nl, 0, NAD_ERR_FORMAT, "magic number");
  memcpy(tmp, img, ni);
  tmp[2] = 0x0D;
  idx_case(__LINE__, tmp, ni, lab, nl, 0, NAD_ERR_FORMAT, "data type 0x0d");
  memcpy(tmp, img, ni);
  tmp[3] = 2;
  idx_case(__LINE__, tmp, ni, lab, nl, 0, NAD_ERR_FORMAT, "2 dimensions");
  idx_case(__LINE__, img, 10, lab, nl, 0, NAD_ERR_FORMAT, "truncated IDX header");
  memcpy(tmp, img, ni);
  tmp[8] = tmp[9] = tmp[10] = tmp[11] = 0; /* H = 0 */
  idx_case(__LINE__, tmp, ni, lab, nl, 0, NAD_ERR_FORMAT, "dimension 1 is 0");
  idx_case(__LINE__, img, ni - 1, lab, nl, 0, NAD_ERR_FORMAT, "truncated");
  memcpy(tmp, img, ni);
  tmp[ni] = 7;
  idx_case(__LINE__, tmp, ni + 1, lab, nl, 0, NAD_ERR_FORMAT, "trailing bytes");
  /* a lying header: 4 G x 4 G x 4 G pixels announced in a 76-byte file (nothing allocated) */
  memcpy(tmp, img, ni);
  memset(tmp + 4, 0xff, 12);
  idx_case(__LINE__, tmp, ni, lab, nl, 0, NAD_ERR_FORMAT, "overflow");
  memcpy(tmp, img, ni);
  tmp[4] = 0, tmp[5] = 0x01, tmp[6] = 0, tmp[7] = 0; /* 65536 images announced, 5 present */
  idx_case(__LINE__, tmp, ni, lab, nl, 0, NAD_ERR_FORMAT, "truncated");
  /* labels: one fewer than images */
  const uint32_t l4[1] = {IN - 1};
  size_t n4 = make_idx(tmp, 0x08, 1, l4, lab_bytes, IN - 1);
  idx_case(__LINE__, img, ni, tmp, n4, 0, NAD_ERR_FORMAT, "has 5 images but");
  /* labels file with image dimensions */
  idx_case(__LINE__, img, ni, img, ni, 0, NAD_ERR_FORMAT, "3 dimensions where labels need 1");
  /* gzip: truncated, corrupt, garbage after the stream */
  put_gz(tpath("gz.tmp"), img, ni, 0);
  size_t ng = 0;
  unsigned char *gz = nadt_read_file(tpath("gz.tmp"), &ng);
  idx_case(__LINE__, gz, ng - 6, lab, nl, 1, NAD_ERR_FORMAT, "truncated gzip");
  memcpy(tmp, gz, ng);
  for (size_t i = 12; i < ng - 8; i++)
    tmp[i] ^= 0x5a;
  idx_case(__LINE__, tmp, ng, lab, nl, 1, NAD_ERR_FORMAT, "gzip");
  memcpy(tmp, gz, ng);
  memcpy(tmp + ng, "junk", 4);
  idx_case(__LINE__, tmp, ng + 4, lab, nl, 1, NAD_ERR_FORMAT, "garbage after the gzip stream");
  memcpy(tmp, gz, ng);
  tmp[ng - 8] ^= 1; /* CRC of the member */
  idx_case(__LINE__, tmp, ng, lab, nl, 1, NAD_ERR_FORMAT, "corrupt gzip");
  free(gz);
  /* a missing file: IO, naming it */
  put_file(tpath("idx_missing/train-images-idx3-ubyte"), img, ni);
  char src[600];
  snprintf(src, sizeof src, "idx:%s", tpath("idx_missing"));
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TRAIN, NAD_ERR_IO, "train-labels-idx1-ubyte", NULL);
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TEST, NAD_ERR_IO, "t10k-images-idx3-ubyte", NULL);
  snprintf(src, sizeof src, "idx:%s", tpath("no_such_dir"));
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TRAIN, NAD_ERR_IO, "not a directory", NULL);
  /* a declared class count (fashion-mnist: 10) refuses larger labels (white box) */
  unsigned char lab10[IN] = {0, 1, 10, 1, 0};
  size_t nl10 = make_idx(tmp, 0x08, 1, ldims, lab10, IN);
  nad_dataset *d = (nad_dataset *)(uintptr_t)1;
  nad_status st = nadi_idx_load(img, ni, "images", tmp, nl10, "labels.idx", 10,
                                (nadi_target){0, 0}, &d);
  CHECK(st == NAD_ERR_FORMAT && d == NULL && strstr(nad_last_error(), "labels.idx: label 10 of "
                                                    "sample 2 is out of range"),
        "label 10 of 10 classes: %s", nad_last_error());
  st = nadi_idx_load(img, ni, "images", tmp, nl10, "labels.idx", 0, (nadi_target){0, 0}, &d);
  CHECK(st == NAD_OK && d && d->num_classes == 11, "no declared count: max label + 1");
  nad_dataset_destroy(d);
}

/* ---- CIFAR-10 ------------------------------------------------------------------------------ */

#define REC NADI_CIFAR10_RECORD

/* A batch of n records: record r of batch b has label (b + r) % 10 and pixel bytes
 * (plane·7 + pixel + b·13 + r·31) % 256. */
static unsigned char *cifar_batch(int b, int n) {
  unsigned char *buf = malloc((size_t)n * REC);
  for (int r = 0; r < n; r++) {
    buf[(size_t)r * REC] = (unsigned char)((b + r) % 10);
    for (int p = 0; p < 3 * 1024; p++)
      buf[(size_t)r * REC + 1 + p] = (unsigned char)(((p / 1024) * 7 + p + b * 13 + r * 31) % 256);
  }
  return buf;
}

static void write_cifar_dir(const char *sub, const int *counts) {
  char name[128];
  for (int b = 0; b < 6; b++) {
    unsigned char *buf = cifar_batch(b, counts[b]);
    if (b < 5)
      snprintf(name, sizeof name, "%s/data_batch_%d.bin", sub, b + 1);
    else
      snprintf(name, sizeof name, "%s/test_batch.bin", sub);
    put_file(tpath(name), buf, (size_t)counts[b] * REC);
    free(buf);
  }
}

static void test_cifar(void) {
  const int counts[6] = {2, 1, 1, 1, 3, 2};
  write_cifar_dir("cifar", counts);
  write_cifar_dir("cifar_sub/cifar-10-batches-bin", counts);
  char src[600];
  loaded l;
  for (int variant = 0; variant < 2; variant++) {
    snprintf(src, sizeof src, "cifar10:%s", tpath(variant ? "cifar_sub" : "cifar"));
    if (!load(src, NAD_SPLIT_TRAIN, 0, 0, &l))
      continue;
    EXPECT(l.n == 8 && l.s[0] == 3 && l.s[1] == 32 && l.s[2] == 32);
    EXPECT(l.k == 10);
    int ok = 1, i = 0;
    for (int b = 0; b < 5; b++)
      for (int r = 0; r < counts[b]; r++, i++) {
        ok &= l.y[i] == (b + r) % 10;
        for (int p = 0; p < 3 * 1024; p += 97)
          ok &= l.x[(size_t)i * 3072 + p] ==
                (float)(((p / 1024) * 7 + p + b * 13 + r * 31) % 256) / 255.0f;
      }
    CHECK(ok, "%s: records in batch order, R/G/B planes, labels", src);
    loaded_free(&l);
    if (load(src, NAD_SPLIT_TEST, 0, 0, &l)) {
      EXPECT(l.n == 2 && l.y[0] == 5 && l.y[1] == 6 &&
             l.x[1] == (float)((1 + 65) % 256) / 255.0f);
      loaded_free(&l);
    }
  }
  /* 32x32 -> 28x28 crops 2 rows/columns from each side; -> 36x36 pads 2 */
  snprintf(src, sizeof src, "cifar10:%s", tpath("cifar"));
  if (load(src, NAD_SPLIT_TEST, 28, 28, &l)) {
    /* sample 0 of the test batch (b = 5, r = 0), green plane, row 0 col 0 = source (2, 2) */
    int p = 1024 + 2 * 32 + 2;
    EXPECT(l.s[1] == 28 && l.x[28 * 28] == (float)((7 + p + 65) % 256) / 255.0f);
    loaded_free(&l);
  }
  if (load(src, NAD_SPLIT_TEST, 36, 36, &l)) {
    EXPECT(l.s[1] == 36 && l.x[0] == 0.0f && l.x[2 * 36 + 2] == (float)((0 + 65) % 256) / 255.0f);
    loaded_free(&l);
  }
  /* a directory without the expected batches */
  write_cifar_dir("cifar_missing", counts);
  unlink(tpath("cifar_missing/data_batch_3.bin"));
  snprintf(src, sizeof src, "cifar10:%s", tpath("cifar_missing"));
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TRAIN, NAD_ERR_IO, "missing data_batch_3.bin", NULL);
  unlink(tpath("cifar_missing/test_batch.bin"));
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TEST, NAD_ERR_IO, "missing test_batch.bin", NULL);
  snprintf(src, sizeof src, "cifar10:%s", tpath("empty_dir/."));
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TRAIN, NAD_ERR_IO, "missing data_batch_1.bin", NULL);
  /* a truncated batch, an empty one, a label of 10 (CIFAR-100 would have up to 99) */
  write_cifar_dir("cifar_bad", counts);
  snprintf(src, sizeof src, "cifar10:%s", tpath("cifar_bad"));
  unsigned char *buf = cifar_batch(3, 2);
  put_file(tpath("cifar_bad/data_batch_4.bin"), buf, 2 * REC - 5);
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TRAIN, NAD_ERR_FORMAT, "data_batch_4.bin",
                   "not a whole number of CIFAR-10 records");
  put_file(tpath("cifar_bad/data_batch_4.bin"), buf, 0);
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TRAIN, NAD_ERR_FORMAT, "data_batch_4.bin", "empty file");
  buf[REC] = 10;
  put_file(tpath("cifar_bad/data_batch_4.bin"), buf, 2 * REC);
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TRAIN, NAD_ERR_FORMAT, "data_batch_4.bin",
                   "record 1 has label 10");
  free(buf);
}

/* ---- .npy ---------------------------------------------------------------------------------- */

static void npy_file(const char *name, const char *descr, const char *shape, const void *data,
                     size_t len) {
  unsigned char *buf = malloc(len + 256);
  size_t n = make_npy(buf, descr, shape, data, len);
  put_file(tpath(name), buf, n);
  free(buf);
}

static void test_npy(void) {
  /* images: 4 x 2 x 3 uint8; labels of every integer dtype */
  unsigned char u8[24];
  for (int i = 0; i < 24; i++)
    u8[i] = (unsigned char)(i * 11);
  npy_file("npy/img_u1.npy", "|u1", "(4, 2, 3)", u8, 24);
  const int64_t l64[4] = {3, 0, 1, 3};
  const struct {
    const char *descr;
    int size;
  } ldt[] = {{"|u1", 1}, {"|i1", 1}, {"<i2", 2}, {"<u2", 2}, {"<i4", 4}, {"<u4", 4}, {"<i8", 8},
             {"<u8", 8}};
  for (size_t t = 0; t < sizeof ldt / sizeof ldt[0]; t++) {
    unsigned char lb[32];
    for (int i = 0; i < 4; i++) /* little-endian, small values: the low byte then zeros */
      for (int b = 0; b < ldt[t].size; b++)
        lb[i * ldt[t].size + b] = b == 0 ? (unsigned char)l64[i] : 0;
    npy_file("npy/lab.npy", ldt[t].descr, "(4,)", lb, (size_t)(4 * ldt[t].size));
    char src[1200];
    snprintf(src, sizeof src, "npy:%s,%s", tpath("npy/img_u1.npy"), tpath("npy/lab.npy"));
    loaded l;
    if (!load(src, NAD_SPLIT_TRAIN, 0, 0, &l))
      continue;
    int ok = l.n == 4 && l.s[0] == 1 && l.s[1] == 2 && l.s[2] == 3 && l.y[0] == 3 &&
             l.y[1] == 0 && l.y[2] == 1 && l.y[3] == 3 && l.k == 4;
    for (int i = 0; i < 24; i++)
      ok &= l.x[i] == (float)u8[i] / 255.0f;
    CHECK(ok, "npy u1 images with %s labels", ldt[t].descr);
    loaded_free(&l);
  }
  /* float images N x C x H x W: kept as stored (f8 converted), both splits (4 files) */
  float f4[3 * 2 * 2 * 2];
  double f8[3 * 2 * 2 * 2];
  for (int i = 0; i < 24; i++)
    f4[i] = (float)(i - 10) * 0.37f, f8[i] = (i - 10) * 0.37;
  const unsigned char l3[3] = {1, 0, 1};
  npy_file("npy/img_f4.npy", "<f4", "(3, 2, 2, 2)", f4, sizeof f4);
  npy_file("npy/img_f8.npy", "<f8", "(3, 2, 2, 2)", f8, sizeof f8);
  npy_file("npy/lab3.npy", "|u1", "(3,)", l3, 3);
  char src[2400];
  snprintf(src, sizeof src, "npy:%s,%s,%s,%s", tpath("npy/img_f4.npy"), tpath("npy/lab3.npy"),
           tpath("npy/img_f8.npy"), tpath("npy/lab3.npy"));
  for (int split = 0; split < 2; split++) {
    loaded l;
    if (!load(src, (nad_split)split, 0, 0, &l))
      continue;
    int ok = l.n == 3 && l.s[0] == 2 && l.s[1] == 2 && l.s[2] == 2 && l.y[0] == 1;
    for (int i = 0; i < 24; i++)
      ok &= l.x[i] == (split ? (float)f8[i] : f4[i]);
    CHECK(ok, "float images, split %d", split);
    loaded_free(&l);
  }
  /* a gzipped .npy loads too */
  unsigned char buf[512];
  size_t nb = make_npy(buf, "<f4", "(3, 2, 2, 2)", f4, sizeof f4);
  put_gz(tpath("npy/img_f4.npy.gz"), buf, nb, 0);
  snprintf(src, sizeof src, "npy:%s,%s", tpath("npy/img_f4.npy.gz"), tpath("npy/lab3.npy"));
  nad_dataset *d = NULL;
  CHECK(nad_dataset_load(src, NAD_SPLIT_TRAIN, 0, 0, &d) == NAD_OK, "gzipped npy: %s",
        nad_last_error());
  nad_dataset_destroy(d);

  /* the source string */
  snprintf(src, sizeof src, "npy:%s,%s", tpath("npy/img_f4.npy"), tpath("npy/lab3.npy"));
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TEST, NAD_ERR_INVALID_ARG, "no test split", NULL);
  snprintf(src, sizeof src, "npy:%s", tpath("npy/img_f4.npy"));
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TRAIN, NAD_ERR_INVALID_ARG, "2 or 4 comma-separated", NULL);
  snprintf(src, sizeof src, "npy:%s,,%s", tpath("npy/img_f4.npy"), tpath("npy/lab3.npy"));
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TRAIN, NAD_ERR_INVALID_ARG, "empty", NULL);
  snprintf(src, sizeof src, "npy:%s,%s", tpath("npy/img_f4.npy"), tpath("npy/nothing.npy"));
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TRAIN, NAD_ERR_IO, "nothing.npy", "cannot open");

  /* bad files, one at a time: (images, labels) */
  const unsigned char l4[4] = {0, 1, 0, 1};
  const int64_t neg[4] = {0, 1, -1, 1}, big[4] = {0, 65536, 0, 1};
  const int32_t i4[24] = {0};
  float nan4[24];
  memcpy(nan4, f4, sizeof f4);
  nan4[13] = NAN;
  struct {
    const char *idescr, *ishape;
    const void *idata;
    size_t ilen;
    const char *ldescr, *lshape;
    const void *ldata;
    size_t llen;
    const char *needle, *file;
  } bad[] = {
      {"<i4", "(3, 2, 2, 2)", i4, 96, "|u1", "(3,)", l3, 3, "images must be uint8, float32 or "
                                                             "float64, not dtype '<i4'", "img"},
      {"<f4", "(3, 2, 2, 2)", f4, 96, "<f4", "(3,)", f4, 12, "labels must be integers", "lab"},
      {"<f4", "(3, 8)", f4, 96, "|u1", "(3,)", l3, 3, "3 (N x H x W) or 4", "img"},
      {"<f4", "(3, 2, 2, 2)", f4, 96, "|u1", "(3, 1)", l3, 3, "must be a vector", "lab"},
      {"<f4", "(3, 2, 2, 2)", f4, 96, "|u1", "(4,)", l4, 4, "has 3 images but", "img"},
      {"|u1", "(4, 2, 3)", u8, 24, "<i8", "(4,)", neg, 32, "label -1 of sample 2", "lab"},
      {"|u1", "(4, 2, 3)", u8, 24, "<i8", "(4,)", big, 32, "label 65536 of sample 1", "lab"},
      {"<f4", "(3, 2, 2, 2)", nan4, 96, "|u1", "(3,)", l3, 3, "pixel 13 is nan", "img"},
      {"<f4", "(3, 2, 2, 2)", f4, 92, "|u1", "(3,)", l3, 3, "truncated", "img"},
      {"<f4", "(3, 2, 2, 2)", f4, 96, "|u1", "(3,)", l4, 4, "trailing bytes", "lab"},
      {"<f4", "(0, 2, 2, 2)", f4, 0, "|u1", "(0,)", l3, 0, "zero dimension", "img"},
      {">f4", "(3, 2, 2, 2)", f4, 96, "|u1", "(3,)", l3, 3, "big-endian", "img"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    npy_file("npy/bad_img.npy", bad[i].idescr, bad[i].ishape, bad[i].idata, bad[i].ilen);
    npy_file("npy/bad_lab.npy", bad[i].ldescr, bad[i].lshape, bad[i].ldata, bad[i].llen);
    snprintf(src, sizeof src, "npy:%s,%s", tpath("npy/bad_img.npy"), tpath("npy/bad_lab.npy"));
    char file[64];
    snprintf(file, sizeof file, "npy/bad_%s.npy", bad[i].file);
    expect_load_fail_at(__FILE__, __LINE__, src, NAD_SPLIT_TRAIN, NAD_ERR_FORMAT, bad[i].needle,
                        file);
  }
  /* not a .npy file at all */
  static const char zip[] = "PK\x03\x04 zip archive";
  put_file(tpath("npy/bad_img.npy"), zip, sizeof zip - 1);
  npy_file("npy/bad_lab.npy", "|u1", "(3,)", l3, 3);
  snprintf(src, sizeof src, "npy:%s,%s", tpath("npy/bad_img.npy"), tpath("npy/bad_lab.npy"));
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TRAIN, NAD_ERR_FORMAT, "bad_img.npy", "not a .npy file");
  put_file(tpath("npy/bad_img.npy"), "", 0);
  EXPECT_LOAD_FAIL(src, NAD_SPLIT_TRAIN, NAD_ERR_FORMAT, "bad_img.npy", "empty file");
}

/* ---- arguments, sources, the installed dataset ---------------------------------------------- */

static void test_args(void) {
  nad_dataset *d = (nad_dataset *)(uintptr_t)1;
  EXPECT(nad_dataset_load(NULL, NAD_SPLIT_TRAIN, 0, 0, &d) == NAD_ERR_INVALID_ARG && !d);
  EXPECT(nad_dataset_load("fashion-mnist", NAD_SPLIT_TRAIN, 0, 0, NULL) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_load("fashion-mnist", (nad_split)2, 0, 0, &d) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_load("fashion-mnist", NAD_SPLIT_TRAIN, 0, 32, &d) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_load("fashion-mnist", NAD_SPLIT_TRAIN, -1, -1, &d) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_load("fashion-mnist", NAD_SPLIT_TRAIN, 1 << 20, 4, &d) ==
         NAD_ERR_INVALID_ARG);
  EXPECT_LOAD_FAIL("mnist", NAD_SPLIT_TRAIN, NAD_ERR_INVALID_ARG, "unknown dataset source",
                   "cifar10:DIR");
  EXPECT_LOAD_FAIL("idx:", NAD_SPLIT_TRAIN, NAD_ERR_INVALID_ARG, "unknown dataset source", NULL);
  EXPECT_LOAD_FAIL("cifar10:", NAD_SPLIT_TRAIN, NAD_ERR_INVALID_ARG, "unknown", NULL);
  struct stat sb;
  if (stat(NADI_FASHION_MNIST_DIR, &sb) != 0) {
    printf("fashion-mnist not installed (%s): its check skipped\n", NADI_FASHION_MNIST_DIR);
    EXPECT_LOAD_FAIL("fashion-mnist", NAD_SPLIT_TEST, NAD_ERR_IO, "dataset-fashion-mnist", NULL);
    return;
  }
  EXPECT(nad_dataset_load("fashion-mnist", NAD_SPLIT_TEST, 32, 32, &d) == NAD_OK);
  if (d) {
    int64_t n = 0, s[3], k = 0, counts[10];
    nad_dataset_size(d, &n, s);
    nad_dataset_num_classes(d, &k);
    EXPECT(n == 10000 && s[0] == 1 && s[1] == 32 && s[2] == 32 && k == 10);
    EXPECT(nad_dataset_class_counts(d, counts, 10) == NAD_OK && counts[0] == 1000 &&
           counts[9] == 1000);
    nad_dataset_destroy(d);
  }
}

int main(void) {
  make_tdir("nad-data-test");
  test_idx_good();
  test_idx_bad();
  test_cifar();
  test_npy();
  test_args();
  remove_tdir();
  return check_summary();
}
