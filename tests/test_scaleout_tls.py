"""``backtest --scheduler tls://...``: a scheduler reached over mutual TLS, or a clear refusal.

Certificates come from the ``openssl`` command (a throwaway authority per test module); the
scheduler is an in-process Dask cluster with no workers that requires encryption.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from forecast.errors import ForecastError
from forecast.scaleout import SchedulerTLS, dask_client, scheduler_tls
from tests.data.panel_fixtures import run_cli

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _authority(folder: Path, name: str) -> None:
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", f"{name}.key", "-out", f"{name}.pem", "-subj", f"/CN={name}",
        cwd=folder,
    )  # fmt: skip


def _signed(folder: Path, name: str, authority: str) -> None:
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
        "-out", f"{name}.csr", "-subj", "/CN=localhost",
        cwd=folder,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", f"{authority}.pem",
        "-CAkey", f"{authority}.key", "-CAcreateserial", "-out", f"{name}.pem", "-days", "2",
        cwd=folder,
    )  # fmt: skip


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tls")
    _authority(folder, "ca")
    _authority(folder, "other-ca")
    for name in ("scheduler", "client"):
        _signed(folder, name, "ca")
    _signed(folder, "stranger", "other-ca")
    return folder


@pytest.fixture(scope="module")
def tls_scheduler(certs: Path):
    from distributed import LocalCluster
    from distributed.security import Security

    security = Security(
        tls_ca_file=str(certs / "ca.pem"),
        tls_scheduler_cert=str(certs / "scheduler.pem"),
        tls_scheduler_key=str(certs / "scheduler.key"),
        tls_worker_cert=str(certs / "scheduler.pem"),
        tls_worker_key=str(certs / "scheduler.key"),
        tls_client_cert=str(certs / "client.pem"),
        tls_client_key=str(certs / "client.key"),
        require_encryption=True,
    )
    with LocalCluster(
        n_workers=0, processes=False, protocol="tls://", security=security, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def test_a_client_with_the_authoritys_certificate_connects(certs, tls_scheduler):
    assert tls_scheduler.startswith("tls://")
    tls = SchedulerTLS(certs / "ca.pem", certs / "client.pem", certs / "client.key")
    with dask_client(scheduler=tls_scheduler, tls=tls) as client:
        assert client.scheduler_info()["address"] == tls_scheduler


def test_a_certificate_from_another_authority_is_refused(certs, tls_scheduler):
    tls = SchedulerTLS(certs / "ca.pem", certs / "stranger.pem", certs / "stranger.key")
    with pytest.raises(ForecastError, match="cannot connect"):
        with dask_client(scheduler=tls_scheduler, tls=tls):
            pass


def test_a_missing_file_is_named(certs):
    tls = SchedulerTLS(certs / "ca.pem", certs / "client.pem", certs / "nowhere.key")
    with pytest.raises(ForecastError, match=r"--tls-key .*nowhere\.key: no such file"):
        tls.security()


@pytest.mark.parametrize(
    ("scheduler", "files", "message"),
    [
        ("tls://h:8786", (None, None, None), "give --tls-ca-file, --tls-cert and --tls-key"),
        ("tls://h:8786", ("ca", None, "k"), "give --tls-ca-file, --tls-cert and --tls-key"),
        ("tcp://h:8786", ("ca", "c", "k"), "the TLS files need a tls:// address"),
        (None, ("ca", "c", "k"), "go with --scheduler tls://"),
    ],
)
def test_inconsistent_options_are_refused(scheduler, files, message):
    paths = [None if f is None else Path(f) for f in files]
    with pytest.raises(ForecastError, match=message):
        scheduler_tls(scheduler, *paths)


def test_the_command_refuses_tls_without_files_in_one_line(tmp_path, capsys):
    result = run_cli(
        ["backtest", "--scheduler", "tls://127.0.0.1:1", "--out", str(tmp_path / "bt")], capsys
    )
    assert result.code == 1, result
    assert result.err.strip().splitlines() == [
        "error: --scheduler tls://...: give --tls-ca-file, --tls-cert and --tls-key"
    ]
