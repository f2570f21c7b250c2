"""nn.metrics: predicted classes and accuracy."""

import numpy as np
import pytest

from autograd_lite import Value
from nn.metrics import accuracy, predicted_class, true_class


def test_predicted_class():
    assert predicted_class([Value(0.1), Value(2.0), Value(-1.0)]) == 1
    assert predicted_class([0.1, -2.0]) == 0
    assert predicted_class(Value(0.3)) == 1
    assert predicted_class(Value(-0.3)) == 0
    assert predicted_class(0.3, threshold=0.5) == 0
    assert predicted_class([Value(0.7)], threshold=0.5) == 1
    assert predicted_class(np.int64(2)) == 2
    assert predicted_class(np.array([0.1, 0.9, 0.3])) == 1


def test_true_class():
    assert true_class(2) == 2 and true_class(np.int64(1)) == 1
    assert true_class(-1) == 0  # ±1 labels of hinge loss
    assert true_class([0.0, 1.0, 0.0]) == 1
    assert true_class(1.0) == 1
    with pytest.raises(ValueError, match="integer"):
        true_class(0.5)


def test_accuracy():
    outputs = [[Value(2.0), Value(0.0)], [Value(0.0), Value(1.0)], [Value(3.0), Value(1.0)]]
    assert accuracy(outputs, [0, 1, 1]) == pytest.approx(2 / 3)
    assert accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 2, 0])) == 0.75
    assert accuracy([Value(0.5), Value(-0.5)], [1, -1]) == 1.0
    assert accuracy([Value(0.5), Value(-0.5)], [1, 0]) == 1.0
    assert accuracy([[0.9, 0.1]], [[1.0, 0.0]]) == 1.0


def test_accuracy_bad_input():
    with pytest.raises(ValueError, match="2 outputs but 3 labels"):
        accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="no outputs"):
        accuracy([], [])
