import pytest

from herald_common.auth import channel_auth
from herald_common.auth.channels import InvalidChannel, can_read, parse_channel
from herald_common.auth.principal import Principal

EMPLOYEE = Principal("E1", frozenset({"employee"}))
MANAGER = Principal("M1", frozenset({"employee", "manager"}), manages="Sales")
ADMIN = Principal("A1", frozenset({"hr-admin"}))
SERVICE = Principal("payroll", frozenset({"service"}))
ALLOCATION = "private-allocation-6f1c1b8e-1111-4e2e-9d55-2b1d5d0a2f10"


@pytest.mark.parametrize(
    ("principal", "channel", "allowed"),
    [
        (EMPLOYEE, "private-employee-E1", True),
        (EMPLOYEE, "private-employee-E2", False),
        (EMPLOYEE, "private-department-Sales", False),
        (EMPLOYEE, ALLOCATION, False),
        (MANAGER, "private-employee-M1", True),
        (MANAGER, "private-department-Sales", True),
        (MANAGER, "private-department-HR", False),
        (MANAGER, ALLOCATION, False),
        (ADMIN, "private-department-HR", True),
        (ADMIN, ALLOCATION, True),
        (ADMIN, "private-employee-E1", False),
        (SERVICE, "private-employee-payroll", False),
    ],
)
def test_who_may_read_which_channel(principal, channel, allowed):
    assert can_read(principal, parse_channel(channel)) is allowed


@pytest.mark.parametrize(
    "name",
    [
        "",
        "public-news",
        "private-employee-",
        "private-allocation-not-a-uuid",
        "private-employee-E1\n",
        "private-employee-" + "x" * 200,
        "private-department-Sales Team",
    ],
)
def test_invalid_channel_names(name):
    with pytest.raises(InvalidChannel):
        parse_channel(name)


def test_signature_is_pusher_compatible():
    # The example from Pusher's channel authorization documentation.
    auth = channel_auth.sign(
        "278d425bdf160c739803", "7ad3773142a6692b25b8", "1234.1234", "private-foobar"
    )
    assert (
        auth
        == "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
    )
    assert channel_auth.verify(
        "278d425bdf160c739803", "7ad3773142a6692b25b8", "1234.1234", "private-foobar", auth
    )
    assert not channel_auth.verify(
        "278d425bdf160c739803", "7ad3773142a6692b25b8", "1234.1234", "private-foobaz", auth
    )
