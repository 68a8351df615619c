"""Writes a seeded ConvNeXt-V2 (the official ImageNet layout, models_ref.ConvNeXtV2) with timm's key names — as the
hub's timm/convnextv2_atto.fcmae_ft_in1k is laid out — for test/models/pretrained.test.ts, and the model's own logits.

usage: convnext_timm_weights.py SIZE WEIGHTS INPUTS
  WEIGHTS: written, the state dict renamed to timm's names (stem.*, stages.i.downsample.*, stages.i.blocks.j.conv_dw,
  .mlp.fc1/.mlp.fc2, .mlp.grn.weight/bias of shape (C,), head.norm, head.fc), 1000 classes;
  INPUTS: written, {"x": 2×3×64×64}; prints JSON {"logits": [...]}.
"""
import json
import re
import sys

import torch

import models_ref
import safetensors_io

# Official name → timm name (timm/models/convnext.py's checkpoint_filter_fn read backwards).
RULES = [
    (r"^downsample_layers\.0\.([01])\.(.+)$", r"stem.\1.\2"),
    (r"^downsample_layers\.(\d+)\.([01])\.(.+)$", r"stages.\1.downsample.\2.\3"),
    (r"^stages\.(\d+)\.(\d+)\.dwconv\.(.+)$", r"stages.\1.blocks.\2.conv_dw.\3"),
    (r"^stages\.(\d+)\.(\d+)\.norm\.(.+)$", r"stages.\1.blocks.\2.norm.\3"),
    (r"^stages\.(\d+)\.(\d+)\.pwconv1\.(.+)$", r"stages.\1.blocks.\2.mlp.fc1.\3"),
    (r"^stages\.(\d+)\.(\d+)\.pwconv2\.(.+)$", r"stages.\1.blocks.\2.mlp.fc2.\3"),
    (r"^stages\.(\d+)\.(\d+)\.grn\.gamma$", r"stages.\1.blocks.\2.mlp.grn.weight"),
    (r"^stages\.(\d+)\.(\d+)\.grn\.beta$", r"stages.\1.blocks.\2.mlp.grn.bias"),
    (r"^norm\.(.+)$", r"head.norm.\1"),
    (r"^head\.(.+)$", r"head.fc.\1"),
]


def timm_name(k):
    for pat, rep in RULES:
        if re.match(pat, k):
            return re.sub(pat, rep, k)
    raise KeyError(k)


def main():
    size, weights, inputs = sys.argv[1], sys.argv[2], sys.argv[3]
    torch.manual_seed(0)
    model = models_ref.ConvNeXtV2(num_classes=1000, size=size, imagenet=True, in_chans=3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "grn" in name or re.search(r"norm\.weight$", name):
                p.copy_(torch.rand(p.shape) + 0.5)  # GRN and LayerNorm not at their identity values
    model.eval()
    sd = {timm_name(k): (v.reshape(-1) if k.endswith(("grn.gamma", "grn.beta")) else v).numpy() for k, v in model.state_dict().items()}
    safetensors_io.write(weights, sd)
    x = torch.rand(2, 3, 64, 64)
    safetensors_io.write(inputs, {"x": x.numpy()})
    with torch.no_grad():
        _, logits = model.forward_split(x)
    print(json.dumps({"logits": logits.flatten().tolist()}))


main()
