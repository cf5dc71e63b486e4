/**
 * @file nad.h
 * @brief libnad — neural anisotropy directions of neural-network architectures.
 *
 * The one public header. Conventions that hold for every function:
 *  - Every function returns nad_status unless it is a destroy, version or static-string getter.
 *  - On failure a human-readable message is stored *per thread* and read with nad_last_error();
 *    it stays valid until the next failing libnad call on the same thread.
 *  - Constructors write the new handle to their last parameter and set it to NULL on failure.
 *    destroy(NULL) is a no-op. Children retain their parents (a net or estimator keeps its arch
 *    alive), so handles may be destroyed in any order.
 *  - Inputs are const; results go into caller-allocated buffers. Every buffer comes with its
 *    length in elements, which must equal the number of elements the call reads or writes
 *    (never a capacity): any other length is NAD_ERR_SHAPE. Nothing returned by pointer needs
 *    freeing unless said so.
 *  - Threads: an arch is immutable and may be shared by any number of threads. A net or an
 *    estimator is used by one thread at a time; different ones may run concurrently.
 *  - Tensors are float32, C order, batch-major NCHW: x[b][c][h][w].
 */
#ifndef NAD_NAD_H
#define NAD_NAD_H

#include <stddef.h>
#include <stdint.h>

#include "nad/nad_version.h"

/** Marks the exported functions (default visibility; dllexport/dllimport on Windows unless
 *  NAD_STATIC is defined). */
#if defined(_WIN32) && !defined(NAD_STATIC)
#if defined(NAD_BUILDING)
#define NAD_API __declspec(dllexport)
#else
#define NAD_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define NAD_API __attribute__((visibility("default")))
#else
#define NAD_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Versions                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** NAD_VERSION_NUMBER of the library actually loaded (compare with the macro of the header).
 *  @return the version number, MAJOR·10000 + MINOR·100 + PATCH */
NAD_API uint32_t nad_version(void);
/** "MAJOR.MINOR.PATCH" of the library actually loaded; static storage.
 *  @return the version string (static storage) */
NAD_API const char *nad_version_string(void);

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** Status codes. Values are ABI: append only, never renumber. */
typedef enum nad_status {
  NAD_OK = 0,                /**< success */
  NAD_ERR_INVALID_ARG = 1,   /**< NULL handle, bad size, out-of-range value */
  NAD_ERR_OUT_OF_MEMORY = 2, /**< allocation failed or a size overflowed */
  NAD_ERR_MISUSE = 3,        /**< wrong call order (e.g. results read before run) */
  NAD_ERR_UNSUPPORTED = 4,   /**< valid request this build cannot do */
  NAD_ERR_NUMERICAL = 5,     /**< LAPACK failure, NaN or Inf */
  NAD_ERR_IO = 6,            /**< file cannot be opened, read or written */
  NAD_ERR_CANCELLED = 7,     /**< a callback returned non-zero, or nad_estimator_cancel /
                                nad_trainer_cancel was called */
  NAD_ERR_OPTION_TYPE = 8,   /**< option set with the wrong typed setter */
  NAD_ERR_PARSE = 9,         /**< architecture spec or name not understood */
  NAD_ERR_SHAPE = 10,        /**< shapes do not fit together */
  NAD_ERR_FORMAT = 11        /**< file exists but its content is malformed or mismatched */
} nad_status;

/** Static, never-NULL English name of a status ("invalid argument", ...).
 *  @param s a status code (any value; unknown ones give "unknown status")
 *  @return the name (static storage, never NULL) */
NAD_API const char *nad_status_string(nad_status s);
/** Detailed message of the last failing libnad call on this thread ("" if none). Thread-local
 *  storage, valid until the next failing call on this thread. Wrappers must read it right after
 *  the failing call.
 *  @return the message (thread-local storage, never NULL) */
NAD_API const char *nad_last_error(void);

/* ------------------------------------------------------------------------------------------ */
/* The BLAS underneath                                                                        */
/* ------------------------------------------------------------------------------------------ */

/** What nad_blas_info reports. Values are ABI: append only. */
typedef enum nad_blas_field {
  NAD_BLAS_VENDOR = 0,    /**< "OpenBLAS" or "BLIS" */
  NAD_BLAS_VERSION = 1,   /**< the BLAS's own configuration or version string */
  NAD_BLAS_CORE = 2,      /**< kernel set in use: OpenBLAS core name ("Haswell"), BLIS
                             sub-configuration ("zen3") */
  NAD_BLAS_CPU = 3,       /**< vector level the CPU and OS allow: "SSE", "AVX", "AVX2+FMA",
                             "AVX-512" or "unknown" */
  NAD_BLAS_BEST_CORE = 4, /**< the vendor's kernel set for that level ("SkylakeX"); "" if unknown */
  NAD_BLAS_FIX = 5,       /**< "" or an environment assignment, e.g. "OPENBLAS_CORETYPE=SkylakeX",
                             that selects the better kernel set when it is in the environment
                             before the library is loaded (never given when the user set that
                             variable: an explicit choice is kept) */
  NAD_BLAS_WARNING = 6    /**< "" or one sentence: the kernel set is weaker than the CPU allows,
                             and what to do */
} nad_blas_field;

/** Facts about the BLAS libnad computes with, decided once per process (the first call reads
 *  the environment). A library cannot change the BLAS kernels once the BLAS is loaded, so it
 *  never does: when they are weaker than the CPU allows (a BLAS that does not recognise a new
 *  CPU falls back to generic kernels, 2-5x slower), NAD_BLAS_WARNING says so and NAD_BLAS_FIX
 *  gives the variable to set before loading. The `nad` tool restarts itself once with it, and
 *  the Python binding sets it before loading the library. Static storage; never NULL ("" for
 *  an unknown field).
 *  @param f which fact to report
 *  @return the fact (static storage, never NULL) */
NAD_API const char *nad_blas_info(nad_blas_field f);
/** Threads the BLAS uses for one call now (OpenBLAS: openblas_get_num_threads; BLIS:
 *  BLIS_NUM_THREADS, 1 when unset). The estimator runs the BLAS single-threaded while its own
 *  workers probe networks, and with these threads for the eigensolve.
 *  @return the number of threads */
NAD_API int32_t nad_blas_threads(void);

/* ------------------------------------------------------------------------------------------ */
/* Architectures                                                                              */
/* ------------------------------------------------------------------------------------------ */

/** An architecture: an immutable description of a network (layers, shapes, parameter layout). */
typedef struct nad_arch nad_arch;

/** Number of built-in architecture names.
 *  @return the number of built-in architectures */
NAD_API int32_t nad_arch_builtin_count(void);
/** Name of built-in architecture i (0 <= i < count), static storage; NULL when out of range.
 *  Names: logreg, lenet, lenet-nopool, vgg11, vgg11-bn, vgg11-nopool, resnet18,
 *  resnet18-noshortcut, densenet121, allconv, mobilenet-v2, convnext, vit (the last three:
 *  torchvision's mobilenet_v2, a small ConvNeXt and a small VisionTransformer; docs/spec.md).
 *  @param i index, 0 <= i < nad_arch_builtin_count()
 *  @return the name, or NULL when i is out of range */
NAD_API const char *nad_arch_builtin_name(int32_t i);

/** Build a built-in architecture for inputs of shape c×h×w and `outputs` outputs.
 *  NAD_ERR_PARSE for an unknown name, NAD_ERR_SHAPE when the layers do not fit the input.
 *  @param name built-in name, e.g. "lenet"
 *  @param c channels of one input
 *  @param h height of one input
 *  @param w width of one input
 *  @param outputs number of outputs (>= 1)
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_create_builtin(const char *name, int64_t c, int64_t h, int64_t w,
                                           int64_t outputs, nad_arch **out);

/** Build an architecture from a text spec for inputs c×h×w. The spec is a ';'-separated list:
 *    conv OUT kK [sS] [pP] [gG] [nobias] | dwconv kK [sS] [pP] [nobias] | maxpool K [sS]
 *    | avgpool K [sS] | relu | relu6 | gelu | hardswish | silu | sigmoid | tanh | bn
 *    | layernorm | dropout [P] | flatten | gap | fc OUT [nobias]
 *    | residual { ... } [shortcut { ... }]   output = body(x) + shortcut(x) (identity if absent)
 *    | dense { ... }                         output = concat(body(x), x) along channels
 *    | invres OUT tT [sS]                    MobileNetV2's inverted residual
 *    | cnblock                               ConvNeXt's block
 *    | embed DIM pP | encoder HEADS MLP | cls   ViT: patch tokens, encoder block, class token
 *  e.g. "conv 6 k5; relu; maxpool 2; conv 16 k5; relu; maxpool 2; fc 120; relu; fc 84; relu; fc 1"
 *  or "embed 64 p4; encoder 4 128; layernorm; cls; fc 1" (docs/spec.md: every item with an
 *  example).
 *  `fc` flattens its input. The number of outputs is the size of the last layer. On a bad spec,
 *  NAD_ERR_PARSE and nad_last_error() names the character position and what was expected.
 *  @param spec the layer spec (NUL-terminated)
 *  @param c channels of one input
 *  @param h height of one input
 *  @param w width of one input
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_create_spec(const char *spec, int64_t c, int64_t h, int64_t w,
                                        nad_arch **out);

/** Import an architecture from an ONNX model file (opsets 11 to 17; what torch.onnx.export,
 *  tf2onnx and jax2onnx write), for inputs c×h×w, or the file's own input shape when c, h and w
 *  are all 0. The graph's shape computations (Shape, Gather, Concat, Reshape... of constants)
 *  are evaluated for that shape, and every other node is mapped onto libnad's layer kinds; the
 *  supported operators are listed in docs/onnx.md. The network's response is the model's
 *  first output (its element NAD_OPT_OUTPUT). Parameters are named as the file names its
 *  initializers (torch: the state_dict keys); the file's own values are kept
 *  (nad_arch_file_params) for NADs of that trained network, and random networks are drawn with
 *  PyTorch's default initialisation of each layer (docs/onnx.md says which tensors keep the
 *  file's values). The handle is named after the file ("resnet18" for "resnet18.onnx").
 *  A file that is not ONNX or is truncated is NAD_ERR_FORMAT (or NAD_ERR_IO when it cannot be
 *  read); an operator or attribute libnad does not implement, NAD_ERR_UNSUPPORTED; shapes that
 *  do not fit, NAD_ERR_SHAPE — each message names the file, the node and the reason.
 *  @param path the .onnx file (external data, if any, next to it)
 *  @param c channels of one input (0: the file's)
 *  @param h height of one input (0: the file's)
 *  @param w width of one input (0: the file's)
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_create_onnx(const char *path, int64_t c, int64_t h, int64_t w,
                                        nad_arch **out);

/** nad_arch_create_onnx from the bytes of a model in memory (copied; external data is not
 *  supported here).
 *  @param data the model's bytes
 *  @param len number of bytes
 *  @param name the handle's name, also used in messages (NULL: "onnx")
 *  @param c channels of one input (0: the file's)
 *  @param h height of one input (0: the file's)
 *  @param w width of one input (0: the file's)
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_create_onnx_buffer(const void *data, size_t len, const char *name,
                                               int64_t c, int64_t h, int64_t w, nad_arch **out);

/** The weights stored in the file an architecture was imported from, in its parameter layout
 *  (nad_arch_num_params floats): a trained network's own parameters, for nad_net_set_params or
 *  nad_estimator_set_network. NAD_ERR_INVALID_ARG for a built-in or spec architecture.
 *  @param a the architecture
 *  @param dst receives the parameters
 *  @param dst_len length of dst: exactly nad_arch_num_params
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_file_params(const nad_arch *a, float *dst, size_t dst_len);

/** A new architecture equal to a whose random networks are initialised by init rules: one
 *  rule per line, `PATTERN RULE [ARGS]`, '#' comments, the first rule whose PATTERN (an
 *  fnmatch glob on the tensor name, nad_arch_tensor; optionally `KINDS:GLOB` with a comma list
 *  of layer kinds, e.g. `conv2d:*.weight`) matches a tensor decides how it is drawn: default,
 *  file, zeros, ones, constant V, uniform [a=] [b=], normal [mean=] [std=], trunc_normal
 *  [mean=] [std=] [a=] [b=], kaiming_uniform|kaiming_normal [fan_in|fan_out] [NONLINEARITY]
 *  [a=], xavier_uniform|xavier_normal [gain=] — torch.nn.init's laws and defaults
 *  (docs/onnx.md; files for torchvision's models in share/init). Tensors no rule matches keep
 *  PyTorch's default for their layer. Draws come from the same per-network streams as
 *  without rules (network j from (seed, j)); the rules are part of the architecture's
 *  identity (checkpoints). A convolution into which an export folded a BatchNorm keeps a 0
 *  bias whatever the rules (except `file`). Rules given to an architecture that already has
 *  rules replace them. A rule that cannot apply (a syntax error, kaiming on a 1-D tensor,
 *  `file` for an architecture not imported from a file) is NAD_ERR_PARSE naming
 *  SOURCE:LINE and the reason; a pattern matching no tensor is only a warning
 *  (nad_arch_init_rules_warnings). Retains nothing of the caller's: a stays valid and usable.
 *  @param a the architecture
 *  @param rules the rules (NUL-terminated text)
 *  @param source name used in messages (e.g. the file name; NULL: "init rules")
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_with_init_rules(const nad_arch *a, const char *rules,
                                            const char *source, nad_arch **out);

/** nad_arch_with_init_rules with the rules read from a text file (at most 16 MiB); messages
 *  name the file. NAD_ERR_IO when it cannot be read.
 *  @param a the architecture
 *  @param path the rules file
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_with_init_rules_file(const nad_arch *a, const char *path,
                                                 nad_arch **out);

/** Warnings of the init rules of a ("SOURCE:LINE: pattern 'P' matches no tensor", one per
 *  line), or "" when there are none or a has no rules. Owned by a.
 *  @param a the architecture
 *  @return the warnings (owned by a, never NULL) */
NAD_API const char *nad_arch_init_rules_warnings(const nad_arch *a);

/** Release an architecture (NULL: no-op). Nets and estimators keep their own reference.
 *  @param a the architecture */
NAD_API void nad_arch_destroy(nad_arch *a);

/** Name given at creation ("lenet", or "spec" for a spec). Owned by a.
 *  @param a the architecture
 *  @return the name (owned by a) */
NAD_API const char *nad_arch_name(const nad_arch *a);
/** Input shape (c, h, w) into shape[3].
 *  @param a the architecture
 *  @param[out] shape receives (c, h, w)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_input_shape(const nad_arch *a, int64_t shape[3]);
/** Number of outputs per sample.
 *  @param a the architecture
 *  @param[out] k receives the number of outputs
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_num_outputs(const nad_arch *a, int64_t *k);
/** Number of floats in the flat parameter array (PyTorch state_dict order, BatchNorm running
 *  statistics included, num_batches_tracked excluded).
 *  @param a the architecture
 *  @param[out] n receives the number of floats
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_num_params(const nad_arch *a, int64_t *n);
/** Number of trainable parameters (= sum(p.numel() for p in model.parameters()) in PyTorch).
 *  @param a the architecture
 *  @param[out] n receives the number of trainable parameters
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_num_trainable(const nad_arch *a, int64_t *n);
/** Floating-point operations of one forward pass of one sample (multiply-add = 2).
 *  @param a the architecture
 *  @param[out] flops receives the FLOPs per sample
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_flops(const nad_arch *a, int64_t *flops);

/** Number of layers (nodes of the graph, in execution order).
 *  @param a the architecture
 *  @param[out] n receives the number of layers
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_num_layers(const nad_arch *a, int64_t *n);
/** Describe layer i: a one-line description (e.g. "conv2d 1->6 k5 s1 p0"; owned by a), its
 *  per-sample output shape, its parameter count (state_dict floats) and forward FLOPs per sample.
 *  Any out pointer may be NULL.
 *  @param a the architecture
 *  @param i layer index, 0 <= i < nad_arch_num_layers
 *  @param[out] desc receives the description (owned by a); may be NULL
 *  @param[out] out_shape receives the per-sample output shape; may be NULL
 *  @param[out] params receives the parameter count; may be NULL
 *  @param[out] flops receives the forward FLOPs per sample; may be NULL
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_layer(const nad_arch *a, int64_t i, const char **desc,
                                  int64_t out_shape[3], int64_t *params, int64_t *flops);

/** Number of parameter tensors (state_dict entries).
 *  @param a the architecture
 *  @param[out] n receives the number of tensors
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_num_tensors(const nad_arch *a, int64_t *n);
/** Tensor t: name (e.g. "3.weight", owned by a), offset in the flat array, element count and
 *  whether it is trainable (running statistics are not). Any out pointer may be NULL.
 *  @param a the architecture
 *  @param t tensor index, 0 <= t < nad_arch_num_tensors
 *  @param[out] name receives the name (owned by a); may be NULL
 *  @param[out] offset receives the offset in the flat array; may be NULL
 *  @param[out] numel receives the element count; may be NULL
 *  @param[out] trainable receives 1 if trainable, else 0; may be NULL
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_arch_tensor(const nad_arch *a, int64_t t, const char **name, int64_t *offset,
                                   int64_t *numel, int32_t *trainable);

/* ------------------------------------------------------------------------------------------ */
/* Networks                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** A network instance: an architecture plus parameters plus buffers. One thread at a time. */
typedef struct nad_net nad_net;

/** New network with PyTorch's default initialisation (VGG convolutions: N(0, sqrt(2/(k·k·out))),
 *  bias 0; BatchNorm weight 1, bias 0, running mean 0, var 1) drawn from `seed`. The same
 *  (arch, seed) always gives the same weights. Retains a.
 *  @param a the architecture
 *  @param seed seed of the initialisation
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_net_create(const nad_arch *a, uint64_t seed, nad_net **out);
/** New network whose parameters are copied from params[0..len) (len must equal
 *  nad_arch_num_params). Retains a.
 *  @param a the architecture
 *  @param params the flat parameter array (copied)
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_net_create_from_params(const nad_arch *a, const float *params, size_t len,
                                              nad_net **out);
/** Release a network (NULL: no-op).
 *  @param n the network */
NAD_API void nad_net_destroy(nad_net *n);

/** Copy the flat parameter array into dst (len = nad_arch_num_params).
 *  @param n the network
 *  @param[out] dst receives the parameters
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_net_get_params(const nad_net *n, float *dst, size_t len);
/** Overwrite the parameters from src (copied).
 *  @param n the network
 *  @param src the new parameters
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_net_set_params(nad_net *n, const float *src, size_t len);

/** Training mode (1): BatchNorm uses batch statistics and updates its running averages, Dropout
 *  masks with a generator seeded by `seed`. Eval mode (0, the default): BatchNorm uses running
 *  statistics, Dropout is the identity.
 *  @param n the network
 *  @param training 1 for training mode, 0 for eval mode
 *  @param seed seed of the Dropout masks
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_net_set_training(nad_net *n, int32_t training, uint64_t seed);

/** Forward a batch: x has batch·c·h·w floats, y receives batch·outputs floats (y_len checked).
 *  The activations are kept for a following nad_net_backward.
 *  @param n the network
 *  @param x the inputs, batch·c·h·w floats
 *  @param batch number of samples
 *  @param[out] y receives the outputs, batch·outputs floats
 *  @param y_len number of floats at y
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_net_forward(nad_net *n, const float *x, int64_t batch, float *y,
                                   size_t y_len);

/** Reverse pass through the last forward: dy (batch·outputs) is the gradient of a scalar loss
 *  with respect to the outputs. Writes the input gradient into dx (batch·c·h·w, may be NULL)
 *  and the parameter gradient, summed over the batch, into dparams (num_params floats, entries
 *  of running statistics set to 0; may be NULL). NAD_ERR_MISUSE without a forward first.
 *  @param n the network
 *  @param dy gradient of the loss with respect to the outputs
 *  @param dy_len number of floats at dy (batch·outputs)
 *  @param[out] dx receives the input gradient; may be NULL
 *  @param dx_len number of floats at dx (batch·c·h·w)
 *  @param[out] dparams receives the parameter gradient; may be NULL
 *  @param dparams_len number of floats at dparams (num_params)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_net_backward(nad_net *n, const float *dy, size_t dy_len, float *dx,
                                    size_t dx_len, float *dparams, size_t dparams_len);

/** Convenience: input gradient of sum_k w[k]·f_k(x) for every sample of the batch
 *  (w has `outputs` entries). dx has batch·c·h·w floats. Runs a forward and a backward.
 *  @param n the network
 *  @param x the inputs, batch·c·h·w floats
 *  @param batch number of samples
 *  @param w weight of each output
 *  @param w_len number of weights (the number of outputs)
 *  @param[out] dx receives the input gradients
 *  @param dx_len number of floats at dx (batch·c·h·w)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_net_input_grad(nad_net *n, const float *x, int64_t batch, const float *w,
                                      size_t w_len, float *dx, size_t dx_len);

/* ------------------------------------------------------------------------------------------ */
/* .npy files                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/** Read a .npy file (format 1.0, 2.0 or 3.0; little-endian '<f4' or '<f8'; C order) into a newly
 *  allocated float array (float64 data is converted) that the caller frees with nad_free().
 *  shape receives up to 8 dimensions, *ndim their number. Malformed files: NAD_ERR_FORMAT.
 *  @param path file path
 *  @param[out] data receives the array, to be freed with nad_free()
 *  @param[out] shape receives the dimensions
 *  @param[out] ndim receives the number of dimensions
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_npy_read_f32(const char *path, float **data, int64_t shape[8],
                                    int32_t *ndim);
/** Write float32 (dtype_f64 = 0) or float64 (dtype_f64 = 1) data of the given shape to a .npy
 *  file; `data` points to float or double accordingly. Written atomically (temp file + rename).
 *  Unix conventions: a symbolic link has its target replaced (atomically, in the target's
 *  directory); a path that is not a regular file (a FIFO, a device such as /dev/null,
 *  /dev/stdout, /proc/self/fd/N) is written through, without atomicity; a directory is refused.
 *  @param path file path
 *  @param data the array (float or double, see dtype_f64)
 *  @param dtype_f64 1 for float64 data, 0 for float32
 *  @param shape the ndim dimensions
 *  @param ndim number of dimensions (1 to 8)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_npy_write(const char *path, const void *data, int32_t dtype_f64,
                                 const int64_t *shape, int32_t ndim);
/** Free memory that libnad allocated for the caller (NULL: no-op).
 *  @param p memory allocated by libnad, or NULL */
NAD_API void nad_free(void *p);

/* ------------------------------------------------------------------------------------------ */
/* NAD estimator                                                                              */
/* ------------------------------------------------------------------------------------------ */

/** One NAD computation for an architecture: covariance over random networks of the response
 *  at an evaluation point, then its eigenvectors. One thread at a time. */
typedef struct nad_estimator nad_estimator;

/** Option ids. Values are ABI: append only. 100-199 take int64, 200-299 double. Listed by the
 *  handle that takes them (nad_option_owner says the same at run time); the values are those
 *  they were given when added, so a group's values are not contiguous. */
typedef enum nad_option {
  /* -- both the estimator and the trainer ---------------------------------------------------- */
  NAD_OPT_SEED = 101,           /**< default 0; network j's weights depend only on (seed, j);
                                   trainer: shuffling and dropout masks */
  NAD_OPT_NUM_THREADS = 102,    /**< worker threads, default 1, 0 = number of cores */
  NAD_OPT_BATCH = 104,          /**< estimator: perturbed inputs per forward chunk, default 256;
                                   trainer: minibatch size, default 128 */
  /* -- estimator (nad_estimator_set_int / _double) ------------------------------------------- */
  NAD_OPT_NUM_NETWORKS = 100,   /**< N >= 2 samples (networks; points for a fixed network),
                                   default 1000 */
  NAD_OPT_TOP_K = 103,          /**< NADs to keep, 0 (default) = all D */
  NAD_OPT_MODE = 105,           /**< nad_mode, default NAD_MODE_DIPOLE */
  NAD_OPT_EVAL_POINT = 106,     /**< nad_eval_point, default NAD_EVAL_NORMAL */
  NAD_OPT_FIRST_NETWORK = 107,  /**< index of the first network (for runs split over machines) */
  NAD_OPT_NETWORK = 120,        /**< nad_network, default NAD_NETWORK_RANDOM (FIXED is set by
                                   nad_estimator_set_network) */
  NAD_OPT_OUTPUT = 121,         /**< output whose dipole is the response: 0 (default) .. K − 1,
                                   or NAD_OUTPUT_LABEL: each evaluation point's label */
  NAD_OPT_MEMORY = 122,         /**< memory budget of the estimator in bytes, 0 (default) = half
                                   of the available memory (MemAvailable), of which probing
                                   takes at most 1.5 GiB; see nad_estimator_plan */
  NAD_OPT_SKETCH = 123,         /**< L > 0: sketching mode with L rows (see below); 0 = exact */
  NAD_OPT_CONVERGE_EVERY = 124, /**< C > 0: stop when converged, checking first at C networks,
                                   then on the geometric schedule of NAD_OPT_CONVERGE_GROWTH
                                   (multiples of C), with NAD_OPT_NUM_NETWORKS the maximum (see
                                   nad_estimator_converged); 0 (default) = run all networks.
                                   Its first version checked at every multiple of C: every
                                   value keeps its meaning with NAD_OPT_CONVERGE_GROWTH = 1 */
  NAD_OPT_STEP = 200,           /**< dipole step s > 0, default 100 */
  NAD_OPT_CONVERGE_GROWTH = 205, /**< G >= 1, default 1.25: the factor by which the count grows
                                    between two checks of NAD_OPT_CONVERGE_EVERY (the next
                                    check is the smallest multiple of C >= G times the previous
                                    one, and above it); 1 = every C networks */
  /* -- trainer (nad_trainer_set_int / _double) ----------------------------------------------- */
  NAD_OPT_EPOCHS = 108,         /**< trainer: epochs, default 20 */
  NAD_OPT_SCHEDULE = 109,       /**< trainer: nad_schedule, default NAD_SCHEDULE_LINEAR */
  NAD_OPT_LR = 201,             /**< trainer: peak learning rate, default 0.5 (linear decay to 0) */
  NAD_OPT_MOMENTUM = 202,       /**< trainer: SGD momentum in [0, 1), default 0 */
  NAD_OPT_WEIGHT_DECAY = 203,   /**< trainer: L2 weight decay >= 0, default 0 */
  NAD_OPT_CLIP = 204,           /**< trainer: gradient-norm clip (0 = none), default 0.5 */
  /* 10000+: EXPERIMENTAL, may change or disappear in any release (int64 unless stated). */
  NAD_OPT_SHUFFLE = 10000       /**< trainer: 1 (default) shuffles the training set every epoch,
                                   0 keeps its order (to compare with other implementations) */
} nad_option;

/** The handles that take options, as bits of a mask (see nad_option_owner). Values are ABI. */
typedef enum nad_owner {
  NAD_OWNER_ESTIMATOR = 1, /**< nad_estimator_set_int / nad_estimator_set_double */
  NAD_OWNER_TRAINER = 2    /**< nad_trainer_set_int / nad_trainer_set_double */
} nad_owner;

/** What the estimator measures per network (NAD_OPT_MODE). */
typedef enum nad_mode {
  NAD_MODE_DIPOLE = 0,  /**< (f(x0 + s·e_i) − f(x0 − s·e_i)) / 2s, s = NAD_OPT_STEP (the paper's) */
  NAD_MODE_GRADIENT = 1 /**< the input gradient of f at x0 (autodiff; gives other directions) */
} nad_mode;
/** Learning-rate schedule of the trainer (NAD_OPT_SCHEDULE); see nad_trainer_create. */
typedef enum nad_schedule {
  NAD_SCHEDULE_LINEAR = 0,  /**< NAD_OPT_LR decayed linearly to 0 (the reference's utils.train) */
  NAD_SCHEDULE_ONECYCLE = 1 /**< torch.optim.lr_scheduler.OneCycleLR with its defaults */
} nad_schedule;
/** Where the response is measured (NAD_OPT_EVAL_POINT). */
typedef enum nad_eval_point {
  NAD_EVAL_NORMAL = 0, /**< x0 ~ N(0, I) drawn from the seed */
  NAD_EVAL_ZEROS = 1,  /**< x0 = 0 */
  NAD_EVAL_USER = 2,   /**< set by nad_estimator_set_eval_point */
  NAD_EVAL_DATA = 3    /**< sample j is evaluated at point j of the dataset given to
                          nad_estimator_set_eval_data */
} nad_eval_point;
/** Where the network of sample j comes from. */
typedef enum nad_network {
  NAD_NETWORK_RANDOM = 0, /**< a new network per sample: weights from (seed, j), as the paper */
  NAD_NETWORK_FIXED = 1   /**< one given network for every sample (nad_estimator_set_network) */
} nad_network;
/** Special NAD_OPT_OUTPUT values (0..K − 1 name an output). */
typedef enum nad_output_kind {
  NAD_OUTPUT_LABEL = -1 /**< the response of sample j is the output of its point's label */
} nad_output_kind;

/** Progress callback: called on the thread that runs the estimator, never concurrently, with
 *  the networks done and the total. A non-zero return cancels the run (NAD_ERR_CANCELLED). */
typedef int (*nad_progress_fn)(void *user_data, int64_t done, int64_t total);

/** New estimator for architecture a (its first output is the response). Retains a.
 *  Creation allocates little; memory is taken by nad_estimator_run / nad_estimator_load.
 *  Exact mode (the default): two half accumulators, 2·8·D² bytes, and at the eigensolve another
 *  8·D² bytes plus 12·K·D bytes for K NADs: at most about (3 + 1.5·K/D)·8·D² bytes, e.g.
 *  0.04 GB for D = 1,024 and 5.4 GB for D = 12,288 (3×64×64) with all NADs, 3.6 GB with
 *  NAD_OPT_TOP_K = 100; D = c·h·w <= 46340 (LAPACK's 32-bit indices; larger D: NAD_ERR_UNSUPPORTED
 *  at run or load). With TOP_K well below D the top K come from a block Krylov method (seconds
 *  where the full solve takes minutes; residual-checked, the full solve is the fallback).
 *  Sketching mode (NAD_OPT_SKETCH = L, K <= L <= D): no D×D matrix. Each half keeps a Frequent
 *  Directions sketch of L rows of the centred responses (a buffer of 2L + 65 rows stored in
 *  float32, products in double) and the exact Fourier spectrum; with the eigensolve's combined
 *  sketch, about (24·L + 2,400)·D bytes at the peak (L = 256: 0.42 GB at D = 49,152 = 3×128×128,
 *  1.3 GB at 3×224×224); the
 *  spectrum and the mean stay exact, the NADs are those of the sketched covariance C̃ with
 *  0 ≼ C − C̃ ≼ ε·I, ε (nad_estimator_sketch_error) <= Σ_{i>k} λ_i / (L − k) for every k < L
 *  (λ_i the eigenvalues of C): the top NADs are accurate whenever the spectrum decays. K = 0
 *  then means K = L. D <= 2^24. Sketches merge (halves, checkpoints, MPI ranks) with the same
 *  bound, but a merged sketch is not bit-equal to one of an uninterrupted run.
 *  Plus, while running, one probe per network computed at once (parameters and activations
 *  of a batch). Everything stays within NAD_OPT_MEMORY: see nad_estimator_plan.
 *  @param a the architecture
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_create(const nad_arch *a, nad_estimator **out);
/** Release an estimator (NULL: no-op).
 *  @param e the estimator */
NAD_API void nad_estimator_destroy(nad_estimator *e);

/** Set an integer option; NAD_ERR_OPTION_TYPE for a double option, NAD_ERR_INVALID_ARG out of
 *  range, NAD_ERR_MISUSE once the estimator has run. The options that define the computed
 *  quantity (seed, mode, step, evaluation point) are also frozen once networks have been
 *  accumulated from a checkpoint: set them before nad_estimator_load.
 *  @param e the estimator
 *  @param o the option
 *  @param v the value
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_set_int(nad_estimator *e, nad_option o, int64_t v);
/** Set a double option (see nad_estimator_set_int).
 *  @param e the estimator
 *  @param o the option
 *  @param v the value
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_set_double(nad_estimator *e, nad_option o, double v);
/** Read an integer option.
 *  @param e the estimator
 *  @param o the option
 *  @param[out] v receives the value
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_get_int(const nad_estimator *e, nad_option o, int64_t *v);
/** Read a double option.
 *  @param e the estimator
 *  @param o the option
 *  @param[out] v receives the value
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_get_double(const nad_estimator *e, nad_option o, double *v);
/** Valid range of an option (for int options the bounds are exact integers).
 *  @param o the option
 *  @param[out] lo receives the smallest valid value
 *  @param[out] hi receives the largest valid value
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_option_bounds(nad_option o, double *lo, double *hi);
/** Option id from its name ("num_networks", "seed", "num_threads", "top_k", "batch", "mode",
 *  "eval_point", "first_network", "memory", "sketch", "converge_every", "step", "network",
 *  "output", and for the trainer
 *  "epochs", "lr", "momentum", "weight_decay", "clip", "schedule", "shuffle");
 *  NAD_ERR_INVALID_ARG for an unknown name.
 *  @param name the option name
 *  @param[out] o receives the option id
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_option_by_name(const char *name, nad_option *o);
/** The handles that take option o, as a mask of nad_owner bits into *owners (e.g.
 *  NAD_OWNER_ESTIMATOR | NAD_OWNER_TRAINER for NAD_OPT_SEED); NAD_ERR_INVALID_ARG for an
 *  unknown option. The other handle's setters refuse it with NAD_ERR_INVALID_ARG.
 *  @param o the option
 *  @param[out] owners receives the nad_owner bits
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_option_owner(nad_option o, int32_t *owners);

/** Use x0 (D = c·h·w floats, copied) as evaluation point; sets NAD_OPT_EVAL_POINT to USER.
 *  @param e the estimator
 *  @param x0 the evaluation point, D floats
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_set_eval_point(nad_estimator *e, const float *x0, size_t len);

/* NADs of a trained network. The estimator normally draws a new random network per sample and
 * evaluates all of them at one point; with a fixed network it evaluates that one network at the
 * points of a dataset instead: sample j is the dipole response (same step, same mode) of the
 * network at point j, and the NADs are the eigenvectors of the covariance of these responses
 * over the points, so the spectrum of a trained network can be set beside the one of its
 * architecture at initialisation. NAD_OPT_NUM_NETWORKS is then the number of points N and
 * NAD_OPT_FIRST_NETWORK the first point used; the seed plays no part. A fixed network needs
 * evaluation points (NAD_EVAL_DATA): at a single point its responses would not vary. Random
 * networks may also be evaluated at data points (network j at point j). Choose NAD_OPT_STEP
 * against the data's scale: a step far beyond it (s = 100 on images in [0, 1]) makes a ReLU
 * network's dipole nearly the same at every point, so the covariance concentrates on a few
 * directions (LeNet on Fashion-MNIST: the top 10 eigenvalues hold 99.7 % of the variance at
 * s = 100, 58 % at s = 1). */

/** A labelled dataset of n samples of shape c×h×w (float32) with labels in {0, ..., K-1}.
 *  Immutable once created; may be shared between threads, trainers and estimators. Created
 *  and described in the section "Directions and linearly separable datasets" below. */
typedef struct nad_dataset nad_dataset;

/** Fix the network: params (nad_arch_num_params floats, state_dict order as nad_net_get_params
 *  and nad_trainer_get_params give them) are copied and used, in eval mode, for every sample;
 *  sets NAD_OPT_NETWORK to NAD_NETWORK_FIXED. Non-finite values are NAD_ERR_INVALID_ARG, a
 *  wrong length NAD_ERR_SHAPE. Defines the run: checkpoints record a hash of the parameters
 *  and refuse to resume with others.
 *  @param e the estimator
 *  @param params the parameters (copied)
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_set_network(nad_estimator *e, const float *params, size_t len);
/** Evaluate sample j at sample j of `points` (retained, not copied; samples of the
 *  architecture's input shape, else NAD_ERR_SHAPE); sets NAD_OPT_EVAL_POINT to NAD_EVAL_DATA.
 *  The run needs first_network + num_networks <= the number of points. With NAD_OPT_OUTPUT =
 *  NAD_OUTPUT_LABEL the labels must be < the number of outputs. Defines the run: checkpoints
 *  record a hash of the points and labels.
 *  @param e the estimator
 *  @param points the evaluation points (retained)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_set_eval_data(nad_estimator *e, const nad_dataset *points);
/** A source of random networks' parameters (nad_estimator_set_param_source): fills the
 *  parameters of network `network` and returns 0, or non-zero to stop the run.
 *  @param user_data the pointer given with the source
 *  @param network the network's index j
 *  @param params its nad_arch_num_params floats, holding the architecture's constants
 *  @param len the number of floats
 *  @return 0 to go on, non-zero to stop the run (NAD_ERR_CANCELLED) */
typedef int (*nad_param_fn)(void *user_data, int64_t network, float *params, size_t len);
/** Source of the random networks' parameters, for networks built by the caller's own code:
 *  fn(user_data, j, params, len) fills the len = nad_arch_num_params floats of network j (they
 *  hold the architecture's constants when it is called: an ONNX model's values) and returns 0,
 *  or non-zero to stop the run, which then fails with NAD_ERR_CANCELLED. It replaces libnad's
 *  own initialisation for every random network (NAD_NETWORK_RANDOM). It is called from worker
 *  threads, for several networks at once when NAD_OPT_NUM_THREADS > 1, in no particular order;
 *  the results are the same for every thread count only if fn depends on j alone. The Python
 *  binding's estimate(factory) uses it to stream each network's weights from the model's own
 *  code (torchvision's initialisations are then exact). `id` names the source and defines the
 *  run: checkpoints record a hash of it, so that parts drawn by different sources never merge.
 *  fn NULL restores libnad's initialisation (id ignored). Set before the run.
 *  @param e the estimator
 *  @param fn the source, or NULL
 *  @param user_data passed to fn unchanged
 *  @param id a name of the source (NUL-terminated, non-empty when fn is set)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_set_param_source(nad_estimator *e, nad_param_fn fn,
                                                  void *user_data, const char *id);
/** Install a progress callback (fn NULL removes it).
 *  @param e the estimator
 *  @param fn the callback, or NULL
 *  @param user_data passed to fn unchanged
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_set_progress(nad_estimator *e, nad_progress_fn fn,
                                              void *user_data);
/** During nad_estimator_run, save a checkpoint to `path` (as nad_estimator_save, atomically,
 *  from the thread that runs) every `every_n_networks` networks computed by the run, and once
 *  more when the run ends, also by cancellation or error, so that the file always holds every
 *  network accumulated. A killed run is resumed by loading the file into a new estimator with
 *  the same settings and running it. path NULL disables. NAD_ERR_MISUSE after the run. The
 *  path is checked and locked when the run starts (NAD_ERR_IO when its directory is missing,
 *  when it is a symbolic link, a device or a directory, or when another run holds it: the
 *  lock is the file "<path>.lock", removed when the run ends). A save that fails later (a full disk) does not stop the
 *  run: the file keeps the previous checkpoint, and nad_estimator_checkpoint_error says what
 *  failed.
 *  @param e the estimator
 *  @param path checkpoint file, or NULL to disable
 *  @param every_n_networks networks between two saves (>= 1)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_set_checkpoint(nad_estimator *e, const char *path,
                                                int64_t every_n_networks);
/** Message of the last checkpoint save that failed during nad_estimator_run ("" when none
 *  failed), and in *failures (may be NULL) how many failed. Owned by e. May be called from the
 *  progress callback to report a failure while the run goes on.
 *  @param e the estimator
 *  @param failures receives the number of failed saves, or NULL
 *  @return the message of the last failed save, "" when none failed (owned by e) */
NAD_API const char *nad_estimator_checkpoint_error(const nad_estimator *e, int64_t *failures);

/** Accumulate the responses of the networks of [first, first + N) that are not already
 *  accumulated (from nad_estimator_load), then finalize (eigensolve, spectrum). Can be called
 *  once. Refused up front (NAD_ERR_OUT_OF_MEMORY, nothing allocated) when the run cannot fit
 *  NAD_OPT_MEMORY (see nad_estimator_plan). Results are bit-for-bit reproducible for a given
 *  seed and probe batch, whatever NUM_THREADS: BLAS is switched to one thread while networks
 *  are probed (the batch is NAD_OPT_BATCH unless the memory budget lowers it: fix both
 *  options, or check nad_estimator_plan, when bits must match across machines). That BLAS setting is process-wide, so
 *  two estimators running at the same time in one process may differ in the last bits (seen:
 *  1e-15 relative); run them one after the other when bits matter. After NAD_ERR_CANCELLED (or
 *  NAD_ERR_NUMERICAL on a non-finite response) the networks accumulated before stay valid: they can be saved,
 *  or finalized. Memory: see nad_estimator_create.
 *  @param e the estimator
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_run(nad_estimator *e);
/** nad_estimator_run without the finalize: accumulate only (a part of a job array, an MPI
 *  rank); nad_estimator_save / nad_estimator_save_buffer then keep it, and
 *  nad_estimator_finalize gives the results. Same rules as nad_estimator_run (once, instead of
 *  it).
 *  @param e the estimator
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_accumulate(nad_estimator *e);

/** Ask the running nad_estimator_run or nad_estimator_accumulate of e to stop soon: it then
 *  fails with NAD_ERR_CANCELLED exactly as when the progress callback cancels (the networks
 *  folded before stay accumulated, whole: nad_estimator_networks_done, save, finalize; a
 *  checkpoint set with nad_estimator_set_checkpoint is saved before the call returns). The
 *  networks being probed stop at once: the flag is polled before every network, between the
 *  probe chunks of NAD_OPT_BATCH perturbed inputs and before every layer of the dipole's
 *  forward, so a network of any size stops within about one layer's time (gradient mode: one
 *  forward and backward pass). The eigensolve of nad_estimator_run's finalize is not
 *  interrupted.
 *  Callable from any thread and from a signal handler (async-signal-safe: one lock-free atomic
 *  operation, no lock, no allocation, no message), while e is valid (not destroyed).
 *  The flag stays set until a run starts: nad_estimator_run and nad_estimator_accumulate clear
 *  it on entry, before anything else, so a cancel that arrives before that point is forgotten
 *  and a cancel while no run is active does nothing. A thread that cannot know whether the
 *  run has started yet calls it again until the run returns (the Python binding does so every
 *  50 ms after a Ctrl-C).
 *  @param e the estimator
 *  @return NAD_OK, or NAD_ERR_INVALID_ARG for e NULL (no message is set) */
NAD_API nad_status nad_estimator_cancel(nad_estimator *e);

/** Memory plan of nad_estimator_run with the current options, decided before anything big is
 *  allocated: the budget (NAD_OPT_MEMORY, or half of the available memory when 0), the bytes
 *  the run will hold at its peak (accumulators and eigensolve, or probing), the probe batch
 *  (NAD_OPT_BATCH, halved while the probes do not fit) and the networks probed at once
 *  (NUM_THREADS, fewer only when a batch of 16 would not fit). With the default budget the
 *  probes also stay under 1.5 GiB (more gains nothing measurable). NAD_ERR_OUT_OF_MEMORY, with the
 *  numbers and what to change in nad_last_error(), when the accumulators alone, or one
 *  network with batch 1 next to them, exceed the budget: nad_estimator_run (and
 *  nad_estimator_load, for the accumulators) refuse exactly then. Counts libnad's own buffers,
 *  not the BLAS's per-thread scratch. Any out pointer may be NULL.
 *  @param e the estimator
 *  @param[out] budget receives the budget in bytes; may be NULL
 *  @param[out] bytes receives the planned peak in bytes; may be NULL
 *  @param[out] batch receives the probe batch; may be NULL
 *  @param[out] concurrent receives the networks probed at once; may be NULL
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_plan(const nad_estimator *e, int64_t *budget, int64_t *bytes,
                                      int64_t *batch, int64_t *concurrent);

/** Input dimension D = c·h·w and number of NADs kept K (valid once run or finalized; either
 *  pointer may be NULL).
 *  @param e the estimator
 *  @param[out] d receives D; may be NULL
 *  @param[out] k receives K; may be NULL
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_dims(const nad_estimator *e, int64_t *d, int64_t *k);
/** Number of networks accumulated so far.
 *  @param e the estimator
 *  @param[out] n receives the number of networks
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_networks_done(const nad_estimator *e, int64_t *n);
/** Covariance eigenvalues, descending (K doubles).
 *  @param e the estimator
 *  @param[out] dst receives the K eigenvalues
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_eigenvalues(const nad_estimator *e, double *dst, size_t len);
/** NADs as K×D floats, unit rows, sorted by eigenvalue. Sign convention: the entry of largest
 *  magnitude of each row is positive.
 *  @param e the estimator
 *  @param[out] dst receives the K×D NADs
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_nads(const nad_estimator *e, float *dst, size_t len);
/** Mean response (D doubles).
 *  @param e the estimator
 *  @param[out] dst receives the D means
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_mean(const nad_estimator *e, double *dst, size_t len);
/** Fourier power spectrum of the covariance, per channel, fftshifted: c×h×w doubles,
 *  P_c = sum_i λ_i |DFT2(NAD_i[c])|² over all D eigenpairs (independent of TOP_K).
 *  @param e the estimator
 *  @param[out] dst receives the c×h×w spectrum
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_spectrum(const nad_estimator *e, double *dst, size_t len);

/** Convergence: the networks are split into two halves by parity of their index; for the top-k
 *  subspace, overlap = mean cos² of the principal angles between the halves' top-k NADs, and
 *  spectrum_corr = correlation of the two halves' log spectra. Needs run.
 *  @param e the estimator
 *  @param k size of the compared subspace (1 <= k <= K)
 *  @param[out] overlap receives the subspace overlap in [0, 1]
 *  @param[out] spectrum_corr receives the log-spectrum correlation
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_convergence(const nad_estimator *e, int64_t k, double *overlap,
                                             double *spectrum_corr);

/** The convergence criterion, on the networks accumulated so far (needs at least 2 in each
 *  half; any time after a run, accumulate or load, also between runs' parts). With K the NADs
 *  kept (NAD_OPT_TOP_K, else L in the sketching mode, else D), k1 = min(10, K), k2 = min(50, K),
 *  the halves of nad_estimator_convergence and ov(k) = max of their overlap over the sizes
 *  k .. min(⌊1.5·k⌋, K), the run has converged when
 *    ov(k1) >= 0.9, ov(k2) >= 0.8, and log-spectrum correlation >= 0.99.
 *  Subspaces, not single NADs: leading eigenvalues of symmetric architectures come in
 *  near-degenerate pairs or clusters (LeNet's λ1 and λ2 differ by 2 %), whose NADs any rotation
 *  within the cluster may give, while the cluster's span is stable; the window of sizes lets a
 *  cluster that straddles k be taken whole, and the two sizes ask both the leading NADs and the
 *  bulk to agree. With K = 1 (NAD_OPT_TOP_K = 1) the criterion is the `nad` tool's earlier
 *  verdict: top-1 overlap >= 0.9 and spectrum correlation >= 0.99.
 *  Stopping (NAD_OPT_CONVERGE_EVERY = C > 0, NAD_OPT_CONVERGE_GROWTH = G): nad_estimator_run /
 *  nad_estimator_accumulate evaluate the criterion whenever the networks accumulated reach a
 *  check point (counted with the networks loaded from a checkpoint; also at the start of a run
 *  when that count already is one) and stop at the first that meets it, or at
 *  NAD_OPT_NUM_NETWORKS. The check points are c1 = C and c(i+1) = the smallest multiple of C
 *  that is >= G·c(i) and > c(i): with C = 100, G = 1.25: 100, 200, 300, 400, 500, 700, 900,
 *  1200, 1500, 1900, 2400, 3000, 3800, 4800, 6000, 7500, 9400, ... (17 checks up to 10,000;
 *  their number grows as log(N/C)/log(G), so their cost stays a small share of the run, while
 *  the run goes at most a factor G, or C networks, beyond the first count that meets the
 *  criterion). G = 1 checks at every multiple of C (the option's first schedule). The check points
 *  depend on the count only, never on timing, and the networks are folded in index order, so
 *  the stopping point and the results are the same for every NUM_THREADS, equal to those of a
 *  run of exactly that many networks, and a run resumed from its own checkpoint stops where
 *  the uninterrupted run stops. Each check solves both halves for their top max(10, k2)
 *  eigenpairs (as nad_estimator_convergence; in the exact mode another 8·D² bytes meanwhile).
 *  @param e the estimator
 *  @param[out] converged receives 1 when the criterion holds, else 0
 *  @param[out] overlaps receives the overlaps at k1 and k2 (2 doubles); may be NULL
 *  @param[out] spectrum_corr receives the log-spectrum correlation; may be NULL
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_converged(const nad_estimator *e, int32_t *converged,
                                           double *overlaps, double *spectrum_corr);

/** Save the accumulator (count, mean, scatter and the settings that define the run) to a
 *  versioned, checksummed file, written atomically. Valid after run (or accumulate), even a
 *  cancelled one, or after a load. The file takes about 8·D² bytes (both halves' lower
 *  triangles); in the sketching mode at most about 4·L·8·D bytes (the sketches' rows) plus the
 *  spectra. A saved part of a run (NAD_OPT_FIRST_NETWORK, NAD_OPT_NUM_NETWORKS) is merged into
 *  another estimator by nad_estimator_load: this is how job arrays and MPI ranks combine.
 *  @param e the estimator
 *  @param path file path
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_save(const nad_estimator *e, const char *path);
/** Add the networks accumulated in a checkpoint file to e (before run, or to merge disjoint
 *  runs after run). Files of another architecture, shape, step, mode, evaluation point (or
 *  evaluation data), seed, network kind, fixed network (parameters) or output are refused
 *  with NAD_ERR_FORMAT naming the mismatch, as are corrupted and truncated ones, and
 *  overlapping network ranges; a refused file leaves e unchanged. A following run skips
 *  the networks already accumulated, so re-running the settings of a killed run after loading
 *  its checkpoint resumes it (and gives the same result as an uninterrupted run). Results are
 *  recomputed by nad_estimator_finalize (or the run).
 *  @param e the estimator
 *  @param path file path
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_load(nad_estimator *e, const char *path);
/** Recompute eigenpairs and spectrum from the current accumulator (after load or merge).
 *  @param e the estimator
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_finalize(nad_estimator *e);
/** The same checkpoint as nad_estimator_save, in memory: *buf (free with nad_free) receives
 *  *len bytes (to send them to another process, e.g. an MPI rank).
 *  @param e the estimator
 *  @param[out] buf receives the checkpoint bytes, to be freed with nad_free()
 *  @param[out] len receives the number of bytes
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_save_buffer(const nad_estimator *e, void **buf, size_t *len);
/** nad_estimator_load from len bytes made by nad_estimator_save_buffer (or read from a
 *  checkpoint file); the same checks and merge rules.
 *  @param e the estimator
 *  @param buf the checkpoint bytes
 *  @param len number of bytes at buf
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_load_buffer(nad_estimator *e, const void *buf, size_t len);
/** Set the run record: the caller's description of how the run is set up, stored verbatim in
 *  the checkpoints e saves from then on (format 4) so that a part of a job array describes
 *  itself. libnad does not interpret it (a load checks the settings above, not the record); the
 *  nad tool writes "key=value" lines (the architecture, input, mode, scale, seed, ...) and
 *  reads them back with nad_checkpoint_run_record. May be called at any time outside a run.
 *  @param e the estimator
 *  @param text NUL-terminated text of at most 16 MiB, copied; NULL removes the record
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_set_run_record(nad_estimator *e, const char *text);
/** The run record of a checkpoint file, read without an estimator or architecture (the whole
 *  file's CRC is checked first). Files of formats 1 to 3 have none: *text is then "".
 *  @param path checkpoint file
 *  @param[out] version receives the file's format version (1 to 4)
 *  @param[out] text receives the record, NUL-terminated, to be freed with nad_free()
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error()
 *          (NAD_ERR_IO: cannot open; NAD_ERR_FORMAT: not a checkpoint, corrupted) */
NAD_API nad_status nad_checkpoint_run_record(const char *path, int32_t *version, char **text);
/** nad_checkpoint_run_record of len bytes made by nad_estimator_save_buffer.
 *  @param buf the checkpoint bytes
 *  @param len number of bytes at buf
 *  @param[out] version receives the format version
 *  @param[out] text receives the record, to be freed with nad_free()
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_checkpoint_run_record_buffer(const void *buf, size_t len, int32_t *version,
                                                    char **text);
/** Sketching mode: the bound ε on the spectral norm of C − C̃ (covariance minus sketched
 *  covariance, 0 ≼ C − C̃ ≼ ε·I; so every eigenvalue is low by at most ε and a NAD i is
 *  accurate when ε is small next to λ_i − λ_{i+1}). 0 in the exact mode. Needs results.
 *  @param e the estimator
 *  @param[out] bound receives the bound ε (0 in the exact mode)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_estimator_sketch_error(const nad_estimator *e, double *bound);

/** Whether the response is degenerate, i.e. the NADs mean nothing: the covariance's trace T is
 *  0 (the responses do not vary: e.g. a zero-initialised last layer, ViT's head), or, in the
 *  dipole mode, its spread per coordinate √(T/D) is below 16 float32 rounding steps of the
 *  outputs over the dipole's width, 16·FLT_EPSILON·F/(2s) ≈ 1e-6·F/s, where F is the mean |f|
 *  of the perturbed outputs: the dipoles are then rounding of f, not its variation. F is
 *  measured on the networks this handle computed (not stored in checkpoints: after a load
 *  alone only T = 0 is detected). Needs results.
 *  @param e the estimator
 *  @param[out] degenerate receives 1 if degenerate, else 0
 *  @param[out] trace receives T (may be NULL)
 *  @param[out] scale receives F (0 when no network was computed by this handle; may be NULL)
 *  @return NAD_OK, NAD_ERR_INVALID_ARG, or NAD_ERR_MISUSE before results */
NAD_API nad_status nad_estimator_degenerate(const nad_estimator *e, int32_t *degenerate,
                                           double *trace, double *scale);

/* ------------------------------------------------------------------------------------------ */
/* Comparing NAD sets                                                                         */
/* ------------------------------------------------------------------------------------------ */

/** Fourier power spectrum of a covariance given by `count` eigenpairs: dst (c×h×w doubles,
 *  per channel, fftshifted) = sum_i eigenvalues[i]·|DFT2(nads[i][channel])|². nads is count×D
 *  floats (D = c·h·w). For PCA singular values σ pass σ²/(N−1) (or σ²: correlations ignore scale).
 *  @param nads count×D NADs
 *  @param eigenvalues their count eigenvalues
 *  @param count number of eigenpairs
 *  @param c channels of one input
 *  @param h height of one input
 *  @param w width of one input
 *  @param[out] dst receives the c×h×w spectrum
 *  @param dst_len number of doubles at dst (c·h·w)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_spectrum_from_nads(const float *nads, const double *eigenvalues,
                                          int64_t count, int64_t c, int64_t h, int64_t w,
                                          double *dst, size_t dst_len);
/** Correlation of log(p + 1e-12·max p) between two spectra of n entries (as the reference's
 *  spectrum.py).
 *  @param pa first spectrum
 *  @param pb second spectrum
 *  @param n entries of each spectrum
 *  @param[out] corr receives the correlation
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_spectrum_correlation(const double *pa, const double *pb, int64_t n,
                                            double *corr);
/** Top-k subspace overlap of two NAD sets (rows of a and b, each at least k×d): mean squared
 *  cosine of the principal angles, ||Qaᵀ Qb||²_F / k, in [0, 1].
 *  @param a first NAD set, row-major
 *  @param b second NAD set, row-major
 *  @param k rows compared (the subspace size)
 *  @param d length of each row
 *  @param[out] overlap receives the overlap in [0, 1]
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_subspace_overlap(const float *a, const float *b, int64_t k, int64_t d,
                                        double *overlap);

/* ------------------------------------------------------------------------------------------ */
/* Directions and linearly separable datasets D(v)                                            */
/* ------------------------------------------------------------------------------------------ */

/** Which part of a Fourier basis vector: the reference's convention (AUTO: the sine pattern,
 *  i.e. the imaginary part of one rfft2 coefficient set to 1 and inverted; the cosine where the
 *  sine vanishes: DC and Nyquist frequencies), or explicitly the sine or the cosine. */
typedef enum nad_fourier_part {
  NAD_FOURIER_AUTO = 0, /**< the reference's choice: the sine, the cosine where it vanishes */
  NAD_FOURIER_SIN = 1,  /**< the sine pattern */
  NAD_FOURIER_COS = 2   /**< the cosine pattern */
} nad_fourier_part;

/** Unit-norm real 2-D Fourier basis vector of frequency (fy, fx) cycles per image, the same in
 *  every channel, into dst (len = c·h·w floats, else NAD_ERR_SHAPE); fy in [-h/2, h/2], fx in
 *  [-w/2, w/2] (integer division), else NAD_ERR_INVALID_ARG. With y, x the row and column:
 *    SIN  v ∝ −sin(2π(fy·y/h + fx·x/w))  — for fx >= 0 exactly numpy's
 *         irfft2(X) with X = 0 but X[fy mod h, fx].imag = 1 (the reference's construction),
 *         for fx < 0 the same formula (the conjugate coefficient [−fy mod h, −fx] with
 *         imaginary part −1);
 *    COS  v ∝ +cos(2π(fy·y/h + fx·x/w))  (the real part set to 1);
 *    AUTO the sine, or the cosine where the sine vanishes identically (2·fy ≡ 0 mod h and
 *         2·fx ≡ 0 mod w: DC and Nyquist), as the reference's grid needs.
 *  An explicit SIN that vanishes is NAD_ERR_INVALID_ARG. Grid of the paper's Figure 1 (32×32):
 *  fy, fx in {−16, −14, ..., 14}. Computed with FFTW (single precision).
 *  @param c channels of one input
 *  @param h height of one input
 *  @param w width of one input
 *  @param fy vertical frequency, cycles per image
 *  @param fx horizontal frequency, cycles per image
 *  @param part sine, cosine or the reference's choice
 *  @param[out] dst receives the direction, c·h·w floats
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_direction_fourier(int64_t c, int64_t h, int64_t w, int64_t fy, int64_t fx,
                                         nad_fourier_part part, float *dst, size_t len);
/** Unit-norm random direction (Gaussian, then normalised) of len >= 1 floats from seed.
 *  @param seed the seed
 *  @param[out] dst receives the direction
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_direction_random(uint64_t seed, float *dst, size_t len);

/* nad_dataset (declared with the estimator): a labelled dataset of n samples of shape c×h×w
 * (float32) with labels in {0, ..., K-1}. Immutable once created; may be shared between threads,
 * trainers and estimators. */

/** The paper's linearly separable distribution D(v), generated as the reference does: the
 *  first ceil(n/2) samples have label 0 and x = +(ε/2)·v + w, the others label 1 and
 *  x = −(ε/2)·v + w, w ~ N(0, σ²I) with its component along v removed (so x·v = ±ε/2 exactly
 *  up to float rounding). v (c·h·w floats, copied) must be finite and non-zero; it is
 *  normalised. epsilon > 0, sigma >= 0, n >= 1, all finite. Sample i depends only on (v, ε, σ,
 *  seed, i); use different seeds for a training and a test set.
 *  @param v the direction, c·h·w floats
 *  @param c channels of one input
 *  @param h height of one input
 *  @param w width of one input
 *  @param n number of samples
 *  @param epsilon margin ε between the classes
 *  @param sigma noise standard deviation σ
 *  @param seed seed of the noise
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_dataset_create_linear(const float *v, int64_t c, int64_t h, int64_t w,
                                             int64_t n, double epsilon, double sigma,
                                             uint64_t seed, nad_dataset **out);
/** Dataset from arrays (copied): x has n·c·h·w finite floats, labels n int32 values >= 0.
 *  @param x the samples, n·c·h·w floats
 *  @param labels the n labels
 *  @param n number of samples
 *  @param c channels of one input
 *  @param h height of one input
 *  @param w width of one input
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_dataset_create(const float *x, const int32_t *labels, int64_t n, int64_t c,
                                      int64_t h, int64_t w, nad_dataset **out);
/** Release a dataset (NULL: no-op). A running nad_trainer_fit keeps its own reference.
 *  @param d the dataset */
NAD_API void nad_dataset_destroy(nad_dataset *d);
/** Number of samples and per-sample shape (shape may be NULL).
 *  @param d the dataset
 *  @param[out] n receives the number of samples
 *  @param[out] shape receives (c, h, w); may be NULL
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_dataset_size(const nad_dataset *d, int64_t *n, int64_t shape[3]);
/** Copy samples (x_len = n·c·h·w) and/or labels (labels_len = n) out; either pointer may be
 *  NULL; a wrong length is NAD_ERR_SHAPE.
 *  @param d the dataset
 *  @param[out] x receives the samples; may be NULL
 *  @param x_len number of floats at x
 *  @param[out] labels receives the labels; may be NULL
 *  @param labels_len number of labels at labels
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_dataset_get(const nad_dataset *d, float *x, size_t x_len, int32_t *labels,
                                   size_t labels_len);

/* ------------------------------------------------------------------------------------------ */
/* Real image datasets                                                                        */
/* ------------------------------------------------------------------------------------------ */

/** Which part of a dataset source to load. */
typedef enum nad_split {
  NAD_SPLIT_TRAIN = 0, /**< the training split */
  NAD_SPLIT_TEST = 1   /**< the test split */
} nad_split;

/** Load a labelled image dataset. `source` is one of
 *    fashion-mnist        the Debian package dataset-fashion-mnist
 *                         (/usr/share/datasets/fashion-mnist), gzipped IDX, 10 classes
 *    idx:DIR              MNIST-family IDX files in DIR: train-images-idx3-ubyte and
 *                         train-labels-idx1-ubyte (train), t10k-images-idx3-ubyte and
 *                         t10k-labels-idx1-ubyte (test), each also found with a .gz suffix
 *                         (gzip, read through zlib); unsigned-byte data, images N×H×W
 *    cifar10:DIR          the CIFAR-10 binary version: data_batch_1.bin .. data_batch_5.bin
 *                         (train, in that order) and test_batch.bin (test), in DIR or in
 *                         DIR/cifar-10-batches-bin; records of 1 label byte + 3×32×32 bytes
 *                         (R, G, B planes), labels < 10, 10 classes
 *    npy:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]
 *                         .npy files (paths without commas): images N×H×W or N×C×H×W of
 *                         uint8 ('|u1'), float32 or float64 (finite), labels a vector of N
 *                         integers ('|u1', '|i1', '<i2', '<u2', '<i4', '<u4', '<i8', '<u8') in
 *                         [0, 65535]; the first pair is the train split, the second (when
 *                         given) the test split
 *  Unsigned-byte pixels are scaled to [0, 1] (v / 255); float pixels are kept as stored. Any
 *  file may be gzipped. h = w = 0 keeps the stored image size; h, w >= 1 zero-pads or
 *  centre-crops every image to h×w as nad_dataset_resize does. The number of classes is the
 *  format's (10 for fashion-mnist and cifar10) or the largest label + 1.
 *  Every file is validated before any sample is used: magic numbers, dimensions, the size of
 *  the (decompressed) data against the header, label range, image/label count agreement. A bad
 *  file gives NAD_ERR_FORMAT with a message naming the file and the problem, a missing one
 *  NAD_ERR_IO, an unknown source or a split the source does not have NAD_ERR_INVALID_ARG; on
 *  any failure *out is NULL and nothing stays allocated.
 *  @param source the source (see above)
 *  @param split train or test split
 *  @param h image height wanted, 0 to keep the stored one
 *  @param w image width wanted, 0 to keep the stored one
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_dataset_load(const char *source, nad_split split, int64_t h, int64_t w,
                                    nad_dataset **out);
/** Number of classes K (labels are in 0..K-1; a class may have no sample).
 *  @param d the dataset
 *  @param[out] k receives K
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_dataset_num_classes(const nad_dataset *d, int64_t *k);
/** Samples per class into counts[0..K) (len must be K = nad_dataset_num_classes).
 *  @param d the dataset
 *  @param[out] counts receives the K counts
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_dataset_class_counts(const nad_dataset *d, int64_t *counts, size_t len);
/** Per-channel mean and standard deviation (population, ddof = 0) over all samples and pixels,
 *  accumulated in double; mean and std hold c doubles each (len = c).
 *  @param d the dataset
 *  @param[out] mean receives the c means
 *  @param[out] std receives the c standard deviations
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_dataset_channel_stats(const nad_dataset *d, double *mean, double *std,
                                             size_t len);
/** New dataset with every image zero-padded or centre-cropped to h×w (h, w >= 1), per axis:
 *  a larger target puts floor((h − H)/2) zero rows above the image and the rest below (28 → 32:
 *  2 and 2, as numpy.pad((2, 2)) and torchvision's CenterCrop padding); a smaller one keeps rows
 *  floor((H − h)/2) .. floor((H − h)/2) + h − 1. Labels and classes are kept.
 *  @param d the dataset
 *  @param h new height (>= 1)
 *  @param w new width (>= 1)
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_dataset_resize(const nad_dataset *d, int64_t h, int64_t w,
                                      nad_dataset **out);
/** New dataset with x[c] ← (x[c] − mean[c]) / std[c] per channel (len = c; std finite and > 0,
 *  mean finite), e.g. with the training split's nad_dataset_channel_stats.
 *  @param d the dataset
 *  @param mean the c means to subtract
 *  @param std the c standard deviations to divide by
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_dataset_normalize(const nad_dataset *d, const double *mean,
                                         const double *std, size_t len, nad_dataset **out);
/** New dataset of samples first .. first + count − 1 (copied; count >= 1, within the dataset).
 *  Keeps the number of classes of d.
 *  @param d the dataset
 *  @param first index of the first sample kept
 *  @param count number of samples kept
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_dataset_subset(const nad_dataset *d, int64_t first, int64_t count,
                                      nad_dataset **out);

/* ------------------------------------------------------------------------------------------ */
/* Poisoning with NAD carriers (the paper's Section 4, the reference's poison_cifar.py)        */
/* ------------------------------------------------------------------------------------------ */

/** Carrier of class t for NAD index i on c×h×w data: a c·h·w vector that is zero except on
 *  channel t % c, which holds NAD number i + t / (2c) (integer division) normalised to unit
 *  norm; *sign (may be NULL) = 2·(t % 2) − 1. For c = 3 and 10 classes the classes use NADs
 *  i, i + 1 (the reference's pair); for c = 1, NADs i .. i + 4. `nads` holds `count` NADs of
 *  nad_dim = h·w floats each (single-channel NADs, e.g. from an estimator at 1×h×w), else
 *  NAD_ERR_SHAPE. i + t / (2c) >= count, t < 0 or i < 0 is NAD_ERR_INVALID_ARG; a NAD that is
 *  zero or not finite NAD_ERR_INVALID_ARG. dst holds len = c·h·w floats.
 *  @param nads count single-channel NADs of nad_dim floats each
 *  @param count number of NADs in nads
 *  @param nad_dim floats per NAD (h·w)
 *  @param c channels of one input
 *  @param h height of one input
 *  @param w width of one input
 *  @param index NAD index i of class 0
 *  @param t the class
 *  @param[out] dst receives the carrier, c·h·w floats
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @param[out] sign receives the sign of the class; may be NULL
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_poison_carrier(const float *nads, int64_t count, int64_t nad_dim, int64_t c,
                                      int64_t h, int64_t w, int64_t index, int64_t t, float *dst,
                                      size_t len, int32_t *sign);
/** New dataset in which every sample x of class t has its component along its class's carrier
 *  v_t (nad_poison_carrier) *replaced* by sign_t·ε: x ← x + (sign_t·ε − ⟨x, v_t⟩)·v_t (the
 *  projection in double). Labels are kept. Needs index + (K − 1) / (2c) < count for the K
 *  classes of d (NAD_ERR_INVALID_ARG otherwise, naming the last NAD needed); ε finite and >= 0
 *  (NAD_ERR_INVALID_ARG). nads as for nad_poison_carrier (nad_dim = h·w of d, else
 *  NAD_ERR_SHAPE).
 *  @param d the dataset
 *  @param nads count single-channel NADs of nad_dim floats each
 *  @param count number of NADs in nads
 *  @param nad_dim floats per NAD (h·w of d)
 *  @param index NAD index of class 0
 *  @param epsilon the poison strength ε (>= 0)
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_dataset_poison(const nad_dataset *d, const float *nads, int64_t count,
                                      int64_t nad_dim, int64_t index, double epsilon,
                                      nad_dataset **out);

/* ------------------------------------------------------------------------------------------ */
/* Training                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** Mini-batch SGD training of a network (cross-entropy over its K outputs as logits), as the
 *  reference's utils.train. One thread at a time. */
typedef struct nad_trainer nad_trainer;

/** Called on the calling thread after each epoch (epoch counts from 1) with the epoch's mean
 *  training loss and running training accuracy (outputs of each batch before its step), the
 *  test accuracy (NaN when no test set is given) and the wall time of the epoch in seconds
 *  (training and evaluation). Accuracies in percent. A non-zero return stops training
 *  (nad_trainer_fit returns NAD_ERR_CANCELLED; the parameters stay those after the epoch). */
typedef int (*nad_epoch_fn)(void *user_data, int64_t epoch, double train_loss, double train_acc,
                            double test_acc, double seconds);

/** New trainer with a network of architecture a initialised from `seed` (the weights of
 *  nad_net_create(a, seed)). Retains a.
 *  Options (nad_trainer_set_int/double; bounds from nad_option_bounds):
 *    NAD_OPT_EPOCHS (20), NAD_OPT_BATCH (128; the last batch of an epoch may be smaller),
 *    NAD_OPT_SEED (shuffling and dropout masks; default = seed), NAD_OPT_NUM_THREADS (1;
 *    0 = online CPUs), NAD_OPT_LR (0.5), NAD_OPT_MOMENTUM (0), NAD_OPT_WEIGHT_DECAY (0),
 *    NAD_OPT_CLIP (0.5; 0 = no clipping), NAD_OPT_SCHEDULE (NAD_SCHEDULE_LINEAR),
 *    NAD_OPT_SHUFFLE (1, experimental).
 *  Per batch b of epoch e (from 0) of nb batches, global step s = e·nb + b of S = epochs·nb:
 *    LINEAR    lr_t = lr·(1 − (e + (b+1)/nb)/epochs), momentum m_t = NAD_OPT_MOMENTUM;
 *    ONECYCLE  torch.optim.lr_scheduler.OneCycleLR(max_lr = lr, total_steps = S) with its
 *              defaults: with a = 0.3·S − 1, for s <= a lr_t = cos(lr/25 → lr, s/a), else
 *              lr_t = cos(lr → lr/25e4, (s − a)/(S − 1 − a)), cos(u → v, p) =
 *              v + (u − v)·(1 + cos(π·p))/2; and, when NAD_OPT_MOMENTUM > 0, the momentum
 *              cycled as its cycle_momentum does: m_t = cos(0.95 → 0.85, ·) then
 *              cos(0.85 → 0.95, ·) over the same phases (the option's value is then unused;
 *              0 keeps plain SGD).
 *  Gradient of the mean cross-entropy over the K outputs (labels 0..K−1), clipped to a global
 *  L2 norm of at most `clip` (factor clip/(norm + 1e-6) when below 1); then torch.optim.SGD:
 *  d = g + wd·p, buf = d at the first step of the fit else m_t·buf + d, p −= lr_t·buf (plain
 *  p −= lr_t·d when m_t = 0). Threads split each batch (samples in
 *  chunks of fixed size, gradients summed in a fixed order); an architecture with BatchNorm
 *  trains every batch whole (its statistics are over the batch) with the threads given to
 *  BLAS.
 *  @param a the architecture
 *  @param seed seed of the initial weights
 *  @param[out] out receives the new handle; set to NULL on failure
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_trainer_create(const nad_arch *a, uint64_t seed, nad_trainer **out);
/** Release a trainer (NULL: no-op).
 *  @param t the trainer */
NAD_API void nad_trainer_destroy(nad_trainer *t);
/** Set an integer option: NAD_ERR_OPTION_TYPE for a double option, NAD_ERR_INVALID_ARG out of
 *  range or for an option the trainer does not have, NAD_ERR_MISUSE during nad_trainer_fit.
 *  @param t the trainer
 *  @param o the option
 *  @param v the value
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_trainer_set_int(nad_trainer *t, nad_option o, int64_t v);
/** Set a double option (see nad_trainer_set_int).
 *  @param t the trainer
 *  @param o the option
 *  @param v the value
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_trainer_set_double(nad_trainer *t, nad_option o, double v);
/** Install the per-epoch callback (fn NULL removes it); NAD_ERR_MISUSE during a fit.
 *  @param t the trainer
 *  @param fn the callback, or NULL
 *  @param user_data passed to fn unchanged
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_trainer_set_epoch_callback(nad_trainer *t, nad_epoch_fn fn, void *user_data);
/** Train on `train` for the configured epochs (BatchNorm in training mode, Dropout active),
 *  evaluating on `test` (may be NULL; eval mode) after every epoch. Each call is a new run of
 *  the schedule from the current parameters (fresh momentum buffers), like a new call of
 *  utils.train. Deterministic for a seed and thread count. Datasets must have the
 *  architecture's input shape (NAD_ERR_SHAPE) and labels < number of outputs
 *  (NAD_ERR_INVALID_ARG). NAD_ERR_NUMERICAL if the loss stops being finite.
 *  @param t the trainer
 *  @param train the training set
 *  @param test the test set, or NULL
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_trainer_fit(nad_trainer *t, const nad_dataset *train,
                                   const nad_dataset *test);
/** Accuracy (percent) and mean cross-entropy of the current network on d, in eval mode
 *  (loss may be NULL).
 *  @param t the trainer
 *  @param d the dataset to evaluate on
 *  @param[out] accuracy receives the accuracy in percent
 *  @param[out] loss receives the mean cross-entropy; may be NULL
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_trainer_evaluate(nad_trainer *t, const nad_dataset *d, double *accuracy,
                                        double *loss);
/** Ask the running nad_trainer_fit or nad_trainer_evaluate of t to stop soon: it then fails
 *  with NAD_ERR_CANCELLED. The flag is polled before every chunk of samples of a batch (32
 *  samples, or the whole batch with BatchNorm) and of the evaluation, so training stops within
 *  one chunk's forward and backward, not one epoch. The state is that of a cancel by the epoch
 *  callback: the parameters are those after the last epoch reported to the callback (fit keeps
 *  a copy of the parameters at the start of each epoch, n_params floats, to restore them), and
 *  t stays usable (evaluate, get_params, fit again).
 *  Callable from any thread and from a signal handler (async-signal-safe: one lock-free atomic
 *  store, no lock, no allocation, no message), while t is valid (not destroyed).
 *  The flag stays set until a call starts: nad_trainer_fit and nad_trainer_evaluate clear it
 *  on entry, so a cancel that arrives before that point is forgotten and a cancel while no
 *  call is active does nothing (call it again until the call returns when you cannot know).
 *  @param t the trainer
 *  @return NAD_OK, or NAD_ERR_INVALID_ARG for t NULL (no message is set) */
NAD_API nad_status nad_trainer_cancel(nad_trainer *t);
/** Copy the current parameters (len = nad_arch_num_params floats, state_dict order, BatchNorm
 *  running statistics included).
 *  @param t the trainer
 *  @param[out] dst receives the parameters
 *  @param len number of elements at the pointer (must equal the number needed)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_trainer_get_params(const nad_trainer *t, float *dst, size_t len);

/* ------------------------------------------------------------------------------------------ */
/* Probing trained networks and datasets with NADs                                            */
/* ------------------------------------------------------------------------------------------ */

/** What a band operation does to the components of a sample along a band of NADs. */
typedef enum nad_band_op {
  NAD_BAND_FLIP = 0,  /**< x' = x − 2·P x: the components along the band change sign */
  NAD_BAND_REMOVE = 1 /**< x' = x − P x: the components along the band become 0 */
} nad_band_op;

/** Apply a band operation to n samples. `nads` holds count NADs of dimension d (count×d floats,
 *  row i = NAD i, as nad_estimator_nads writes them); the band is rows [first, last), which
 *  must be orthonormal (max |V·Vᵀ − I| <= 1e-3, else NAD_ERR_INVALID_ARG: e.g. not a NAD file).
 *  With V the band's rows, P = Vᵀ V = Σ v vᵀ over the band, and each sample x (d floats of the
 *  n·d in x) becomes x − 2·P x (FLIP) or x − P x (REMOVE) in dst (n·d floats; dst may be x).
 *  An empty range or one past the last NAD (0 <= first < last <= count fails) is
 *  NAD_ERR_INVALID_ARG; a wrong dst_len NAD_ERR_SHAPE. Computed in float32 with BLAS.
 *  @param nads count×d NADs, row-major
 *  @param count number of NADs
 *  @param d dimension of a NAD and of a sample
 *  @param first first NAD of the band
 *  @param last one past the last NAD of the band
 *  @param op flip or remove the band
 *  @param x the n samples, n·d floats
 *  @param n number of samples
 *  @param[out] dst receives the n changed samples (may be x)
 *  @param dst_len number of floats at dst (n·d)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_band_apply(const float *nads, int64_t count, int64_t d, int64_t first,
                                  int64_t last, nad_band_op op, const float *x, int64_t n,
                                  float *dst, size_t dst_len);

/** Effect of a band operation on a trained classifier: every sample of `data` is classified by
 *  `net` (eval mode; prediction = the first maximal output) as it is and after nad_band_apply
 *  with rows [first, last) of nads (count×d). Results (any pointer may be NULL):
 *    accuracy_before, accuracy_after  percent of samples whose prediction is their label;
 *    changed_fraction                 fraction (0..1) of samples whose prediction changed;
 *    l2                               mean over samples of ||x' − x||₂;
 *    psnr                             10·log10(peak² / MSE) in dB, MSE = Σ ||x' − x||² / (n·d)
 *                                     over all values, peak = max − min of the original
 *                                     samples (1 for images in [0, 1] holding 0 and 1);
 *                                     +Inf when nothing changed.
 *  For a unit-norm sample x = a·v with v a NAD of the band: FLIP gives l2 = 2|a| and
 *  MSE = 4a²/d. Errors: the dataset's sample shape is not the architecture's input
 *  (NAD_ERR_SHAPE), d differs from the samples' c·h·w (NAD_ERR_SHAPE), labels >= the number of
 *  outputs (NAD_ERR_INVALID_ARG), and those of nad_band_apply. The net's state (last forward)
 *  is not touched.
 *  @param net the trained classifier
 *  @param data the labelled samples
 *  @param nads count×d NADs, row-major
 *  @param count number of NADs
 *  @param d dimension of a NAD (the samples' c·h·w)
 *  @param first first NAD of the band
 *  @param last one past the last NAD of the band
 *  @param op flip or remove the band
 *  @param[out] accuracy_before receives the accuracy on the samples as they are
 *  @param[out] accuracy_after receives the accuracy after the operation
 *  @param[out] changed_fraction receives the fraction of changed predictions
 *  @param[out] l2 receives the mean L2 change of a sample
 *  @param[out] psnr receives the PSNR in dB
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_band_evaluate(nad_net *net, const nad_dataset *data, const float *nads,
                                     int64_t count, int64_t d, int64_t first, int64_t last,
                                     nad_band_op op, double *accuracy_before,
                                     double *accuracy_after, double *changed_fraction,
                                     double *l2, double *psnr);

/** Class-discriminative scatter used by nad_align. */
typedef enum nad_align_kind {
  /** S = S_b = Σ_c (n_c/n)(μ_c − μ)(μ_c − μ)ᵀ: between-class scatter of the class means μ_c
   * (n_c samples of class c, μ the mean of all n samples) */
  NAD_ALIGN_BETWEEN = 0,
  /** S = Σ_c (n_c/n) w_c w_cᵀ, w_c = (S_w + γI)⁻¹(μ_c − μ): the class directions of a linear
   * discriminant with shared covariance; S_w = (1/n) Σ_i (x_i − μ_{y_i})(x_i − μ_{y_i})ᵀ is the
   * within-class covariance and γ = ridge·trace(S_w)/d */
  NAD_ALIGN_DISCRIMINANT = 1
} nad_align_kind;

/** Alignment of a NAD basis with a labelled dataset: the fraction of the dataset's
 *  class-discriminative energy captured by the top-k NADs, as a curve over k, and one score.
 *  With v_1..v_count the rows of nads (count×d, orthonormal: checked as in nad_band_apply;
 *  count <= d) and S the scatter of `kind` (d×d, never formed):
 *    curve[k−1] = a(k) = trace(V_kᵀ S V_k) / trace(S) = Σ_{i<=k} v_iᵀ S v_i / trace(S),
 *                 k = 1..count, V_k = the first k NADs as columns; non-decreasing, a(d) = 1.
 *    score      = (1/d) Σ_{k=1..d} a(k): the area under the curve with k/d on the x axis.
 *  Random orthonormal directions have E[a(k)] = k/d, hence E[score] = (d + 1)/(2d) (≈ 0.5);
 *  a basis whose first NAD holds all class-mean differences has a(k) = 1 for all k and
 *  score 1; the least aligned possible basis scores about 1/d. When count < d, a(k) beyond
 *  count is taken as what a random basis of the remaining directions gives on average: linear
 *  from a(count) to a(d) = 1 (exact for count = d − 1, e.g. the official 1023-NAD files).
 *  ridge (> 0, finite) is used by NAD_ALIGN_DISCRIMINANT only (e.g. 0.01). The dataset needs two
 *  classes with different means (else NAD_ERR_INVALID_ARG); d must be the samples' c·h·w
 *  (NAD_ERR_SHAPE); curve_len must be count. Computed in double; the discriminant variant
 *  takes 8·d² bytes and one Cholesky solve.
 *  @param data the labelled dataset
 *  @param nads count×d orthonormal NADs, row-major
 *  @param count number of NADs
 *  @param d dimension of a NAD (the samples' c·h·w)
 *  @param kind which scatter S
 *  @param ridge ridge of NAD_ALIGN_DISCRIMINANT (> 0)
 *  @param[out] curve receives a(1) .. a(count)
 *  @param curve_len number of doubles at curve (count)
 *  @param[out] score receives the score; may be NULL
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_align(const nad_dataset *data, const float *nads, int64_t count, int64_t d,
                             nad_align_kind kind, double ridge, double *curve, size_t curve_len,
                             double *score);

/* ------------------------------------------------------------------------------------------ */
/* Pictures                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* Figures are drawn with cairo: text, axes, tick labels and colour bars, written as PNG (one
 * pixel per point), SVG or PDF, atomically (the file appears complete or not at all). Strings
 * are UTF-8; a NULL or empty title or label is left out. */

/** Output format of a figure. Values are ABI: append only. */
typedef enum nad_figure_format {
  NAD_FIGURE_PNG = 0, /**< PNG, one pixel per point */
  NAD_FIGURE_SVG = 1, /**< SVG (text drawn as glyph outlines) */
  NAD_FIGURE_PDF = 2  /**< PDF */
} nad_figure_format;

/** The format called `name` ("png", "svg" or "pdf", as the file extensions) into *format;
 *  NAD_ERR_INVALID_ARG for any other name.
 *  @param name "png", "svg" or "pdf"
 *  @param format the format (output)
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_figure_format_by_name(const char *name, nad_figure_format *format);

/** Flags of nad_figure_nads. */
enum {
  NAD_FIGURE_NOT_CONVERGED = 1 /**< draw a red "not converged" stamp under the title */
};

/** NAD grid: for each shown NAD (up to 8 per row of the grid), a label "#index  λ eigenvalue",
 *  then for every channel the NAD (diverging colour map, scaled by its largest magnitude) above
 *  its Fourier power |DFT2|² (fftshifted, log10, one colour scale for all tiles), a colour bar
 *  for each row kind, the title on top. nads holds k NADs of c×h×w floats (K×D, as
 *  nad_estimator_nads). eigenvalues: k values or NULL (no λ in the labels). show: nshow indices
 *  (each 0 <= i < k, in the order drawn), or NULL to show the first min(k, 16). flags: 0 or
 *  NAD_FIGURE_NOT_CONVERGED. NAD_ERR_INVALID_ARG when the grid exceeds 32767 points a side.
 *  @param path file path (written atomically)
 *  @param format NAD_FIGURE_PNG, NAD_FIGURE_SVG or NAD_FIGURE_PDF
 *  @param nads the NADs, k×c·h·w floats (count×c·h·w for nad_png_write_nads)
 *  @param k number of NADs (or eigenvalues)
 *  @param c channels of one input
 *  @param h height of one input
 *  @param w width of one input
 *  @param eigenvalues the eigenvalues, k doubles, or NULL
 *  @param show indices of the NADs to draw, or NULL for the first min(k, 16)
 *  @param nshow number of indices in show
 *  @param title title text (UTF-8), or NULL for none
 *  @param flags 0 or NAD_FIGURE_NOT_CONVERGED
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_figure_nads(const char *path, nad_figure_format format, const float *nads,
                                   int64_t k, int64_t c, int64_t h, int64_t w,
                                   const double *eigenvalues, const int64_t *show, int64_t nshow,
                                   const char *title, int32_t flags);
/** Fourier power of the covariance (c×h×w doubles, fftshifted, as nad_estimator_spectrum): one
 *  log10 heat map per channel with axes fx, fy in cycles per image (frequency 0 in the middle)
 *  and a colour bar (at most 12 decades below the peak; lower values clamped, the bar shows a
 *  triangle).
 *  @param path file path (written atomically)
 *  @param format NAD_FIGURE_PNG, NAD_FIGURE_SVG or NAD_FIGURE_PDF
 *  @param spectrum the Fourier power, c×h×w doubles (fftshifted)
 *  @param c channels of one input
 *  @param h height of one input
 *  @param w width of one input
 *  @param title title text (UTF-8), or NULL for none
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_figure_spectrum(const char *path, nad_figure_format format,
                                       const double *spectrum, int64_t c, int64_t h, int64_t w,
                                       const char *title);
/** Eigenvalue decay: the k >= 1 eigenvalues against their index on a log10 y axis (values <= 0
 *  or not finite are left out). title NULL: "Eigenvalues of the NAD covariance".
 *  @param path file path (written atomically)
 *  @param format NAD_FIGURE_PNG, NAD_FIGURE_SVG or NAD_FIGURE_PDF
 *  @param eigenvalues the eigenvalues, k doubles (not NULL)
 *  @param k number of NADs (or eigenvalues)
 *  @param title title text (UTF-8), or NULL for none
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_figure_eigenvalues(const char *path, nad_figure_format format,
                                          const double *eigenvalues, int64_t k,
                                          const char *title);
/** Heat map of a rows×cols matrix of doubles (row-major, row 0 at the top) with axes, tick
 *  labels and a colour bar: values map linearly from [lo, hi] (lo < hi, finite) to viridis;
 *  values beyond are drawn in the end colour, the colour bar gets a triangle at that end and a
 *  line of text under the plot says how many were clamped (or that all were). NaN cells are
 *  grey. Column j sits at x = x0 + j·dx, row i at y = y0 + i·dy (dx, dy finite and non-zero).
 *  @param path file path (written atomically)
 *  @param format NAD_FIGURE_PNG, NAD_FIGURE_SVG or NAD_FIGURE_PDF
 *  @param values rows×cols doubles, row-major
 *  @param rows number of rows
 *  @param cols number of columns (images per row for image grids)
 *  @param lo value of the lowest colour
 *  @param hi value of the highest colour
 *  @param x0 x of column 0
 *  @param dx x step between columns
 *  @param y0 y of row 0
 *  @param dy y step between rows
 *  @param title title text (UTF-8), or NULL for none
 *  @param x_label x axis label, or NULL
 *  @param y_label y axis label, or NULL
 *  @param value_label colour bar label, or NULL
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_figure_heatmap(const char *path, nad_figure_format format,
                                      const double *values, int64_t rows, int64_t cols, double lo,
                                      double hi, double x0, double dx, double y0, double dy,
                                      const char *title, const char *x_label, const char *y_label,
                                      const char *value_label);
/** Line plot of nseries >= 1 series over the same n >= 1 finite x values: y holds nseries×n
 *  doubles (series-major); NaN breaks a line. Axes with ticks, tick labels and grid lines; y
 *  from y_lo to y_hi (y_lo < y_hi, finite; points beyond are clamped to the frame); x from its
 *  minimum to its maximum. Markers on the points when n <= 64. legend: nseries names separated
 *  by '\n', or NULL for none.
 *  @param path file path (written atomically)
 *  @param format NAD_FIGURE_PNG, NAD_FIGURE_SVG or NAD_FIGURE_PDF
 *  @param x the x values (n doubles; for image grids the n×c×h×w floats)
 *  @param y the y values, nseries×n doubles
 *  @param n number of points (images for image grids)
 *  @param nseries number of series
 *  @param y_lo bottom of the y axis
 *  @param y_hi top of the y axis
 *  @param title title text (UTF-8), or NULL for none
 *  @param x_label x axis label, or NULL
 *  @param y_label y axis label, or NULL
 *  @param legend series names separated by newlines, or NULL
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_figure_lines(const char *path, nad_figure_format format, const double *x,
                                    const double *y, int64_t n, int64_t nseries, double y_lo,
                                    double y_hi, const char *title, const char *x_label,
                                    const char *y_label, const char *legend);

/** Grid of n >= 1 images (x: n×c×h×w floats, c = 1 grey or c = 3 RGB), `cols` images per row
 *  (>= 1; rows as needed), one pixel gap, values mapped linearly from [lo, hi] (lo < hi,
 *  clamped; NaN black) to 0..255; images smaller than 64 px are magnified by an integer factor
 *  up to 64 px; one point per pixel; the title (NULL or "": none) on a line above.
 *  @param path file path (written atomically)
 *  @param format NAD_FIGURE_PNG, NAD_FIGURE_SVG or NAD_FIGURE_PDF
 *  @param x the images, n×c×h×w floats
 *  @param n number of points (images for image grids)
 *  @param c channels of one input
 *  @param h height of one input
 *  @param w width of one input
 *  @param cols number of columns (images per row for image grids)
 *  @param lo value of the lowest colour
 *  @param hi value of the highest colour
 *  @param title title text (UTF-8), or NULL for none
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_figure_images(const char *path, nad_figure_format format, const float *x,
                                     int64_t n, int64_t c, int64_t h, int64_t w, int64_t cols,
                                     double lo, double hi, const char *title);

/* ------------------------------------------------------------------------------------------ */
/* Deprecated                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* The PNG-only figure functions that came before the nad_figure_* ones, each now a call of a
 * nad_figure_* function with fixed arguments. They stay exported and keep their behaviour (the
 * ABI is checked, tests/abi); new code should call the nad_figure_* functions, which also write
 * SVG and PDF and take titles. */

/** PNG grid of the first `count` NADs: nad_figure_nads(path, NAD_FIGURE_PNG, nads, count, c, h,
 *  w, NULL, NULL, 0, NULL, 0) with every one of the count NADs shown (kept for compatibility).
 *  @deprecated since 0.2.0: use the nad_figure_* function named above.
 *  @param path file path (written atomically)
 *  @param nads the NADs, k×c·h·w floats (count×c·h·w for nad_png_write_nads)
 *  @param count number of NADs to draw
 *  @param c channels of one input
 *  @param h height of one input
 *  @param w width of one input
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_png_write_nads(const char *path, const float *nads, int64_t count,
                                      int64_t c, int64_t h, int64_t w);

/** PNG heat map: nad_figure_heatmap with axes in row and column indices and no text (kept for
 *  compatibility).
 *  @deprecated since 0.2.0: use the nad_figure_* function named above.
 *  @param path file path (written atomically)
 *  @param values rows×cols doubles, row-major
 *  @param rows number of rows
 *  @param cols number of columns (images per row for image grids)
 *  @param lo value of the lowest colour
 *  @param hi value of the highest colour
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_png_write_heatmap(const char *path, const double *values, int64_t rows,
                                         int64_t cols, double lo, double hi);

/** PNG line plot of one series: nad_figure_lines with no text (kept for compatibility).
 *  @deprecated since 0.2.0: use the nad_figure_* function named above.
 *  @param path file path (written atomically)
 *  @param x the x values (n doubles; for image grids the n×c×h×w floats)
 *  @param y the n y values
 *  @param n number of points (images for image grids)
 *  @param y_lo bottom of the y axis
 *  @param y_hi top of the y axis
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_png_write_lineplot(const char *path, const double *x, const double *y,
                                          int64_t n, double y_lo, double y_hi);

/** nad_figure_images as a PNG without title (kept for compatibility).
 *  @deprecated since 0.2.0: use the nad_figure_* function named above.
 *  @param path file path (written atomically)
 *  @param x the images, n×c×h×w floats
 *  @param n number of images
 *  @param c channels of one input
 *  @param h height of one input
 *  @param w width of one input
 *  @param cols images per row
 *  @param lo value drawn black
 *  @param hi value drawn white
 *  @return NAD_OK, or the status of the failure with its message in nad_last_error() */
NAD_API nad_status nad_png_write_images(const char *path, const float *x, int64_t n, int64_t c,
                                        int64_t h, int64_t w, int64_t cols, double lo, double hi);

#ifdef __cplusplus
}
#endif
#endif /* NAD_NAD_H */
