#!/usr/bin/env python3
"""Reads a /metrics document (the Prometheus text format) on stdin with Prometheus's own
Python parser (prometheus_client) and prints its samples as JSON: a list of
{"name", "labels", "value"}. A document the parser refuses exits 1 with its error."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    samples = []
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                samples.append({"name": s.name, "labels": s.labels, "value": s.value, "type": family.type})
    except Exception as error:  # the parser's own error, whatever its type
        sys.exit(f"metrics_parse: not the Prometheus text format: {error}")
    json.dump(samples, sys.stdout)


if __name__ == "__main__":
    main()
