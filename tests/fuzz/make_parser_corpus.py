#!/usr/bin/env python3
"""Writes the seed corpus of the parser fuzz targets npy, spec and cli_args
(tests/fuzz/corpus/<target>/): small valid inputs in each target's layout (tests/fuzz/fuzz_*.c).
Standard library only; deterministic. The files are committed; rerun after changing a layout."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def npy(descr, shape, data, version=1, fortran=False):
    s = '(' + ', '.join(map(str, shape)) + (',)' if len(shape) == 1 else ')')
    h = ("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }"
         % (descr, 'True' if fortran else 'False', s)).encode()
    lenfmt = '<H' if version == 1 else '<I'
    pre = 10 if version == 1 else 12
    pad = 64 - (pre + len(h) + 1) % 64
    h += b' ' * pad + b'\n'
    return b'\x93NUMPY' + bytes([version, 0]) + struct.pack(lenfmt, len(h)) + h + data


def write(target, name, blob):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(blob)


write('npy', 'f4_2x3', npy('<f4', (2, 3), struct.pack('<6f', *range(6))))
write('npy', 'f8_vector', npy('<f8', (4,), struct.pack('<4d', 0.5, -1, 2, 1e300)))
write('npy', 'f4_scalar', npy('<f4', (), struct.pack('<f', 3.0)))
write('npy', 'f4_empty', npy('<f4', (0, 5), b''))
write('npy', 'f4_v2_4d', npy('<f4', (1, 1, 2, 2), struct.pack('<4f', 1, 2, 3, 4), version=2))

# spec: shape byte (c = 1 + bits 0-1, h = w = 1 + bits 2-7), then the text
for name, shape, text in [
        ('lenet_like', 0 | (15 << 2), 'conv 6 k5; relu; maxpool 2; conv 16 k5; relu; maxpool 2; '
                                      'fc 120; relu; fc 84; relu; fc 1'),
        ('bn_dropout', 2 | (7 << 2), 'conv 4 k3 p1 s2; bn; relu; avgpool 2; dropout 0.5; fc 3'),
        ('fc_only', 0 | (3 << 2), 'fc 1'),
        ('nobias_gap', 1 | (5 << 2), 'conv 3 k1 nobias; relu; gap; fc 2')]:
    write('spec', name, bytes([shape]) + text.encode())

# cli_args: words separated by NUL
for name, words in [
        ('full', ['A', 'B', '--networks', '10', '--scale', '1e2', '--input', '1x8x8', '--memory',
                  '1.5G', '--seed', '3', '--quiet', '--json']),
        ('equals', ['--input=3x32x32', '--memory=512M', 'x']),
        ('positional_only', ['a', 'b'])]:
    write('cli_args', name, b'\0'.join(w.encode() for w in words))
print('corpus written to', os.path.join(HERE, 'corpus'))
