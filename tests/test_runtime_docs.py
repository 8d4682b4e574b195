"""What `help()` and IPython's `?` show: every public class, method and property of the
extension has the docstring of its stub in _domo.pyi and the stub's real signature.

The runtime docstrings are generated from the stubs at build time (build.rs); this test
fails when the two drift apart or when a stub member lacks a docstring.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import domo_datasets._domo as runtime
import pytest

STUB = Path(runtime.__file__).with_name("_domo.pyi")
if not STUB.exists():
    STUB = Path(__file__).parents[1] / "python" / "domo_datasets" / "_domo.pyi"
TREE = ast.parse(STUB.read_text())
CLASSES = {
    node.name: node
    for node in TREE.body
    if isinstance(node, ast.ClassDef) and hasattr(runtime, node.name)
}
# Members the stubs spell out that Python itself documents (object's own slots).
PYTHON_DOCUMENTED = {"__new__"}


def _members() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    found = []
    for name, node in CLASSES.items():
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                if item.name not in PYTHON_DOCUMENTED:
                    found.append((name, item))
    return found


MEMBERS = _members()


def test_every_runtime_class_is_in_the_stubs() -> None:
    assert set(CLASSES) == {"Client", "Dataset", "Stream", "Table", "BatchStream", "Emulator"}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_class_docstring_matches_stub(name: str) -> None:
    expected = ast.get_docstring(CLASSES[name])
    assert expected, f"stub class {name} has no docstring"
    assert inspect.getdoc(getattr(runtime, name)) == expected


@pytest.mark.parametrize(("cls", "member"), MEMBERS, ids=[f"{c}.{m.name}" for c, m in MEMBERS])
def test_member_docstring_matches_stub(
    cls: str, member: ast.FunctionDef | ast.AsyncFunctionDef
) -> None:
    expected = ast.get_docstring(member)
    assert expected, f"stub {cls}.{member.name} has no docstring"
    attribute = inspect.getattr_static(getattr(runtime, cls), member.name)
    if isinstance(attribute, staticmethod):
        attribute = attribute.__func__
    if type(attribute).__name__ == "wrapper_descriptor":
        pytest.skip("a type slot (__len__, __iter__...): Python documents it itself")
    assert inspect.getdoc(attribute) == expected


def _stub_parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[str, str, Any]]:
    """(name, kind, default) of each parameter, as the stub declares them."""
    args = node.args
    out: list[tuple[str, str, Any]] = []
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    for arg, default in zip(positional, defaults, strict=True):
        out.append((arg.arg, "POSITIONAL_OR_KEYWORD", _value(default)))
    if args.vararg:
        out.append((args.vararg.arg, "VAR_POSITIONAL", "<none>"))
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        out.append((arg.arg, "KEYWORD_ONLY", _value(kw_default)))
    if args.kwarg:
        out.append((args.kwarg.arg, "VAR_KEYWORD", "<none>"))
    return out


def _value(default: ast.expr | None) -> Any:
    """A default as Python computes it (``32 * 1024 * 1024`` included)."""
    if default is None:
        return "<none>"
    return eval(compile(ast.Expression(default), "<stub>", "eval"), {"__builtins__": {}})


def _runtime_parameters(function: Any) -> list[tuple[str, str, Any]]:
    signature = inspect.signature(function)
    return [
        (
            p.name,
            p.kind.name,
            "<none>" if p.default is inspect.Parameter.empty else p.default,
        )
        for p in signature.parameters.values()
    ]


CALLABLES = [
    (c, m)
    for c, m in MEMBERS
    if not any(isinstance(d, ast.Name) and d.id == "property" for d in m.decorator_list)
    and not (m.name.startswith("__") and m.name != "__exit__")
] + [
    (name, item)
    for name, node in CLASSES.items()
    for item in node.body
    if isinstance(item, ast.FunctionDef) and item.name == "__new__"
]


@pytest.mark.parametrize(("cls", "member"), CALLABLES, ids=[f"{c}.{m.name}" for c, m in CALLABLES])
def test_signature_matches_stub(cls: str, member: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    owner = getattr(runtime, cls)
    function = owner if member.name == "__new__" else getattr(owner, member.name)
    stub = _stub_parameters(member)
    if (
        stub
        and stub[0][0] in ("self", "cls")
        and not any(
            isinstance(d, ast.Name) and d.id == "staticmethod" for d in member.decorator_list
        )
    ):
        stub = stub[1:]
    got = _runtime_parameters(function)
    # Unbound methods show `self` (a text signature's `$self`); compare the rest.
    if got and got[0][0] == "self":
        got = got[1:]
    assert got == stub


def test_no_default_shows_as_ellipsis() -> None:
    for cls in CLASSES:
        for name, value in vars(getattr(runtime, cls)).items():
            text = getattr(value, "__text_signature__", None)
            assert text is None or "..." not in text, (cls, name, text)
