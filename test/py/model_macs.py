"""Forward multiply-accumulates of the reference models (test/py/models_ref.py: torchvision's own ImageNet ResNets, the
official ConvNeXt-V2 layout, the 28-px models), counted by forward hooks on every Conv2d and Linear: output elements x
input channels per group x kernel area, output elements x input features. For test/models/model-macs.test.ts.

usage: model_macs.py NAME:C:H:W [NAME:C:H:W ...]   prints JSON [N, ...], one image of each, 10 classes
"""
import json
import sys

import torch
import torch.nn as nn

from models_ref import create


def macs_of(name, c, h, w):
    model = create(name).eval()
    macs = [0]

    def conv(m, inp, out):
        macs[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear(m, inp, out):
        macs[0] += out.numel() * m.in_features

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(conv)
        elif isinstance(m, nn.Linear):
            m.register_forward_hook(linear)
    with torch.no_grad():
        model.forward_split(torch.zeros(1, c, h, w))
    return macs[0]


print(json.dumps([macs_of(n, int(c), int(h), int(w)) for n, c, h, w in (a.split(":") for a in sys.argv[1:])]))
