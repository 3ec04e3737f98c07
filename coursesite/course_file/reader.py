"""Reading a course file: YAML with line numbers, and typed accessors that name the key at fault.

Every accessor raises ``CourseFileError`` with the file, the line, the key path and the problem,
so an instructor can find and fix a mistake without reading code.

A course file may also be written to break the loader, so the reader holds it to limits before
anything else looks at it, and every way it can fail ends in a ``CourseFileError``:

- a file over ``MOST_BYTES`` is refused before it is parsed;
- aliases may bring in at most ``MOST_ALIASED_NODES`` values in all, counting the aliases inside
  what an alias repeats (a few kilobytes of nested aliases can otherwise stand for billions of
  values); an alias may not repeat the value it is part of;
- values may be nested at most ``MOST_DEPTH`` levels deep;
- an error message shows at most ``SHOWN_LENGTH`` characters of any value or key (``shown``);
- a path the file names resolves, symbolic links followed, inside the course file's folder
  (``Node.path_inside``).
"""

from __future__ import annotations

import os
import re
import reprlib
import stat
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

DATETIME_FORMAT = "%Y-%m-%d %H:%M"
TIME_FORMAT = "%H:%M"
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
MOST_BYTES = 2_000_000
MOST_ALIASED_NODES = 100_000
MOST_DEPTH = 50
SHOWN_LENGTH = 80

_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel = 2
_SHORT_REPR.maxstring = _SHORT_REPR.maxlong = _SHORT_REPR.maxother = SHOWN_LENGTH


def clipped(text: str) -> str:
    """Text cut to ``SHOWN_LENGTH`` characters, marked with ``...`` where it was cut."""
    return text if len(text) <= SHOWN_LENGTH else f"{text[: SHOWN_LENGTH - 3]}..."


def shown(value: Any) -> str:
    """A value as an error message quotes it: its ``repr``, at most ``SHOWN_LENGTH`` characters.

    ``reprlib`` stops early, so even a value of millions of items is never written out whole.
    """
    return clipped(_SHORT_REPR.repr(value))


class CourseFileError(Exception):
    def __init__(self, file: str, key: str, problem: str, line: int | None = None) -> None:
        self.file, self.key, self.problem, self.line = file, key, problem, line
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


class LineMapping(dict[str, Any]):
    """A YAML mapping that remembers the line of each of its keys."""

    lines: dict[str, int]


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML that the course file's limits refuse, at ``key`` (a path like ``a.b[0]``)."""

    def __init__(self, key: str, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.key = key


class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps (dates are read by the schema, in the course's zone),
    without duplicate keys (YAML would silently keep the last one), and within the limits above.

    The limits are kept while the document is composed, before any value is built: the composer
    shares one node among all the aliases to it, so counting is cheap where expanding is not.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str] = []
        self._aliased = 0
        # Expanded size of each anchored node, by id (the nodes stay alive in self.anchors).
        self._sizes: dict[int, int] = {}
        self._counts: list[int] = [0]

    def _key(self) -> str:
        return clipped("".join(self._path).lstrip("."))

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if isinstance(index, yaml.ScalarNode):
            self._path.append(f".{clipped(str(index.value))}")
        elif isinstance(index, int):
            self._path.append(f"[{index}]")
        else:
            self._path.append("")
        try:
            return self._compose_counted(parent, index)
        finally:
            self._path.pop()

    def _compose_counted(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) and event.anchor in self.anchors:
            size = self._sizes.get(id(self.anchors[event.anchor]))
            if size is None:
                raise _Refused(
                    self._key(), "an alias may not repeat the value it is part of", event.start_mark
                )
            self._aliased += size
            if self._aliased > MOST_ALIASED_NODES:
                raise _Refused(
                    self._key(),
                    f"the aliases of the file expand to more than {MOST_ALIASED_NODES} values",
                    event.start_mark,
                )
            self._counts[-1] += size
            return super().compose_node(parent, index)
        if len(self._counts) > MOST_DEPTH:
            raise _Refused(
                self._key(),
                f"values are nested more than {MOST_DEPTH} levels deep",
                event.start_mark,
            )
        self._counts.append(0)
        try:
            node = super().compose_node(parent, index)
        finally:
            inside = self._counts.pop()
        self._counts[-1] += 1 + inside
        if getattr(event, "anchor", None) is not None:
            self._sizes[id(node)] = 1 + inside
        return node


# YAML 1.1 reads 16:00 as the base-60 number 960 and 2024-10-09 as a date in no time zone.
# The course file wants both as text, so these resolvers are replaced by ones that only see
# plain numbers.
_REPLACED_TAGS = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineMapping:
    mapping = LineMapping()
    mapping.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {shown(key)} is not text", key_node.start_mark
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {shown(key)} appears twice", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, file: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except _Refused as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise CourseFileError(file, error.key, error.problem or "", line) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise CourseFileError(
            file, "", f"not valid YAML: {clipped(str(error.problem))}", line
        ) from None
    except yaml.YAMLError as error:
        raise CourseFileError(file, "", f"not valid YAML: {clipped(str(error))}") from None
    # A tag such as !!int or !!timestamp builds its value with Python, which has its own limits
    # (an integer of 5,000 digits); the limits above make the last two unlikely, not impossible.
    except (ValueError, OverflowError, RecursionError, MemoryError) as error:
        raise CourseFileError(file, "", f"cannot be read: {clipped(str(error))}") from None


@dataclass(frozen=True)
class Node:
    """A value of the course file with the path that leads to it."""

    value: Any
    path: str
    file: str
    line: int | None = None

    def error(self, problem: str) -> CourseFileError:
        return CourseFileError(self.file, self.path, problem, self.line)

    def path_inside(self, folder: Path, *, max_length: int = 500) -> Path:
        """The path this text names, relative to ``folder``, resolved with its symbolic links.

        A path that leads outside ``folder`` (absolute, through ``..`` or through a link) is
        refused before anything reads it, so the file cannot make the loader read, or echo in an
        error, any file of the server.
        """
        name = self.text(max_length=max_length)
        inside = folder.resolve()
        path = (inside / name).resolve()
        if not path.is_relative_to(inside):
            raise self.error(
                f"{shown(name)} leads outside; name a path inside the folder of the course file"
            )
        return path

    def _child(self, value: Any, path: str, line: int | None) -> Node:
        return Node(value, path, self.file, line if line else self.line)

    def mapping(
        self, *, required: Collection[str] = (), optional: Collection[str] = ()
    ) -> dict[str, Node]:
        if not isinstance(self.value, dict):
            raise self.error(f"expected a mapping of keys to values, found {_kind(self.value)}")
        lines = getattr(self.value, "lines", {})
        for key in self.value:
            if key not in required and key not in optional:
                known = ", ".join(sorted({*required, *optional}))
                raise CourseFileError(
                    self.file,
                    self._join(clipped(key)),
                    f"unknown key (known keys here: {known})",
                    lines.get(key, self.line),
                )
        for key in sorted(required):
            if key not in self.value:
                raise self.error(f"the key {key!r} is missing")
        return {
            key: self._child(value, self._join(key), lines.get(key))
            for key, value in self.value.items()
        }

    def _join(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def items(self) -> Iterator[Node]:
        if not isinstance(self.value, list):
            raise self.error(f"expected a list, found {_kind(self.value)}")
        for index, value in enumerate(self.value):
            yield self._child(value, f"{self.path}[{index}]", _first_line(value))

    def text(self, *, max_length: int = 300, allow_empty: bool = False) -> str:
        if isinstance(self.value, bool) or not isinstance(self.value, str | int | float):
            raise self.error(f"expected text, found {_kind(self.value)}")
        value = str(self.value).strip()
        if not value and not allow_empty:
            raise self.error("must not be empty")
        if len(value) > max_length:
            raise self.error(f"is {len(value)} characters long; at most {max_length} are allowed")
        return value

    def slug(self) -> str:
        value = self.text(max_length=64)
        if not SLUG_RE.match(value):
            raise self.error(f"{shown(value)} is not a slug (letters, digits, '-' and '_' only)")
        return value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.error(f"expected true or false, found {shown(self.value)}")
        return self.value

    def integer(self, *, minimum: int = 0, maximum: int | None = None) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.error(f"expected a whole number, found {shown(self.value)}")
        if self.value < minimum or (maximum is not None and self.value > maximum):
            upper = f" and {maximum}" if maximum is not None else ""
            raise self.error(
                f"{clipped(str(self.value))} is not between {minimum}{upper or ' and any larger'}"
            )
        return self.value

    def decimal(self, *, minimum: Decimal = Decimal(0), maximum: Decimal | None = None) -> Decimal:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float | str):
            raise self.error(f"expected a number, found {_kind(self.value)}")
        try:
            number = Decimal(str(self.value))
        except InvalidOperation:
            raise self.error(f"{shown(self.value)} is not a number") from None
        if not number.is_finite() or number < minimum or (maximum is not None and number > maximum):
            raise self.error(
                f"{clipped(str(self.value))} is out of range ({minimum} to {maximum or 'any'})"
            )
        if number != number.quantize(Decimal("0.01")):
            raise self.error(f"{clipped(str(self.value))} has more than two decimals")
        return number.quantize(Decimal("0.01"))

    def date(self) -> date:
        try:
            return date.fromisoformat(self.text(max_length=10))
        except ValueError:
            raise self.error(f"{shown(self.value)} is not a date written YYYY-MM-DD") from None

    def time(self) -> time:
        try:
            return datetime.strptime(self.text(max_length=5), TIME_FORMAT).time()
        except ValueError:
            raise self.error(f"{shown(self.value)} is not a time written HH:MM (24-hour)") from None

    def local_datetime(self, zone: ZoneInfo) -> datetime:
        """A 'YYYY-MM-DD HH:MM' in the course's time zone, refused if the clock skips it.

        The instant comes back in UTC: a time the clock passes twice never compares equal to one
        in another zone (PEP 495), so reloading the same file would always see it changed.
        """
        try:
            naive = datetime.strptime(self.text(max_length=16), DATETIME_FORMAT)
        except ValueError:
            raise self.error(
                f"{shown(self.value)} is not a date and time written YYYY-MM-DD HH:MM"
            ) from None
        instant = naive.replace(tzinfo=zone).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) != naive:
            raise self.error(
                f"{clipped(str(self.value))} does not exist in {zone.key} (the clocks skip it)"
            )
        return instant


def _first_line(value: Any) -> int | None:
    lines = getattr(value, "lines", None)
    return min(lines.values()) if lines else None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return shown(value)


def read_limited(path: Path, *, encoding: str = "utf-8") -> str:
    """The text of a file the course file stands on, refused over ``MOST_BYTES``.

    Raises ``OSError`` or ``UnicodeDecodeError`` (for the caller to word), or ``ValueError`` for a
    file that is too large or not a regular file (a device or a pipe could be endless).
    """
    # Opened without waiting, so that a pipe is refused below instead of blocking the open.
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise ValueError("is not a regular file")
        data = stream.read(MOST_BYTES + 1)
    if len(data) > MOST_BYTES:
        raise ValueError(f"is larger than {MOST_BYTES // 1_000_000} MB")
    return data.decode(encoding)


def read_course_yaml(path: Path) -> Node:
    file = str(path)
    try:
        text = read_limited(path)
    except FileNotFoundError:
        raise CourseFileError(file, "", "no such file") from None
    except UnicodeDecodeError:
        raise CourseFileError(file, "", "not UTF-8 text") from None
    except OSError as error:
        raise CourseFileError(file, "", f"cannot be read: {error.strerror}") from None
    except ValueError as error:
        raise CourseFileError(file, "", f"the file {error}") from None
    return Node(parse_yaml(text, file), "", file)
