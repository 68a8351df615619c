"""Reference SSIM for batchcam's tests: scikit-image's structural_similarity, not batchcam's code.

Reads JSON on stdin: {"shape": [B, H, W], "a": [...], "b": [...]} (flat, row-major; values as given, float64) and
prints a JSON list of B numbers: structural_similarity(a_i, b_i, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1), the settings docs/method.md §2 names (Wang et al. 2004).
{"cases": [case, ...]} answers several such cases in one run (a list of lists), to pay for the imports once.
With {"info": true} it prints skimage's version and the window it uses instead.
"""
import json
import sys

import numpy as np
import skimage
from skimage.metrics import structural_similarity


def main():
    req = json.load(sys.stdin)
    if req.get("info"):
        sigma, truncate = 1.5, 3.5  # skimage sets truncate = 3.5 when gaussian_weights=True
        r = int(truncate * sigma + 0.5)
        print(json.dumps({"skimage": skimage.__version__, "win_size": 2 * r + 1}))
        return
    if "cases" in req:
        print(json.dumps([per_sample(c) for c in req["cases"]]))
    else:
        print(json.dumps(per_sample(req)))


def per_sample(case):
    b_, h, w = case["shape"]
    a = np.asarray(case["a"], dtype=np.float64).reshape(b_, h, w)
    b = np.asarray(case["b"], dtype=np.float64).reshape(b_, h, w)
    return [float(structural_similarity(a[i], b[i], gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False, data_range=1.0))
            for i in range(b_)]


if __name__ == "__main__":
    main()
