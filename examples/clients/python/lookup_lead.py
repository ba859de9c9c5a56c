"""Asks sopd which procedures apply to a lead, from Python.

Run it with Debian's interpreter, which has python3-grpcio and
python3-protobuf (a pyenv or venv python3 does not), from the project root
after scripts/build, which generates the stubs into build/proto/python:

    /usr/bin/python3 examples/clients/python/lookup_lead.py

It reads the same settings as sopctl: SOPCTL_SERVER (default
127.0.0.1:50051) and SOPCTL_TOKEN_FILE (or SOPCTL_TOKEN); SOP_PY_STUBS
overrides where the stubs are.
"""

import os
import sys

sys.path.insert(0, os.environ.get("SOP_PY_STUBS", "build/proto/python"))

import grpc  # noqa: E402
from sopsidebar.v1 import context_service_pb2 as ctx_pb2  # noqa: E402
from sopsidebar.v1 import context_service_pb2_grpc as ctx_grpc  # noqa: E402


def token():
    if "SOPCTL_TOKEN" in os.environ:
        return os.environ["SOPCTL_TOKEN"]
    with open(os.environ["SOPCTL_TOKEN_FILE"]) as f:
        return f.read().strip()


def main():
    channel = grpc.insecure_channel(os.environ.get("SOPCTL_SERVER", "127.0.0.1:50051"))
    context_service = ctx_grpc.ContextServiceStub(channel)

    # The record as the CRM holds it. An empty org means the token's org.
    context = ctx_pb2.CrmContext(record_type="Lead", record_id="00Q5e00000ABCDE")
    context.fields["lead_status"].string_value = "MQL – New Handoff"
    context.fields["lead_score"].number_value = 82
    context.fields["company_size"].number_value = 120
    context.fields["title"].string_value = "VP Sales"

    try:
        response = context_service.LookupSops(
            ctx_pb2.LookupSopsRequest(context=context),
            metadata=[("authorization", "Bearer " + token())],
            timeout=5)
    except grpc.RpcError as error:
        print("%s: %s" % (error.code().name, error.details()), file=sys.stderr)
        return 1

    for match in response.matches:
        steps = match.sop_body.steps
        print("%s @ rev %s" % (match.sop, match.revision_id))
        if match.current_step_index >= 0:
            step = steps[match.current_step_index]
            print("  now: step %d/%d %s" % (match.current_step_index + 1, len(steps), step.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
