"""Report parameters: read a notebook's ``parameters`` cell, check values given on the CLI.

A report notebook declares its parameters in one code cell tagged ``parameters``, one per
line, typed and commented::

    start: str = "2025-01-01"  # inclusive
    end: str = "2025-03-31"  # inclusive
    region: str = ""  # filter: one region, empty for all
    top_n: int = 10  # customers in the top table
    segments: list = ["smb", "enterprise"]  # comma-separated on the CLI
    db_url: str = ""  # may carry a password: passed to the kernel, never written

Types are ``str, int, float, bool, date, list`` (``list[int]`` types the elements;
``X | None`` or ``Optional[X]`` also accepts ``none``). Without an annotation the type is
that of the default. Dates are ISO ``YYYY-MM-DD``: a parameter is a date when it is
annotated ``date`` or when it is a ``str`` whose name ends in ``start``, ``end`` or
``date`` (the notebook then receives the ISO string, as its default is a string).

Secrets: a parameter whose name contains password, secret, token, credential or api_key,
or whose value is a URL carrying a password (``postgresql://u:pw@host/db``), is a secret.
``crmkit.report.render`` passes secrets to the kernel through an environment variable and
writes only :func:`redact`-ed text into the notebook, the HTML and the manifest.

This module reads notebooks as JSON so that checking parameters (and a fully cached
``crmkit render``) never pays for importing nbformat or papermill.
"""

from __future__ import annotations

import ast
import datetime as dt
import io
import json
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmkit.exceptions import ParameterError
from crmkit.i18n import N_, tr
from crmkit.secrets import REDACTED, SECRET_NAME, has_secret, redact_url, url_secrets

TYPES = ("str", "int", "float", "bool", "date", "list")
DATE_SUFFIXES = ("start", "end", "date")
TRUE = ("true", "yes", "y", "1", "on")
FALSE = ("false", "no", "n", "0", "off")
NONE = ("none", "null")


@dataclass(frozen=True)
class ParameterSpec:
    """One declared parameter: ``name: type = default  # comment``.

    ``default`` is the Python value of the default when it is a literal, else None, with
    ``default_source`` the default's text as written. ``item_type`` types list elements.
    """

    name: str
    type: str
    default: Any = None
    comment: str = ""
    optional: bool = False
    item_type: str = "str"
    default_source: str = ""

    @property
    def is_date(self) -> bool:
        return self.type == "date" or (self.type == "str" and self.name.lower().endswith(DATE_SUFFIXES))

    def describe(self) -> str:
        """``start: date = "2025-01-01"  # inclusive``, for error messages and ``--help``."""
        kind = "date" if self.is_date else (f"list[{self.item_type}]" if self.type == "list" else self.type)
        text = f"{self.name}: {kind}"
        if self.default_source:
            text += f" = {self.default_source}"
        return text + (f"  # {self.comment}" if self.comment else "")


# -- reading -----------------------------------------------------------------------------

def load_notebook_json(path: str | Path) -> dict:
    """The notebook at ``path`` as plain JSON (no nbformat: importing it costs ~2 s)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def parameters_cell(nb: dict) -> dict | None:
    """The first code cell tagged ``parameters``, or None."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def read_parameters(notebook: str | Path | dict) -> dict[str, ParameterSpec]:
    """The parameters a notebook declares, by name, in the order written.

    ``notebook`` is a path or the notebook's JSON. A notebook with no ``parameters`` cell
    declares none. Statements other than ``name[: type] = value`` are ignored (imports,
    comments); a line the parser cannot read raises ParameterError naming the line.
    """
    nb = notebook if isinstance(notebook, dict) else load_notebook_json(notebook)
    cell = parameters_cell(nb)
    if cell is None:
        return {}
    source = cell_source(cell)
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise ParameterError(tr("the parameters cell does not parse: line {line}: {error}").format(
            line=err.lineno, error=err.msg)) from None
    comments = _line_comments(source)
    lines = source.splitlines()
    specs: dict[str, ParameterSpec] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value, annotation = node.target.id, node.value, node.annotation
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value, annotation = node.targets[0].id, node.value, None
        else:
            continue
        default, known = _literal(value)
        kind, item_type, optional = _annotation_type(annotation, default, name)
        if known and default is None:
            optional = True
        text = ast.get_source_segment(source, value) or ""
        comment = comments.get(node.end_lineno, "")
        if not comment and node.lineno == node.end_lineno and "#" in lines[node.lineno - 1]:
            comment = comments.get(node.lineno, "")
        specs[name] = ParameterSpec(name, kind, default if known else None, comment, optional,
                                    item_type, text)
    return specs


def _line_comments(source: str) -> dict[int, str]:
    comments = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        pass
    return comments


def _literal(node: ast.AST) -> tuple[Any, bool]:
    """(value, True) for a literal or ``date(y, m, d)`` / ``datetime.date(...)``, else (None, False)."""
    if isinstance(node, ast.Call) and not node.keywords:
        func = node.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if fname == "date":
            try:
                return dt.date(*(ast.literal_eval(a) for a in node.args)), True
            except (ValueError, TypeError):
                return None, False
    try:
        return ast.literal_eval(node), True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None, False


def _annotation_type(annotation: ast.AST | None, default: Any, name: str) -> tuple[str, str, bool]:
    """(type, list item type, optional) from an annotation, else from the default's type."""
    if annotation is None:
        return _type_of(default), _item_type_of(default), default is None
    optional = False
    # X | None, Optional[X]
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        parts = [annotation.left, annotation.right]
        non_none = [p for p in parts if not (isinstance(p, ast.Constant) and p.value is None)]
        if len(non_none) == 1:
            annotation, optional = non_none[0], True
    if isinstance(annotation, ast.Subscript) and _name(annotation.value) == "Optional":
        annotation, optional = annotation.slice, True
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):  # "date"
        try:
            return _annotation_type(ast.parse(annotation.value, mode="eval").body, default, name)
        except SyntaxError:
            pass
    item_type = "str"
    if isinstance(annotation, ast.Subscript) and _name(annotation.value) in ("list", "List"):
        item_type = _name(annotation.slice) or "str"
        annotation = annotation.value
    kind = _name(annotation)
    kind = {"List": "list", "datetime.date": "date"}.get(kind, kind)
    if kind not in TYPES:
        raise ParameterError(
            tr("parameter {name} is annotated {annotation}; use one of: {types}").format(
                name=repr(name), annotation=repr(ast.unparse(annotation)),
                types=", ".join(TYPES)))
    if item_type not in ("str", "int", "float", "bool", "date"):
        raise ParameterError(tr("parameter {name}: list elements must be str, int, float, bool "
                                "or date").format(name=repr(name)))
    if kind == "list" and _item_type_of(default) != "str" and item_type == "str" \
            and not isinstance(annotation, ast.Subscript):
        item_type = _item_type_of(default)
    return kind, item_type, optional


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def _type_of(value: Any) -> str:
    for kind, cls in (("bool", bool), ("int", int), ("float", float), ("date", dt.date),
                      ("list", (list, tuple))):
        if isinstance(value, cls):
            return kind
    return "str"


def _item_type_of(value: Any) -> str:
    if isinstance(value, (list, tuple)) and value:
        return _type_of(value[0]) if _type_of(value[0]) != "list" else "str"
    return "str"


# -- checking ----------------------------------------------------------------------------

def validate(specs: dict[str, ParameterSpec], raw: dict[str, Any], *, report: str | None = None
             ) -> dict[str, Any]:
    """CLI values (``{"start": "2025-01-01"}``) as typed values, checked against ``specs``.

    Strings are converted (``"3"`` -> 3, ``"yes"`` -> True, ``"a,b"`` -> ["a", "b"], dates
    -> ``datetime.date``); values that already have the right Python type pass through.
    Returns only the parameters given. Raises ParameterError naming the parameter and what
    is valid: the declared names for an unknown one, the expected format for a bad value,
    and the pair when ``end`` comes before ``start``.
    """
    typed: dict[str, Any] = {}
    for name, value in raw.items():
        spec = specs.get(name)
        if spec is None:
            text = (tr("unknown parameter {name} of report {report}; valid parameters: {valid}")
                    if report else tr("unknown parameter {name}; valid parameters: {valid}"))
            raise ParameterError(text.format(name=repr(name), report=repr(report),
                                             valid=_valid_list(specs)))
        typed[name] = convert(spec, value, report=report)
    _check_period(specs, typed, report)
    return typed


def _valid_list(specs: dict[str, ParameterSpec]) -> str:
    if not specs:
        return tr("none (the notebook has no cell tagged 'parameters')")
    return "; ".join(spec.describe() for spec in specs.values())


def _bad(spec: ParameterSpec, report: str | None, problem: str, **values: Any) -> ParameterError:
    """``parameter 'start' of report 'churn': <problem>``: ``problem`` a message (its
    translation is looked up here) with ``values`` for its placeholders."""
    where = (tr("parameter {name} of report {report}") if report
             else tr("parameter {name}")).format(name=repr(spec.name), report=repr(report))
    return ParameterError(tr("{parameter}: {problem}").format(
        parameter=where, problem=tr(problem).format(**values)))


def convert(spec: ParameterSpec, value: Any, *, report: str | None = None) -> Any:
    """One value for ``spec`` (of ``report``, named in an error); see :func:`validate`."""
    if spec.optional and (value is None or (isinstance(value, str) and value.strip().lower() in NONE)):
        return None
    if spec.type == "list":
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    items = json.loads(text)
                except json.JSONDecodeError:
                    raise _bad(spec, report, N_("{value} is not a JSON list; give "
                                                "comma-separated values (a,b,c) or a JSON "
                                                "list"), value=repr(value)) from None
            else:
                items = [part.strip() for part in text.split(",") if part.strip()]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise _bad(spec, report, N_("expected a list, got {value}"), value=repr(value))
        item = ParameterSpec(spec.name, spec.item_type)
        return [_scalar(item, v, report, is_date=spec.item_type == "date") for v in items]
    return _scalar(spec, value, report, is_date=spec.is_date)


def _scalar(spec: ParameterSpec, value: Any, report: str | None, *, is_date: bool) -> Any:
    kind = "date" if is_date else spec.type
    if kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise _bad(spec, report, N_("expected a date as YYYY-MM-DD (e.g. 2025-01-31), got "
                                        "{value}"), value=repr(value)) from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise _bad(spec, report, N_("expected true or false ({true} / {false}), got {value}"),
                   true=", ".join(TRUE), false=", ".join(FALSE), value=repr(value))
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise _bad(spec, report, N_("expected a whole number, got {value}"),
                       value=repr(value)) from None
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value).strip())
        except ValueError:
            raise _bad(spec, report, N_("expected a number, got {value}"),
                       value=repr(value)) from None
    if not isinstance(value, str):
        raise _bad(spec, report, N_("expected text, got {value}"), value=repr(value))
    return value


def _check_period(specs: dict[str, ParameterSpec], typed: dict[str, Any],
                  report: str | None) -> None:
    values = {name: typed.get(name, spec.default) for name, spec in specs.items()}
    start, end = values.get("start"), values.get("end")
    try:
        start = dt.date.fromisoformat(start) if isinstance(start, str) else start
        end = dt.date.fromisoformat(end) if isinstance(end, str) else end
    except ValueError:
        return
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        text = (tr("parameters of report {report}: end ({end}) is before start ({start})")
                if report else tr("parameters: end ({end}) is before start ({start})"))
        raise ParameterError(text.format(report=repr(report), end=end, start=start))


# -- secrets -----------------------------------------------------------------------------

def is_secret(name: str, value: Any) -> bool:
    """True for a password/secret/token-like name or a URL carrying a password."""
    return bool(SECRET_NAME.search(name)) or (isinstance(value, str) and has_secret(value))


def redact(name: str, value: Any) -> Any:
    """The value as it may be shown: the password of a URL masked, a secret by name masked."""
    if isinstance(value, str) and has_secret(value):
        return redact_url(value)
    if SECRET_NAME.search(name) and value not in (None, ""):
        return REDACTED
    return value


def secret_texts(name: str, value: Any) -> list[str]:
    """The substrings of a secret value that must never be written out (longest first)."""
    if not isinstance(value, str) or not value:
        return []
    texts = {value, *url_secrets(value)}
    return sorted((t for t in texts if len(t) >= 3), key=len, reverse=True)
