"""COMP441/541 Self-Assessment Quiz (Programming): vectorised NumPy.

Hand in this file, named quiz.py. Use NumPy and the Python standard library only. README.md
states each function's contract; the autograder checks exactly that.

Every function takes NumPy arrays and returns a new array (or a float): do not change the
arguments. None of them needs a Python loop.
"""

import numpy as np  # noqa: F401  (you will need it)


def standardize(X):
    """Each column of X (n, d) shifted to mean 0 and scaled to standard deviation 1, with the
    standard deviation of np.std (1/n, not 1/(n - 1)). A column whose values are all equal
    becomes zeros, never nan. Returns an array of X's shape.

    >>> standardize(np.array([[1.0, 5.0], [3.0, 5.0]]))
    array([[-1.,  0.],
           [ 1.,  0.]])
    """
    # TODO
    raise NotImplementedError("standardize")


def pairwise_distances(A, B):
    """D (n, m) with D[i, j] the Euclidean distance between the rows A[i] and B[j]; A (n, d),
    B (m, d). Never negative and never nan, even where rounding would make it so.

    >>> pairwise_distances(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 0.0]]))
    array([[0.],
           [5.]])
    """
    # TODO
    raise NotImplementedError("pairwise_distances")


def one_hot(labels, k):
    """(n, k) zeros with a 1 in row i at column labels[i]; labels (n,) are integers from 0 to
    k - 1, and there are k columns whichever classes appear.

    >>> one_hot(np.array([2, 0]), 4)
    array([[0., 0., 1., 0.],
           [1., 0., 0., 0.]])
    """
    # TODO
    raise NotImplementedError("one_hot")


def softmax(Z):
    """The softmax of each row of Z (n, k): exp(Z[i]) / sum(exp(Z[i])), each row summing to 1.
    Finite and exact for logits of any size, such as 1000 or -1000.

    >>> softmax(np.array([[0.0, np.log(3.0)]]))
    array([[0.25, 0.75]])
    """
    # TODO
    raise NotImplementedError("softmax")


def linear_regression(X, y, l2):
    """The weights w (d,) that minimise |X w - y|^2 + l2 |w|^2, for X (n, d), y (n,), l2 >= 0
    (no intercept). Solve the linear system in float64; do not compute an inverse.

    >>> linear_regression(np.array([[1.0], [2.0]]), np.array([2.0, 4.0]), 0.0)
    array([2.])
    """
    # TODO
    raise NotImplementedError("linear_regression")


def accuracy(scores, labels):
    """The fraction of the rows of scores (n, k) whose prediction is the row's label (n,); the
    prediction is the column of the largest score, the first one where several tie.

    >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]]), np.array([1, 1, 1]))
    0.3333333333333333
    """
    # TODO
    raise NotImplementedError("accuracy")
