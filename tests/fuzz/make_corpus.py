#!/usr/bin/env python3
"""Writes the seed corpus of the dataset fuzz targets (tests/fuzz/corpus/<target>/): small valid
inputs in each target's layout (tests/fuzz/fuzz_*.c: an options byte, then parts of u32
little-endian length + bytes). Standard library only; deterministic (gzip mtime 0). The files
are committed; rerun after changing a target's layout."""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def part(b):
    return struct.pack('<I', len(b)) + b


def gz(b):
    return gzip.compress(b, mtime=0)


def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b''.join(struct.pack('>I', d) for d in dims) + bytes(data)


def npy(descr, shape, data):
    s = '(' + ', '.join(map(str, shape)) + (',)' if len(shape) == 1 else ')')
    h = ("{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, s)).encode()
    pad = 64 - (10 + len(h) + 1) % 64
    h += b' ' * pad + b'\n'
    return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h + data


def write(target, name, blob):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(blob)


# IDX: images N x H x W and labels N
img = idx([2, 3, 3], range(0, 18 * 13, 13))
lab = idx([2], [1, 7])
write('idx', 'raw_pair', b'\x00' + part(img) + part(lab))
write('idx', 'gz_images_10_classes', b'\x01' + part(gz(img)) + part(lab))
write('idx', 'gz_both_resized', bytes([0x80 | 0x1a]) + part(gz(img)) + part(gz(lab)))
write('idx', 'one_pixel', b'\x00' + part(idx([1, 1, 1], [255])) + part(idx([1], [0])))

# CIFAR-10: records of 1 label + 3072 pixel bytes
def record(label, k):
    return bytes([label]) + bytes((i * 7 + k) % 256 for i in range(3072))


write('cifar10', 'one_batch', b'\x00' + part(record(3, 1) + record(9, 2)))
write('cifar10', 'two_batches_resized', bytes([0x80 | 0x08 | 1]) + part(record(0, 5))
      + part(record(4, 6) + record(1, 7)))

# .npy images + labels
u1 = npy('|u1', (3, 2, 2), bytes(range(0, 240, 20)))
i8 = npy('<i8', (3,), struct.pack('<3q', 0, 2, 1))
write('npy_data', 'u1_images_i8_labels', b'\x00' + part(u1) + part(i8))
f4 = npy('<f4', (2, 1, 2, 2), struct.pack('<8f', *[0.5 * i - 1 for i in range(8)]))
lu1 = npy('|u1', (2,), bytes([1, 0]))
write('npy_data', 'f4_nchw_resized', bytes([0x80 | 0x09]) + part(f4) + part(lu1))
f8 = npy('<f8', (2, 2, 3), struct.pack('<12d', *[i / 7 for i in range(12)]))
i4 = npy('<i4', (2,), struct.pack('<2i', 5, 3))
write('npy_data', 'gz_f8_i4', b'\x00' + part(gz(f8)) + part(i4))
print('corpus written to', os.path.join(HERE, 'corpus'))
