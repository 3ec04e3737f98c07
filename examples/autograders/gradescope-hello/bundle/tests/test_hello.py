import unittest

import hello
from gradescope_utils.autograder_utils.decorators import visibility, weight


class TestHello(unittest.TestCase):
    @weight(1)
    def test_greets_by_name(self):
        """greet("Ada") says hello to Ada"""
        self.assertEqual(hello.greet("Ada"), "Hello, Ada!")

    @weight(2)
    @visibility("after_due_date")
    def test_greets_nobody(self):
        """greet("") greets the world"""
        self.assertEqual(hello.greet(""), "Hello, world!")
