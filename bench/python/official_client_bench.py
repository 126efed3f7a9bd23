"""Times the official Python client (kelviq-sdk) against kelviq-mock, for the Rust SDK's
benchmark. Usage: python official_client_bench.py BASE_URL CUSTOMER FEATURE
Prints one JSON object: ns per cached has_access, µs per uncached has_access.
"""
import json
import sys
import time

from kelviq_sdk import Kelviq

base, customer, feature = sys.argv[1], sys.argv[2], sys.argv[3]

cached = Kelviq.create_sync_client(access_token="sk_bench", base_url=base, edge_api_url=base, cache_ttl=3600)
assert cached.entitlements.has_access(customerId=customer, featureId=feature)
calls = 200_000
start = time.perf_counter_ns()
for _ in range(calls):
    cached.entitlements.has_access(customerId=customer, featureId=feature)
cached_ns = (time.perf_counter_ns() - start) / calls

uncached = Kelviq.create_sync_client(access_token="sk_bench", base_url=base, edge_api_url=base, enable_cache=False)
for _ in range(50):
    uncached.entitlements.has_access(customerId=customer, featureId=feature)
rounds = 1_000
start = time.perf_counter_ns()
for _ in range(rounds):
    uncached.entitlements.has_access(customerId=customer, featureId=feature)
uncached_us = (time.perf_counter_ns() - start) / rounds / 1000

print(json.dumps({"cached_ns": cached_ns, "uncached_us": uncached_us}))
