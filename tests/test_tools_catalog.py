"""Every tool module is in the catalog: a module of declarations nobody imports would
silently offer nothing to the assistant, REST or USSD."""

from __future__ import annotations

import ast
from pathlib import Path

import tools
from tools import catalog

TOOLS_DIR = Path(tools.__file__).parent


def _declares_tools(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(call, ast.Name) and call.id == "tool_spec":
                    return True
    return False


def test_every_module_that_declares_tools_is_in_the_catalog() -> None:
    declaring = {p.stem for p in TOOLS_DIR.glob("*.py") if _declares_tools(p)}
    listed = {name for name, value in vars(catalog).items() if getattr(value, "__file__", None)} & {
        p.stem for p in TOOLS_DIR.glob("*.py")
    }
    assert declaring, "no tool declarations found: the check itself is broken"
    assert declaring == listed
