"""What a ClickHouse error means for the rows of an insert: data or not. Pure data.

Codes and names are ClickHouse's own (``src/Common/ErrorCodes.cpp``; check one with
``SELECT errorCodeToName(code)``). Only the codes below say "these rows are wrong": the sink
finds the rows (by halving the batch) and dead-letters them. Every other failure — resources
(241 MEMORY_LIMIT_EXCEEDED, 243 NOT_ENOUGH_SPACE, 252 TOO_MANY_PARTS), authentication (516),
connectivity (209, 210, a proxy's 5xx without a code), the server's own state (242
TABLE_IS_READ_ONLY, 60 UNKNOWN_TABLE before a migration) or a code not listed here — leaves
the rows as they are: the sink pauses and retries, so nothing is dead-lettered because of
the infrastructure. An unknown code is therefore retried, never dropped: add it here only
if a retry of the same rows can never pass.
"""

from __future__ import annotations

DATA_CODES: dict[int, str] = {
    6: "CANNOT_PARSE_TEXT",
    25: "CANNOT_PARSE_ESCAPE_SEQUENCE",
    26: "CANNOT_PARSE_QUOTED_STRING",
    27: "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
    38: "CANNOT_PARSE_DATE",
    41: "CANNOT_PARSE_DATETIME",
    53: "TYPE_MISMATCH",
    69: "ARGUMENT_OUT_OF_BOUND",
    70: "CANNOT_CONVERT_TYPE",
    72: "CANNOT_PARSE_NUMBER",
    117: "INCORRECT_DATA",
    131: "TOO_LARGE_STRING_SIZE",
    321: "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
    349: "CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN",
    407: "DECIMAL_OVERFLOW",
    469: "VIOLATED_CONSTRAINT",
}
"""Server-side codes that blame the inserted values."""

# Raised by clickhouse-connect while it serialises the rows, before anything is sent: a value
# the column type cannot hold (a Date before 1970, a UInt32 over 2**32, a Decimal(38, 4)
# over 10**34). clickhouse-connect wraps most in DataError (no code); some escape unwrapped.
CLIENT_DATA_ERRORS: tuple[type[Exception], ...] = (OverflowError, ValueError, TypeError)


def is_data_code(code: int | None) -> bool:
    return code is not None and code in DATA_CODES
