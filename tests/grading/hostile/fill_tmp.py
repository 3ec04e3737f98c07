"""Caches a data set in /tmp, shard after shard, without end."""

block = b"\0" * (1024 * 1024)
shard = 0
while True:
    with open(f"/tmp/shard{shard}.bin", "wb") as cache:
        cache.write(block)
    print(f"cached shard {shard}", flush=True)
    shard += 1
