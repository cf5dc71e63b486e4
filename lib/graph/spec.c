/* The architecture spec parser (grammar in include/nad/nad.h, above nad_arch_create_spec).
 *
 *   spec     := items END
 *   items    := item { ';' item } [ ';' ]
 *   item     := 'conv' INT opt* | 'dwconv' opt* | 'maxpool' INT [sS] | 'avgpool' INT [sS]
 *             | 'relu' | 'relu6' | 'gelu' | 'hardswish' | 'silu' | 'sigmoid' | 'tanh'
 *             | 'bn' | 'layernorm' | 'dropout' [PROB] | 'flatten' | 'gap' | 'fc' INT ['nobias']
 *             | 'residual' '{' items '}' [ 'shortcut' '{' items '}' ] | 'dense' '{' items '}'
 *             | 'invres' INT tT [sS] | 'cnblock' | 'embed' INT pP | 'encoder' INT INT | 'cls'
 *   opt      := kK | sS | pP | gG | 'nobias'  (any order, each at most once, kK required; no gG
 *               for dwconv, whose groups are its channels)
 *
 * The blocks are lib/graph/blocks.c's (torchvision's modules, with torchvision's
 * initialisation): invres OUT tT sS = MobileNetV2's inverted residual (expansion T, stride S),
 * cnblock = ConvNeXt's block, embed DIM pP = ViT's class token + P x P patches + position
 * embedding, encoder HEADS MLP = ViT's encoder block, cls = the class token of the tokens.
 * layernorm normalises a feature map's channels (LayerNorm2d) or the last axis of tokens and
 * vectors, eps 1e-6 (torchvision's ConvNeXt and ViT).
 *
 * Whitespace is free between tokens. A token is ';', '{', '}', or a word: a maximal run of
 * letters, digits and "_.+-" (so "k5", "0.25" and "-1" are single tokens and an error can quote
 * them whole). Keywords are lower case. Integers are decimal in [1, 2^31-1] (padding from 0);
 * PROB is D[.D] or .D in [0, 1), default 0.5. Pooling stride defaults to the kernel size.
 *
 * Layers are added to the builder while parsing, so a shape error is reported with the position
 * of the item that caused it. Every error is "spec:COL: ..." with COL the 1-based character
 * position. The parser is recursive over nested blocks, bounded by MAX_DEPTH, and never reads
 * past the terminating NUL: it is fuzzed.
 *
 * Layer names follow nn.Sequential numbering: top-level item i is "i", item j of the body of a
 * block i is "i.body.j", of its shortcut "i.shortcut.j". A name too long for the layer's prefix
 * field falls back to "node<index>". */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"

#define MAX_DEPTH 16

typedef enum tok_type { T_END, T_WORD, T_SEMI, T_LBRACE, T_RBRACE, T_OTHER } tok_type;

typedef struct tok {
  tok_type type;
  size_t start, len;
} tok;

typedef struct parser {
  const char *s;
  size_t pos;
  nadi_builder *b;
  int depth;
  char shown[64]; /* quoted token for messages */
} parser;

static const char *const LAYER_WORDS =
    "a layer (conv, maxpool, avgpool, relu, bn, dropout, flatten, gap, fc, residual, dense, "
    "dwconv, relu6, gelu, hardswish, silu, sigmoid, tanh, layernorm, invres, cnblock, embed, "
    "encoder, cls)";

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
         c == '.' || c == '+' || c == '-';
}

/* The next token, without consuming it. */
static tok peek(parser *p) {
  while (is_space(p->s[p->pos]))
    p->pos++;
  tok t = {T_OTHER, p->pos, 1};
  char c = p->s[p->pos];
  if (c == '\0')
    t.type = T_END, t.len = 0;
  else if (c == ';')
    t.type = T_SEMI;
  else if (c == '{')
    t.type = T_LBRACE;
  else if (c == '}')
    t.type = T_RBRACE;
  else if (is_word(c)) {
    t.type = T_WORD;
    while (is_word(p->s[t.start + t.len]))
      t.len++;
  }
  return t;
}

static void advance(parser *p, const tok *t) { p->pos = t->start + t->len; }

static int tok_is(const parser *p, const tok *t, const char *word) {
  size_t n = strlen(word);
  return t->type == T_WORD && t->len == n && memcmp(p->s + t->start, word, n) == 0;
}

/* "'text'" (long tokens cut, unprintable bytes escaped) or "end of spec". */
static const char *show(parser *p, const tok *t) {
  if (t->type == T_END)
    return "end of spec";
  size_t o = 0, cap = sizeof p->shown;
  p->shown[o++] = '\'';
  for (size_t i = 0; i < t->len && o + 8 < cap; i++) {
    unsigned char c = (unsigned char)p->s[t->start + i];
    if (c >= 0x20 && c < 0x7f)
      p->shown[o++] = (char)c;
    else
      o += (size_t)snprintf(p->shown + o, cap - o, "\\x%02X", c);
    if (i + 1 < t->len && o + 8 >= cap) {
      memcpy(p->shown + o, "...", 3);
      o += 3;
    }
  }
  p->shown[o++] = '\'';
  p->shown[o] = '\0';
  return p->shown;
}

static nad_status expected(parser *p, const tok *t, const char *what) {
  return nadi_fail(NAD_ERR_PARSE, "spec:%zu: expected %s, found %s", t->start + 1, what,
                   show(p, t));
}

/* Re-label a builder error with the position of the item that caused it. */
static nad_status at(size_t col, nad_status st) {
  if (st == NAD_OK)
    return st;
  char msg[400];
  snprintf(msg, sizeof msg, "%s", nad_last_error());
  return nadi_fail(st, "spec:%zu: %s", col, msg);
}

/* Decimal digits text[0..len) as a value in [lo, INT32_MAX]; 0 if not digits or out of range. */
static int digits_value(const char *text, size_t len, int64_t lo, int64_t *v) {
  if (len == 0)
    return 0;
  int64_t x = 0;
  for (size_t i = 0; i < len; i++) {
    if (!is_digit(text[i]))
      return 0;
    x = 10 * x + (text[i] - '0');
    if (x > INT32_MAX)
      return 0;
  }
  if (x < lo)
    return 0;
  *v = x;
  return 1;
}

/* Consume an integer token in [lo, INT32_MAX]. */
static nad_status parse_int(parser *p, int64_t lo, const char *what, int64_t *v) {
  tok t = peek(p);
  if (t.type != T_WORD || !digits_value(p->s + t.start, t.len, lo, v))
    return expected(p, &t, what);
  advance(p, &t);
  return NAD_OK;
}

/* Is t the word "<letter><digits>"? Then *v is its value (validity checked by the caller). */
static int lettered(const parser *p, const tok *t, char letter) {
  return t->type == T_WORD && t->len >= 2 && p->s[t->start] == letter &&
         is_digit(p->s[t->start + 1]);
}

/* Optional dropout probability: D[.D] or .D in [0, 1). */
static nad_status parse_prob(parser *p, double *prob) {
  tok t = peek(p);
  if (t.type != T_WORD || !(is_digit(p->s[t.start]) || p->s[t.start] == '.'))
    return NAD_OK; /* absent: keep the default */
  const char *x = p->s + t.start;
  uint64_t m = 0;
  int digits = 0, frac = -1, ok = 1;
  for (size_t i = 0; i < t.len && ok; i++) {
    if (x[i] == '.' && frac < 0)
      frac = 0;
    else if (is_digit(x[i]) && digits < 18) {
      m = 10 * m + (uint64_t)(x[i] - '0');
      digits++;
      if (frac >= 0)
        frac++;
    } else
      ok = 0;
  }
  double v = (double)m;
  for (int i = 0; i < frac; i++)
    v /= 10.0;
  if (!ok || digits == 0 || !(v >= 0.0 && v < 1.0))
    return expected(p, &t, "a dropout probability in [0, 1)");
  advance(p, &t);
  *prob = v;
  return NAD_OK;
}

/* Module name "<path><idx>" or, if it does not fit a layer's prefix, "node<next node index>". */
static void make_name(const parser *p, const char *path, int64_t idx, char name[48]) {
  int n = snprintf(name, 48, "%s%lld", path, (long long)idx);
  if (n < 0 || n >= 48)
    snprintf(name, 48, "node%d", (int)(nadi_builder_last(p->b) + 1));
}

static nad_status parse_items(parser *p, int32_t in, int32_t *out, const char *path,
                              tok_type closing);

/* The options of conv and dwconv: kK [sS] [pP] [gG] [nobias] in any order (gG only when
 * groups != NULL). */
typedef struct conv_opts {
  int64_t k, s, pad, groups;
  int nobias;
} conv_opts;

static nad_status parse_conv_opts(parser *p, conv_opts *o, int allow_groups) {
  o->k = o->s = o->pad = o->groups = -1, o->nobias = 0;
  for (;;) {
    tok t = peek(p);
    if (t.type != T_WORD)
      break;
    const char *x = p->s + t.start;
    int64_t *slot = NULL, lo = 1;
    const char *what = NULL;
    if (tok_is(p, &t, "nobias")) {
      if (o->nobias)
        return expected(p, &t, "at most one 'nobias'");
      o->nobias = 1;
      advance(p, &t);
      continue;
    } else if (lettered(p, &t, 'k')) {
      slot = &o->k, what = "a kernel size 'kK' with K >= 1";
    } else if (lettered(p, &t, 's')) {
      slot = &o->s, what = "a stride 'sS' with S >= 1";
    } else if (lettered(p, &t, 'p')) {
      slot = &o->pad, lo = 0, what = "a padding 'pP' with P >= 0";
    } else if (allow_groups && lettered(p, &t, 'g')) {
      slot = &o->groups, what = "a number of groups 'gG' with G >= 1";
    } else {
      break;
    }
    if (*slot >= 0)
      return expected(p, &t, "each of kK, sS, pP, gG at most once");
    if (!digits_value(x + 1, t.len - 1, lo, slot))
      return expected(p, &t, what);
    advance(p, &t);
  }
  if (o->k < 0) {
    tok t = peek(p);
    return expected(p, &t, "a kernel size 'kK'");
  }
  o->s = o->s < 0 ? 1 : o->s, o->pad = o->pad < 0 ? 0 : o->pad;
  return NAD_OK;
}

/* conv OUT kK [sS] [pP] [gG] [nobias] / dwconv kK [sS] [pP] [nobias] (out = groups = the
 * input channels). */
static nad_status parse_conv(parser *p, size_t col, int32_t *cur, const char *name, int dw) {
  int64_t out_c = 0;
  if (!dw)
    NADI_TRY(parse_int(p, 1, "a number of output channels (integer >= 1)", &out_c));
  conv_opts o;
  NADI_TRY(parse_conv_opts(p, &o, !dw));
  if (dw) {
    nadi_dims d = nadi_builder_dims(p->b, *cur);
    out_c = o.groups = d.rank >= 2 ? d.d[1] : d.d[0];
  }
  return at(col, nadi_add_conv_groups(p->b, *cur, out_c, (int32_t)o.k, (int32_t)o.s,
                                      (int32_t)o.pad, o.groups < 0 ? 1 : o.groups, !o.nobias,
                                      NADI_INIT_TORCH, name, cur));
}

/* A required "<letter>N" option (N >= lo), or an optional one (*v keeps its default). */
static nad_status parse_lettered(parser *p, char letter, int required, const char *what,
                                 int64_t *v) {
  tok t = peek(p);
  if (!lettered(p, &t, letter)) {
    if (required)
      return expected(p, &t, what);
    return NAD_OK;
  }
  if (!digits_value(p->s + t.start + 1, t.len - 1, 1, v))
    return expected(p, &t, what);
  advance(p, &t);
  return NAD_OK;
}

static const struct {
  const char *word;
  nadi_kind kind;
} ACTIVATIONS[] = {{"relu6", NADI_CLIP},         {"gelu", NADI_GELU}, {"hardswish", NADI_HARDSWISH},
                   {"silu", NADI_SILU},          {"sigmoid", NADI_SIGMOID}, {"tanh", NADI_TANH}};

/* The items of issue 17 (activations, dwconv, layernorm and the blocks of lib/graph/blocks.c);
 * *handled = 0 when kw is none of them. */
static nad_status parse_modern(parser *p, const tok *kw, int32_t *cur, const char *name,
                               int *handled) {
  size_t col = kw->start + 1;
  *handled = 1;
  for (size_t i = 0; i < sizeof ACTIVATIONS / sizeof ACTIVATIONS[0]; i++)
    if (tok_is(p, kw, ACTIVATIONS[i].word)) {
      advance(p, kw);
      return at(col, nadi_add_activation(p->b, *cur, ACTIVATIONS[i].kind, cur));
    }
  if (tok_is(p, kw, "dwconv")) {
    advance(p, kw);
    return parse_conv(p, col, cur, name, 1);
  }
  if (tok_is(p, kw, "layernorm")) {
    advance(p, kw);
    return at(col, nadi_add_layernorm(p->b, *cur, 1e-6, name, cur));
  }
  if (tok_is(p, kw, "cnblock")) {
    advance(p, kw);
    return at(col, nadi_add_cnblock(p->b, *cur, NADI_INIT_TRUNC_002, NADI_INIT_CONST_1E6, name,
                                    cur));
  }
  if (tok_is(p, kw, "cls")) {
    advance(p, kw);
    return at(col, nadi_add_class_token(p->b, *cur, cur));
  }
  int64_t a, c = 1;
  if (tok_is(p, kw, "invres")) {
    advance(p, kw);
    NADI_TRY(parse_int(p, 1, "a number of output channels (integer >= 1)", &a));
    int64_t t = 0;
    NADI_TRY(parse_lettered(p, 't', 1, "an expansion ratio 'tT' with T >= 1", &t));
    NADI_TRY(parse_lettered(p, 's', 0, "a stride 'sS' with S >= 1", &c));
    return at(col, nadi_add_invres(p->b, *cur, a, t, (int32_t)c, NADI_INIT_KAIMING_OUT, name, cur));
  }
  if (tok_is(p, kw, "embed")) {
    advance(p, kw);
    NADI_TRY(parse_int(p, 1, "a token width (integer >= 1)", &a));
    NADI_TRY(parse_lettered(p, 'p', 1, "a patch size 'pP' with P >= 1", &c));
    char n0[64], n1[64], n2[64];
    snprintf(n0, sizeof n0, "%s.class_token", name);
    snprintf(n1, sizeof n1, "%s.conv_proj", name);
    snprintf(n2, sizeof n2, "%s.pos_embedding", name);
    const nadi_vit_names names = {n0, n1, n2};
    return at(col, nadi_add_patch_embed(p->b, *cur, a, (int32_t)c, &names, 1, cur));
  }
  if (tok_is(p, kw, "encoder")) {
    advance(p, kw);
    NADI_TRY(parse_int(p, 1, "a number of attention heads (integer >= 1)", &a));
    NADI_TRY(parse_int(p, 1, "an MLP width (integer >= 1)", &c));
    return at(col, nadi_add_encoder(p->b, *cur, a, c, 1, name, cur));
  }
  *handled = 0;
  return NAD_OK;
}

/* maxpool K [sS] / avgpool K [sS] */
static nad_status parse_pool(parser *p, size_t col, nadi_kind kind, int32_t *cur) {
  int64_t k, s;
  NADI_TRY(parse_int(p, 1, "a pooling kernel size (integer >= 1)", &k));
  s = k;
  tok t = peek(p);
  if (lettered(p, &t, 's')) {
    if (!digits_value(p->s + t.start + 1, t.len - 1, 1, &s))
      return expected(p, &t, "a stride 'sS' with S >= 1");
    advance(p, &t);
  }
  return at(col, nadi_add_pool(p->b, *cur, kind, (int32_t)k, (int32_t)s, cur));
}

/* '{' items '}' applied to `in`; *out is the block's last node. */
static nad_status parse_block(parser *p, int32_t in, int32_t *out, const char *path) {
  tok t = peek(p);
  if (t.type != T_LBRACE)
    return expected(p, &t, "'{'");
  advance(p, &t);
  NADI_TRY(parse_items(p, in, out, path, T_RBRACE));
  t = peek(p);
  if (t.type != T_RBRACE)
    return expected(p, &t, "'}'");
  advance(p, &t);
  return NAD_OK;
}

static nad_status parse_item(parser *p, int32_t *cur, const char *path, int64_t idx) {
  tok kw = peek(p);
  size_t col = kw.start + 1;
  if (kw.type != T_WORD)
    return expected(p, &kw, LAYER_WORDS);
  char name[48];
  make_name(p, path, idx, name);
  if (tok_is(p, &kw, "conv")) {
    advance(p, &kw);
    return parse_conv(p, col, cur, name, 0);
  }
  int handled;
  nad_status st_modern = parse_modern(p, &kw, cur, name, &handled);
  if (handled)
    return st_modern;
  if (tok_is(p, &kw, "maxpool") || tok_is(p, &kw, "avgpool")) {
    advance(p, &kw);
    return parse_pool(p, col, tok_is(p, &kw, "maxpool") ? NADI_MAXPOOL : NADI_AVGPOOL, cur);
  }
  if (tok_is(p, &kw, "relu") || tok_is(p, &kw, "flatten") || tok_is(p, &kw, "gap")) {
    advance(p, &kw);
    nadi_kind kind = tok_is(p, &kw, "relu") ? NADI_RELU
                     : tok_is(p, &kw, "gap") ? NADI_GAP
                                             : NADI_FLATTEN;
    return at(col, nadi_add_simple(p->b, *cur, kind, cur));
  }
  if (tok_is(p, &kw, "bn")) {
    advance(p, &kw);
    return at(col, nadi_add_batchnorm(p->b, *cur, name, cur));
  }
  if (tok_is(p, &kw, "dropout")) {
    advance(p, &kw);
    double prob = 0.5;
    NADI_TRY(parse_prob(p, &prob));
    return at(col, nadi_add_dropout(p->b, *cur, prob, cur));
  }
  if (tok_is(p, &kw, "fc")) {
    advance(p, &kw);
    int64_t n_out;
    NADI_TRY(parse_int(p, 1, "a number of output features (integer >= 1)", &n_out));
    tok t = peek(p);
    int bias = 1;
    if (tok_is(p, &t, "nobias")) {
      bias = 0;
      advance(p, &t);
    }
    return at(col, nadi_add_linear(p->b, *cur, n_out, bias, name, cur));
  }
  int residual = tok_is(p, &kw, "residual");
  if (residual || tok_is(p, &kw, "dense")) {
    if (p->depth >= MAX_DEPTH)
      return nadi_fail(NAD_ERR_PARSE, "spec:%zu: expected at most %d nested blocks, found %s",
                       col, MAX_DEPTH, show(p, &kw));
    advance(p, &kw);
    p->depth++;
    int32_t x = *cur, body = x, other = x;
    char sub[96];
    snprintf(sub, sizeof sub, "%s%lld.body.", path, (long long)idx);
    nad_status st = parse_block(p, x, &body, sub);
    if (st == NAD_OK && residual) {
      tok t = peek(p);
      if (tok_is(p, &t, "shortcut")) {
        advance(p, &t);
        snprintf(sub, sizeof sub, "%s%lld.shortcut.", path, (long long)idx);
        st = parse_block(p, x, &other, sub);
      }
    }
    p->depth--;
    NADI_TRY(st);
    /* PyTorch order: body(x) + shortcut(x); torch.cat([body(x), x], 1). */
    return at(col, nadi_add_join(p->b, residual ? NADI_ADD : NADI_CONCAT, body, other, cur));
  }
  return expected(p, &kw, LAYER_WORDS);
}

/* items := item { ';' item } [';'], stopping before `closing` (end of spec or '}'). */
static nad_status parse_items(parser *p, int32_t in, int32_t *out, const char *path,
                              tok_type closing) {
  int32_t cur = in;
  for (int64_t idx = 0;; idx++) {
    NADI_TRY(parse_item(p, &cur, path, idx));
    tok t = peek(p);
    if (t.type == closing)
      break;
    if (t.type != T_SEMI)
      return expected(p, &t, closing == T_END ? "';' or end of spec" : "';' or '}'");
    advance(p, &t);
    t = peek(p);
    if (t.type == closing) /* trailing ';' */
      break;
  }
  *out = cur;
  return NAD_OK;
}

nad_status nadi_spec_build(const char *spec, int64_t c, int64_t h, int64_t w, nadi_graph **out) {
  NADI_CHECK(out != NULL, NAD_ERR_INVALID_ARG, "output pointer is NULL");
  *out = NULL;
  NADI_CHECK(spec != NULL, NAD_ERR_INVALID_ARG, "architecture spec is NULL");
  parser p = {.s = spec, .pos = 0, .b = NULL, .depth = 0, .shown = ""};
  NADI_TRY(nadi_builder_create(c, h, w, &p.b));
  int32_t last;
  nad_status st = parse_items(&p, NADI_INPUT_NODE, &last, "", T_END);
  if (st != NAD_OK) {
    nadi_builder_destroy(p.b);
    return st;
  }
  st = nadi_builder_finish(p.b, out);
  if (st != NAD_OK) { /* only whole-graph totals can fail here (every layer was checked) */
    char msg[400];
    snprintf(msg, sizeof msg, "%s", nad_last_error());
    return nadi_fail(st, "spec: %s", msg);
  }
  nadi_blocks_names(*out);
  return NAD_OK;
}
