#!/usr/bin/env python3
# bench/torch_reference.py: the idiomatic-PyTorch baseline of `batchcam bench` (src/cli/bench-command.ts runs it in
# the same invocation and prints batchcam's throughput as ratios to it): the same models and training steps written
# the way a PyTorch user would write them (nn.Module, autograd.grad, torch.optim), independently of batchcam's code.
# It was written alongside the project's performance targets and kept outside the repository at first; this copy
# is unchanged except for this header and one reference pointed at docs/method.md.
"""PyTorch CPU reference baseline for the Grad-CAM-regularised MNIST classifiers.

Measures, on random 1x28x28 inputs with 10 classes (3 x --image-size^2 for torchvision's ImageNet ResNets):
  train  : plain training step (forward, cross-entropy, backward, Adam step)
  cam2   : train + Batch-CAM regulariser, second order
           (alpha = spatial mean of d score / d A, autograd.grad(create_graph=True))
  cam1   : train + the same regulariser with alpha detached (first order only)
  full2  : the whole Batch-CAM objective, second order: CE + Prototype Loss + Batch-CAM Loss, each with the
           SSIM distance (11x11 Gaussian, sigma 1.5, valid windows, separable convs as pytorch-msssim does) on
           max-normalised CAMs upsampled bilinearly to 28x28; prototypes = EMA (momentum 0.9) of the detached
           class-mean CAMs of correctly classified samples; batch targets = detached in-batch class means
  full1  : the same objective with alpha detached
  infer  : forward only (eval mode, torch.no_grad)
and reports images/s, the overhead ratio of cam2/cam1 vs train, and achieved
GFLOP/s (MACs x 2, MACs from a forward-hook counter over Conv2d/Linear; a
training step is counted as 3x the forward FLOPs, inference as 1x).

Regulariser (vectorised over the batch):
  score   = sum_i logits[i, y_i]             (true-class logit)
  g       = d score / d A                    (A = activations of the target layer)
  alpha   = mean_{h,w} g                     (B, C)
  cam     = relu(sum_c alpha_c A_c)          (B, H, W), min-max normalised per sample
  proto_k = mean of cam over batch samples with label k   (kept in the graph)
  L_cam   = mean((cam_i - proto_{y_i})^2)    (L2)
  loss    = CE + lambda * L_cam

Setup (Debian bookworm, no PyPI needed):
  apt-get install python3-torch libopenblas0-openmp   # torch 1.13.1; run with /usr/bin/python3
  (without an explicit OpenBLAS, apt's Recommends are satisfied by netlib libblas3, the slow
   reference BLAS; it only matters for Linear layers -- convs go through oneDNN either way.
   If libopenblas0-pthread is also installed it wins the libblas.so.3 alternative (priority 100
   vs 95) and is ~10-25% slower here; pick the OpenMP build per run with
   LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp)

Usage:
  /usr/bin/python3 torch_reference.py                                   # both models, all modes (~3 min)
  /usr/bin/python3 torch_reference.py --models resnet18 --modes train,cam2:layer3,infer
  /usr/bin/python3 torch_reference.py --threads 1 --json out.json
  Mode syntax: train | infer | cam2[:layer] | cam1[:layer] | full2[:layer] | full1[:layer]; layers: resnet18 layer1..layer4
  (default layer4), simplecnn conv2. Modes a model lacks are skipped.

Notes:
  * Debian's torch 1.13 defaults to hardware_concurrency/2 intra-op threads on x86_64
    (= 1 on a 2-core VM); this script calls torch.set_num_threads(--threads).
  * With target layer = last conv stage (ResNet 'layer4'), only avgpool+fc lie between A and
    the logits, so g = fc.weight[y]/HW is independent of A and the double backward is nearly
    free. cam2:layer3 makes the second-order path run through layer4's convs and BNs.
  * Timing: modes run round-robin; rounds during which other processes used > --max-other
    CPU cores (from /proc/stat, steal included) are dropped. On a shared 2-vCPU VM the quiet-machine
    run-to-run drift is still about +-15%, so compare numbers from the same run only.
  * glibc malloc is tuned (see tune_malloc) unless --malloc default.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------- models
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """CIFAR-style ResNet18 for 1x28x28: 3x3 stem (64), no maxpool,
    stages 64/128/256/512 x 2 BasicBlocks with strides 1/2/2/2 (28->28->14->7->4), GAP, fc."""
    cam_layers = ("layer1", "layer2", "layer3", "layer4")

    def __init__(self, in_ch=1, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cfg = [(64, 1), (128, 2), (256, 2), (512, 2)]
        cin = 64
        for i, (c, s) in enumerate(cfg, 1):
            setattr(self, f"layer{i}", nn.Sequential(BasicBlock(cin, c, s), BasicBlock(c, c, 1)))
            cin = c
        self.fc = nn.Linear(512, num_classes)

    def forward_feats(self, x):
        feats = {}
        x = F.relu(self.bn1(self.conv1(x)))
        for name in self.cam_layers:
            x = getattr(self, name)(x)
            feats[name] = x
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x), feats

    def forward(self, x):
        return self.forward_feats(x)[0]


class SimpleCNN(nn.Module):
    """The classic PyTorch MNIST example net: conv32-conv64 (3x3, valid) - maxpool2 - fc128 - fc10."""
    cam_layers = ("conv2",)

    def __init__(self, in_ch=1, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.drop1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(9216, 128)
        self.drop2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, num_classes)

    def forward_feats(self, x):
        x = F.relu(self.conv1(x))
        a = F.relu(self.conv2(x))                    # 64 x 24 x 24, Grad-CAM target
        x = self.drop1(F.max_pool2d(a, 2)).flatten(1)
        x = self.drop2(F.relu(self.fc1(x)))
        return self.fc2(x), {"conv2": a}

    def forward(self, x):
        return self.forward_feats(x)[0]


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW tensor (the official ConvNeXt 'channels_first' LayerNorm)."""

    def forward(self, x):
        return F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias,
                            self.eps).permute(0, 3, 1, 2)


class GRN(nn.Module):
    """Global Response Normalisation on NHWC input (ConvNeXt-V2)."""

    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, 1, dim))

    def forward(self, x):
        gx = torch.norm(x, p=2, dim=(1, 2), keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        return self.gamma * (x * nx) + self.beta + x


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.grn = GRN(4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.grn(F.gelu(self.pwconv1(self.norm(y)))))
        return x + y.permute(0, 3, 1, 2)


class ConvNeXtV2(nn.Module):
    """ConvNeXt-V2-atto adapted to 1x28x28 as batchcam's docs/method.md section 6 describes it: stem conv3x3 s1 + LayerNorm,
    three stages (depths 2,2,6; widths 40,80,160) at 28/14/7 joined by LayerNorm + conv2x2 s2; GAP -> LayerNorm -> FC.
    Written as the official ConvNeXt-V2 code is (NHWC permutes around LayerNorm / Linear / GRN)."""
    cam_layers = ("stage2", "stage3")

    def __init__(self, in_ch=1, num_classes=10, depths=(2, 2, 6), dims=(40, 80, 160)):
        super().__init__()
        self.downsample_layers = nn.ModuleList(
            [nn.Sequential(nn.Conv2d(in_ch, dims[0], 3, padding=1), LayerNorm2d(dims[0], eps=1e-6))]
            + [nn.Sequential(LayerNorm2d(dims[i - 1], eps=1e-6), nn.Conv2d(dims[i - 1], dims[i], 2, stride=2))
               for i in range(1, len(dims))])
        self.stages = nn.ModuleList([nn.Sequential(*[ConvNeXtBlock(d) for _ in range(n)])
                                     for d, n in zip(dims, depths)])
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], num_classes)

    def forward_feats(self, x):
        feats = {}
        for i, (down, stage) in enumerate(zip(self.downsample_layers, self.stages), 1):
            x = stage(down(x))
            feats[f"stage{i}"] = x
        return self.head(self.norm(x.mean((2, 3)))), feats

    def forward(self, x):
        return self.forward_feats(x)[0]


class TorchvisionResNet(nn.Module):
    """torchvision's ImageNet ResNet (3x224x224 in, as batchcam's resnet18-imagenet / resnet50-imagenet), with the
    stage outputs exposed for the CAM modes; the forward is torchvision's own, stage by stage."""
    cam_layers = ("layer4", "layer3")

    def __init__(self, depth, in_ch=3, num_classes=10):
        super().__init__()
        import torchvision
        self.net = getattr(torchvision.models, f"resnet{depth}")(num_classes=num_classes)
        if in_ch != 3:
            self.net.conv1 = nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False)

    def forward_feats(self, x):
        n, feats = self.net, {}
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = getattr(n, name)(x)
            feats[name] = x
        return n.fc(torch.flatten(n.avgpool(x), 1)), feats

    def forward(self, x):
        return self.net(x)


MODELS = {"resnet18": ResNet18, "simplecnn": SimpleCNN, "convnextv2-atto": ConvNeXtV2,
          "resnet18-imagenet": lambda c, k: TorchvisionResNet(18, c, k),
          "resnet50-imagenet": lambda c, k: TorchvisionResNet(50, c, k)}
DEFAULT_CAM_LAYER = {"resnet18": "layer4", "simplecnn": "conv2", "convnextv2-atto": "stage3",
                     "resnet18-imagenet": "layer4", "resnet50-imagenet": "layer4"}
# The ImageNet-layout models take 3 x --image-size x --image-size inputs; the others 1x28x28.
IMAGENET_MODELS = ("resnet18-imagenet", "resnet50-imagenet")


# ----------------------------------------------------------------------------- MAC counter
def count_macs(model, x):
    """Forward MACs per batch from hooks on Conv2d / Linear (elementwise ops, BN, pooling ignored)."""
    macs = [0]
    hooks = []

    def conv_hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        macs[0] += out.numel() * k

    def lin_hook(m, inp, out):
        macs[0] += out.numel() * m.in_features

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(x)
    model.train(was_training)
    for h in hooks:
        h.remove()
    return macs[0]


# ----------------------------------------------------------------------------- Batch-CAM regulariser
def batch_cam_loss(logits, A, y, num_classes, second_order=True):
    score = logits.gather(1, y[:, None]).sum()
    # retain_graph: the CE backward still needs the forward graph afterwards
    (g,) = torch.autograd.grad(score, A, create_graph=second_order, retain_graph=True)
    alpha = g.mean(dim=(2, 3), keepdim=True)               # B,C,1,1
    if not second_order:
        alpha = alpha.detach()
    cam = F.relu((alpha * A).sum(1)).flatten(1)            # B,HW
    mn = cam.min(1, keepdim=True).values
    mx = cam.max(1, keepdim=True).values
    cam = (cam - mn) / (mx - mn + 1e-6)
    onehot = F.one_hot(y, num_classes).to(cam.dtype)       # B,K
    counts = onehot.sum(0).clamp_min(1.0)                  # K
    proto = (onehot.t() @ cam) / counts[:, None]           # K,HW  per-class batch-mean CAM
    target = onehot @ proto                                # B,HW
    return ((cam - target) ** 2).mean()


def gaussian_1d(sigma=1.5, radius=5):
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    g = torch.exp(-0.5 * (t / sigma) ** 2)
    return g / g.sum()


_G = gaussian_1d()
_GD = {}


def ssim_distance(a, b, c1=0.01 ** 2, c2=0.03 ** 2):
    """1 - SSIM per sample for B x H x W maps in [0,1], valid Gaussian windows (separable 11-tap filter)."""
    x = torch.stack([a, b, a * a, b * b, a * b], 1).flatten(0, 1)[:, None]      # 5B,1,H,W
    key = (a.dtype, a.device)
    if key not in _GD:
        _GD[key] = _G.to(dtype=a.dtype, device=a.device)
    g = _GD[key]
    f = F.conv2d(F.conv2d(x, g.view(1, 1, 1, -1)), g.view(1, 1, -1, 1))
    f = f.view(a.shape[0], 5, f.shape[-2], f.shape[-1])
    mu_a, mu_b, e_aa, e_bb, e_ab = f.unbind(1)
    va, vb, cov = e_aa - mu_a * mu_a, e_bb - mu_b * mu_b, e_ab - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (va + vb + c2))
    return 1 - s.mean((1, 2))


class FullObjective:
    """CE + Prototype Loss + Batch-CAM Loss with SSIM, the EMA prototype bank kept here."""

    def __init__(self, num_classes, size=(28, 28), momentum=0.9, device="cpu"):
        self.k, self.size, self.m = num_classes, size, momentum
        self.bank = torch.zeros(num_classes, *size, device=device)
        self.init = torch.zeros(num_classes, dtype=torch.bool, device=device)

    def __call__(self, logits, A, y, second_order):
        score = logits.gather(1, y[:, None]).sum()
        (g,) = torch.autograd.grad(score, A, create_graph=second_order, retain_graph=True)
        alpha = g.mean(dim=(2, 3), keepdim=True)
        if not second_order:
            alpha = alpha.detach()
        cam = F.relu((alpha * A).sum(1))
        cam = cam / (cam.amax((1, 2), keepdim=True) + 1e-7)
        cam = F.interpolate(cam[:, None], size=self.size, mode="bilinear", align_corners=False)[:, 0]
        onehot = F.one_hot(y, self.k).to(cam.dtype)                                 # B,K
        # Prototype Loss: classes with an initialised prototype only
        ok = self.init[y]
        d = ssim_distance(cam, self.bank[y])
        proto = torch.where(ok, d, torch.zeros_like(d)).sum() / ok.sum().clamp_min(1)
        # Batch-CAM Loss: detached in-batch class means, classes with >= 2 members
        flat = cam.detach().flatten(1)
        counts = onehot.sum(0)
        means = (onehot @ ((onehot.t() @ flat) / counts.clamp_min(1)[:, None])).view_as(cam)
        elig = (onehot @ counts) >= 2
        d = ssim_distance(cam, means)
        batch = torch.where(elig, d, torch.zeros_like(d)).sum() / elig.sum().clamp_min(1)
        # EMA update of the bank from the detached CAMs of correctly classified samples
        with torch.no_grad():
            hot = onehot * (logits.argmax(1) == y)[:, None].to(cam.dtype)
            n = hot.sum(0)
            present = n > 0
            mean = (hot.t() @ flat) / n.clamp_min(1)[:, None]
            mean = mean.view(self.k, *self.size)
            upd = torch.where(self.init[:, None, None], self.m * self.bank + (1 - self.m) * mean, mean)
            self.bank = torch.where(present[:, None, None], upd, self.bank)
            self.init = self.init | present
        return proto + batch


# ----------------------------------------------------------------------------- benchmark
def make_step(model, opt, mode, cam_layer, num_classes, lam, device="cpu", size=(28, 28)):
    full = FullObjective(num_classes, size=size, device=device) if mode.startswith("full") else None
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    if mode == "infer":
        def step(x, y):
            model.eval()
            with torch.no_grad():
                out = model(x)
            sync()
            return out
        return step

    def step(x, y):
        model.train()
        opt.zero_grad(set_to_none=True)
        if mode == "train":
            loss = F.cross_entropy(model(x), y)
        else:
            logits, feats = model.forward_feats(x)
            ce = F.cross_entropy(logits, y)
            if full is not None:
                loss = ce + full(logits, feats[cam_layer], y, second_order=(mode == "full2"))
            else:
                reg = batch_cam_loss(logits, feats[cam_layer], y, num_classes,
                                     second_order=(mode == "cam2"))
                loss = ce + lam * reg
        loss.backward()
        opt.step()
        sync()
        return loss
    return step


def time_interleaved(steps, x, y, warmup, min_rounds, budget_s, per_round=2, max_other=0.15):
    """Run the modes round-robin (per_round timed steps each per round) so that slow drifts of a
    shared/virtualised CPU hit all modes alike. Each round also records how much CPU other
    processes used; rounds where that exceeds max_other cores are dropped (when >= 2 clean
    rounds exist). Returns ({mode: [seconds per step]}, rounds_total, rounds_kept, mean_other)."""
    for st in steps.values():
        for _ in range(warmup):
            st(x, y)
    rounds = []                      # [(other_cores, {mode: [t, ...]})]
    t_start = time.perf_counter()
    while True:
        snap0, w0 = cpu_snapshot(), time.perf_counter()
        rt = {m: [] for m in steps}
        for m, st in steps.items():
            for _ in range(per_round):
                t0 = time.perf_counter()
                st(x, y)
                rt[m].append(time.perf_counter() - t0)
        other = others_cpu(snap0, cpu_snapshot(), time.perf_counter() - w0)
        rounds.append((other if other is not None else 0.0, rt))
        el = time.perf_counter() - t_start
        clean = sum(1 for o, _ in rounds if o <= max_other)
        if (len(rounds) >= min_rounds and el >= budget_s and clean >= min(min_rounds, 2)) or el > 3 * budget_s:
            break
    kept = [r for o, r in rounds if o <= max_other]
    if len(kept) < 2:
        kept = [r for _, r in rounds]
    times = {m: [t for r in kept for t in r[m]] for m in steps}
    mean_other = sum(o for o, _ in rounds) / len(rounds)
    return times, len(rounds), len(kept), mean_other


def cpu_snapshot():
    """(busy jiffies of the whole machine, jiffies used by this process) for contention checks."""
    try:
        with open("/proc/stat") as f:
            v = [int(t) for t in f.readline().split()[1:]]
        busy = sum(v) - v[3] - (v[4] if len(v) > 4 else 0)      # minus idle, iowait
        with open("/proc/self/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()
        own = int(st[11]) + int(st[12])                          # utime + stime
        return busy, own
    except (OSError, ValueError, IndexError):
        return None


def others_cpu(snap0, snap1, wall):
    """CPU-seconds per wall-second used by OTHER processes between two snapshots (0 = quiet machine)."""
    if not snap0 or not snap1 or wall <= 0:
        return None
    hz = os.sysconf("SC_CLK_TCK")
    return max(0.0, ((snap1[0] - snap0[0]) - (snap1[1] - snap0[1])) / hz / wall)


def loaded_libs():
    """Which BLAS / oneDNN / OpenMP shared objects this process actually mapped."""
    keys = ("blas", "lapack", "dnnl", "mkl", "gomp", "iomp", "xnnpack", "torch_cpu")
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if p.startswith("/") and any(k in os.path.basename(p).lower() for k in keys):
                    libs.add(os.path.realpath(p))
    except OSError:
        pass
    return sorted(libs)


def tune_malloc():
    """glibc serves blocks >= M_MMAP_THRESHOLD (128 KiB, adaptive up to 32 MiB) with fresh mmap()s
    and unmaps them on free, so every training step page-faults its activation buffers anew
    (~880k minor faults / 7 s for SimpleCNN). Pin the threshold at its 32 MiB maximum and never trim:
    equivalent to MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=<huge>. Returns True on success."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        ok1 = libc.mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024)
        ok2 = libc.mallopt(M_TRIM_THRESHOLD, 2 ** 30)
        return bool(ok1 and ok2)
    except (OSError, AttributeError):
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="resnet18,simplecnn", help="comma list of resnet18, simplecnn, convnextv2-atto, resnet18-imagenet, resnet50-imagenet")
    ap.add_argument("--modes", default="train,cam2,cam1,cam2:layer3,cam1:layer3,infer",
                    help="comma list of train|cam2|cam1|full2|full1|infer; cam/full modes may name a layer: cam2:layer3")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--image-size", type=int, default=224, help="side of the inputs of resnet18-imagenet / resnet50-imagenet")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--lam", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="minimum round-robin rounds per model")
    ap.add_argument("--per-round", type=int, default=2, help="timed steps per mode per round")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds of timing per model (soft)")
    ap.add_argument("--max-other", type=float, default=0.15,
                    help="drop rounds in which other processes used more CPU cores than this")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--device", default="cpu", help="cpu or cuda[:N] (times with torch.cuda.synchronize)")
    ap.add_argument("--no-mkldnn", action="store_true", help="torch.backends.mkldnn.enabled = False")
    ap.add_argument("--malloc", choices=("tuned", "default"), default="tuned",
                    help="tuned: glibc mallopt(M_MMAP_THRESHOLD=32MiB, M_TRIM_THRESHOLD=1GiB), see tune_malloc()")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    ap.add_argument("--show-config", action="store_true")
    args = ap.parse_args()

    malloc_tuned = tune_malloc() if args.malloc == "tuned" else False
    torch.set_num_threads(args.threads)
    if args.no_mkldnn:
        torch.backends.mkldnn.enabled = False

    info = {
        "torch": torch.__version__, "python": platform.python_version(),
        "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
        "mkldnn_available": torch.backends.mkldnn.is_available(),
        "mkldnn_enabled": torch.backends.mkldnn.enabled,
        "mkl_available": torch.backends.mkl.is_available(),
        "openmp_available": torch.backends.openmp.is_available(),
        "machine": platform.machine(), "nproc": os.cpu_count(),
        "batch": args.batch, "channels_last": args.channels_last, "malloc_tuned": malloc_tuned,
        "device": args.device,
    }
    if args.show_config:
        print(torch.__config__.show())
        print(torch.__config__.parallel_info())
    print("# " + json.dumps(info))

    results = []
    for mname in args.models.split(","):
        torch.manual_seed(args.seed)
        c, side = (3, args.image_size) if mname in IMAGENET_MODELS else (1, 28)
        model = MODELS[mname](c, args.classes)
        x = torch.randn(args.batch, c, side, side)
        y = torch.randint(0, args.classes, (args.batch,))
        model, x, y = model.to(args.device), x.to(args.device), y.to(args.device)
        if args.channels_last:
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        macs = count_macs(model, x)
        fwd_flops_img = 2.0 * macs / args.batch
        print(f"# {mname}: {sum(p.numel() for p in model.parameters())/1e6:.2f} M params, "
              f"{macs/args.batch/1e6:.1f} MMAC/img forward = {fwd_flops_img/1e9:.3f} GFLOP/img; "
              f"training counted as 3x forward")
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        steps, layers = {}, {}
        for spec in args.modes.split(","):
            mode, _, layer = spec.partition(":")
            layer = layer or DEFAULT_CAM_LAYER[mname]
            if layer not in model.cam_layers:
                continue                                   # e.g. cam2:layer3 on simplecnn
            layers[spec] = layer
            steps[spec] = make_step(model, opt, mode, layer, args.classes, args.lam, args.device, (side, side))
        times, n_rounds, n_kept, other = time_interleaved(
            steps, x, y, args.warmup, args.rounds, args.budget, args.per_round, args.max_other)
        print(f"# {n_rounds} rounds, kept {n_kept} with other processes <= {args.max_other} cores; "
              f"other processes used {other:.2f} cores on average"
              + ("  <-- CONTENDED, numbers unreliable" if n_kept == n_rounds and other > args.max_other else ""))

        print(f"{'model':10s} {'mode':12s} {'med ms':>8s} {'min ms':>8s} {'img/s':>8s} {'GFLOP/s':>8s} "
              f"{'x train':>8s} {'x(min)':>7s} {'n':>3s}")
        base = times.get("train")
        for spec, ts in times.items():
            mode = spec.partition(":")[0]
            med, mn = statistics.median(ts), min(ts)
            ips = args.batch / med
            flops_img = fwd_flops_img * (1 if mode == "infer" else 3)
            ratio = ratio_min = None
            if base and mode in ("cam1", "cam2", "full1", "full2"):
                ratio = med / statistics.median(base)
                ratio_min = mn / min(base)
            r = dict(model=mname, mode=mode, spec=spec,
                     cam_layer=layers[spec] if mode.startswith(("cam", "full")) else None,
                     ms_per_step_median=med * 1e3, ms_per_step_min=mn * 1e3,
                     images_per_s=ips, images_per_s_best=args.batch / mn,
                     gflops=(flops_img * ips / 1e9) if mode in ("train", "infer") else None,
                     overhead_vs_train=ratio, overhead_vs_train_min=ratio_min, n=len(ts),
                     fwd_mmac_per_img=macs / args.batch / 1e6, other_procs_cpu=other,
                     rounds=n_rounds, rounds_kept=n_kept)
            results.append(r)
            label = spec if mode in ("train", "infer") else f"{mode}:{layers[spec]}"
            gf = f"{r['gflops']:8.1f}" if r["gflops"] else f"{'-':>8s}"
            rs = f"{ratio:8.2f} {ratio_min:7.2f}" if ratio else f"{'-':>8s} {'-':>7s}"
            print(f"{mname:10s} {label:12s} {med*1e3:8.1f} {mn*1e3:8.1f} {ips:8.1f} {gf} {rs} {len(ts):3d}")
        sys.stdout.flush()
    info["loaded_libs"] = loaded_libs()
    print("# loaded libs: " + ", ".join(info["loaded_libs"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
