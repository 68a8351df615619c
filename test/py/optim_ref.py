"""PyTorch reference runs for batchcam's optimiser and schedule tests (Debian python3-torch 1.13).

usage: optim_ref.py CONFIG.json OUT.safetensors

CONFIG: {"seed", "steps", "params": [{"shape", "dtype": "F32"|"F64"}], "missing": [[step, param], ...],
         "optimizers": {name: {"kind": "sgd"|"adamw", "options": {torch kwargs}, "lrs": [lr per step] (optional),
                               "scales": [lr multiple per parameter] (optional: one param group per multiple)}},
         "schedules": {name: {"baseLr", "warmupSteps", "totalSteps", "minLr", "n"}}}
OUT (written with the independent writer in safetensors_io.py):
  init.<i>                      initial parameter i
  grad.<s>.<i>                  gradient of parameter i at step s (1-based); absent where "missing" says so
  <name>.param.<s>.<i>          parameter i after step s of optimiser <name>
  <name>.state.<i>.<key>        torch's state after the last step (exp_avg, exp_avg_sq, momentum_buffer, step)
  sched.<name>                  float64 [n]: the lr torch's LambdaLR gives update 1..n with the closed-form lambda
"""
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

DTYPES = {"F32": torch.float32, "F64": torch.float64}


def main(config_path, out_path):
    with open(config_path) as f:
        cfg = json.load(f)
    torch.manual_seed(cfg["seed"])
    steps = cfg["steps"]
    missing = {tuple(m) for m in cfg.get("missing", [])}
    init = [torch.randn(p["shape"], dtype=DTYPES[p["dtype"]]) for p in cfg["params"]]
    grads = {}
    for s in range(1, steps + 1):
        for i, p in enumerate(cfg["params"]):
            # Growing, sign-changing scale so momentum and the second moment see varied inputs.
            g = torch.randn(p["shape"], dtype=DTYPES[p["dtype"]]) * (0.5 + s) * (-1) ** (s + i)
            if (s, i) not in missing:
                grads[(s, i)] = g
    out = {"init.%d" % i: t.numpy() for i, t in enumerate(init)}
    out.update({"grad.%d.%d" % k: g.numpy() for k, g in grads.items()})

    for name, oc in cfg["optimizers"].items():
        params = [t.clone().requires_grad_(True) for t in init]
        cls = {"sgd": torch.optim.SGD, "adamw": torch.optim.AdamW}[oc["kind"]]
        scales = oc.get("scales", [1.0] * len(params))
        base_lr = oc["options"]["lr"]
        # One param group per learning-rate multiple, its lr that multiple of the base (as fine-tuning sets them).
        groups = [{"params": [p for p, m in zip(params, scales) if m == sc], "lr": base_lr * sc, "scale": sc}
                  for sc in sorted(set(scales))]
        opt = cls(groups, **oc["options"])
        for s in range(1, steps + 1):
            if "lrs" in oc:
                for g in opt.param_groups:
                    g["lr"] = oc["lrs"][s - 1] * g["scale"]
            for i, p in enumerate(params):
                p.grad = grads[(s, i)].clone() if (s, i) in grads else None
            opt.step()
            for i, p in enumerate(params):
                out["%s.param.%d.%d" % (name, s, i)] = p.detach().clone().numpy()
        for i, p in enumerate(params):
            for key, v in opt.state.get(p, {}).items():
                if isinstance(v, torch.Tensor):
                    out["%s.state.%d.%s" % (name, i, key)] = v.detach().clone().numpy().astype(np.float64) if key == "step" else v.detach().clone().numpy()

    for name, sc in cfg.get("schedules", {}).items():
        base, w, t, lo = sc["baseLr"], sc["warmupSteps"], sc["totalSteps"], sc["minLr"]

        def lam(step):
            if step < w:
                return (step + 1) / w
            progress = min(1.0, (step - w) / (t - w)) if t > w else 1.0
            return (lo + (base - lo) * 0.5 * (1 + math.cos(math.pi * progress))) / base

        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=base)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lam)
        lrs = []
        for _ in range(sc["n"]):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        out["sched.%s" % name] = np.array(lrs, dtype=np.float64)

    safetensors_io.write(out_path, out, {"torch": torch.__version__})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
