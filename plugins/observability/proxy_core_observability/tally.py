"""Counters and histograms kept as plain dicts, turned into Prometheus families at scrape.

prometheus_client's metric objects take a lock and look up a child per ``labels()``
call; seven of them per request cost ~15 us on the hot path. Here a request adds to a
dict entry (the event loop is the only writer), and ``collect`` renders the same
exposition at scrape time (no ``_created`` series).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString


class CounterTally:
    def __init__(self, name: str, doc: str, labels: Sequence[str]) -> None:
        self.name, self.doc, self.labels = name, doc, list(labels)
        self.values: dict[tuple[str, ...], float] = {}

    def add(self, key: tuple[str, ...], amount: float = 1) -> None:
        self.values[key] = self.values.get(key, 0) + amount

    def family(self) -> CounterMetricFamily:
        family = CounterMetricFamily(self.name, self.doc, labels=self.labels)
        for key, value in self.values.items():
            family.add_metric(list(key), value)
        return family


class HistogramTally:
    """Per label set: a count per bucket (non-cumulative until scrape) and the sum."""

    def __init__(self, name: str, doc: str, labels: Sequence[str], buckets: Sequence[float]) -> None:
        self.name, self.doc, self.labels = name, doc, list(labels)
        self.bounds = tuple(buckets)
        self.values: dict[tuple[str, ...], list[float]] = {}  # [bucket counts..., +Inf count, sum]

    def observe(self, key: tuple[str, ...], value: float) -> None:
        row = self.values.get(key)
        if row is None:
            row = self.values[key] = [0.0] * (len(self.bounds) + 2)
        row[bisect_left(self.bounds, value)] += 1  # a value equal to a bound counts in it (le)
        row[-1] += value

    def family(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily(self.name, self.doc, labels=self.labels)
        for key, row in self.values.items():
            buckets: list[tuple[str, float]] = []
            total = 0.0
            for bound, n in zip((*self.bounds, float("inf")), row[:-1], strict=True):
                total += n
                buckets.append((floatToGoString(bound), total))
            family.add_metric(list(key), buckets, sum_value=row[-1])
        return family


class GaugeTally:
    def __init__(self, name: str, doc: str) -> None:
        self.name, self.doc = name, doc
        self.value = 0

    def family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(self.name, self.doc, value=self.value)


class TallyCollector:
    """A prometheus_client collector over tallies."""

    def __init__(self, tallies: Sequence[Any]) -> None:
        self.tallies = tallies

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        for tally in self.tallies:
            yield tally.family()
