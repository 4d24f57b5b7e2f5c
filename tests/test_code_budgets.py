"""Size budgets that keep the package readable: files, the base class, functions.

Measured on the source with :mod:`ast` (see CONTRIBUTING.md): a file over 500 lines or a
function over 40 lines of code means a concept wants its own home.
"""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skvae"
SOURCES = sorted(PACKAGE.rglob("*.py"))
MAX_FILE_LINES, MAX_BASE_CLASS_LINES, MAX_FUNCTION_LINES = 500, 350, 40


def code_lines(node) -> int:
    """Lines of a function or class, less its docstring."""
    lines = node.end_lineno - node.lineno + 1
    docstring = node.body[0] if node.body else None
    if (isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant)
            and isinstance(docstring.value.value, str)):
        lines -= docstring.end_lineno - docstring.lineno + 1
    return lines


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_files_and_functions_stay_small(path):
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_FILE_LINES
    tree = ast.parse(source)
    long = {node.name: code_lines(node) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and code_lines(node) > MAX_FUNCTION_LINES}
    assert long == {}


def test_the_base_class_reads_in_one_sitting():
    tree = ast.parse((PACKAGE / "_base.py").read_text())
    base = next(node for node in tree.body if isinstance(node, ast.ClassDef)
                and node.name == "BaseAutoencoder")
    assert base.end_lineno - base.lineno + 1 <= MAX_BASE_CLASS_LINES


def test_the_report_knows_no_method_by_name_and_nothing_private():
    source = (PACKAGE / "report.py").read_text()
    code = "\n".join(line for line in source.splitlines()
                     if not line.lstrip().startswith((">>>", "...", "|")))  # doctest data
    for method in ["PCA", "AE", "VAE", "Isomap", "AutoencoderTransformer", "VAETransformer"]:
        assert not re.search(rf"[\"'(]{method}[\"')]", code), method
    for path in ("report.py", "cli.py", "comparison.py"):
        tree = ast.parse((PACKAGE / path).read_text())
        imported = [f"{node.module or ''}.{alias.name}" for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) for alias in node.names]
        private = [name for name in imported
                   if any(part.startswith("_") and not part.startswith("__")
                          for part in name.split("."))]
        assert private == [], path
