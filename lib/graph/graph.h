/* Internal network graph: building, built-in architectures, the spec parser, initialisation,
 * queries, the executor and the delta forward. Never installed. The layer description and the
 * kernel interface are in graph/layer.h.
 *
 * A graph is a DAG of layers in topological order. All parameters of a network live in one flat
 * array in PyTorch state_dict order; each layer knows its offset into it. */
#ifndef NADI_GRAPH_H
#define NADI_GRAPH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "graph/layer.h"

/* An immutable graph (the body of nad_arch). */
typedef struct nadi_tensor_info {
  char name[160];
  int64_t offset, numel;
  int32_t trainable;
  int32_t folded_shift;    /* nadi_tensor_desc.folded_shift */
  int64_t fan_in, fan_out; /* nadi_tensor_desc's fans (0: not a matrix) */
  int32_t layer;           /* the node the tensor belongs to */
} nadi_tensor_info;

/* How init rules draw one tensor (lib/graph/init_rules.c), resolved for that tensor (kaiming
 * and xavier become uniform or normal with the tensor's fans). 8-byte fields only: the graph
 * fingerprint hashes the array whole. */
typedef enum nadi_law_op {
  NADI_LAW_DEFAULT = 0, /* no rule: the kind's init() (or the file's value of a kind without) */
  NADI_LAW_FILE,        /* the model file's value */
  NADI_LAW_CONSTANT,    /* p[0] */
  NADI_LAW_UNIFORM,     /* U(p[0], p[1]) */
  NADI_LAW_NORMAL,      /* N(p[0], p[1]^2) */
  NADI_LAW_TRUNC_NORMAL /* N(p[0], p[1]^2) restricted to [p[2], p[3]] (absolute bounds) */
} nadi_law_op;
typedef struct nadi_tensor_law {
  int64_t op; /* nadi_law_op */
  double p[4];
} nadi_tensor_law;

typedef struct nadi_graph {
  int64_t in_shape[3];
  int64_t n_layers;
  nadi_layer *layers;
  int64_t n_params;     /* floats in the flat array */
  int64_t n_trainable;
  int64_t n_tensors;
  nadi_tensor_info *tensors;
  int64_t flops;        /* per sample */
  /* Values of the parameters no kind's init() draws (an imported model's constants and
   * learned tensors without an initialisation rule), n_params floats, or NULL (built-ins: every
   * tensor is drawn). nadi_graph_init_params starts from them; owned by the graph. */
  float *base_params;
  /* Init rules (lib/graph/init_rules.c): how each tensor is drawn (n_tensors entries), or NULL:
   * every kind's PyTorch default. Owned by the graph; part of its fingerprint. */
  nadi_tensor_law *tensor_law;
} nadi_graph;

/* Per-sample input size c·h·w of a graph. */
static inline int64_t nadi_graph_in_size(const nadi_graph *g) {
  return g->in_shape[0] * g->in_shape[1] * g->in_shape[2];
}
/* Per-sample output size of a graph (the size of its last node). */
static inline int64_t nadi_graph_out_size(const nadi_graph *g) {
  const int64_t *s = g->layers[g->n_layers - 1].out_shape;
  return s[0] * s[1] * s[2];
}

/* Building (lib/graph/build.c): append layers to a growing graph; shapes, descriptions and
 * parameter offsets are filled in by nadi_graph_finish. */
typedef struct nadi_builder nadi_builder;
nad_status nadi_builder_create(int64_t c, int64_t h, int64_t w, nadi_builder **out);
void nadi_builder_destroy(nadi_builder *b);
/* The hyper-parameters every kind starts from (batchnorm eps 1e-5 and momentum 0.1, dropout
 * 0.5, PyTorch's init); a kind reads only the fields its description names. */
nadi_hparams nadi_hparams_default(void);
/* Appends a node of any kind: n_in producers (NADI_INPUT_NODE = the network input), its
 * hyper-parameters, and the state_dict module name of its tensors (NULL: the node index). The
 * kind's shape() validates it against its inputs at once. Returns the node index via *node
 * (may be NULL). */
nad_status nadi_add_node(nadi_builder *b, nadi_kind kind, const int32_t *in, int32_t n_in,
                         const nadi_hparams *hp, const char *prefix, int32_t *node);
/* Shorthands of the built-ins. `in` is the producer. */
nad_status nadi_add_conv(nadi_builder *b, int32_t in, int64_t out_c, int32_t k, int32_t stride,
                         int32_t pad, int32_t bias, nadi_init_rule init, const char *prefix,
                         int32_t *node);
nad_status nadi_add_pool(nadi_builder *b, int32_t in, nadi_kind kind, int32_t k, int32_t stride,
                         int32_t *node);
nad_status nadi_add_simple(nadi_builder *b, int32_t in, nadi_kind kind /* relu, flatten, gap */,
                           int32_t *node);
nad_status nadi_add_linear(nadi_builder *b, int32_t in, int64_t out, int32_t bias,
                           const char *prefix, int32_t *node);
nad_status nadi_add_batchnorm(nadi_builder *b, int32_t in, const char *prefix, int32_t *node);
nad_status nadi_add_dropout(nadi_builder *b, int32_t in, double p, int32_t *node);
nad_status nadi_add_join(nadi_builder *b, nadi_kind kind /* add, concat */, int32_t in0,
                         int32_t in1, int32_t *node);
int32_t nadi_builder_last(const nadi_builder *b); /* last node, or NADI_INPUT_NODE if none */
/* Per-sample dims of node id's output (NADI_INPUT_NODE: the network input (1, C, H, W)). */
nadi_dims nadi_builder_dims(const nadi_builder *b, int32_t id);

/* Blocks of today's architectures (lib/graph/blocks.c), shared by the built-ins and the spec
 * language: each appends existing kinds after node `in` and returns its last node in *node.
 * `init` arguments are nadi_init_rule values of the block's weights; tv_init != 0 takes
 * torchvision's initialisation of the module the block copies, 0 PyTorch's defaults. */
nad_status nadi_add_conv_groups(nadi_builder *b, int32_t in, int64_t out_c, int32_t k,
                                int32_t stride, int32_t pad, int64_t groups, int32_t bias,
                                int64_t init, const char *prefix, int32_t *node);
/* A parameter-free activation: relu6 (NADI_CLIP 0..6), gelu (erf), hardswish, silu, ... */
nad_status nadi_add_activation(nadi_builder *b, int32_t in, nadi_kind kind, int32_t *node);
/* LayerNorm over the channels of a feature map (1, C, H, W) (torchvision's LayerNorm2d: a
 * transpose to channels-last and back), else over the last axis (tokens, vectors). */
nad_status nadi_add_layernorm(nadi_builder *b, int32_t in, double eps, const char *prefix,
                              int32_t *node);
/* MobileNetV2's InvertedResidual: [1x1 expand + BN + ReLU6], 3x3 depthwise (stride) + BN +
 * ReLU6, 1x1 project + BN, plus the input when stride 1 and channels unchanged. */
nad_status nadi_add_invres(nadi_builder *b, int32_t in, int64_t out_c, int64_t expand,
                           int32_t stride, int64_t init, const char *prefix, int32_t *node);
/* ConvNeXt's CNBlock: x + layer_scale * pw2(gelu(pw1(LN(dwconv7x7(x))))) (channels-last). */
nad_status nadi_add_cnblock(nadi_builder *b, int32_t in, int64_t weight_init, int64_t scale_init,
                            const char *prefix, int32_t *node);
/* ViT's input: class token, patchify conv (patch x patch, stride patch), tokens, position
 * embedding: (1, C, H, W) -> (1, 1 + (H/patch)(W/patch), dim). */
typedef struct nadi_vit_names {
  const char *class_token, *conv_proj, *pos_embedding;
} nadi_vit_names;
nad_status nadi_add_patch_embed(nadi_builder *b, int32_t in, int64_t dim, int32_t patch,
                                const nadi_vit_names *names, int tv_init, int32_t *node);
/* ViT's EncoderBlock: pre-LN multi-head self-attention and MLP (GELU), both residual. */
nad_status nadi_add_encoder(nadi_builder *b, int32_t in, int64_t num_heads, int64_t mlp_dim,
                            int tv_init, const char *prefix, int32_t *node);
/* Token 0 of (1, T, E) (the class token) as (1, E). */
nad_status nadi_add_class_token(nadi_builder *b, int32_t in, int32_t *node);
/* Tensor names of a finished graph as torchvision's: attention's in_proj_weight/_bias. */
void nadi_blocks_names(nadi_graph *g);
/* Validates, computes parameter layout and flops; consumes the builder. */
nad_status nadi_builder_finish(nadi_builder *b, nadi_graph **out);
void nadi_graph_destroy(nadi_graph *g);
/* A deep copy of g (layers, tensor table, base parameters, laws). */
nad_status nadi_graph_clone(const nadi_graph *g, nadi_graph **out);
/* Forward FLOPs of one layer for one sample (the graph's flops is their sum; convention in
 * build.c). -1 only if the count overflows, never for a layer of a finished graph. */
int64_t nadi_layer_flops(const nadi_layer *l);

/* Identity of a graph (lib/graph/fingerprint.c): a hash of every layer's kind, connections,
 * shapes, hyper-parameters (nadi_hparams whole) and parameter layout. _v2 is the hash that
 * checkpoint formats 1 and 2 recorded (the first eleven kinds only). */
uint64_t nadi_graph_fingerprint(const nadi_graph *g);
uint64_t nadi_graph_fingerprint_v2(const nadi_graph *g);

/* Built-in architectures (lib/graph/builtins.c) and the spec parser (lib/graph/spec.c). */
int32_t nadi_builtin_count(void);
const char *nadi_builtin_name(int32_t i);
nad_status nadi_builtin_build(const char *name, int64_t c, int64_t h, int64_t w, int64_t outputs,
                              nadi_graph **out);
nad_status nadi_spec_build(const char *spec, int64_t c, int64_t h, int64_t w, nadi_graph **out);

/* Initialisation (lib/graph/init.c): PyTorch default init of every layer of g into params
 * (n_params floats), drawn from rng; tensors no kind draws keep g->base_params (or 0). */
void nadi_graph_init_params(const nadi_graph *g, float *params, nadi_rng *rng);

/* Init rules (lib/graph/init_rules.c; format in docs/onnx.md): `PATTERN RULE [ARGS]` per line,
 * first match wins, PATTERN an fnmatch glob on tensor names, optionally `KINDS:GLOB` with a
 * comma list of kind names. Resolves the rules for every tensor of g into g->tensor_law
 * (replacing any laws g had); `file` laws copy file_params (n_params floats; NULL: the rule
 * is refused) into g->base_params. Errors are NAD_ERR_PARSE "SOURCE:LINE: reason"; patterns
 * that match no tensor are not an error: *warnings (malloc'd, "" when none; may be NULL)
 * lists them one per line. */
nad_status nadi_graph_set_init_rules(nadi_graph *g, const char *text, const char *source,
                                     const float *file_params, char **warnings);
/* Draws tensor t of g into params (its offset) by law (init.c calls it). */
void nadi_law_draw(const nadi_tensor_law *law, const nadi_graph *g, int64_t t, float *params,
                   nadi_rng *rng);

/* Executor (lib/graph/exec.c): buffers for one batch capacity. Not thread-safe.
 * Full mode (nadi_exec_create): keeps every activation and the kernel state, so that backward
 * can follow a forward (training or eval); the gradients live in buffers shared by liveness
 * during the backward walk, so they are not readable after it. Forward-only mode
 * (nadi_exec_create_forward_only): eval only (training must be 0), no backward, and each
 * node's buffer is reused by later nodes once the last node reading it has run, so an
 * activation stays readable in nadi_exec_act only until then. Same outputs bit for bit. */
typedef struct nadi_exec nadi_exec;
nad_status nadi_exec_create(const nadi_graph *g, int64_t batch_cap, nadi_exec **out);
/* Kernels of a forward-only executor get nadi_ctx.forward_only and may use the faster eval
 * algorithms (Winograd, tiny maps as one GEMM). */
nad_status nadi_exec_create_forward_only(const nadi_graph *g, int64_t batch_cap,
                                         nadi_exec **out);
void nadi_exec_destroy(nadi_exec *e);
int64_t nadi_exec_batch_cap(const nadi_exec *e);
/* Bytes of the executor's buffers (activations, gradients, state, workspace). */
size_t nadi_exec_bytes(const nadi_exec *e);
/* Let a full executor's eval forwards use the forward-only kernels (Winograd, tiny maps): the
 * same arithmetic as a forward-only executor with every activation kept, which is what the
 * liveness test compares against. nadi_exec_backward must not be called on it afterwards. */
void nadi_exec_use_eval_kernels(nadi_exec *e);
/* A flag the forward and backward passes poll before each node (NULL: none, the default):
 * once it is non-zero they return at the next node, leaving outputs and gradients undefined (a
 * cancelled training batch or gradient probe of a large network stops within one layer). */
void nadi_exec_set_stop(nadi_exec *e, const atomic_int *stop);
/* Forward batch <= cap samples; returns a pointer to the output (batch * out floats) owned by e. */
const float *nadi_exec_forward(nadi_exec *e, float *params, const float *x, int64_t batch,
                               int training, nadi_rng *rng);
/* Run only nodes [start, n_layers). The nodes before start that nodes of the range read must
 * already hold their activations in nadi_exec_act (computed by an earlier call, or written by
 * the caller); x is the network input (may be NULL if no node of the range reads it). Used by
 * the dipole probe, which computes a prefix itself and writes the activations the rest reads. */
const float *nadi_exec_forward_range(nadi_exec *e, float *params, const float *x, int64_t start,
                                     int64_t batch, int training, nadi_rng *rng);
/* Run node `node` alone (eval mode) on what its inputs hold; returns its activation. In
 * forward-only mode that activation is readable until a later node reuses its buffer: a
 * caller that wants every activation of a prefix (the delta forward's base) runs it node by
 * node and reads each one right away. */
const float *nadi_exec_forward_node(nadi_exec *e, float *params, const float *x, int64_t node,
                                    int64_t batch);
/* Activation buffer of a node (batch_cap * out size floats; see the modes above). */
float *nadi_exec_act(nadi_exec *e, int64_t node);
/* Backward through the last forward (full mode only). dx (batch*in floats) and dparams
 * (n_params floats) are overwritten (not accumulated); either may be NULL. */
void nadi_exec_backward(nadi_exec *e, const float *params, const float *dy, float *dx,
                        float *dparams);

/* Delta forward (lib/graph/delta.c, kernels in delta_patch.c): outputs of the network at x0
 * with ONE input coordinate changed per sample, reusing the activations of x0. Local nodes
 * (conv, pools, relu, eval batchnorm/dropout, add, concat, gap) are computed only on the
 * rectangle each change can reach while that pays; a linear layer reading such a rectangle
 * uses only its weight columns; the rest of the graph runs densely. Equal to a dense forward
 * up to float rounding.
 * crossover: a convolution stays on patches while its patch arithmetic is at most this fraction
 * of its dense arithmetic; NADI_DELTA_DEFAULT = the measured default, 0 = every convolution
 * dense, INFINITY = every local node on patches (tests use all three). */
#define NADI_DELTA_DEFAULT (-1.0)
typedef struct nadi_delta nadi_delta;
nad_status nadi_delta_create(const nadi_graph *g, int64_t batch_cap, double crossover,
                             nadi_delta **out);
void nadi_delta_destroy(nadi_delta *p);
/* Forward x0 once (batch 1, eval mode) and keep its activations. x0 is copied. */
void nadi_delta_set_base(nadi_delta *p, float *params, const float *x0);
/* out[b * out_size ...] = f(x0 with x[coord[b]] = value[b]) for b < batch <= cap. */
void nadi_delta_forward(nadi_delta *p, float *params, const int64_t *coord, const float *value,
                        int64_t batch, float *out);
/* A flag nadi_delta_forward polls before each node (NULL: none, the default): once it is
 * non-zero the forward returns at the next node, leaving `out` undefined (a cancelled run of a
 * large network stops within one layer, not one whole chunk). */
void nadi_delta_set_stop(nadi_delta *p, const atomic_int *stop);
/* Number of nodes computed on patches (0 = the whole forward is dense). */
int64_t nadi_delta_patch_nodes(const nadi_delta *p);

/* BatchNorm folding (lib/graph/fold.c): the graph with every eval-mode BatchNorm that reads a
 * convolution (read by nothing else) folded into that convolution's weights and bias, and every
 * ReLU that reads one of the other BatchNorms (read by nothing else) fused into it (then_relu;
 * forward-only: such a graph has no backward), and the nodes before a Gather that need only its
 * slice computed on that slice ("slicing" in fold.c: ViT's last block for its class token).
 * The folded graph has its own parameter layout (the source's when no BatchNorm was folded);
 * nadi_fold_params maps a network's parameters (src layout) into it (folded->n_params floats).
 * Equal to src up to float rounding (bit for bit when nothing was folded nor sliced). */
typedef struct nadi_fold nadi_fold;
nad_status nadi_fold_create(const nadi_graph *src, nadi_fold **out);
void nadi_fold_destroy(nadi_fold *f);
const nadi_graph *nadi_fold_graph(const nadi_fold *f);
int64_t nadi_fold_count(const nadi_fold *f); /* BatchNorms folded */
int64_t nadi_fold_relus(const nadi_fold *f); /* ReLUs fused into their BatchNorm */
int64_t nadi_fold_sliced(const nadi_fold *f); /* nodes computed on one slice (fold.c, slicing) */
int64_t nadi_fold_gathers(const nadi_fold *f); /* Gathers added by slicing minus those removed */
void nadi_fold_params(const nadi_fold *f, const float *params, float *folded);

#endif
