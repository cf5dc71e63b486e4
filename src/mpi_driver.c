/* nad-mpi: `mpirun -np P nad-mpi estimate ARGS...` runs `nad estimate ARGS...` on P ranks. The one
 * file that calls MPI.
 *
 * Rank r takes the r-th of P contiguous slices of the networks (of --range A:B, or [0, N)),
 * streams its own accumulators (the library's run loop, with its threads), and the accumulators
 * are reduced onto rank 0 along a binomial tree (log2 P rounds): a sender serialises its
 * accumulators into the checkpoint bytes (nad_estimator_save_buffer), the receiver merges them
 * with the exact merge checkpoints use (nad_estimator_load_buffer: same settings checks, ranges
 * must not overlap). Rank 0 then finalizes and writes the files of `nad estimate`. The result
 * equals one process's run of the same (seed, N) to rounding (the merge order differs).
 *
 * Failures. Before any reduction all ranks agree on success (MPI_Allreduce); if one failed,
 * every rank exits with status 1 and rank 0 prints the failing ranks and their messages (each
 * rank other than 0 writes its stderr to a temporary file, sent to rank 0 only then, so that a
 * usage error is not printed P times). A rank that dies is MPI's business: mpirun aborts the
 * job. --checkpoint / --resume FILE become FILE.rankR per rank. Started without mpirun (or srun),
 * nad-mpi refuses to run: a singleton would silently do the work of one rank. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "estimate.h"

#define TAG_SIZE 1
#define TAG_DATA 2
#define CHUNK ((size_t)1 << 30) /* MPI counts are int: send large buffers in pieces */
#define MSG_MAX 2048

/* stderr of ranks other than 0, kept for rank 0 to print on failure. */
static FILE *captured;
static int saved_stderr = -1;

static void capture_stderr(void) {
  captured = tmpfile();
  if (!captured)
    return;
  fflush(stderr);
  saved_stderr = dup(STDERR_FILENO);
  if (saved_stderr < 0 || dup2(fileno(captured), STDERR_FILENO) < 0) {
    fclose(captured);
    captured = NULL;
  }
}

/* The captured text (at most MSG_MAX − 1 bytes, the last ones kept). */
static void captured_text(char *buf) {
  buf[0] = '\0';
  if (!captured)
    return;
  fflush(stderr);
  long end = ftell(captured);
  long start = end > MSG_MAX - 1 ? end - (MSG_MAX - 1) : 0;
  if (end <= 0 || fseek(captured, start, SEEK_SET) != 0)
    return;
  size_t n = fread(buf, 1, (size_t)(end - start), captured);
  buf[n] = '\0';
  fseek(captured, 0, SEEK_END);
}

static int send_bytes(const void *buf, size_t len, int to) {
  uint64_t n = len;
  if (MPI_Send(&n, 1, MPI_UINT64_T, to, TAG_SIZE, MPI_COMM_WORLD) != MPI_SUCCESS)
    return -1;
  for (size_t off = 0; off < len; off += CHUNK) {
    size_t c = len - off < CHUNK ? len - off : CHUNK;
    if (MPI_Send((const char *)buf + off, (int)c, MPI_BYTE, to, TAG_DATA, MPI_COMM_WORLD) !=
        MPI_SUCCESS)
      return -1;
  }
  return 0;
}

static void *recv_bytes(int from, size_t *len) {
  uint64_t n = 0;
  if (MPI_Recv(&n, 1, MPI_UINT64_T, from, TAG_SIZE, MPI_COMM_WORLD, MPI_STATUS_IGNORE) !=
      MPI_SUCCESS)
    return NULL;
  char *buf = malloc(n ? (size_t)n : 1);
  if (!buf)
    return NULL; /* the sender blocks: the caller aborts the job */
  for (size_t off = 0; off < n; off += CHUNK) {
    size_t c = n - off < CHUNK ? (size_t)n - off : CHUNK;
    if (MPI_Recv(buf + off, (int)c, MPI_BYTE, from, TAG_DATA, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE) != MPI_SUCCESS) {
      free(buf);
      return NULL;
    }
  }
  *len = (size_t)n;
  return buf;
}

/* All ranks: 1 when any rank failed; rank 0 prints who and why. */
static int any_failed(const estimate_dist *d, int failed) {
  int worst = 0;
  MPI_Allreduce(&failed, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (!worst)
    return 0;
  char mine[MSG_MAX];
  if (d->rank != 0 && failed)
    captured_text(mine);
  else
    mine[0] = '\0';
  char *all = d->rank == 0 ? malloc((size_t)d->size * MSG_MAX) : NULL;
  int *flags = d->rank == 0 ? malloc((size_t)d->size * sizeof(int)) : NULL;
  MPI_Gather(&failed, 1, MPI_INT, flags, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Gather(mine, MSG_MAX, MPI_CHAR, all, MSG_MAX, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (d->rank == 0 && all && flags) {
    int n = 0;
    for (int r = 0; r < d->size; r++)
      n += flags[r] != 0;
    fprintf(stderr, "nad-mpi: %d of %d ranks failed; no results written\n", n, d->size);
    for (int r = 1; r < d->size; r++) {
      const char *msg = all + (size_t)r * MSG_MAX;
      int seen = 0; /* the same message as an earlier rank's: said once */
      for (int q = 1; q < r && !seen; q++)
        seen = flags[q] && strcmp(msg, all + (size_t)q * MSG_MAX) == 0;
      if (flags[r] && msg[0] && !seen)
        fprintf(stderr, "nad-mpi: rank %d: %s%s", r, msg, msg[strlen(msg) - 1] == '\n' ? "" : "\n");
    }
  }
  free(all);
  free(flags);
  return 1;
}

/* Binomial-tree reduction of the accumulators onto rank 0. */
static int reduce(const estimate_dist *d, nad_estimator *e, int failed) {
  if (any_failed(d, failed))
    return CLI_ERR;
  int err = 0;
  for (int step = 1; step < d->size && !err; step <<= 1) {
    if (d->rank % (2 * step) == step) {
      void *buf = NULL;
      size_t len = 0;
      nad_status st = nad_estimator_save_buffer(e, &buf, &len);
      if (st != NAD_OK) {
        cli_lib_error(st, "rank %d cannot serialise its accumulators", d->rank);
        MPI_Abort(MPI_COMM_WORLD, 1); /* the receiver waits for them: no clean way on */
      }
      err = send_bytes(buf, len, d->rank - step);
      nad_free(buf);
      break; /* this rank's part is handed on */
    }
    if (d->rank % (2 * step) == 0 && d->rank + step < d->size) {
      size_t len = 0;
      void *buf = recv_bytes(d->rank + step, &len);
      if (!buf) {
        fprintf(stderr, "nad-mpi: rank %d: cannot receive the accumulators of rank %d\n",
                d->rank, d->rank + step);
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
      nad_status st = nad_estimator_load_buffer(e, buf, len);
      free(buf);
      if (st != NAD_OK) {
        cli_lib_error(st, "rank %d cannot merge the accumulators of rank %d", d->rank,
                      d->rank + step);
        err = 1;
      }
    }
  }
  /* A merge that failed (it should not: same settings everywhere) fails the whole run. */
  return any_failed(d, err != 0) ? CLI_ERR : 0;
}

/* Launched by mpirun / mpiexec / srun (or another PMI launcher)? */
static int under_launcher(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK",
                                     "PMI_RANK", "SLURM_STEP_ID", "MPI_LOCALNRANKS"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    if (getenv(vars[i]))
      return 1;
  return 0;
}

/* Ranks on this node (OpenMPI tells; else 1). */
static int64_t local_ranks(void) {
  const char *v = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  long n = v ? strtol(v, NULL, 10) : 1;
  return n >= 1 ? n : 1;
}

int main(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("usage: mpirun -np P nad-mpi estimate ARCH [options of 'nad estimate'] --out DIR\n"
           "Each rank computes a contiguous slice of the networks; rank 0 merges the\n"
           "accumulators, finalizes and writes. See 'nad estimate --help'.\n");
    return CLI_OK;
  }
  if (!under_launcher()) {
    fprintf(stderr, "nad-mpi: not started by an MPI launcher: run it as 'mpirun -np P nad-mpi "
                    "estimate ...' (or srun); for one process use 'nad estimate'\n");
    return CLI_USAGE;
  }
  /* Before MPI_Init: each rank runs the BLAS kernels `nad` runs (the same pid after exec), so
   * its networks are bit for bit a single process's. */
  cli_blas_restart(argv);
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
    fprintf(stderr, "nad-mpi: MPI_Init failed\n");
    return CLI_ERR;
  }
  estimate_dist d;
  memset(&d, 0, sizeof d);
  MPI_Comm_rank(MPI_COMM_WORLD, &d.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &d.size);
  int64_t per_rank = cli_num_cpus() / local_ranks();
  d.threads = per_rank >= 1 ? per_rank : 1;
  d.reduce = reduce;
  if (d.rank != 0)
    capture_stderr();
  int rc;
  if (argc < 2 || strcmp(argv[1], "estimate") != 0) {
    if (d.rank == 0)
      fprintf(stderr, "nad-mpi: usage: mpirun -np P nad-mpi estimate ARCH ... (got '%s')\n",
              argc < 2 ? "" : argv[1]);
    rc = CLI_USAGE;
  } else {
    rc = estimate_main(argc - 2, argv + 2, &d);
  }
  /* Every rank leaves with the same status. */
  int worst = rc;
  MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (saved_stderr >= 0) {
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
  }
  if (captured)
    fclose(captured);
  MPI_Finalize();
  return worst;
}
