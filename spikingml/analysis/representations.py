r"""Representations of a layer: RSA, decorrelation, linear probes and t-SNE maps.

Pure NumPy / SciPy / scikit-learn analysis of a response matrix ``responses`` of shape
``(n_stimuli, n_units)`` (one row per stimulus: a spike count, a rate or a twin's
activation per unit), usable on any circuit's :class:`spikingml.Result` once its
responses are read out. Nothing here imports Brian2.

Contents
--------
:func:`rdm`
    Representational dissimilarity matrix of the stimuli.
:func:`rsa`
    Representational similarity analysis: Spearman correlation of two RDMs.
:func:`noise_ceiling`
    Lower and upper bounds on the RSA a model can reach, from several RDMs of the same
    system (split halves, seeds, subjects).
:func:`mean_abs_correlation`
    Mean absolute pairwise Pearson correlation between units (the decorrelation profile).
:func:`participation_ratio`
    Effective dimensionality of the responses.
:func:`probe_accuracy`
    Cross-validated accuracy of a linear support vector machine on the responses.
:func:`tsne_map`
    Two-dimensional t-SNE embedding, its trustworthiness and the kNN accuracy in it.

Representational similarity analysis
------------------------------------
Kriegeskorte, Mur & Bandettini (2008). The RDM of a system holds, for every pair of
stimuli ``i < j``, the dissimilarity of their response patterns ``x_i, x_j`` (rows of
``responses``); with ``metric="correlation"``

.. math:: D_{ij} = 1 - r(x_i, x_j),

the Pearson correlation across units (0 for identical patterns, 2 for opposite ones);
with ``metric="euclidean"`` :math:`D_{ij} = \lVert x_i - x_j \rVert`. Two systems
(a spiking layer and its twin, a layer and another layer) are compared by the Spearman
rank correlation of the upper triangles of their RDMs (Kriegeskorte et al. 2008;
Nili et al. 2014): only the order of the dissimilarities matters, so any strictly
increasing transform of an RDM leaves the RSA at 1.

Noise ceiling
-------------
Given ``S`` RDMs of the same system (split halves of the stimuli' repetitions, seeds,
subjects), Nili et al. (2014) bound the RSA that the true model could reach. Each RDM
is rank-transformed first (for Spearman RSA, the best estimate of the common RDM is the
mean of the rank-transformed RDMs); with :math:`\bar R` the mean of all ``S`` ranked
RDMs and :math:`\bar R_{-s}` the mean of all but RDM ``s``,

.. math:: \text{upper} = \frac1S \sum_s \rho_S(R_s, \bar R), \qquad
          \text{lower} = \frac1S \sum_s \rho_S(R_s, \bar R_{-s}),

with :math:`\rho_S` the Spearman correlation. The upper bound overestimates (each RDM
is part of the mean it is compared with), the leave-one-out lower bound underestimates.

Decorrelation and dimensionality
--------------------------------
:func:`mean_abs_correlation` is the mean of :math:`|r_{kl}|` over pairs of units
``k < l``, with :math:`r_{kl}` the Pearson correlation of units ``k`` and ``l`` across
stimuli. A unit whose response does not vary (silent, or constant) has no correlation:
it is left out, and the result says how many were. For independent units measured on
``n`` stimuli, :math:`|r|` is not 0 but about :math:`\sqrt{2 / (\pi (n - 1))}` by chance
(the mean of a half-normal of standard deviation :math:`1/\sqrt{n-1}`).

:func:`participation_ratio` (Gao et al. 2017; Litwin-Kumar et al. 2017) of the
eigenvalues :math:`\lambda_i` of the units' covariance matrix across stimuli,

.. math:: PR = \frac{(\sum_i \lambda_i)^2}{\sum_i \lambda_i^2},

is 1 when the responses lie on a line and ``n_units`` when they are isotropic (all
variances equal and uncorrelated); a finite sample of ``n`` stimuli of ``p`` isotropic
units gives about :math:`p / (1 + p / n)` (the spread of the Marchenko-Pastur law).

Linear probes and t-SNE maps
----------------------------
:func:`probe_accuracy` is the accuracy of scikit-learn's ``LinearSVC`` (squared hinge
loss, ``C = 1``) on standardised responses (the scaler is fitted on each training fold
only), over ``cv`` stratified, shuffled folds seeded by ``seed`` (Alain & Bengio 2016
call this a linear classifier probe); the mean and the standard deviation over folds are
reported. On scikit-learn's 8 x 8 digits the raw pixels (divided by 16) already give
0.955, 0.954 and 0.962 (``cv = 5``, seeds 0-2): compare layers with that, not with chance.
There t-SNE of the pixels (seed 0) has trustworthiness 0.993 and 10-NN accuracy 0.987.

:func:`tsne_map` embeds the responses in two dimensions with scikit-learn's ``TSNE``
(van der Maaten & Hinton 2008; PCA initialisation, automatic learning rate, seeded).
t-SNE has no transform for new samples, so the samples embedded are the samples scored.
Two scores: the trustworthiness (Venna & Kaski 2001) with ``k = 10`` neighbours,

.. math:: T(k) = 1 - \frac{2}{n k (2n - 3k - 1)} \sum_i \sum_{j \in U_k(i)}
          \big(r(i, j) - k\big),

where :math:`U_k(i)` are the samples among the ``k`` nearest neighbours of ``i`` in the
embedding but not in the responses and :math:`r(i, j)` is the rank of ``j`` among the
neighbours of ``i`` in the responses (1: every neighbourhood of the map is a true one;
scikit-learn's ``manifold.trustworthiness``); and the accuracy of a ``k``-nearest-
neighbour classifier (``k = 10`` by default, Euclidean) in the embedding, over ``cv``
stratified folds (the labels are not used by t-SNE, only by this score).

References
----------
Kriegeskorte N, Mur M, Bandettini P (2008) Representational similarity analysis:
connecting the branches of systems neuroscience. Front Syst Neurosci 2:4.
Nili H et al. (2014) A toolbox for representational similarity analysis. PLoS Comput
Biol 10:e1003553.
Gao P et al. (2017) A theory of multineuronal dimensionality, dynamics and measurement.
bioRxiv 214262.
Litwin-Kumar A et al. (2017) Optimal degrees of synaptic connectivity. Neuron 93:1153.
Alain G, Bengio Y (2016) Understanding intermediate layers using linear classifier
probes. arXiv:1610.01644.
van der Maaten L, Hinton G (2008) Visualizing data using t-SNE. JMLR 9:2579.
Venna J, Kaski S (2001) Neighborhood preservation in nonlinear projection methods: an
experimental study. ICANN 2001, LNCS 2130:485.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy.spatial.distance import pdist, squareform
from scipy.stats import rankdata, spearmanr

from spikingml.errors import ValidationError

__all__ = [
    "RDM_METRICS",
    "NoiseCeiling",
    "MeanAbsCorrelation",
    "ProbeAccuracy",
    "TsneMap",
    "rdm",
    "rsa",
    "noise_ceiling",
    "mean_abs_correlation",
    "participation_ratio",
    "probe_accuracy",
    "tsne_map",
]

#: Dissimilarities :func:`rdm` computes.
RDM_METRICS = ("correlation", "euclidean")


class NoiseCeiling(NamedTuple):
    """Bounds on the RSA a model of a system can reach (:func:`noise_ceiling`)."""

    lower: float
    upper: float


class MeanAbsCorrelation(NamedTuple):
    """Mean absolute pairwise correlation of the units (:func:`mean_abs_correlation`)."""

    value: float
    #: units left out because their response did not vary across stimuli
    n_dropped: int
    #: units whose pairs entered the mean
    n_used: int


class ProbeAccuracy(NamedTuple):
    """Cross-validated accuracy of a linear probe (:func:`probe_accuracy`)."""

    mean: float
    std: float
    #: accuracy on every held-out fold
    folds: np.ndarray


class TsneMap(NamedTuple):
    """A t-SNE embedding and its scores (:func:`tsne_map`)."""

    embedding: np.ndarray
    trustworthiness: float
    knn_accuracy: float
    knn_accuracy_std: float
    #: neighbours of the kNN classifier
    knn_k: int


def _responses(responses: object, name: str = "responses", min_rows: int = 2) -> np.ndarray:
    """A finite 2-D float array with at least ``min_rows`` rows and one column."""
    try:
        x = np.asarray(responses, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(
            name, "a numeric (n_stimuli, n_units) array", type(responses).__name__
        ) from None
    if x.ndim != 2 or x.shape[0] < min_rows or x.shape[1] < 1:
        raise ValidationError(
            name, f"a 2-D (n_stimuli, n_units) array with >= {min_rows} stimuli", x.shape
        )
    if not np.all(np.isfinite(x)):
        raise ValidationError(name, "finite values (no NaN or inf)", "non-finite values")
    return x


def _labels(labels: object, n: int, min_per_class: int, name: str = "labels") -> np.ndarray:
    """A 1-D label array of length ``n`` with >= 2 classes of >= ``min_per_class`` samples."""
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != n:
        raise ValidationError(name, f"a 1-D array of {n} labels (one per stimulus)", y.shape)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValidationError(name, "at least 2 classes", f"{len(classes)} class")
    if counts.min() < min_per_class:
        raise ValidationError(
            name,
            f">= {min_per_class} samples in every class (one per fold)",
            f"{counts.min()} in class {classes[np.argmin(counts)].item()!r}",
        )
    return y


def _int_at_least(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValidationError(name, f"an integer >= {low}", value)
    return int(value)


def rdm(responses: np.ndarray, metric: str = "correlation", square: bool = False) -> np.ndarray:
    """Representational dissimilarity matrix of the stimuli.

    Parameters
    ----------
    responses : array_like, shape (n_stimuli, n_units)
        One response pattern per stimulus (row).
    metric : {"correlation", "euclidean"}
        ``"correlation"``: :math:`D_{ij} = 1 - r(x_i, x_j)`, with ``r`` the Pearson
        correlation of the two patterns across units (in [0, 2]); ``"euclidean"``:
        :math:`D_{ij} = \\lVert x_i - x_j \\rVert`.
    square : bool
        Return the full symmetric matrix instead of the condensed upper triangle.

    Returns
    -------
    ndarray
        Condensed, shape ``(n_stimuli * (n_stimuli - 1) / 2,)``, pairs ``(0, 1), (0, 2),
        ..., (1, 2), ...`` as :func:`scipy.spatial.distance.pdist`; or square, shape
        ``(n_stimuli, n_stimuli)`` with a zero diagonal.

    Raises
    ------
    ValidationError
        Bad ``responses`` or ``metric``; with ``"correlation"``, a pattern that is
        constant across units (its correlation is undefined), or fewer than 2 units.
    """
    if metric not in RDM_METRICS:
        raise ValidationError("metric", f"one of {RDM_METRICS}", metric)
    x = _responses(responses)
    if metric == "correlation":
        if x.shape[1] < 2:
            raise ValidationError(
                "responses", "at least 2 units for metric='correlation'", x.shape
            )
        flat = np.flatnonzero(np.ptp(x, axis=1) == 0)
        if len(flat):
            raise ValidationError(
                "responses",
                "stimulus patterns that vary across units for metric='correlation' "
                "(use 'euclidean' for silent or constant patterns)",
                f"{len(flat)} constant rows, first {int(flat[0])}",
            )
    d = pdist(x, metric=metric)
    if metric == "correlation":
        d = np.clip(d, 0.0, 2.0)  # rounding can give -1e-16 for identical patterns
    return squareform(d) if square else d


def _condensed(d: object, name: str) -> np.ndarray:
    """The upper triangle of an RDM given condensed or square."""
    a = np.asarray(d, dtype=float)
    if a.ndim == 2:
        if a.shape[0] != a.shape[1] or a.shape[0] < 3:
            raise ValidationError(
                name, "a square RDM of >= 3 stimuli, or a condensed one", a.shape
            )
        if not np.allclose(a, a.T) or np.any(np.diag(a) != 0):
            raise ValidationError(name, "a symmetric RDM with a zero diagonal", "another matrix")
        a = squareform(a, checks=False)
    elif a.ndim != 1 or a.size < 3:
        raise ValidationError(name, "an RDM of >= 3 stimuli (>= 3 pairs)", a.shape)
    else:
        n = (1 + np.sqrt(1 + 8 * a.size)) / 2
        if n != int(n):
            raise ValidationError(
                name, "a condensed RDM of n * (n - 1) / 2 entries for some n", a.size
            )
    if not np.all(np.isfinite(a)):
        raise ValidationError(name, "finite dissimilarities", "non-finite values")
    if np.ptp(a) == 0:
        raise ValidationError(name, "dissimilarities that are not all equal", "a constant RDM")
    return a


def rsa(rdm_a: np.ndarray, rdm_b: np.ndarray) -> float:
    """Representational similarity of two systems: Spearman correlation of their RDMs.

    Parameters
    ----------
    rdm_a, rdm_b : array_like
        RDMs of the same stimuli in the same order, condensed or square (from
        :func:`rdm`).

    Returns
    -------
    float
        :math:`\\rho_S` of the two upper triangles, in [-1, 1] (ties get average ranks).

    Raises
    ------
    ValidationError
        An RDM that is not symmetric with a zero diagonal, has fewer than 3 stimuli, is
        constant, or differs in size from the other.
    """
    a = _condensed(rdm_a, "rdm_a")
    b = _condensed(rdm_b, "rdm_b")
    if a.size != b.size:
        raise ValidationError("rdm_b", f"an RDM of the same {a.size} pairs as rdm_a", b.size)
    return float(spearmanr(a, b).statistic)


def noise_ceiling(rdms: Sequence[np.ndarray]) -> NoiseCeiling:
    """Noise ceiling of RSA from several RDMs of the same system (Nili et al. 2014).

    Parameters
    ----------
    rdms : sequence of array_like
        ``S >= 2`` RDMs of the same stimuli, condensed or square: split halves of the
        data, seeds or subjects of one system.

    Returns
    -------
    NoiseCeiling
        ``upper`` = mean Spearman correlation of each rank-transformed RDM with the mean
        of all of them; ``lower`` = the same with the mean of all the others (leave one
        out). A model's :func:`rsa` with the system's RDMs cannot be expected above
        ``upper`` and should reach ``lower`` if it is as good as the data allow.

    Raises
    ------
    ValidationError
        Fewer than 2 RDMs, or RDMs that :func:`rsa` would reject or of different sizes.
    """
    if isinstance(rdms, np.ndarray) and rdms.ndim < 2:
        raise ValidationError("rdms", "a sequence of RDMs (or an (S, n_pairs) stack)", rdms.shape)
    items = list(rdms)  # a 2-D array is a stack of condensed RDMs, a 3-D one of square RDMs
    if len(items) < 2:
        raise ValidationError("rdms", "at least 2 RDMs of the same system", len(items))
    flat = [_condensed(d, f"rdms[{i}]") for i, d in enumerate(items)]
    if len({f.size for f in flat}) != 1:
        raise ValidationError(
            "rdms", "RDMs of the same stimuli (equal sizes)", [f.size for f in flat]
        )
    ranked = np.array([rankdata(f) for f in flat])
    total = ranked.sum(axis=0)
    s = len(ranked)
    upper = np.mean([spearmanr(r, total / s).statistic for r in ranked])
    lower = np.mean([spearmanr(r, (total - r) / (s - 1)).statistic for r in ranked])
    return NoiseCeiling(lower=float(lower), upper=float(upper))


def mean_abs_correlation(responses: np.ndarray) -> MeanAbsCorrelation:
    """Mean absolute Pearson correlation between the units, across stimuli.

    Parameters
    ----------
    responses : array_like, shape (n_stimuli, n_units)
        Responses of the units (columns) to the stimuli (rows), ``n_stimuli >= 3``.

    Returns
    -------
    MeanAbsCorrelation
        ``value``: mean of :math:`|r_{kl}|` over the pairs ``k < l`` of units whose
        response varies; ``n_dropped``: units left out because they are constant (silent
        units included); ``n_used``: units that entered. Chance level for independent
        units is about :math:`\\sqrt{2 / (\\pi (n_{stimuli} - 1))}`.

    Raises
    ------
    ValidationError
        Bad ``responses``, or fewer than 2 units that vary.
    """
    x = _responses(responses, min_rows=3)
    varies = np.ptp(x, axis=0) > 0
    n_used = int(varies.sum())
    if n_used < 2:
        raise ValidationError(
            "responses",
            "at least 2 units whose response varies across stimuli",
            f"{n_used} of {x.shape[1]} units",
        )
    r = np.corrcoef(x[:, varies], rowvar=False)
    iu = np.triu_indices(n_used, k=1)
    value = float(np.mean(np.abs(np.clip(r[iu], -1.0, 1.0))))
    return MeanAbsCorrelation(value=value, n_dropped=x.shape[1] - n_used, n_used=n_used)


def participation_ratio(responses: np.ndarray) -> float:
    """Effective dimensionality of the responses: the participation ratio.

    Parameters
    ----------
    responses : array_like, shape (n_stimuli, n_units)
        Responses of the units (columns) to the stimuli (rows).

    Returns
    -------
    float
        :math:`(\\sum_i \\lambda_i)^2 / \\sum_i \\lambda_i^2` of the eigenvalues of the
        units' covariance matrix (``ddof = 1``), in ``[1, min(n_units, n_stimuli - 1)]``.

    Raises
    ------
    ValidationError
        Bad ``responses``, or responses that do not vary at all.
    """
    x = _responses(responses)
    xc = x - x.mean(axis=0)
    # the nonzero covariance eigenvalues are the squared singular values / (n - 1)
    lam = np.linalg.svd(xc, compute_uv=False) ** 2 / (len(x) - 1)
    if lam.sum() <= 0:
        raise ValidationError("responses", "responses that vary across stimuli", "constant")
    return float(lam.sum() ** 2 / np.sum(lam**2))


def probe_accuracy(
    responses: np.ndarray, labels: np.ndarray, cv: int = 5, seed: int = 0, C: float = 1.0
) -> ProbeAccuracy:
    """Cross-validated accuracy of a linear SVM (a linear probe) on the responses.

    Parameters
    ----------
    responses : array_like, shape (n_stimuli, n_units)
        Features, one row per stimulus.
    labels : array_like, shape (n_stimuli,)
        Class of every stimulus (at least ``cv`` of each class).
    cv : int
        Number of stratified, shuffled folds (>= 2); every stimulus is held out once.
    seed : int
        Seed of the fold assignment (the SVM's own solver is deterministic here).
    C : float
        Regularisation of ``LinearSVC`` (inverse strength), > 0.

    Returns
    -------
    ProbeAccuracy
        ``mean`` and ``std`` (``ddof = 0``) of the accuracy over the ``cv`` held-out folds,
        and the fold accuracies. The pipeline is ``StandardScaler`` then ``LinearSVC``
        (one-vs-rest, squared hinge loss, ``dual="auto"``, up to 10000 iterations), fitted
        on each training fold only.

    Raises
    ------
    ValidationError
        Bad ``responses``, ``labels``, ``cv``, ``seed`` or ``C``.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    x = _responses(responses)
    cv = _int_at_least(cv, "cv", 2)
    seed = _int_at_least(seed, "seed", 0)
    if not (isinstance(C, (int, float)) and np.isfinite(C) and C > 0):
        raise ValidationError("C", "a finite number > 0", C)
    y = _labels(labels, len(x), cv)
    model = make_pipeline(
        StandardScaler(), LinearSVC(C=float(C), dual="auto", max_iter=10_000, random_state=0)
    )
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    scores = cross_val_score(model, x, y, cv=folds)
    return ProbeAccuracy(mean=float(scores.mean()), std=float(scores.std()), folds=scores)


def tsne_map(
    responses: np.ndarray,
    labels: np.ndarray,
    seed: int = 0,
    perplexity: float = 30.0,
    n_neighbors: int = 10,
    knn_k: int = 10,
    cv: int = 5,
) -> TsneMap:
    """Two-dimensional t-SNE map of the responses, with its trustworthiness and kNN accuracy.

    Parameters
    ----------
    responses : array_like, shape (n_stimuli, n_units)
        The samples to embed (all of them are embedded and scored: t-SNE has no
        transform for new samples).
    labels : array_like, shape (n_stimuli,)
        Class of every sample; used only by the kNN score, not by t-SNE.
    seed : int
        Seed of t-SNE and of the kNN folds.
    perplexity : float
        t-SNE's perplexity, > 0 and < ``n_stimuli``.
    n_neighbors : int
        ``k`` of the trustworthiness (10 in issue 22), ``1 <= k < n_stimuli / 2``.
    knn_k : int
        Neighbours of the kNN classifier in the embedding (10 by default).
    cv : int
        Stratified, shuffled folds of the kNN score (>= 2).

    Returns
    -------
    TsneMap
        ``embedding`` (n_stimuli, 2); ``trustworthiness`` (scikit-learn's
        ``manifold.trustworthiness`` of the responses and the embedding, Euclidean);
        ``knn_accuracy`` and ``knn_accuracy_std``: mean and standard deviation over the
        folds of the held-out accuracy of a ``knn_k``-nearest-neighbour classifier in the
        embedding; ``knn_k``.

    Raises
    ------
    ValidationError
        Bad ``responses``, ``labels``, ``seed``, ``perplexity``, ``n_neighbors``,
        ``knn_k`` or ``cv``.
    """
    from sklearn.manifold import TSNE, trustworthiness
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    x = _responses(responses, min_rows=4)
    n = len(x)
    seed = _int_at_least(seed, "seed", 0)
    cv = _int_at_least(cv, "cv", 2)
    n_neighbors = _int_at_least(n_neighbors, "n_neighbors", 1)
    if n_neighbors >= n / 2:
        raise ValidationError("n_neighbors", f"an integer < n_stimuli / 2 = {n / 2}", n_neighbors)
    knn_k = _int_at_least(knn_k, "knn_k", 1)
    y = _labels(labels, n, cv)
    n_train = n - -(-n // cv)  # the smallest training fold
    if knn_k > n_train:
        raise ValidationError("knn_k", f"at most the smallest training fold ({n_train})", knn_k)
    if not (isinstance(perplexity, (int, float)) and 0 < perplexity < n):
        raise ValidationError("perplexity", f"a number in (0, n_stimuli = {n})", perplexity)
    emb = TSNE(
        n_components=2,
        perplexity=float(perplexity),
        init="pca",
        learning_rate="auto",
        random_state=seed,
    ).fit_transform(x)
    trust = float(trustworthiness(x, emb, n_neighbors=n_neighbors))
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    scores = cross_val_score(KNeighborsClassifier(n_neighbors=knn_k), emb, y, cv=folds)
    return TsneMap(
        embedding=emb,
        trustworthiness=trust,
        knn_accuracy=float(scores.mean()),
        knn_accuracy_std=float(scores.std()),
        knn_k=knn_k,
    )
