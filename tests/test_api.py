import ast
import subprocess
import sys

import labeltools

from .conftest import ROOT


def test_all_sorted_and_complete():
    assert labeltools.__all__ == sorted(labeltools.__all__)
    for name in labeltools.__all__:
        assert hasattr(labeltools, name), name


def test_exports_defined_where_they_are_listed():
    for module, names in labeltools._EXPORTS.items():
        mod = __import__(f"labeltools.{module}", fromlist=["_"])
        for name in names:
            assert getattr(labeltools, name) is getattr(mod, name), name


def test_type_checking_imports_match_exports():
    # The TYPE_CHECKING block is what IDEs and mypy see: it must list the same names.
    tree = ast.parse((ROOT / "labeltools" / "__init__.py").read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If))
    seen = {
        (node.module, alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    listed = {(m, n) for m, names in labeltools._EXPORTS.items() for n in names}
    assert seen == listed


def test_unknown_attribute():
    try:
        labeltools.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert str(exc) == "module 'labeltools' has no attribute 'no_such_name'"
    else:
        raise AssertionError("expected AttributeError")


def test_errors_share_one_base():
    for name in labeltools.__all__:
        obj = getattr(labeltools, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, labeltools.LabeltoolsError), name


def test_import_is_warning_free_and_light():
    code = (
        "import sys, labeltools; "
        "heavy = [m for m in ('numpy', 'PIL', 'typer') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)


def test_version_matches_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'attr = "labeltools._version.__version__"' in text
    assert labeltools.__version__.count(".") == 2
