/* CRC-32 (IEEE 802.3, the polynomial of zlib, gzip and PNG: crc32 of "123456789" is
 * 0xcbf43926) through zlib: the one home of the checksum for the library (checkpoints) and
 * the `nad` tool (the sizes and CRCs of a run's files in summary.json). Never installed. */
#ifndef NADI_CRC32_H
#define NADI_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of data[0..len) continuing crc (0 to start), as zlib's crc32(crc, data, len). */
uint32_t nadi_crc32(uint32_t crc, const void *data, size_t len);

/* Size and CRC-32 of a whole file: 0, or -1 with errno set (EIO for a read error). */
int nadi_file_crc32(const char *path, int64_t *bytes, uint32_t *crc);

#endif
