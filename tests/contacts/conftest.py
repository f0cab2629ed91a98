import pytest

from config import staff
from tests.factories import StaffUserFactory


@pytest.fixture
def staff_user(db):
    """A Standard staff user who makes the changes the services record."""
    return StaffUserFactory(username="stella", group=staff.STANDARD)
