"""Minimal reproducer: two signatures of one PyTensor numba cache key, saved at the same time.

Run as ``python numba_cache_race.py ROLE VARIANT SYNC_DIR`` with ``PYTENSOR_FLAGS`` pointing
``base_compiledir`` at a cache directory shared by every run (see
``tests/model/test_compile_cache.py``). The graph is ``sum(exp(x[idx]))``, compiled by
PyTensor's numba backend into one fused loop. ``VARIANT`` chooses how ``idx`` enters:

- ``const``: a constant, which PyTensor's ``local_uint_constant_indices`` rewrite narrows to
  ``uint8`` (a frozen ``pymc.Data`` array is such a constant);
- ``input``: an ``int32`` input (a ``pymc.Data`` array left as data is such an input).

PyTensor gives both fused loops the same cache key (the key leaves out the dtypes of the
indices, numba tells signatures apart inside one cache entry). Numba saves a new signature by
reading the entry's index, picking the first free data-file number, then writing the index and
the data file: not atomic across processes. Roles ``A`` and ``B`` replay the interleaving
of two processes that compile at the same time (as a report and a test run sharing
``~/.pytensor`` did): both read the empty index, ``A`` writes its index, ``B`` overwrites it
with its own, ``B`` writes data file 1, then ``A`` overwrites data file 1. The index now names
``B``'s signature with ``A``'s code. Role ``C`` compiles another graph around the same loop
with ``B``'s variant: numba loads ``A``'s code for it, and typing fails with "Invalid use of
type(CPUDispatcher(<function fused_elemwise_fn ...>)) ... Known signatures: ...".
With equal variants in ``A`` and ``B`` the same schedule is harmless: one signature per key.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np


def _wait(sync: Path, name: str) -> None:
    for _ in range(12_000):
        if (sync / name).exists():
            return
        time.sleep(0.01)
    raise TimeoutError(f"waited 120 s for {name}")


def _replay_race(role: str, sync: Path) -> None:
    """Make numba's cache saves of the fused loop follow the schedule above."""
    from numba.core import caching

    original = caching.IndexDataCacheFile.save

    def save(self: caching.IndexDataCacheFile, key: object, data: object) -> None:
        if "fused_elemwise" not in self._index_name:
            original(self, key, data)
            return
        overloads = self._load_index()
        (sync / f"{role}_read").touch()
        _wait(sync, "B_read" if role == "A" else "A_read")
        name = self._data_name(1)  # both see an empty index: both pick data file 1
        overloads[key] = name
        if role == "A":
            self._save_index(overloads)
            (sync / "A_index").touch()
            _wait(sync, "B_data")
            self._save_data(name, data)
        else:
            _wait(sync, "A_index")
            self._save_index(overloads)
            self._save_data(name, data)
            (sync / "B_data").touch()

    caching.IndexDataCacheFile.save = save  # type: ignore[method-assign]


def main(role: str, variant: str, sync: Path) -> None:
    if role in ("A", "B"):
        _replay_race(role, sync)
    import pytensor
    import pytensor.tensor as pt
    from pytensor.compile.mode import get_mode

    x = pt.vector("x", dtype="float64")
    values = np.array([0, 2, 1, 2], dtype=np.int32)
    if variant == "const":
        idx = pt.constant(values)
        inputs, args = [x], [np.arange(3.0)]
    else:
        idx = pt.vector("idx", dtype="int32")
        inputs, args = [x, idx], [np.arange(3.0), values]
    out = pt.exp(x[idx]).sum()
    # role C: another graph around the same loop, so its own code is not in the cache
    outputs = [out, pt.dot(x, x)] if role == "C" else [out]
    fn = pytensor.function(inputs, outputs, mode=get_mode("NUMBA"))
    print(role, variant, float(fn(*args)[0]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
