/* The built-in architectures (CIFAR-style variants of the NADs paper's networks, and
 * torchvision's mobilenet_v2, a small ConvNeXt and a small ViT written with the blocks of
 * lib/graph/blocks.c).
 *
 * Node order equals the registration order of the PyTorch modules in tests/python/torch_models.py
 * (which follows the reference implementation), so the flat parameter array is exactly the
 * state_dict; the prefixes are the PyTorch module names, so tensor names equal state_dict keys.
 * Any input c×h×w is accepted where the layers fit: a classifier's first Linear always takes the
 * flattened feature map, whatever its size (for 1×32×32 this is the reference network). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"

/* A builder plus the current node and a sticky status, so that a definition reads as a list of
 * layers and is checked once at the end. */
typedef struct net {
  nadi_builder *b;
  nad_status st;
  int32_t cur;
  char name[48];
} net;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static const char *
nm(net *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(n->name, sizeof n->name, fmt, ap);
  va_end(ap);
  return n->name;
}

static void conv(net *n, int64_t out, int32_t k, int32_t s, int32_t p, int32_t bias,
                 nadi_init_rule init, const char *prefix) {
  if (n->st == NAD_OK)
    n->st = nadi_add_conv(n->b, n->cur, out, k, s, p, bias, init, prefix, &n->cur);
}
static void bn(net *n, const char *prefix) {
  if (n->st == NAD_OK)
    n->st = nadi_add_batchnorm(n->b, n->cur, prefix, &n->cur);
}
static void relu(net *n) {
  if (n->st == NAD_OK)
    n->st = nadi_add_simple(n->b, n->cur, NADI_RELU, &n->cur);
}
static void pool(net *n, nadi_kind kind, int32_t k) {
  if (n->st == NAD_OK)
    n->st = nadi_add_pool(n->b, n->cur, kind, k, k, &n->cur);
}
static void linear(net *n, int64_t out, const char *prefix) {
  if (n->st == NAD_OK)
    n->st = nadi_add_linear(n->b, n->cur, out, 1, prefix, &n->cur);
}
static void dropout(net *n) {
  if (n->st == NAD_OK)
    n->st = nadi_add_dropout(n->b, n->cur, 0.5, &n->cur);
}
/* cur = join(cur, other) */
static void join(net *n, nadi_kind kind, int32_t other) {
  if (n->st == NAD_OK)
    n->st = nadi_add_join(n->b, kind, n->cur, other, &n->cur);
}

/* ---- definitions ----------------------------------------------------------------------------- */

static void logreg(net *n, int64_t k) { linear(n, k, "l"); }

/* LeNet: c1 6@5x5, relu, [maxpool 2], c2 16@5x5, relu, [maxpool 2], f1 120, relu, f2 84, relu,
 * f3. Without the pools f1 takes the larger 16×(H-8)×(W-8) map (reference LeNet(pool=False)). */
static void lenet_body(net *n, int64_t k, int pools) {
  conv(n, 6, 5, 1, 0, 1, NADI_INIT_TORCH, "c1");
  relu(n);
  if (pools)
    pool(n, NADI_MAXPOOL, 2);
  conv(n, 16, 5, 1, 0, 1, NADI_INIT_TORCH, "c2");
  relu(n);
  if (pools)
    pool(n, NADI_MAXPOOL, 2);
  linear(n, 120, "f1");
  relu(n);
  linear(n, 84, "f2");
  relu(n);
  linear(n, k, "f3");
}
static void lenet(net *n, int64_t k) { lenet_body(n, k, 1); }
static void lenet_nopool(net *n, int64_t k) { lenet_body(n, k, 0); }

/* All-convolutional LeNet: each 2×2 max-pool replaced by a learned 2×2 stride-2 convolution with
 * as many channels as its input (Springenberg et al.'s "all convolutional net" idea):
 * c1 conv 6 k5; relu; d1 conv 6 k2 s2; relu; c2 conv 16 k5; relu; d2 conv 16 k2 s2; relu;
 * f1 120; relu; f2 84; relu; f3 out. PyTorch default init everywhere. */
static void allconv(net *n, int64_t k) {
  conv(n, 6, 5, 1, 0, 1, NADI_INIT_TORCH, "c1");
  relu(n);
  conv(n, 6, 2, 2, 0, 1, NADI_INIT_TORCH, "d1");
  relu(n);
  conv(n, 16, 5, 1, 0, 1, NADI_INIT_TORCH, "c2");
  relu(n);
  conv(n, 16, 2, 2, 0, 1, NADI_INIT_TORCH, "d2");
  relu(n);
  linear(n, 120, "f1");
  relu(n);
  linear(n, 84, "f2");
  relu(n);
  linear(n, k, "f3");
}

/* VGG11: features = [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M] (3×3 convs with
 * padding 1, VGG init, each followed by [BN] and ReLU; M = maxpool 2), classifier = Linear(F, 512),
 * ReLU, Dropout, Linear(512, 512), ReLU, Dropout, Linear(512, out). Module indices follow
 * nn.Sequential numbering ("features.3", "classifier.6"). */
static void vgg(net *n, int64_t k, int with_bn, int pools) {
  static const int cfg[] = {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}; /* 0 = M */
  int idx = 0;
  for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) {
    if (cfg[i] == 0) {
      if (pools) {
        pool(n, NADI_MAXPOOL, 2);
        idx++;
      }
      continue;
    }
    conv(n, cfg[i], 3, 1, 1, 1, NADI_INIT_VGG_CONV, nm(n, "features.%d", idx++));
    if (with_bn)
      bn(n, nm(n, "features.%d", idx++));
    relu(n);
    idx++;
  }
  linear(n, 512, "classifier.0");
  relu(n);
  dropout(n);
  linear(n, 512, "classifier.3");
  relu(n);
  dropout(n);
  linear(n, k, "classifier.6");
}
static void vgg11(net *n, int64_t k) { vgg(n, k, 0, 1); }
static void vgg11_bn(net *n, int64_t k) { vgg(n, k, 1, 1); }
static void vgg11_nopool(net *n, int64_t k) { vgg(n, k, 0, 0); }

/* ResNet18 (CIFAR): stem conv 3×3 64 + BN + ReLU, eight BasicBlocks (widths 64,64,128,128,256,
 * 256,512,512; first strides of each pair 1,2,2,2), AvgPool 4, Linear. A block is
 * relu(bn(b(relu(an(a(x))))) + sc(x)), sc = 1×1 strided conv + BN when the shape changes, else
 * the identity; "noshortcut" drops every sc (including the convolutional ones). */
static void resnet(net *n, int64_t k, int shortcuts) {
  static const int widths[8] = {64, 64, 128, 128, 256, 256, 512, 512};
  static const int strides[8] = {1, 1, 2, 1, 2, 1, 2, 1};
  conv(n, 64, 3, 1, 1, 0, NADI_INIT_TORCH, "stem");
  bn(n, "sn");
  relu(n);
  int64_t cin = 64;
  for (int i = 0; i < 8; i++) {
    int32_t x = n->cur;
    conv(n, widths[i], 3, strides[i], 1, 0, NADI_INIT_TORCH, nm(n, "blocks.%d.a", i));
    bn(n, nm(n, "blocks.%d.an", i));
    relu(n);
    conv(n, widths[i], 3, 1, 1, 0, NADI_INIT_TORCH, nm(n, "blocks.%d.b", i));
    bn(n, nm(n, "blocks.%d.bn", i));
    if (shortcuts) {
      int32_t main = n->cur, sc = x;
      if (strides[i] != 1 || cin != widths[i]) {
        n->cur = x;
        conv(n, widths[i], 1, strides[i], 0, 0, NADI_INIT_TORCH, nm(n, "blocks.%d.sc.0", i));
        bn(n, nm(n, "blocks.%d.sc.1", i));
        sc = n->cur;
        n->cur = main;
      }
      join(n, NADI_ADD, sc);
    }
    relu(n);
    cin = widths[i];
  }
  pool(n, NADI_AVGPOOL, 4);
  linear(n, k, "fc");
}
static void resnet18(net *n, int64_t k) { resnet(n, k, 1); }
static void resnet18_noshortcut(net *n, int64_t k) { resnet(n, k, 0); }

/* DenseNet121 (CIFAR): growth 32, blocks 6/12/24/16, stem conv 3×3 to 64. Bottleneck:
 * cat([c2(relu(n2(c1(relu(n1(x)))))), x]) with c1 1×1 to 128 and c2 3×3 to 32 (new channels
 * first). Transition: avgpool 2 of c(relu(n(x))) with c 1×1 to floor(channels/2). Final: BN,
 * ReLU, AvgPool 4, Linear. No conv bias. Module path: stages.<s>.<j> (nn.Sequential numbering,
 * blocks and transitions interleaved). */
static void densenet121(net *n, int64_t k) {
  static const int blocks[4] = {6, 12, 24, 16};
  const int g = 32;
  int64_t planes = 2 * g;
  conv(n, planes, 3, 1, 1, 0, NADI_INIT_TORCH, "stem");
  int stage = 0;
  for (int i = 0; i < 4; i++, stage++) {
    for (int j = 0; j < blocks[i]; j++) {
      int32_t x = n->cur;
      bn(n, nm(n, "stages.%d.%d.n1", stage, j));
      relu(n);
      conv(n, 4 * g, 1, 1, 0, 0, NADI_INIT_TORCH, nm(n, "stages.%d.%d.c1", stage, j));
      bn(n, nm(n, "stages.%d.%d.n2", stage, j));
      relu(n);
      conv(n, g, 3, 1, 1, 0, NADI_INIT_TORCH, nm(n, "stages.%d.%d.c2", stage, j));
      join(n, NADI_CONCAT, x);
      planes += g;
    }
    if (i < 3) {
      stage++;
      bn(n, nm(n, "stages.%d.n", stage));
      relu(n);
      planes /= 2;
      conv(n, planes, 1, 1, 0, 0, NADI_INIT_TORCH, nm(n, "stages.%d.c", stage));
      pool(n, NADI_AVGPOOL, 2);
    }
  }
  bn(n, "n");
  relu(n);
  pool(n, NADI_AVGPOOL, 4);
  linear(n, k, "fc");
}

/* ---- issue 17: today's architectures, from lib/graph/blocks.c ---------------------------------- */

/* The blocks' calls under the sticky status. */
static void conv_g(net *n, int64_t out, int32_t k, int32_t s, int32_t p, int64_t groups,
                   int32_t bias, int64_t init, const char *prefix) {
  if (n->st == NAD_OK)
    n->st = nadi_add_conv_groups(n->b, n->cur, out, k, s, p, groups, bias, init, prefix, &n->cur);
}
static void act(net *n, nadi_kind kind) {
  if (n->st == NAD_OK)
    n->st = nadi_add_activation(n->b, n->cur, kind, &n->cur);
}
static void layernorm(net *n, const char *prefix) {
  if (n->st == NAD_OK)
    n->st = nadi_add_layernorm(n->b, n->cur, 1e-6, prefix, &n->cur);
}
static void linear_init(net *n, int64_t out, int64_t init, const char *prefix) {
  nadi_hparams hp = nadi_hparams_default();
  hp.out_c = out, hp.bias = 1, hp.init = init;
  if (n->st == NAD_OK)
    n->st = nadi_add_node(n->b, NADI_LINEAR, &n->cur, 1, &hp, prefix, &n->cur);
}
static void dropout_p(net *n, double p) {
  if (n->st == NAD_OK)
    n->st = nadi_add_dropout(n->b, n->cur, p, &n->cur);
}

/* torchvision's mobilenet_v2(num_classes=k), strides unchanged (32x32 -> 1x1 after features):
 * features.0 = conv 3x3 s2 to 32 + BN + ReLU6; 17 inverted residuals (t, c, n, s) = (1, 16, 1,
 * 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1);
 * features.18 = conv 1x1 to 1280 + BN + ReLU6; global average pool; classifier = Dropout(0.2),
 * Linear. torchvision's init: convs kaiming_normal_(fan_out), BN 1/0, Linear N(0, 0.01), bias 0. */
static void mobilenet_v2(net *n, int64_t k) {
  static const int cfg[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2},  {6, 64, 4, 2},
                                {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  conv_g(n, 32, 3, 2, 1, 1, 0, NADI_INIT_KAIMING_OUT, "features.0.0");
  bn(n, "features.0.1");
  act(n, NADI_CLIP);
  int idx = 1;
  for (int i = 0; i < 7; i++)
    for (int j = 0; j < cfg[i][2]; j++, idx++)
      if (n->st == NAD_OK)
        n->st = nadi_add_invres(n->b, n->cur, cfg[i][1], cfg[i][0], j == 0 ? cfg[i][3] : 1,
                                NADI_INIT_KAIMING_OUT, nm(n, "features.%d", idx), &n->cur);
  conv_g(n, 1280, 1, 1, 0, 1, 0, NADI_INIT_KAIMING_OUT, nm(n, "features.%d.0", idx));
  bn(n, nm(n, "features.%d.1", idx));
  act(n, NADI_CLIP);
  if (n->st == NAD_OK)
    n->st = nadi_add_simple(n->b, n->cur, NADI_GAP, &n->cur);
  dropout_p(n, 0.2);
  linear_init(n, k, NADI_INIT_NORMAL_001, "classifier.1");
}

/* A small ConvNeXt for 32x32: torchvision's ConvNeXt class with block_setting dims (32, 64,
 * 128, 256), depths (2, 2, 2, 2), its 4x4 stride-4 stem (32x32 -> 8x8, stages at 8, 4, 2, 1),
 * layer_scale 1e-6, no stochastic depth: features.0 = conv 4x4 s4 + LayerNorm2d; per stage
 * CNBlocks, then (but after the last) LayerNorm2d + conv 2x2 s2; global average pool;
 * classifier = LayerNorm2d, Flatten, Linear. torchvision's init: convs and Linears
 * trunc_normal_(std 0.02), biases 0, LayerNorm 1/0, layer scale 1e-6. */
static void convnext(net *n, int64_t k) {
  static const int64_t dims[4] = {32, 64, 128, 256};
  static const int depths[4] = {2, 2, 2, 2};
  conv_g(n, dims[0], 4, 4, 0, 1, 1, NADI_INIT_TRUNC_002, "features.0.0");
  layernorm(n, "features.0.1");
  for (int i = 0; i < 4; i++) {
    for (int j = 0; j < depths[i]; j++)
      if (n->st == NAD_OK)
        n->st = nadi_add_cnblock(n->b, n->cur, NADI_INIT_TRUNC_002, NADI_INIT_CONST_1E6,
                                 nm(n, "features.%d.%d", 2 * i + 1, j), &n->cur);
    if (i < 3) {
      layernorm(n, nm(n, "features.%d.0", 2 * i + 2));
      conv_g(n, dims[i + 1], 2, 2, 0, 1, 1, NADI_INIT_TRUNC_002, nm(n, "features.%d.1", 2 * i + 2));
    }
  }
  if (n->st == NAD_OK)
    n->st = nadi_add_simple(n->b, n->cur, NADI_GAP, &n->cur);
  layernorm(n, "classifier.0");
  linear_init(n, k, NADI_INIT_TRUNC_002, "classifier.2");
}

/* torchvision's VisionTransformer(image_size=32, patch_size=4, num_layers=6, num_heads=4,
 * hidden_dim=192, mlp_dim=768, num_classes=k): class token, conv_proj 4x4 s4, position
 * embedding of 1 + (H/4)(W/4) tokens (other sizes than 32x32 and other channel counts are
 * accepted), six pre-LN encoder blocks, final LayerNorm, the class token's head. torchvision's
 * init (conv_proj trunc_normal_(sqrt(1/fan_in)), class token 0, position embedding N(0, 0.02),
 * in_proj xavier_uniform_, out_proj Linear's weight init, MLP xavier_uniform_ with N(0, 1e-6)
 * biases, attention biases 0, LayerNorm 1/0) except the head: torchvision zeroes it, which makes
 * every random network's response constant (no NADs), so the head keeps PyTorch's Linear init. */
static void vit(net *n, int64_t k) {
  static const nadi_vit_names names = {"class_token", "conv_proj", "encoder.pos_embedding"};
  if (n->st == NAD_OK)
    n->st = nadi_add_patch_embed(n->b, n->cur, 192, 4, &names, 1, &n->cur);
  for (int i = 0; i < 6; i++)
    if (n->st == NAD_OK)
      n->st = nadi_add_encoder(n->b, n->cur, 4, 768, 1,
                               nm(n, "encoder.layers.encoder_layer_%d", i), &n->cur);
  layernorm(n, "encoder.ln");
  if (n->st == NAD_OK)
    n->st = nadi_add_class_token(n->b, n->cur, &n->cur);
  linear_init(n, k, NADI_INIT_TORCH, "heads.head");
}

/* ---- table ----------------------------------------------------------------------------------- */

typedef struct builtin {
  const char *name;
  void (*define)(net *n, int64_t outputs);
} builtin;

static const builtin builtins[] = {
    {"logreg", logreg},
    {"lenet", lenet},
    {"lenet-nopool", lenet_nopool},
    {"vgg11", vgg11},
    {"vgg11-bn", vgg11_bn},
    {"vgg11-nopool", vgg11_nopool},
    {"resnet18", resnet18},
    {"resnet18-noshortcut", resnet18_noshortcut},
    {"densenet121", densenet121},
    {"allconv", allconv},
    {"mobilenet-v2", mobilenet_v2},
    {"convnext", convnext},
    {"vit", vit},
};
#define N_BUILTINS ((int32_t)(sizeof builtins / sizeof builtins[0]))

int32_t nadi_builtin_count(void) { return N_BUILTINS; }

const char *nadi_builtin_name(int32_t i) {
  return (i >= 0 && i < N_BUILTINS) ? builtins[i].name : NULL;
}

nad_status nadi_builtin_build(const char *name, int64_t c, int64_t h, int64_t w, int64_t outputs,
                              nadi_graph **out) {
  NADI_CHECK(out != NULL, NAD_ERR_INVALID_ARG, "output pointer is NULL");
  *out = NULL;
  NADI_CHECK(name != NULL, NAD_ERR_INVALID_ARG, "architecture name is NULL");
  const builtin *def = NULL;
  for (int32_t i = 0; i < N_BUILTINS; i++)
    if (strcmp(name, builtins[i].name) == 0)
      def = &builtins[i];
  if (!def) {
    char known[256] = "";
    for (int32_t i = 0; i < N_BUILTINS; i++) {
      size_t len = strlen(known);
      snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "", builtins[i].name);
    }
    return nadi_fail(NAD_ERR_PARSE, "unknown architecture '%.64s' (built-ins: %s)", name, known);
  }
  NADI_CHECK(outputs >= 1 && outputs <= INT32_MAX, NAD_ERR_INVALID_ARG,
             "%s: number of outputs must be in [1, %d] (got %lld)", def->name, INT32_MAX,
             (long long)outputs);
  net n = {.b = NULL, .st = NAD_OK, .cur = NADI_INPUT_NODE, .name = ""};
  NADI_TRY(nadi_builder_create(c, h, w, &n.b));
  def->define(&n, outputs);
  nad_status st = n.st;
  if (st == NAD_OK) {
    st = nadi_builder_finish(n.b, out); /* consumes the builder */
    if (st == NAD_OK) {
      nadi_blocks_names(*out);
      return NAD_OK;
    }
  } else {
    nadi_builder_destroy(n.b);
  }
  /* Say which network and input the layer-level message is about. */
  char msg[400];
  snprintf(msg, sizeof msg, "%s", nad_last_error());
  return nadi_fail(st, "%s on a %lldx%lldx%lld input: %s", def->name, (long long)c,
                   (long long)h, (long long)w, msg);
}
