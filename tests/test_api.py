import subprocess
import sys

import labeltools


def test_all_sorted_and_complete():
    assert labeltools.__all__ == sorted(labeltools.__all__)
    for name in labeltools.__all__:
        assert hasattr(labeltools, name), name


def test_errors_share_one_base():
    for name in labeltools.__all__:
        obj = getattr(labeltools, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, labeltools.LabeltoolsError), name


def test_import_is_warning_free():
    subprocess.run([sys.executable, "-W", "error", "-c", "import labeltools"], check=True)
