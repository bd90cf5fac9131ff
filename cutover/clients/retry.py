"""The one retry helper of the project (tenacity underneath): try again until a result is
good or a time limit passes. For the lags a protocol has by design: secondaries still
transferring, mail still in a queue, services still starting."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_delay, wait_fixed

T = TypeVar("T")


def until(
    attempt: Callable[[], T], ok: Callable[[T], bool], seconds: float, interval: float = 0.5
) -> T:
    """``attempt()`` until ``ok(result)`` or ``seconds`` have passed, ``interval`` apart;
    the last result either way (the caller says what a result that never became good
    means). An exception of ``attempt`` is not retried: it propagates at once."""

    def last(state: RetryCallState) -> T:
        assert state.outcome is not None  # tenacity calls this only after an attempt
        result: T = state.outcome.result()
        return result

    retrying = Retrying(
        retry=retry_if_result(lambda result: not ok(result)),
        stop=stop_after_delay(seconds),
        wait=wait_fixed(interval),
        retry_error_callback=last,
    )
    return retrying(attempt)
