"""Finding the local broker by its listening port, and reading a JVM-like process's CPU."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from bench.listeners import bootstrap_port, listening_pids, socket_ports
from bench.processes import process_cpu_seconds


def test_a_process_listening_on_the_port_is_found() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert listening_pids(listener.getsockname()[1]) == [os.getpid()]


def test_a_port_nobody_listens_on_names_no_process() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, so no one else takes it, but not listening
        assert listening_pids(unused.getsockname()[1]) == []


def test_a_client_connected_to_the_port_is_not_taken_for_its_listener() -> None:
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, sys\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
            "print(s.getsockname()[1], flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        with socket.create_connection(("127.0.0.1", port)):
            assert listening_pids(port) == [server.pid]
    finally:
        server.kill()
        server.wait()


def test_a_processs_ports_are_its_listeners_and_its_connections() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as client:
            ports = socket_ports(os.getpid())
            assert {listener.getsockname()[1], client.getsockname()[1]} <= ports


def test_the_ports_of_a_process_that_is_gone_raise() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with pytest.raises(FileNotFoundError):
        socket_ports(gone.pid)


def test_the_port_is_the_first_bootstrap_servers() -> None:
    assert bootstrap_port("10.0.0.7:19092, 10.0.0.8:29092") == 19092


def test_an_exited_threads_time_still_counts() -> None:
    def spin() -> None:
        end = time.thread_time() + 0.1
        while time.thread_time() < end:
            pass

    before = process_cpu_seconds(os.getpid())
    worker = threading.Thread(target=spin)
    worker.start()
    worker.join()  # gone: a per-thread reading would have lost its 0.1 s
    # Clock ticks of 10 ms: at least the spin, less a tick at each end.
    assert process_cpu_seconds(os.getpid()) - before >= 0.08
