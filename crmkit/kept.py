"""The one least-recently-used store crmkit keeps computed things in (query results,
KPI values, drawn sections)."""

from __future__ import annotations

from collections import OrderedDict

_MISSING = object()


class Kept(OrderedDict):
    """A dict that keeps its ``size`` most recently used entries: ``get`` and setting an
    item make it the most recent; beyond ``size`` the least recent goes. (Hand-written:
    functools.lru_cache wraps a function, these stores are filled from several places.)
    Not locked: callers that share one across threads hold their own lock."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get(self, key, default=None):
        value = super().get(key, _MISSING)
        if value is _MISSING:
            return default
        self.move_to_end(key)
        return value

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
