"""Natural-image patches: OF whitening, restricted ZCA, train/test split, contract.

Tolerances were set from measurements at seeds 0-2 (numbers in the comments); each bound
sits between the measured value and the value a broken pipeline would give.
"""

import numpy as np
import pytest

from spikingml import ValidationError
from spikingml.stimuli import natural_images as ni

# small sets keep the file fast; the statistics below are stable at this size
N_TRAIN, N_TEST = 20_000, 5_000


@pytest.fixture(scope="module")
def patches():
    return ni.natural_patches(n_train=N_TRAIN, n_test=N_TEST, seed=0)


def _radial_amplitude(image, n_bins=50):
    """(bin centres in cycles/pixel, radially averaged amplitude spectrum)."""
    h, w = image.shape
    window = np.outer(np.hanning(h), np.hanning(w))  # no edge leakage into the slope
    amplitude = np.abs(np.fft.fft2((image - image.mean()) * window)).ravel()
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    f = np.sqrt(fx**2 + fy**2).ravel()
    edges = np.linspace(0.0, 0.5, n_bins + 1)
    idx = np.digitize(f, edges) - 1
    ok = (idx >= 0) & (idx < n_bins)
    mean = np.bincount(idx[ok], amplitude[ok], n_bins) / np.bincount(idx[ok], None, n_bins)
    return 0.5 * (edges[1:] + edges[:-1]), mean


def _loglog_slope(f, amplitude, lo, hi):
    band = (f >= lo) & (f <= hi)
    return np.polyfit(np.log(f[band]), np.log(amplitude[band]), 1)[0]


# --------------------------------------------------------------------------- 1. spectrum


def test_of_whitening_flattens_the_spectrum():
    raw_logs, white_logs = [], []
    for name in ni.TRAIN_IMAGES:
        image = ni.load_image(name)
        white = ni.of_whiten(image)
        assert white.shape == image.shape
        assert white.mean() == pytest.approx(0.0, abs=1e-12)
        assert white.std() == pytest.approx(1.0, rel=1e-12)
        f, raw_amp = _radial_amplitude(image)
        _, white_amp = _radial_amplitude(white)
        # the measured gain is R(f) = f exp(-(f/f0)^4), which peaks at f0 / 4**0.25 =
        # 0.283 cycles/pixel: measured in the 0.28-0.29 bin for all six images, so the
        # frequency axis is cycles/pixel as documented (cycles/picture would put it at
        # the lowest bins)
        gain = white_amp / raw_amp
        assert f[np.argmax(gain)] == pytest.approx(0.4 / 4**0.25, abs=0.01)
        raw_logs.append(np.log(raw_amp))
        white_logs.append(np.log(white_amp))
    # ensemble spectra (geometric mean over the six images), band 0.02-0.2 cycles/pixel
    # where the roll-off costs < 6% (exp(-(0.2/0.4)^4) = 0.94)
    raw_amp = np.exp(np.mean(raw_logs, axis=0))
    white_amp = np.exp(np.mean(white_logs, axis=0))
    before = _loglog_slope(f, raw_amp, 0.02, 0.2)
    after = _loglog_slope(f, white_amp, 0.02, 0.2)
    # measured -1.20: natural images fall as ~1/f (photographs often a little steeper)
    assert -1.6 < before < -0.6
    # measured -0.22: flat within a residual tilt that is the images' excess over 1/f
    # (single images range -0.54 to +0.16, hence the ensemble)
    assert abs(after) < 0.35
    # the filter's own log-log slope over the band is 0.98; measured change 0.98
    assert after - before == pytest.approx(0.98, abs=0.05)


def test_of_whiten_f0_moves_the_roll_off():
    image = ni.load_image("camera")
    f, raw_amp = _radial_amplitude(image)
    _, white_amp = _radial_amplitude(ni.of_whiten(image, f0=0.2))
    # peak of f exp(-(f/0.2)^4) at 0.2 / 4**0.25 = 0.141 cycles/pixel (measured 0.145)
    assert f[np.argmax(white_amp / raw_amp)] == pytest.approx(0.2 / 4**0.25, abs=0.01)


# --------------------------------------------------------------------------- 2. restricted ZCA


def test_restricted_zca_whitens_the_kept_subspace(patches):
    d = patches.patch_size**2
    assert patches.n_components == 48
    assert patches.components.shape == (48, d)
    np.testing.assert_allclose(patches.components @ patches.components.T, np.eye(48), atol=1e-10)
    assert np.all(np.diff(patches.variances) <= 0)
    # before: lambda_1 / lambda_48 = 92 (4.87 / 0.053), measured
    assert patches.variances[0] / patches.variances[-1] > 30

    cov = patches.train.T @ patches.train / N_TRAIN
    kept = patches.components @ cov @ patches.components.T
    eig = np.linalg.eigvalsh(kept)
    # exactly s^2 lambda / (lambda + eps) along each kept axis (module docstring)
    lam, eps = patches.variances, 0.01
    expected = lam / (lam + eps)
    expected *= d / expected.sum()
    np.testing.assert_allclose(np.sort(eig), np.sort(expected), rtol=1e-8)
    # after: spread 1.18 (max/min), set by eps / lambda_48; full whitening would give 1
    assert eig.max() / eig.min() < 1.3
    assert np.trace(cov) / d == pytest.approx(1.0, rel=1e-10)  # unit mean pixel variance

    # the discarded directions carry nothing (measured 3e-16)
    _, _, vt = np.linalg.svd(patches.components, full_matrices=True)
    discarded = vt[48:]
    assert np.abs(discarded @ cov @ discarded.T).max() < 1e-10
    np.testing.assert_allclose(patches.zca, patches.zca.T, atol=1e-12)
    assert np.linalg.matrix_rank(patches.zca) == 48


def test_test_patches_share_the_train_transform(patches):
    d = patches.patch_size**2
    cov = patches.test.T @ patches.test / N_TEST
    eig = np.linalg.eigvalsh(patches.components @ cov @ patches.components.T)
    # the test scenes differ (module docstring): measured mean pixel variance 0.80-0.90
    # and a max/min spread of 10-13 at seeds 0-2, against ~420 for the same test patches
    # before the ZCA; a transform that missed the test set would leave ~400, and one
    # fitted on the test set would give ~1.2
    assert 0.6 < np.trace(cov) / d < 1.1
    assert eig.max() / eig.min() < 25
    _, _, vt = np.linalg.svd(patches.components, full_matrices=True)
    assert np.abs(vt[48:] @ cov @ vt[48:].T).max() < 1e-10


def test_full_zca_and_larger_patches():
    full = ni.natural_patches(n_train=N_TRAIN, n_test=1_000, n_components=None)
    assert full.n_components == 64 and full.components.shape == (64, 64)
    big = ni.natural_patches(patch_size=12, n_train=N_TRAIN, n_test=1_000, n_components=108)
    assert big.train.shape == (N_TRAIN, 144) and big.zca.shape == (144, 144)
    cov = big.train.T @ big.train / N_TRAIN
    eig = np.linalg.eigvalsh(big.components @ cov @ big.components.T)
    assert eig.max() / eig.min() < 1.5  # measured 1.27 at 75% of d
    # DC removal leaves one zero-variance direction: full ZCA needs eps > 0
    with pytest.raises(ValidationError, match="n_components"):
        ni.natural_patches(n_train=N_TRAIN, n_test=1_000, n_components=None, zca_eps=0.0)


# --------------------------------------------------------------------------- 3. split


def test_train_and_test_images_are_disjoint(patches):
    assert patches.train_images == ni.TRAIN_IMAGES
    assert patches.test_images == ni.TEST_IMAGES
    assert not set(ni.TRAIN_IMAGES) & set(ni.TEST_IMAGES)
    with pytest.raises(ValidationError, match=r"test_images: .*shared: \['camera'\]"):
        ni.natural_patches(n_train=N_TRAIN, test_images=("chelsea", "camera"))


# --------------------------------------------------------------------------- 4. DC


def test_dc_removed(patches):
    images = [ni.of_whiten(ni.load_image(name)) for name in ("camera", "moon")]
    raw = ni.sample_patches(images, 1_001, 8, np.random.default_rng(0))
    assert raw.shape == (1_001, 64)
    np.testing.assert_allclose(raw.mean(axis=1), 0.0, atol=1e-12)
    # the DC direction has zero variance, so the ZCA keeps it at zero (measured 2e-14)
    assert np.abs(patches.train.mean(axis=1)).max() < 1e-10
    assert np.abs(patches.test.mean(axis=1)).max() < 1e-10


def test_equal_share_per_image():
    # two constant-offset images: the DC-free patch tells which image it came from
    rng = np.random.default_rng(1)
    a = np.tile([0.0, 1.0], (40, 20))  # vertical stripes
    b = a.T.copy()  # horizontal stripes
    raw = ni.sample_patches([a, b], 101, 4, rng).reshape(-1, 4, 4)
    from_a = np.sum(np.all(raw[:, 0, :] == raw[:, 1, :], axis=1))
    assert from_a == 51  # n // 2 each, the first image takes the remainder


# --------------------------------------------------------------------------- 5. determinism


def test_determinism():
    kwargs = dict(n_train=5_000, n_test=1_000)
    first = ni.natural_patches(seed=3, **kwargs)
    ni._natural_patches_cached.cache_clear()  # recompute rather than hit the cache
    again = ni.natural_patches(seed=3, **kwargs)
    assert again is not first
    for field in ("train", "test", "zca", "components", "variances"):
        np.testing.assert_array_equal(getattr(again, field), getattr(first, field))
    other = ni.natural_patches(seed=4, **kwargs)
    assert not np.allclose(other.train[:100], first.train[:100])


# --------------------------------------------------------------------------- 6. to_pixels


def test_to_pixels(patches):
    fields = patches.to_pixels(patches.zca[:5])
    assert fields.shape == (5, 8, 8)
    # a filter equal to a zca row maps to that row of zca @ zca
    np.testing.assert_allclose(fields.reshape(5, 64), (patches.zca @ patches.zca)[:5])
    # and the receptive field gives the same response on the pixel patch
    images = [ni.of_whiten(ni.load_image("camera"))]
    x = ni.sample_patches(images, 200, 8, np.random.default_rng(0))
    w = np.random.default_rng(1).standard_normal((3, 64))
    np.testing.assert_allclose(
        (x @ patches.zca.T) @ w.T, x @ patches.to_pixels(w).reshape(3, 64).T, atol=1e-10
    )
    with pytest.raises(ValidationError, match=r"filters: expected a real 2-D array of shape"):
        patches.to_pixels(np.zeros(64))


# --------------------------------------------------------------------------- 7. validation


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(patch_size=3), "patch_size"),
        (dict(patch_size=33), "patch_size"),
        (dict(patch_size=8.0), "patch_size"),
        (dict(n_components=65), "n_components"),
        (dict(n_components=0), "n_components"),
        (dict(n_train=63), "n_train"),
        (dict(n_test=0), "n_test"),
        (dict(f0=0.0), "f0"),
        (dict(zca_eps=-0.1), "zca_eps"),
        (dict(seed=-1), "seed"),
        (dict(train_images="camera"), "train_images"),
        (dict(train_images=("camera", "camera")), "train_images"),
    ],
)
def test_natural_patches_rejects(kwargs, name):
    with pytest.raises(ValidationError, match=rf"^{name}: expected"):
        ni.natural_patches(**kwargs)


def test_unknown_image_names_list_the_allowed_ones():
    with pytest.raises(ValidationError, match=r"name: expected one of \[.*'moon'\], got 'lena'"):
        ni.load_image("lena")
    with pytest.raises(ValidationError, match=r"train_images: .*'camera'.*'lena'"):
        ni.natural_patches(train_images=("camera", "lena"))


def test_other_functions_reject_bad_input():
    with pytest.raises(ValidationError, match="image: expected a non-constant image"):
        ni.of_whiten(np.ones((16, 16)))
    with pytest.raises(ValidationError, match="image: expected a 2-D array"):
        ni.of_whiten(np.zeros((8, 8, 3)))
    with pytest.raises(ValidationError, match="f0"):
        ni.of_whiten(np.eye(8), f0=-1)
    rng = np.random.default_rng(0)
    with pytest.raises(ValidationError, match=r"images\[0\]: .*at least 8 pixels"):
        ni.sample_patches([np.zeros((7, 40))], 10, 8, rng)
    with pytest.raises(ValidationError, match="rng"):
        ni.sample_patches([np.zeros((40, 40))], 10, 8, 0)
    with pytest.raises(ValidationError, match="images"):
        ni.sample_patches([], 10, 8, rng)


# --------------------------------------------------------------------------- 8. cache


def test_cached_arrays_are_read_only():
    patches = ni.natural_patches(n_train=5_000, n_test=1_000, seed=7)
    assert ni.natural_patches(n_train=5_000, n_test=1_000, seed=7) is patches
    for field in ("train", "test", "zca", "components", "variances"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(patches, field)[0] = 0.0
    # load_image hands out a private copy, so the cached image cannot be altered either
    image = ni.load_image("camera")
    image[:] = 0.0
    assert ni.load_image("camera").std() > 0.1
