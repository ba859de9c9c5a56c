// Connect clients of sopd's three services over HTTP/1.1 with JSON, as a
// browser or a CRM sandbox speaks to it.
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AdminService } from "./gen/sopsidebar/v1/admin_service_pb.js";
import { ContextService } from "./gen/sopsidebar/v1/context_service_pb.js";
import { SopService } from "./gen/sopsidebar/v1/sop_service_pb.js";

export function clients(baseUrl, token) {
  const transport = createConnectTransport({
    baseUrl,
    httpVersion: "1.1",
    useBinaryFormat: false,
    interceptors: token ? [(next) => async (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    }] : [],
  });
  return {
    admin: createClient(AdminService, transport),
    context: createClient(ContextService, transport),
    sops: createClient(SopService, transport),
  };
}

// A CrmContext: `fields` as plain JSON values, each made a
// google.protobuf.Value.
export function crmContext(recordType, fields, recordId = "") {
  return {
    recordType,
    recordId,
    fields: Object.fromEntries(
      Object.entries(fields).map(([name, value]) => [name, fromJson(ValueSchema, value)])),
  };
}

// A lead that the seed's "MQL Acceptance & Handoff" matches.
export function mqlLead(statusChangedAt = new Date()) {
  return crmContext("Lead", {
    lead_status: "MQL – New Handoff",
    lead_score: 82,
    company_size: 120,
    title: "VP Sales",
    status_changed_at: statusChangedAt.toISOString(),
  }, "00Q5e00000ABCdE");
}
