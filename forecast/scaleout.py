"""Fan independent fits out over Dask distributed (DESIGN.md section 7).

A local cluster of worker *processes* (``--workers N``) or an existing scheduler
(``--scheduler ADDRESS``). Compiling the model is the expensive step, so each worker process
keeps its own :class:`~forecast.model.fit.CompiledModels` for its whole life. It lives in a
worker plugin (:class:`CompiledModelsPlugin`), i.e. on the worker object Dask already owns:
no module-level cache, and the core stays free of global state. A task reaches it through
:func:`worker_compiled_models`.

Results do not depend on where a task runs: every task gets its seed from its inputs, and a
compiled model gives the same draws for the same data and seed whether it was compiled for
this task or reused from an earlier one.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, as_completed, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from forecast.errors import ForecastError
from forecast.interrupts import sigint_deferred
from forecast.model.fit import CompiledModels

#: name under which each worker holds its compiled models
PLUGIN_NAME = "forecast-compiled-models"


class CompiledModelsPlugin(WorkerPlugin):
    """Give each Dask worker process its own compiled-model cache, for its lifetime."""

    # registering again (a second backtest on the same cluster) keeps the warm cache
    idempotent = True

    def setup(self, worker: Any) -> None:
        """Create the worker's empty cache."""
        self.compiled = CompiledModels()

    def teardown(self, worker: Any) -> None:
        """Drop the compiled models with the worker."""
        self.compiled.entries.clear()


class LocalWorkersIgnoreCtrlC(WorkerPlugin):
    """Make a local cluster's worker processes ignore SIGINT.

    A terminal's Ctrl-C goes to the whole process group: the workers would each die with a
    traceback of their own while the command, which got it too, shuts them down anyway.
    Registered on the clusters this module starts, never on an external scheduler's.
    """

    idempotent = True

    def setup(self, worker: Any) -> None:
        """Ignore SIGINT in this worker process (the plugin runs in its main thread)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def worker_compiled_models() -> CompiledModels:
    """Return the compiled-model cache of the Dask worker running the calling task."""
    plugin = get_worker().plugins.get(PLUGIN_NAME)
    if not isinstance(plugin, CompiledModelsPlugin):
        raise RuntimeError("the CompiledModelsPlugin is not registered on this worker")
    return plugin.compiled


def worker_threads() -> int:
    """Return the number of threads of the Dask worker running the calling task."""
    return int(get_worker().state.nthreads)


@dataclass(frozen=True)
class SchedulerTLS:
    """The files of a TLS connection to an external Dask scheduler (mutual TLS).

    A scheduler runs whatever the client sends it: tasks travel pickled, and unpickling runs
    code. Over ``tcp://`` anyone who can reach the scheduler's port can run code on its
    workers, and anyone on the path can read or alter the tasks and results. Over ``tls://``
    with these files, client and scheduler prove who they are to each other with certificates
    signed by ``ca_file`` and the traffic is encrypted (Dask's ``distributed.security``).

    Parameters
    ----------
    ca_file
        The certificate authority that signed the scheduler's (and the workers') certificates.
    cert, key
        This client's certificate and private key (PEM), signed by the same authority.
    """

    ca_file: Path
    cert: Path
    key: Path

    def security(self) -> Any:
        """Return the ``distributed.security.Security`` of this client, files checked."""
        from distributed.security import Security

        for option, path in (
            ("--tls-ca-file", self.ca_file),
            ("--tls-cert", self.cert),
            ("--tls-key", self.key),
        ):
            if not path.is_file():
                raise ForecastError(f"{option} {path}: no such file")
        return Security(
            tls_ca_file=str(self.ca_file),
            tls_client_cert=str(self.cert),
            tls_client_key=str(self.key),
            require_encryption=True,
        )


def scheduler_tls(
    scheduler: str | None, ca_file: Path | None, cert: Path | None, key: Path | None
) -> SchedulerTLS | None:
    """Check the TLS options against the scheduler's address; return them when given.

    A ``tls://`` address needs all three files; the files need a ``tls://`` address (given
    with ``tcp://`` they would be ignored, and the user would believe the link secure).

    Examples
    --------
    >>> scheduler_tls("tcp://10.0.0.5:8786", None, None, None) is None
    True
    >>> scheduler_tls("tls://10.0.0.5:8786", Path("ca.pem"), None, None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    forecast.errors.ForecastError: --scheduler tls://...: give --tls-ca-file, ...
    """
    given = [p for p in (ca_file, cert, key) if p is not None]
    tls = scheduler is not None and scheduler.startswith("tls://")
    if not given and not tls:
        return None
    if scheduler is None:
        raise ForecastError("--tls-ca-file, --tls-cert and --tls-key go with --scheduler tls://...")
    if not tls:
        raise ForecastError(
            f"--scheduler {scheduler}: the TLS files need a tls:// address (tls://host:port)"
        )
    if ca_file is None or cert is None or key is None:
        raise ForecastError("--scheduler tls://...: give --tls-ca-file, --tls-cert and --tls-key")
    return SchedulerTLS(ca_file=ca_file, cert=cert, key=key)


@contextmanager
def dask_client(
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    tls: SchedulerTLS | None = None,
) -> Iterator[Client]:
    """Yield a Dask client on a new local cluster or an existing scheduler, plugin registered.

    Parameters
    ----------
    workers
        Start a ``LocalCluster`` of this many single-threaded worker processes; each task
        runs its chains one after the other on its worker's thread, so ``N`` workers keep
        ``N`` cores busy and the work scales with the workers, not with the chains.
    scheduler
        Address of an existing scheduler (``tls://host:8786`` or ``tcp://host:8786``); its
        workers must have this package installed. The scheduler and its workers run the tasks
        this client sends them, pickled: use only a scheduler you trust, over TLS where the
        network is not yours alone.
    tls
        Certificates for a ``tls://`` scheduler (:class:`SchedulerTLS`).
    """
    if (workers is None) == (scheduler is None):
        raise ForecastError("give either --workers or --scheduler, not both")
    if workers is not None and workers < 1:
        raise ForecastError("--workers must be at least 1")
    if scheduler is not None:
        security = tls.security() if tls is not None else None
        try:
            client = Client(scheduler, timeout=10, security=security)
        except (OSError, TimeoutError) as err:
            raise ForecastError(f"--scheduler {scheduler}: cannot connect ({err})") from None
        try:
            client.register_plugin(CompiledModelsPlugin(), name=PLUGIN_NAME)
            yield client
        finally:
            client.close()
        return
    with ExitStack() as stack:
        # Ctrl-C waits until the cluster has started: interrupted half-way, it could not be
        # shut down (its processes would outlive the command, with tracebacks at exit)
        with sigint_deferred():
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    # any free port: the default 8787 may be taken (another cluster, another
                    # command), and nobody reads the dashboard of a backtest run from here
                    dashboard_address=":0",
                    # the logs of a shutdown after Ctrl-C ("worker process still alive",
                    # cancelled tasks, heartbeats to a closed scheduler) would bury the
                    # command's one line; a task's own error reaches the client anyway
                    silence_logs=logging.CRITICAL,
                )
            )
            client = stack.enter_context(Client(cluster))
            client.register_plugin(LocalWorkersIgnoreCtrlC(), name="forecast-ignore-ctrl-c")
            client.register_plugin(CompiledModelsPlugin(), name=PLUGIN_NAME)
        yield client


def map_in_order[T](
    client: Client,
    task: Callable[..., T],
    items: Sequence[Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
) -> list[T]:
    """Run ``task(item, *args)`` for every item on the cluster; results in ``items``' order.

    The shared arguments are scattered once to every worker rather than sent with each task.
    ``on_done(item)`` is called as each task finishes, in completion order.
    """
    # a scatter interrupted half-way leaves the scheduler replicating to closing workers,
    # which it reports with a traceback: Ctrl-C waits for it (well under a second)
    with sigint_deferred():
        shared = [client.scatter(arg, broadcast=True) for arg in args]
    futures = [client.submit(task, item, *shared, pure=False) for item in items]
    item_of = {future.key: item for future, item in zip(futures, items, strict=True)}
    for future in as_completed(futures):
        if future.status == "error":
            # re-raise the task's own exception (a ForecastError stays one line)
            future.result()
        if on_done is not None:
            on_done(item_of[future.key])
    return [future.result() for future in futures]
