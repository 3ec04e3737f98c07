"""Runs the unit tests and writes Gradescope's results.json to the path given."""

import sys
import unittest

from gradescope_utils.autograder_utils.json_test_runner import JSONTestRunner

if __name__ == "__main__":
    suite = unittest.defaultTestLoader.discover("tests")
    with open(sys.argv[1], "w") as results:
        JSONTestRunner(visibility="visible", stream=results).run(suite)
