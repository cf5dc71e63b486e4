/* CRC-32 (see common/crc32.h): zlib's crc32, which is fast (slicing tables, or the CPU's
 * carry-less multiply where zlib was built for it) and well tested; nothing of it is
 * re-implemented here. zlib's length is an unsigned int, so long buffers go in chunks. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <zlib.h>

#include "common/crc32.h"

uint32_t nadi_crc32(uint32_t crc, const void *data, size_t len) {
  const unsigned char *p = data;
  uLong c = crc;
  while (len > 0) {
    uInt n = len > UINT_MAX ? UINT_MAX : (uInt)len;
    c = crc32(c, p, n);
    p += n, len -= n;
  }
  return (uint32_t)c;
}

int nadi_file_crc32(const char *path, int64_t *bytes, uint32_t *crc) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  unsigned char buf[1 << 16];
  uint32_t c = 0;
  int64_t n = 0;
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
    c = nadi_crc32(c, buf, got);
    n += (int64_t)got;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    errno = EIO;
    return -1;
  }
  *bytes = n;
  *crc = c;
  return 0;
}
