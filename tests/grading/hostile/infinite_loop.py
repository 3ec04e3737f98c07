"""A training loop whose stopping condition never becomes true."""

loss = 1.0
while loss > 0:
    loss = loss * 0.5 + 0.5
