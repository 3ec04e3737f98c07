"""Writes its results, then waits forever for a data loader that never finishes."""

import json
import os
import time

os.makedirs("/job/out", exist_ok=True)
with open("/job/out/result.json", "w") as result:
    json.dump({"accuracy": 0.99}, result)
print("results written", flush=True)
while True:
    time.sleep(60)
