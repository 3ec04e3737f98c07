#!/usr/bin/env bash
# On Gradescope this runs once, when the autograder image is built. coursesite never runs it:
# a worker has make and a C compiler installed ahead of time, as grading has no network.
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends make gcc libc6-dev python3
