/* Memory plan of a run: how many networks are probed at once and with what batch, so that the
 * whole estimator stays within a memory budget (NAD_OPT_MEMORY; default half the available
 * memory). Decided before anything big is allocated, so that a run that cannot fit is refused
 * at once, with the numbers and what to change, instead of dying (or taking the machine down)
 * after the first networks.
 *
 * The two peaks:
 *  - probing: both half accumulators (2·8·D² bytes plus their pending rows), the response
 *    slots and one probe per concurrent network (parameters, delta forward, executor);
 *  - finishing: the halves, a combined copy (8·D²), the eigenvectors (8·K·D) and the NADs in
 *    float (4·K·D); the probes are gone by then.
 * A probe's bytes are measured, not modelled: one is created at the candidate batch on this
 * thread and what it allocated is read from the allocator's count (lib/core/alloc.c), before
 * any of it is touched. Preference: all threads with a batch of at least MIN_BATCH; below that,
 * fewer concurrent networks (one network with a tiny batch is the last resort). With the default
 * budget the probes also stay under DEFAULT_PROBE_CAP. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/threads.h"
#include "estimator/run.h"

/* Smallest batch worth keeping all threads busy for: below it the GEMMs are too thin to pay
 * their overhead, and one network less costs less. */
#define MIN_BATCH 16

/* With the default budget the probes together take at most this much: a batch of 128 instead
 * of 256 costs DenseNet121 nothing measurable (its GEMMs are thousands of columns wide either
 * way), and it keeps every built-in at 1x32x32 below 2 GB of RSS (issue 7), VGG11-nopool (1.1 GB
 * of parameters per network) included, at one network at a time. An explicit NAD_OPT_MEMORY
 * lifts it. */
#define DEFAULT_PROBE_CAP ((double)(1536LL << 20))

int64_t nadi_memory_available(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[256];
    long long kb = -1;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
        break;
    fclose(f);
    if (kb > 0)
      return (int64_t)kb * 1024;
  }
  long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  if (pages > 0 && size > 0)
    return (int64_t)pages * size;
  return -1;
}

int64_t nadi_memory_default_budget(void) {
  int64_t avail = nadi_memory_available();
  return avail > 0 ? avail / 2 : (int64_t)4 << 30; /* unknown: 4 GiB */
}

/* Bytes of the accumulators: probing phase (the halves) and finishing phase (everything).
 * Exact mode: two D×D scatters, a third combined copy and the eigenvectors. Sketch mode (L
 * rows): two sketches with their streaming spectra (3 doubles per input at most), a combined
 * work sketch and the eigenvectors. */
static void acc_bytes(const nad_estimator *e, int64_t k, double *halves, double *finish) {
  const int64_t d = e->d;
  const double vecs = 12.0 * (double)k * (double)d + 8.0 * 40.0 * (double)d; /* + LAPACK work */
  if (e->sketch) {
    const double one = nadi_sketch_bytes(d, e->sketch) + 3.0 * 8.0 * (double)d;
    *halves = 2.0 * one;
    *finish = 3.0 * one + vecs;
    return;
  }
  const double dd = (double)d * (double)d, acc = 8.0 * (dd + (NADI_ACC_BLOCK + 2.0) * d);
  *halves = 2.0 * acc;
  *finish = 3.0 * acc + vecs;
}

static double gib(double bytes) { return bytes / 1073741824.0; }

/* What one probe at `batch` allocates; -1 when the allocator cannot tell. */
static nad_status probe_bytes(const nad_estimator *e, const float *x0, int64_t batch,
                              int64_t *bytes) {
  const int64_t before = nadi_alloc_thread_bytes();
  nadi_probe *p = NULL;
  /* a fixed network's parameters and data points take the same bytes as a random network's
   * (the probe copies the parameters either way; the points are borrowed) */
  const nadi_probe_cfg cfg = {.mode = e->mode, .step = e->step, .batch = batch, .x0 = x0,
                              .output = 0};
  NADI_TRY(nadi_probe_create(e->g, &cfg, &p));
  const int64_t after = nadi_alloc_thread_bytes();
  nadi_probe_destroy(p);
  *bytes = before < 0 ? -1 : after - before;
  return NAD_OK;
}

nad_status nadi_estimator_plan(const nad_estimator *e, int64_t jobs, nadi_plan *plan) {
  memset(plan, 0, sizeof *plan);
  const int64_t d = e->d, k = e->top_k ? e->top_k : e->sketch ? e->sketch : d;
  const int64_t budget = e->memory ? e->memory : nadi_memory_default_budget();
  plan->budget = budget;
  double halves, finish;
  acc_bytes(e, k, &halves, &finish);
  plan->acc_bytes = (int64_t)finish;
  const char *whose = e->memory ? "" : " (the default: half of the available memory)";
  if (finish > (double)budget)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY,
                     "the covariance accumulators of D = %lld inputs need %.2f GiB (%s and "
                     "%lld eigenvectors to finish), more than the memory budget of %.2f GiB%s: "
                     "raise NAD_OPT_MEMORY (nad estimate --memory SIZE)%s%s, or use a smaller "
                     "input",
                     (long long)d, gib(finish),
                     e->sketch ? "two sketches while probing, a combined one"
                               : "two halves of 8·D² bytes while probing, a third copy",
                     (long long)k, gib((double)budget), whose,
                     k > 100 ? ", keep fewer NADs (NAD_OPT_TOP_K, --top K)" : "",
                     e->sketch ? ", use fewer sketch rows (NAD_OPT_SKETCH, --sketch L)"
                               : ", sketch the covariance (NAD_OPT_SKETCH, --sketch L)");
  int64_t threads = nadi_thread_count(e->num_threads);
  int64_t workers = threads < jobs ? threads : jobs;
  if (workers < 1)
    workers = 1;
  const int dipole = e->mode == NAD_MODE_DIPOLE;
  int64_t want = dipole ? (e->batch < 2 * d ? e->batch : 2 * d) : 1;
  plan->workers = workers;
  plan->batch = want;
  if (jobs == 0)
    return NAD_OK;
  float *x0 = nadi_calloc((size_t)d, sizeof(float));
  if (!x0)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "memory plan");
  /* Candidate batches: want, want/2, ... down to 1; bytes measured lazily. */
  int64_t cand[64], bytes[64], n_cand = 0;
  for (int64_t b = want; b >= 1 && n_cand < 64; b = b == 1 ? 0 : (b + 1) / 2) {
    cand[n_cand] = b;
    bytes[n_cand++] = -2; /* not measured */
  }
  nad_status st = NAD_OK;
  /* run state besides the probes: x0, the worker table, ranges (a generous MiB) */
  const double slot_bytes = 8.0 * (double)d, fixed = halves + 4.0 * (double)d + 1048576.0;
  int found = 0;
  for (int64_t w = workers; w >= 1 && !found && st == NAD_OK; w--) {
    const double slots = (double)nadi_run_slots(w) * slot_bytes;
    for (int64_t c = 0; c < n_cand && st == NAD_OK; c++) {
      if (w > 1 && cand[c] < MIN_BATCH && cand[c] < want)
        break; /* rather one network less than a thin batch */
      if (bytes[c] == -2)
        st = probe_bytes(e, x0, cand[c], &bytes[c]);
      if (st != NAD_OK)
        break;
      const double probes = (double)w * (double)(bytes[c] > 0 ? bytes[c] : 0);
      const double need = fixed + slots + probes;
      const int capped = !e->memory && probes > DEFAULT_PROBE_CAP && w * cand[c] > 1;
      if (need <= (double)budget && !capped) {
        plan->workers = w;
        plan->batch = cand[c];
        plan->probe_bytes = bytes[c];
        plan->run_bytes = (int64_t)need;
        found = 1;
        break;
      }
    }
  }
  if (st == NAD_OK && !found) {
    /* w = 1 measured every candidate, down to batch 1 */
    const double one = fixed + slot_bytes + (double)(bytes[n_cand - 1] > 0 ? bytes[n_cand - 1] : 0);
    st = nadi_fail(NAD_ERR_OUT_OF_MEMORY,
                   "one network of this architecture needs %.2f GiB to probe (batch 1) next to "
                   "the %.2f GiB of the accumulators of D = %lld inputs: %.2f GiB, more than the "
                   "memory budget of %.2f GiB%s: raise NAD_OPT_MEMORY (nad estimate --memory "
                   "SIZE) or use a smaller input",
                   gib(one - fixed - slot_bytes), gib(fixed), (long long)d, gib(one),
                   gib((double)budget), whose);
  }
  nadi_free(x0);
  return st;
}
