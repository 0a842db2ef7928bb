"""Collects generation requests that wait at the same time into batched model calls.

The worker runs up to WORKER_CONCURRENCY jobs in threads; each job's generate() submits one item
and blocks on its future. One batch thread owns the model (all GPU work happens on it): it takes
the first waiting item, waits up to `window_s` for others (or until `max_batch` are waiting),
groups what it took by `key` (requests of one group can share a model call) and runs each group,
at most `max_batch` rows per call. Items that arrive while a call runs form the next batch, so
under load batches fill without waiting for the window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Pending(Generic[T, R]):
    item: T
    future: Future[R] = field(default_factory=Future)


class Batcher(Generic[T, R]):
    def __init__(
        self,
        run: Callable[[list[T]], list[R]],
        key: Callable[[T], Hashable],
        max_batch: int,
        window_s: float,
    ) -> None:
        self._run = run
        self._key = key
        self.max_batch = max_batch
        self.window_s = window_s
        self._pending: list[_Pending[T, R]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.calls: list[int] = []  # batch size of each model call, for logs and tests

    def submit(self, item: T) -> Future[R]:
        p: _Pending[T, R] = _Pending(item)
        with self._cond:
            self._pending.append(p)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="musicgen", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return p.future

    def __call__(self, item: T) -> R:
        return self.submit(item).result()

    def _take(self) -> list[_Pending[T, R]]:
        with self._cond:
            while not self._pending:
                self._cond.wait()
            deadline = time.monotonic() + self.window_s
            while len(self._pending) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            taken, self._pending = self._pending, []
            return taken

    def _loop(self) -> None:
        while True:
            taken = self._take()
            groups: dict[Hashable, list[_Pending[T, R]]] = {}
            for p in taken:
                try:
                    groups.setdefault(self._key(p.item), []).append(p)
                except Exception as err:
                    p.future.set_exception(err)
            for members in groups.values():
                for i in range(0, len(members), self.max_batch):
                    self._call(members[i : i + self.max_batch])

    def _call(self, members: list[_Pending[T, R]]) -> None:
        self.calls.append(len(members))
        try:
            results = self._run([p.item for p in members])
            if len(results) != len(members):
                raise RuntimeError(f"batch returned {len(results)} results for {len(members)}")
        except BaseException as err:
            for p in members:
                p.future.set_exception(err)
            if not isinstance(err, Exception):
                raise
            return
        for p, r in zip(members, results, strict=True):
            p.future.set_result(r)
