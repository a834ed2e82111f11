"""What a ClickHouse error means for the rows: only wrong values are the data's fault;
resources, authentication, connectivity and the server's state are retried."""

from __future__ import annotations

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError, DataError, OperationalError

from stream.errors import WarehouseRejected, WarehouseUnavailable
from stream.warehouse.client import INSERT_SETTINGS, classify_error
from stream.warehouse.error_codes import DATA_CODES


def server_error(code: int | None, text: str = "DB::Exception") -> DatabaseError:
    error = DatabaseError(f"Code: {code}. {text}" if code else text)
    if code is not None:
        error.code = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    "code",
    [
        241,  # MEMORY_LIMIT_EXCEEDED
        243,  # NOT_ENOUGH_SPACE
        252,  # TOO_MANY_PARTS
        516,  # AUTHENTICATION_FAILED
        497,  # ACCESS_DENIED
        242,  # TABLE_IS_READ_ONLY
        60,  # UNKNOWN_TABLE (migrations not applied yet)
        159,  # TIMEOUT_EXCEEDED
        209,  # SOCKET_TIMEOUT
        210,  # NETWORK_ERROR
        425,  # SYSTEM_ERROR
        999_999,  # a code nobody listed: retried, never dropped
    ],
)
def test_errors_that_are_not_the_datas_fault_are_retried(code: int) -> None:
    assert isinstance(classify_error(server_error(code)), WarehouseUnavailable)


def test_a_proxy_5xx_and_a_lost_connection_are_retried() -> None:
    proxy = server_error(None, "HTTP driver received HTTP status 502: Bad Gateway")
    assert isinstance(classify_error(proxy), WarehouseUnavailable)
    assert isinstance(classify_error(OperationalError("refused")), WarehouseUnavailable)


@pytest.mark.parametrize("code", [53, 69, 70, 321, 349, 407, 469])
def test_server_side_data_errors_are_the_datas_fault(code: int) -> None:
    assert code in DATA_CODES
    assert isinstance(classify_error(server_error(code)), WarehouseRejected)


@pytest.mark.parametrize(
    "exc",
    [
        DataError("Unable to create native array for column `declared_at`"),
        OverflowError("int too big to convert"),
        ValueError("invalid literal for int()"),
    ],
)
def test_values_the_client_cannot_serialise_are_the_datas_fault(exc: Exception) -> None:
    assert isinstance(classify_error(exc), WarehouseRejected)


def test_a_batch_may_span_any_number_of_years() -> None:
    assert INSERT_SETTINGS["max_partitions_per_insert_block"] == 0
