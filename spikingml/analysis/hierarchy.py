r"""Twins of a three-layer hierarchy on scikit-learn's 8 x 8 digits, and their profiles.

Two abstract models with the architecture of a hierarchy that sees 8 x 8 digits: a first
layer of local receptive fields (``n_locations`` square patches of ``patch`` x ``patch``
pixels, ``stride`` apart, ``k1`` units each), a second layer of ``k2`` units that see the
whole first layer, and a top layer of 10 units, one per digit. They answer, beside a
spiking hierarchy with local rules, the question of Yamins & DiCarlo (2016): does a
network trained *only* to maximise its output decorrelate its layers as a hierarchy
that learns each layer on its own does?

:class:`BackpropNet` ("maximise the output layer")
    The same architecture as a rate network trained end to end by back-propagation on
    the labels alone, with JAX (CPU; the extra ``hierarchy``)::

        h1 = relu(x W1 * M + b1)        M: 1 where a unit's patch holds the pixel
        h2 = relu(h1 W2 + b2)
        z  = h2 W3 + b3                 softmax cross-entropy with the label

    Adam (Kingma & Ba 2015) on minibatches; the mask ``M`` keeps the first layer's
    receptive fields local throughout training (its gradient is masked too).
:class:`UnsupervisedCascade` (each layer learns alone, without labels)
    FastICA (Hyvarinen & Oja 2000) of the patches at every location (``k1`` components
    each), then k-means with ``k2`` centres on the first layer's responses, then k-means
    with 10 centres on the second layer's. A k-means layer responds with the "triangle"
    activation of Coates, Lee & Ng (2011), :math:`f_k(x) = \max(0, \bar d(x) - d_k(x))`
    with :math:`d_k` the distance to centre ``k`` and :math:`\bar d` its mean over
    centres: about half of the units respond to an input, more the closer they are.

:func:`layer_profile` gives, for every layer of a model (a dict of response matrices,
one row per test digit), the decorrelation profile of
:mod:`spikingml.analysis.representations`: mean absolute pairwise correlation,
participation ratio, and the cross-validated accuracy of a linear probe.

Inputs are pixels scaled to [0, 1] (grey level / 16); :func:`digit_split` draws a
stratified train / test split from a seed, shared by every model of a comparison.

References
----------
Yamins, D. L. K. & DiCarlo, J. J. (2016). Using goal-driven deep learning models to
understand sensory cortex. Nat. Neurosci. 19, 356-365.

Coates, A., Lee, H. & Ng, A. Y. (2011). An analysis of single-layer networks in
unsupervised feature learning. Proceedings of AISTATS 2011, PMLR 15, 215-223.

Hyvarinen, A. & Oja, E. (2000). Independent component analysis: algorithms and
applications. Neural Netw. 13, 411-430.

Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization. ICLR.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from spikingml.analysis.lstm import adam_tree_step, require_jax
from spikingml.analysis.representations import (
    mean_abs_correlation,
    participation_ratio,
    probe_accuracy,
)
from spikingml.errors import ValidationError

__all__ = [
    "LAYERS",
    "BackpropNet",
    "UnsupervisedCascade",
    "digit_split",
    "layer_profile",
    "load_digits_scaled",
    "patch_indices",
    "train_backprop",
    "train_cascade",
]

#: Layer names of every model, from the input up.
LAYERS: tuple[str, ...] = ("l1", "l2", "top")


def load_digits_scaled() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 digits as ``(x, labels)``: ``x`` (1797, 64) in [0, 1]."""
    from sklearn.datasets import load_digits

    x, labels = load_digits(return_X_y=True)
    return x / 16.0, labels.astype(int)


def digit_split(labels: np.ndarray, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split of the digits into training and test indices, from ``seed``.

    Parameters
    ----------
    labels : ndarray of int
        Class of every digit.
    n_test : int
        Test digits (at least 10 and leaving at least 10 for training).
    seed : int
        Seeds the split.

    Returns
    -------
    train, test : ndarray of int
        Sorted indices into ``labels``.
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    if not isinstance(n_test, (int, np.integer)) or not 10 <= n_test <= len(labels) - 10:
        raise ValidationError(
            "n_test", f"an integer in [10, {len(labels) - 10}] (digits held out)", n_test
        )
    train, test = train_test_split(
        np.arange(len(labels)), test_size=int(n_test), stratify=labels, random_state=seed
    )
    return np.sort(train), np.sort(test)


def patch_indices(side: int = 8, patch: int = 4, stride: int = 2) -> np.ndarray:
    """Pixel indices of every local receptive field: ``(n_locations, patch**2)``.

    Locations run row by row over a ``side`` x ``side`` image; pixel ``(r, c)`` has index
    ``r * side + c``. With the defaults: 9 locations (a 3 x 3 grid) of 16 pixels.
    """
    for name, value, low in (("side", side, 1), ("patch", patch, 1), ("stride", stride, 1)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValidationError(name, f"an integer >= {low}", value)
    if patch > side or (side - patch) % stride:
        raise ValidationError(
            "stride", f"a step that tiles {side} pixels with patches of {patch}", stride
        )
    starts = range(0, side - patch + 1, stride)
    rows = np.arange(patch)[:, None] * side + np.arange(patch)[None, :]
    return np.array([(r * side + c) + rows.ravel() for r in starts for c in starts])


def _mask(patches: np.ndarray, k1: int, n_pixels: int) -> np.ndarray:
    """``(n_pixels, n_locations * k1)``: 1 where a first-layer unit sees the pixel."""
    mask = np.zeros((n_pixels, len(patches) * k1), dtype=np.float32)
    for loc, pixels in enumerate(patches):
        mask[np.ix_(pixels, np.arange(loc * k1, (loc + 1) * k1))] = 1.0
    return mask


def _check_data(x: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or not np.all(np.isfinite(x)):
        raise ValidationError("x", "a finite 2-D array (digits x pixels)", np.shape(x))
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(x),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValidationError("labels", f"{len(x)} integer classes", labels.shape)
        if labels.min() < 0 or labels.max() > 9:
            raise ValidationError("labels", "classes 0..9", (labels.min(), labels.max()))
    return x


# ------------------------------------------------------------------------ back-propagation
@dataclasses.dataclass(frozen=True)
class BackpropNet:
    """A trained :func:`train_backprop` network: weights, mask and learning curve.

    ``params`` holds ``W1, b1, W2, b2, W3, b3`` (NumPy); ``mask`` the first layer's
    receptive fields; ``train_accuracy`` the accuracy on the training digits after each
    epoch; ``wall_seconds`` the training time.
    """

    params: dict[str, np.ndarray]
    mask: np.ndarray
    train_accuracy: np.ndarray
    wall_seconds: float

    def responses(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Activations of ``l1``, ``l2`` and ``top`` (the logits) for the digits ``x``."""
        x = _check_data(x)
        p = self.params
        h1 = np.maximum(x @ (p["W1"] * self.mask) + p["b1"], 0.0)
        h2 = np.maximum(h1 @ p["W2"] + p["b2"], 0.0)
        return {"l1": h1, "l2": h2, "top": h2 @ p["W3"] + p["b3"]}

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class of every digit: the largest logit."""
        return np.argmax(self.responses(x)["top"], axis=1)


def _require_jax() -> Any:
    return require_jax("the back-propagation twin of the hierarchy", "hierarchy")


def train_backprop(
    x: np.ndarray,
    labels: np.ndarray,
    *,
    k1: int = 12,
    k2: int = 150,
    patch: int = 4,
    stride: int = 2,
    epochs: int = 60,
    batch: int = 64,
    learning_rate: float = 3e-3,
    seed: int = 0,
) -> BackpropNet:
    """Train the hierarchy's architecture end to end by back-propagation on the labels.

    Parameters
    ----------
    x : ndarray, shape (n, 64)
        Training digits in [0, 1].
    labels : ndarray of int, shape (n,)
        Their classes.
    k1, k2 : int
        Units per first-layer location, and second-layer units.
    patch, stride : int
        Receptive fields of the first layer (:func:`patch_indices`).
    epochs, batch, learning_rate : int, int, float
        Passes over the data, minibatch size and Adam's step size.
    seed : int
        Seeds the initial weights (He-scaled normal) and the minibatch order.

    Returns
    -------
    BackpropNet
    """
    x = _check_data(x, labels)
    for name, value in (("k1", k1), ("k2", k2), ("epochs", epochs), ("batch", batch)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValidationError(name, "an integer >= 1", value)
    if not learning_rate > 0:
        raise ValidationError("learning_rate", "a number > 0", learning_rate)
    side = int(round(np.sqrt(x.shape[1])))
    if side * side != x.shape[1]:
        raise ValidationError("x", "square images (pixels = side**2)", x.shape[1])
    jax = _require_jax()
    jnp = jax.numpy
    mask = _mask(patch_indices(side, patch, stride), k1, x.shape[1])
    n1 = mask.shape[1]
    rng = np.random.default_rng([seed, 0xB4C])
    params = {
        "W1": rng.normal(0, np.sqrt(2.0 / patch**2), (x.shape[1], n1)) * mask,
        "b1": np.zeros(n1),
        "W2": rng.normal(0, np.sqrt(2.0 / n1), (n1, k2)),
        "b2": np.zeros(k2),
        "W3": rng.normal(0, np.sqrt(1.0 / k2), (k2, 10)),
        "b3": np.zeros(10),
    }
    params = {k: jnp.asarray(v, dtype=jnp.float32) for k, v in params.items()}
    jmask = jnp.asarray(mask)

    def loss(p, xb, yb):
        h1 = jax.nn.relu(xb @ (p["W1"] * jmask) + p["b1"])
        h2 = jax.nn.relu(h1 @ p["W2"] + p["b2"])
        z = h2 @ p["W3"] + p["b3"]
        return -jnp.mean(jax.nn.log_softmax(z)[jnp.arange(len(yb)), yb])

    @jax.jit
    def update(p, m, s, k, xb, yb):
        g = jax.grad(loss)(p, xb, yb)
        return adam_tree_step(p, g, m, s, k, learning_rate)

    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    s = jax.tree_util.tree_map(jnp.zeros_like, params)
    xj, yj = jnp.asarray(x, dtype=jnp.float32), jnp.asarray(labels)
    accuracy, k, start = [], 0, time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for lo in range(0, len(x), batch):
            idx = order[lo : lo + batch]
            k += 1
            params, m, s = update(params, m, s, k, xj[idx], yj[idx])
        net = BackpropNet({n: np.asarray(v) for n, v in params.items()}, mask, np.array([]), 0.0)
        accuracy.append(float(np.mean(net.predict(x) == labels)))
    return BackpropNet(
        {n: np.asarray(v, dtype=float) for n, v in params.items()},
        mask,
        np.array(accuracy),
        time.perf_counter() - start,
    )


# ------------------------------------------------------------------ unsupervised cascade
def _triangle(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Coates et al.'s (2011) k-means activation ``max(0, mean_k d_k - d_k)``."""
    d = np.sqrt(np.maximum(((x[:, None, :] - centres[None, :, :]) ** 2).sum(-1), 0.0))
    return np.maximum(d.mean(axis=1, keepdims=True) - d, 0.0)


@dataclasses.dataclass(frozen=True)
class UnsupervisedCascade:
    """A trained :func:`train_cascade`: per-location ICA, then two k-means layers.

    ``ica`` holds one fitted ``FastICA`` per location; ``centres2`` (k2, n_l1) and
    ``centres3`` (10, k2) the k-means centres; ``patches`` the receptive fields.
    """

    ica: list[Any]
    centres2: np.ndarray
    centres3: np.ndarray
    patches: np.ndarray

    def responses(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Responses of ``l1`` (the ICA sources), ``l2`` and ``top`` for the digits ``x``."""
        x = _check_data(x)
        h1 = np.hstack(
            [ica.transform(x[:, px]) for ica, px in zip(self.ica, self.patches, strict=True)]
        )
        h2 = _triangle(h1, self.centres2)
        return {"l1": h1, "l2": h2, "top": _triangle(h2, self.centres3)}


def train_cascade(
    x: np.ndarray,
    *,
    k1: int = 12,
    k2: int = 150,
    patch: int = 4,
    stride: int = 2,
    seed: int = 0,
) -> UnsupervisedCascade:
    """Fit the unsupervised cascade (no labels) on the training digits ``x``.

    Parameters
    ----------
    x : ndarray, shape (n, 64)
        Training digits in [0, 1].
    k1 : int
        ICA components per location (at most ``patch**2``; fewer in a field whose
        training pixels span fewer directions, above 1% of the largest singular value).
    k2 : int
        k-means centres of the second layer (the top layer has 10).
    patch, stride : int
        Receptive fields of the first layer (:func:`patch_indices`).
    seed : int
        Seeds FastICA and k-means.
    """
    from sklearn.cluster import KMeans
    from sklearn.decomposition import FastICA

    x = _check_data(x)
    side = int(round(np.sqrt(x.shape[1])))
    patches = patch_indices(side, patch, stride)
    if not isinstance(k1, (int, np.integer)) or not 1 <= k1 <= patch**2:
        raise ValidationError("k1", f"an integer in [1, {patch**2}] (components per patch)", k1)
    if not isinstance(k2, (int, np.integer)) or not 10 <= k2 < len(x):
        raise ValidationError("k2", f"an integer in [10, {len(x) - 1}]", k2)
    icas = []
    for px in patches:
        # a field whose pixels are blank in (nearly) every training digit (the corners)
        # spans fewer than k1 directions; FastICA's whitening divides by zero beyond them
        sv = np.linalg.svd(x[:, px] - x[:, px].mean(axis=0), compute_uv=False)
        rank = int(np.sum(sv > 1e-2 * sv[0])) if sv[0] > 0 else 1
        ica = FastICA(
            n_components=int(min(k1, rank)),
            whiten="unit-variance",
            random_state=seed,
            max_iter=5000,
            tol=1e-3,
        )
        with np.errstate(divide="ignore", invalid="ignore"):  # sklearn divides by every
            icas.append(ica.fit(x[:, px]))  # singular value, then keeps the first rank
    h1 = np.hstack([ica.transform(x[:, px]) for ica, px in zip(icas, patches, strict=True)])
    km2 = KMeans(int(k2), n_init=3, random_state=seed).fit(h1)
    h2 = _triangle(h1, km2.cluster_centers_)
    km3 = KMeans(10, n_init=3, random_state=seed).fit(h2)
    return UnsupervisedCascade(icas, km2.cluster_centers_, km3.cluster_centers_, patches)


# ------------------------------------------------------------------------------- profiles
def layer_profile(
    responses: Mapping[str, np.ndarray], labels: np.ndarray, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Decorrelation profile and linear probe of every layer of a model.

    Parameters
    ----------
    responses : mapping of str to ndarray
        Layer name -> ``(n_stimuli, n_units)`` responses to the same stimuli.
    labels : ndarray of int
        Class of every stimulus.
    seed : int
        Seeds the probe's folds.

    Returns
    -------
    dict of str to dict
        For every layer: ``mean_abs_correlation``, ``participation_ratio`` and
        ``probe_accuracy`` (5-fold linear SVM,
        :func:`~spikingml.analysis.representations.probe_accuracy`).
    """
    if not isinstance(responses, Mapping) or not responses:
        raise ValidationError("responses", "a non-empty mapping of layer -> responses", responses)
    out = {}
    for name, r in responses.items():
        out[name] = {
            "mean_abs_correlation": float(mean_abs_correlation(r).value),
            "participation_ratio": float(participation_ratio(r)),
            "probe_accuracy": float(probe_accuracy(r, labels, seed=seed).mean),
        }
    return out
