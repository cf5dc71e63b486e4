/* Core utilities: RNG determinism and distribution, overflow checks, error messages. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "../check.h"


static void test_rng_streams(void) {
  nadi_rng a, b, c;
  nadi_rng_init(&a, 42, 7);
  nadi_rng_init(&b, 42, 7);
  nadi_rng_init(&c, 42, 8);
  int same = 1, differ = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = nadi_rng_u64(&a), y = nadi_rng_u64(&b), z = nadi_rng_u64(&c);
    same &= x == y;
    differ += x != z;
  }
  EXPECT(same);
  EXPECT(differ == 1000);
}

static void test_rng_moments(void) {
  nadi_rng r;
  nadi_rng_init(&r, 1, 0);
  const int n = 200000;
  double s = 0, s2 = 0, u = 0, u2 = 0;
  for (int i = 0; i < n; i++) {
    double z = nadi_rng_normal(&r), v = nadi_rng_uniform(&r);
    s += z, s2 += z * z, u += v, u2 += v * v;
  }
  double m = s / n, var = s2 / n - m * m;
  /* 4 standard errors: mean se = 1/sqrt(n); variance se = sqrt(2/n) */
  EXPECT(fabs(m) < 4 / sqrt(n));
  EXPECT(fabs(var - 1) < 4 * sqrt(2.0 / n));
  double um = u / n, uv = u2 / n - um * um;
  EXPECT(fabs(um - 0.5) < 4 * sqrt(1.0 / 12 / n));
  EXPECT(fabs(uv - 1.0 / 12) < 4 * sqrt(1.0 / 180 / n)); /* var of U^2-ish: 1/180 */
  float buf[1000];
  nadi_rng_fill_uniform(&r, buf, 1000, -0.25, 0.25);
  int inside = 1;
  for (int i = 0; i < 1000; i++)
    inside &= buf[i] >= -0.25f && buf[i] <= 0.25f;
  EXPECT(inside);
}

/* The bulk fill is the scalar draws, bit for bit, whatever the split into calls (a spare normal
 * left by an odd count is the next call's first), across its internal blocks of 256 pairs. */
static void test_rng_fill_normal_is_scalar(void) {
  enum { N = 1500 };
  static float bulk[N], one[N];
  const int64_t cuts[] = {0, 1, 4, 5, 517, 518, 1031, N};
  nadi_rng a, b;
  nadi_rng_init(&a, 9, 3);
  nadi_rng_init(&b, 9, 3);
  for (int c = 0; c + 1 < (int)(sizeof cuts / sizeof cuts[0]); c++)
    nadi_rng_fill_normal(&a, bulk + cuts[c], cuts[c + 1] - cuts[c], 0.5, 0.125);
  for (int i = 0; i < N; i++)
    one[i] = (float)(0.5 + 0.125 * nadi_rng_normal(&b));
  EXPECT(memcmp(bulk, one, sizeof bulk) == 0);
  EXPECT(nadi_rng_u64(&a) == nadi_rng_u64(&b)); /* the generators end in the same state */
  EXPECT(a.has_spare == b.has_spare);
  EXPECT(bulk[0] != bulk[1] && bulk[N - 2] != bulk[N - 1]);
}

/* nadi_rng_fill_normal (pairs at a time) gives what nadi_rng_normal gives one by one, spare
 * included: odd lengths, a fill that starts on a spare, a normal drawn after an odd fill. */
static void test_rng_fill_normal_sequence(void) {
  nadi_rng a, b;
  nadi_rng_init(&a, 7, 3);
  nadi_rng_init(&b, 7, 3);
  float f[64];
  int same = 1;
  const int lens[] = {5, 0, 6, 1, 7, 2};
  for (int k = 0; k < 6; k++) {
    nadi_rng_fill_normal(&a, f, lens[k], 0.5, 2.0);
    for (int i = 0; i < lens[k]; i++)
      same &= f[i] == (float)(0.5 + 2.0 * nadi_rng_normal(&b));
    same &= nadi_rng_normal(&a) == nadi_rng_normal(&b);
  }
  EXPECT(same);
}

static void test_mul_and_alloc(void) {
  int64_t out;
  EXPECT(nadi_mul_ok(3, 4, &out) && out == 12);
  EXPECT(!nadi_mul_ok(INT64_MAX / 2, 3, &out));
  EXPECT(!nadi_mul_ok(-1, 3, &out));
  EXPECT(nadi_alloc(SIZE_MAX / 2, 4) == NULL);
  float *p = nadi_calloc(17, sizeof(float));
  EXPECT(p != NULL && ((uintptr_t)p % 64) == 0 && p[16] == 0.0f);
  nadi_free(p);
}

static void test_errors(void) {
  nad_status st = nadi_fail(NAD_ERR_SHAPE, "layer %d: %s", 3, "bad");
  EXPECT(st == NAD_ERR_SHAPE);
  EXPECT(strcmp(nad_last_error(), "layer 3: bad") == 0);
  EXPECT(strcmp(nad_status_string(NAD_ERR_CANCELLED), "cancelled") == 0);
  EXPECT(strcmp(nad_status_string((nad_status)999), "unknown status") == 0);
  EXPECT(nad_version() == NAD_VERSION_NUMBER);
  char v[32];
  snprintf(v, sizeof v, "%d.%d.%d", NAD_VERSION_MAJOR, NAD_VERSION_MINOR, NAD_VERSION_PATCH);
  EXPECT(strcmp(nad_version_string(), v) == 0);
}

int main(void) {
  test_rng_streams();
  test_rng_moments();
  test_rng_fill_normal_is_scalar();
  test_rng_fill_normal_sequence();
  test_mul_and_alloc();
  test_errors();
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
