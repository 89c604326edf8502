"""A per-process cache of serialized query answers, keyed by dataset version.

Many people open the same example query; its answer only changes when the data
does. Each web worker keeps the bytes of recent answers in a least-recently-used
cache bounded in total bytes. The key holds the dataset version, so an answer is
never served for other data than it was computed on: a new version simply misses
(and old entries age out). Answers that can change on the same data (SERVICE,
RAND, NOW, UUID, STRUUID, BNODE) are never cached — the caller decides that and
passes no key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

Answer = TypeVar("Answer")


class ResultCache(Generic[Answer]):
    """An LRU map from keys to answers whose sizes add up to at most ``max_bytes``.

    >>> cache = ResultCache(max_bytes=10)
    >>> cache.put(("v1", "q1"), "a", 6)
    >>> cache.put(("v1", "q2"), "b", 6)          # evicts q1: 12 bytes would not fit
    >>> cache.get(("v1", "q1")) is None, cache.get(("v1", "q2"))
    (True, 'b')
    >>> cache.put(("v1", "big"), "c", 11)        # larger than the whole cache: not kept
    >>> cache.get(("v1", "big")) is None
    True
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[Answer, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> Answer | None:
        """The cached answer for ``key`` (and mark it recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: tuple, answer: Answer, size: int) -> None:
        """Keep ``answer`` (of ``size`` bytes) unless it is larger than the whole cache."""
        if size > self.max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._size -= previous[1]
            self._entries[key] = (answer, size)
            self._size += size
            while self._size > self.max_bytes:
                _, (_, evicted_size) = self._entries.popitem(last=False)
                self._size -= evicted_size

    def __len__(self) -> int:
        return len(self._entries)
