"""Keeps every activation ever computed, until there is no memory left."""

activations = []
while True:
    activations.append(bytearray(16 * 1024 * 1024))
