/* The window rule of conv2d, maxpool and avgpool (layer.h, "Windows"): the legacy square form
 * (k, stride, pad) or the general one (kh, kw, sh, sw, four paddings, dilations, groups), both
 * ending as the general fields. */
#include <limits.h>
#include <stdio.h>

#include "kernels/window.h"

static int in_range(int64_t v, int64_t lo) { return v >= lo && v <= INT32_MAX; }

/* The general form: the legacy fields, when set, must say the same. */
static nad_status check_legacy_agrees(const nadi_layer *l, int64_t index, const char *name) {
  int square = l->kh == l->kw && l->sh == l->sw && l->pad_t == l->pad_l &&
               l->pad_t == l->pad_b && l->pad_t == l->pad_r;
  NADI_CHECK((l->k == 0 || (square && l->k == l->kh)) &&
                 (l->stride == 0 || (square && l->stride == l->sh)) &&
                 (l->pad == 0 || (square && l->pad == l->pad_t)),
             NAD_ERR_INVALID_ARG,
             "layer %lld: %s has both the square window k%lld s%lld p%lld and the general one "
             "%lldx%lld s%lldx%lld, and they differ (give one, or the same twice)",
             (long long)index, name, (long long)l->k, (long long)l->stride, (long long)l->pad,
             (long long)l->kh, (long long)l->kw, (long long)l->sh, (long long)l->sw);
  return NAD_OK;
}

nad_status nadi_window_canon(nadi_layer *l, int64_t index, int role) {
  const char *name = nadi_ops(l->kind)->name;
  if (l->kh == 0 && l->kw == 0) { /* legacy form */
    NADI_CHECK(in_range(l->k, 1) && in_range(l->stride, 1) && in_range(l->pad, 0),
               NAD_ERR_INVALID_ARG,
               "layer %lld: %s needs kernel >= 1, stride >= 1 and padding >= 0 (got k%lld "
               "s%lld p%lld)",
               (long long)index, name, (long long)l->k, (long long)l->stride, (long long)l->pad);
    l->kh = l->kw = l->k;
    l->sh = l->sw = l->stride;
    l->pad_t = l->pad_l = l->pad_b = l->pad_r = l->pad;
  }
  NADI_CHECK(in_range(l->kh, 1) && in_range(l->kw, 1) && in_range(l->sh, 1) &&
                 in_range(l->sw, 1) && in_range(l->pad_t, 0) && in_range(l->pad_l, 0) &&
                 in_range(l->pad_b, 0) && in_range(l->pad_r, 0),
             NAD_ERR_INVALID_ARG,
             "layer %lld: %s needs kernel >= 1, strides >= 1 and paddings >= 0 (got kernel "
             "%lldx%lld, strides %lldx%lld, paddings top %lld left %lld bottom %lld right %lld)",
             (long long)index, name, (long long)l->kh, (long long)l->kw, (long long)l->sh,
             (long long)l->sw, (long long)l->pad_t, (long long)l->pad_l, (long long)l->pad_b,
             (long long)l->pad_r);
  NADI_TRY(check_legacy_agrees(l, index, name));
  if (l->kh == l->kw && l->sh == l->sw && l->pad_t == l->pad_l && l->pad_t == l->pad_b &&
      l->pad_t == l->pad_r) { /* a square window: both forms of one layer end identical */
    l->k = l->kh, l->stride = l->sh, l->pad = l->pad_t;
  }
  l->dh = l->dh ? l->dh : 1;
  l->dw = l->dw ? l->dw : 1;
  l->groups = l->groups ? l->groups : 1;
  if (role == NADI_WINDOW_CONV) {
    NADI_CHECK(in_range(l->dh, 1) && in_range(l->dw, 1) && in_range(l->groups, 1) &&
                   l->ceil_mode == 0 && l->count_include_pad == 0,
               NAD_ERR_INVALID_ARG,
               "layer %lld: conv2d needs dilations >= 1 and groups >= 1, and takes no "
               "ceil_mode or count_include_pad (got dilation %lldx%lld, groups %lld)",
               (long long)index, (long long)l->dh, (long long)l->dw, (long long)l->groups);
    return NAD_OK;
  }
  NADI_CHECK(l->dh == 1 && l->dw == 1 && l->groups == 1, NAD_ERR_INVALID_ARG,
             "layer %lld: %s takes no dilation or groups", (long long)index, name);
  NADI_CHECK((l->ceil_mode == 0 || l->ceil_mode == 1) &&
                 (l->count_include_pad == 0 || l->count_include_pad == 1),
             NAD_ERR_INVALID_ARG, "layer %lld: %s: ceil_mode and count_include_pad are 0 or 1",
             (long long)index, name);
  NADI_CHECK(2 * l->pad_t <= l->kh && 2 * l->pad_b <= l->kh && 2 * l->pad_l <= l->kw &&
                 2 * l->pad_r <= l->kw,
             NAD_ERR_INVALID_ARG,
             "layer %lld: %s: padding must be at most half the kernel (kernel %lldx%lld, "
             "paddings top %lld left %lld bottom %lld right %lld)",
             (long long)index, name, (long long)l->kh, (long long)l->kw, (long long)l->pad_t,
             (long long)l->pad_l, (long long)l->pad_b, (long long)l->pad_r);
  return NAD_OK;
}

void nadi_window_text(const nadi_layer *l, char *buf, size_t len) {
  char k[24] = "", d[40] = "", p[64] = "";
  if (l->kh == l->kw)
    snprintf(k, sizeof k, "%d", (int)l->kh);
  else
    snprintf(k, sizeof k, "%dx%d", (int)l->kh, (int)l->kw);
  if (l->dh > 1 || l->dw > 1)
    snprintf(d, sizeof d, " (dilation %dx%d)", (int)l->dh, (int)l->dw);
  if (l->pad_t == l->pad_l && l->pad_t == l->pad_b && l->pad_t == l->pad_r && l->pad_t > 0)
    snprintf(p, sizeof p, " with padding %d", (int)l->pad_t);
  else if (l->pad_t || l->pad_l || l->pad_b || l->pad_r)
    snprintf(p, sizeof p, " with padding %d,%d,%d,%d", (int)l->pad_t, (int)l->pad_l,
             (int)l->pad_b, (int)l->pad_r);
  snprintf(buf, len, "kernel %s%s%s", k, d, p);
}
