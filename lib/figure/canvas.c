/* The drawing canvas of lib/figure/figure.h: the only file that calls cairo.
 * Drawing goes straight into a PNG image, SVG or PDF surface whose bytes stream into an atomic
 * file (lib/io/atomic.c). (Replaying one cairo recording surface into each format would be
 * neater, but cairo 1.16 leaks the recording when it is replayed into SVG or PDF: valgrind.)
 * Text uses cairo's
 * built-in ("toy") text API with the fontconfig family "DejaVu Sans" (falls back to any sans). */
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "figure/figure.h"
#include "io/io.h"

#define FONT_FAMILY "DejaVu Sans"

typedef struct sink {
  FILE *fp;
  int err; /* errno of a failed write */
} sink;

struct nadi_fig {
  double width, height;
  nad_figure_format fmt;
  cairo_surface_t *target; /* image (PNG), SVG or PDF surface */
  cairo_t *cr;
  nadi_atomic_file af; /* the file being written (SVG and PDF stream into it while drawing) */
  int file_open;
  sink out;
  nad_status err; /* first failure that cairo does not know about (our own allocations) */
};

static void set_rgb(cairo_t *cr, const uint8_t rgb[3]) {
  cairo_set_source_rgb(cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
}

static cairo_status_t on_write(void *closure, const unsigned char *data, unsigned int len) {
  sink *s = closure;
  if (fwrite(data, 1, len, s->fp) != len) {
    s->err = errno ? errno : EIO;
    return CAIRO_STATUS_WRITE_ERROR;
  }
  return CAIRO_STATUS_SUCCESS;
}

/* The failure of cairo (or of our writes) as this thread's error, naming the file. */
static nad_status cairo_fail(const nadi_fig *f, const char *path, cairo_status_t st) {
  if (f->out.err)
    return nadi_fail(NAD_ERR_IO, "%s: cannot write: %s", path, strerror(f->out.err));
  return nadi_fail(st == CAIRO_STATUS_NO_MEMORY ? NAD_ERR_OUT_OF_MEMORY : NAD_ERR_IO,
                   "%s: cairo: %s", path, cairo_status_to_string(st));
}

nad_status nadi_fig_create(const char *path, nad_figure_format fmt, const char *title,
                           double width, double height, nadi_fig **out) {
  *out = NULL;
  NADI_CHECK(width >= 1 && height >= 1 && width <= NADI_FIG_MAX_SIDE &&
                 height <= NADI_FIG_MAX_SIDE,
             NAD_ERR_INVALID_ARG, "%s: a figure of %.0fx%.0f points: each side must be 1..%.0f",
             path, width, height, NADI_FIG_MAX_SIDE);
  nadi_fig *f = calloc(1, sizeof *f);
  NADI_CHECK(f, NAD_ERR_OUT_OF_MEMORY, "figure: out of memory");
  f->width = ceil(width);
  f->height = ceil(height);
  f->fmt = fmt;
  /* Drawing goes straight into the target: SVG and PDF stream into the (temporary) file, a
   * PNG is encoded from the image at save. */
  if (nadi_atomic_open(&f->af, path) != 0) {
    nad_status st = nadi_atomic_fail(&f->af);
    free(f);
    return st;
  }
  f->file_open = 1;
  f->out.fp = f->af.fp;
  if (fmt == NAD_FIGURE_PNG) {
    f->target = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)f->width, (int)f->height);
  } else if (fmt == NAD_FIGURE_SVG) {
    f->target = cairo_svg_surface_create_for_stream(on_write, &f->out, f->width, f->height);
  } else {
    f->target = cairo_pdf_surface_create_for_stream(on_write, &f->out, f->width, f->height);
    if (title && cairo_surface_status(f->target) == CAIRO_STATUS_SUCCESS)
      cairo_pdf_surface_set_metadata(f->target, CAIRO_PDF_METADATA_TITLE, title);
    if (cairo_surface_status(f->target) == CAIRO_STATUS_SUCCESS)
      cairo_pdf_surface_set_metadata(f->target, CAIRO_PDF_METADATA_CREATOR, "libnad");
  }
  f->cr = cairo_create(f->target);
  cairo_status_t cst = cairo_status(f->cr);
  if (cst != CAIRO_STATUS_SUCCESS) {
    nad_status st = cairo_fail(f, path, cst);
    nadi_fig_destroy(f);
    return st;
  }
  cairo_set_source_rgb(f->cr, 1, 1, 1);
  cairo_paint(f->cr);
  cairo_select_font_face(f->cr, FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  *out = f;
  return NAD_OK;
}

void nadi_fig_destroy(nadi_fig *f) {
  if (!f)
    return;
  cairo_destroy(f->cr); /* both accept the "nil" objects cairo returns on failure */
  if (f->target) {
    cairo_surface_finish(f->target);
    cairo_surface_destroy(f->target);
  }
  if (f->file_open)
    nadi_atomic_abort(&f->af); /* never saved: the temporary file goes */
  free(f);
}

nad_status nadi_fig_save(nadi_fig *f) {
  const char *path = f->af.path;
  if (f->err != NAD_OK)
    return nadi_fail(f->err, "%s: %s", path,
                     f->err == NAD_ERR_OUT_OF_MEMORY ? "out of memory while drawing"
                                                     : "an image of the figure is too large");
  cairo_status_t st = cairo_status(f->cr);
  cairo_destroy(f->cr);
  f->cr = NULL;
  if (st == CAIRO_STATUS_SUCCESS) {
    if (f->fmt == NAD_FIGURE_PNG) {
      cairo_surface_flush(f->target);
      st = cairo_surface_write_to_png_stream(f->target, on_write, &f->out);
    } else {
      cairo_surface_finish(f->target); /* writes the rest of the document */
      st = cairo_surface_status(f->target);
    }
  }
  if (st != CAIRO_STATUS_SUCCESS)
    return cairo_fail(f, path, st); /* destroy removes the temporary file */
  f->file_open = 0;
  return nadi_atomic_commit(&f->af) == 0 ? NAD_OK : nadi_atomic_fail(&f->af);
}

/* ---- shapes ------------------------------------------------------------------------------------ */

void nadi_fig_rect(nadi_fig *f, double x, double y, double w, double h, const uint8_t fill[3],
                   const uint8_t stroke[3], double line_width) {
  cairo_t *cr = f->cr;
  cairo_rectangle(cr, x, y, w, h);
  if (fill) {
    set_rgb(cr, fill);
    if (stroke)
      cairo_fill_preserve(cr);
    else
      cairo_fill(cr);
  }
  if (stroke) {
    set_rgb(cr, stroke);
    cairo_set_line_width(cr, line_width);
    cairo_stroke(cr);
  }
  cairo_new_path(cr);
}

void nadi_fig_line(nadi_fig *f, double x0, double y0, double x1, double y1, double line_width,
                   const uint8_t rgb[3]) {
  cairo_t *cr = f->cr;
  cairo_move_to(cr, x0, y0);
  cairo_line_to(cr, x1, y1);
  set_rgb(cr, rgb);
  cairo_set_line_width(cr, line_width);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_SQUARE);
  cairo_stroke(cr);
}

void nadi_fig_polyline(nadi_fig *f, const double *x, const double *y, int64_t n,
                       double line_width, const uint8_t rgb[3]) {
  cairo_t *cr = f->cr;
  int open = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) {
      open = 0;
      continue;
    }
    if (open)
      cairo_line_to(cr, x[i], y[i]);
    else
      cairo_move_to(cr, x[i], y[i]);
    open = 1;
  }
  set_rgb(cr, rgb);
  cairo_set_line_width(cr, line_width);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  cairo_stroke(cr);
}

void nadi_fig_polygon(nadi_fig *f, const double *x, const double *y, int64_t n,
                      const uint8_t rgb[3]) {
  cairo_t *cr = f->cr;
  for (int64_t i = 0; i < n; i++)
    if (i == 0)
      cairo_move_to(cr, x[i], y[i]);
    else
      cairo_line_to(cr, x[i], y[i]);
  cairo_close_path(cr);
  set_rgb(cr, rgb);
  cairo_fill(cr);
}

void nadi_fig_disc(nadi_fig *f, double x, double y, double r, const uint8_t rgb[3]) {
  cairo_new_sub_path(f->cr);
  cairo_arc(f->cr, x, y, r, 0, 2 * M_PI);
  set_rgb(f->cr, rgb);
  cairo_fill(f->cr);
}

/* ---- text --------------------------------------------------------------------------------------- */

static void set_font(cairo_t *cr, const nadi_text_style *s) {
  cairo_select_font_face(cr, FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL,
                         s->bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, s->size);
}

double nadi_fig_text_width(nadi_fig *f, const nadi_text_style *s, const char *text) {
  cairo_text_extents_t e;
  set_font(f->cr, s);
  cairo_text_extents(f->cr, text, &e);
  return e.x_advance;
}

void nadi_fig_text(nadi_fig *f, double x, double y, const nadi_text_style *s, const char *text) {
  static const uint8_t black[3] = {0, 0, 0};
  cairo_t *cr = f->cr;
  cairo_text_extents_t e;
  cairo_font_extents_t fe;
  set_font(cr, s);
  cairo_text_extents(cr, text, &e);
  cairo_font_extents(cr, &fe);
  /* Horizontal anchor on the advance width; vertical on the font's ascent/descent (not the
   * ink box), so that labels of one row share a baseline whatever their letters. */
  double dx = s->halign == NADI_CENTRE ? -e.x_advance / 2 : s->halign == NADI_RIGHT ? -e.x_advance : 0;
  double dy = s->valign == NADI_TOP      ? fe.ascent
              : s->valign == NADI_MIDDLE ? (fe.ascent - fe.descent) / 2
                                         : -fe.descent;
  cairo_save(cr);
  cairo_translate(cr, x, y);
  if (s->vertical)
    cairo_rotate(cr, -M_PI / 2);
  cairo_move_to(cr, dx, dy);
  set_rgb(cr, s->rgb ? s->rgb : black);
  cairo_show_text(cr, text);
  cairo_restore(cr);
  cairo_new_path(cr);
}

/* ---- images ------------------------------------------------------------------------------------- */

void nadi_fig_image(nadi_fig *f, double x, double y, double w, double h, const uint8_t *rgb,
                    int64_t iw, int64_t ih) {
  if (f->err != NAD_OK)
    return;
  if (iw < 1 || ih < 1 || iw > (int64_t)NADI_FIG_MAX_SIDE || ih > (int64_t)NADI_FIG_MAX_SIDE) {
    f->err = NAD_ERR_INVALID_ARG;
    return;
  }
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)iw, (int)ih);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    f->err = NAD_ERR_OUT_OF_MEMORY;
    return;
  }
  cairo_surface_flush(img);
  unsigned char *data = cairo_image_surface_get_data(img);
  int stride = cairo_image_surface_get_stride(img);
  for (int64_t i = 0; i < ih; i++) {
    uint32_t *row = (uint32_t *)(void *)(data + i * stride);
    const uint8_t *src = rgb + 3 * i * iw;
    for (int64_t j = 0; j < iw; j++)
      row[j] = (uint32_t)src[3 * j] << 16 | (uint32_t)src[3 * j + 1] << 8 | src[3 * j + 2];
  }
  cairo_surface_mark_dirty(img);
  cairo_t *cr = f->cr;
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w, h);
  cairo_clip(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, w / (double)iw, h / (double)ih);
  cairo_set_source_surface(cr, img, 0, 0);
  /* Nearest neighbour: a pixel of a NAD is one value, not something to smooth over. */
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img); /* the recording keeps its own reference */
}

nad_status nadi_fig_write_rgb(const char *path, nad_figure_format fmt, int64_t w, int64_t h,
                              const uint8_t *rgb) {
  nadi_fig *f = NULL;
  NADI_TRY(nadi_fig_create(path, fmt, NULL, (double)w, (double)h, &f));
  nadi_fig_image(f, 0, 0, (double)w, (double)h, rgb, w, h);
  nad_status st = nadi_fig_save(f);
  nadi_fig_destroy(f);
  return st;
}
