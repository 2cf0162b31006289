"""The load generator of bench/registry.py: ``clients`` threads, each with one persistent
HTTP/1.1 connection (http.client), taking tasks from one feed until none is left or the time
limit has passed. A task is a list of calls one client makes in order (a model, then its
versions). Every answer is checked: a status other than 2xx, or what the call's check finds
wrong in the JSON, is an error, and the task's later calls are not made.

A server that closes the connection after each response (gunicorn's sync workers do) is
reconnected to on the next call, and the connections opened are counted; a reused connection
the server had closed meanwhile is reopened once, as any keep-alive client does.
"""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

REQUEST_TIMEOUT = 60.0

Check = Callable[[dict], str | None]  # the answer's JSON -> what is wrong with it, or None


class Call(NamedTuple):
    method: str
    path: str
    body: bytes | None
    check: Check | None


@dataclass
class ClientTally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    connections: int = 0
    retries: int = 0


class Feed:
    """Hands out task indexes to the clients until the tasks or the time run out."""

    def __init__(self, count: int, deadline: float):
        self.count, self.deadline = count, deadline
        self.next, self.lock, self.stopped = 0, threading.Lock(), False

    def take(self) -> int | None:
        with self.lock:
            if self.next >= self.count:
                return None
            if time.perf_counter() > self.deadline:
                self.stopped = True
                return None
            self.next += 1
            return self.next - 1


def call_once(conn: http.client.HTTPConnection, call: Call, headers, tally: ClientTally) -> bool:
    """One request on the client's connection; its latency, or an error. A reused connection the
    server had closed is reopened once, as any keep-alive client does."""
    started = time.perf_counter()
    for attempt in (1, 2):
        fresh = conn.sock is None
        try:
            conn.request(call.method, call.path, call.body, headers)
            response = conn.getresponse()
            data = response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
            conn.close()
            if not fresh and attempt == 1:
                tally.retries += 1
                continue
            tally.errors.append(f"{call.method} {call.path}: {error!r}")
            return False
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            tally.errors.append(f"{call.method} {call.path}: {error!r}")
            return False
        break
    tally.latencies.append(time.perf_counter() - started)
    tally.connections += fresh
    if not 200 <= response.status < 300:
        tally.errors.append(f"{call.method} {call.path}: {response.status} {data[:300]!r}")
        return False
    if call.check is not None:
        try:
            problem = call.check(json.loads(data))
        except ValueError as error:
            problem = f"not JSON ({error})"
        if problem:
            tally.errors.append(f"{call.method} {call.path}: {problem}")
            return False
    return True


def client_run(port: int, headers: dict, tasks: list[list[Call]], feed: Feed, tally: ClientTally):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        while (index := feed.take()) is not None:
            for call in tasks[index]:
                if not call_once(conn, call, headers, tally):
                    break  # the task's later calls need this one
    finally:
        conn.close()


@dataclass
class Outcome:
    """What one workload did against one server."""

    planned: int
    seconds: float
    finished: bool
    latencies: list[float]
    errors: list[str]
    connections: int
    retries: int
    server_cpu: float | None = None
    postgres_cpu: float | None = None
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else math.nan


def load_run(port: int, headers: dict, tasks: list[list[Call]], clients: int, limit: float):
    """Run ``tasks`` with ``clients`` concurrent clients for at most ``limit`` seconds."""
    started = time.perf_counter()
    feed = Feed(len(tasks), started + limit)
    tallies = [ClientTally() for _ in range(clients)]
    threads = [
        threading.Thread(target=client_run, args=(port, headers, tasks, feed, tally))
        for tally in tallies
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Outcome(
        planned=sum(map(len, tasks)),
        seconds=time.perf_counter() - started,
        finished=not feed.stopped,
        latencies=[value for tally in tallies for value in tally.latencies],
        errors=[error for tally in tallies for error in tally.errors],
        connections=sum(tally.connections for tally in tallies),
        retries=sum(tally.retries for tally in tallies),
    )
