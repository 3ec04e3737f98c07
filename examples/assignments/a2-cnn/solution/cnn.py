"""A2, part 2: a small CNN for the 8x8 digits, in PyTorch (reference solution).

The autograder calls ``build_model()``, moves the model to ``device``, calls
``train(model, x, y, device)`` once, then classifies held-out digits with ``model(images)``.
"""

import torch
import torch.nn.functional as F
from torch import nn

EPOCHS = 15
BATCH_SIZE = 32
LEARNING_RATE = 1e-2


def build_model():
    """A CNN mapping a batch of digits (N, 1, 8, 8) to class scores (logits) of shape (N, 10).

    The first convolution the digits go through takes one input channel: the autograder draws
    its filters.
    """
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )


def train(model, x, y, device):
    """Trains ``model`` (already on ``device``) on images x (N, 1, 8, 8), float32 in [0, 1], and
    labels y (N,), int64 in 0..9, both on the CPU. Returns the mean training loss of each epoch.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    # Decaying the step size to 0 lets the last epochs settle instead of bouncing around.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)
    x, y = x.to(device), y.to(device)
    model.train()
    losses = []
    for _ in range(EPOCHS):
        order = torch.randperm(len(y)).to(device)
        total = 0.0
        for start in range(0, len(y), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        schedule.step()
        losses.append(total / len(y))
    return losses
