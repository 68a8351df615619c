"""Forward multiply-accumulates of torchvision's ImageNet ResNets, counted by forward hooks on every Conv2d and Linear
(output elements x input channels per group x kernel area; in x out for Linear), for test/models/resnet-macs.test.ts.

usage: resnet_macs.py DEPTH SIZE [CLASSES]   prints JSON {"macs": N} for one 3 x SIZE x SIZE image
"""
import json
import sys

import torch
import torch.nn as nn
import torchvision


def main():
    depth, size = int(sys.argv[1]), int(sys.argv[2])
    classes = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    model = getattr(torchvision.models, f"resnet{depth}")(num_classes=classes).eval()
    macs = [0]

    def conv(m, inp, out):
        macs[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear(m, inp, out):
        macs[0] += m.in_features * m.out_features

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(conv)
        elif isinstance(m, nn.Linear):
            m.register_forward_hook(linear)
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    print(json.dumps({"macs": macs[0]}))


main()
