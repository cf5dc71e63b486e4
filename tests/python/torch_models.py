"""PyTorch definitions of libnad's built-in architectures, for tests.

The classes follow the NADs reference implementation (CIFAR variants; see the project's
reference notes): for a 1x32x32 input they are exactly the reference networks. For other
inputs the first Linear of a classifier takes the flattened feature map, whatever its size,
as libnad does.

    ARCHS[name](c, h, w, outputs, device=None) -> nn.Module

covers every libnad built-in (nad_arch_builtin_name), ablations included. Use the model in
eval mode (``model.eval()``): BatchNorm then uses its running statistics, Dropout is the
identity. ``device='meta'`` builds a model without memory (shapes and counts only).

Layout contract with libnad: module attributes are registered in the order libnad's nodes
are built and are named as libnad's tensor prefixes, so ``model.state_dict()`` minus the
``num_batches_tracked`` entries has exactly libnad's tensor names, sizes and order (the flat
parameter array). ``flat_params(model)`` / ``load_flat_params(model, flat)`` convert.

Constructors raise ValueError when the input is too small for the layers (libnad refuses the
same shapes with NAD_ERR_SHAPE).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['ARCHS', 'flat_params', 'load_flat_params', 'state_entries']


def _conv_out(n, k, s=1, p=0):
    """Output length of a convolution/pooling window (PyTorch floor mode)."""
    if n + 2 * p < k:
        raise ValueError('input of size %d too small for kernel %d (padding %d)' % (n, k, p))
    return (n + 2 * p - k) // s + 1


class LogReg(nn.Module):
    """Linear(c*h*w -> outputs) on the flattened input."""

    def __init__(self, c=1, h=32, w=32, k=1, device=None):
        super().__init__()
        self.l = nn.Linear(c * h * w, k, device=device)

    def forward(self, x):
        return self.l(x.flatten(1))


class LeNet(nn.Module):
    """c1 6@5x5, relu, [maxpool 2], c2 16@5x5, relu, [maxpool 2], f1 120, relu, f2 84, relu, f3.

    pool=False is the reference LeNet(pool=False): f1 takes the larger 16x(H-8)x(W-8) map."""

    def __init__(self, c=1, h=32, w=32, k=1, pool=True, device=None):
        super().__init__()
        self.pool = pool
        self.c1 = nn.Conv2d(c, 6, 5, device=device)
        self.c2 = nn.Conv2d(6, 16, 5, device=device)
        for _ in range(2):
            h, w = _conv_out(h, 5), _conv_out(w, 5)
            if pool:
                h, w = _conv_out(h, 2, 2), _conv_out(w, 2, 2)
        self.f1 = nn.Linear(16 * h * w, 120, device=device)
        self.f2 = nn.Linear(120, 84, device=device)
        self.f3 = nn.Linear(84, k, device=device)

    def forward(self, x):
        x = F.relu(self.c1(x))
        if self.pool:
            x = F.max_pool2d(x, 2)
        x = F.relu(self.c2(x))
        if self.pool:
            x = F.max_pool2d(x, 2)
        x = x.flatten(1)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x)))))


class AllConv(nn.Module):
    """LeNet with each 2x2 max-pool replaced by a learned 2x2 stride-2 convolution (libnad's
    'allconv'): c1 6@5x5, relu, d1 6@2x2/2, relu, c2 16@5x5, relu, d2 16@2x2/2, relu, f1 120,
    relu, f2 84, relu, f3. PyTorch default init."""

    def __init__(self, c=1, h=32, w=32, k=1, device=None):
        super().__init__()
        self.c1 = nn.Conv2d(c, 6, 5, device=device)
        self.d1 = nn.Conv2d(6, 6, 2, 2, device=device)
        self.c2 = nn.Conv2d(6, 16, 5, device=device)
        self.d2 = nn.Conv2d(16, 16, 2, 2, device=device)
        for _ in range(2):
            h, w = _conv_out(h, 5), _conv_out(w, 5)
            h, w = _conv_out(h, 2, 2), _conv_out(w, 2, 2)
        self.f1 = nn.Linear(16 * h * w, 120, device=device)
        self.f2 = nn.Linear(120, 84, device=device)
        self.f3 = nn.Linear(84, k, device=device)

    def forward(self, x):
        x = F.relu(self.d1(F.relu(self.c1(x))))
        x = F.relu(self.d2(F.relu(self.c2(x))))
        x = x.flatten(1)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x)))))


class VGG11(nn.Module):
    """VGG11 for CIFAR; conv weights N(0, sqrt(2/(3*3*out))), conv bias 0 (reference init).

    bn=True adds BatchNorm after each conv (vgg11-bn); pool=False drops every 'M'
    (vgg11-nopool), so the first classifier Linear takes 512*H*W features."""
    cfg = [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M']

    def __init__(self, c=1, h=32, w=32, k=1, bn=False, pool=True, device=None):
        super().__init__()
        layers, cin = [], c
        for v in self.cfg:
            if v == 'M':
                if pool:
                    layers.append(nn.MaxPool2d(2))
                    h, w = _conv_out(h, 2, 2), _conv_out(w, 2, 2)
                continue
            conv = nn.Conv2d(cin, v, 3, padding=1, device=device)
            n = 3 * 3 * v
            conv.weight.data.normal_(0, math.sqrt(2.0 / n))
            conv.bias.data.zero_()
            layers += [conv] + ([nn.BatchNorm2d(v, device=device)] if bn else []) + [nn.ReLU()]
            cin = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(512 * h * w, 512, device=device), nn.ReLU(),
                                        nn.Dropout(), nn.Linear(512, 512, device=device),
                                        nn.ReLU(), nn.Dropout(), nn.Linear(512, k, device=device))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class Block(nn.Module):
    """ResNet BasicBlock: relu(bn(b(relu(an(a(x))))) + sc(x)); sc = 1x1 strided conv + BN when
    the shape changes, identity otherwise. shortcut=False drops sc entirely."""

    def __init__(self, cin, cout, stride, shortcut=True, device=None):
        super().__init__()
        self.shortcut = shortcut
        self.a = nn.Conv2d(cin, cout, 3, stride, 1, bias=False, device=device)
        self.an = nn.BatchNorm2d(cout, device=device)
        self.b = nn.Conv2d(cout, cout, 3, 1, 1, bias=False, device=device)
        self.bn = nn.BatchNorm2d(cout, device=device)
        if shortcut:
            self.sc = nn.Sequential()
            if stride != 1 or cin != cout:
                self.sc = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False, device=device),
                                        nn.BatchNorm2d(cout, device=device))

    def forward(self, x):
        y = self.bn(self.b(F.relu(self.an(self.a(x)))))
        return F.relu(y + self.sc(x) if self.shortcut else y)


class ResNet18(nn.Module):
    """CIFAR ResNet18: stem 3x3 conv 64 + BN + ReLU, 8 BasicBlocks, AvgPool 4, Linear."""

    def __init__(self, c=1, h=32, w=32, k=1, shortcut=True, device=None):
        super().__init__()
        self.stem = nn.Conv2d(c, 64, 3, 1, 1, bias=False, device=device)
        self.sn = nn.BatchNorm2d(64, device=device)
        blocks, cin = [], 64
        for cout, stride in [(64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                             (512, 1)]:
            blocks.append(Block(cin, cout, stride, shortcut, device=device))
            h, w = _conv_out(h, 3, stride, 1), _conv_out(w, 3, stride, 1)
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        h, w = _conv_out(h, 4, 4), _conv_out(w, 4, 4)
        self.fc = nn.Linear(512 * h * w, k, device=device)

    def forward(self, x):
        x = self.blocks(F.relu(self.sn(self.stem(x))))
        return self.fc(F.avg_pool2d(x, 4).flatten(1))


class Bottleneck(nn.Module):
    """DenseNet bottleneck: cat([c2(relu(n2(c1(relu(n1(x)))))), x]) (new channels first)."""

    def __init__(self, cin, g, device=None):
        super().__init__()
        self.n1 = nn.BatchNorm2d(cin, device=device)
        self.c1 = nn.Conv2d(cin, 4 * g, 1, bias=False, device=device)
        self.n2 = nn.BatchNorm2d(4 * g, device=device)
        self.c2 = nn.Conv2d(4 * g, g, 3, padding=1, bias=False, device=device)

    def forward(self, x):
        y = self.c1(F.relu(self.n1(x)))
        return torch.cat([self.c2(F.relu(self.n2(y))), x], 1)


class Transition(nn.Module):
    """avg_pool2d(c(relu(n(x))), 2), c a 1x1 conv to floor(channels/2)."""

    def __init__(self, cin, cout, device=None):
        super().__init__()
        self.n = nn.BatchNorm2d(cin, device=device)
        self.c = nn.Conv2d(cin, cout, 1, bias=False, device=device)

    def forward(self, x):
        return F.avg_pool2d(self.c(F.relu(self.n(x))), 2)


class DenseNet121(nn.Module):
    """CIFAR DenseNet121: growth 32, blocks (6, 12, 24, 16), stem 3x3 conv to 64, final BN,
    ReLU, AvgPool 4, Linear. No conv bias."""

    def __init__(self, c=1, h=32, w=32, k=1, g=32, blocks=(6, 12, 24, 16), device=None):
        super().__init__()
        planes = 2 * g
        self.stem = nn.Conv2d(c, planes, 3, padding=1, bias=False, device=device)
        stages = []
        for i, n in enumerate(blocks):
            layers = []
            for _ in range(n):
                layers.append(Bottleneck(planes, g, device=device))
                planes += g
            stages.append(nn.Sequential(*layers))
            if i < len(blocks) - 1:
                out = planes // 2
                stages.append(Transition(planes, out, device=device))
                planes = out
                h, w = _conv_out(h, 2, 2), _conv_out(w, 2, 2)
        self.stages = nn.Sequential(*stages)
        self.n = nn.BatchNorm2d(planes, device=device)
        h, w = _conv_out(h, 4, 4), _conv_out(w, 4, 4)
        self.fc = nn.Linear(planes * h * w, k, device=device)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.fc(F.avg_pool2d(F.relu(self.n(x)), 4).flatten(1))


def _with_in_channels(conv, c, device=None):
    """A copy of torchvision's first convolution taking c input channels (same hyper-parameters,
    same registration slot): libnad's built-ins accept any channel count."""
    return nn.Conv2d(c, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                     groups=conv.groups, bias=conv.bias is not None, device=device)


def mobilenet_v2(c=3, h=32, w=32, k=1, device=None):
    """torchvision's mobilenet_v2(num_classes=k) (its strides; libnad 'mobilenet-v2')."""
    import torchvision
    m = torchvision.models.mobilenet_v2(num_classes=k)
    if c != 3:
        m.features[0][0] = _with_in_channels(m.features[0][0], c)
    return m.to(device) if device else m


def convnext_small32(c=3, h=32, w=32, k=1, device=None):
    """torchvision's ConvNeXt with dims (32, 64, 128, 256), depths (2, 2, 2, 2), layer scale
    1e-6, no stochastic depth (libnad 'convnext')."""
    from torchvision.models.convnext import ConvNeXt, CNBlockConfig
    cfg = [CNBlockConfig(32, 64, 2), CNBlockConfig(64, 128, 2), CNBlockConfig(128, 256, 2),
           CNBlockConfig(256, None, 2)]
    h, w = _conv_out(h, 4, 4), _conv_out(w, 4, 4)  # the stem, then three downsamplings
    for _ in range(3):
        h, w = _conv_out(h, 2, 2), _conv_out(w, 2, 2)
    m = ConvNeXt(cfg, stochastic_depth_prob=0.0, layer_scale=1e-6, num_classes=k)
    if c != 3:
        m.features[0][0] = _with_in_channels(m.features[0][0], c)
    return m.to(device) if device else m


def vit_small32(c=3, h=32, w=32, k=1, device=None):
    """torchvision's VisionTransformer(image_size=h, patch_size=4, num_layers=6, num_heads=4,
    hidden_dim=192, mlp_dim=768, num_classes=k) (libnad 'vit'); at 3x32x32 the class itself.
    Its head is zero-initialised by torchvision; libnad draws it as a Linear."""
    from torchvision.models.vision_transformer import VisionTransformer
    if (c, h, w) == (3, 32, 32):
        m = VisionTransformer(32, 4, 6, 4, 192, 768, num_classes=k)
        return m.to(device) if device else m
    # other inputs, as libnad takes them: torchvision's class with its size check dropped, the
    # position embedding sized 1 + (h//4)(w//4) (the same parameter slot)

    class AnySize(VisionTransformer):
        def _process_input(self, x):
            x = self.conv_proj(x)
            return x.reshape(x.shape[0], self.hidden_dim, -1).permute(0, 2, 1)

    m = AnySize(32, 4, 6, 4, 192, 768, num_classes=k)
    if c != 3:
        m.conv_proj = _with_in_channels(m.conv_proj, c)
    tokens = 1 + (h // 4) * (w // 4)
    m.encoder.pos_embedding = nn.Parameter(torch.empty(1, tokens, 192).normal_(std=0.02))
    return m.to(device) if device else m


ARCHS = {
    'logreg': lambda c, h, w, k, device=None: LogReg(c, h, w, k, device=device),
    'lenet': lambda c, h, w, k, device=None: LeNet(c, h, w, k, device=device),
    'lenet-nopool': lambda c, h, w, k, device=None: LeNet(c, h, w, k, pool=False, device=device),
    'vgg11': lambda c, h, w, k, device=None: VGG11(c, h, w, k, device=device),
    'vgg11-bn': lambda c, h, w, k, device=None: VGG11(c, h, w, k, bn=True, device=device),
    'vgg11-nopool': lambda c, h, w, k, device=None: VGG11(c, h, w, k, pool=False, device=device),
    'resnet18': lambda c, h, w, k, device=None: ResNet18(c, h, w, k, device=device),
    'resnet18-noshortcut':
        lambda c, h, w, k, device=None: ResNet18(c, h, w, k, shortcut=False, device=device),
    'densenet121': lambda c, h, w, k, device=None: DenseNet121(c, h, w, k, device=device),
    'allconv': lambda c, h, w, k, device=None: AllConv(c, h, w, k, device=device),
    'mobilenet-v2': mobilenet_v2,
    'convnext': convnext_small32,
    'vit': vit_small32,
}


def state_entries(model):
    """(name, tensor) of the state_dict in order, without num_batches_tracked: libnad's tensor
    table."""
    return [(n, t) for n, t in model.state_dict().items()
            if not n.endswith('num_batches_tracked')]


def flat_params(model):
    """The model's state as libnad's flat float32 array (1-D tensor)."""
    return torch.cat([t.detach().reshape(-1).float().cpu() for _, t in state_entries(model)])


def load_flat_params(model, flat):
    """Copy a libnad flat parameter array (any 1-D float sequence) into the model."""
    flat = torch.as_tensor(flat, dtype=torch.float32).reshape(-1)
    entries = state_entries(model)
    total = sum(t.numel() for _, t in entries)
    if flat.numel() != total:
        raise ValueError('flat array has %d floats, the model %d' % (flat.numel(), total))
    off = 0
    with torch.no_grad():
        for _, t in entries:
            n = t.numel()
            t.copy_(flat[off:off + n].view_as(t))
            off += n
