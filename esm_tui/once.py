"""`once`: a cached property, as functools.cached_property without its lock.

Python 3.11's cached_property takes a per-class RLock on each instance's first read: at
1,000 domains the SPF records, DMARC discoveries and DNS answers read ~25,000 such
properties, and the locking was most of their cost (profiled; 3.12 dropped the lock).
The values here are pure functions of frozen objects, so two threads computing one at
once would only both store the same value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class once(Generic[T]):
    """Compute on first read, then keep the value in the instance's __dict__ (the
    attribute then shadows this non-data descriptor, so later reads cost nothing)."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> once[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | once[T]:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value
        return value
