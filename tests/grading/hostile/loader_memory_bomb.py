"""A data loader worker that keeps every batch it ever loaded, while the training loop waits for
it forever: the worker dies for memory and the parent, none the wiser, hangs. It runs as soon as
it is imported, as a hand-in's module-level training code would."""

import multiprocessing
import time


def load_batches():
    batches = []
    while True:
        batches.append(bytearray(16 * 1024 * 1024))


worker = multiprocessing.get_context("fork").Process(target=load_batches)
worker.start()
while True:
    time.sleep(60)
