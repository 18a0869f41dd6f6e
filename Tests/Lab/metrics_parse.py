#!/usr/bin/env python3
"""Reads a Prometheus text exposition on stdin with the independent
`prometheus_client` parser and prints it as JSON: {"types": {family: type},
"samples": {"name{label="value",...}": value}} (labels sorted). A text the parser
refuses exits 1 with its error."""
import json, sys
from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
types, samples = {}, {}
try:
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            key = f"{sample.name}{{{labels}}}" if labels else sample.name
            if key in samples:
                sys.exit(f"duplicate sample {key}")
            samples[key] = sample.value
except Exception as error:  # the parser's own errors are plain ValueErrors
    sys.exit(f"prometheus_client refused the exposition: {error}")
json.dump({"types": types, "samples": samples}, sys.stdout)
