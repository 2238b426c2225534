"""Natural-image patches for circuits that learn V1-like (ICA) receptive fields.

A network that learns independent components of natural-image patches ends up with
localised, oriented, band-pass filters like the simple cells of primary visual cortex
(Olshausen & Field 1996, 1997; Bell & Sejnowski 1997). This module prepares the input for
such a circuit: small grayscale patches, whitened so that second-order structure (the
steep power spectrum of natural scenes) no longer dominates what a learning rule sees.

Functions
---------
load_image
    One of the photographs shipped with scikit-image, as grayscale float64 in [0, 1].
of_whiten
    Olshausen-Field whitening of a whole image in the Fourier domain.
sample_patches
    Random square patches from a set of images, each patch's mean (DC) removed.
natural_patches
    The complete pipeline: a :class:`PatchSet` of train and test patches, restricted-ZCA
    whitened with a transform fitted on the training patches only.

Pipeline
--------
1. **Images.** Colour images are converted with ``skimage.color.rgb2gray``; all images
   are float64 in [0, 1].

2. **Olshausen-Field whitening** (per image). With ``I`` the image, its mean is
   subtracted and its Fourier transform multiplied by

   .. math:: R(f) = f \\, \\exp\\left(-(f / f_0)^4\\right),

   where ``f = sqrt(fx**2 + fy**2)`` is the radial spatial frequency in **cycles per
   pixel** (Nyquist is 0.5 cycles/pixel) and ``f0 = 0.4`` cycles/pixel, i.e. 0.8 of
   Nyquist. On Olshausen & Field's 512-pixel images this is 205 cycles/picture, their
   ``f0 = 200`` cycles/picture. The filtered image is divided by its own standard
   deviation, so every image enters with zero mean and unit pixel variance (the
   regularisation ``zca_eps`` below is on that scale, and no image dominates by
   contrast). To avoid the wrap-around edge of the discrete Fourier transform (which
   would add a spurious cross of energy along the frequency axes), the image is
   mirror-extended to twice its size before filtering and cropped back afterwards.

   Why: the amplitude spectrum of natural images falls as about ``1/f`` (power as
   ``1/f**2``), so pixel correlations are dominated by the lowest frequencies and a
   correlation-driven learning rule would see little else. The ramp ``f`` flattens the
   spectrum; the factor ``exp(-(f/f0)**4)`` rolls it off before the highest frequencies,
   where noise, aliasing and the square pixel lattice (the spectrum's corners, up to
   ``0.5 * sqrt(2)`` cycles/pixel on the diagonals) dominate.

3. **Patches.** ``p x p`` patches (``d = p**2`` pixels, flattened row by row) are cut at
   positions uniform over each image, with an equal share of patches per image (so large
   images do not outweigh small ones), and shuffled. Each patch's mean is subtracted
   (DC removal): ``x <- x - mean(x)``.

4. **Restricted ZCA** (fitted on the training patches). With ``X`` the ``(N, d)`` matrix
   of training patches, ``C = X.T @ X / N`` (the patches are zero-mean on average, so
   this is their covariance up to sampling error, and the transform stays linear with
   no offset). With ``C = E diag(lambda) E.T``, ``lambda_1 >= ... >= lambda_d``, keep the
   ``k = n_components`` leading eigenvectors ``E_k`` and set

   .. math::

       W = s \\, E_k \\, \\mathrm{diag}\\left((\\lambda_k + \\epsilon)^{-1/2}\\right) E_k^T,
       \\qquad
       s^2 = d \\Big/ \\sum_{i \\le k} \\frac{\\lambda_i}{\\lambda_i + \\epsilon},

   with ``epsilon = zca_eps``. A patch ``x`` (a row) is whitened as ``y = x @ W.T``
   (``W`` is symmetric, so also ``x @ W``). The whitened covariance is
   ``s**2 E_k diag(lambda_k / (lambda_k + eps)) E_k.T``: close to ``s**2`` times the
   identity on the kept subspace, exactly zero on the discarded one, and with mean pixel
   variance ``trace / d = 1`` on the training set. The test patches go through the same
   ``W``.

   Why: after OF filtering the 8x8 patch covariance is still ill-conditioned. Its
   eigenvalues span about 5 (lambda_1) down to 1e-4 (lambda_63; lambda_64 = 0 is the DC
   direction), the smallest belonging to the high-frequency corners that the roll-off
   removed. Whitening them fully would amplify what is left there (mostly aliasing and
   rounding) about 200 times more than the strongest direction; in the feasibility
   study this made FastICA unstable. Keeping the top 48 of 64 components (99.6% of the
   variance, ``lambda_48 ~ 0.05``) and regularising with ``eps = 0.01`` fixed it; the
   kept whitened variances then lie within a factor 1.2 of each other. ZCA (rather than PCA)
   whitening rotates back to pixel coordinates, so filters learned on whitened patches
   stay local and can be shown as images (:meth:`PatchSet.to_pixels`).

   The number of kept components should grow with the patch: about 75% of ``d``
   (48 of 64 for 8x8, ~108 of 144 for 12x12, ~192 of 256 for 16x16).

Images and the train/test split
-------------------------------
Training: camera, astronaut, coffee, rocket, grass, gravel. Test: chelsea, brick, moon.
The two sets are disjoint so that generalisation (for instance the likelihood or
sparseness of test patches under the learned filters) is measured on scenes the circuit
never saw. Each set mixes man-made structure (buildings, the rocket, the brick wall,
whose edges are mostly horizontal and vertical) with natural textures (grass, gravel,
fur, the lunar surface, whose edges take every orientation), so both cover all
orientations.

The test scenes are not statistically identical to the training ones. Under the
transform fitted on the training patches, 8x8 test patches have a mean pixel variance of
about 0.85 (not 1) and a covariance on the kept axes with eigenvalues from about 0.3 to
3.5 (the training set: 1.2 to 1.4; the same test patches before the ZCA: a spread of
~400). Brick keeps most of its contrast at scales above 8 pixels, and moon has fine
grain at high frequencies. Compare test statistics with train statistics in that light.

References
----------
Olshausen, B. A. & Field, D. J. (1996). Emergence of simple-cell receptive field
properties by learning a sparse code for natural images. Nature 381:607-609.

Olshausen, B. A. & Field, D. J. (1997). Sparse coding with an overcomplete basis set:
a strategy employed by V1? Vision Research 37:3311-3325.

Bell, A. J. & Sejnowski, T. J. (1997). The "independent components" of natural scenes
are edge filters. Vision Research 37:3327-3338.

Hyvarinen, A., Hurri, J. & Hoyer, P. O. (2009). Natural Image Statistics: A
Probabilistic Approach to Early Computational Vision. Springer.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spikingml.errors import ValidationError

__all__ = [
    "TRAIN_IMAGES",
    "TEST_IMAGES",
    "PatchSet",
    "load_image",
    "of_whiten",
    "sample_patches",
    "natural_patches",
]

TRAIN_IMAGES: tuple[str, ...] = ("camera", "astronaut", "coffee", "rocket", "grass", "gravel")
TEST_IMAGES: tuple[str, ...] = ("chelsea", "brick", "moon")
_IMAGES: tuple[str, ...] = TRAIN_IMAGES + TEST_IMAGES

PATCH_SIZE_MIN, PATCH_SIZE_MAX = 4, 32


# --------------------------------------------------------------------------- validation


def _check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> int:
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok and value >= minimum and (maximum is None or value <= maximum):
        return int(value)
    bounds = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    raise ValidationError(name, f"an integer {bounds}", value)


def _check_positive_float(name: str, value: object, allow_zero: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and np.isfinite(value) and (value > 0 or (allow_zero and value == 0)):
        return float(value)
    raise ValidationError(name, "a finite number " + (">= 0" if allow_zero else "> 0"), value)


def _check_names(name: str, value: object) -> tuple[str, ...]:
    expected = f"a non-empty sequence of distinct image names from {list(_IMAGES)}"
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) == 0:
        raise ValidationError(name, expected, value)
    names = tuple(value)
    unknown = [n for n in names if n not in _IMAGES]
    if unknown or len(set(names)) != len(names):
        raise ValidationError(name, expected, value)
    return names


def _check_image(name: str, image: object, min_size: int = 2) -> np.ndarray:
    arr = np.asarray(image)
    if (
        arr.ndim != 2
        or min(arr.shape) < min_size
        or not np.issubdtype(arr.dtype, np.number)
        or np.iscomplexobj(arr)
        or not np.all(np.isfinite(arr))
    ):
        shape = getattr(arr, "shape", None)
        raise ValidationError(
            name,
            f"a 2-D array of finite real numbers, at least {min_size} pixels on each side",
            f"array of shape {shape} and dtype {arr.dtype}",
        )
    return arr.astype(np.float64, copy=False)


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


# --------------------------------------------------------------------------- images


@functools.cache
def _load_cached(name: str) -> np.ndarray:
    import skimage.color
    import skimage.data
    import skimage.util

    raw = getattr(skimage.data, name)()
    if raw.ndim == 3:
        gray = skimage.color.rgb2gray(raw[..., :3])
    else:
        gray = skimage.util.img_as_float(raw)
    return _read_only(np.asarray(gray, dtype=np.float64))


def load_image(name: str) -> np.ndarray:
    """Load one of the natural images shipped with scikit-image, in grayscale.

    Parameters
    ----------
    name : str
        One of :data:`TRAIN_IMAGES` or :data:`TEST_IMAGES`.

    Returns
    -------
    ndarray of float64, shape (height, width)
        Luminance in [0, 1] (colour images through ``skimage.color.rgb2gray``). A fresh,
        writeable copy.

    Raises
    ------
    ValidationError
        If ``name`` is not one of the allowed images (the message lists them).
    """
    if not isinstance(name, str) or name not in _IMAGES:
        raise ValidationError("name", f"one of {list(_IMAGES)}", name)
    return _load_cached(name).copy()


def _radial_frequency(shape: tuple[int, int]) -> np.ndarray:
    """Radial frequency in cycles/pixel of every coefficient of an ``np.fft.fft2``."""
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    return np.sqrt(fx**2 + fy**2)


def of_whiten(image: np.ndarray, f0: float = 0.4) -> np.ndarray:
    """Whiten an image with the Olshausen-Field filter ``R(f) = f exp(-(f/f0)**4)``.

    Parameters
    ----------
    image : ndarray, shape (height, width)
        Grayscale image (any real values; at least 2 pixels on each side).
    f0 : float, default 0.4
        Roll-off frequency in cycles per pixel (Nyquist is 0.5).

    Returns
    -------
    ndarray of float64, same shape as ``image``
        The filtered image, with zero mean and unit standard deviation.

    Raises
    ------
    ValidationError
        If ``image`` is not a finite 2-D real array, is constant, or ``f0`` is not a
        positive number.

    Notes
    -----
    The mean is subtracted, the image is mirror-extended to twice its height and width
    (so that its periodic continuation has no edges), multiplied by ``R(f)`` in the
    Fourier domain with ``f`` the radial frequency in cycles/pixel, transformed back,
    cropped to the original size, and divided by its standard deviation. See the module
    docstring for why.
    """
    img = _check_image("image", image)
    f0 = _check_positive_float("f0", f0)
    h, w = img.shape
    centred = img - img.mean()
    mirrored = np.pad(centred, ((0, h), (0, w)), mode="symmetric")
    f = _radial_frequency(mirrored.shape)
    spectrum = np.fft.rfft2(mirrored)
    f = f[:, : spectrum.shape[1]]  # rfft2 keeps the non-negative fx only
    spectrum *= f * np.exp(-((f / f0) ** 4))
    out = np.fft.irfft2(spectrum, s=mirrored.shape)[:h, :w]
    out -= out.mean()
    std = out.std()
    if not std > 1e-12 * max(1.0, float(np.abs(img).max())):
        raise ValidationError("image", "a non-constant image", "an image with no contrast")
    return out / std


@functools.lru_cache(maxsize=64)
def _whitened_cached(name: str, f0: float) -> np.ndarray:
    return _read_only(of_whiten(_load_cached(name), f0))


# --------------------------------------------------------------------------- patches


def sample_patches(
    images: Sequence[np.ndarray], n: int, patch_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Cut random square patches out of a set of images and remove each patch's mean.

    Parameters
    ----------
    images : sequence of ndarray, each shape (height, width)
        Source images, each at least ``patch_size`` pixels on each side.
    n : int
        Number of patches (>= 1).
    patch_size : int
        Side ``p`` of the square patches, 4 to 32 pixels.
    rng : numpy.random.Generator
        Source of randomness (patch positions and order).

    Returns
    -------
    ndarray of float64, shape (n, patch_size**2)
        One flattened (row-major) patch per row, each with zero mean over its pixels.

    Notes
    -----
    Every image contributes an equal share of the patches (``n // len(images)``, the
    first ``n % len(images)`` images one more), so that an image's size does not set
    its weight. Within an image, the top-left corner is uniform over all positions where
    the patch fits. The rows are shuffled so that consecutive patches come from random
    images, as an online learning rule needs.
    """
    if isinstance(images, np.ndarray) or not isinstance(images, Sequence) or not images:
        raise ValidationError("images", "a non-empty sequence of 2-D arrays", type(images))
    n = _check_int("n", n, 1)
    p = _check_int("patch_size", patch_size, PATCH_SIZE_MIN, PATCH_SIZE_MAX)
    if not isinstance(rng, np.random.Generator):
        raise ValidationError("rng", "a numpy.random.Generator", rng)
    checked = [_check_image(f"images[{i}]", im, min_size=p) for i, im in enumerate(images)]

    counts = np.full(len(checked), n // len(checked))
    counts[: n % len(checked)] += 1
    blocks = []
    for img, count in zip(checked, counts, strict=True):
        if count == 0:
            continue
        windows = np.lib.stride_tricks.sliding_window_view(img, (p, p))
        rows = rng.integers(0, windows.shape[0], size=count)
        cols = rng.integers(0, windows.shape[1], size=count)
        blocks.append(windows[rows, cols].reshape(count, p * p))
    patches = np.concatenate(blocks)[rng.permutation(n)]
    patches -= patches.mean(axis=1, keepdims=True)
    return patches


# --------------------------------------------------------------------------- patch set


@dataclass(frozen=True, eq=False)
class PatchSet:
    """Whitened natural-image patches, with the transform that produced them.

    All arrays are float64 and read-only (they may be shared through a cache).

    Attributes
    ----------
    train : ndarray, shape (n_train, d)
        Training patches, ``d = patch_size**2``, after OF whitening, DC removal and the
        restricted ZCA ``zca`` (fitted on these patches). Mean pixel variance is 1.
    test : ndarray, shape (n_test, d)
        Test patches from the test images, through the same ``zca``.
    zca : ndarray, shape (d, d)
        The restricted-ZCA matrix ``W``: a DC-removed OF-whitened patch ``x`` (a row)
        becomes ``x @ zca.T`` (no offset is subtracted). Symmetric, rank
        ``n_components``.
    components : ndarray, shape (n_components, d)
        The principal axes kept, one per row, orthonormal, by decreasing variance.
    variances : ndarray, shape (n_components,)
        Their eigenvalues ``lambda`` (variance of the training patches along each axis)
        before whitening.
    patch_size : int
        Side of the square patches.
    f0 : float
        Roll-off frequency of the OF filter, cycles/pixel.
    n_components : int
        Number of principal components kept (``d`` when full ZCA was asked for).
    train_images, test_images : tuple of str
        Names of the source images.
    """

    train: np.ndarray
    test: np.ndarray
    zca: np.ndarray
    components: np.ndarray
    variances: np.ndarray
    patch_size: int
    f0: float
    n_components: int
    train_images: tuple[str, ...]
    test_images: tuple[str, ...]

    def to_pixels(self, filters: np.ndarray) -> np.ndarray:
        """Express filters on whitened patches as receptive fields on pixel patches.

        A filter ``w`` applied to a whitened patch ``y = x @ zca.T`` gives
        ``y @ w = x @ (w @ zca)``, so its receptive field on the OF-whitened, DC-removed
        pixel patch ``x`` is ``w @ zca``: this is what a learned ICA filter looks like
        in the image.

        Parameters
        ----------
        filters : ndarray, shape (k, d)
            One filter per row, ``d = patch_size**2``.

        Returns
        -------
        ndarray of float64, shape (k, patch_size, patch_size)
            ``filters @ zca``, each row reshaped to a square (row-major).
        """
        d = self.patch_size**2
        arr = np.asarray(filters)
        if (
            arr.ndim != 2
            or arr.shape[1] != d
            or not np.issubdtype(arr.dtype, np.number)
            or np.iscomplexobj(arr)
        ):
            raise ValidationError(
                "filters",
                f"a real 2-D array of shape (k, {d})",
                f"array of shape {arr.shape} and dtype {arr.dtype}",
            )
        fields = arr.astype(np.float64, copy=False) @ self.zca
        return fields.reshape(arr.shape[0], self.patch_size, self.patch_size)


def _restricted_zca(
    patches: np.ndarray, n_components: int, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(zca, components, variances) fitted on ``patches``; see the module docstring."""
    n, d = patches.shape
    second_moment = patches.T @ patches / n
    lam, vecs = np.linalg.eigh(second_moment)
    lam, vecs = lam[::-1], vecs[:, ::-1]  # decreasing variance
    lam = np.clip(lam, 0.0, None)  # rounding can make the DC direction slightly negative
    # a fixed sign (largest entry positive) so that components do not flip between runs
    flip = np.sign(vecs[np.argmax(np.abs(vecs), axis=0), np.arange(d)])
    vecs = vecs * flip
    lam_k, e_k = lam[:n_components], vecs[:, :n_components]
    if eps == 0 and lam_k[-1] <= 1e-10 * lam_k[0]:
        raise ValidationError(
            "n_components",
            f"at most {int(np.sum(lam > 1e-10 * lam[0]))} when zca_eps is 0 (DC removal "
            "leaves directions with no variance); or use zca_eps > 0",
            n_components,
        )
    scale = np.sqrt(d / np.sum(lam_k / (lam_k + eps)))
    zca = scale * (e_k / np.sqrt(lam_k + eps)) @ e_k.T
    zca = 0.5 * (zca + zca.T)  # exactly symmetric
    return zca, np.ascontiguousarray(e_k.T), lam_k.copy()


@functools.lru_cache(maxsize=4)
def _natural_patches_cached(
    patch_size: int,
    n_train: int,
    n_test: int,
    f0: float,
    n_components: int,
    zca_eps: float,
    train_images: tuple[str, ...],
    test_images: tuple[str, ...],
    seed: int,
) -> PatchSet:
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    train_raw = sample_patches(
        [_whitened_cached(name, f0) for name in train_images], n_train, patch_size, train_rng
    )
    test_raw = sample_patches(
        [_whitened_cached(name, f0) for name in test_images], n_test, patch_size, test_rng
    )
    zca, components, variances = _restricted_zca(train_raw, n_components, zca_eps)
    return PatchSet(
        train=_read_only(train_raw @ zca.T),
        test=_read_only(test_raw @ zca.T),
        zca=_read_only(zca),
        components=_read_only(components),
        variances=_read_only(variances),
        patch_size=patch_size,
        f0=f0,
        n_components=n_components,
        train_images=train_images,
        test_images=test_images,
    )


def natural_patches(
    patch_size: int = 8,
    n_train: int = 200_000,
    n_test: int = 20_000,
    f0: float = 0.4,
    n_components: int | None = 48,
    zca_eps: float = 0.01,
    train_images: Sequence[str] = TRAIN_IMAGES,
    test_images: Sequence[str] = TEST_IMAGES,
    seed: int = 0,
) -> PatchSet:
    """Whitened natural-image patches for training and testing an ICA-like circuit.

    Parameters
    ----------
    patch_size : int, default 8
        Side ``p`` of the square patches, 4 to 32; ``d = p**2``.
    n_train : int, default 200_000
        Number of training patches, at least ``d`` (to estimate the covariance).
    n_test : int, default 20_000
        Number of test patches (>= 1).
    f0 : float, default 0.4
        Roll-off of the Olshausen-Field filter, in cycles/pixel (Nyquist is 0.5).
    n_components : int or None, default 48
        Principal components kept by the restricted ZCA, 1 to ``d``; ``None`` means all
        ``d`` (full ZCA). 48 suits 8x8 patches; scale it to about 75% of ``d`` for
        other sizes (~108 for 12x12, ~192 for 16x16).
    zca_eps : float, default 0.01
        Regularisation ``eps`` added to every eigenvalue (>= 0), on the scale of
        unit-variance images.
    train_images, test_images : sequence of str
        Names of the source images (see :func:`load_image`); the two sets must be
        disjoint.
    seed : int, default 0
        Seed (>= 0) of the patch positions. Train and test patches use independent
        streams derived from it.

    Returns
    -------
    PatchSet
        Read-only arrays; ``n_components`` holds the number actually kept.

    Raises
    ------
    ValidationError
        For any argument out of range, unknown or repeated image names, or images shared
        by the train and test sets.

    Notes
    -----
    The result depends only on the arguments. It is cached in process (the last few
    distinct calls), so a second call with the same arguments returns the same object
    at no cost; its arrays are read-only so that no caller can alter the cached copy.

    Examples
    --------
    >>> patches = natural_patches(n_train=20_000, n_test=2_000)
    >>> patches.train.shape, patches.test.shape, patches.zca.shape
    ((20000, 64), (2000, 64), (64, 64))
    """
    p = _check_int("patch_size", patch_size, PATCH_SIZE_MIN, PATCH_SIZE_MAX)
    d = p * p
    if n_components is None:
        k = d
    else:
        k = _check_int("n_components", n_components, 1, d)
    n_train = _check_int("n_train", n_train, d)
    n_test = _check_int("n_test", n_test, 1)
    f0 = _check_positive_float("f0", f0)
    zca_eps = _check_positive_float("zca_eps", zca_eps, allow_zero=True)
    train = _check_names("train_images", train_images)
    test = _check_names("test_images", test_images)
    shared = sorted(set(train) & set(test))
    if shared:
        raise ValidationError(
            "test_images", f"no image also in train_images (shared: {shared})", test_images
        )
    seed = _check_int("seed", seed, 0)
    return _natural_patches_cached(p, n_train, n_test, f0, k, zca_eps, train, test, seed)
