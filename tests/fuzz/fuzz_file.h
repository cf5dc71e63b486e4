/* For targets whose parser reads a named file (.npy, checkpoints): the input as an in-memory
 * file (memfd, no disk) reachable by the path /proc/self/fd/N, so the fuzzed path is the public
 * entry point a user calls. */
#ifndef NADT_FUZZ_FILE_H
#define NADT_FUZZ_FILE_H

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes data into a fresh memfd; path receives its name. Returns the fd (close it), or -1. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char path[64]) {
  int fd = memfd_create("fuzz", MFD_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t done = 0;
  while (done < size) {
    ssize_t w = write(fd, data + done, size - done);
    if (w <= 0) {
      close(fd);
      return -1;
    }
    done += (size_t)w;
  }
  snprintf(path, 64, "/proc/self/fd/%d", fd);
  return fd;
}

#endif
