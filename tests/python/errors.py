"""Reads Assay's error details the way a Python integrator would: grpcio-status unpacks
google.rpc.Status from the trailers, and the client branches on ErrorInfo.reason, not on
the English message.

    errors.py TARGET TOKEN_FILE

Prints a JSON object of what each refused call carried; exits 1 if a detail is missing.
"""

import json
import sys

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from assay.registry.v1 import registry_pb2, registry_pb2_grpc


def details(error):
    """The unpacked details of a refused call, by type name."""
    status = rpc_status.from_call(error)
    if status is None:
        return {}
    found = {}
    for any_detail in status.details:
        for kind in (
            error_details_pb2.ErrorInfo,
            error_details_pb2.BadRequest,
            error_details_pb2.ResourceInfo,
            error_details_pb2.PreconditionFailure,
            error_details_pb2.RetryInfo,
        ):
            if any_detail.Is(kind.DESCRIPTOR):
                message = kind()
                any_detail.Unpack(message)
                found[kind.DESCRIPTOR.name] = message
    return found


def refused(call):
    try:
        call()
    except grpc.RpcError as error:
        return error.code().name, details(error)
    raise SystemExit("the call was not refused")


def main():
    target, token_file = sys.argv[1], sys.argv[2]
    with open(token_file) as f:
        token = f.read().strip()
    channel = grpc.insecure_channel(target)
    registry = registry_pb2_grpc.RegistryServiceStub(channel)
    auth = [("authorization", f"Bearer {token}")]

    seen = {}
    code, found = refused(lambda: registry.CreateMember(registry_pb2.CreateMemberRequest(), metadata=auth))
    seen["invalid"] = {
        "code": code,
        "reason": found["ErrorInfo"].reason,
        "domain": found["ErrorInfo"].domain,
        "fields": [v.field for v in found["BadRequest"].field_violations],
    }
    code, found = refused(lambda: registry.GetMember(registry_pb2.GetMemberRequest(id="mbr_00000000000000000000000000000000"), metadata=auth))
    seen["missing"] = {
        "code": code,
        "reason": found["ErrorInfo"].reason,
        "resource_type": found["ResourceInfo"].resource_type,
    }
    code, found = refused(lambda: registry.GetMember(registry_pb2.GetMemberRequest(id="mbr_1")))
    seen["anonymous"] = {"code": code, "reason": found["ErrorInfo"].reason}
    print(json.dumps(seen, sort_keys=True))


if __name__ == "__main__":
    main()
