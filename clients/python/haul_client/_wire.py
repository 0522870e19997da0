"""Helpers the generated `from_wire` / `to_wire` code calls (hand-written
runtime). Every conversion is spelled out per type in the generated modules;
these only cover what repeats."""

from enum import Enum
from typing import Any, TypeVar, Union

E = TypeVar("E", bound=Enum)


def enum_or_str(cls: type[E], value: Any) -> Union[E, str]:
    """The member of `cls` with this value, or the value itself as a plain
    `str` when `cls` has no such member (a newer daemon's value), so that
    a client never fails on a value added after it was generated."""
    try:
        return cls(value)
    except ValueError:
        if isinstance(value, str):
            return value
        raise


def enum_value(value: Union[Enum, str]) -> Any:
    """The wire value of an enum member, or a plain `str` as it is."""
    if isinstance(value, Enum):
        return value.value
    return value


def json_object(value: Any) -> dict[str, Any]:
    """Free-form JSON that the document describes as an object."""
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value
