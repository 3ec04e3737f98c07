#!/usr/bin/env bash
# On Gradescope this runs once, when the autograder image is built. coursesite never runs it:
# a worker has the packages of requirements.txt installed ahead of time, as grading has no network.
set -euo pipefail
pip3 install -r /autograder/source/requirements.txt
