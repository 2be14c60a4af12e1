"""Path-dependent TreeSHAP (Lundberg, Erion and Lee 2018, "Consistent Individualized Feature
Attribution for Tree Ensembles", Algorithm 2) for scikit-learn trees, in plain Python.

Exact Shapley values of the game v(S) = E[f(x) | x_S], where the expectation over the features
outside S follows the tree's own training-sample cover (the same definition XGBoost's
`pred_contribs` and LightGBM's `pred_contrib` compute). The attributions of one instance sum to
f(x) minus the tree's expected value. Cost is O(leaves x depth^2) per tree and instance, in
Python: fine for explaining a handful of instances of forests of a few hundred shallow trees,
slow for deep forests (use XGBoost or LightGBM there, whose TreeSHAP is compiled).

Branching is scikit-learn's, exactly: its trees compare the instance *as float32* against
float64 thresholds (`DTYPE` in `sklearn.tree`), so `as_sklearn_input` rounds the instance
first; a value equal to a training value can otherwise take the other branch. A missing value
(NaN) goes where the node's `missing_go_to_left` says (scikit-learn >= 1.3).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Tree(NamedTuple):
    """One binary tree as flat arrays (scikit-learn's `tree_` layout): a node goes left when
    `x[feature] <= threshold`; `value` is the output being explained at each node; `cover` is
    the training weight reaching each node. Leaves have `left == -1`."""

    left: list[int]
    right: list[int]
    feature: list[int]
    threshold: list[float]
    value: list[float]
    cover: list[float]
    # Where NaN goes at each split node (scikit-learn >= 1.3); None: right (NaN <= t is False).
    missing_left: list[bool] | None = None

    def expected_value(self) -> float:
        total = self.cover[0]
        return sum(
            self.value[node] * self.cover[node] / total
            for node in range(len(self.left))
            if self.left[node] == -1
        )

    def goes_left(self, node: int, x: np.ndarray) -> bool:
        value = x[self.feature[node]]
        if value != value:  # NaN
            return bool(self.missing_left and self.missing_left[node])
        return bool(value <= self.threshold[node])

    def predict(self, x: np.ndarray) -> float:
        node = 0
        while self.left[node] != -1:
            node = self.left[node] if self.goes_left(node, x) else self.right[node]
        return self.value[node]


def as_sklearn_input(x: np.ndarray) -> np.ndarray:
    """`x` rounded to float32 as scikit-learn's trees see it, held in float64."""
    return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)


# A path element: [feature, zero fraction, one fraction, permutation weight].
_Path = list[list[float]]


def shap_values(tree: Tree, x: np.ndarray, phi: np.ndarray, scale: float = 1.0) -> None:
    """Add `scale` times the TreeSHAP values of `x` for `tree` to `phi` (one per feature)."""
    left, right, feature = tree.left, tree.right, tree.feature
    value, cover = tree.value, tree.cover

    def recurse(node: int, path: _Path, zero: float, one: float, index: int) -> None:
        path = _extend(path, zero, one, index)
        if left[node] == -1:
            for i in range(1, len(path)):
                weight = _unwound_sum(path, i)
                element = path[i]
                phi[int(element[0])] += scale * weight * (element[2] - element[1]) * value[node]
            return
        split = feature[node]
        if tree.goes_left(node, x):
            hot, cold = left[node], right[node]
        else:
            hot, cold = right[node], left[node]
        incoming_zero = incoming_one = 1.0
        for i in range(1, len(path)):
            if path[i][0] == split:  # split on this feature before: undo, then redo here
                incoming_zero, incoming_one = path[i][1], path[i][2]
                path = _unwind(path, i)
                break
        total = cover[node]
        recurse(hot, path, incoming_zero * cover[hot] / total, incoming_one, split)
        recurse(cold, path, incoming_zero * cover[cold] / total, 0.0, split)

    recurse(0, [], 1.0, 1.0, -1)


def _extend(path: _Path, zero: float, one: float, index: int) -> _Path:
    depth = len(path)
    path = [list(element) for element in path]
    path.append([index, zero, one, 1.0 if depth == 0 else 0.0])
    for i in range(depth - 1, -1, -1):
        path[i + 1][3] += one * path[i][3] * (i + 1) / (depth + 1)
        path[i][3] = zero * path[i][3] * (depth - i) / (depth + 1)
    return path


def _unwind(path: _Path, index: int) -> _Path:
    depth = len(path) - 1
    path = [list(element) for element in path]
    zero, one = path[index][1], path[index][2]
    carry = path[depth][3]
    for i in range(depth - 1, -1, -1):
        if one != 0:
            kept = path[i][3]
            path[i][3] = carry * (depth + 1) / ((i + 1) * one)
            carry = kept - path[i][3] * zero * (depth - i) / (depth + 1)
        else:
            path[i][3] = path[i][3] * (depth + 1) / (zero * (depth - i))
    for i in range(index, depth):
        path[i][0], path[i][1], path[i][2] = path[i + 1][0], path[i + 1][1], path[i + 1][2]
    return path[:depth]


def _unwound_sum(path: _Path, index: int) -> float:
    depth = len(path) - 1
    zero, one = path[index][1], path[index][2]
    carry = path[depth][3]
    total = 0.0
    for i in range(depth - 1, -1, -1):
        if one != 0:
            weight = carry * (depth + 1) / ((i + 1) * one)
            total += weight
            carry = path[i][3] - weight * zero * (depth - i) / (depth + 1)
        elif zero != 0:
            total += path[i][3] * (depth + 1) / (zero * (depth - i))
    return total


def from_sklearn(estimator: object, output: int = 0) -> Tree:
    """A fitted scikit-learn tree (`DecisionTree*`, or one tree of a forest or boosting
    ensemble) as a `Tree`; for classifiers, `output` picks the class whose probability is
    explained (scikit-learn stores class fractions or counts at each node)."""
    raw = estimator.tree_  # type: ignore[attr-defined]
    values = np.asarray(raw.value)[:, 0, :]
    if values.shape[1] > 1:  # a classifier: class weights -> probabilities
        values = values / values.sum(axis=1, keepdims=True)
    missing = getattr(raw, "missing_go_to_left", None)
    return Tree(
        left=raw.children_left.tolist(),
        right=raw.children_right.tolist(),
        feature=raw.feature.tolist(),
        threshold=raw.threshold.tolist(),
        value=values[:, output].tolist(),
        cover=np.asarray(raw.weighted_n_node_samples, dtype=float).tolist(),
        missing_left=None if missing is None else np.asarray(missing, dtype=bool).tolist(),
    )
