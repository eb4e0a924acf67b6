"""Complete run manifests for tests that write a run directory without fitting."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from forecast.model.diagnostics import Diagnostics
from forecast.model.manifest import FileRecord, ModelRecord, RunManifest


def run_manifest(run_id: str = "run-a", *, converged: bool = True, **changes: Any) -> RunManifest:
    """A manifest as a converged two-chain NUTS fit of seed 1 would write it."""
    diagnostics = Diagnostics(
        method="nuts",
        approximate=False,
        chains=2,
        draws=500,
        max_rhat=1.002,
        worst_rhat="drift[KAZ, RUS]",
        min_ess_bulk=800.0,
        worst_ess_bulk="drift[KAZ, RUS]",
        min_ess_tail=700.0,
        divergences=0,
        converged=converged,
        failures=() if converged else ("max R-hat 1.050 > 1.01 (drift[KAZ, RUS])",),
    )
    manifest = RunManifest(
        run_id=run_id,
        created="2026-12-06T00:00:00+00:00",
        method="nuts",
        approximate=False,
        seed=1,
        converged=converged,
        sampler={"method": "nuts", "draws": 500, "tune": 500, "chains": 2, "seed": 1},
        data=FileRecord("data/panel.csv", "d" * 64),
        spec=FileRecord("models/alignment.toml", "s" * 64),
        spec_content={},
        codebook=FileRecord("data/codebook.toml", "c" * 64),
        model=ModelRecord(
            states=("KAZ", "KGZ", "TJK", "TKM", "UZB"),
            indicators=("trade_share_rus",),
            left_out_without_variation=(),
            first_period="1992",
            last_period="2020",
            observations={"gaussian": 100},
        ),
        timing={"compile_seconds": 1.0, "sampling_seconds": 1.0},
        diagnostics=diagnostics,
        packages={"python": "3.12.1"},
        posterior_sha256="0" * 64,
    )
    return replace(manifest, **changes)


def write_manifest(run_dir: Path, manifest: RunManifest | dict[str, Any]) -> Path:
    """Write ``manifest.json`` into ``run_dir``, its posterior hash that of the file there."""
    data = manifest.to_dict() if isinstance(manifest, RunManifest) else dict(manifest)
    posterior = run_dir / "posterior.nc"
    if posterior.is_file():
        data["posterior_sha256"] = hashlib.sha256(posterior.read_bytes()).hexdigest()
    path = run_dir / "manifest.json"
    path.write_text(json.dumps(data))
    return path
