/* <cblas.h> for the two files that call CBLAS (lib/kernels/blas.c, lib/estimator/dblas.c).
 * BLIS's cblas.h carries all of blis.h, whose static helpers no file uses all of: quiet that
 * warning there only. Never installed. */
#ifndef NADI_CBLAS_INCLUDE_H
#define NADI_CBLAS_INCLUDE_H
#if defined(NADI_BLAS_BLIS) && defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <cblas.h>
#pragma GCC diagnostic pop
#else
#include <cblas.h>
#endif
#endif
