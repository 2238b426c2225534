r"""An LSTM trained by back-propagation through time: the twin of the e-prop circuit.

The long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers,
Schmidhuber & Cummins 2000) keeps a cell state ``c`` that a learned gate can hold for
as long as the task needs. In the symbols of the code, for input ``x[t]`` and hidden
state ``h``::

    i = sigmoid(W_i [x, h] + b_i)      input gate
    f = sigmoid(W_f [x, h] + b_f)      forget gate (b_f starts at 1: remember by default)
    o = sigmoid(W_o [x, h] + b_o)      output gate
    g = tanh(W_g [x, h] + b_g)         candidate
    c = f * c + i * g;   h = o * tanh(c);   y = W_y h + b_y   (logits)

It is trained on the same trials as the spiking network (inputs binned by ``bin_steps``
time steps: spike counts per bin), with the same masked cross-entropy, by
back-propagation through time and Adam, with JAX (installed CPU-only: the extra
``lstm``). JAX is imported when a function here is first called.

Contents
--------
:func:`require_jax`
    JAX, or an ImportError naming the extra.
:func:`bin_inputs`
    Spike counts per bin of ``bin_steps`` steps, and the loss window on the bins.
:func:`init_params`, :func:`logits`
    The LSTM's parameters and its forward pass (``lax.scan`` over time).
:func:`train`, :class:`TrainedLSTM`
    Training by BPTT with Adam on batches from a callable; the learning curve.
:func:`decisions`
    The class chosen in every trial (the logits summed over its loss window).

References
----------
Hochreiter, S. & Schmidhuber, J. (1997). Long short-term memory. Neural Comput. 9,
1735-1780.

Gers, F. A., Schmidhuber, J. & Cummins, F. (2000). Learning to forget: continual
prediction with LSTM. Neural Comput. 12, 2451-2471.

Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization. ICLR.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from spikingml.errors import ValidationError

__all__ = [
    "TrainedLSTM",
    "require_jax",
    "adam_tree_step",
    "bin_inputs",
    "init_params",
    "logits",
    "train",
    "decisions",
]

#: Batches: ``make_batch(iteration) -> (x, target, mask)`` with ``x`` ``(T, batch,
#: n_in)``, ``target`` ``(batch,)`` class indices and ``mask`` ``(T, batch)``.
BatchFn = Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray]]


def require_jax(purpose: str = "the LSTM twin", extra: str = "lstm") -> Any:
    """Import JAX (CPU) or raise an ImportError that names ``purpose`` and the extra."""
    try:
        import jax
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{purpose} needs JAX: pip install 'spikingml[{extra}]' (CPU-only jax/jaxlib)"
        ) from exc
    jax.config.update("jax_enable_x64", False)
    return jax


def adam_tree_step(params: Any, grads: Any, m: Any, s: Any, k: Any, lr: float) -> tuple:
    """One Adam update of a JAX pytree, the ``k``-th (``k >= 1``): ``(params, m, s)``.

    The update of :func:`spikingml.analysis.eprop.adam_step` (beta1 0.9, beta2 0.999,
    eps 1e-8) on every leaf; traceable inside ``jax.jit``.
    """
    jax = require_jax()
    jnp = jax.numpy
    b1, b2, eps = 0.9, 0.999, 1e-8
    tree_map = jax.tree_util.tree_map
    m = tree_map(lambda a, g: b1 * a + (1 - b1) * g, m, grads)
    s = tree_map(lambda a, g: b2 * a + (1 - b2) * g * g, s, grads)
    params = tree_map(
        lambda p, a, v: p - lr * (a / (1 - b1**k)) / (jnp.sqrt(v / (1 - b2**k)) + eps),
        params,
        m,
        s,
    )
    return params, m, s


def bin_inputs(x: np.ndarray, mask: np.ndarray, bin_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Spike counts per bin of ``bin_steps`` steps, and the mask on the bins.

    ``x``: ``(T, batch, n_in)``, ``mask``: ``(T, batch)``; ``T`` a multiple of
    ``bin_steps``. A bin counts in the loss if any of its steps does.
    """
    T = x.shape[0]
    if bin_steps < 1 or T % bin_steps:
        raise ValidationError("bin_inputs(bin_steps)", f"a divisor of T = {T}", bin_steps)
    nb = T // bin_steps
    xb = x.reshape(nb, bin_steps, *x.shape[1:]).sum(axis=1)
    mb = mask.reshape(nb, bin_steps, *mask.shape[1:]).max(axis=1)
    return xb.astype(np.float32), mb.astype(np.float32)


def init_params(seed: int, n_in: int, n_hidden: int, n_out: int = 2) -> dict[str, Any]:
    """Glorot-uniform weights, zero biases but the forget gate's (1)."""
    rng = np.random.default_rng(seed)
    lim = np.sqrt(6.0 / (n_in + 2 * n_hidden))
    w = rng.uniform(-lim, lim, (n_in + n_hidden, 4 * n_hidden)).astype(np.float32)
    b = np.zeros(4 * n_hidden, np.float32)
    b[n_hidden : 2 * n_hidden] = 1.0
    lim_y = np.sqrt(6.0 / (n_hidden + n_out))
    w_y = rng.uniform(-lim_y, lim_y, (n_hidden, n_out)).astype(np.float32)
    return {"w": w, "b": b, "w_y": w_y, "b_y": np.zeros(n_out, np.float32)}


def logits(params: dict[str, Any], x: Any) -> Any:
    """The LSTM's logits ``(T, batch, n_out)`` for inputs ``x`` ``(T, batch, n_in)``."""
    jax = require_jax()
    jnp = jax.numpy
    n_hidden = params["w_y"].shape[0]

    def step(carry, xt):
        h, c = carry
        z = jnp.concatenate([xt, h], axis=-1) @ params["w"] + params["b"]
        i, f, o, g = jnp.split(z, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h @ params["w_y"] + params["b_y"]

    zeros = jnp.zeros((x.shape[1], n_hidden), jnp.float32)
    _, y = jax.lax.scan(step, (zeros, zeros), x)
    return y


def _loss(params, x, target, mask):
    jax = require_jax()
    jnp = jax.numpy
    logp = jax.nn.log_softmax(logits(params, x), axis=-1)
    picked = jnp.take_along_axis(logp, target[None, :, None], axis=-1)[..., 0]
    return -(mask * picked).sum() / jnp.maximum(mask.sum(), 1.0)


def decisions(params: dict[str, Any], x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The class of every trial: argmax of the logits summed over its loss window."""
    y = np.asarray(logits(params, x))
    return np.argmax((y * np.asarray(mask)[..., None]).sum(axis=0), axis=-1)


@dataclasses.dataclass(frozen=True)
class TrainedLSTM:
    """The trained parameters, the learning curve and the training time.

    ``learning_curve[k]``: the fraction of wrong decisions in batch ``k`` (before its
    update); ``loss_curve[k]``: its loss.
    """

    params: dict[str, np.ndarray]
    learning_curve: np.ndarray
    loss_curve: np.ndarray
    wall_seconds: float


def train(
    make_batch: BatchFn,
    *,
    n_in: int,
    n_hidden: int,
    iterations: int,
    learning_rate: float = 0.01,
    seed: int = 0,
    stop_error: float | None = None,
    stop_patience: int = 10,
) -> TrainedLSTM:
    """Train an LSTM by BPTT with Adam (the update of :func:`spikingml.analysis.eprop.adam_step`).

    Parameters
    ----------
    make_batch
        ``make_batch(k) -> (x, target, mask)`` for iteration ``k`` (binned inputs).
    n_in, n_hidden
        Input channels and hidden units.
    iterations
        Largest number of updates.
    learning_rate
        Adam's step size.
    seed
        Seeds the initial weights.
    stop_error, stop_patience
        Stop early once the batch error stayed <= ``stop_error`` for ``stop_patience``
        batches in a row (``None``: never).
    """
    jax = require_jax()
    jnp = jax.numpy
    params = jax.tree_util.tree_map(jnp.asarray, init_params(seed, n_in, n_hidden))

    @jax.jit
    def update(params, m, s, k, x, target, mask):
        lossval, grads = jax.value_and_grad(_loss)(params, x, target, mask)
        params, m, s = adam_tree_step(params, grads, m, s, k, learning_rate)
        return params, m, s, lossval

    @jax.jit
    def batch_decisions(params, x, mask):
        return jnp.argmax((logits(params, x) * mask[..., None]).sum(axis=0), axis=-1)

    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    s = jax.tree_util.tree_map(jnp.zeros_like, params)
    errors, losses = [], []
    start = time.perf_counter()
    streak = 0
    for k in range(iterations):
        x, target, mask = make_batch(k)
        x, target, mask = jnp.asarray(x), jnp.asarray(target), jnp.asarray(mask)
        err = float(jnp.mean(batch_decisions(params, x, mask) != target))
        params, m, s, lossval = update(params, m, s, k + 1, x, target, mask)
        errors.append(err)
        losses.append(float(lossval))
        streak = streak + 1 if stop_error is not None and err <= stop_error else 0
        if stop_error is not None and streak >= stop_patience:
            break
    return TrainedLSTM(
        params={key: np.asarray(val) for key, val in params.items()},
        learning_curve=np.asarray(errors),
        loss_curve=np.asarray(losses),
        wall_seconds=time.perf_counter() - start,
    )
