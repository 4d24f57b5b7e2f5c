"""numpydoc validation of every public docstring.

The public objects are the names in each public module's ``__all__`` that skvae
defines itself, and the public methods the classes among them define (inherited
ones included, but not those of scikit-learn, skorch or torch base classes). Their
``Examples`` sections run as doctests (``pytest --doctest-modules``, see
``pyproject.toml``).
"""

import importlib
import inspect

import pytest

validate = pytest.importorskip("numpydoc.validate")

MODULES = [
    "skvae", "skvae.callbacks", "skvae.cli", "skvae.comparison", "skvae.dask", "skvae.datasets",
    "skvae.exceptions", "skvae.images", "skvae.impute", "skvae.layers", "skvae.likelihoods",
    "skvae.losses", "skvae.outliers", "skvae.persistence",
    "skvae.metrics", "skvae.modules", "skvae.plotting", "skvae.report", "skvae.spark",
    "skvae.tabular",
]

#: Checks not enforced: extended summary, See Also, named return values (scikit-learn
#: style ``name : type``), where the summary starts and ends, See Also descriptions.
IGNORED = {"ES01", "SA01", "RT02", "GL01", "GL02", "SA04"}

#: skorch calls these hooks itself; they need no Examples.
HOOKS = {"on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_batch_begin", "on_batch_end", "on_grad_computed"}


def _ours(obj) -> bool:
    return (getattr(obj, "__module__", None) or "").startswith("skvae")


def _methods(cls):
    """Public methods written in skvae that ``cls`` defines or inherits."""
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        attr = inspect.getattr_static(cls, name)
        function = attr.__func__ if isinstance(attr, (staticmethod, classmethod)) else attr
        if inspect.isfunction(function) and _ours(function):
            yield name


def public_objects() -> list[str]:
    names = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not _ours(obj) or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # e.g. __version__, sklearn's trustworthiness re-exported
            names.append(f"{module_name}.{name}")
            if inspect.isclass(obj):
                names += [f"{module_name}.{name}.{method}" for method in _methods(obj)]
    return names


PUBLIC = public_objects()


def test_public_objects_are_found():
    assert len(PUBLIC) == len(set(PUBLIC))
    for name in ("skvae.AutoencoderTransformer.fit", "skvae.VAETransformer.sample",
                 "skvae.metrics.compare", "skvae.modules.VariationalAutoencoder.encode",
                 "skvae.callbacks.KLWarmup.on_epoch_begin"):
        assert name in PUBLIC
    for name in ("skvae.AutoencoderTransformer.get_params",
                 "skvae.AutoencoderTransformer.fit_transform",
                 "skvae.metrics.trustworthiness", "skvae.modules.Autoencoder.train"):
        assert name not in PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring(name):
    ignored = IGNORED | ({"EX01"} if name.rsplit(".", 1)[-1] in HOOKS else set())
    result = validate.validate(name)
    errors = [f"{code}: {message}" for code, message in result["errors"]
              if code not in ignored]
    assert not errors, f"{name} ({result['file']}:{result['file_line']}):\n" + "\n".join(errors)


#: Parameters whose meaning differs between the two estimators, so their texts do too.
DIFFERENT_TEXTS = {
    "reconstruction_loss",  # the AE's training loss vs the VAE's likelihood
}


def test_shared_parameters_are_documented_alike_in_both_estimators():
    """Each estimator's API page explains every parameter; shared ones say the same."""
    from numpydoc.docscrape import ClassDoc

    from skvae import AutoencoderTransformer, VAETransformer

    docs = [{p.name: p for p in ClassDoc(cls)["Parameters"]}
            for cls in (AutoencoderTransformer, VAETransformer)]
    for cls, documented in zip((AutoencoderTransformer, VAETransformer), docs, strict=True):
        assert list(documented) == list(inspect.signature(cls).parameters), cls.__name__
    shared = set(docs[0]) & set(docs[1])
    assert len(shared) == 26
    for name in sorted(shared - DIFFERENT_TEXTS):
        ae, vae = docs[0][name], docs[1][name]
        assert (ae.type, ae.desc) == (vae.type, vae.desc), name
    for name in DIFFERENT_TEXTS:
        assert docs[0][name].desc != docs[1][name].desc, name
