"""The dict tallies expose exactly what prometheus_client's own metrics would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from proxy_core_observability.tally import CounterTally, HistogramTally, TallyCollector

BUCKETS = (0.05, 0.1, 0.25, 1.0, 10.0)
VALUES = [0.0, 0.05, 0.07, 0.1, 0.2500001, 1.0, 9.99, 10.0, 11.0, 300.0, 0.001]


def _samples(registry: CollectorRegistry) -> list[str]:
    lines = generate_latest(registry).decode().splitlines()
    return sorted(line for line in lines if not line.startswith("#") and "_created" not in line)


def test_histogram_and_counter_match_prometheus_client() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    histogram = HistogramTally("h_seconds", "doc", ["op"], BUCKETS)
    counter = CounterTally("c", "doc", ["op", "status"])
    ours.register(TallyCollector([histogram, counter]))
    ref_h = Histogram("h_seconds", "doc", ["op"], buckets=BUCKETS, registry=theirs)
    ref_c = Counter("c", "doc", ["op", "status"], registry=theirs)
    for i, value in enumerate(VALUES):
        op = "chat" if i % 3 else "messages"
        histogram.observe((op,), value)
        ref_h.labels(op).observe(value)
        counter.add((op, "200"), 2)
        ref_c.labels(op, "200").inc(2)
    assert _samples(ours) == _samples(theirs)
    assert any('le="+Inf"' in line for line in _samples(ours))
