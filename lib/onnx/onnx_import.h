/* ONNX import: a read model (onnx_model.h) mapped onto libnad's layer kinds (onnx_import.c).
 * Never installed. */
#ifndef NADI_ONNX_IMPORT_H
#define NADI_ONNX_IMPORT_H

#include "graph/graph.h"
#include "onnx/onnx_model.h"

/* Shapes m for inputs (1, chw[0], chw[1], chw[2]) (chw NULL or chw[0] <= 0: the file's own
 * input shape), maps every node onto libnad's kinds and returns the graph (with base_params
 * set: see onnx_import.c) and the file's weights in its parameter layout (g->n_params floats,
 * free()). Errors name the file, the ONNX node and the reason; nothing is returned then. */
nad_status nadi_onnx_import(nadi_onnx_model *m, const int64_t chw[3], nadi_graph **g,
                            float **file_params);
/* The ONNX operators the importer maps (for documentation and messages). */
int32_t nadi_onnx_num_supported_ops(void);
const char *nadi_onnx_supported_op(int32_t i);

#endif
