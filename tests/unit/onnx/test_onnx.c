/* lib/onnx on models crafted here with protobuf-c (onnx_craft.h): a valid Conv+Relu model read
 * from a file and from memory, the folding of a Shape/Gather/Unsqueeze/Concat/Reshape chain and
 * of a ViT-like ConstantOfShape/Equal/Where/Expand chain, and every refusal the reader promises
 * (status and message naming the file, node and reason): truncated and random bytes, opsets 10
 * and 18, a cycle, an undefined input, a duplicate output, external data missing / present /
 * short / escaping its directory, absurd dimensions, a raw_data length mismatch, a Conv whose
 * channels do not fit, a second shape inference with another input shape. */
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "../test_files.h"
#include "onnx/onnx_model.h"
#include "onnx_craft.h"

static char dir[256];

static void write_bytes(const char *path, const void *b, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(b, 1, n, f) != n)
    printf("cannot write %s\n", path);
  if (f)
    fclose(f);
}

/* Reads the packed model from memory: the status, and *msg_ok whether the message has every
 * one of the (NULL-terminated) words. */
static nad_status read_expect(const Onnx__ModelProto *pm, const char *base, nad_status want,
                              const char **words) {
  size_t len;
  uint8_t *b = craft_pack(pm, &len);
  nadi_onnx_model *m = NULL;
  nad_status st = nadi_onnx_read_memory(b, len, "crafted.onnx", base, &m);
  CHECK(st == want, "status %d, expected %d: %s", (int)st, (int)want, nad_last_error());
  CHECK(st == NAD_OK || m == NULL, "a model is returned with an error");
  for (int k = 0; words && words[k]; k++)
    CHECK(strstr(nad_last_error(), words[k]) != NULL, "'%s' not in the message '%s'", words[k],
          nad_last_error());
  nadi_onnx_model_free(m);
  return st;
}

static const nadi_onnx_value *value(const nadi_onnx_model *m, const char *name) {
  int32_t v = nadi_onnx_find_value(m, name);
  return v >= 0 ? &m->values[v] : NULL;
}

static void test_valid(void) {
  size_t len;
  uint8_t *b = craft_pack(craft_conv_relu(17), &len);
  const char *path = nadt_path(dir, "conv.onnx");
  write_bytes(path, b, len);
  nadi_onnx_model *m = NULL;
  CHECK(nadi_onnx_read_file(path, &m) == NAD_OK, "valid model refused: %s", nad_last_error());
  if (!m)
    return;
  EXPECT(m->opset == 17 && m->n_nodes == 2 && m->n_inputs == 1 && m->n_outputs == 1);
  EXPECT(!strcmp(m->nodes[0].op, "Conv") && !strcmp(m->nodes[1].op, "Relu"));
  const nadi_onnx_value *w = value(m, "w"), *bias = value(m, "b"), *y = value(m, "y");
  EXPECT(w && w->kind == NADI_ONNX_INIT && w->is_param && w->data->count == 108);
  EXPECT(w && w->data->f[0] == -3.0f && w->data->f[10] == 0.0f && w->data->f[107] == -1.0f);
  EXPECT(bias && bias->data->f[3] == 2.0f);
  const nadi_onnx_attr *pads = nadi_onnx_attr_find(&m->nodes[0], "pads");
  EXPECT(pads && pads->type == NADI_ONNX_ATTR_INTS && pads->n == 4 && pads->ints[2] == 1);
  EXPECT(nadi_onnx_attr_int(&m->nodes[0], "group", 1) == 1);
  CHECK(nadi_onnx_infer_shapes(m, NULL, 0) == NAD_OK, "%s", nad_last_error());
  EXPECT(y && y->ndim == 4 && y->dims[0] == 1 && y->dims[1] == 4 && y->dims[2] == 8 &&
         y->dims[3] == 8);
  CHECK(nadi_onnx_infer_shapes(m, (const int64_t[]){1, 3, 8, 8}, 4) == NAD_OK, "same shape again");
  CHECK(nadi_onnx_infer_shapes(m, (const int64_t[]){1, 3, 9, 8}, 4) == NAD_ERR_MISUSE,
        "another shape after folding");
  nadi_onnx_model_free(m);
  /* the same file with another input shape: 2x3x16x12 */
  CHECK(nadi_onnx_read_file(path, &m) == NAD_OK, "%s", nad_last_error());
  CHECK(nadi_onnx_infer_shapes(m, (const int64_t[]){2, 3, 16, 12}, 4) == NAD_OK, "%s",
        nad_last_error());
  y = value(m, "y");
  EXPECT(y->dims[0] == 2 && y->dims[1] == 4 && y->dims[2] == 16 && y->dims[3] == 12);
  CHECK(nadi_onnx_infer_shapes(m, (const int64_t[]){1, 3, 8}, 3) == NAD_ERR_MISUSE, "rank 3");
  nadi_onnx_model_free(m);
  CHECK(nadi_onnx_read_file(path, &m) == NAD_OK, "%s", nad_last_error());
  CHECK(nadi_onnx_infer_shapes(m, (const int64_t[]){1, 3, 8}, 3) == NAD_ERR_SHAPE, "rank 3");
  nadi_onnx_model_free(m);
  /* a Conv whose weight has 2 input channels for a 3-channel input */
  Onnx__ModelProto *pm = craft_conv_relu(17);
  pm->graph->initializer[0]->dims[1] = 2;
  pm->graph->initializer[0]->raw_data.len = 4 * 2 * 9 * sizeof(float);
  b = craft_pack(pm, &len);
  CHECK(nadi_onnx_read_memory(b, len, "bad.onnx", NULL, &m) == NAD_OK, "%s", nad_last_error());
  CHECK(nadi_onnx_infer_shapes(m, NULL, 0) == NAD_ERR_SHAPE, "channels do not fit");
  CHECK(strstr(nad_last_error(), "bad.onnx") && strstr(nad_last_error(), "node 'conv' (Conv)"),
        "%s", nad_last_error());
  nadi_onnx_model_free(m);
}

/* Makes deep[*at..] the content of a length-delimited field: the tag and the length (varint)
 * are written in front of it. */
static void wrap_front(uint8_t *deep, size_t *at, uint8_t tag) {
  uint8_t v[10];
  size_t n = 0, len = 65536 - *at;
  do {
    v[n++] = (uint8_t)((len & 0x7f) | (len >= 0x80 ? 0x80 : 0));
    len >>= 7;
  } while (len);
  *at -= n + 1;
  deep[*at] = tag;
  memcpy(deep + *at + 1, v, n);
}

static void test_bytes(void) {
  size_t len;
  uint8_t *b = craft_pack(craft_conv_relu(17), &len);
  nadi_onnx_model *m = NULL;
  const char *path = nadt_path(dir, "truncated.onnx");
  int refused = 0;
  for (size_t cut = 1; cut < len; cut += 7) { /* every 7th prefix of the valid model */
    write_bytes(path, b, cut);
    nad_status st = nadi_onnx_read_file(path, &m);
    refused += st == NAD_ERR_FORMAT && strstr(nad_last_error(), "truncated.onnx") != NULL;
    nadi_onnx_model_free(m);
  }
  CHECK(refused == (int)((len - 2) / 7 + 1), "%d truncated files of %zu refused", refused,
        (len - 2) / 7 + 1);
  uint64_t s = 12345;
  uint8_t junk[600];
  refused = 0;
  for (int r = 0; r < 50; r++) {
    for (size_t k = 0; k < sizeof junk; k++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      junk[k] = (uint8_t)(s >> 56);
    }
    nad_status st = nadi_onnx_read_memory(junk, 1 + (size_t)r * 11, "junk", NULL, &m);
    refused += st == NAD_ERR_FORMAT;
    nadi_onnx_model_free(m);
  }
  CHECK(refused == 50, "%d of 50 random byte strings refused", refused);
  CHECK(nadi_onnx_read_memory(junk, 0, "empty", NULL, &m) == NAD_ERR_FORMAT, "empty");
  /* graphs in node attributes in graphs..., 3000 deep (protobuf-c alone would recurse that deep) */
  static uint8_t deep[65536];
  size_t at = sizeof deep;
  static const uint8_t tags[] = {6 << 3 | 2, 5 << 3 | 2, 1 << 3 | 2}; /* g, attribute, node */
  for (int level = 0; level < 9000; level++)
    wrap_front(deep, &at, tags[level % 3]);
  wrap_front(deep, &at, 7 << 3 | 2); /* ModelProto.graph */
  CHECK(nadi_onnx_read_memory(deep + at, sizeof deep - at, "deep", NULL, &m) == NAD_ERR_FORMAT &&
            strstr(nad_last_error(), "nested"),
        "%s", nad_last_error());
  CHECK(nadi_onnx_read_file(nadt_path(dir, "absent.onnx"), &m) == NAD_ERR_IO, "absent file");
  CHECK(strstr(nad_last_error(), "absent.onnx") != NULL, "%s", nad_last_error());
}

static void test_graph_errors(void) {
  read_expect(craft_conv_relu(10), NULL, NAD_ERR_UNSUPPORTED,
              (const char *[]){"crafted.onnx", "opset 10", NULL});
  read_expect(craft_conv_relu(18), NULL, NAD_ERR_UNSUPPORTED, (const char *[]){"opset 18", NULL});
  read_expect(craft_conv_relu(11), NULL, NAD_OK, NULL);
  /* a cycle: relu reads d, which a second Relu makes from y */
  Onnx__ModelProto *pm = craft_conv_relu(17);
  Onnx__GraphProto *g = pm->graph;
  g->node[1]->input[0] = craft_str("d");
  Onnx__NodeProto *back =
      craft_node("Relu", "back", (const char *[]){"y", NULL}, (const char *[]){"d", NULL}, NULL);
  CRAFT_LIST(node, g->node[0], g->node[1], back);
  read_expect(pm, NULL, NAD_ERR_FORMAT, (const char *[]){"cycle", "(Relu)", NULL});
  /* undefined input, duplicate output */
  pm = craft_conv_relu(17);
  pm->graph->node[1]->input[0] = craft_str("nowhere");
  read_expect(pm, NULL, NAD_ERR_FORMAT,
              (const char *[]){"node 'relu' (Relu)", "'nowhere' is not defined", NULL});
  pm = craft_conv_relu(17);
  pm->graph->node[1]->output[0] = craft_str("c");
  read_expect(pm, NULL, NAD_ERR_FORMAT, (const char *[]){"'c'", "already defined", NULL});
  pm = craft_conv_relu(17);
  pm->graph->output[0]->name = craft_str("zz");
  read_expect(pm, NULL, NAD_ERR_FORMAT, (const char *[]){"graph output 'zz'", NULL});
  /* nodes out of order are sorted: Relu first in the file */
  pm = craft_conv_relu(17);
  g = pm->graph;
  CRAFT_LIST(node, g->node[1], g->node[0]);
  size_t len;
  uint8_t *b = craft_pack(pm, &len);
  nadi_onnx_model *m = NULL;
  CHECK(nadi_onnx_read_memory(b, len, "swapped", NULL, &m) == NAD_OK, "%s", nad_last_error());
  EXPECT(m && !strcmp(m->nodes[0].op, "Conv") &&
         m->values[nadi_onnx_find_value(m, "y")].producer == 1);
  nadi_onnx_model_free(m);
}

static void test_tensor_errors(void) {
  Onnx__ModelProto *pm = craft_conv_relu(17);
  pm->graph->initializer[1]->raw_data.len = 15;
  read_expect(pm, NULL, NAD_ERR_FORMAT,
              (const char *[]){"initializer 'b'", "raw_data has 15 bytes, 16 expected", NULL});
  pm = craft_conv_relu(17);
  Onnx__TensorProto *w = pm->graph->initializer[0];
  w->dims[0] = (int64_t)1 << 40;
  w->dims[1] = (int64_t)1 << 40;
  read_expect(pm, NULL, NAD_ERR_FORMAT, (const char *[]){"initializer 'w'", "absurd", NULL});
  pm = craft_conv_relu(17);
  pm->graph->initializer[0]->dims[2] = -3;
  read_expect(pm, NULL, NAD_ERR_FORMAT, (const char *[]){"absurd", NULL});
  pm = craft_conv_relu(17);
  pm->graph->input[0]->type->tensor_type->shape->dim[2]->dim_value = -7;
  read_expect(pm, NULL, NAD_ERR_FORMAT, (const char *[]){"'x'", "absurd", NULL});
  pm = craft_conv_relu(17);
  pm->graph->initializer[1]->data_type = 8; /* STRING */
  read_expect(pm, NULL, NAD_ERR_UNSUPPORTED, (const char *[]){"string", NULL});
}

/* b stored in b.bin next to the model (data_location EXTERNAL). */
static Onnx__ModelProto *external_model(const char *location) {
  Onnx__ModelProto *pm = craft_conv_relu(17);
  Onnx__TensorProto *t = pm->graph->initializer[1];
  t->has_raw_data = 0;
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  Onnx__StringStringEntryProto *e = craft_alloc(sizeof *e);
  onnx__string_string_entry_proto__init(e);
  e->key = craft_str("location");
  e->value = craft_str(location);
  t->n_external_data = 1;
  t->external_data = craft_alloc(sizeof(void *));
  t->external_data[0] = e;
  return pm;
}

static void test_external(void) {
  size_t len;
  uint8_t *b = craft_pack(external_model("b.bin"), &len);
  const char *path = nadt_path(dir, "ext.onnx");
  write_bytes(path, b, len);
  nadi_onnx_model *m = NULL;
  CHECK(nadi_onnx_read_file(path, &m) == NAD_ERR_IO, "missing external data");
  CHECK(strstr(nad_last_error(), "ext.onnx") && strstr(nad_last_error(), "b.bin") &&
            strstr(nad_last_error(), "missing"),
        "%s", nad_last_error());
  write_bytes(nadt_path(dir, "b.bin"), (const float[]){1, 2, 3}, 12);
  CHECK(nadi_onnx_read_file(path, &m) == NAD_ERR_FORMAT, "short external data");
  write_bytes(nadt_path(dir, "b.bin"), (const float[]){1, 2, 3, 4.5f}, 16);
  CHECK(nadi_onnx_read_file(path, &m) == NAD_OK, "external data: %s", nad_last_error());
  const nadi_onnx_value *v = m ? value(m, "b") : NULL;
  EXPECT(v && v->data->count == 4 && v->data->f[0] == 1 && v->data->f[3] == 4.5f);
  nadi_onnx_model_free(m);
  read_expect(external_model("b.bin"), NULL, NAD_ERR_IO, (const char *[]){"memory", NULL});
  read_expect(external_model("../b.bin"), dir, NAD_ERR_FORMAT, (const char *[]){"'..'", NULL});
  read_expect(external_model("/etc/passwd"), dir, NAD_ERR_FORMAT,
              (const char *[]){"relative", NULL});
}

/* value `name` is a constant with exactly the n int64s given */
static int const_is(const nadi_onnx_model *m, const char *name, const int64_t *want, int64_t n) {
  const nadi_onnx_value *v = value(m, name);
  if (!v || v->kind != NADI_ONNX_CONST || !v->data || !v->data->i || v->data->count != n)
    return 0;
  for (int64_t k = 0; k < n; k++)
    if (v->data->i[k] != want[k])
      return 0;
  return 1;
}

static void test_fold(void) {
  size_t len;
  uint8_t *b = craft_pack(craft_fold_model(), &len);
  nadi_onnx_model *m = NULL;
  CHECK(nadi_onnx_read_memory(b, len, "fold", NULL, &m) == NAD_OK, "%s", nad_last_error());
  if (!m)
    return;
  EXPECT(m->n_nodes == 19);
  CHECK(nadi_onnx_infer_shapes(m, NULL, 0) == NAD_OK, "%s", nad_last_error());
  CHECK(m->n_nodes == 2 && !strcmp(m->nodes[0].op, "Reshape") && !strcmp(m->nodes[1].op, "Expand"),
        "%d nodes left", (int)m->n_nodes);
  EXPECT(const_is(m, "s", (const int64_t[]){2, 3, 4, 5}, 4));
  EXPECT(const_is(m, "n", (const int64_t[]){2}, 1) && value(m, "n")->ndim == 0);
  EXPECT(const_is(m, "shp", (const int64_t[]){2, -1}, 2));
  EXPECT(const_is(m, "shape2", (const int64_t[]){2, 1, 1}, 3));
  EXPECT(const_is(m, "eq", (const int64_t[]){0, 1, 1}, 3) &&
         value(m, "eq")->dtype == NADI_ONNX_BOOL);
  EXPECT(const_is(m, "sl", (const int64_t[]){3, 4, 5}, 3));
  EXPECT(const_is(m, "r", (const int64_t[]){0, 2, 4}, 3));
  const nadi_onnx_value *y = value(m, "y"), *e = value(m, "e"), *tok = value(m, "tok");
  EXPECT(y->kind == NADI_ONNX_NODE_OUT && y->producer == 0 && y->ndim == 2 && y->dims[0] == 2 &&
         y->dims[1] == 60);
  EXPECT(e->kind == NADI_ONNX_NODE_OUT && e->producer == 1 && e->ndim == 3 && e->dims[0] == 2 &&
         e->dims[1] == 1 && e->dims[2] == 4);
  EXPECT(tok->kind == NADI_ONNX_INIT && tok->is_param && tok->data->f[3] == 4.0f);
  EXPECT(m->nodes[1].in[0] == nadi_onnx_find_value(m, "tok"));
  nadi_onnx_model_free(m);
  /* a batch of 3: the folded constants follow the input shape */
  CHECK(nadi_onnx_read_memory(b, len, "fold", NULL, &m) == NAD_OK, "%s", nad_last_error());
  CHECK(nadi_onnx_infer_shapes(m, (const int64_t[]){3, 3, 4, 5}, 4) == NAD_OK, "%s",
        nad_last_error());
  EXPECT(const_is(m, "shp", (const int64_t[]){3, -1}, 2) && value(m, "y")->dims[0] == 3);
  nadi_onnx_model_free(m);
}

/* ScatterND folds on constants; Einsum's output shape comes from its labels */
static void test_scatter_einsum(void) {
  size_t len;
  uint8_t *b = craft_pack(craft_scatter_einsum_model(), &len);
  nadi_onnx_model *m = NULL;
  CHECK(nadi_onnx_read_memory(b, len, "relpos", NULL, &m) == NAD_OK, "%s", nad_last_error());
  if (!m)
    return;
  CHECK(nadi_onnx_infer_shapes(m, NULL, 0) == NAD_OK, "%s", nad_last_error());
  CHECK(m->n_nodes == 2 && !strcmp(m->nodes[0].op, "Einsum") && !strcmp(m->nodes[1].op, "Add"),
        "%d nodes left", (int)m->n_nodes);
  const nadi_onnx_value *mask = value(m, "mask"), *att = value(m, "att");
  EXPECT(mask->kind == NADI_ONNX_CONST && mask->data && mask->data->f &&
         mask->data->count == 18);
  for (int64_t k = 0; mask->data && mask->data->f && k < mask->data->count; k++)
    EXPECT(mask->data->f[k] == (k == 9 + 2 * 3 + 2 ? 7.0f : k == 1 ? -2.0f : 0.0f));
  EXPECT(att->ndim == 4 && att->dims[0] == 1 && att->dims[1] == 2 && att->dims[2] == 3 &&
         att->dims[3] == 3);
  nadi_onnx_model_free(m);
}

/* an input dimension named in the file ("N") is resolved by the shape given, else refused */
static void test_symbolic(void) {
  Onnx__ModelProto *pm = craft_conv_relu(17);
  pm->graph->input[0]->type->tensor_type->shape->dim[0]->value_case =
      ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
  pm->graph->input[0]->type->tensor_type->shape->dim[0]->dim_param = craft_str("batch");
  size_t len;
  uint8_t *b = craft_pack(pm, &len);
  nadi_onnx_model *m = NULL;
  CHECK(nadi_onnx_read_memory(b, len, "sym.onnx", NULL, &m) == NAD_OK, "%s", nad_last_error());
  const nadi_onnx_value *x = m ? value(m, "x") : NULL;
  EXPECT(x && x->dims[0] == -1 && x->sym[0] && !strcmp(x->sym[0], "batch") && x->dims[1] == 3);
  CHECK(nadi_onnx_infer_shapes(m, NULL, 0) == NAD_ERR_SHAPE &&
            strstr(nad_last_error(), "'batch'") && strstr(nad_last_error(), "sym.onnx"),
        "%s", nad_last_error());
  nadi_onnx_model_free(m);
  CHECK(nadi_onnx_read_memory(b, len, "sym.onnx", NULL, &m) == NAD_OK, "%s", nad_last_error());
  CHECK(nadi_onnx_infer_shapes(m, (const int64_t[]){5, 3, 8, 8}, 4) == NAD_OK, "%s",
        nad_last_error());
  EXPECT(value(m, "y")->dims[0] == 5);
  nadi_onnx_model_free(m);
}

#ifdef NADI_ALLOC_FAIL
/* -Dalloc_fail=true: the k-th allocation of reading and folding fails, for every k; each must
 * come back as NAD_ERR_OUT_OF_MEMORY with nothing leaked (the ASan pass checks). The arena
 * makes it few: model, arena, hash, one block. */
static void test_alloc_fail(void) {
  size_t len;
  uint8_t *b = craft_pack(craft_fold_model(), &len);
  int64_t k = 1, wrong = 0;
  for (;; k++) {
    nadi_onnx_model *m = NULL;
    nadi_alloc_fail_at(k);
    nad_status st = nadi_onnx_read_memory(b, len, "fold", NULL, &m);
    if (st == NAD_OK)
      st = nadi_onnx_infer_shapes(m, NULL, 0);
    int64_t calls = nadi_alloc_calls();
    nadi_alloc_fail_at(0);
    nadi_onnx_model_free(m);
    if (calls < k) {
      CHECK(st == NAD_OK, "clean run: %s", nad_last_error());
      break;
    }
    wrong += st != NAD_ERR_OUT_OF_MEMORY;
  }
  CHECK(wrong == 0 && k > 4, "%lld of %lld failed allocations not reported as out of memory",
        (long long)wrong, (long long)k - 1);
}
#endif

int main(void) {
  nadt_scratch_dir(dir, sizeof dir, "test-onnx");
  test_valid();
  test_bytes();
  test_graph_errors();
  test_tensor_errors();
  test_external();
  test_fold();
  test_scatter_einsum();
  test_symbolic();
#ifdef NADI_ALLOC_FAIL
  test_alloc_fail();
#endif
  craft_free_all();
  nadt_remove_dir(dir);
  return check_summary();
}
