"""Saves a checkpoint every step, each under a new name, into the job directory: every file is
small, together they fill any disk."""

import itertools

block = b"\1" * (1024 * 1024)
for step in itertools.count():
    with open(f"/job/checkpoint-{step:06d}.bin", "wb") as checkpoint:
        checkpoint.write(block)
    if step % 16 == 0:
        print(f"saved step {step}", flush=True)
