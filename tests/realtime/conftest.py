import pytest
import pytest_asyncio

from tests.realtime.support import Sockets, jwt_for


@pytest_asyncio.fixture
async def sockets():
    opened = Sockets()
    yield opened
    await opened.disconnect_all()


@pytest.fixture
def alice_token(alice) -> str:
    return jwt_for(alice)


@pytest.fixture
def bob_token(bob) -> str:
    return jwt_for(bob)
