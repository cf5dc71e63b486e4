/* Whole-file reads for the dataset loaders: the one file of libnad that calls zlib (gunzip;
 * the CRC-32 of checkpoints and of the tool's files is common/crc32.c, libc only).
 *
 * A blob is the complete content of a file as bytes: a read-only mmap of an uncompressed
 * regular file (no copy of a 180 MB dataset), or, for a gzip file, the decompressed stream in
 * one malloc'ed buffer. Loaders then parse the bytes knowing their true length, so no size
 * field of a header is believed before it is checked against the data that exists. The
 * decompressed buffer grows with the data actually produced, never with a size announced by
 * the file (the gzip trailer's ISIZE is only a capacity hint, clamped), and decompression
 * stops at NADI_BLOB_MAX_BYTES. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define ZLIB_CONST /* next_in is const: the input is never written */
#include <zlib.h>

#include "core/core.h"
#include "io/io.h"

#define HINT_MAX ((size_t)1 << 30) /* largest initial buffer taken from a gzip trailer */
#define CHUNK ((size_t)1 << 20)    /* zlib works in 32-bit lengths: feed it at most this */
#define DEFLATE_MAX_RATIO 1032     /* deflate's largest expansion (zlib FAQ) */

int nadi_is_gzip(const uint8_t *data, size_t len) {
  return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

void nadi_blob_free(nadi_blob *b) {
  if (b->map)
    munmap(b->map, b->map_len);
  free(b->owned);
  memset(b, 0, sizeof *b);
}

/* Grow buf to at least `need` bytes (doubling), never beyond NADI_BLOB_MAX_BYTES. */
static int grow(uint8_t **buf, size_t *cap, size_t need) {
  if (need <= *cap)
    return 1;
  if (need > NADI_BLOB_MAX_BYTES)
    return 0;
  size_t c = *cap ? *cap : CHUNK;
  while (c < need)
    c = c > NADI_BLOB_MAX_BYTES / 2 ? NADI_BLOB_MAX_BYTES : 2 * c;
  if (c < need)
    return 0;
  uint8_t *p = realloc(*buf, c);
  if (!p)
    return 0;
  *buf = p;
  *cap = c;
  return 1;
}

/* Decompress every gzip member of src[0..len) into a new buffer. */
static nad_status gunzip(const uint8_t *src, size_t len, const char *name, nadi_blob *out) {
  size_t cap = 0, used = 0;
  uint8_t *buf = NULL;
  if (len >= 18) { /* ISIZE (uncompressed size mod 2^32) as a first capacity guess */
    const uint8_t *t = src + len - 4;
    size_t hint = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
    /* a lying trailer cannot reserve more than deflate can produce (1032:1) */
    if (hint > HINT_MAX || hint / DEFLATE_MAX_RATIO > len)
      hint = len * DEFLATE_MAX_RATIO < HINT_MAX ? len * DEFLATE_MAX_RATIO : HINT_MAX;
    if (!grow(&buf, &cap, hint + 1))
      return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory for the decompressed data", name);
  }
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 15 + 16) != Z_OK) { /* 15 + 16: gzip wrapper only */
    free(buf);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: cannot initialise zlib", name);
  }
  size_t in_pos = 0;
  nad_status st = NAD_OK;
  for (;;) {
    if (used == cap && !grow(&buf, &cap, cap + 1)) {
      st = cap >= NADI_BLOB_MAX_BYTES
               ? nadi_fail(NAD_ERR_FORMAT, "%s: decompresses to more than %llu bytes", name,
                           (unsigned long long)NADI_BLOB_MAX_BYTES)
               : nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory after %llu decompressed "
                                                  "bytes", name, (unsigned long long)used);
      break;
    }
    size_t in_n = len - in_pos < CHUNK ? len - in_pos : CHUNK;
    size_t out_n = cap - used < CHUNK ? cap - used : CHUNK;
    z.next_in = src + in_pos;
    z.avail_in = (uInt)in_n;
    z.next_out = buf + used;
    z.avail_out = (uInt)out_n;
    int rc = inflate(&z, Z_NO_FLUSH);
    in_pos += in_n - z.avail_in;
    used += out_n - z.avail_out;
    if (rc == Z_STREAM_END) {
      if (in_pos == len)
        break;
      if (!nadi_is_gzip(src + in_pos, len - in_pos)) { /* gzip(1) also rejects these */
        st = nadi_fail(NAD_ERR_FORMAT, "%s: %llu bytes of garbage after the gzip stream", name,
                       (unsigned long long)(len - in_pos));
        break;
      }
      inflateReset(&z); /* another member follows (concatenated .gz files) */
      continue;
    }
    if (rc == Z_OK)
      continue;
    if (rc == Z_BUF_ERROR && z.avail_out == 0)
      continue; /* output full: grow and go on */
    if (rc == Z_BUF_ERROR && in_pos == len) {
      st = nadi_fail(NAD_ERR_FORMAT, "%s: truncated gzip file (the stream ends after %llu "
                                     "decompressed bytes)", name, (unsigned long long)used);
      break;
    }
    st = rc == Z_MEM_ERROR
             ? nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: zlib is out of memory", name)
             : nadi_fail(NAD_ERR_FORMAT, "%s: corrupt gzip data (%s)", name,
                         z.msg ? z.msg : "zlib error");
    break;
  }
  inflateEnd(&z);
  if (st != NAD_OK) {
    free(buf);
    return st;
  }
  out->data = buf;
  out->len = used;
  out->owned = buf;
  out->gzipped = 1;
  return NAD_OK;
}

nad_status nadi_blob_from_memory(const uint8_t *data, size_t len, const char *name,
                                 nadi_blob *out) {
  memset(out, 0, sizeof *out);
  if (nadi_is_gzip(data, len))
    return gunzip(data, len, name, out);
  out->data = data;
  out->len = len;
  return NAD_OK;
}

/* Everything a non-seekable file (a pipe) delivers. */
static nad_status read_stream(int fd, const char *name, uint8_t **data, size_t *len) {
  uint8_t *buf = NULL;
  size_t cap = 0, used = 0;
  for (;;) {
    if (used == cap && !grow(&buf, &cap, cap + 1)) {
      free(buf);
      return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory after %llu bytes", name,
                       (unsigned long long)used);
    }
    ssize_t r = read(fd, buf + used, cap - used);
    if (r == 0)
      break;
    if (r < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      free(buf);
      return nadi_fail(NAD_ERR_IO, "%s: read error: %s", name, strerror(e));
    }
    used += (size_t)r;
  }
  *data = buf;
  *len = used;
  return NAD_OK;
}

nad_status nadi_blob_read(const char *path, nadi_blob *out) {
  memset(out, 0, sizeof *out);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nadi_fail(NAD_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    close(fd);
    return nadi_fail(NAD_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
  }
  if (S_ISDIR(sb.st_mode)) {
    close(fd);
    return nadi_fail(NAD_ERR_IO, "%s: is a directory, not a file", path);
  }
  const uint8_t *bytes = NULL;
  size_t len = 0;
  void *map = NULL;
  uint8_t *copy = NULL;
  if (S_ISREG(sb.st_mode)) {
    if ((uint64_t)sb.st_size > (uint64_t)SIZE_MAX) {
      close(fd);
      return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: too large to map", path);
    }
    len = (size_t)sb.st_size;
    if (len > 0) {
      map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
      if (map == MAP_FAILED) {
        int e = errno;
        close(fd);
        return nadi_fail(e == ENOMEM ? NAD_ERR_OUT_OF_MEMORY : NAD_ERR_IO, "%s: cannot map: %s",
                         path, strerror(e));
      }
      bytes = map;
    }
  } else {
    nad_status st = read_stream(fd, path, &copy, &len);
    if (st != NAD_OK) {
      close(fd);
      return st;
    }
    bytes = copy;
  }
  close(fd);
  if (!nadi_is_gzip(bytes, len)) { /* keep the mapping (or the copy) as the blob */
    out->data = bytes;
    out->len = len;
    out->map = map;
    out->map_len = map ? len : 0;
    out->owned = copy;
    return NAD_OK;
  }
  nad_status st = gunzip(bytes, len, path, out);
  if (map)
    munmap(map, len);
  free(copy);
  return st;
}
