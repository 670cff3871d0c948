"""Streams listings to ScreenListings the way a Python integrator would: grpcio's asyncio
client, every feed sending as fast as it can without waiting for answers.

    feeds.py TARGET TOKEN_FILE --streams N --listings M [--connection-per-stream]

Checks that every feed is answered whole and in order, prints a JSON summary and exits 1
if any feed failed. Generated stubs must be on PYTHONPATH (grpc_tools.protoc of proto/).
"""

import argparse
import asyncio
import json
import sys
import time

import grpc
from assay.common.v1 import common_pb2
from assay.screening.v1 import screening_pb2, screening_pb2_grpc


def requests(feed, listings):
    for i in range(listings):
        yield screening_pb2.ScreenListingsRequest(
            listing=screening_pb2.Listing(
                listing_id=f"py{feed}-{i}",
                seller_id="s",
                title=f"bag {i}",
                category="bags",
                price=common_pb2.Money(currency_code="EUR", units=90),
            )
        )


async def feed(channel, token, number, listings):
    stub = screening_pb2_grpc.ScreeningServiceStub(channel)
    call = stub.ScreenListings(
        requests(number, listings), metadata=(("authorization", f"Bearer {token}"),)
    )
    answered = 0
    async for answer in call:
        expected = f"py{number}-{answered}"
        if answer.listing_id != expected:
            raise AssertionError(f"answer {answered} is {answer.listing_id}, not {expected}")
        answered += 1
    if answered != listings:
        raise AssertionError(f"{answered} of {listings} answered")
    return answered


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("target")
    parser.add_argument("token_file")
    parser.add_argument("--streams", type=int, required=True)
    parser.add_argument("--listings", type=int, required=True)
    parser.add_argument("--connection-per-stream", action="store_true")
    args = parser.parse_args()
    with open(args.token_file) as f:
        token = f.read().strip()

    def channel():
        # A subchannel pool of its own gives each channel its own connection.
        return grpc.aio.insecure_channel(
            args.target, options=[("grpc.use_local_subchannel_pool", 1)]
        )

    shared = None if args.connection_per_stream else channel()
    channels = [shared or channel() for _ in range(args.streams)]
    started = time.monotonic()
    results = await asyncio.gather(
        *(feed(c, token, n, args.listings) for n, c in enumerate(channels)),
        return_exceptions=True,
    )
    failures = [f"feed {n}: {r!r}"[:300] for n, r in enumerate(results) if isinstance(r, BaseException)]
    for c in set(channels):
        await c.close()
    print(
        json.dumps(
            {
                "streams": args.streams,
                "listings": args.listings,
                "completed": args.streams - len(failures),
                "seconds": round(time.monotonic() - started, 2),
                "failures": failures[:5],
            }
        )
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
