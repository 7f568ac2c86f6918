"""Declared chapter parameters: every line of a notebook's ``parameters`` cell states its type and valid range.

A line reads ``name = default  # DECLARATION: what it means``, where DECLARATION is one or more alternatives
separated by ``|``, each one of

- ``None``;
- a quoted choice: ``"hinge"``;
- a type, ``int``, ``float``, ``str`` or ``bool``, optionally with a range: ``int > 0``, ``float < 1``,
  ``float in (0, 1]``, ``int in [0, inf)`` (brackets inclusive, parentheses exclusive). There is no ``>=``: papermill
  gives up on a parameter line with a second "=" in it.

Examples: ``epochs = None  # int > 0 | None: training epochs``, ``loss = None  # "hinge" | "softhinge" | None: ...``.
:func:`read_parameters` parses the cell; :meth:`Parameter.parse` turns command-line text into a valid value and
:meth:`Parameter.check` checks a value, both raising :class:`ParameterError` naming the parameter, the value and
what is valid.
"""

from __future__ import annotations

import ast
import io
import math
import re
import tokenize
from dataclasses import dataclass

_TYPES = {"int": int, "float": float, "str": str, "bool": bool}
_NONE_TEXT = ("None", "none", "null")
_RANGE = re.compile(r"^(int|float)\s*(?:([<>])\s*(\S+)|in\s*([\[(])\s*([^,]+),\s*([^\])]+)([\])]))$")


class ParameterError(ValueError):
    """A parameter line without a valid declaration, or a value outside its declaration."""


@dataclass(frozen=True)
class Alternative:
    """One alternative of a declaration: ``kind`` is None, "choice" or a type name; bounds apply to numbers."""

    kind: str
    choice: str | None = None
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def accepts(self, value: object) -> bool:
        if self.kind == "None":
            return value is None
        if self.kind == "choice":
            return value == self.choice
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "str":
            return isinstance(value, str)
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not numeric or (self.kind == "int" and not isinstance(value, int)) or not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def read(self, text: str) -> object:
        """``text`` as a value of this alternative's type (not range-checked); ValueError when it is not one."""
        if self.kind == "None":
            if text in _NONE_TEXT:
                return None
        elif self.kind == "choice":
            if text == self.choice:
                return text
        elif self.kind == "bool":
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
        elif self.kind == "int":
            if re.fullmatch(r"[+-]?\d+", text.strip()):
                return int(text)
        elif self.kind == "float":
            return float(text)  # nan and inf read, and are refused by accepts()
        else:
            return text
        raise ValueError(text)


def parse_declaration(text: str) -> tuple[Alternative, ...]:
    """The alternatives of a declaration such as ``int >= 1 | None``; ValueError naming the piece not understood."""
    alternatives = []
    for piece in (p.strip() for p in text.split("|")):
        if piece == "None":
            alternatives.append(Alternative("None"))
        elif len(piece) >= 2 and piece[0] == piece[-1] and piece[0] in "\"'":
            alternatives.append(Alternative("choice", choice=piece[1:-1]))
        elif piece in _TYPES:
            alternatives.append(Alternative(piece))
        elif m := _RANGE.match(piece):
            kind, op, bound, left, lo, hi, right = m.groups()
            if op:
                b = float(bound)
                alternatives.append(Alternative(kind, low=b if op == ">" else -math.inf,
                                                high=b if op == "<" else math.inf, low_open=op == ">",
                                                high_open=op == "<"))
            else:
                alternatives.append(Alternative(kind, low=float(lo), high=float(hi), low_open=left == "(",
                                                high_open=right == ")"))
        else:
            raise ValueError(f"cannot read {piece!r}")
    return tuple(alternatives)


@dataclass(frozen=True)
class Parameter:
    """A notebook parameter: its default, its declaration (text and parsed) and its description."""

    name: str
    default: object
    declaration: str
    alternatives: tuple[Alternative, ...]
    description: str

    def check(self, value: object) -> object:
        """``value`` itself if the declaration accepts it (ints are accepted where floats are declared, as floats);
        ParameterError naming the parameter, the value and the declaration otherwise."""
        for alt in self.alternatives:
            if alt.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
                if alt.accepts(float(value)):
                    return float(value)
            if alt.accepts(value):
                return value
        raise ParameterError(f"parameter {self.name!r} = {value!r} is not valid; valid: {self.declaration}")

    def parse(self, text: str) -> object:
        """Command-line ``text`` as a valid value: the first alternative that reads it and accepts the result."""
        readable = False
        for alt in sorted(self.alternatives, key=lambda a: a.kind != "None"):  # "None" is None, never the text
            try:
                value = alt.read(text)
            except ValueError:
                continue
            readable = True
            if alt.accepts(value):
                return value
        what = "is out of range" if readable else "has the wrong type"
        raise ParameterError(f"parameter {self.name!r} = {text!r} {what}; valid: {self.declaration}")


def read_parameters(source: str, where: str) -> dict[str, Parameter]:
    """The parameters of a ``parameters`` cell's ``source``, in order; ``where`` names the notebook in errors.

    Raises ParameterError for a line that is not ``name = literal  # declaration: description``, a declaration
    that cannot be read, or a default that its own declaration refuses."""
    comments = {tok.start[0]: tok.string.lstrip("#").strip()
                for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT}
    params = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ParameterError(f"{where}: the parameters cell may only hold 'name = value' lines "
                                 f"(line {node.lineno})")
        name = node.targets[0].id
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            raise ParameterError(f"{where}: parameter {name!r} must be a literal (number, string, bool or None), "
                                 f"line {node.lineno}") from None
        declaration, _, description = comments.get(node.lineno, "").partition(": ")
        try:
            alternatives = parse_declaration(declaration) if declaration else ()
        except ValueError as err:
            alternatives, problem = (), str(err)
        else:
            problem = "" if alternatives else "no declaration"
        if problem:
            raise ParameterError(f"{where}: parameter {name!r} (line {node.lineno}) needs a declared type and range "
                                 f"in its comment, e.g. '# int > 0 | None: what it is' ({problem})")
        param = Parameter(name, default, declaration.strip(), alternatives, description.strip())
        try:
            param.check(default)
        except ParameterError as err:
            raise ParameterError(f"{where}: the default of {err}") from None
        params[name] = param
    return params
