"""Starts a background helper that detaches twice, as daemons do, and outlives the run."""

import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        quiet = os.open(os.devnull, os.O_RDWR)
        for stream in (0, 1, 2):
            os.dup2(quiet, stream)
        while True:
            with open("/job/heartbeat", "w") as beat:
                beat.write(str(time.time()))
            time.sleep(0.05)
    os._exit(0)
os.wait()
time.sleep(0.2)
print("started the helper")
