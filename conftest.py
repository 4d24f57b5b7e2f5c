"""Root pytest configuration: skip the doctests of optional integrations whose
libraries are not installed (``skvae[dask]``, ``skvae[spark]``)."""

from importlib.util import find_spec

collect_ignore = []
if find_spec("dask") is None or find_spec("distributed") is None:
    collect_ignore.append("skvae/dask.py")
