"""Logs the loss at every step of a training run that never ends."""

step = 0
while True:
    print(f"step {step}: loss 0.12345678")
    step += 1
