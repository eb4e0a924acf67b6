"""Inference: NUTS through nutpie (default), PyMC's own NUTS, and the approximate paths.

:class:`CompiledModels` keeps compiled nutpie models by structure, so that refits of the
same model on other data (backtest origins, tests) compile once.
"""

from __future__ import annotations

import math
import time
import warnings
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import xarray as xr
from numpy.typing import NDArray

from forecast.dims import INDICATOR, PERIOD, STATE
from forecast.interrupts import sigint_noticed
from forecast.model.design import FAMILIES, ModelData
from forecast.model.graph import (
    add_drift,
    build_alignment_model,
    model_coords,
    obs_dim,
    observation_arrays,
    observation_coords,
    structure_key,
)
from forecast.model.inference import FitSettings
from forecast.model.spec import AlignmentSpec
from forecast.progress import SILENT, Progress
from forecast.seeds import generator


def ieee_numba() -> AbstractContextManager[None]:
    """Compile with IEEE floating point (numba's fastmath off) inside this context.

    With fastmath, LLVM may reassociate arithmetic and assume no NaN or infinity. PyTensor's
    numba code compiled on an empty on-disk cache is then inlined and reassociated differently
    from the same code loaded from the cache, so the first fit of a model structure on a
    machine gave other draws than every later fit with the same seed. Without it, the draws
    depend only on data, spec and seed, and an infinite log density (which NUTS relies on to
    reject a proposal) is handled as IEEE says. Its cost in sampling time is measured in the
    README ("Reproducibility").
    """
    return pytensor.config.change_flags(numba__fastmath=False)


@dataclass
class FitResult:
    """A fitted posterior with the timings of its two phases."""

    posterior: xr.DataTree
    compile_seconds: float
    sampling_seconds: float
    model: pm.Model


def compilable_model(data: ModelData, spec: AlignmentSpec) -> pm.Model:
    """Return the model as it is compiled: structural dims frozen, observations left as data."""
    from pymc.model.transform.optimization import freeze_dims_and_data

    return freeze_dims_and_data(
        build_alignment_model(data, spec), dims=list(model_coords(data)), data=[]
    )


def compile_model(
    data: ModelData, spec: AlignmentSpec, *, progress: Progress = SILENT
) -> tuple[pm.Model, Any, float]:
    """Compile the model of ``data``'s structure: ``(pymc_model, nutpie_compiled, seconds)``.

    Every fit compiles this one way. The structural dimensions (states, poles, steps,
    indicators) are frozen, so PyTensor sees static shapes; the observation arrays stay
    ``pymc.Data`` inputs, so the compiled model serves any data of the same structure through
    ``with_data``. Freezing the data too (as constants) was faster to sample but made the
    compiled code depend on the data: PyTensor narrows a constant index array to the smallest
    unsigned type its values fit (``uint8`` for a small panel, ``uint16`` for a larger one),
    while a data input is ``int32``, and one fused loop then had several signatures under one
    numba cache key. Numba's on-disk cache index is not safe against two processes saving
    different signatures of one key at once: the index can end up naming one signature's
    code for the other, and every later process that compiles a graph around that loop fails
    with a ``TypingError`` ("Known signatures: ... uint8"). Feeding every data array the same
    way, with one dtype whatever the data (see :func:`forecast.model.graph.observation_arrays`),
    leaves one signature per key. The compile is reported on ``progress``, saying whether it
    is likely the first on this machine (:mod:`forecast.model.compile_cache`).
    """
    model = compilable_model(data, spec)
    start = time.perf_counter()
    compiled = compile_nutpie(model, structure_key(data, spec), progress=progress)
    return model, compiled, time.perf_counter() - start


def compile_nutpie(model: pm.Model, key: object, *, progress: Progress = SILENT) -> Any:
    """Compile ``model`` with nutpie as is, reporting the compile of structure ``key``.

    The model is compiled without freezing (see :func:`compile_model` for why the caller
    freezes only the structural dimensions).
    """
    import nutpie

    from forecast.model.compile_cache import compile_note, mark_compiled

    with progress.step("compiling the model", compile_note(key)), ieee_numba():
        compiled = nutpie.compile_pymc_model(model, freeze_model=False)
    mark_compiled(key)
    return compiled


@dataclass
class CompiledModels:
    """Compiled models by structure, for reuse across fits in one process.

    Not global: whoever runs many fits (a backtest, a test session) owns one.
    """

    entries: dict[tuple[object, ...], tuple[pm.Model, Any]] = field(default_factory=dict)

    def get(
        self, data: ModelData, spec: AlignmentSpec, *, progress: Progress = SILENT
    ) -> tuple[pm.Model, Any, float]:
        """Return ``(pymc_model, nutpie_compiled, compile_seconds)`` with ``data`` set."""
        key = structure_key(data, spec)
        if key not in self.entries:
            model, compiled, elapsed = compile_model(data, spec, progress=progress)
            self.entries[key] = (model, compiled)
            return model, compiled, elapsed
        model, compiled = self.entries[key]
        arrays = observation_arrays(data, not math.isinf(spec.deviation_df), spec.carry == "kalman")
        pm.set_data(arrays, model=model, coords=observation_coords(data))
        # the compiled graph drops data it never reads (e.g. the averaging weights when
        # every observation covers one step), and with_data refuses unknown names
        known = {var.name for var in compiled.shared_var_keys}
        usable = {name: value for name, value in arrays.items() if name in known}
        return model, compiled.with_data(**usable), 0.0


def observed_dataset(data: ModelData) -> xr.Dataset:
    """Observed values by family, labelled with each observation's state, indicator and period."""
    out = {}
    for family in FAMILIES:
        obs = data.obs[family]
        if not len(obs):
            continue
        dim = obs_dim(family)
        values = obs.y if family == "gaussian" else obs.y.astype(np.int64)
        out[f"y_{family}"] = xr.DataArray(
            values,
            dims=(dim,),
            coords={
                dim: np.arange(len(obs)),
                f"{dim}_{STATE}": (dim, [data.states[i] for i in obs.state]),
                f"{dim}_{INDICATOR}": (dim, [data.indicators[i] for i in obs.indicator]),
                f"{dim}_{PERIOD}": (dim, list(obs.period)),
                f"{dim}_trials": (dim, obs.trials),
                f"{dim}_se": (dim, obs.se),
            },
        )
    return xr.Dataset(out)


def constant_dataset(data: ModelData, spec: AlignmentSpec) -> xr.Dataset:
    """Per-indicator constants and the spec's settings the projection needs."""
    ind = {INDICATOR: list(data.indicators)}
    # the one-step conditional's tails, read by the projection: stored only for a Student-t
    # (an absent value is the Normal, as in every run stored before the option)
    tails: dict[str, float | str] = {}
    if not math.isinf(spec.deviation_df):
        tails["deviation_df"] = spec.deviation_df
    # likewise the log-link kinds' own scaling of their deviations, only when it has one
    if spec.log_link_deviation != "same":
        tails["log_link_deviation"] = spec.log_link_deviation
    return xr.Dataset(
        {
            "kind": (INDICATOR, list(data.kind)),
            "frequency": (INDICATOR, list(data.frequency)),
            "pole_of_indicator": (INDICATOR, [data.poles[i] for i in data.pole_index]),
            "sign": (INDICATOR, data.sign),
            "is_reference": (INDICATOR, data.is_reference.astype(np.int8)),
            "centre": (INDICATOR, data.centre),
            "scale": (INDICATOR, data.scale),
            "offset": (INDICATOR, data.offset),
            "typical_trials": ((INDICATOR, STATE), data.typical_trials),
            # each kind's bounds, standardised (infinite where none): after a value there
            # the filtered carry starts a series afresh, in the projection as in the fit
            "lower": (INDICATOR, _bounds(data.lower, len(data.indicators), -np.inf)),
            "upper": (INDICATOR, _bounds(data.upper, len(data.indicators), np.inf)),
        },
        coords=ind | {STATE: list(data.states)},
        attrs={
            "step": data.step,
            "share_clip": data.share_clip,
            "drift_damping": spec.projection.drift_damping,
            "deviation": spec.deviation,
            "deviation_initial_sd": spec.priors.deviation_initial_sd,
            "carry": spec.carry,
        }
        | tails,
    )


def _bounds(values: NDArray, n: int, default: float) -> NDArray:
    """Return a kind's bound per indicator (``default`` for all where there are none)."""
    return np.asarray(values, dtype=float) if values.size else np.full(n, default)


def pointwise_log_likelihood(
    posterior: xr.Dataset, model: pm.Model, *, batch: int = 500
) -> xr.Dataset:
    """Log-likelihood of every observation at every draw (for LOO and model comparison).

    PyMC's ``compute_log_likelihood`` cannot map an ``LKJCorr`` variable back to its value
    (it looks for a differently named value variable), so the same computation is done here:
    the observed variables' elementwise log density of the model without value transforms,
    vectorised over a leading draw dimension and evaluated ``batch`` draws at a time with
    NumPy (a one-off evaluation is faster than compiling it).
    """
    from pymc.model.transform.conditioning import remove_value_transforms
    from pytensor.graph.replace import vectorize_graph

    umodel = remove_value_transforms(model)
    observed = list(umodel.observed_RVs)
    names = [rv.name for rv in model.free_RVs]
    values = [umodel.rvs_to_values[umodel[name]] for name in names]
    batched = [
        pt.tensor(name=v.name, shape=(None, *v.type.shape), dtype=v.type.dtype) for v in values
    ]
    outs = vectorize_graph(
        umodel.logp(vars=observed, sum=False), replace=dict(zip(values, batched, strict=True))
    )
    fn = pytensor.function(batched, outs, mode="FAST_COMPILE", on_unused_input="ignore")
    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    flat = {
        name: posterior[name].values.reshape(n_chain * n_draw, *posterior[name].shape[2:])
        for name in names
    }
    pieces: list[list[np.ndarray]] = [[] for _ in observed]
    for lo in range(0, n_chain * n_draw, batch):
        for piece, logp in zip(
            pieces, fn(*(flat[name][lo : lo + batch] for name in names)), strict=True
        ):
            piece.append(logp)
    result = {}
    for rv, piece in zip(observed, pieces, strict=True):
        stacked = np.concatenate(piece).reshape(n_chain, n_draw, -1)
        dim = obs_dim(rv.name.removeprefix("y_"))
        result[rv.name] = xr.DataArray(
            stacked,
            dims=("chain", "draw", dim),
            coords={"chain": posterior["chain"], "draw": posterior["draw"]},
        )
    return xr.Dataset(result)


def _finish(
    raw: xr.DataTree,
    model: pm.Model,
    data: ModelData,
    spec: AlignmentSpec,
    settings: FitSettings,
    *,
    log_likelihood: bool = True,
    progress: Progress = SILENT,
) -> xr.DataTree:
    """Draw the drifts; add log-likelihood, observed and constant data; drop warm-up groups."""
    groups = {
        name: node.to_dataset()
        for name, node in raw.children.items()
        if name in ("posterior", "sample_stats")
    }
    # a stream of its own, so the drifts do not share random numbers with the projection
    groups["posterior"] = add_drift(
        groups["posterior"], data.n_steps, random_seed=generator(settings.seed, "drift")
    )
    posterior = xr.DataTree.from_dict(groups)
    if log_likelihood:
        with progress.step("computing the pointwise log-likelihood"):
            posterior["log_likelihood"] = pointwise_log_likelihood(groups["posterior"], model)
    posterior["observed_data"] = observed_dataset(data)
    posterior["constant_data"] = constant_dataset(data, spec)
    posterior["posterior"].attrs.update(
        {
            "inference_method": settings.method,
            "approximate": int(settings.approximate),
            "random_seed": settings.seed,
        }
    )
    return posterior


def fit_alignment_model(
    data: ModelData,
    spec: AlignmentSpec,
    settings: FitSettings,
    *,
    compiled: CompiledModels | None = None,
    progressbar: bool = False,
    log_likelihood: bool = True,
    progress: Progress = SILENT,
) -> FitResult:
    """Fit the alignment model to ``data``.

    Parameters
    ----------
    data, spec
        Model data and spec.
    settings
        Method, sizes and seed.
    compiled
        A cache of compiled models to reuse (NUTS through nutpie only); without one, the
        model is compiled for this fit (:func:`compile_model`).
    progressbar
        Show the progress bar of PyMC's samplers, Pathfinder and ADVI (nutpie reports to
        ``progress`` instead).
    log_likelihood
        Compute the pointwise log-likelihood (for LOO); a backtest, which only projects,
        skips it (it compiles a function of its own and evaluates every draw).
    progress
        Where to report the compile, the sampling (chains, draws, divergences so far, time
        left) and the log-likelihood; silent by default.

    Returns
    -------
    FitResult
        The DataTree has groups ``posterior``, ``sample_stats`` (NUTS), ``log_likelihood``
        and ``observed_data``; ``posterior.attrs`` name the method and whether it is approximate.
    """
    # the samplers return what they have on Ctrl-C instead of raising: never finish that.
    # From the Ctrl-C on, warnings are ignored: a partial trace's own (ArviZ's "chain
    # dimension longer than draw dimension") would bury the one line an interrupted command
    # prints or, where warnings are errors, replace the interrupt
    with (
        warnings.catch_warnings(),
        sigint_noticed(on_signal=lambda: warnings.simplefilter("ignore")) as interrupted,
    ):
        model, raw, compile_seconds, sampling = _sample(
            data, spec, settings, compiled, progressbar, progress
        )
    if interrupted() or _partial(raw, settings):
        raise KeyboardInterrupt
    posterior = _finish(
        raw, model, data, spec, settings, log_likelihood=log_likelihood, progress=progress
    )
    return FitResult(posterior, compile_seconds, sampling, model)


def _partial(raw: xr.DataTree, settings: FitSettings) -> bool:
    """Whether a NUTS sample holds fewer chains or draws than asked (it was interrupted)."""
    if settings.method != "nuts":
        return False
    if "posterior" not in raw.children:
        return True
    sizes = raw["posterior"].sizes
    return sizes.get("chain", 0) < settings.chains or sizes.get("draw", 0) < settings.draws


def _sample(
    data: ModelData,
    spec: AlignmentSpec,
    settings: FitSettings,
    compiled: CompiledModels | None,
    progressbar: bool,
    progress: Progress,
) -> tuple[pm.Model, xr.DataTree, float, float]:
    """Compile and sample: ``(model, raw DataTree, compile seconds, sampling seconds)``."""
    if settings.method == "nuts" and settings.nuts_sampler == "nutpie":
        from forecast.model.sampling import sample_with_progress

        cache = compiled if compiled is not None else CompiledModels()
        model, compiled_model, compile_seconds = cache.get(data, spec, progress=progress)
        start = time.perf_counter()
        raw = sample_with_progress(compiled_model, settings, progress=progress)
        sampling = time.perf_counter() - start
    else:
        model = build_alignment_model(data, spec)
        start = time.perf_counter()
        how = "PyMC's NUTS" if settings.method == "nuts" else f"{settings.method} (approximate)"
        with progress.step(f"compiling and fitting with {how}"):
            raw = _sample_other(model, settings, progressbar)
        # PyMC compiles inside its samplers, so the split is not available
        compile_seconds, sampling = 0.0, time.perf_counter() - start
    return model, raw, compile_seconds, sampling


def _sample_other(model: pm.Model, settings: FitSettings, progressbar: bool) -> xr.DataTree:
    with model, ieee_numba():
        if settings.method == "nuts":
            return pm.sample(
                draws=settings.draws,
                tune=settings.tune,
                chains=settings.chains,
                cores=settings.cores or min(settings.chains, 2),
                random_seed=settings.seed,
                target_accept=settings.target_accept,
                nuts_sampler="pymc",
                progressbar=progressbar,
                compute_convergence_checks=False,
            )
        if settings.method == "pathfinder":
            from pymc.model.fgraph import clone_model
            from pymc_extras.inference import fit_pathfinder

            # pymc-extras labels the raveled parameters by their model dims and fails on a
            # 2-d LKJCorr whose value is a vector; the draws take the dims back below
            unlabelled = clone_model(model)
            chol_dims = unlabelled.named_vars_to_dims.pop("innovation_chol", None)
            with warnings.catch_warnings():
                # pymc-extras' own L-BFGS graph holds a batched AllocDiag that numba runs in
                # object mode: slower, not wrong, and nothing a user of this command can change
                warnings.filterwarnings(
                    "ignore", message="Numba will use object mode", category=UserWarning
                )
                tree = fit_pathfinder(
                    model=unlabelled,
                    num_paths=settings.chains,
                    num_draws=settings.draws * settings.chains,
                    random_seed=settings.seed,
                    progressbar=progressbar,
                )
            if chol_dims is not None:
                post = tree["posterior"].to_dataset()
                chol = post["innovation_chol"]
                # by position: the placeholder dims carry integer labels, not the poles
                post = post.drop_vars(["innovation_chol", *chol.dims[2:]], errors="ignore")
                post["innovation_chol"] = ((*chol.dims[:2], *chol_dims), chol.values)
                tree["posterior"] = post
            return tree
        if settings.method == "advi":
            from pytensor.compile.mode import get_mode

            # PyTensor's numba "scalarize" rewrite produces an op that numba cannot type in
            # the ADVI objective (IndexError in _compute_vectorized_types, pytensor 3.3.8)
            approx = pm.fit(
                n=20_000,
                method="advi",
                random_seed=settings.seed,
                progressbar=progressbar,
                fn_kwargs={"mode": get_mode("NUMBA").excluding("scalarize")},
            )
            return approx.sample(settings.draws * settings.chains, random_seed=settings.seed)
    raise ValueError(f"unknown method {settings.method!r}")
