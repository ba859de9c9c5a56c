// ContextService as the panel calls it: Connect's JSON form (src/connect.ts), typed by the
// proto3 JSON types protoc-gen-es generates from proto/sopsidebar/v1 (types only: nothing of
// src/gen/ is in the bundle).
//
// Reading these shapes: proto3 JSON leaves out fields at their default (0, "", false, empty
// lists, the first enum value), so every field is optional and a reader supplies the default;
// int64 would be a string, enums are their names (a number for a value newer than this build),
// Timestamp an RFC 3339 string, Duration "300s", Value plain JSON, oneof members flat fields.
import type { CallOptions, ConnectJsonClient } from "./connect.js";
import type {
  LookupSopsRequestJson,
  LookupSopsResponseJson,
  ValidateTransitionRequestJson,
  ValidateTransitionResponseJson,
  WatchSopsRequestJson,
  WatchSopsResponseJson,
} from "./gen/sopsidebar/v1/context_service_pb.js";

export type {
  CrmContextJson,
  HeartbeatJson,
  LookupSopsResponseJson,
  MatchExplanationJson,
  SopMatchJson,
  ValidateTransitionResponseJson,
  WatchSopsRequestJson,
  WatchSopsResponseJson,
} from "./gen/sopsidebar/v1/context_service_pb.js";
export type {
  AssetJson,
  CadenceTouchJson,
  ChannelJson,
  ConditionJson,
  DisqualificationCodeJson,
  FieldUpdateJson,
  RoleJson,
  SopJson,
  StepJson,
} from "./gen/sopsidebar/v1/sop_pb.js";

import type { WhoAmIResponseJson } from "./gen/sopsidebar/v1/admin_service_pb.js";
import type { RecordEventsRequestJson, RecordEventsResponseJson } from "./gen/sopsidebar/v1/analytics_service_pb.js";
import type { SearchSopsRequestJson, SearchSopsResponseJson } from "./gen/sopsidebar/v1/sop_service_pb.js";

export type { SearchSopsResponseJson };

const SERVICE = "sopsidebar.v1.ContextService";

export function lookupSops(client: ConnectJsonClient, request: LookupSopsRequestJson, opts?: CallOptions): Promise<LookupSopsResponseJson> {
  return client.unary(`${SERVICE}/LookupSops`, request, opts);
}

export function watchSops(client: ConnectJsonClient, request: WatchSopsRequestJson, opts?: CallOptions): AsyncGenerator<WatchSopsResponseJson, void, undefined> {
  return client.serverStream(`${SERVICE}/WatchSops`, request, opts);
}

export function validateTransition(client: ConnectJsonClient, request: ValidateTransitionRequestJson, opts?: CallOptions): Promise<ValidateTransitionResponseJson> {
  return client.unary(`${SERVICE}/ValidateTransition`, request, opts);
}

export function recordEvents(client: ConnectJsonClient, request: RecordEventsRequestJson, opts?: CallOptions): Promise<RecordEventsResponseJson> {
  return client.unary("sopsidebar.v1.AnalyticsService/RecordEvents", request, opts);
}

export function searchSops(client: ConnectJsonClient, request: SearchSopsRequestJson, opts?: CallOptions): Promise<SearchSopsResponseJson> {
  return client.unary("sopsidebar.v1.SopService/SearchSops", request, opts);
}

/** The caller's org and roles (the search's parent when the context does not say). */
export function whoAmI(client: ConnectJsonClient, opts?: CallOptions): Promise<WhoAmIResponseJson> {
  return client.unary("sopsidebar.v1.AdminService/WhoAmI", {}, opts);
}

import type { GetSopDiagramRequestJson, SopDiagramJson } from "./gen/sopsidebar/v1/authoring_service_pb.js";
export type { SopDiagramJson };

/** AuthoringService.GetSopDiagram: an SOP's flowchart or swimlane as Mermaid or DOT text. */
export function getSopDiagram(client: ConnectJsonClient, request: GetSopDiagramRequestJson, opts?: CallOptions): Promise<SopDiagramJson> {
  return client.unary("sopsidebar.v1.AuthoringService/GetSopDiagram", request, opts);
}
