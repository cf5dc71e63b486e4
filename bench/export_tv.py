#!/usr/bin/python3
"""Exports a torchvision model with random weights to ONNX, as the issue 19 §4 benchmark uses it.

    bench/export_tv.py MODEL OUT.onnx [--input 3x224x224] [--fold]

MODEL is a torchvision.models name, built with num_classes=1 (output 0 is the one whose NADs
are taken, as ../shared/reference/tools/tv_ref.py does). Nothing is downloaded: the weights are
torchvision's random initialisation, and libnad draws its own networks anyway (the file gives
the graph; `--init-rules share/init/resnet.rules` gives torchvision's initialisation).
By default BatchNorm is kept (training=PRESERVE, no constant folding: docs/onnx.md), so the
tensor names are the state_dict's; --fold exports in eval mode, where torch folds every
BatchNorm into the convolution before it (fewer layers; the folded biases stay 0 at init).
"""
import argparse

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('model')
    ap.add_argument('out')
    ap.add_argument('--input', default='3x224x224')
    ap.add_argument('--fold', action='store_true')
    a = ap.parse_args()
    c, h, w = map(int, a.input.split('x'))
    torch.manual_seed(0)
    m = getattr(torchvision.models, a.model)(num_classes=1).eval()
    kw = {} if a.fold else dict(training=torch.onnx.TrainingMode.PRESERVE,
                                do_constant_folding=False)
    torch.onnx.export(m, torch.zeros(1, c, h, w), a.out, opset_version=17, **kw)


if __name__ == '__main__':
    main()
