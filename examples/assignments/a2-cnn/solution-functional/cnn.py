"""A2, part 2: a CNN for the 8x8 digits written with torch.nn.functional.

No nn.Conv2d here: the model keeps its own weight tensors as parameters and calls F.conv2d,
F.max_pool2d and F.linear itself. The classifier's weights are declared before the filters.
train() uses a DataLoader (no worker processes), AdamW and dropout, and prints its progress.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

FILTERS_1 = 12
FILTERS_2 = 24
HIDDEN_FEATURES = FILTERS_2 * 2 * 2
NUM_EPOCHS = 18
BATCH_SIZE = 50


def _kaiming(*shape):
    fan_in = math.prod(shape[1:])
    return nn.Parameter(torch.randn(*shape) * math.sqrt(2.0 / fan_in))


class FunctionalCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc_weight = _kaiming(10, HIDDEN_FEATURES)
        self.fc_bias = nn.Parameter(torch.zeros(10))
        self.filters1 = _kaiming(FILTERS_1, 1, 3, 3)
        self.bias1 = nn.Parameter(torch.zeros(FILTERS_1))
        self.filters2 = _kaiming(FILTERS_2, FILTERS_1, 3, 3)
        self.bias2 = nn.Parameter(torch.zeros(FILTERS_2))

    def forward(self, x):
        h = F.max_pool2d(F.relu(F.conv2d(x, self.filters1, self.bias1, padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, self.filters2, self.bias2, padding=1)), 2)
        h = F.dropout(h.reshape(h.shape[0], HIDDEN_FEATURES), p=0.1, training=self.training)
        return F.linear(h, self.fc_weight, self.fc_bias)


def build_model():
    """Digits (N, 1, 8, 8) -> logits (N, 10)."""
    model = FunctionalCNN()
    count = sum(p.numel() for p in model.parameters())
    print(f"[build_model] FunctionalCNN with {count} parameters")
    return model


def train(model, x, y, device):
    """AdamW over shuffled mini-batches; returns the mean loss of each epoch."""
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH_SIZE, shuffle=True, num_workers=0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    history = []
    for epoch in range(NUM_EPOCHS):
        model.train()
        running, seen = 0.0, 0
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            running += loss.item() * labels.shape[0]
            seen += labels.shape[0]
        history.append(running / seen)
        print(f"[train] epoch {epoch + 1:2d}/{NUM_EPOCHS}: loss {history[-1]:.4f}")
    return history
