"""One-line errors from exceptions whatever their message: the CLI never prints a traceback."""

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST

from mlgate.errors import NotFoundError, RegistryError, first_line
from mlgate.registry import translate


def test_first_line_is_the_message_s_first_line_or_the_exception_s_type():
    assert first_line(ValueError("bad value\nmore detail")) == "bad value"
    assert first_line(ValueError("")) == "ValueError"
    assert first_line(ValueError("  \n")) == "ValueError"
    assert first_line(MlflowException("from the server\ntrace")) == "from the server"
    assert first_line(ValueError("x" * 500), limit=10) == "x" * 10


def test_a_registry_error_without_a_message_is_still_one_line():
    with (
        pytest.raises(RegistryError, match=r"reading it failed: MlflowException$"),
        translate("sqlite:///r.db", "reading it"),
    ):
        raise MlflowException("")
    with (
        pytest.raises(NotFoundError, match=r"^reading it: no such run$"),
        translate("sqlite:///r.db", "reading it"),
    ):
        raise MlflowException("no such run\ndetail", error_code=RESOURCE_DOES_NOT_EXIST)
