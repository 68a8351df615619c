"""torchvision 0.14's own transforms, as the oracle of batchcam's augmentation (src/data/augment/).

usage: augment_ref.py IN.json OUT.bin
IN.json: {"images": path of float32 n×C×H×W, "shape": [n, C, H, W], "cases": [...]} where each case is
  {"op": "resized_crop", "image": k, "box": [top, left, h, w], "size": [H2, W2], "flip": bool}
  {"op": "jitter", "image": k, "steps": [["brightness"|"contrast"|"saturation", factor], ...]}
  {"op": "centre_crop", "image": k, "crop": [h, w]}   (center_crop then bilinear resize back to H×W)
OUT.bin: every case's float32 result, concatenated in order.
"""
import json
import sys

import numpy as np
import torch
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

spec = json.load(open(sys.argv[1]))
n, c, h, w = spec["shape"]
images = torch.from_numpy(np.fromfile(spec["images"], dtype=np.float32).reshape(n, c, h, w).copy())
ADJUST = {"brightness": F.adjust_brightness, "contrast": F.adjust_contrast, "saturation": F.adjust_saturation}
out = []
for case in spec["cases"]:
    img = images[case["image"]]
    if case["op"] == "resized_crop":
        top, left, bh, bw = case["box"]
        r = F.resized_crop(img, top, left, bh, bw, case["size"], InterpolationMode.BILINEAR, antialias=False)
        if case["flip"]:
            r = F.hflip(r)
    elif case["op"] == "jitter":
        r = img.clone()
        for name, factor in case["steps"]:
            r = ADJUST[name](r, factor)
    elif case["op"] == "centre_crop":
        r = F.resize(F.center_crop(img, case["crop"]), [h, w], InterpolationMode.BILINEAR, antialias=False)
    else:
        raise SystemExit(f"unknown op {case['op']}")
    out.append(r.contiguous().numpy().astype(np.float32).ravel())
np.concatenate(out).tofile(sys.argv[2])
