"""ColorMNIST re-written after the authors' code (laura-rieger/deep-explanation-penalization,
code/ColorMNIST/00_make_data.py), as an independent construction for test/data/color-mnist.test.ts: the colours from
the `colour` package's red-to-purple range, each digit multiplied by its colour (class y in train, 9 − y at test).

usage: color_mnist_ref.py SPLIT N LABELS IMAGES OUT
  writes to OUT the N×3×28×28 float32 images; prints the ten colours as JSON.
"""
import json
import sys

import numpy as np
from colour import Color

colors = [np.asarray(c.get_rgb()) for c in Color("red").range_to(Color("purple"), 10)]


def main():
    split, n = sys.argv[1], int(sys.argv[2])
    labels = np.fromfile(sys.argv[3], dtype=np.uint8)
    data = np.fromfile(sys.argv[4], dtype=np.uint8).reshape(n, 28, 28)
    color_x = np.zeros((n, 3, 28, 28), dtype=np.float32)
    for i in range(n):
        c = colors[labels[i]] if split == "train" else colors[9 - labels[i]]
        color_x[i] = data[i].astype(np.float32)[np.newaxis] * c[:, None, None]
    color_x.tofile(sys.argv[5])
    print(json.dumps([c.tolist() for c in colors]))


main()
