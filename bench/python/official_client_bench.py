"""Times the official Python client (kelviq-sdk) against kelviq-mock, for the Rust SDK's
benchmark, with the repetition rule the Rust figures follow: the cached call is the best of
3 repetitions of 200,000 calls; the uncached call is the mean of 10 rounds of 300 after a
warm-up round. Usage: python official_client_bench.py BASE_URL CUSTOMER FEATURE
Prints one JSON object: ns per cached has_access, µs per uncached has_access.
"""
import json
import sys
import time

from kelviq_sdk import Kelviq

base, customer, feature = sys.argv[1], sys.argv[2], sys.argv[3]
REPETITIONS = 3
CALLS = 200_000
ROUNDS = 10
PER_ROUND = 300

cached = Kelviq.create_sync_client(access_token="sk_bench", base_url=base, edge_api_url=base, cache_ttl=3600)
assert cached.entitlements.has_access(customerId=customer, featureId=feature)
best = float("inf")
for _ in range(REPETITIONS):
    start = time.perf_counter_ns()
    for _ in range(CALLS):
        cached.entitlements.has_access(customerId=customer, featureId=feature)
    best = min(best, (time.perf_counter_ns() - start) / CALLS)

uncached = Kelviq.create_sync_client(access_token="sk_bench", base_url=base, edge_api_url=base, enable_cache=False)
total = 0
for round in range(ROUNDS + 1):
    start = time.perf_counter_ns()
    for _ in range(PER_ROUND):
        uncached.entitlements.has_access(customerId=customer, featureId=feature)
    if round > 0:  # the first round warms the connection up
        total += time.perf_counter_ns() - start
uncached_us = total / (ROUNDS * PER_ROUND) / 1000

print(json.dumps({"cached_ns": best, "uncached_us": uncached_us}))
