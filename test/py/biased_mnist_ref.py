"""Biased-MNIST re-written after the authors' code (clovaai/rebias, datasets/colour_mnist.py: BiasedMNIST and
ColourBiasedMNIST), as an independent construction for test/data/biased-mnist.test.ts.

usage: biased_mnist_ref.py N RHO LABELS IMAGES COLOURS OUT
  LABELS: N uint8 labels; IMAGES: N×28×28 uint8 grey digits; COLOURS: N uint8 colour indices (batchcam's draw).
  Prints JSON {"counts": 10×10 [class][colour]} of the authors' chunked assignment (numpy seed 0), and writes to OUT
  the N×3×28×28 uint8 images their _binary_to_colour paints for batchcam's colour indices.
"""
import json
import sys

import numpy as np
import torch

COLOUR_MAP = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [225, 225, 0], [225, 0, 225],
              [0, 255, 255], [255, 128, 0], [255, 0, 128], [128, 0, 255], [128, 128, 128]]


def update_bias_indices(targets, bias_indices, label, rho, n_confusing_labels=9):
    # Their _update_bias_indices: a class's indices shuffled, the first int(n·ρ) keep the class colour, the rest in
    # chunks of ceil(rest / 9) for the other colours in a shuffled order.
    indices = np.where((targets == label).numpy())[0]
    np.random.shuffle(indices)
    indices = torch.LongTensor(indices)
    n_samples = len(indices)
    n_correlated_samples = int(n_samples * rho)
    n_decorrelated_per_class = int(np.ceil((n_samples - n_correlated_samples) / n_confusing_labels))
    bias_indices[label] = torch.cat([bias_indices[label], indices[:n_correlated_samples]])
    if n_samples - n_correlated_samples == 0:
        return
    decorrelated = torch.split(indices[n_correlated_samples:], n_decorrelated_per_class)
    other_labels = [l % 10 for l in range(label + 1, label + 1 + n_confusing_labels)]
    np.random.shuffle(other_labels)
    for idx, chunk in enumerate(decorrelated):
        bias_indices[other_labels[idx]] = torch.cat([bias_indices[other_labels[idx]], chunk])


def binary_to_colour(data, colour):
    # Their _binary_to_colour: non-zero pixels white, zero pixels the colour; returns N×H×W×3.
    fg = torch.zeros_like(data)
    fg[data != 0] = 255
    fg = torch.stack([fg, fg, fg], dim=1)
    bg = torch.zeros_like(data)
    bg[data == 0] = 1
    bg = torch.stack([bg, bg, bg], dim=3) * torch.ByteTensor(colour)
    bg = bg.permute(0, 3, 1, 2)
    return (fg + bg).permute(0, 2, 3, 1)


def main():
    n, rho = int(sys.argv[1]), float(sys.argv[2])
    labels = torch.from_numpy(np.fromfile(sys.argv[3], dtype=np.uint8).astype(np.int64))
    images = torch.from_numpy(np.fromfile(sys.argv[4], dtype=np.uint8).reshape(n, 28, 28))
    ours = np.fromfile(sys.argv[5], dtype=np.uint8)
    np.random.seed(0)
    bias_indices = {label: torch.LongTensor() for label in range(10)}
    for label in range(10):
        update_bias_indices(labels, bias_indices, label, rho)
    counts = [[0] * 10 for _ in range(10)]
    for colour, idx in bias_indices.items():
        for y in labels[idx].tolist():
            counts[y][colour] += 1
    out = np.zeros((n, 3, 28, 28), dtype=np.uint8)
    for colour in range(10):
        idx = np.where(ours == colour)[0]
        if len(idx):
            out[idx] = binary_to_colour(images[idx], COLOUR_MAP[colour]).permute(0, 3, 1, 2).numpy()
    out.tofile(sys.argv[6])
    print(json.dumps({"counts": counts}))


main()
