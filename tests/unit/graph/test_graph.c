/* White-box tests of lib/graph: builder shapes and errors, parameter layout, FLOPs, the
 * built-in architectures, the spec parser (including a fuzz loop) and the initialisation laws.
 * Parameter counts are compared with PyTorch by test_torch_params.py; here we check closed
 * forms and well-known published counts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "../check.h"



/* Internal consistency every finished graph must satisfy. Returns 1 if all hold. */
static int graph_consistent(const nadi_graph *g, const char *what) {
  int ok = 1;
  int64_t off = 0, trainable = 0, flops = 0, t = 0;
  for (int64_t i = 0; i < g->n_layers && ok; i++) {
    const nadi_layer *l = &g->layers[i];
    for (int j = 0; j < l->n_in; j++) {
      if (!(l->in[j] == NADI_INPUT_NODE || (l->in[j] >= 0 && l->in[j] < i))) {
        printf("  %s: layer %lld input %d = %d not an earlier node\n", what, (long long)i, j,
               l->in[j]);
        ok = 0;
      }
      const int64_t *ps = l->in[j] == NADI_INPUT_NODE ? g->in_shape : g->layers[l->in[j]].out_shape;
      if (memcmp(ps, l->in_shape[j], sizeof l->in_shape[j]) != 0) {
        printf("  %s: layer %lld in_shape[%d] differs from its producer\n", what, (long long)i, j);
        ok = 0;
      }
    }
    for (int d = 0; d < 3; d++)
      if (l->out_shape[d] < 1) {
        printf("  %s: layer %lld has output dim %lld\n", what, (long long)i,
               (long long)l->out_shape[d]);
        ok = 0;
      }
    if (l->param_off != off) {
      printf("  %s: layer %lld param_off %lld, expected %lld\n", what, (long long)i,
             (long long)l->param_off, (long long)off);
      ok = 0;
    }
    int64_t sum = 0;
    while (t < g->n_tensors && g->tensors[t].offset < l->param_off + l->n_params) {
      if (g->tensors[t].offset != off + sum) {
        printf("  %s: tensor %s not contiguous\n", what, g->tensors[t].name);
        ok = 0;
      }
      sum += g->tensors[t].numel;
      if (g->tensors[t].trainable)
        trainable += g->tensors[t].numel;
      t++;
    }
    if (sum != l->n_params) {
      printf("  %s: layer %lld tensors sum to %lld, n_params %lld\n", what, (long long)i,
             (long long)sum, (long long)l->n_params);
      ok = 0;
    }
    off += l->n_params;
    flops += nadi_layer_flops(l);
  }
  if (ok && (t != g->n_tensors || off != g->n_params || trainable != g->n_trainable ||
             flops != g->flops)) {
    printf("  %s: totals differ (tensors %lld/%lld params %lld/%lld trainable %lld/%lld flops "
           "%lld/%lld)\n",
           what, (long long)t, (long long)g->n_tensors, (long long)off, (long long)g->n_params,
           (long long)trainable, (long long)g->n_trainable, (long long)flops,
           (long long)g->flops);
    ok = 0;
  }
  for (int64_t a = 0; a < g->n_tensors && ok; a++)
    for (int64_t b = a + 1; b < g->n_tensors; b++)
      if (strcmp(g->tensors[a].name, g->tensors[b].name) == 0) {
        printf("  %s: duplicate tensor name %s\n", what, g->tensors[a].name);
        ok = 0;
        break;
      }
  return ok;
}

static const int64_t *out_shape(const nadi_graph *g) {
  return g->layers[g->n_layers - 1].out_shape;
}

/* ---- builder ----------------------------------------------------------------------------- */

static void test_builder_shapes(void) {
  nadi_builder *b;
  int32_t n0 = -7, n1 = -7, n2, n3, n4, n5, n6, n7, n8;
  CHECK(nadi_builder_create(3, 7, 9, &b) == NAD_OK, "create");
  CHECK(nadi_builder_last(b) == NADI_INPUT_NODE, "last of empty builder");
  /* conv: (H + 2p - k)/s + 1 = (7+2-3)/2+1 = 4, (9+2-3)/2+1 = 5 */
  CHECK(nadi_add_conv(b, NADI_INPUT_NODE, 4, 3, 2, 1, 1, NADI_INIT_TORCH, "a", &n0) == NAD_OK,
        "conv");
  CHECK(n0 == 0 && nadi_builder_last(b) == 0, "node index %d", n0);
  /* maxpool k3 s2 on 4x5, floor mode: (4-3)/2+1 = 1, (5-3)/2+1 = 2 */
  CHECK(nadi_add_pool(b, n0, NADI_MAXPOOL, 3, 2, &n1) == NAD_OK, "pool");
  CHECK(nadi_add_conv(b, NADI_INPUT_NODE, 5, 2, 3, 0, 0, NADI_INIT_VGG_CONV, NULL, &n2) == NAD_OK,
        "conv 2");
  /* (7-2)/3+1 = 2, (9-2)/3+1 = 3 */
  CHECK(nadi_add_join(b, NADI_CONCAT, NADI_INPUT_NODE, NADI_INPUT_NODE, &n3) == NAD_OK, "concat");
  CHECK(nadi_add_simple(b, n3, NADI_GAP, &n4) == NAD_OK, "gap");
  CHECK(nadi_add_simple(b, n2, NADI_FLATTEN, &n5) == NAD_OK, "flatten");
  CHECK(nadi_add_batchnorm(b, n2, "bn", &n6) == NAD_OK, "bn");
  CHECK(nadi_add_dropout(b, n6, 0.25, &n7) == NAD_OK, "dropout");
  CHECK(nadi_add_linear(b, n7, 11, 1, "fc", &n8) == NAD_OK, "linear");
  nadi_graph *g = NULL;
  CHECK(nadi_builder_finish(b, &g) == NAD_OK && g, "finish: %s", nad_last_error());
  if (!g)
    return;
  CHECK(graph_consistent(g, "shapes graph"), "consistent");
  const nadi_layer *L = g->layers;
  int64_t want[9][3] = {{4, 4, 5}, {4, 1, 2}, {5, 2, 3}, {6, 7, 9}, {6, 1, 1},
                        {30, 1, 1}, {5, 2, 3}, {5, 2, 3}, {11, 1, 1}};
  for (int i = 0; i < 9; i++)
    CHECK(memcmp(L[i].out_shape, want[i], sizeof want[i]) == 0,
          "layer %d shape %lldx%lldx%lld, want %lldx%lldx%lld", i, (long long)L[i].out_shape[0],
          (long long)L[i].out_shape[1], (long long)L[i].out_shape[2], (long long)want[i][0],
          (long long)want[i][1], (long long)want[i][2]);
  const char *desc[9] = {"conv2d 3->4 k3 s2 p1", "maxpool k3 s2", "conv2d 3->5 k2 s3 p0 nobias",
                         "concat", "gap", "flatten", "batchnorm 5", "dropout 0.25",
                         "linear 30->11"};
  for (int i = 0; i < 9; i++)
    CHECK(strcmp(L[i].desc, desc[i]) == 0, "desc %d '%s' want '%s'", i, L[i].desc, desc[i]);
  CHECK(L[3].n_in == 2 && L[3].in[0] == -1 && L[3].in[1] == -1, "concat inputs");
  CHECK(L[0].eps == 1e-5 && L[6].eps == 1e-5 && L[6].momentum == 0.1 && L[7].p == 0.25,
        "bn/dropout hyper-parameters");
  CHECK(L[2].init == NADI_INIT_VGG_CONV && L[0].init == NADI_INIT_TORCH && L[2].bias == 0 &&
            L[0].bias == 1,
        "init/bias fields");
  CHECK(strcmp(L[2].prefix, "2") == 0, "default prefix is node index, got '%s'", L[2].prefix);
  /* params: conv a 4*3*9+4 = 112; conv 2: 5*3*4 = 60; bn 4*5 = 20; fc 11*30+11 = 341 */
  CHECK(L[0].n_params == 112 && L[2].n_params == 60 && L[6].n_params == 20 &&
            L[8].n_params == 341,
        "layer params %lld %lld %lld %lld", (long long)L[0].n_params, (long long)L[2].n_params,
        (long long)L[6].n_params, (long long)L[8].n_params);
  CHECK(g->n_params == 533 && g->n_trainable == 523, "totals %lld %lld", (long long)g->n_params,
        (long long)g->n_trainable);
  CHECK(g->n_tensors == 9, "tensor count %lld", (long long)g->n_tensors);
  const char *names[9] = {"a.weight",        "a.bias",         "2.weight",
                          "bn.weight",       "bn.bias",        "bn.running_mean",
                          "bn.running_var",  "fc.weight",      "fc.bias"};
  for (int i = 0; i < 9 && i < g->n_tensors; i++)
    CHECK(strcmp(g->tensors[i].name, names[i]) == 0, "tensor %d '%s' want '%s'", i,
          g->tensors[i].name, names[i]);
  CHECK(g->tensors[5].trainable == 0 && g->tensors[6].trainable == 0 &&
            g->tensors[3].trainable == 1 && g->tensors[5].offset == 112 + 60 + 10,
        "bn tensor flags/offset");
  /* FLOPs per the documented convention */
  int64_t fl[9] = {2 * 80 * 27 + 80, 8 * 8, 2 * 30 * 12, 0, 6 * 63, 0, 2 * 30, 0, 2 * 11 * 30 + 11};
  int64_t total = 0;
  for (int i = 0; i < 9; i++) {
    CHECK(nadi_layer_flops(&L[i]) == fl[i], "flops layer %d: %lld want %lld", i,
          (long long)nadi_layer_flops(&L[i]), (long long)fl[i]);
    total += fl[i];
  }
  CHECK(g->flops == total, "total flops %lld want %lld", (long long)g->flops, (long long)total);
  nadi_graph_destroy(g);
}

static void expect_build_error(nad_status st, nad_status want, const char *substr,
                               const char *what) {
  CHECK(st == want, "%s: status %d want %d (%s)", what, st, want, nad_last_error());
  if (substr)
    CHECK(strstr(nad_last_error(), substr) != NULL, "%s: message '%s' lacks '%s'", what,
          nad_last_error(), substr);
}

static void test_builder_errors(void) {
  nadi_builder *b = (nadi_builder *)1;
  CHECK(nadi_builder_create(0, 4, 4, &b) == NAD_ERR_INVALID_ARG && b == NULL, "c = 0");
  CHECK(nadi_builder_create(1, -1, 4, &b) == NAD_ERR_INVALID_ARG, "h < 0");
  CHECK(nadi_builder_create(1, 4, (int64_t)1 << 40, &b) == NAD_ERR_INVALID_ARG, "w huge");
  CHECK(nadi_builder_create(1, 2, 2, NULL) == NAD_ERR_INVALID_ARG, "NULL out");

  CHECK(nadi_builder_create(2, 6, 6, &b) == NAD_OK, "create");
  int32_t n = 99;
  expect_build_error(nadi_add_conv(b, -1, 4, 7, 1, 0, 1, NADI_INIT_TORCH, "c", &n), NAD_ERR_SHAPE,
                     "layer 0 (conv2d 2->4 k7 s1 p0): input 2x6x6 is too small for kernel 7",
                     "conv too big");
  CHECK(n == 99 && nadi_builder_last(b) == NADI_INPUT_NODE, "failed add leaves builder as is");
  CHECK(nadi_add_conv(b, -1, 4, 7, 1, 1, 1, NADI_INIT_TORCH, "c", &n) == NAD_OK,
        "k7 p1 on 6 fits: %s", nad_last_error());
  expect_build_error(nadi_add_conv(b, 5, 4, 3, 1, 0, 1, NADI_INIT_TORCH, NULL, NULL),
                     NAD_ERR_INVALID_ARG, "input node 5 does not exist", "bad input node");
  expect_build_error(nadi_add_conv(b, -2, 4, 3, 1, 0, 1, NADI_INIT_TORCH, NULL, NULL),
                     NAD_ERR_INVALID_ARG, NULL, "input -2");
  expect_build_error(nadi_add_conv(b, 0, 0, 3, 1, 0, 1, NADI_INIT_TORCH, NULL, NULL),
                     NAD_ERR_INVALID_ARG, NULL, "0 channels");
  expect_build_error(nadi_add_conv(b, 0, 2, 3, 0, 0, 1, NADI_INIT_TORCH, NULL, NULL),
                     NAD_ERR_INVALID_ARG, NULL, "stride 0");
  expect_build_error(nadi_add_conv(b, 0, 2, 3, 1, -1, 1, NADI_INIT_TORCH, NULL, NULL),
                     NAD_ERR_INVALID_ARG, NULL, "pad -1");
  expect_build_error(nadi_add_conv(b, 0, 2, 3, 1, 0, 1, (nadi_init_rule)99, NULL, NULL),
                     NAD_ERR_INVALID_ARG, NULL, "init rule");
  expect_build_error(nadi_add_conv(b, 0, 2, 1, 1, 0, 1, NADI_INIT_NORMAL_002, NULL, NULL),
                     NAD_ERR_INVALID_ARG, "unknown init rule 9", "tensor rule on a conv");
  expect_build_error(nadi_add_pool(b, 0, NADI_MAXPOOL, 3, 1, NULL), NAD_ERR_SHAPE,
                     "layer 1 (maxpool k3 s1): input 4x2x2 is too small for kernel 3",
                     "pool too big");
  expect_build_error(nadi_add_pool(b, 0, NADI_RELU, 1, 1, NULL), NAD_ERR_INVALID_ARG, NULL,
                     "pool kind");
  expect_build_error(nadi_add_simple(b, 0, NADI_CONV2D, NULL), NAD_ERR_INVALID_ARG, NULL,
                     "simple kind");
  expect_build_error(nadi_add_dropout(b, 0, 1.0, NULL), NAD_ERR_INVALID_ARG, NULL, "p = 1");
  expect_build_error(nadi_add_dropout(b, 0, -0.1, NULL), NAD_ERR_INVALID_ARG, NULL, "p < 0");
  expect_build_error(nadi_add_linear(b, 0, 0, 1, NULL, NULL), NAD_ERR_INVALID_ARG, NULL, "fc 0");
  expect_build_error(nadi_add_join(b, NADI_ADD, 0, -1, NULL), NAD_ERR_SHAPE,
                     "layer 1 (add): input shapes differ: 4x2x2 (node 0) vs 2x6x6 (node -1)",
                     "add mismatch");
  expect_build_error(nadi_add_join(b, NADI_CONCAT, 0, -1, NULL), NAD_ERR_SHAPE,
                     "spatial sizes differ", "concat mismatch");
  expect_build_error(nadi_add_join(b, NADI_RELU, 0, 0, NULL), NAD_ERR_INVALID_ARG, NULL,
                     "join kind");
  char longname[120];
  memset(longname, 'x', sizeof longname - 1);
  longname[119] = 0;
  expect_build_error(nadi_add_batchnorm(b, 0, longname, NULL), NAD_ERR_INVALID_ARG, "prefix",
                     "long prefix");
  CHECK(nadi_add_join(b, NADI_CONCAT, 0, 0, NULL) == NAD_OK, "concat with itself");
  nadi_graph *g = NULL;
  CHECK(nadi_builder_finish(b, &g) == NAD_OK && g->n_layers == 2, "finish after errors");
  nadi_graph_destroy(g);

  /* empty graph */
  CHECK(nadi_builder_create(1, 2, 2, &b) == NAD_OK, "create");
  g = (nadi_graph *)1;
  expect_build_error(nadi_builder_finish(b, &g), NAD_ERR_INVALID_ARG, "no layers", "empty");
  CHECK(g == NULL, "finish failure sets NULL");
  nadi_builder_destroy(NULL);
  nadi_graph_destroy(NULL);
  CHECK(nadi_builder_finish(NULL, &g) == NAD_ERR_INVALID_ARG, "finish NULL");

  /* BLAS dimensions must fit in int (checked when the layer is added, again in finish) */
  CHECK(nadi_builder_create(1, 65536, 65536, &b) == NAD_OK, "create big");
  expect_build_error(nadi_add_linear(b, -1, 1, 1, "fc", NULL), NAD_ERR_UNSUPPORTED,
                     "layer 0 (linear 4294967296->1): in_features = 4294967296 does not fit",
                     "linear in_features > INT_MAX");
  expect_build_error(nadi_add_conv(b, -1, 1, 1, 1, 0, 0, NADI_INIT_TORCH, NULL, NULL),
                     NAD_ERR_UNSUPPORTED, "output height*width = 4294967296",
                     "conv OH*OW > INT_MAX");
  nadi_builder_destroy(b);
  CHECK(nadi_builder_create(1 << 28, 3, 3, &b) == NAD_OK, "create deep");
  expect_build_error(nadi_add_conv(b, -1, 1, 3, 1, 0, 0, NADI_INIT_TORCH, NULL, NULL),
                     NAD_ERR_UNSUPPORTED, "in_channels*k*k = 2415919104", "conv in*k*k > INT_MAX");
  nadi_builder_destroy(b);
  /* just below the limits is fine */
  CHECK(nadi_builder_create(1, 32768, 65535, &b) == NAD_OK, "create");
  CHECK(nadi_add_linear(b, -1, 1, 1, "fc", NULL) == NAD_OK, "linear");
  CHECK(nadi_builder_finish(b, &g) == NAD_OK, "2147450880 in_features fit: %s",
        nad_last_error());
  nadi_graph_destroy(g);

  /* sizes that overflow int64: repeated channel doubling */
  CHECK(nadi_builder_create(1 << 20, 1 << 10, 1 << 10, &b) == NAD_OK, "create");
  nad_status st = NAD_OK;
  int32_t cur = NADI_INPUT_NODE;
  for (int i = 0; i < 80 && st == NAD_OK; i++)
    st = nadi_add_join(b, NADI_CONCAT, cur, cur, &cur);
  expect_build_error(st, NAD_ERR_OUT_OF_MEMORY, "overflows", "channel doubling overflow");
  nadi_builder_destroy(b);
}

/* ---- builtins ---------------------------------------------------------------------------- */

static nadi_graph *builtin(const char *name, int64_t c, int64_t h, int64_t w, int64_t k) {
  nadi_graph *g = NULL;
  nad_status st = nadi_builtin_build(name, c, h, w, k, &g);
  CHECK(st == NAD_OK, "%s %lldx%lldx%lld: %s", name, (long long)c, (long long)h, (long long)w,
        nad_last_error());
  return g;
}

static void test_builtin_list(void) {
  const char *names[] = {"logreg", "lenet", "lenet-nopool", "vgg11", "vgg11-bn",
                         "vgg11-nopool", "resnet18", "resnet18-noshortcut", "densenet121",
                         "allconv", "mobilenet-v2", "convnext", "vit"};
  int32_t n = nadi_builtin_count();
  CHECK(n == 13, "builtin count %d", n);
  for (int32_t i = 0; i < n && i < 13; i++)
    CHECK(nadi_builtin_name(i) && strcmp(nadi_builtin_name(i), names[i]) == 0, "name %d", i);
  CHECK(nadi_builtin_name(-1) == NULL && nadi_builtin_name(n) == NULL, "out of range names");
}

/* Every builtin on every shape where it fits: consistent graph ending in (k,1,1). */
static void test_builtin_shapes(void) {
  int64_t shapes[][3] = {{1, 32, 32}, {3, 32, 32}, {3, 64, 64}, {2, 40, 48}};
  for (int32_t i = 0; i < nadi_builtin_count(); i++) {
    const char *name = nadi_builtin_name(i);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      for (int64_t k = 1; k <= 10; k += 9) {
        nadi_graph *g = builtin(name, shapes[s][0], shapes[s][1], shapes[s][2], k);
        if (!g)
          continue;
        char what[96];
        snprintf(what, sizeof what, "%s %lldx%lldx%lld", name, (long long)shapes[s][0],
                 (long long)shapes[s][1], (long long)shapes[s][2]);
        CHECK(graph_consistent(g, what), "%s consistent", what);
        const int64_t *o = out_shape(g);
        CHECK(o[0] == k && o[1] == 1 && o[2] == 1, "%s output %lldx%lldx%lld", what,
              (long long)o[0], (long long)o[1], (long long)o[2]);
        CHECK(memcmp(g->in_shape, shapes[s], sizeof shapes[s]) == 0, "%s in_shape", what);
        nadi_graph_destroy(g);
      }
    }
  }
}

static void test_lenet_exact(void) {
  nadi_graph *g = builtin("lenet", 1, 32, 32, 1);
  if (!g)
    return;
  const char *desc[] = {"conv2d 1->6 k5 s1 p0", "relu", "maxpool k2 s2", "conv2d 6->16 k5 s1 p0",
                        "relu", "maxpool k2 s2", "linear 400->120", "relu", "linear 120->84",
                        "relu", "linear 84->1"};
  int64_t shp[][3] = {{6, 28, 28}, {6, 28, 28}, {6, 14, 14}, {16, 10, 10}, {16, 10, 10},
                      {16, 5, 5},  {120, 1, 1}, {120, 1, 1}, {84, 1, 1},   {84, 1, 1},
                      {1, 1, 1}};
  CHECK(g->n_layers == 11, "lenet layers %lld", (long long)g->n_layers);
  for (int i = 0; i < 11 && i < g->n_layers; i++) {
    CHECK(strcmp(g->layers[i].desc, desc[i]) == 0, "lenet desc %d '%s'", i, g->layers[i].desc);
    CHECK(memcmp(g->layers[i].out_shape, shp[i], sizeof shp[i]) == 0, "lenet shape %d", i);
  }
  /* 6*25+6 + 16*150+16 + 400*120+120 + 120*84+84 + 84+1 */
  CHECK(g->n_params == 60941 && g->n_trainable == g->n_params, "lenet params %lld",
        (long long)g->n_params);
  const char *tn[] = {"c1.weight", "c1.bias", "c2.weight", "c2.bias", "f1.weight",
                      "f1.bias",   "f2.weight", "f2.bias", "f3.weight", "f3.bias"};
  int64_t tnum[] = {150, 6, 2400, 16, 48000, 120, 10080, 84, 84, 1};
  CHECK(g->n_tensors == 10, "lenet tensors");
  for (int i = 0; i < 10 && i < g->n_tensors; i++)
    CHECK(strcmp(g->tensors[i].name, tn[i]) == 0 && g->tensors[i].numel == tnum[i],
          "lenet tensor %d %s %lld", i, g->tensors[i].name, (long long)g->tensors[i].numel);
  /* FLOPs: conv 2*O*OH*OW*I*k*k + O*OH*OW; relu 1/elt; maxpool 3/output; linear 2*O*I + O. The
   * multiply-add part alone is the reference README's 0.83 MFLOP. */
  int64_t want = (2 * 6 * 784 * 25 + 4704) + 4704 + 3 * 1176 + (2 * 16 * 100 * 150 + 1600) +
                 1600 + 3 * 400 + (2 * 400 * 120 + 120) + 120 + (2 * 120 * 84 + 84) + 84 +
                 (2 * 84 + 1);
  CHECK(g->flops == want && want == 849273, "lenet flops %lld want %lld", (long long)g->flops,
        (long long)want);
  nadi_graph_destroy(g);
}

typedef struct count_case {
  const char *name;
  int64_t c, h, w, k;
  int64_t trainable; /* from the formula in the comment, or a widely published count */
} count_case;

static void test_builtin_counts(void) {
  const count_case cases[] = {
      {"logreg", 1, 32, 32, 1, 1025},
      {"logreg", 3, 64, 64, 10, 12288 * 10 + 10},
      /* LeNet on 3x32x32 with 10 classes: the classic 62,006 */
      {"lenet", 3, 32, 32, 10, 62006},
      /* no pools: f1 takes 16*24*24 = 9216 inputs */
      {"lenet-nopool", 1, 32, 32, 1, 156 + 2416 + 9216 * 120 + 120 + 10164 + 85},
      /* allconv: lenet + d1 (6*6*4+6) + d2 (16*16*4+16) */
      {"allconv", 1, 32, 32, 1, 60941 + 150 + 1040},
      /* kuangliu/pytorch-cifar ResNet18, 3x32x32, 10 classes: 11,173,962 */
      {"resnet18", 3, 32, 32, 10, 11173962},
      /* kuangliu/pytorch-cifar DenseNet121 (growth 32), 3x32x32, 10 classes: 6,956,298 */
      {"densenet121", 3, 32, 32, 10, 6956298},
      /* no shortcut: minus the three 1x1 convs + BN (64*128+256, 128*256+512, 256*512+1024) */
      {"resnet18-noshortcut", 3, 32, 32, 10, 11173962 - 8448 - 33280 - 132096},
      /* VGG11 convs 9,220,480 (incl. biases, 3 input channels) + classifier 512*512+512 twice +
       * 512*10+10 */
      {"vgg11", 3, 32, 32, 10, 9220480 + 2 * 262656 + 5130},
      {"vgg11-bn", 3, 32, 32, 10, 9220480 + 2 * (64 + 128 + 2 * 256 + 4 * 512) + 2 * 262656 + 5130},
      {"vgg11-nopool", 1, 32, 32, 1, 9220480 - 2 * 64 * 9 + 512 * 1024 * 512 + 512 + 262656 + 513},
      /* torchvision 0.14: mobilenet_v2(num_classes=1); ConvNeXt dims (32, 64, 128, 256), depths
       * 2 each, num_classes=1; VisionTransformer(32, 4, 6, 4, 192, 768, num_classes=1) */
      {"mobilenet-v2", 3, 32, 32, 1, 2225153},
      {"convnext", 3, 32, 32, 1, 1623649},
      {"vit", 3, 32, 32, 1, 2691841},
      /* 1000 classes: torchvision's published mobilenet_v2 count */
      {"mobilenet-v2", 3, 224, 224, 1000, 3504872},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const count_case *t = &cases[i];
    nadi_graph *g = builtin(t->name, t->c, t->h, t->w, t->k);
    if (!g)
      continue;
    CHECK(g->n_trainable == t->trainable, "%s %lldx%lldx%lld k%lld: trainable %lld want %lld",
          t->name, (long long)t->c, (long long)t->h, (long long)t->w, (long long)t->k,
          (long long)g->n_trainable, (long long)t->trainable);
    nadi_graph_destroy(g);
  }
  /* Running statistics: every BN layer adds 2*C non-trainable floats. */
  nadi_graph *g = builtin("resnet18", 3, 32, 32, 10);
  if (g) {
    int64_t bn_c = 0;
    for (int64_t i = 0; i < g->n_layers; i++)
      if (g->layers[i].kind == NADI_BATCHNORM)
        bn_c += g->layers[i].out_c;
    CHECK(g->n_params == g->n_trainable + 2 * bn_c && bn_c == 4800, "resnet running stats %lld",
          (long long)bn_c);
    /* Block 2 (first strided one): a, an, relu, b, bn, sc.0, sc.1, add(bn, sc.1), relu */
    int64_t first = -1;
    for (int64_t i = 0; i < g->n_layers; i++)
      if (strcmp(g->layers[i].prefix, "blocks.2.sc.0") == 0)
        first = i;
    CHECK(first > 0 && g->layers[first].in[0] == first - 6 &&
              g->layers[first].kind == NADI_CONV2D && g->layers[first].stride == 2 &&
              g->layers[first].k == 1,
          "resnet shortcut conv at %lld", (long long)first);
    if (first > 0) {
      const nadi_layer *add = &g->layers[first + 2];
      CHECK(add->kind == NADI_ADD && add->in[0] == first - 1 && add->in[1] == first + 1,
            "resnet add inputs %d %d", add->in[0], add->in[1]);
      CHECK(strcmp(g->layers[first - 1].prefix, "blocks.2.bn") == 0, "main path before sc");
    }
    nadi_graph_destroy(g);
  }
  /* DenseNet concat order: [new channels, input] */
  g = builtin("densenet121", 1, 32, 32, 1);
  if (g) {
    const nadi_layer *cat = NULL;
    for (int64_t i = 0; i < g->n_layers && !cat; i++)
      if (g->layers[i].kind == NADI_CONCAT)
        cat = &g->layers[i];
    CHECK(cat && cat->in_shape[0][0] == 32 && cat->in_shape[1][0] == 64 &&
              cat->out_shape[0] == 96 && cat->in[1] == 0,
          "densenet first concat");
    const nadi_layer *fc = &g->layers[g->n_layers - 1];
    CHECK(strcmp(fc->desc, "linear 1024->1") == 0, "densenet fc '%s'", fc->desc);
    nadi_graph_destroy(g);
  }
  /* VGG conv init rule, classifier width at 64x64 (512*2*2) */
  g = builtin("vgg11", 3, 64, 64, 1);
  if (g) {
    int vgg_init = 1;
    for (int64_t i = 0; i < g->n_layers; i++)
      if (g->layers[i].kind == NADI_CONV2D)
        vgg_init &= g->layers[i].init == NADI_INIT_VGG_CONV;
    CHECK(vgg_init, "vgg convs use the VGG init rule");
    int found = 0;
    for (int64_t i = 0; i < g->n_layers; i++)
      found |= strcmp(g->layers[i].desc, "linear 2048->512") == 0;
    CHECK(found, "vgg11 3x64x64 classifier takes 2048 features");
    nadi_graph_destroy(g);
  }
}

static void test_builtin_errors(void) {
  nadi_graph *g = (nadi_graph *)1;
  expect_build_error(nadi_builtin_build("lenet", 1, 8, 8, 1, &g), NAD_ERR_SHAPE,
                     "lenet on a 1x8x8 input: layer 3 (conv2d 6->16 k5 s1 p0): input 6x2x2 is "
                     "too small for kernel 5",
                     "lenet 1x8x8");
  CHECK(g == NULL, "failure sets NULL");
  expect_build_error(nadi_builtin_build("resnet18", 1, 16, 16, 1, &g), NAD_ERR_SHAPE,
                     "(avgpool k4 s4): input 512x2x2 is too small for kernel 4", "resnet 16x16");
  expect_build_error(nadi_builtin_build("densenet121", 3, 16, 16, 1, &g), NAD_ERR_SHAPE,
                     "avgpool k4 s4", "densenet 16x16");
  expect_build_error(nadi_builtin_build("vgg11", 1, 16, 16, 1, &g), NAD_ERR_SHAPE,
                     "maxpool k2 s2): input 512x1x1", "vgg 16x16");
  expect_build_error(nadi_builtin_build("lenet-nopool", 1, 8, 8, 1, &g), NAD_ERR_SHAPE,
                     "conv2d 6->16 k5", "lenet-nopool 8x8");
  expect_build_error(nadi_builtin_build("allconv", 1, 12, 12, 1, &g), NAD_ERR_SHAPE, "conv2d",
                     "allconv 12x12");
  expect_build_error(nadi_builtin_build("lenet5", 1, 32, 32, 1, &g), NAD_ERR_PARSE,
                     "unknown architecture 'lenet5' (built-ins: logreg, lenet,", "unknown name");
  expect_build_error(nadi_builtin_build(NULL, 1, 32, 32, 1, &g), NAD_ERR_INVALID_ARG, NULL,
                     "NULL name");
  expect_build_error(nadi_builtin_build("lenet", 1, 32, 32, 0, &g), NAD_ERR_INVALID_ARG,
                     "outputs", "0 outputs");
  expect_build_error(nadi_builtin_build("lenet", 0, 32, 32, 1, &g), NAD_ERR_INVALID_ARG, NULL,
                     "0 channels");
  CHECK(nadi_builtin_build("lenet", 1, 32, 32, 1, NULL) == NAD_ERR_INVALID_ARG, "NULL out");
  /* smallest inputs that fit */
  g = builtin("lenet", 1, 16, 16, 1); /* 16 -> 12 -> 6 -> 2 -> 1 */
  nadi_graph_destroy(g);
  g = builtin("resnet18", 1, 25, 25, 1); /* 25 -> 13 -> 7 -> 4 */
  nadi_graph_destroy(g);
  expect_build_error(nadi_builtin_build("resnet18", 1, 24, 24, 1, &g), NAD_ERR_SHAPE, NULL,
                     "resnet 24 -> 3");
}

/* ---- spec -------------------------------------------------------------------------------- */

static const char *LENET_SPEC =
    "conv 6 k5; relu; maxpool 2; conv 16 k5; relu; maxpool 2; fc 120; relu; fc 84; relu; fc 1";

static void test_spec_equals_builtin(void) {
  int64_t shapes[][3] = {{1, 32, 32}, {3, 40, 36}};
  for (int s = 0; s < 2; s++) {
    nadi_graph *a = builtin("lenet", shapes[s][0], shapes[s][1], shapes[s][2], 1), *b = NULL;
    CHECK(nadi_spec_build(LENET_SPEC, shapes[s][0], shapes[s][1], shapes[s][2], &b) == NAD_OK,
          "lenet spec: %s", nad_last_error());
    if (!a || !b)
      continue;
    CHECK(a->n_layers == b->n_layers && a->n_params == b->n_params &&
              a->n_trainable == b->n_trainable && a->flops == b->flops &&
              a->n_tensors == b->n_tensors,
          "lenet spec totals");
    for (int64_t i = 0; i < a->n_layers && i < b->n_layers; i++) {
      const nadi_layer *x = &a->layers[i], *y = &b->layers[i];
      CHECK(x->kind == y->kind && strcmp(x->desc, y->desc) == 0 &&
                memcmp(x->out_shape, y->out_shape, sizeof x->out_shape) == 0 &&
                x->param_off == y->param_off && x->n_params == y->n_params &&
                x->in[0] == y->in[0] && x->bias == y->bias && x->init == y->init,
            "lenet spec layer %lld: '%s' vs '%s'", (long long)i, x->desc, y->desc);
    }
    CHECK(graph_consistent(b, "lenet spec"), "consistent");
    if (b->n_tensors == 10)
      CHECK(strcmp(b->tensors[0].name, "0.weight") == 0 &&
                strcmp(b->tensors[9].name, "10.bias") == 0,
            "spec tensor names %s %s", b->tensors[0].name, b->tensors[9].name);
    nadi_graph_destroy(a);
    nadi_graph_destroy(b);
  }
}

/* The spec language writes issue 17's built-ins: the same layers, shapes, hyper-parameters
 * (but the init rules of the plain layers: a spec's conv and fc take PyTorch's defaults) and
 * parameter layout. The specs are the ones the README shows. */
#define INVRES_X3(c, s) "invres " #c " t6 " s "; invres " #c " t6; invres " #c " t6; "
static const char *const MOBILENET_SPEC =
    "conv 32 k3 s2 p1 nobias; bn; relu6; invres 16 t1; invres 24 t6 s2; invres 24 t6; "
    INVRES_X3(32, "s2") "invres 64 t6 s2; " INVRES_X3(64, "s1") INVRES_X3(96, "s1")
    INVRES_X3(160, "s2") "invres 320 t6; conv 1280 k1 nobias; bn; relu6; gap; dropout 0.2; fc 1";
static const char *const CONVNEXT_SPEC =
    "conv 32 k4 s4; layernorm; cnblock; cnblock; layernorm; conv 64 k2 s2; cnblock; cnblock; "
    "layernorm; conv 128 k2 s2; cnblock; cnblock; layernorm; conv 256 k2 s2; cnblock; cnblock; "
    "gap; layernorm; fc 1";
static const char *const VIT_SPEC =
    "embed 192 p4; encoder 4 768; encoder 4 768; encoder 4 768; encoder 4 768; encoder 4 768; "
    "encoder 4 768; layernorm; cls; fc 1";

static void test_spec_writes_modern_builtins(void) {
  const char *names[3] = {"mobilenet-v2", "convnext", "vit"};
  const char *specs[3] = {MOBILENET_SPEC, CONVNEXT_SPEC, VIT_SPEC};
  for (int a = 0; a < 3; a++) {
    nadi_graph *g = builtin(names[a], 3, 32, 32, 1), *s = NULL;
    CHECK(nadi_spec_build(specs[a], 3, 32, 32, &s) == NAD_OK, "%s spec: %s", names[a],
          nad_last_error());
    if (!g || !s) {
      nadi_graph_destroy(g);
      nadi_graph_destroy(s);
      continue;
    }
    CHECK(g->n_layers == s->n_layers && g->n_params == s->n_params && g->flops == s->flops,
          "%s: spec %lld layers, %lld params; built-in %lld, %lld", names[a],
          (long long)s->n_layers, (long long)s->n_params, (long long)g->n_layers,
          (long long)g->n_params);
    int same = g->n_layers == s->n_layers;
    for (int64_t i = 0; same && i < g->n_layers; i++) {
      nadi_layer x = g->layers[i], y = s->layers[i];
      x.init = y.init = 0;
      same = x.kind == y.kind && x.n_in == y.n_in && memcmp(x.in, y.in, sizeof x.in) == 0 &&
             memcmp(&x.out_dims, &y.out_dims, sizeof x.out_dims) == 0 &&
             memcmp(&x.hp, &y.hp, sizeof x.hp) == 0 && x.param_off == y.param_off &&
             strcmp(x.desc, y.desc) == 0;
      CHECK(same, "%s layer %lld: '%s' vs spec '%s'", names[a], (long long)i, x.desc, y.desc);
    }
    /* the blocks keep torchvision's names under the item's index */
    if (a == 2)
      CHECK(strcmp(s->tensors[0].name, "0.class_token") == 0 &&
                strcmp(s->tensors[4].name, "1.ln_1.weight") == 0 &&
                strcmp(s->tensors[6].name, "1.self_attention.in_proj_weight") == 0 &&
                strcmp(g->tensors[7].name,
                       "encoder.layers.encoder_layer_0.self_attention.in_proj_bias") == 0,
            "vit names %s %s %s %s", s->tensors[0].name, s->tensors[4].name, s->tensors[6].name,
            g->tensors[7].name);
    nadi_graph_destroy(g);
    nadi_graph_destroy(s);
  }
}

static void test_spec_blocks(void) {
  nadi_graph *g = NULL;
  const char *res = "conv 16 k3 p1 nobias; bn; relu;"
                    "residual { conv 32 k3 s2 p1 nobias; bn; relu; conv 32 k3 p1 nobias; bn }"
                    " shortcut { conv 32 k1 s2 nobias; bn }; relu;"
                    "residual { conv 32 k3 p1; relu }; gap; fc 10";
  CHECK(nadi_spec_build(res, 3, 16, 16, &g) == NAD_OK, "resnet spec: %s", nad_last_error());
  if (g) {
    CHECK(graph_consistent(g, "res spec"), "consistent");
    /* nodes: 0 conv 1 bn 2 relu | 3 conv 4 bn 5 relu 6 conv 7 bn | 8 conv 9 bn | 10 add
     * 11 relu | 12 conv 13 relu 14 add | 15 gap 16 fc */
    CHECK(g->n_layers == 17, "layers %lld", (long long)g->n_layers);
    if (g->n_layers == 17) {
      const nadi_layer *L = g->layers;
      CHECK(L[3].in[0] == 2 && L[8].in[0] == 2 && L[10].kind == NADI_ADD && L[10].in[0] == 7 &&
                L[10].in[1] == 9,
            "first residual wiring");
      CHECK(L[14].kind == NADI_ADD && L[14].in[0] == 13 && L[14].in[1] == 11,
            "identity shortcut wiring");
      CHECK(L[10].out_shape[0] == 32 && L[10].out_shape[1] == 8, "residual shape");
      CHECK(strcmp(L[3].prefix, "3.body.0") == 0 && strcmp(L[8].prefix, "3.shortcut.0") == 0 &&
                strcmp(L[16].prefix, "7") == 0,
            "names %s %s %s", L[3].prefix, L[8].prefix, L[16].prefix);
      CHECK(L[0].bias == 0 && L[12].bias == 1 && L[3].stride == 2 && L[3].pad == 1,
            "conv options");
      CHECK(strcmp(L[16].desc, "linear 32->10") == 0, "fc desc %s", L[16].desc);
    }
    nadi_graph_destroy(g);
  }
  /* dense: concat(body(x), x); options in any order; dropout default; trailing ';' */
  const char *dense = "  dense{bn;relu;conv 8 p1 nobias k3};dense { conv 4 s1 k3 p1 } ;"
                      "dropout; dropout .25;dropout 0 ; flatten;avgpool 1 s1;maxpool 1;";
  CHECK(nadi_spec_build(dense, 2, 5, 5, &g) == NAD_OK, "dense spec: %s", nad_last_error());
  if (g) {
    CHECK(graph_consistent(g, "dense spec"), "consistent");
    const nadi_layer *L = g->layers;
    /* 0 bn 1 relu 2 conv 3 concat | 4 conv 5 concat | 6-8 dropout 9 flatten 10 avgpool
     * 11 maxpool */
    CHECK(g->n_layers == 12, "layers %lld", (long long)g->n_layers);
    if (g->n_layers == 12) {
      CHECK(L[3].kind == NADI_CONCAT && L[3].in[0] == 2 && L[3].in[1] == -1 &&
                L[3].out_shape[0] == 10,
            "dense 1");
      CHECK(L[2].k == 3 && L[2].pad == 1 && L[2].stride == 1 && L[2].bias == 0 &&
                L[4].bias == 1 && L[4].out_c == 4,
            "conv options in any order");
      CHECK(L[5].kind == NADI_CONCAT && L[5].in[0] == 4 && L[5].in[1] == 3 &&
                L[5].out_shape[0] == 14,
            "dense 2");
      CHECK(L[6].p == 0.5 && L[7].p == 0.25 && L[8].p == 0.0, "dropout p %g %g %g", L[6].p,
            L[7].p, L[8].p);
      CHECK(L[9].kind == NADI_FLATTEN && L[9].out_shape[0] == 350, "flatten");
      CHECK(L[10].kind == NADI_AVGPOOL && L[10].k == 1 && L[10].stride == 1, "avgpool");
    }
    nadi_graph_destroy(g);
  }
  /* default pool stride = K */
  CHECK(nadi_spec_build("maxpool 3; avgpool 2 s1", 1, 9, 9, &g) == NAD_OK, "pools");
  if (g) {
    CHECK(g->layers[0].stride == 3 && g->layers[0].out_shape[1] == 3 &&
              g->layers[1].out_shape[1] == 2,
          "pool strides");
    nadi_graph_destroy(g);
  }
  /* nesting up to the limit works */
  char deep[512] = "";
  for (int i = 0; i < 16; i++)
    strcat(deep, "residual{");
  strcat(deep, "relu");
  for (int i = 0; i < 16; i++)
    strcat(deep, "}");
  CHECK(nadi_spec_build(deep, 1, 2, 2, &g) == NAD_OK && g->n_layers == 17, "16 nested: %s",
        nad_last_error());
  nadi_graph_destroy(g);
}

typedef struct err_case {
  const char *spec;
  nad_status st;
  const char *msg; /* expected substring (the start, "spec:COL: ...") */
} err_case;

static void test_spec_errors(void) {
  const err_case cases[] = {
      {"", NAD_ERR_PARSE, "spec:1: expected a layer (conv, maxpool"},
      {"   ", NAD_ERR_PARSE, "spec:4: expected a layer (conv,"},
      {";", NAD_ERR_PARSE, "spec:1: expected a layer (conv, maxpool, avgpool, relu, bn, dropout, "
                           "flatten, gap, fc, residual, dense, dwconv, relu6, gelu, hardswish, "
                           "silu, sigmoid, tanh, layernorm, invres, cnblock, embed, encoder, "
                           "cls), found ';'"},
      {"conv", NAD_ERR_PARSE,
       "spec:5: expected a number of output channels (integer >= 1), found end of spec"},
      {"conv 6", NAD_ERR_PARSE, "spec:7: expected a kernel size 'kK', found end of spec"},
      {"conv 6 s2", NAD_ERR_PARSE, "spec:10: expected a kernel size 'kK', found end of spec"},
      {"conv 6 k0", NAD_ERR_PARSE, "spec:8: expected a kernel size 'kK' with K >= 1, found 'k0'"},
      {"conv 6 k5 k3", NAD_ERR_PARSE, "spec:11: expected each of kK, sS, pP, gG at most once, found 'k3'"},
      /* issue 17's items */
      {"conv 6 k3 g0", NAD_ERR_PARSE, "spec:11: expected a number of groups 'gG' with G >= 1, found 'g0'"},
      {"conv 6 k3 g4", NAD_ERR_INVALID_ARG, "spec:1: layer 0 (conv2d 1->6 k3 s1 p0 g4"},
      {"conv 6 k3 g2 g2", NAD_ERR_PARSE, "spec:14: expected each of kK, sS, pP, gG at most once"},
      {"dwconv 3 k3", NAD_ERR_PARSE, "spec:8: expected a kernel size 'kK', found '3'"},
      {"dwconv k3 g2", NAD_ERR_PARSE, "spec:11: expected ';' or end of spec, found 'g2'"},
      {"relu6 2", NAD_ERR_PARSE, "spec:7: expected ';' or end of spec, found '2'"},
      {"invres", NAD_ERR_PARSE, "spec:7: expected a number of output channels (integer >= 1), "
                                "found end of spec"},
      {"invres 16", NAD_ERR_PARSE, "spec:10: expected an expansion ratio 'tT' with T >= 1, found "
                                   "end of spec"},
      {"invres 16 t0", NAD_ERR_PARSE, "spec:11: expected an expansion ratio 'tT' with T >= 1, "
                                      "found 't0'"},
      {"invres 16 t6 s0", NAD_ERR_PARSE, "spec:14: expected a stride 'sS' with S >= 1, found 's0'"},
      {"invres 16 s2 t6", NAD_ERR_PARSE, "spec:11: expected an expansion ratio 'tT'"},
      {"embed 64", NAD_ERR_PARSE, "spec:9: expected a patch size 'pP' with P >= 1, found end"},
      {"embed p4", NAD_ERR_PARSE, "spec:7: expected a token width (integer >= 1), found 'p4'"},
      {"embed 64 p40", NAD_ERR_SHAPE, "spec:1: layer 1 (conv2d 1->64 k40 s40 p0)"},
      {"encoder 4", NAD_ERR_PARSE, "spec:10: expected an MLP width (integer >= 1), found end"},
      {"encoder 4 64", NAD_ERR_SHAPE, "spec:1: 0: an encoder block needs tokens (1, T, E), not a "
                                      "tensor of rank 4 (start with 'embed')"},
      {"embed 30 p4; encoder 4 64", NAD_ERR_SHAPE, "spec:14: 1: 4 heads must divide the token "
                                                   "width 30"},
      {"cls", NAD_ERR_SHAPE, "spec:1: 'cls' needs tokens (1, T, E), not a tensor of rank 4"},
      {"cnblock x", NAD_ERR_PARSE, "spec:9: expected ';' or end of spec, found 'x'"},
      {"fc 4; cnblock", NAD_ERR_SHAPE, "spec:7: 1: a ConvNeXt block needs a feature map (1, C, H, "
                                       "W), not a tensor of rank 2"},
      {"fc 4; invres 4 t2", NAD_ERR_SHAPE, "spec:7: 1: an inverted residual needs a feature map"},
      {"conv 6 k5 nobias nobias", NAD_ERR_PARSE, "spec:18: expected at most one 'nobias'"},
      {"conv 0 k5", NAD_ERR_PARSE, "spec:6: expected a number of output channels"},
      {"conv -1 k5", NAD_ERR_PARSE, "found '-1'"},
      {"conv 99999999999 k3", NAD_ERR_PARSE, "spec:6: expected a number of output channels "
                                             "(integer >= 1), found '99999999999'"},
      {"conv 2147483648 k3", NAD_ERR_PARSE, "spec:6:"},
      {"conv 6 k5 p-1", NAD_ERR_PARSE, "spec:11: expected ';' or end of spec, found 'p-1'"},
      {"conv 6 k5 pX", NAD_ERR_PARSE, "spec:11: expected ';' or end of spec, found 'pX'"},
      {"conv 6 k5 s0", NAD_ERR_PARSE, "spec:11: expected a stride 'sS' with S >= 1, found 's0'"},
      {"convv 6 k5", NAD_ERR_PARSE, "spec:1: expected a layer (conv,"},
      {"Conv 6 k5", NAD_ERR_PARSE, "found 'Conv'"},
      {"relu;; relu", NAD_ERR_PARSE, "spec:6: expected a layer"},
      {"relu relu", NAD_ERR_PARSE, "spec:6: expected ';' or end of spec, found 'relu'"},
      {"relu; }", NAD_ERR_PARSE, "spec:7: expected a layer (conv, maxpool, avgpool, relu, bn, "
                                 "dropout, flatten, gap, fc, residual, dense, dwconv, relu6, "
                                 "gelu, hardswish, silu, sigmoid, tanh, layernorm, invres, "
                                 "cnblock, embed, encoder, cls), found '}'"},
      {"relu @", NAD_ERR_PARSE, "spec:6: expected ';' or end of spec, found '@'"},
      {"relu;\x01", NAD_ERR_PARSE, "spec:6: expected a layer"},
      {"relu;\x01", NAD_ERR_PARSE, "found '\\x01'"},
      {"maxpool", NAD_ERR_PARSE, "spec:8: expected a pooling kernel size"},
      {"maxpool 2 s0", NAD_ERR_PARSE, "spec:11: expected a stride 'sS' with S >= 1, found 's0'"},
      {"maxpool k2", NAD_ERR_PARSE, "spec:9: expected a pooling kernel size (integer >= 1), "
                                    "found 'k2'"},
      {"dropout 1.5", NAD_ERR_PARSE, "spec:9: expected a dropout probability in [0, 1), found "
                                     "'1.5'"},
      {"dropout 1", NAD_ERR_PARSE, "spec:9: expected a dropout probability"},
      {"dropout 0.5.5", NAD_ERR_PARSE, "spec:9: expected a dropout probability"},
      {"dropout .", NAD_ERR_PARSE, "spec:9: expected a dropout probability"},
      {"fc", NAD_ERR_PARSE, "spec:3: expected a number of output features"},
      {"fc 10 bias", NAD_ERR_PARSE, "spec:7: expected ';' or end of spec, found 'bias'"},
      {"residual relu", NAD_ERR_PARSE, "spec:10: expected '{', found 'relu'"},
      {"residual { }", NAD_ERR_PARSE, "spec:12: expected a layer"},
      {"residual { relu", NAD_ERR_PARSE, "spec:16: expected ';' or '}', found end of spec"},
      {"residual { relu; ", NAD_ERR_PARSE, "spec:18: expected a layer"},
      {"residual { relu } shortcut", NAD_ERR_PARSE, "spec:27: expected '{', found end of spec"},
      {"residual { relu } shortcut { }", NAD_ERR_PARSE, "spec:30: expected a layer"},
      {"residual { relu } relu", NAD_ERR_PARSE, "spec:19: expected ';' or end of spec"},
      {"dense { relu } shortcut { relu }", NAD_ERR_PARSE, "spec:16: expected ';' or end of spec, "
                                                         "found 'shortcut'"},
      {"relu }", NAD_ERR_PARSE, "spec:6: expected ';' or end of spec, found '}'"},
      {"relu; {", NAD_ERR_PARSE, "spec:7: expected a layer"},
      /* shape errors carry the item's position and the builder's message */
      {"conv 6 k5; maxpool 2; conv 16 k5; maxpool 2; conv 16 k6", NAD_ERR_SHAPE,
       "spec:46: layer 4 (conv2d 16->16 k6 s1 p0): input 16x5x5 is too small for kernel 6"},
      {"residual { conv 8 k3 }", NAD_ERR_SHAPE,
       "spec:1: layer 1 (add): input shapes differ: 8x30x30 (node 0) vs 1x32x32 (node -1)"},
      {"relu; dense { maxpool 2 }", NAD_ERR_SHAPE,
       "spec:7: layer 2 (concat): spatial sizes differ"},
      {"maxpool 33", NAD_ERR_SHAPE, "spec:1: layer 0 (maxpool k33 s33)"},
      {"conv 6 k41 p4", NAD_ERR_SHAPE, "(needs height and width >= 33)"},
      {"relu; residual { relu; maxpool 40 }", NAD_ERR_SHAPE, "spec:24: layer 2 (maxpool k40"},
      /* BLAS limit: 1x32x32 -> fc over 1024*2^21 features */
      {"conv 2097152 k1; fc 1", NAD_ERR_UNSUPPORTED, "in_features = 2147483648"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    nadi_graph *g = (nadi_graph *)1;
    nad_status st = nadi_spec_build(cases[i].spec, 1, 32, 32, &g);
    CHECK(st == cases[i].st && g == NULL, "spec \"%s\": status %d want %d", cases[i].spec, st,
          cases[i].st);
    CHECK(strstr(nad_last_error(), cases[i].msg) != NULL, "spec \"%s\": message '%s' lacks '%s'",
          cases[i].spec, nad_last_error(), cases[i].msg);
  }
  /* a long token is quoted cut */
  char spec[200] = "relu; ";
  memset(spec + 6, 'a', 150);
  spec[156] = '\0';
  nadi_graph *g = NULL;
  CHECK(nadi_spec_build(spec, 1, 4, 4, &g) == NAD_ERR_PARSE, "long token");
  const char *m = nad_last_error();
  CHECK(strstr(m, "spec:7: expected a layer") && strstr(m, "found 'aaaaaaaaaaaaaaaaaaaa") &&
            strstr(m, "aaa...'") && strlen(m) < 330,
        "long token message '%s'", m);
  /* nesting limit: 17 levels is refused, 100000 too (without recursing that deep) */
  static char deep[1000064];
  deep[0] = 0;
  for (int i = 0; i < 17; i++)
    strcat(deep, "dense{");
  strcat(deep, "relu");
  for (int i = 0; i < 17; i++)
    strcat(deep, "}");
  CHECK(nadi_spec_build(deep, 1, 2, 2, &g) == NAD_ERR_PARSE &&
            strstr(nad_last_error(), "spec:97: expected at most 16 nested blocks, found 'dense'"),
        "17 nested: %s", nad_last_error());
  size_t o = 0;
  for (int i = 0; i < 100000; i++)
    o += (size_t)snprintf(deep + o, sizeof deep - o, "residual {");
  CHECK(nadi_spec_build(deep, 1, 2, 2, &g) == NAD_ERR_PARSE, "100000 nested");
  /* arguments */
  CHECK(nadi_spec_build(NULL, 1, 2, 2, &g) == NAD_ERR_INVALID_ARG, "NULL spec");
  CHECK(nadi_spec_build("relu", 1, 2, 2, NULL) == NAD_ERR_INVALID_ARG, "NULL out");
  CHECK(nadi_spec_build("relu", 1, 0, 2, &g) == NAD_ERR_INVALID_ARG && g == NULL, "h = 0");
  CHECK(nadi_spec_build(" relu ;\n\t", 1, 2, 2, &g) == NAD_OK && g->n_layers == 1,
        "whitespace and trailing ';'");
  nadi_graph_destroy(g);
}

/* ---- fuzz: the parser must return a status, never crash, on any input ------------------- */

static uint64_t rnd(nadi_rng *r, uint64_t n) { return nadi_rng_u64(r) % n; }

static void mutate(nadi_rng *r, char *s, size_t cap) {
  size_t len = strlen(s);
  switch (rnd(r, 6)) {
  case 0: /* delete a range */
    if (len) {
      size_t a = rnd(r, len), n = 1 + rnd(r, len - a < 8 ? len - a : 8);
      memmove(s + a, s + a + n, len - a - n + 1);
    }
    break;
  case 1: /* insert a random byte */
    if (len + 2 < cap) {
      size_t a = rnd(r, len + 1);
      memmove(s + a + 1, s + a, len - a + 1);
      s[a] = (char)(1 + rnd(r, 255));
    }
    break;
  case 2: /* replace a byte with a "grammar" byte */
    if (len) {
      static const char g[] = "{};  0123456789kspnobiasreludensefc.-";
      s[rnd(r, len)] = g[rnd(r, sizeof g - 1)];
    }
    break;
  case 3: /* duplicate a range */
    if (len) {
      size_t a = rnd(r, len), n = 1 + rnd(r, len - a < 16 ? len - a : 16);
      if (len + n + 1 < cap) {
        memmove(s + a + n, s + a, len - a + 1);
      }
    }
    break;
  case 4: /* truncate */
    s[rnd(r, len + 1)] = '\0';
    break;
  default: /* swap two bytes */
    if (len > 1) {
      size_t a = rnd(r, len), b = rnd(r, len);
      char t = s[a];
      s[a] = s[b];
      s[b] = t;
    }
  }
}

static void token_soup(nadi_rng *r, char *s, size_t cap) {
  static const char *const voc[] = {
      "conv", "maxpool", "avgpool", "relu", "bn", "dropout", "flatten", "gap", "fc",
      "residual", "shortcut", "dense", "nobias", "k3", "k1", "k2", "s2", "s1", "p1", "p0", "2",
      "6", "16", "0", "1", "0.5", ".25", "{", "}", ";", ";", ";", "@", "-1", "99999999999", "k",
      "s", "p", "k0", "\xff", "\t"};
  size_t n = 1 + rnd(r, 40), o = 0;
  s[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    const char *t = voc[rnd(r, sizeof voc / sizeof voc[0])];
    const char *sep = rnd(r, 4) ? " " : "";
    if (o + strlen(t) + 2 >= cap)
      break;
    o += (size_t)snprintf(s + o, cap - o, "%s%s", t, sep);
  }
}

/* A syntactically valid random spec (random layers, values and nesting): reaches the builder. */
static size_t gen_items(nadi_rng *r, char *s, size_t cap, int depth) {
  size_t o = 0, n = 1 + rnd(r, depth ? 3 : 6);
  for (size_t i = 0; i < n && o + 80 < cap; i++) {
    int kind = (int)rnd(r, depth < 3 ? 11 : 9);
    char *p = s + o;
    switch (kind) {
    case 0:
      o += (size_t)sprintf(p, "conv %d k%d%s%s%s", 1 + (int)rnd(r, 8), 1 + (int)rnd(r, 5),
                           rnd(r, 2) ? " s2" : "", rnd(r, 2) ? " p1" : "",
                           rnd(r, 3) ? "" : " nobias");
      break;
    case 1:
      o += (size_t)sprintf(p, "%s %d%s", rnd(r, 2) ? "maxpool" : "avgpool", 1 + (int)rnd(r, 3),
                           rnd(r, 2) ? " s1" : "");
      break;
    case 2: o += (size_t)sprintf(p, "relu"); break;
    case 3: o += (size_t)sprintf(p, "bn"); break;
    case 4: o += (size_t)sprintf(p, rnd(r, 2) ? "dropout" : "dropout 0.%d", (int)rnd(r, 10)); break;
    case 5: o += (size_t)sprintf(p, "flatten"); break;
    case 6: o += (size_t)sprintf(p, "gap"); break;
    case 7:
    case 8: o += (size_t)sprintf(p, "fc %d%s", 1 + (int)rnd(r, 20), rnd(r, 3) ? "" : " nobias"); break;
    default: {
      int res = kind == 9;
      o += (size_t)sprintf(p, "%s { ", res ? "residual" : "dense");
      o += gen_items(r, s + o, cap - o, depth + 1);
      o += (size_t)sprintf(s + o, " }");
      if (res && rnd(r, 2) && o + 100 < cap) {
        o += (size_t)sprintf(s + o, " shortcut { ");
        o += gen_items(r, s + o, cap - o, depth + 1);
        o += (size_t)sprintf(s + o, " }");
      }
    }
    }
    if (i + 1 < n || rnd(r, 2))
      o += (size_t)sprintf(s + o, "; ");
  }
  return o;
}

static void test_spec_fuzz(void) {
  static const char *const seeds[] = {
      "conv 6 k5; relu; maxpool 2; conv 16 k5; relu; maxpool 2; fc 120; relu; fc 84; relu; fc 1",
      ("conv 16 k3 p1 nobias; bn; relu; residual { conv 16 k3 p1; bn; relu } shortcut { conv 16 "
       "k1; bn }; relu; gap; fc 10"),
      "dense { bn; relu; conv 8 k3 p1 nobias }; avgpool 2 s2; dropout 0.3; flatten; fc 3 nobias",
      "residual { dense { relu } ; conv 1 k1 }; maxpool 3 s1",
  };
  nadi_rng r;
  nadi_rng_init(&r, 12345, 0);
  int counts[16] = {0};
  int bad = 0;
  char buf[512];
  /* NADI_FUZZ_ITERS=1000000 for a long run by hand */
  const char *env = getenv("NADI_FUZZ_ITERS");
  const int N = env && atoi(env) > 0 ? atoi(env) : 30000;
  for (int it = 0; it < N; it++) {
    int mode = (int)rnd(&r, 4);
    if (mode == 3) {
      buf[gen_items(&r, buf, sizeof buf - 200, 0)] = '\0';
      if (rnd(&r, 2))
        mutate(&r, buf, sizeof buf);
    } else if (mode == 0) {
      snprintf(buf, sizeof buf, "%s", seeds[rnd(&r, 4)]);
      int k = 1 + (int)rnd(&r, 4);
      for (int j = 0; j < k; j++)
        mutate(&r, buf, sizeof buf);
    } else if (mode == 1) {
      token_soup(&r, buf, sizeof buf);
    } else {
      size_t n = rnd(&r, 64);
      for (size_t j = 0; j < n; j++)
        buf[j] = (char)(1 + rnd(&r, 255));
      buf[n] = '\0';
    }
    int64_t c = 1 + (int64_t)rnd(&r, 3), h = 1 + (int64_t)rnd(&r, 40),
            w = 1 + (int64_t)rnd(&r, 40);
    nadi_graph *g = (nadi_graph *)1;
    nad_status st = nadi_spec_build(buf, c, h, w, &g);
    counts[st & 15]++;
    int ok = 1;
    if (st == NAD_OK) {
      ok = g != NULL && graph_consistent(g, "fuzz");
      nadi_graph_destroy(g);
    } else {
      ok = g == NULL && (st == NAD_ERR_PARSE || st == NAD_ERR_SHAPE ||
                         st == NAD_ERR_UNSUPPORTED || st == NAD_ERR_OUT_OF_MEMORY);
      /* "spec:COL: ..." for anything tied to a place, "spec: ..." for whole-graph totals */
      unsigned long col = 0;
      const char *m = nad_last_error();
      ok = ok && strncmp(m, "spec:", 5) == 0 &&
           (m[5] == ' ' || (sscanf(m, "spec:%lu:", &col) == 1 && col >= 1 &&
                            col <= strlen(buf) + 1));
    }
    if (!ok && bad++ < 5)
      printf("  fuzz failure on \"%s\" (%lldx%lldx%lld): status %d, %s\n", buf, (long long)c,
             (long long)h, (long long)w, st, nad_last_error());
  }
  CHECK(bad == 0, "fuzz: %d bad results", bad);
  /* The generator must reach both sides, or the loop proves little. */
  CHECK(counts[NAD_OK] > N / 20 && counts[NAD_ERR_PARSE] > N / 5 && counts[NAD_ERR_SHAPE] > 50,
        "fuzz coverage: ok %d parse %d shape %d", counts[NAD_OK], counts[NAD_ERR_PARSE],
        counts[NAD_ERR_SHAPE]);
  printf("fuzz: %d specs: ok %d, parse %d, shape %d, other %d\n", N, counts[NAD_OK],
         counts[NAD_ERR_PARSE], counts[NAD_ERR_SHAPE],
         N - counts[NAD_OK] - counts[NAD_ERR_PARSE] - counts[NAD_ERR_SHAPE]);
}

/* ---- initialisation ---------------------------------------------------------------------- */

/* Sample mean and variance of x within 4 standard errors of (mean, var) of a law whose fourth
 * central moment is m4. */
static void check_moments(const float *x, int64_t n, double mean, double var, double m4,
                          const char *what) {
  double s = 0, ss = 0;
  for (int64_t i = 0; i < n; i++)
    s += x[i];
  double mu = s / (double)n;
  for (int64_t i = 0; i < n; i++)
    ss += (x[i] - mu) * (x[i] - mu);
  double v = ss / (double)(n - 1);
  double se_mean = sqrt(var / (double)n), se_var = sqrt((m4 - var * var) / (double)n);
  CHECK(fabs(mu - mean) < 4 * se_mean, "%s: mean %g, expected %g +- %g", what, mu, mean,
        4 * se_mean);
  CHECK(fabs(v - var) < 4 * se_var, "%s: variance %g, expected %g +- %g", what, v, var,
        4 * se_var);
}

static void check_uniform(const float *x, int64_t n, double b, const char *what) {
  /* U(-b, b): var b^2/3, m4 b^4/5 */
  check_moments(x, n, 0.0, b * b / 3, b * b * b * b / 5, what);
  int in = 1;
  for (int64_t i = 0; i < n; i++)
    in &= fabsf(x[i]) <= (float)b;
  CHECK(in, "%s: values within +-%g", what, b);
}

static void test_init(void) {
  nadi_builder *b;
  CHECK(nadi_builder_create(16, 12, 12, &b) == NAD_OK, "create");
  int32_t c0, c1;
  CHECK(nadi_add_conv(b, -1, 64, 3, 1, 1, 1, NADI_INIT_TORCH, "torch_conv", &c0) == NAD_OK, "c0");
  CHECK(nadi_add_batchnorm(b, c0, "bn", NULL) == NAD_OK, "bn");
  CHECK(nadi_add_conv(b, nadi_builder_last(b), 96, 5, 1, 2, 1, NADI_INIT_VGG_CONV, "vgg", &c1) ==
            NAD_OK,
        "c1");
  CHECK(nadi_add_conv(b, c1, 32, 1, 1, 0, 0, NADI_INIT_TORCH, "nobias", NULL) == NAD_OK, "c2");
  CHECK(nadi_add_pool(b, nadi_builder_last(b), NADI_MAXPOOL, 2, 2, NULL) == NAD_OK, "pool");
  CHECK(nadi_add_linear(b, nadi_builder_last(b), 300, 1, "fc", NULL) == NAD_OK, "fc");
  nadi_graph *g = NULL;
  CHECK(nadi_builder_finish(b, &g) == NAD_OK, "finish: %s", nad_last_error());
  if (!g)
    return;
  float *p = malloc((size_t)g->n_params * sizeof *p), *q = malloc((size_t)g->n_params * sizeof *q);
  for (int64_t i = 0; i < g->n_params; i++)
    p[i] = NAN;
  nadi_rng r;
  nadi_rng_init(&r, 7, 3);
  nadi_graph_init_params(g, p, &r);
  int finite = 1;
  for (int64_t i = 0; i < g->n_params; i++)
    finite &= isfinite(p[i]) != 0;
  CHECK(finite, "every parameter written");
  const nadi_tensor_info *t = g->tensors;
  /* 0 torch_conv.weight [64,16,3,3], 1 bias; 2-5 bn; 6 vgg.weight [96,64,5,5], 7 bias;
   * 8 nobias.weight [32,96,1,1]; 9 fc.weight [300, 32*6*6], 10 bias */
  CHECK(g->n_tensors == 11, "tensors %lld", (long long)g->n_tensors);
  if (g->n_tensors == 11) {
    double b0 = 1 / sqrt(16 * 9.0);
    check_uniform(p + t[0].offset, t[0].numel, b0, "conv weight U(+-1/sqrt(144))");
    check_uniform(p + t[1].offset, t[1].numel, b0, "conv bias");
    int bn_ok = 1;
    for (int64_t i = 0; i < 64; i++)
      bn_ok &= p[t[2].offset + i] == 1.0f && p[t[3].offset + i] == 0.0f &&
               p[t[4].offset + i] == 0.0f && p[t[5].offset + i] == 1.0f;
    CHECK(bn_ok, "batchnorm 1, 0, 0, 1");
    double sd = sqrt(2.0 / (25 * 96));
    check_moments(p + t[6].offset, t[6].numel, 0.0, sd * sd, 3 * sd * sd * sd * sd,
                  "vgg weight N(0, 2/(k*k*out))");
    int zero = 1;
    for (int64_t i = 0; i < t[7].numel; i++)
      zero &= p[t[7].offset + i] == 0.0f;
    CHECK(zero, "vgg bias 0");
    check_uniform(p + t[8].offset, t[8].numel, 1 / sqrt(96.0), "1x1 conv without bias");
    CHECK(t[9].numel == 300 * 1152, "fc weight numel");
    check_uniform(p + t[9].offset, t[9].numel, 1 / sqrt(1152.0), "linear weight");
    check_uniform(p + t[10].offset, t[10].numel, 1 / sqrt(1152.0), "linear bias");
    /* Draw order: the first layer's weight then bias are the first draws of the generator. */
    nadi_rng r2;
    nadi_rng_init(&r2, 7, 3);
    nadi_rng_fill_uniform(&r2, q, t[0].numel + t[1].numel, -b0, b0);
    CHECK(memcmp(q, p, (size_t)(t[0].numel + t[1].numel) * sizeof *q) == 0,
          "node-order draws from the generator");
  }
  /* Same generator state: same parameters; another stream: different ones. */
  nadi_rng_init(&r, 7, 3);
  nadi_graph_init_params(g, q, &r);
  CHECK(memcmp(p, q, (size_t)g->n_params * sizeof *p) == 0, "deterministic");
  nadi_rng_init(&r, 7, 4);
  nadi_graph_init_params(g, q, &r);
  CHECK(memcmp(p, q, (size_t)g->n_params * sizeof *p) != 0, "stream changes the weights");
  free(p);
  free(q);
  nadi_graph_destroy(g);

  /* A builtin with every rule: vgg11-bn on a small input initialises all its floats. */
  g = builtin("vgg11-bn", 1, 32, 32, 1);
  if (g) {
    p = malloc((size_t)g->n_params * sizeof *p);
    for (int64_t i = 0; i < g->n_params; i++)
      p[i] = NAN;
    nadi_rng_init(&r, 1, 0);
    nadi_graph_init_params(g, p, &r);
    int all = 1;
    for (int64_t i = 0; i < g->n_params; i++)
      all &= isfinite(p[i]) != 0;
    CHECK(all, "vgg11-bn: every parameter written");
    /* last linear: U(+-1/sqrt(512)) */
    const nadi_tensor_info *w = &g->tensors[g->n_tensors - 2];
    check_uniform(p + w[0].offset, w[0].numel, 1 / sqrt(512.0), "vgg classifier.6.weight");
    free(p);
    nadi_graph_destroy(g);
  }
}

/* The fingerprint covers every hyper-parameter (nadi_hparams hashed whole) and the shapes, and
 * the format-2 fingerprint of a graph of the first kinds is what 0.1.0 wrote. */
static void test_fingerprint(void) {
  nadi_graph *g = NULL, *h = NULL;
  CHECK(nadi_spec_build("conv 4 k3; bn; relu; fc 3", 2, 6, 6, &g) == NAD_OK, "%s", nad_last_error());
  CHECK(nadi_spec_build("conv 4 k3; bn; relu; fc 3", 2, 6, 6, &h) == NAD_OK, "%s", nad_last_error());
  if (!g || !h)
    return;
  uint64_t f = nadi_graph_fingerprint(g), f2 = nadi_graph_fingerprint_v2(g);
  CHECK(f == nadi_graph_fingerprint(h) && f2 == nadi_graph_fingerprint_v2(h), "deterministic");
  h->layers[1].momentum = 0.2; /* a field the format-2 hash never read */
  CHECK(nadi_graph_fingerprint(h) != f, "momentum changes the fingerprint");
  CHECK(nadi_graph_fingerprint_v2(h) == f2, "the format-2 hash stays as it was");
  h->layers[1].momentum = 0.1;
  h->layers[1].eps = 1e-3;
  CHECK(nadi_graph_fingerprint(h) != f && nadi_graph_fingerprint_v2(h) != f2, "eps");
  h->layers[1].eps = 1e-5;
  h->layers[2].out_dims.d[3] = 5;
  CHECK(nadi_graph_fingerprint(h) != f, "output dims change the fingerprint");
  nadi_graph_destroy(g), nadi_graph_destroy(h);
}

int main(void) {
  test_fingerprint();
  test_builder_shapes();
  test_builder_errors();
  test_builtin_list();
  test_builtin_shapes();
  test_lenet_exact();
  test_builtin_counts();
  test_spec_writes_modern_builtins();
  test_builtin_errors();
  test_spec_equals_builtin();
  test_spec_blocks();
  test_spec_errors();
  test_spec_fuzz();
  test_init();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
