/* .npy reader and writer (numpy format versions 1.0, 2.0, 3.0; '<f4' / '<f8'; C order; the
 * header parser also knows the integer dtypes the dataset loader reads).
 *
 * Format (numpy/lib/format.py): "\x93NUMPY", major, minor, header length (uint16 LE for 1.0,
 * uint32 LE for 2.0 and 3.0), then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and a final '\n' so that the data starts on a 64-byte boundary.
 * The reader treats every byte as hostile: all lengths are checked against the file size
 * before anything is allocated, so a 100-byte file cannot ask for terabytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "io/io.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lib/io/npy_format.c reads and writes little-endian data in place: add byte swapping first"
#endif

/* numpy >= 1.24 refuses headers above 10000 bytes by default; ours are < 400 bytes. A
 * generous limit still bounds the allocation a corrupt length field can cause. */
#define NPY_MAX_HEADER (1u << 20)
#define NPY_ALIGN 64
#define NPY_GROWTH_DIGITS 21 /* numpy's GROWTH_AXIS_MAX_DIGITS: spare room to grow axis 0 */

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* ------------------------------------------------------------------------------------------ */
/* Header dictionary parser                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct cursor {
  const char *p, *begin, *end;
  const char *name; /* file name for messages */
} cursor;

static nad_status bad_header(const cursor *c, const char *what) {
  return nadi_fail(NAD_ERR_FORMAT, "%s: malformed .npy header at byte %ld of the dictionary: %s",
                   c->name, (long)(c->p - c->begin), what);
}

static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r' ||
                           *c->p == '\f' || *c->p == '\v'))
    c->p++;
}

static int peek(const cursor *c) { return c->p < c->end ? (unsigned char)*c->p : -1; }

/* A Python string literal without escapes ('...' or "..."), copied into out[cap]. */
static nad_status parse_string(cursor *c, char *out, size_t cap) {
  int q = peek(c);
  if (q != '\'' && q != '"')
    return bad_header(c, "expected a quoted string");
  c->p++;
  size_t n = 0;
  for (;;) {
    int ch = peek(c);
    if (ch < 0 || ch == '\n')
      return bad_header(c, "unterminated string");
    if (ch == q)
      break;
    if (ch == '\\' || ch == '\0')
      return bad_header(c, "unsupported character in string");
    if (n + 1 >= cap)
      return bad_header(c, "string too long");
    out[n++] = (char)ch;
    c->p++;
  }
  c->p++;
  out[n] = '\0';
  return NAD_OK;
}

static int match_word(cursor *c, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
    return 0;
  /* "Truex" is not True */
  if ((size_t)(c->end - c->p) > n) {
    int ch = (unsigned char)c->p[n];
    if (ch == '_' || (ch >= '0' && ch <= '9') || ((ch | 32) >= 'a' && (ch | 32) <= 'z'))
      return 0;
  }
  c->p += n;
  return 1;
}

/* A tuple of non-negative integers: (), (3,), (3, 4), (3, 4,). Python 2 wrote (3L, 4L). */
static nad_status parse_shape(cursor *c, nadi_npy_header *h) {
  if (peek(c) != '(')
    return bad_header(c, "'shape' is not a tuple");
  c->p++;
  int32_t n = 0;
  skip_ws(c);
  if (peek(c) == ')') {
    c->p++;
    h->ndim = 0;
    return NAD_OK;
  }
  for (;;) {
    skip_ws(c);
    int ch = peek(c);
    if (ch == '-')
      return bad_header(c, "negative dimension in 'shape'");
    if (ch < '0' || ch > '9')
      return bad_header(c, "expected a dimension in 'shape'");
    int64_t v = 0;
    while ((ch = peek(c)) >= '0' && ch <= '9') {
      if (v > (INT64_MAX - (ch - '0')) / 10)
        return bad_header(c, "dimension in 'shape' does not fit in 64 bits");
      v = v * 10 + (ch - '0');
      c->p++;
    }
    if (peek(c) == 'L')
      c->p++;
    if (n == NADI_NPY_MAX_DIMS)
      return bad_header(c, "more than 8 dimensions");
    h->shape[n++] = v;
    skip_ws(c);
    ch = peek(c);
    if (ch == ',') {
      c->p++;
      skip_ws(c);
      if (peek(c) == ')') {
        c->p++;
        break;
      }
    } else if (ch == ')') {
      if (n == 1)
        return bad_header(c, "'shape' is a parenthesised number, not a tuple");
      c->p++;
      break;
    } else {
      return bad_header(c, "expected ',' or ')' in 'shape'");
    }
  }
  h->ndim = n;
  return NAD_OK;
}

/* Parse the dictionary text[0..len) into h (dtype, order, shape; count not yet computed). */
static nad_status parse_dict(const char *name, const char *text, size_t len, nadi_npy_header *h) {
  cursor c = {text, text, text + len, name};
  char descr[32] = "";
  int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;

  skip_ws(&c);
  if (peek(&c) != '{')
    return bad_header(&c, "expected '{'");
  c.p++;
  for (;;) {
    skip_ws(&c);
    if (peek(&c) == '}') {
      c.p++;
      break;
    }
    char key[32];
    NADI_TRY(parse_string(&c, key, sizeof key));
    skip_ws(&c);
    if (peek(&c) != ':')
      return bad_header(&c, "expected ':' after a key");
    c.p++;
    skip_ws(&c);
    if (strcmp(key, "descr") == 0) {
      if (have_descr)
        return bad_header(&c, "duplicate key 'descr'");
      if (peek(&c) != '\'' && peek(&c) != '"')
        return nadi_fail(NAD_ERR_FORMAT,
                         "%s: unsupported .npy dtype (structured arrays are not supported; "
                         "expected '<f4' or '<f8')",
                         name);
      NADI_TRY(parse_string(&c, descr, sizeof descr));
      have_descr = 1;
    } else if (strcmp(key, "fortran_order") == 0) {
      if (have_order)
        return bad_header(&c, "duplicate key 'fortran_order'");
      if (match_word(&c, "True"))
        fortran = 1;
      else if (match_word(&c, "False"))
        fortran = 0;
      else
        return bad_header(&c, "'fortran_order' is neither True nor False");
      have_order = 1;
    } else if (strcmp(key, "shape") == 0) {
      if (have_shape)
        return bad_header(&c, "duplicate key 'shape'");
      NADI_TRY(parse_shape(&c, h));
      have_shape = 1;
    } else {
      return nadi_fail(NAD_ERR_FORMAT, "%s: malformed .npy header: unexpected key '%s'", name, key);
    }
    skip_ws(&c);
    if (peek(&c) == ',') {
      c.p++;
      continue;
    }
    if (peek(&c) == '}') {
      c.p++;
      break;
    }
    return bad_header(&c, "expected ',' or '}'");
  }
  skip_ws(&c);
  if (c.p != c.end)
    return bad_header(&c, "unexpected characters after the dictionary");
  if (!have_descr || !have_order || !have_shape)
    return nadi_fail(NAD_ERR_FORMAT, "%s: malformed .npy header: missing key '%s'", name,
                     !have_descr   ? "descr"
                     : !have_order ? "fortran_order"
                                   : "shape");

  static const struct {
    const char *descr;
    int32_t dtype, itemsize;
  } dtypes[] = {
      {"<f4", NADI_NPY_F4, 4}, {"<f8", NADI_NPY_F8, 8}, {"|u1", NADI_NPY_U1, 1},
      {"<u1", NADI_NPY_U1, 1}, {"|i1", NADI_NPY_I1, 1}, {"<i1", NADI_NPY_I1, 1},
      {"<i2", NADI_NPY_I2, 2}, {"<u2", NADI_NPY_U2, 2}, {"<i4", NADI_NPY_I4, 4},
      {"<u4", NADI_NPY_U4, 4}, {"<i8", NADI_NPY_I8, 8}, {"<u8", NADI_NPY_U8, 8},
  };
  h->dtype = -1;
  for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
    if (strcmp(descr, dtypes[i].descr) == 0) {
      h->dtype = dtypes[i].dtype;
      h->itemsize = dtypes[i].itemsize;
    }
  if (h->dtype < 0 && descr[0] == '>' && descr[1] != '\0' && strchr("fiu", descr[1]))
    return nadi_fail(NAD_ERR_FORMAT,
                     "%s: big-endian dtype '%s' is not supported (expected '<f4' or '<f8')", name,
                     descr);
  if (h->dtype < 0)
    return nadi_fail(NAD_ERR_FORMAT, "%s: dtype '%s' is not supported (expected '<f4' or '<f8')",
                     name, descr);
  h->is_f64 = h->dtype == NADI_NPY_F8;
  memcpy(h->descr, descr, 4); /* every accepted descr has 3 characters */

  if (fortran) {
    /* With at most one dimension above 1 the two orders are the same bytes. */
    int big = 0;
    for (int32_t i = 0; i < h->ndim; i++)
      big += h->shape[i] > 1;
    if (big > 1)
      return nadi_fail(NAD_ERR_FORMAT,
                       "%s: Fortran-ordered (fortran_order: True) arrays are not supported; "
                       "save a C-contiguous array",
                       name);
  }
  return NAD_OK;
}

static uint32_t le_u32(const unsigned char *b, int nbytes) {
  uint32_t v = 0;
  for (int i = nbytes - 1; i >= 0; i--)
    v = (v << 8) | b[i];
  return v;
}

static nad_status short_read(FILE *fp, const char *name, const char *what) {
  if (ferror(fp))
    return nadi_fail(NAD_ERR_IO, "%s: read error in %s: %s", name, what, strerror(errno));
  return nadi_fail(NAD_ERR_FORMAT, "%s: truncated .npy file: end of file in %s", name, what);
}

nad_status nadi_npy_read_header(FILE *fp, const char *name, nadi_npy_header *h) {
  unsigned char pre[12];
  memset(h, 0, sizeof *h);
  if (fread(pre, 1, 8, fp) != 8)
    return short_read(fp, name, "the magic string and version");
  if (memcmp(pre, npy_magic, sizeof npy_magic) != 0)
    return nadi_fail(NAD_ERR_FORMAT, "%s: not a .npy file (bad magic string)", name);
  h->major = pre[6];
  h->minor = pre[7];
  if (h->major < 1 || h->major > 3 || h->minor != 0)
    return nadi_fail(NAD_ERR_FORMAT,
                     "%s: unsupported .npy format version %d.%d (supported: 1.0, 2.0, 3.0)", name,
                     h->major, h->minor);
  int lenbytes = h->major == 1 ? 2 : 4;
  if (fread(pre + 8, 1, (size_t)lenbytes, fp) != (size_t)lenbytes)
    return short_read(fp, name, "the header length");
  uint32_t hlen = le_u32(pre + 8, lenbytes);
  if (hlen > NPY_MAX_HEADER)
    return nadi_fail(NAD_ERR_FORMAT, "%s: .npy header length %lu exceeds the limit of %lu bytes",
                     name, (unsigned long)hlen, (unsigned long)NPY_MAX_HEADER);
  char *text = malloc(hlen + 1u);
  if (!text)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory for the .npy header", name);
  if (fread(text, 1, hlen, fp) != hlen) {
    free(text);
    return short_read(fp, name, "the header");
  }
  text[hlen] = '\0';
  nad_status st = parse_dict(name, text, hlen, h);
  free(text);
  NADI_TRY(st);

  int64_t count = 1;
  for (int32_t i = 0; i < h->ndim; i++)
    if (!nadi_mul_ok(count, h->shape[i], &count))
      return nadi_fail(NAD_ERR_FORMAT, "%s: .npy shape has more elements than fit in 64 bits",
                       name);
  int64_t bytes;
  if (!nadi_mul_ok(count, h->itemsize, &bytes) || bytes > INT64_MAX - 64 - (int64_t)hlen ||
      (uint64_t)bytes > (uint64_t)SIZE_MAX)
    return nadi_fail(NAD_ERR_FORMAT, "%s: .npy shape describes more data than can be addressed",
                     name);
  h->count = count;
  h->data_offset = 8 + lenbytes + (int64_t)hlen;
  return NAD_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static void describe_shape(const nadi_npy_header *h, char *buf, size_t cap) {
  size_t n = (size_t)snprintf(buf, cap, "(");
  for (int32_t i = 0; i < h->ndim && n < cap; i++)
    n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)h->shape[i]);
  if (n < cap)
    snprintf(buf + n, cap - n, h->ndim == 1 ? ",)" : ")");
}

/* Read h->count elements from fp into dst, converting to the wanted width. */
static nad_status read_data(FILE *fp, const char *name, const nadi_npy_header *h, void *dst,
                            int want_f64) {
  size_t n = (size_t)h->count;
  if (h->is_f64 == want_f64) {
    size_t esz = want_f64 ? 8 : 4;
    if (n && fread(dst, esz, n, fp) != n)
      return short_read(fp, name, "the data");
    return NAD_OK;
  }
  /* Convert through a small buffer so a large array is never held twice. */
  union {
    float f[2048];
    double d[1024];
  } tmp;
  size_t per = h->is_f64 ? 1024 : 2048;
  for (size_t i = 0; i < n; i += per) {
    size_t m = n - i < per ? n - i : per;
    if (h->is_f64) {
      if (fread(tmp.d, 8, m, fp) != m)
        return short_read(fp, name, "the data");
      float *out = (float *)dst + i;
      for (size_t j = 0; j < m; j++)
        out[j] = (float)tmp.d[j];
    } else {
      if (fread(tmp.f, 4, m, fp) != m)
        return short_read(fp, name, "the data");
      double *out = (double *)dst + i;
      for (size_t j = 0; j < m; j++)
        out[j] = (double)tmp.f[j];
    }
  }
  return NAD_OK;
}

static nad_status read_file(const char *path, int want_f64, void **data, int64_t *shape,
                            int32_t *ndim) {
  *data = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return nadi_fail(NAD_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  nadi_npy_header h;
  nad_status st = nadi_npy_read_header(fp, path, &h);
  if (st == NAD_OK && h.dtype != NADI_NPY_F4 && h.dtype != NADI_NPY_F8)
    st = nadi_fail(NAD_ERR_FORMAT, "%s: dtype '%s' is not supported here (expected '<f4' or "
                                   "'<f8')", path, h.descr);
  if (st != NAD_OK) {
    fclose(fp);
    return st;
  }
  int64_t bytes = h.count * (h.is_f64 ? 8 : 4);
  struct stat sb;
  int regular = fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode);
  if (regular && (int64_t)sb.st_size - h.data_offset != bytes) {
    char shp[256];
    describe_shape(&h, shp, sizeof shp);
    int64_t have = (int64_t)sb.st_size - h.data_offset;
    fclose(fp);
    return nadi_fail(NAD_ERR_FORMAT,
                     "%s: .npy data size mismatch: shape %s of %s needs %lld bytes after the "
                     "header, the file has %lld (%s)",
                     path, shp, h.is_f64 ? "<f8" : "<f4", (long long)bytes, (long long)have,
                     have < bytes ? "truncated" : "trailing bytes");
  }
  void *buf = nadi_alloc((size_t)h.count, want_f64 ? sizeof(double) : sizeof(float));
  if (!buf) {
    fclose(fp);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld elements", path,
                     (long long)h.count);
  }
  st = read_data(fp, path, &h, buf, want_f64);
  if (st == NAD_OK && !regular && fgetc(fp) != EOF)
    st = nadi_fail(NAD_ERR_FORMAT, "%s: .npy data size mismatch: trailing bytes after the data",
                   path);
  fclose(fp);
  if (st != NAD_OK) {
    nadi_free(buf);
    return st;
  }
  for (int32_t i = 0; i < h.ndim; i++)
    shape[i] = h.shape[i];
  *ndim = h.ndim;
  *data = buf;
  return NAD_OK;
}

nad_status nadi_npy_read_f32(const char *path, float **data, int64_t shape[NADI_NPY_MAX_DIMS],
                             int32_t *ndim) {
  void *p;
  nad_status st = read_file(path, 0, &p, shape, ndim);
  *data = p;
  return st;
}

nad_status nadi_npy_read_f64(const char *path, double **data, int64_t shape[NADI_NPY_MAX_DIMS],
                             int32_t *ndim) {
  void *p;
  nad_status st = read_file(path, 1, &p, shape, ndim);
  *data = p;
  return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* Build the complete preamble + header exactly as numpy 1.24's np.save does (same growth
 * padding, 64-byte alignment, '\n' last), so files are byte-identical. Returns its length. */
static size_t build_header(char *out, size_t cap, int32_t is_f64, const int64_t *shape,
                           int32_t ndim) {
  char dict[400];
  size_t n =
      (size_t)snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       is_f64 ? "<f8" : "<f4");
  for (int32_t i = 0; i < ndim; i++)
    n += (size_t)snprintf(dict + n, sizeof dict - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
  n += (size_t)snprintf(dict + n, sizeof dict - n, "%s), }", ndim == 1 ? "," : "");
  if (ndim > 0) {
    int digits = snprintf(NULL, 0, "%lld", (long long)shape[0]);
    for (int i = digits; i < NPY_GROWTH_DIGITS; i++)
      dict[n++] = ' ';
  }
  /* Version 1.0 unless the length does not fit in 16 bits (impossible with <= 8 dims, kept
   * for fidelity with numpy). */
  int lenbytes = 2, major = 1;
  size_t hlen = n + 1; /* + '\n' */
  size_t pad = NPY_ALIGN - ((6 + 2 + (size_t)lenbytes + hlen) % NPY_ALIGN);
  if (hlen + pad > 65535) {
    lenbytes = 4;
    major = 2;
    pad = NPY_ALIGN - ((6 + 2 + (size_t)lenbytes + hlen) % NPY_ALIGN);
  }
  size_t total = 8 + (size_t)lenbytes + hlen + pad;
  if (total > cap)
    return 0;
  memcpy(out, npy_magic, 6);
  out[6] = (char)major;
  out[7] = 0;
  uint32_t field = (uint32_t)(hlen + pad);
  for (int i = 0; i < lenbytes; i++)
    out[8 + i] = (char)((field >> (8 * i)) & 0xff);
  size_t o = 8 + (size_t)lenbytes;
  memcpy(out + o, dict, n);
  o += n;
  memset(out + o, ' ', pad);
  o += pad;
  out[o++] = '\n';
  return o;
}

nad_status nadi_npy_write(const char *path, const void *data, int32_t is_f64, const int64_t *shape,
                          int32_t ndim) {
  char header[512];
  size_t hsize = build_header(header, sizeof header, is_f64, shape, ndim);
  if (hsize == 0)
    return nadi_fail(NAD_ERR_INVALID_ARG, "%s: .npy header too long", path);
  int64_t count = 1;
  for (int32_t i = 0; i < ndim; i++)
    count *= shape[i]; /* the façade checked for overflow */
  size_t esz = is_f64 ? 8 : 4;

  nadi_atomic_file af; /* a single file: symbolic links followed, pipes written through */
  if (nadi_atomic_open_file(&af, path) != 0)
    return nadi_atomic_fail(&af);
  if (fwrite(header, 1, hsize, af.fp) != hsize ||
      (count > 0 && fwrite(data, esz, (size_t)count, af.fp) != (size_t)count)) {
    int e = errno;
    nadi_atomic_abort(&af);
    return nadi_fail(NAD_ERR_IO, "%s: cannot write: %s", path, strerror(e));
  }
  return nadi_atomic_commit(&af) == 0 ? NAD_OK : nadi_atomic_fail(&af);
}
