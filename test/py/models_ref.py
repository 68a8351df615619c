"""Independent PyTorch (Debian python3-torch 1.13) definitions of batchcam's three models, docs/method.md §6.
State-dict keys match batchcam's, so weights written by the TypeScript side load here with strict=True."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SimpleCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward_split(self, x, layer="conv2"):
        a = F.relu(self.conv2(F.relu(self.conv1(x))))
        h = F.dropout(F.max_pool2d(a, 2), 0.25, self.training).flatten(1)
        h = F.dropout(F.relu(self.fc1(h)), 0.5, self.training)
        return a, self.fc2(h)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (self.shortcut(x) if self.shortcut is not None else x))


class ResNet18(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for i, (c, s) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], 1):
            setattr(self, f"layer{i}", nn.Sequential(BasicBlock(cin, c, s), BasicBlock(c, c, 1)))
            cin = c
        self.fc = nn.Linear(512, num_classes)

    def forward_split(self, x, layer="layer4"):
        h = F.relu(self.bn1(self.conv1(x)))
        feats = {}
        for i in range(1, 5):
            h = getattr(self, f"layer{i}")(h)
            feats[f"layer{i}"] = h
        return feats[layer], self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class GRN(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, 1, dim))

    def forward(self, x):
        gx = torch.norm(x, p=2, dim=(1, 2), keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        return self.gamma * (x * nx) + self.beta + x


class Block(nn.Module):
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


SIZES = {"atto": ([2, 2, 6], [40, 80, 160]), "tiny": ([3, 3, 9], [96, 192, 384])}
# The official ImageNet sizes (facebookresearch/ConvNeXt-V2 models/convnextv2.py).
IMAGENET_SIZES = {"atto": ([2, 2, 6, 2], [40, 80, 160, 320]), "femto": ([2, 2, 6, 2], [48, 96, 192, 384]),
                  "pico": ([2, 2, 6, 2], [64, 128, 256, 512]), "nano": ([2, 2, 8, 2], [80, 160, 320, 640]),
                  "tiny": ([3, 3, 9, 3], [96, 192, 384, 768])}


class ConvNeXtV2(nn.Module):
    def __init__(self, num_classes=10, size="atto", imagenet=False, in_chans=1):
        super().__init__()
        depths, dims = (IMAGENET_SIZES if imagenet else SIZES)[size]
        # The official stem is a 4×4 stride-4 patchify conv; ours for 28 px a 3×3 stride-1 conv.
        stem = nn.Conv2d(in_chans, dims[0], 4, stride=4) if imagenet else nn.Conv2d(in_chans, dims[0], 3, padding=1)
        self.downsample_layers = nn.ModuleList(
            [nn.Sequential(stem, LayerNorm2d(dims[0], eps=1e-6))]
            + [nn.Sequential(LayerNorm2d(dims[i - 1], eps=1e-6), nn.Conv2d(dims[i - 1], dims[i], 2, 2))
               for i in range(1, len(dims))])
        self.stages = nn.ModuleList([nn.Sequential(*[Block(d) for _ in range(n)]) for n, d in zip(depths, dims)])
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], num_classes)

    def forward_split(self, x, layer=None):
        layer = layer or f"stage{len(self.stages)}"
        feats = {}
        for i in range(len(self.stages)):
            x = self.stages[i](self.downsample_layers[i](x))
            feats[f"stage{i + 1}"] = x
        return feats[layer], self.head(self.norm(x.mean([-2, -1])))


def torchvision_resnet(depth, num_classes=10):
    """torchvision's own ImageNet ResNet (not a re-definition), with a forward split at layer4."""
    import types
    import torchvision
    model = getattr(torchvision.models, f"resnet{depth}")(num_classes=num_classes)

    def forward_split(self, x, layer="layer4"):
        h = self.layer3(self.layer2(self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x)))))))
        a = self.layer4(h)
        return a, self.fc(torch.flatten(self.avgpool(a), 1))

    model.forward_split = types.MethodType(forward_split, model)
    return model


def create(name):
    if name.startswith("convnextv2-") and name.endswith("-imagenet"):
        return ConvNeXtV2(size=name.split("-")[1], imagenet=True, in_chans=3)
    if name.endswith("-imagenet"):
        return torchvision_resnet(int(name[6:8]))
    return {"simplecnn": lambda: SimpleCNN(), "resnet18": lambda: ResNet18(),
            "convnextv2-atto": lambda: ConvNeXtV2(size="atto"),
            "convnextv2-tiny": lambda: ConvNeXtV2(size="tiny")}[name]()
