"""herald_common.affinity: department -> partition -> share, as the producers place them."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner

from herald_common.affinity import (
    InvalidShare,
    Share,
    format_key,
    parse_key,
    partition_for,
    route_key,
    stream_share,
)

DEPARTMENTS = ["Engineering", "Sales", "Operations", "Support", "Marketing", "Finance", "HR"]
UNICODE = ["Recherche & Développement", "Qualität", "営業", "a" * 64]


@pytest.mark.parametrize("department", DEPARTMENTS + UNICODE)
@pytest.mark.parametrize("partitions", [1, 3, 6, 12, 48])
def test_partition_is_the_one_the_producers_partitioner_picks(
    department: str, partitions: int
) -> None:
    every = list(range(partitions))
    expected = DefaultPartitioner()(department.encode(), every, every)
    assert partition_for(department, partitions) == expected


def test_route_key_matches_the_java_clients_murmur2() -> None:
    # org.apache.kafka.common.utils.Utils.murmur2("21".getBytes()) = -973932308;
    # the partitioner keeps its low 31 bits (toPositive).
    assert route_key("21") == -973932308 & 0x7FFFFFFF


@pytest.mark.parametrize("text", ["all", " all "])
def test_all_reads_every_partition(text: str) -> None:
    share = Share.parse(text)
    assert share.reads_all
    assert share.partitions("t", {3, 0, 2, 1}) == [0, 1, 2, 3]


def test_member_i_of_n_reads_every_nth_partition() -> None:
    assert Share.parse("1/3").partitions("t", range(12)) == [1, 4, 7, 10]


@pytest.mark.parametrize("text", ["2/2", "-1/2", "1/0", "1", "one/two", "1/2/3", ""])
def test_a_malformed_share_is_refused_with_its_form(text: str) -> None:
    with pytest.raises(InvalidShare, match=r"i/n|i must be"):
        Share.parse(text)


def test_partitions_not_a_multiple_of_the_shares_are_refused_naming_the_topic() -> None:
    with pytest.raises(InvalidShare, match=r"herald\.voucher\.allocated has 5 partitions"):
        Share.parse("0/2").partitions("herald.voucher.allocated", range(5))


@pytest.mark.parametrize("count", [1, 2, 3, 4, 6, 12])
@pytest.mark.parametrize("department", DEPARTMENTS + UNICODE)
def test_the_share_holding_a_department_reads_its_partition_on_every_topic(
    count: int, department: str
) -> None:
    for partitions in (12, 24, 48):
        (holder,) = [Share(i, count) for i in range(count) if Share(i, count).holds([department])]
        assert partition_for(department, partitions) in holder.partitions("t", range(partitions))


def test_every_department_is_held_by_exactly_one_share_of_n() -> None:
    for department in DEPARTMENTS + UNICODE:
        assert sum(Share(i, 4).holds([department]) for i in range(4)) == 1


def test_all_holds_every_department() -> None:
    assert Share().holds(DEPARTMENTS + UNICODE)


def test_a_share_does_not_hold_a_set_of_departments_on_different_shares() -> None:
    # Sales (key mod 2 = 0) and Engineering (key mod 2 = 1).
    assert route_key("Sales") % 2 != route_key("Engineering") % 2
    assert not any(Share(i, 2).holds(["Sales", "Engineering"]) for i in range(2))


def test_a_stream_of_one_department_goes_to_its_share() -> None:
    key = route_key("Sales")
    assert stream_share([key], 2) == key % 2


def test_a_stream_of_departments_on_one_share_goes_to_it() -> None:
    keys = [route_key("Sales"), route_key("Operations")]  # both on share 0 of 2
    assert stream_share(keys, 2) == 0


def test_a_stream_of_departments_on_several_shares_goes_to_all() -> None:
    assert stream_share([route_key("Sales"), route_key("Engineering")], 2) is None


def test_a_stream_whose_department_is_unknown_goes_to_all() -> None:
    assert stream_share([None, route_key("Sales")], 2) is None


def test_a_stream_without_departments_goes_to_all() -> None:
    assert stream_share([], 2) is None


def test_with_one_share_every_stream_goes_to_all() -> None:
    assert stream_share([route_key("Sales")], 1) is None


def test_a_key_survives_its_written_form() -> None:
    key = route_key("Engineering")
    assert parse_key(format_key(key)) == key


@pytest.mark.parametrize("text", ["", "1234567", "123456789", "ABCDEF01", "zzzzzzzz"])
def test_anything_else_is_no_key(text: str) -> None:
    assert parse_key(text) is None
