/* The window rule (lib/kernels/window.c, layer.h "Windows") and the grouped convolution's
 * initialisation: the legacy and general forms of one layer build the same hp and graph
 * fingerprint, a built hp is accepted again unchanged (fold.c replays it), and PyTorch's
 * kaiming_uniform(a = sqrt 5) bound uses fan_in = (I/groups)*kh*kw. */
#include <math.h>
#include <string.h>

#include "graph/graph.h"
#include "../check.h"

/* A one-node graph on a c x 9 x 9 input. */
static nadi_graph *one(nadi_kind kind, int64_t c, const nadi_hparams *hp) {
  nadi_builder *b;
  nadi_graph *g = NULL;
  int32_t in = NADI_INPUT_NODE;
  if (nadi_builder_create(c, 9, 9, &b) != NAD_OK)
    return NULL;
  if (nadi_add_node(b, kind, &in, 1, hp, "conv", NULL) != NAD_OK) {
    nadi_builder_destroy(b);
    return NULL;
  }
  return nadi_builder_finish(b, &g) == NAD_OK ? g : NULL;
}

static void test_forms(void) {
  nadi_hparams legacy = nadi_hparams_default(), general = legacy;
  legacy.out_c = general.out_c = 4;
  legacy.k = 3, legacy.stride = 2, legacy.pad = 1;
  general.kh = general.kw = 3, general.sh = general.sw = 2;
  general.pad_t = general.pad_l = general.pad_b = general.pad_r = 1;
  for (int kind = 0; kind < 2; kind++) {
    nadi_kind k = kind ? NADI_MAXPOOL : NADI_CONV2D;
    nadi_graph *a = one(k, 2, &legacy), *b = one(k, 2, &general);
    CHECK(a && b, "kind %d: %s", kind, nad_last_error());
    if (a && b) {
      CHECK(memcmp(&a->layers[0].hp, &b->layers[0].hp, sizeof(nadi_hparams)) == 0,
            "kind %d: legacy and general forms give the same hp", kind);
      CHECK(nadi_graph_fingerprint(a) == nadi_graph_fingerprint(b), "kind %d: same fingerprint",
            kind);
      CHECK(a->layers[0].dh == 1 && a->layers[0].dw == 1 && a->layers[0].groups == 1,
            "kind %d: dilation and groups written as 1", kind);
      CHECK(strcmp(a->layers[0].desc, b->layers[0].desc) == 0, "kind %d: desc %s vs %s", kind,
            a->layers[0].desc, b->layers[0].desc);
    }
    nadi_graph_destroy(a), nadi_graph_destroy(b);
  }
  /* a general window that is not square: built, then its hp accepted again unchanged */
  nadi_hparams rect = general;
  rect.kh = 1, rect.kw = 7, rect.pad_t = rect.pad_b = 0, rect.pad_l = rect.pad_r = 3;
  rect.sh = 1, rect.groups = 2, rect.dh = 2;
  nadi_graph *a = one(NADI_CONV2D, 4, &rect);
  CHECK(a != NULL, "1x7: %s", nad_last_error());
  if (!a)
    return;
  nadi_hparams again = a->layers[0].hp;
  CHECK(again.k == 0 && again.stride == 0 && again.pad == 0, "1x7: no legacy fields made up");
  CHECK(strcmp(a->layers[0].desc, "conv2d 4->4 k1x7 s1x2 p0,3,0,3 g2 d2x1 nobias") == 0, "desc %s",
        a->layers[0].desc);
  nadi_graph *b = one(NADI_CONV2D, 4, &again);
  CHECK(b && memcmp(&b->layers[0].hp, &again, sizeof again) == 0, "1x7: replayed hp unchanged");
  nadi_graph_destroy(a), nadi_graph_destroy(b);
}

/* max |w| and max |bias| of a conv's initial parameters against 1/sqrt(fan_in). */
static void test_init(int64_t c, int64_t o, int64_t groups, int64_t kh, int64_t kw) {
  nadi_hparams hp = nadi_hparams_default();
  hp.out_c = o, hp.kh = kh, hp.kw = kw, hp.sh = hp.sw = 1, hp.groups = groups, hp.bias = 1;
  nadi_graph *g = one(NADI_CONV2D, c, &hp);
  CHECK(g != NULL, "init: %s", nad_last_error());
  if (!g)
    return;
  int64_t fan_in = c / groups * kh * kw, n_w = o * fan_in;
  CHECK(g->n_params == n_w + o, "groups %lld: %lld parameters", (long long)groups,
        (long long)g->n_params);
  float *p = nadi_alloc((size_t)g->n_params, sizeof(float));
  nadi_rng r;
  nadi_rng_init(&r, 5, 0);
  nadi_graph_init_params(g, p, &r);
  double bound = 1.0 / sqrt((double)fan_in), mw = 0, mb = 0;
  for (int64_t i = 0; i < n_w; i++)
    mw = fmax(mw, fabs(p[i]));
  for (int64_t i = 0; i < o; i++)
    mb = fmax(mb, fabs(p[n_w + i]));
  /* n_w >= 288 uniform draws: the largest is within 3 % of the bound (P(miss) < 1e-3) */
  CHECK(mw <= bound && mw >= 0.97 * bound, "groups %lld: max |w| %.4f, bound %.4f",
        (long long)groups, mw, bound);
  CHECK(mb <= bound, "groups %lld: max |bias| %.4f, bound %.4f", (long long)groups, mb, bound);
  nadi_free(p);
  nadi_graph_destroy(g);
}

int main(void) {
  test_forms();
  test_init(16, 32, 16, 3, 3); /* depthwise x2: fan_in 9 */
  test_init(8, 64, 2, 3, 3);   /* fan_in 36 */
  test_init(6, 96, 1, 1, 7);   /* fan_in 42 */
  return check_summary();
}
