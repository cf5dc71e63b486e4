/* lib/common/crc32.c: the check value of CRC-32, equality with zlib's crc32 for every length
 * and alignment around the 16-byte steps, chunked = whole, and the file helper (size, CRC, a
 * missing file). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../check.h"
#include "common/crc32.h"

int main(void) {
  CHECK(nadi_crc32(0, "123456789", 9) == 0xcbf43926u, "check value %08x",
        nadi_crc32(0, "123456789", 9));
  CHECK(nadi_crc32(0, "", 0) == 0, "empty");
  CHECK(nadi_crc32(0x12345678u, "", 0) == 0x12345678u, "empty keeps the CRC");
  enum { N = 4099 };
  unsigned char *buf = malloc(N + 8);
  if (!buf)
    return 1;
  uint64_t x = 88172645463325252ull; /* xorshift */
  for (int i = 0; i < N + 8; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    buf[i] = (unsigned char)x;
  }
  int bad = 0;
  for (int off = 0; off < 8; off++)
    for (int len = 0; len <= 67; len++)
      bad += nadi_crc32(0, buf + off, (size_t)len) !=
             (uint32_t)crc32(0, buf + off, (uInt)len);
  CHECK(bad == 0, "%d of 544 short buffers differ from zlib", bad);
  CHECK(nadi_crc32(0, buf, N) == (uint32_t)crc32(0, buf, N), "4099 bytes = zlib");
  uint32_t c = 0;
  for (size_t i = 0; i < N; i += 1000)
    c = nadi_crc32(c, buf + i, N - i < 1000 ? N - i : 1000);
  CHECK(c == nadi_crc32(0, buf, N), "chunked = whole");
  CHECK(nadi_crc32(7, buf, 100) == (uint32_t)crc32(7, buf, 100), "continuing a CRC = zlib");

  const char *dir = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/nadt_crc32_%ld.bin", dir && dir[0] ? dir : "/tmp",
           (long)getpid());
  FILE *f = fopen(path, "wb");
  CHECK(f && fwrite(buf, 1, N, f) == N && fclose(f) == 0, "write %s", path);
  int64_t bytes = -1;
  uint32_t crc = 0;
  CHECK(nadi_file_crc32(path, &bytes, &crc) == 0 && bytes == N && crc == nadi_crc32(0, buf, N),
        "file: %lld bytes, crc %08x", (long long)bytes, crc);
  unlink(path);
  errno = 0;
  CHECK(nadi_file_crc32(path, &bytes, &crc) == -1 && errno == ENOENT, "missing file: ENOENT");
  free(buf);
  return check_summary();
}
