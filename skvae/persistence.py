"""Saving fitted models without pickle: tensors plus JSON, loadable with ``weights_only=True``.

``pickle`` / ``joblib`` save everything (the skorch net, callbacks, history) and are
the complete format, but **unpickling runs code**: load a pickle only from a source you
trust, and with the same library versions. :func:`save_model` writes a file that
``torch.load(path, weights_only=True)`` reads -- only tensors, numbers, strings, lists
and dicts, so loading cannot run code -- holding:

* the estimator's class and parameters (JSON; ``callbacks`` are not saved);
* the fitted attributes that inference needs: ``n_features_in_``,
  ``feature_names_in_``, the table layout (:meth:`skvae.tabular.TableLayout.to_dict`),
  ``groups_``, ``fill_values_``, ``n_iter_``, the VAE's ``noise_variance_`` and the
  AE's code density (the Gaussian mixture's weights, means and covariances);
* the module's ``state_dict`` (float tensors, on the CPU);
* a format number and the skvae / torch versions that wrote it.

:func:`load_model` rebuilds the estimator on the CPU (or ``device``): ``transform``,
``inverse_transform``, ``score_samples`` and ``sample(random_state=...)`` give bitwise
the results of the saved model on the same device. Not saved: the optimizer state,
``history_`` (only ``n_iter_``) -- so ``warm_start`` after loading starts a fresh
optimizer -- and ``callbacks``. Use pickle to keep those.
"""

from __future__ import annotations

import json

import numpy as np
import torch
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted

from . import __version__
from ._net import build_net, resolve_device, set_missing_values
from ._validation import module_params
from .tabular import TableLayout

__all__ = ["FORMAT_VERSION", "load_model", "save_model"]

#: Bumped whenever the file layout changes; :func:`load_model` refuses other numbers.
#: 2: the convolutional decoder ends in one bias per pixel (``layers.FeatureBias``).
FORMAT_VERSION = 2
#: What the file's "format" entry says.
FORMAT_NAME = "skvae-model"


def save_model(estimator, path) -> None:
    """Save a fitted estimator to ``path`` as tensors and JSON (no pickle).

    Parameters
    ----------
    estimator : AutoencoderTransformer or VAETransformer
        A fitted estimator. Its ``optimizer`` must be given by name and
        ``callbacks`` are not saved (a warning-free save needs ``callbacks=None``).
    path : str or path-like
        The file to write (``torch.save``).

    Examples
    --------
    >>> import torch
    >>> from sklearn.datasets import load_digits
    >>> from skvae import AutoencoderTransformer
    >>> from skvae.persistence import load_model, save_model
    >>> X = load_digits().data[:100] / 16
    >>> ae = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=2, random_state=0)
    >>> save_model(ae.fit(X), "ae.skvae")  # doctest: +SKIP
    >>> torch.load("ae.skvae", weights_only=True)["format"]  # doctest: +SKIP
    'skvae-model'
    >>> (load_model("ae.skvae").transform(X) == ae.transform(X)).all()  # doctest: +SKIP
    True
    """
    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    if not isinstance(params["optimizer"], str):
        raise ValueError(
            f"optimizer={params['optimizer']!r} is a class, which save_model cannot store "
            "without pickle. Use an optimizer name (e.g. optimizer='adam'), or save with "
            "pickle/joblib from a trusted source."
        )
    params["callbacks"] = None
    params["device"] = str(params["device"])
    tensors = {"state_dict": {k: v.detach().cpu() for k, v in
                              estimator.net_.module_.state_dict().items()},
               "fill_values": torch.as_tensor(estimator.fill_values_)}
    fitted = _fitted_json(estimator, tensors)
    torch.save({"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
                "skvae_version": __version__, "torch_version": str(torch.__version__),
                "estimator": type(estimator).__name__, "params": json.dumps(params),
                "fitted": json.dumps(fitted), **tensors}, path)


def _fitted_json(estimator, tensors) -> dict:
    """The fitted attributes as JSON-able data (arrays go into ``tensors``)."""
    names = getattr(estimator, "feature_names_in_", None)
    fitted = {"n_features_in_": int(estimator.n_features_in_), "n_iter_": estimator.n_iter_,
              "feature_names_in_": None if names is None else [str(n) for n in names],
              "groups_": [list(g) for g in estimator.groups_],
              "layout_": None if estimator.layout_ is None else estimator.layout_.to_dict(),
              "missing": bool(estimator.net_.criterion_.missing)}
    if hasattr(estimator, "noise_variance_"):
        fitted["noise_variance_"] = estimator.noise_variance_
    density = getattr(estimator, "latent_density_", None)
    if density is not None:
        fitted["latent_density_"] = {"n_components": int(density.n_components),
                                     "reg_covar": density.reg_covar}
        for key in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
            tensors[f"density_{key}"] = torch.as_tensor(getattr(density, key))
    return fitted


def load_model(path, device="cpu"):
    """Load an estimator saved by :func:`save_model` (``torch.load(weights_only=True)``).

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model`.
    device : str, default="cpu"
        Where the loaded model runs (its ``device`` parameter keeps the saved value).

    Returns
    -------
    estimator : AutoencoderTransformer or VAETransformer
        The fitted estimator, ready for inference.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> from skvae import VAETransformer
    >>> from skvae.persistence import load_model, save_model
    >>> X = np.random.RandomState(0).rand(40, 5)
    >>> vae = VAETransformer(hidden_layer_sizes=(8,), max_epochs=2, random_state=0,
    ...                      device="cpu").fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "vae.skvae")
    >>> save_model(vae, path)
    >>> loaded = load_model(path, device="cpu")  # the same device: the same numbers
    >>> bool((loaded.score_samples(X) == vae.score_samples(X)).all())
    True
    """
    from .autoencoder import AutoencoderTransformer
    from .vae import VAETransformer

    saved = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(saved, dict) or saved.get("format") != FORMAT_NAME:
        raise ValueError(f"{path!s} is not a file written by skvae.persistence.save_model.")
    if saved["format_version"] != FORMAT_VERSION:
        raise ValueError(
            f"{path!s} has skvae model format {saved['format_version']} (written by skvae "
            f"{saved['skvae_version']}); this skvae ({__version__}) reads format "
            f"{FORMAT_VERSION}. Load it with the skvae version that wrote it, or refit."
        )
    classes = {cls.__name__: cls for cls in (AutoencoderTransformer, VAETransformer)}
    params, fitted = json.loads(saved["params"]), json.loads(saved["fitted"])
    for key in ("hidden_layer_sizes", "conv_channels", "image_shape"):
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    estimator = classes[saved["estimator"]](**params)
    _restore(estimator, saved, fitted, resolve_device(device))
    return estimator


def _restore(estimator, saved, fitted, device) -> None:
    """Set the fitted attributes and rebuild the net with the saved weights."""
    estimator.n_features_in_ = fitted["n_features_in_"]
    if fitted["feature_names_in_"] is not None:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
    estimator.groups_ = tuple(tuple(g) for g in fitted["groups_"])
    layout = fitted["layout_"]
    estimator.layout_ = None if layout is None else TableLayout.from_dict(layout)
    estimator.fill_values_ = saved["fill_values"].numpy()
    estimator.n_iter_, estimator.interrupted_ = fitted["n_iter_"], False
    n_features = len(estimator.fill_values_)
    net = build_net(estimator, module_params=module_params(estimator, n_features),
                    n_features=n_features, device=device, valid_index=None)
    set_missing_values(net, estimator.fill_values_, fitted["missing"])
    with torch.random.fork_rng(devices=[]):  # the (overwritten) initial weights draw
        net.initialize()                     # from torch's RNG: leave the user's alone
    net.module_.load_state_dict(saved["state_dict"])
    net.module_.eval()
    estimator.net_, estimator.history_ = net, net.history
    if "noise_variance_" in fitted:
        estimator.noise_variance_ = fitted["noise_variance_"]
    if "latent_density_" in fitted:
        density = GaussianMixture(**fitted["latent_density_"])
        for key in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
            setattr(density, key, saved[f"density_{key}"].numpy())
        estimator.latent_density_ = density
