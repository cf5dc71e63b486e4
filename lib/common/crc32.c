/* CRC-32 (see common/crc32.h), sixteen bytes per step through sixteen tables of 1 KiB
 * ("slicing-by-16"), without a dependency, so that the `nad` tool and the library share it.
 * Byte order independent: the input is read byte by byte. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "common/crc32.h"

static uint32_t table[16][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void make_table(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[0][i] = c;
  }
  for (int t = 1; t < 16; t++)
    for (int i = 0; i < 256; i++)
      table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

uint32_t nadi_crc32(uint32_t crc, const void *data, size_t len) {
  pthread_once(&table_once, make_table);
  const unsigned char *p = data;
  uint32_t c = ~crc;
  for (; len >= 16; p += 16, len -= 16) {
    c ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    c = table[15][c & 0xff] ^ table[14][(c >> 8) & 0xff] ^ table[13][(c >> 16) & 0xff] ^
        table[12][c >> 24] ^ table[11][p[4]] ^ table[10][p[5]] ^ table[9][p[6]] ^
        table[8][p[7]] ^ table[7][p[8]] ^ table[6][p[9]] ^ table[5][p[10]] ^ table[4][p[11]] ^
        table[3][p[12]] ^ table[2][p[13]] ^ table[1][p[14]] ^ table[0][p[15]];
  }
  for (; len > 0; p++, len--)
    c = table[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return ~c;
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
