"""A2, part 2: a small residual CNN for the 8x8 digits.

The network is a stem convolution (1 -> 16 channels), one residual block (two 16 -> 16
convolutions with batch normalisation and a skip connection), 2x2 max-pooling and a linear
classifier. The block is declared before the stem in ``__init__``; the digits still go through
the stem first, which is what counts.

Trained with SGD (Nesterov momentum), weight decay and a step size that drops twice.
"""

import torch
import torch.nn.functional as F
from torch import nn

WIDTH = 16
EPOCHS = 12
BATCH = 64


class ResidualBlock(nn.Module):
    """relu(x + bn(conv(relu(bn(conv(x)))))): the same number of channels in and out."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norm1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norm2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        y = F.relu(self.norm1(self.conv1(x)))
        y = self.norm2(self.conv2(y))
        return F.relu(x + y)


class DigitsResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = ResidualBlock(WIDTH)
        self.stem = nn.Conv2d(1, WIDTH, 3, padding=1)
        self.classifier = nn.Linear(WIDTH * 4 * 4, 10)

    def forward(self, images):
        features = self.block(F.relu(self.stem(images)))  # (N, 16, 8, 8)
        features = F.max_pool2d(features, 2)  # (N, 16, 4, 4)
        return self.classifier(torch.flatten(features, start_dim=1))


def build_model():
    """(N, 1, 8, 8) digits to (N, 10) logits; about 7,400 parameters."""
    return DigitsResNet()


def train(model, x, y, device):
    """Mini-batch SGD on (x, y); returns the mean cross-entropy of each epoch."""
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[6, 10], gamma=0.2)
    n = x.shape[0]
    epoch_losses = []
    model.train()
    for _ in range(EPOCHS):
        permutation = torch.randperm(n)
        summed = 0.0
        for i in range(0, n, BATCH):
            index = permutation[i : i + BATCH]
            images, labels = x[index].to(device), y[index].to(device)
            logits = model(images)
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            summed += loss.item() * len(index)
        scheduler.step()
        epoch_losses.append(summed / n)
    return epoch_losses
