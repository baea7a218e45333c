"""bench.listen_drops: the kernel's count of handshakes dropped by full accept queues."""

from pathlib import Path

from bench.listen_drops import dropped_since, listen_overflows, parse_counter

NETSTAT = (
    "TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops\n"
    "TcpExt: 373 0 158578 158578\n"
    "IpExt: InNoRoutes InTruncatedPkts\n"
    "IpExt: 0 0\n"
)


def test_the_counter_is_read_from_the_tcpext_lines():
    assert parse_counter(NETSTAT) == 158578


def test_another_tcpext_counter_is_read_by_name():
    assert parse_counter(NETSTAT, "SyncookiesSent") == 373


def test_a_counter_the_kernel_does_not_keep_is_none():
    assert parse_counter(NETSTAT, "NoSuchCounter") is None


def test_text_without_tcpext_lines_is_none():
    assert parse_counter("IpExt: InNoRoutes\nIpExt: 0\n") is None


def test_the_drops_since_a_reading_are_the_difference(tmp_path: Path):
    netstat = tmp_path / "netstat"
    netstat.write_text(NETSTAT)
    before = listen_overflows(netstat)
    netstat.write_text(NETSTAT.replace("158578 158578", "158600 158600"))
    assert dropped_since(before, netstat) == 22


def test_an_unreadable_counter_gives_no_drops(tmp_path: Path):
    assert listen_overflows(tmp_path / "missing") is None
    assert dropped_since(5, tmp_path / "missing") is None


def test_this_machine_keeps_the_counter():
    assert isinstance(listen_overflows(), int)
