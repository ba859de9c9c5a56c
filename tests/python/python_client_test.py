"""A non-C++ client against a real sopd: Debian's python3-grpcio with stubs
generated from proto/ (and gRPC's health and reflection protos).

Environment (set by ctest): SOPD (the sopd binary), SOP_PY_STUBS (generated
stubs), SOP_EXAMPLES (the example SOP directory).
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.environ["SOP_PY_STUBS"])
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))

import grpc  # noqa: E402
from google.protobuf import field_mask_pb2, struct_pb2, timestamp_pb2  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from reflection.v1alpha import reflection_pb2, reflection_pb2_grpc  # noqa: E402
from sopsidebar.v1 import admin_service_pb2 as admin_pb2  # noqa: E402
from sopsidebar.v1 import admin_service_pb2_grpc as admin_grpc  # noqa: E402
from sopsidebar.v1 import analytics_service_pb2 as an_pb2  # noqa: E402
from sopsidebar.v1 import analytics_service_pb2_grpc as an_grpc  # noqa: E402
from sopsidebar.v1 import context_service_pb2 as ctx_pb2  # noqa: E402
from sopsidebar.v1 import context_service_pb2_grpc as ctx_grpc  # noqa: E402
from sopsidebar.v1 import sop_pb2  # noqa: E402
from sopsidebar.v1 import sop_service_pb2 as sop_svc_pb2  # noqa: E402
from sopsidebar.v1 import sop_service_pb2_grpc as sop_svc_grpc  # noqa: E402
from sopd_process import Sopd, TIMEOUT  # noqa: E402


def rpc_status(error):
    """The google.rpc.Status an error carries in its trailing metadata."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            return status_pb2.Status.FromString(value)
    return None


def lead(**fields):
    context = ctx_pb2.CrmContext(org="orgs/default", record_type="Lead")
    for name, value in fields.items():
        context.fields[name].CopyFrom(_value(value))
    return context


def _value(v):
    value = struct_pb2.Value()
    if isinstance(v, bool):
        value.bool_value = v
    elif isinstance(v, (int, float)):
        value.number_value = v
    else:
        value.string_value = v
    return value


class PythonClientTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.sopd = Sopd(cls.tmp.name, import_dir=os.environ["SOP_EXAMPLES"]).start()
        cls.channel = grpc.insecure_channel(cls.sopd.address)
        cls.sops = sop_svc_grpc.SopServiceStub(cls.channel)
        cls.context = ctx_grpc.ContextServiceStub(cls.channel)
        cls.admin = admin_grpc.AdminServiceStub(cls.channel)
        cls.analytics = an_grpc.AnalyticsServiceStub(cls.channel)
        admin_auth = [("authorization", "Bearer " + cls.sopd.admin_token())]
        issued = cls.admin.CreateToken(admin_pb2.CreateTokenRequest(
            parent="orgs/default",
            token=admin_pb2.Token(user_id="python-test", roles=[sop_pb2.SALES_OPS])),
            metadata=admin_auth, timeout=TIMEOUT)
        cls.auth = [("authorization", "Bearer " + issued.secret)]

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.sopd.stop()
        cls.tmp.cleanup()

    def test_health_reports_serving(self):
        health = health_pb2_grpc.HealthStub(self.channel)
        for service in ("", "sopsidebar.v1.ContextService", "sopsidebar.v1.SopService"):
            response = health.Check(health_pb2.HealthCheckRequest(service=service),
                                    timeout=TIMEOUT)
            self.assertEqual(response.status, health_pb2.HealthCheckResponse.SERVING, service)

    def test_reflection_lists_the_services(self):
        stub = reflection_pb2_grpc.ServerReflectionStub(self.channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        responses = list(stub.ServerReflectionInfo(iter([request]), timeout=TIMEOUT))
        names = {s.name for s in responses[0].list_services_response.service}
        self.assertLessEqual({"sopsidebar.v1.SopService", "sopsidebar.v1.ContextService",
                              "grpc.health.v1.Health"}, names)

    def test_lookup_ranks_mql_acceptance_first_and_explains_it(self):
        response = self.context.LookupSops(
            ctx_pb2.LookupSopsRequest(context=lead(
                lead_status="MQL – New Handoff", lead_score=82, company_size=120,
                title="VP Sales")),
            metadata=self.auth, timeout=TIMEOUT)
        self.assertGreater(len(response.matches), 0)
        first = response.matches[0]
        self.assertEqual(first.sop, "orgs/default/sops/mql-acceptance-handoff")
        self.assertEqual(first.sop_body.title, "MQL Acceptance & Handoff")
        matched = {(c.condition.field, c.actual.string_value)
                   for c in first.explanation.matched_conditions}
        self.assertIn(("lead_status", "MQL – New Handoff"), matched)
        self.assertEqual(first.explanation.matched_record_type, "Lead")

    def test_lookup_for_accepted_lead_ranks_the_cadence_first(self):
        response = self.context.LookupSops(
            ctx_pb2.LookupSopsRequest(context=lead(lead_status="SQL – Accepted")),
            metadata=self.auth, timeout=TIMEOUT)
        self.assertEqual(response.matches[0].sop,
                         "orgs/default/sops/first-touch-outreach-cadence")

    def test_lookup_without_org_matches_in_the_tokens_org(self):
        context = lead(lead_status="SQL – Accepted")
        context.ClearField("org")
        response = self.context.LookupSops(
            ctx_pb2.LookupSopsRequest(context=context), metadata=self.auth, timeout=TIMEOUT)
        self.assertEqual(response.matches[0].sop,
                         "orgs/default/sops/first-touch-outreach-cadence")

    def test_invalid_create_names_the_field_and_writes_nothing(self):
        sop = sop_pb2.Sop(title="Python-made", owner="Ops")
        sop.steps.add(ordinal=1, title="one")
        sop.steps.add(ordinal=1, title="again")
        with self.assertRaises(grpc.RpcError) as caught:
            self.sops.CreateSop(sop_svc_pb2.CreateSopRequest(
                parent="orgs/default", sop_id="python-bad", sop=sop),
                metadata=self.auth, timeout=TIMEOUT)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("sop.steps[1].ordinal", caught.exception.details())
        with self.assertRaises(grpc.RpcError) as missing:
            self.sops.GetSop(sop_svc_pb2.GetSopRequest(name="orgs/default/sops/python-bad"),
                             metadata=self.auth, timeout=TIMEOUT)
        self.assertEqual(missing.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_create_update_and_stale_etag(self):
        sop = sop_pb2.Sop(title="Python-made", owner="Ops")
        created = self.sops.CreateSop(
            sop_svc_pb2.CreateSopRequest(parent="orgs/default", sop_id="python-made", sop=sop),
            metadata=self.auth, timeout=TIMEOUT)
        self.assertEqual(created.state, sop_pb2.Sop.DRAFT)
        fresh = sop_pb2.Sop()
        fresh.CopyFrom(created)
        fresh.title = "Python-made, renamed"
        updated = self.sops.UpdateSop(sop_svc_pb2.UpdateSopRequest(sop=fresh),
                                      metadata=self.auth, timeout=TIMEOUT)
        self.assertEqual(updated.revision_id, "2")
        stale = sop_pb2.Sop()
        stale.CopyFrom(created)
        stale.title = "lost update"
        with self.assertRaises(grpc.RpcError) as caught:
            self.sops.UpdateSop(sop_svc_pb2.UpdateSopRequest(sop=stale),
                                metadata=self.auth, timeout=TIMEOUT)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.ABORTED)
        history = self.sops.ListSopRevisions(
            sop_svc_pb2.ListSopRevisionsRequest(name=created.name),
            metadata=self.auth, timeout=TIMEOUT)
        self.assertEqual([r.author for r in history.revisions], ["python-test", "python-test"])

    def test_invalid_update_carries_every_field_violation_in_its_details(self):
        sop = sop_pb2.Sop(title="Python-checked", owner="Ops")
        sop.steps.add(ordinal=1, title="one")
        created = self.sops.CreateSop(
            sop_svc_pb2.CreateSopRequest(parent="orgs/default", sop_id="python-checked", sop=sop),
            metadata=self.auth, timeout=TIMEOUT)
        bad = sop_pb2.Sop()
        bad.CopyFrom(created)
        bad.title = ""
        bad.owner = ""
        bad.steps[0].title = ""
        with self.assertRaises(grpc.RpcError) as caught:
            self.sops.UpdateSop(sop_svc_pb2.UpdateSopRequest(
                sop=bad, update_mask=field_mask_pb2.FieldMask(paths=["title", "owner", "steps"])),
                metadata=self.auth, timeout=TIMEOUT)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        status = rpc_status(caught.exception)
        self.assertIsNotNone(status, "no grpc-status-details-bin in the trailers")
        self.assertEqual(status.code, grpc.StatusCode.INVALID_ARGUMENT.value[0])
        self.assertEqual(status.message, caught.exception.details())
        bad_requests = [d for d in status.details if d.Is(error_details_pb2.BadRequest.DESCRIPTOR)]
        self.assertEqual(len(bad_requests), 1)
        bad_request = error_details_pb2.BadRequest()
        bad_requests[0].Unpack(bad_request)
        self.assertEqual(
            [(v.field, v.description) for v in bad_request.field_violations],
            [("sop.title", "is required"), ("sop.owner", "is required"),
             ("sop.steps[0].title", "is required")])

    def test_panel_events_become_sla_figures_and_a_bad_code_is_refused_by_index(self):
        sdr = [("authorization", "Bearer " + self.admin.CreateToken(admin_pb2.CreateTokenRequest(
            parent="orgs/default",
            token=admin_pb2.Token(user_id="python-sdr", roles=[sop_pb2.SDR])),
            metadata=[("authorization", "Bearer " + self.sopd.admin_token())],
            timeout=TIMEOUT).secret)]
        # The handoff happened 4 minutes ago; the panel shows the SOP, the SDR calls now.
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        anchor = timestamp_pb2.Timestamp(seconds=now.seconds - 240)
        context = lead(lead_status="MQL – New Handoff", lead_score=82,
                       lead_source="Python Webinar", status_changed_at=anchor.ToJsonString())
        context.record_id = "00Q-python-1"
        match = self.context.LookupSops(ctx_pb2.LookupSopsRequest(context=context),
                                        metadata=sdr, timeout=TIMEOUT).matches[0]

        def event(event_id, kind, **extra):
            return an_pb2.Event(event_id=event_id, type=kind, event_time=now, sop=match.sop,
                                revision_id=match.revision_id, context=context, **extra)

        batch = [event("py-shown", an_pb2.Event.PANEL_SHOWN),
                 event("py-contact", an_pb2.Event.FIRST_CONTACT)]
        with self.assertRaises(grpc.RpcError) as caught:
            self.analytics.RecordEvents(an_pb2.RecordEventsRequest(
                parent="orgs/default",
                events=batch + [event("py-dq", an_pb2.Event.DISQUALIFIED, code="D-Nope")]),
                metadata=sdr, timeout=TIMEOUT)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("allowed: D-TooSmall", caught.exception.details())
        bad_request = error_details_pb2.BadRequest()
        [d for d in rpc_status(caught.exception).details
         if d.Is(error_details_pb2.BadRequest.DESCRIPTOR)][0].Unpack(bad_request)
        self.assertEqual([v.field for v in bad_request.field_violations], ["events[2].code"])

        for attempt in range(2):  # a retry of the same batch counts nothing twice
            recorded = self.analytics.RecordEvents(
                an_pb2.RecordEventsRequest(parent="orgs/default", events=batch),
                metadata=sdr, timeout=TIMEOUT)
            self.assertEqual((recorded.recorded, recorded.duplicates),
                             (2, 0) if attempt == 0 else (0, 2))
        report = self.analytics.GetSlaReport(an_pb2.GetSlaReportRequest(query=an_pb2.ReportQuery(
            parent="orgs/default", group_by=[an_pb2.LEAD_SOURCE],
            lead_sources=["Python Webinar"])), metadata=self.auth, timeout=TIMEOUT)
        self.assertEqual(len(report.rows), 1)
        row = report.rows[0]
        self.assertEqual(list(row.key.values), ["Python Webinar"])
        self.assertEqual((row.first_contacts, row.within_window), (1, 1))
        self.assertAlmostEqual(row.p50_ms, 240000, delta=2000)

    def test_not_found_carries_error_info(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.sops.GetSop(sop_svc_pb2.GetSopRequest(name="orgs/default/sops/python-absent"),
                             metadata=self.auth, timeout=TIMEOUT)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
        status = rpc_status(caught.exception)
        self.assertIsNotNone(status, "no grpc-status-details-bin in the trailers")
        info = error_details_pb2.ErrorInfo()
        self.assertTrue(status.details[0].Unpack(info))
        self.assertEqual((info.reason, info.domain, dict(info.metadata)),
                         ("SOP_NOT_FOUND", "sopsidebar.v1",
                          {"name": "orgs/default/sops/python-absent"}))

    def test_calls_without_a_token_are_unauthenticated(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.context.LookupSops(ctx_pb2.LookupSopsRequest(context=lead()), timeout=TIMEOUT)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        me = self.admin.WhoAmI(admin_pb2.WhoAmIRequest(), metadata=self.auth, timeout=TIMEOUT)
        self.assertEqual((me.user_id, list(me.roles)), ("python-test", [sop_pb2.SALES_OPS]))


if __name__ == "__main__":
    unittest.main()
