import asyncio

import pytest

from events.batcher import Batcher


def _recording(sizes: list[int]):
    """A flush that notes each batch's size and returns the items."""

    async def flush(items: list[int]) -> list[int]:
        sizes.append(len(items))
        return items

    return flush


async def _turns(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def _lingering(linger: float, siblings: int, scenario) -> list[int]:
    """Runs `scenario(batcher, sizes)` on a lingering batcher; the sizes of
    its flushes."""
    sizes: list[int] = []
    batcher: Batcher[int, int] = Batcher(_recording(sizes), linger=linger, siblings=siblings)
    asyncio.run(asyncio.wait_for(scenario(batcher, sizes), 5))
    return sizes


def test_requests_that_arrive_during_a_flush_share_the_next_one():
    sizes: list[int] = []

    async def flush(items: list[int]) -> list[int]:
        sizes.append(len(items))
        await asyncio.sleep(0.01)
        return [item * 2 for item in items]

    async def main() -> list[int]:
        batcher: Batcher[int, int] = Batcher(flush)
        return await asyncio.gather(*(batcher.submit(i) for i in range(50)))

    assert asyncio.run(main()) == [i * 2 for i in range(50)]
    assert sizes == [50]  # all were queued before the first flush ran


def test_a_failed_flush_fails_its_batch_and_the_next_batch_still_runs():
    calls = 0

    async def flush(items: list[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database down")
        return items

    async def main() -> tuple:
        batcher: Batcher[str, str] = Batcher(flush)
        with pytest.raises(RuntimeError):
            await batcher.submit("a")
        return await batcher.submit("b")

    assert asyncio.run(main()) == "b"


def test_batches_are_capped():
    sizes: list[int] = []

    async def main() -> None:
        batcher: Batcher[int, int] = Batcher(_recording(sizes), max_batch=10)
        await asyncio.gather(*(batcher.submit(i) for i in range(25)))

    asyncio.run(main())
    assert sizes == [10, 10, 5]


def test_a_second_flush_runs_while_the_first_waits_when_allowed():
    running = 0
    most = 0

    async def flush(items: list[int]) -> list[int]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        return items

    async def main() -> None:
        batcher: Batcher[int, int] = Batcher(flush, max_batch=5, max_inflight=2)
        assert await asyncio.gather(*(batcher.submit(i) for i in range(20))) == list(range(20))

    asyncio.run(main())
    assert most == 2


def test_callbacks_get_their_own_result_or_the_batchs_error_and_one_failing_callback_spares_the_rest():
    calls = 0

    async def flush(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls == 2:
            raise RuntimeError("database down")
        return [item + 100 for item in items]

    seen: list[tuple] = []

    def broken(result, error) -> None:
        raise ValueError("a caller's bug")

    async def main() -> None:
        batcher: Batcher[int, int] = Batcher(flush)
        batcher.submit_then(1, lambda result, error: seen.append((1, result, error)))
        batcher.submit_then(2, broken)
        batcher.submit_then(3, lambda result, error: seen.append((3, result, error)))
        while len(seen) < 2:
            await asyncio.sleep(0)
        batcher.submit_then(4, lambda result, error: seen.append((4, result, repr(error))))
        while len(seen) < 3:
            await asyncio.sleep(0)

    asyncio.run(main())
    assert seen == [(1, 101, None), (3, 103, None), (4, None, "RuntimeError('database down')")]


def test_after_a_flush_of_siblings_the_next_lingers_until_as_many_are_waiting():
    async def scenario(batcher, sizes) -> None:
        await asyncio.gather(*(batcher.submit(i) for i in range(4)))
        late = [asyncio.ensure_future(batcher.submit(i)) for i in range(3)]
        await _turns()
        assert sizes == [4]  # three of the four: still lingering
        late.append(asyncio.ensure_future(batcher.submit(3)))
        assert await asyncio.gather(*late) == [0, 1, 2, 3]

    assert _lingering(60.0, 3, scenario) == [4, 4]


def test_a_lingering_flush_goes_with_what_it_has_after_the_linger():
    async def scenario(batcher, sizes) -> None:
        await asyncio.gather(*(batcher.submit(i) for i in range(5)))
        assert await batcher.submit(9) == 9

    assert _lingering(0.01, 2, scenario) == [5, 1]


def test_below_the_siblings_nothing_lingers():
    async def scenario(batcher, sizes) -> None:
        await asyncio.gather(*(batcher.submit(i) for i in range(3)))
        assert await batcher.submit(7) == 7  # within the 5 s bound, not after 60 s

    assert _lingering(60.0, 4, scenario) == [3, 1]


def test_after_a_linger_that_ran_out_of_time_the_next_flush_goes_at_once():
    async def scenario(batcher, sizes) -> None:
        await asyncio.gather(*(batcher.submit(i) for i in range(5)))
        await asyncio.gather(*(batcher.submit(i) for i in range(3)))  # waits for 5, goes with 3
        alone = asyncio.ensure_future(batcher.submit(9))
        await _turns()
        assert sizes == [5, 3, 1]
        assert await alone == 9

    assert _lingering(0.05, 2, scenario) == [5, 3, 1]
