"""Loads weights + inputs written by batchcam (safetensors), runs the same network in PyTorch (models_ref.py) and
prints JSON: parameter count, logits, and a Grad-CAM computed the textbook way (per-sample torch.autograd.grad)."""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

import models_ref

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8, "BOOL": np.bool_}


def load_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[b:e], dtype=DTYPES[v["dtype"]]).reshape(v["shape"]).copy())
    return out


def main():
    name, weights, inputs = sys.argv[1:4]
    model = models_ref.create(name)
    model.load_state_dict(load_safetensors(weights), strict=True)
    model.eval()
    t = load_safetensors(inputs)
    x, y = t["x"], t["y"]
    act, logits = model.forward_split(x)
    cams = []
    for i in range(x.shape[0]):
        (g,) = torch.autograd.grad(logits[i, y[i]], act, retain_graph=True)
        alpha = g[i].mean(dim=(1, 2), keepdim=True)
        cam = F.relu((alpha * act[i]).sum(0))
        cam = cam / (cam.max() + 1e-7)
        cams.append(F.interpolate(cam[None, None], size=x.shape[2:], mode="bilinear", align_corners=False)[0, 0])
    print(json.dumps({
        "params": sum(p.numel() for p in model.parameters()),
        "logits": logits.detach().flatten().tolist(),
        "cams": torch.stack(cams).detach().flatten().tolist(),
    }))


if __name__ == "__main__":
    main()
