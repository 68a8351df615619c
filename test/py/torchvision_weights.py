"""Writes a seeded torchvision ImageNet ResNet's state dict as safetensors (as the hub's timm/resnet18.tv_in1k is laid
out: torchvision key names, 1000 classes), for test/models/pretrained.test.ts, and torchvision's own logits for an
input, as the independent reference of loading it.

usage: torchvision_weights.py DEPTH WEIGHTS INPUTS [--prefix P] [--drop-num-batches-tracked]
  WEIGHTS: written, the state dict (keys prefixed with P when given, e.g. "module." as nn.DataParallel saves them);
  INPUTS: written, {"x": 2×3×64×64}; prints JSON {"logits": [...]} of the model in eval mode on x.
"""
import json
import sys

import torch
import torchvision

import safetensors_io


def main():
    depth, weights, inputs = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    prefix = sys.argv[sys.argv.index("--prefix") + 1] if "--prefix" in sys.argv else ""
    drop_nbt = "--drop-num-batches-tracked" in sys.argv
    torch.manual_seed(0)
    model = getattr(torchvision.models, f"resnet{depth}")()
    with torch.no_grad():
        # Trained-looking BatchNorm statistics, so eval mode is not the identity there.
        for name, buf in model.named_buffers():
            if name.endswith("running_var"):
                buf.copy_(torch.rand(buf.shape) + 0.5)
            elif name.endswith("running_mean"):
                buf.copy_(torch.randn(buf.shape) * 0.1)
    model.eval()
    sd = {prefix + k: v.numpy() for k, v in model.state_dict().items() if not (drop_nbt and k.endswith("num_batches_tracked"))}
    safetensors_io.write(weights, sd)
    x = torch.rand(2, 3, 64, 64)
    safetensors_io.write(inputs, {"x": x.numpy()})
    with torch.no_grad():
        print(json.dumps({"logits": model(x).flatten().tolist()}))


main()
