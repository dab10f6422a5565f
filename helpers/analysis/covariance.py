"""Covariance estimators and the minimum-variance portfolios built on them.

Every estimator follows scikit-learn's covariance API: parameters in `__init__`,
`fit(returns)` returns self, the estimate is `covariance_` (in return units, assets in
the order of the columns). The sample, shrinkage and denoised estimators come from
scikit-learn and skfolio; the factor models the book teaches are written here.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import clarabel
import numpy as np
import pandas as pd
import torch
from scipy import sparse
from scipy.optimize import minimize
from skfolio.moments import BaseCovariance, DenoiseCovariance
from skfolio.moments import EmpiricalCovariance as SkfolioEmpirical
from skfolio.utils.stats import corr_to_cov, cov_to_corr
from skfolio.utils.tools import check_estimator
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.utils.validation import validate_data

from helpers.analysis.factors import implied_covariance, one_hot
from helpers.analysis.metrics import check_covariance
from helpers.models.vae import VAE, VAEConfig
from helpers.train import TrainConfig, fit
from helpers.validate import InputError, check_moving_returns


def minimum_variance_weights(covariance: np.ndarray) -> np.ndarray:
    """Global minimum-variance weights, w proportional to inverse(covariance) times ones,
    summing to one (short positions allowed)."""
    covariance = check_covariance(covariance)
    try:
        raw = np.linalg.solve(covariance, np.ones(len(covariance)))
    except np.linalg.LinAlgError as error:
        raise InputError(f"the covariance of {len(covariance)} assets is singular ({error}); a minimum-variance "
                         "portfolio needs an invertible one: use a shrinkage or factor estimator") from error
    return raw / raw.sum()


def long_only_minimum_variance_weights(covariance: np.ndarray) -> np.ndarray:
    """Minimum-variance weights with no short positions: the quadratic program skfolio's
    MeanRisk solves, handed to the same solver (Clarabel) as its matrices. A walk-forward
    solves it thousands of times, and a modelling layer's work on each solve was most of
    the cost; the constraints do not change, so they are built once per number of
    assets. A test checks it against MeanRisk."""
    covariance = check_covariance(covariance)
    n_assets = len(covariance)
    scaled = covariance * (n_assets / np.trace(covariance))  # the weights do not depend on the scale
    constraints, bounds, cones = _long_only_constraints(n_assets)
    objective = sparse.csc_matrix(np.triu(scaled))  # Clarabel reads the upper triangle of 1/2 w' P w
    solver = clarabel.DefaultSolver(objective, np.zeros(n_assets), constraints, bounds, cones, _QUIET)
    solution = solver.solve()
    if solution.status != clarabel.SolverStatus.Solved:
        raise InputError(f"the long-only minimum-variance problem of {n_assets} assets ended "
                         f"{solution.status}; expected an optimal solution")
    weights = np.clip(np.asarray(solution.x), 0.0, None)
    return weights / weights.sum()


_QUIET = clarabel.DefaultSettings()
_QUIET.verbose = False


@lru_cache(maxsize=8)
def _long_only_constraints(n_assets: int) -> tuple[sparse.csc_matrix, np.ndarray, list]:
    """A w + s = b with s in the cones: the weights sum to one (a zero cone) and each is at
    least zero (-w in the nonnegative cone)."""
    constraints = sparse.vstack([np.ones((1, n_assets)), -sparse.eye(n_assets)], format="csc")
    bounds = np.concatenate([[1.0], np.zeros(n_assets)])
    return constraints, bounds, [clarabel.ZeroConeT(1), clarabel.NonnegativeConeT(n_assets)]


class GivenCovariance(BaseCovariance):
    """A covariance computed elsewhere, handed to skfolio's optimizers as an estimator."""

    def __init__(self, covariance: np.ndarray | None = None) -> None:
        super().__init__(nearest=False)
        self.covariance = covariance

    def fit(self, X, y=None, **fit_params) -> GivenCovariance:
        self._set_covariance(np.asarray(self.covariance, dtype=float))
        self.location_ = np.zeros(len(self.covariance_))
        return self


class MarchenkoPasturDenoise(DenoiseCovariance):
    """skfolio's `DenoiseCovariance` (eigenvalues of the correlation matrix inside the
    Marchenko-Pastur band replaced by their mean), with the band's fit computed in one pass.

    skfolio fits the band by matching the Marchenko-Pastur density to a Gaussian kernel
    density of the eigenvalues (bandwidth 0.01), refitting a `KernelDensity` at every step
    of its optimizer; that was half of the covariance race's non-learned time. Here the same
    density is written out over every point of the band at once, the same optimizer starts
    from the same point, and the rest is skfolio's. A test checks it against skfolio."""

    def fit(self, X, y=None, **fit_params) -> MarchenkoPasturDenoise:
        self.covariance_estimator_ = check_estimator(self.covariance_estimator, default=SkfolioEmpirical(),
                                                     check_type=BaseCovariance)
        self.covariance_estimator_.fit(X, y, **fit_params)
        X = validate_data(self, X)
        ratio = X.shape[0] / X.shape[1]
        correlation, deviations = cov_to_corr(self.covariance_estimator_.covariance_)
        eigenvalues, eigenvectors = np.linalg.eigh(correlation)
        order = eigenvalues.argsort()[::-1]
        eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
        noise = minimize(_band_misfit, x0=0.5, args=(eigenvalues, ratio), bounds=((1e-5, 1 - 1e-5),))["x"][0]
        n_factors = len(eigenvalues) - eigenvalues[::-1].searchsorted(noise * (1 + (1.0 / ratio) ** 0.5) ** 2)
        denoised = eigenvalues.copy()
        denoised[n_factors:] = denoised[n_factors:].sum() / float(len(denoised) - n_factors)
        correlation, _ = cov_to_corr(eigenvectors @ np.diag(denoised) @ eigenvectors.T)
        self._set_covariance(corr_to_cov(correlation, deviations))
        return self


def _band_misfit(x: np.ndarray, eigenvalues: np.ndarray, ratio: float, bandwidth: float = 0.01) -> float:
    """Squared distance between the Marchenko-Pastur density of noise variance x[0] and the
    Gaussian kernel density of `eigenvalues`, over 1,000 points of the band."""
    variance = x[0]
    low, high = variance * (1 - (1.0 / ratio) ** 0.5) ** 2, variance * (1 + (1.0 / ratio) ** 0.5) ** 2
    points = np.linspace(low, high, 1000)
    theory = ratio / (2 * np.pi * variance * points) * ((high - points) * (points - low)) ** 0.5
    scaled = (points[:, None] - eigenvalues[None, :]) / bandwidth  # (points, eigenvalues)
    kernel = np.exp(-0.5 * scaled**2).sum(axis=1) / (len(eigenvalues) * bandwidth * np.sqrt(2 * np.pi))
    return float(np.sum((kernel - theory) ** 2))


class PCAFactorCovariance(BaseEstimator):
    """k principal components of the sample covariance plus each asset's residual variance:
    the linear factor model the VAE has to beat."""

    def __init__(self, n_factors: int = 4) -> None:
        self.n_factors = n_factors

    def fit(self, returns, y=None) -> PCAFactorCovariance:
        validate_data(self, returns, ensure_all_finite=False)
        values = check_moving_returns(returns)
        n_assets = values.shape[1]
        if not isinstance(self.n_factors, int | np.integer) or not 1 <= self.n_factors < n_assets:
            raise InputError(f"n_factors={self.n_factors!r}; expected an integer in [1, {n_assets - 1}], fewer "
                             f"factors than the n_features={n_assets} assets")
        pca = PCA(n_components=self.n_factors, svd_solver="full").fit(values)  # exact: "auto" may pick a randomized SVD
        loadings = pca.components_.T * np.sqrt(pca.explained_variance_)  # (N, k)
        systematic = loadings @ loadings.T
        total = np.var(values, axis=0, ddof=1)
        self.residual_variance_ = np.clip(total - np.diag(systematic), 1e-12, None)
        self.covariance_ = systematic + np.diag(self.residual_variance_)
        return self


class NonlinearShrinkage(BaseEstimator):
    """Analytical nonlinear shrinkage (Ledoit and Wolf, 2020): the sample eigenvectors kept,
    each sample eigenvalue replaced by an estimate of the population variance along its
    eigenvector, from a kernel estimate of the sample spectrum's density and its Hilbert
    transform. Linear shrinkage pulls every eigenvalue towards the mean by one factor; this
    one moves each by what the spectrum around it implies.

    Written here for p < n (more days than assets, as in every window of the book); the
    returns are demeaned, so the effective sample size is n - 1.
    """

    def fit(self, returns, y=None) -> NonlinearShrinkage:
        validate_data(self, returns, ensure_all_finite=False)
        values = check_moving_returns(returns)
        n_days, n_assets = values.shape
        if n_assets >= n_days - 1:
            raise InputError(f"{n_assets} assets over {n_days} days; analytical nonlinear shrinkage is written here "
                             "for more days than assets plus one: use a longer window or fewer assets")
        centered = values - values.mean(axis=0)
        n = n_days - 1
        sample_eigenvalues, eigenvectors = np.linalg.eigh(centered.T @ centered / n)
        self.sample_eigenvalues_ = np.clip(sample_eigenvalues, 1e-18, None)
        self.eigenvalues_ = shrunk_eigenvalues(self.sample_eigenvalues_, n)
        self.covariance_ = (eigenvectors * self.eigenvalues_) @ eigenvectors.T
        return self


def shrunk_eigenvalues(sample: np.ndarray, n: int) -> np.ndarray:
    """The population variances analytical nonlinear shrinkage assigns to the sample
    eigenvalues `sample` (p < n), equation (4.9) of Ledoit and Wolf (2020) with the
    Epanechnikov kernel and a bandwidth proportional to each eigenvalue."""
    ratio = len(sample) / n  # p / n, the concentration
    bandwidth = n ** (-1 / 3) * sample[np.newaxis, :]  # (1, p): h_j = n^(-1/3) lambda_j
    x = (sample[:, np.newaxis] - sample[np.newaxis, :]) / bandwidth  # (p, p)
    root5 = np.sqrt(5.0)
    density = np.mean(3 / (4 * root5) * np.clip(1 - x**2 / 5, 0.0, None) / bandwidth, axis=1)
    with np.errstate(divide="ignore"):
        log_term = np.log(np.abs((root5 - x) / (root5 + x)))
    kernel_hilbert = -3 / (10 * np.pi) * x + 3 / (4 * root5 * np.pi) * (1 - x**2 / 5) * log_term
    kernel_hilbert = np.where(np.isclose(np.abs(x), root5), -3 / (10 * np.pi) * x, kernel_hilbert)
    hilbert = np.mean(kernel_hilbert / bandwidth, axis=1)
    return sample / ((np.pi * ratio * sample * density) ** 2 + (1 - ratio - np.pi * ratio * sample * hilbert) ** 2)


class ScaledIdentity(BaseEstimator):
    """The average variance times the identity: it forecasts no correlation and equal risk,
    so its minimum-variance portfolio, constrained or not, is 1/N."""

    def fit(self, returns, y=None) -> ScaledIdentity:
        validate_data(self, returns, ensure_all_finite=False)
        values = check_moving_returns(returns)
        self.covariance_ = np.eye(values.shape[1]) * float(np.var(values, axis=0, ddof=1).mean())
        return self


class VAECovariance(BaseEstimator):
    """The covariance a (conditional) VAE of the daily cross-section implies.

    `fit` standardizes the window with its own statistics and trains a VAE on it (the last
    `validation_share` of the days stop the training early). The systematic part is the
    covariance of decoded prior draws, de-standardized; with `residual=True` each asset's
    residual variance from the window's reconstruction is added on the diagonal. Without
    it the decoder's nearly low-rank covariance is taken for the whole risk, and a
    minimum-variance optimizer levers into the directions it says are riskless.

    With `labels` (a causal integer label per day, 0..n_labels-1) the VAE is conditional.
    The covariance is then the one implied for the next `horizon` days: the label chain's
    transition matrix is counted over the window, the expected share of each label over
    the horizon is computed from the label of the window's last day, and conditions for the
    prior draws are drawn in those shares. A month-long holding that starts calm can end in
    stress, and stress days dominate its variance; conditioning on today's label alone
    ignores that.
    Like a scikit-learn estimator, each `fit` trains afresh. With `warm_start=True` the
    network is kept across fits and retrained only on every `refit_every`-th (the others
    update only the standardization, residuals and condition), which keeps a monthly
    walk-forward affordable; the network still only ever saw past windows.
    """

    def __init__(
        self,
        latent_size: int = 4,
        hidden_sizes: tuple[int, ...] = (64,),
        beta: float = 1.0,
        residual: bool = True,
        labels: pd.Series | None = None,
        n_labels: int = 0,
        horizon: int = 21,
        warm_start: bool = False,
        refit_every: int = 1,
        validation_share: float = 0.2,
        n_samples: int = 20_000,
        train: TrainConfig | None = None,
        seed: int = 0,
    ) -> None:
        self.latent_size = latent_size
        self.hidden_sizes = hidden_sizes
        self.beta = beta
        self.residual = residual
        self.labels = labels
        self.n_labels = n_labels
        self.horizon = horizon
        self.warm_start = warm_start
        self.refit_every = refit_every
        self.validation_share = validation_share
        self.n_samples = n_samples
        self.train = train
        self.seed = seed

    def fit(self, returns: pd.DataFrame, y=None) -> VAECovariance:
        if not 0 < self.validation_share < 0.5:
            raise InputError(f"validation_share={self.validation_share!r}; expected a share in (0, 0.5)")
        if not isinstance(self.refit_every, int) or self.refit_every < 1:
            raise InputError(f"refit_every={self.refit_every!r}; expected a positive integer")
        if self.refit_every > 1 and not self.warm_start:
            raise InputError(f"refit_every={self.refit_every} keeps the network across fits; set warm_start=True")
        validate_data(self, returns, ensure_all_finite=False)
        values = check_moving_returns(returns)
        center, scale = values.mean(axis=0), values.std(axis=0, ddof=1)
        standardized = ((values - center) / scale).astype(np.float32)
        conditions = self._conditions(returns)
        fits = getattr(self, "n_fits_", 0) if self.warm_start else 0
        if fits % self.refit_every == 0:
            self.model_, self.history_ = self._train(standardized, conditions)
        self.n_fits_ = fits + 1
        model = self.model_
        with torch.no_grad():
            c = None if conditions is None else torch.from_numpy(conditions)
            reconstruction = model(torch.from_numpy(standardized), c).reconstruction.numpy()
        draw_conditions = None
        if conditions is not None:
            self.label_shares_ = expected_label_shares(conditions.argmax(axis=1), self.n_labels, self.horizon)
            picks = np.random.default_rng(self.seed).choice(self.n_labels, self.n_samples, p=self.label_shares_)
            draw_conditions = one_hot(pd.Series(picks), self.n_labels)
        no_residual = np.zeros(len(scale))
        self.systematic_ = implied_covariance(model, scale, no_residual, self.n_samples, draw_conditions, self.seed)
        self.scale_ = scale
        self.residual_variance_ = ((standardized - reconstruction) ** 2).mean(axis=0) * scale**2
        self.covariance_ = self.systematic_ + (np.diag(self.residual_variance_) if self.residual else 0.0)
        return self

    def conditional_covariance(self, label: int) -> np.ndarray:
        """The covariance implied when every draw carries `label`: that regime's own."""
        if self.labels is None or not 0 <= label < self.n_labels:
            raise InputError(f"label={label!r}; expected a label in 0..{self.n_labels - 1} of a conditional VAE")
        conditions = one_hot(pd.Series(np.full(self.n_samples, label)), self.n_labels)
        residual = self.residual_variance_ if self.residual else np.zeros(len(self.scale_))
        return implied_covariance(self.model_, self.scale_, residual, self.n_samples, conditions, self.seed)

    def _conditions(self, returns: pd.DataFrame) -> np.ndarray | None:
        if self.labels is None:
            return None
        if not isinstance(returns, pd.DataFrame):
            raise InputError("a conditional VAECovariance needs returns as a DataFrame indexed by date")
        labels = self.labels.reindex(returns.index)
        if labels.isna().any():
            missing = labels.index[labels.isna()][0]
            raise InputError(f"no label for {missing:%Y-%m-%d}; labels must cover every day of the window")
        values = labels.to_numpy().astype(int)
        if values.min() < 0 or values.max() >= self.n_labels:
            raise InputError(f"labels outside 0..{self.n_labels - 1} (n_labels={self.n_labels})")
        return one_hot(labels, self.n_labels)

    def _train(self, standardized: np.ndarray, conditions: np.ndarray | None):
        n_validation = max(1, int(round(self.validation_share * len(standardized))))
        cut = len(standardized) - n_validation

        def part(rows):
            return (standardized[rows],) if conditions is None else (standardized[rows], conditions[rows])

        config = VAEConfig(
            n_inputs=standardized.shape[1],
            latent_size=self.latent_size,
            hidden_sizes=tuple(self.hidden_sizes),
            beta=self.beta,
            condition_size=0 if conditions is None else self.n_labels,
        )
        train = self.train or TrainConfig(epochs=300, learning_rate=3e-3, patience=20, description="VAE")
        train = replace(train, seed=self.seed, progress=False)
        torch.manual_seed(self.seed)
        model = VAE(config)
        history = fit(model, part(slice(0, cut)), part(slice(cut, None)), train)
        return model.cpu().eval(), history


def expected_label_shares(labels: np.ndarray, n_labels: int, horizon: int) -> np.ndarray:
    """Expected share of each label over the next `horizon` days, from the last label and
    the transition matrix counted over `labels` (one pseudo-count per cell, so a label
    never left or never seen still has a row)."""
    if not isinstance(horizon, int) or horizon < 1:
        raise InputError(f"horizon={horizon!r}; expected a positive integer (days)")
    counts = np.ones((n_labels, n_labels))
    np.add.at(counts, (labels[:-1], labels[1:]), 1)
    transition = counts / counts.sum(axis=1, keepdims=True)
    state = np.eye(n_labels)[labels[-1]]
    shares = np.zeros(n_labels)
    for _ in range(horizon):
        state = state @ transition
        shares += state
    return shares / horizon
