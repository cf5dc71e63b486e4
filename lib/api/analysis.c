/* Public façade of the NAD probes of trained networks and datasets: band operations, their
 * effect on a network's predictions, alignment of a NAD basis with a dataset. Validation and
 * messages here; the work is in lib/analysis/. */
#include <math.h>

#include "analysis/analysis.h"
#include "api/api.h"

#define ORTHONORMAL_TOL 1e-3 /* float32 NAD files: measured errors are ~1e-6 */

/* Rows [first, last) of a count×d NAD array must exist and be orthonormal. */
static nad_status check_band(const char *fn, const float *nads, int64_t count, int64_t d,
                             int64_t first, int64_t last) {
  NADI_CHECK(nads, NAD_ERR_INVALID_ARG, "%s: nads is NULL", fn);
  NADI_CHECK(count >= 1 && d >= 1, NAD_ERR_INVALID_ARG,
             "%s: the NAD array must have at least one row and column (count %lld, d %lld)", fn,
             (long long)count, (long long)d);
  int64_t total;
  NADI_CHECK(nadi_mul_ok(count, d, &total) && count <= INT32_MAX && d <= INT32_MAX,
             NAD_ERR_INVALID_ARG, "%s: %lld NADs of dimension %lld are too many", fn,
             (long long)count, (long long)d);
  NADI_CHECK(first >= 0 && first < last && last <= count, NAD_ERR_INVALID_ARG,
             "%s: NAD index range [%lld, %lld) is empty or past the last NAD (the file has %lld: "
             "indices 0..%lld)",
             fn, (long long)first, (long long)last, (long long)count, (long long)(count - 1));
  const double err = nadi_band_orthonormality_error(nads + first * d, last - first, d);
  NADI_CHECK(err >= 0.0, NAD_ERR_OUT_OF_MEMORY, "%s: out of memory for the Gram matrix of %lld "
                                                "NADs", fn, (long long)(last - first));
  NADI_CHECK(err <= ORTHONORMAL_TOL, NAD_ERR_INVALID_ARG,
             "%s: NADs %lld..%lld are not orthonormal rows (max |V·Vᵀ − I| = %.3g > %g; not a "
             "NAD file, or NaN/Inf inside?)",
             fn, (long long)first, (long long)(last - 1), err, ORTHONORMAL_TOL);
  return NAD_OK;
}

static nad_status check_op(const char *fn, nad_band_op op, float *alpha) {
  NADI_CHECK(op == NAD_BAND_FLIP || op == NAD_BAND_REMOVE, NAD_ERR_INVALID_ARG,
             "%s: op must be NAD_BAND_FLIP (0) or NAD_BAND_REMOVE (1), got %d", fn, (int)op);
  *alpha = op == NAD_BAND_FLIP ? 2.0f : 1.0f;
  return NAD_OK;
}

nad_status nad_band_apply(const float *nads, int64_t count, int64_t d, int64_t first, int64_t last,
                          nad_band_op op, const float *x, int64_t n, float *dst, size_t dst_len) {
  const char *fn = "nad_band_apply";
  float alpha = 0.0f;
  NADI_TRY(check_op(fn, op, &alpha));
  NADI_TRY(check_band(fn, nads, count, d, first, last));
  NADI_CHECK(x && dst, NAD_ERR_INVALID_ARG, "%s: x or dst is NULL", fn);
  int64_t total;
  NADI_CHECK(n >= 1 && nadi_mul_ok(n, d, &total), NAD_ERR_INVALID_ARG,
             "%s: n = %lld samples of %lld values is not a valid size", fn, (long long)n,
             (long long)d);
  NADI_CHECK_LEN(fn, "dst (n·d)", dst_len, total);
  return nadi_band_apply(nads + first * d, last - first, d, alpha, x, n, dst);
}

nad_status nad_band_evaluate(nad_net *net, const nad_dataset *data, const float *nads,
                             int64_t count, int64_t d, int64_t first, int64_t last, nad_band_op op,
                             double *accuracy_before, double *accuracy_after,
                             double *changed_fraction, double *l2, double *psnr) {
  const char *fn = "nad_band_evaluate";
  NADI_CHECK(net && data, NAD_ERR_INVALID_ARG, "%s: network or dataset is NULL", fn);
  float alpha = 0.0f;
  NADI_TRY(check_op(fn, op, &alpha));
  const nadi_graph *g = net->arch->g;
  const int64_t *in = g->in_shape;
  NADI_CHECK(data->c == in[0] && data->h == in[1] && data->w == in[2], NAD_ERR_SHAPE,
             "%s: the dataset holds %lldx%lldx%lld samples, the architecture takes %lldx%lldx%lld",
             fn, (long long)data->c, (long long)data->h, (long long)data->w, (long long)in[0],
             (long long)in[1], (long long)in[2]);
  NADI_CHECK(d == data->d, NAD_ERR_SHAPE,
             "%s: the NADs have dimension %lld, the dataset's samples %lldx%lldx%lld = %lld", fn,
             (long long)d, (long long)data->c, (long long)data->h, (long long)data->w,
             (long long)data->d);
  const int64_t outputs = nadi_graph_out_size(g);
  NADI_CHECK(data->num_classes <= outputs, NAD_ERR_INVALID_ARG,
             "%s: the dataset has labels up to %d, the network only %lld outputs (classes)", fn,
             (int)(data->num_classes - 1), (long long)outputs);
  NADI_TRY(check_band(fn, nads, count, d, first, last));
  nadi_band_stats s;
  NADI_TRY(nadi_band_evaluate(g, net->params, data, nads + first * d, last - first, alpha, &s));
  if (accuracy_before)
    *accuracy_before = s.accuracy_before;
  if (accuracy_after)
    *accuracy_after = s.accuracy_after;
  if (changed_fraction)
    *changed_fraction = s.changed_fraction;
  if (l2)
    *l2 = s.l2;
  if (psnr)
    *psnr = s.psnr;
  return NAD_OK;
}

nad_status nad_align(const nad_dataset *data, const float *nads, int64_t count, int64_t d,
                     nad_align_kind kind, double ridge, double *curve, size_t curve_len,
                     double *score) {
  const char *fn = "nad_align";
  NADI_CHECK(data, NAD_ERR_INVALID_ARG, "%s: dataset is NULL", fn);
  NADI_CHECK(kind == NAD_ALIGN_BETWEEN || kind == NAD_ALIGN_DISCRIMINANT, NAD_ERR_INVALID_ARG,
             "%s: kind must be NAD_ALIGN_BETWEEN (0) or NAD_ALIGN_DISCRIMINANT (1), got %d", fn,
             (int)kind);
  NADI_CHECK(kind == NAD_ALIGN_BETWEEN || (isfinite(ridge) && ridge > 0.0), NAD_ERR_INVALID_ARG,
             "%s: ridge must be finite and > 0 for the discriminant variant, got %g", fn, ridge);
  NADI_CHECK(d == data->d, NAD_ERR_SHAPE,
             "%s: the NADs have dimension %lld, the dataset's samples %lldx%lldx%lld = %lld", fn,
             (long long)d, (long long)data->c, (long long)data->h, (long long)data->w,
             (long long)data->d);
  NADI_CHECK(count <= d, NAD_ERR_SHAPE, "%s: %lld NADs of dimension %lld cannot be orthonormal",
             fn, (long long)count, (long long)d);
  NADI_CHECK(kind == NAD_ALIGN_BETWEEN || d <= 46340, NAD_ERR_UNSUPPORTED,
             "%s: the discriminant variant needs a %lld×%lld matrix (LAPACK's 32-bit indices)",
             fn, (long long)d, (long long)d);
  NADI_TRY(check_band(fn, nads, count, d, 0, count));
  NADI_CHECK(curve && score, NAD_ERR_INVALID_ARG, "%s: curve or score is NULL", fn);
  NADI_CHECK_LEN(fn, "curve (count)", curve_len, count);
  double *e = nadi_alloc((size_t)count, sizeof(double));
  NADI_CHECK(e, NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
  double total = 0.0;
  nad_status st = nadi_align_energies(data, nads, count, (int)kind, ridge, e, &total);
  if (st == NAD_OK)
    nadi_align_curve(e, count, d, total, curve, score);
  nadi_free(e);
  return st;
}
