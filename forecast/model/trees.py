"""Typed access to the groups of a posterior DataTree."""

from __future__ import annotations

from typing import cast

import xarray as xr


def group(tree: xr.DataTree, name: str) -> xr.Dataset:
    """Return the Dataset of group ``name`` (``posterior``, ``constant_data``, ...) of ``tree``.

    Examples
    --------
    >>> tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"a": ("x", [1, 2])})})
    >>> int(group(tree, "posterior")["a"].sum())
    3
    """
    node = cast(xr.DataTree, tree[name])
    return node.to_dataset()
