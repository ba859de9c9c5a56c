// The review console's side of the Node test server (test/server.mjs): SopService's list, get,
// review, diff, comment and due-review methods and AdminService.WhoAmI, answered from a small
// in-memory fixture of SOPs under review, written in the proto3 JSON form the console reads.
//
// Tokens (beside server.mjs's error-token, down-token and expired ones):
//   director-token   dora.director@example.com, MARKETING_DIRECTOR
//   vp-token         victor.vp@example.com, VP_SALES
//   ops-token        sam.ops@example.com, SALES_OPS (an editor: may publish)
//   slowreview-token a MARKETING_DIRECTOR whose calls never answer (the loading state)
//   marketing-token  mia.marketing@example.com, MARKETING (the Analytics dashboard)
// WhoAmI also answers the rep tokens (sdr-token, ae-token: the panel's search asks it).
import { fromJson, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { WhoAmIResponseSchema, AdminService } from "./gen/sopsidebar/v1/admin_service_pb.js";
import { SopSchema } from "./gen/sopsidebar/v1/sop_pb.js";
import {
  ApproveSopRequestSchema,
  ListCommentsResponseSchema,
  ListDueReviewsResponseSchema,
  ListSopsResponseSchema,
  PublishSopResponseSchema,
  RejectSopRequestSchema,
  SopDiffSchema,
  SopService,
} from "./gen/sopsidebar/v1/sop_service_pb.js";

export const REVIEW_USERS = {
  "director-token": { userId: "dora.director@example.com", displayName: "Dora Director", roles: ["MARKETING_DIRECTOR"] },
  "vp-token": { userId: "victor.vp@example.com", displayName: "Victor VP", roles: ["VP_SALES"] },
  "ops-token": { userId: "sam.ops@example.com", displayName: "Sam Ops", roles: ["SALES_OPS"] },
  "slowreview-token": { userId: "dora.director@example.com", displayName: "Dora Director", roles: ["MARKETING_DIRECTOR"] },
  "marketing-token": { userId: "mia.marketing@example.com", displayName: "Mia Marketing", roles: ["MARKETING"] },
};
const PUBLISHERS = ["SALES_OPS", "ADMIN"];
const ORG = "orgs/default";
const DAY = 86_400_000;
const iso = (ms) => new Date(ms).toISOString();

/** The fixture SOPs (proto3 JSON), the diffs and the comments; mutable by the methods. */
export function createReviewState(now = Date.now()) {
  const sop = (id, title, extra) => ({
    name: `${ORG}/sops/${id}`,
    title,
    owner: "Sales Operations Manager",
    state: "PUBLISHED",
    revisionId: "5",
    publishedRevisionId: "5",
    etag: `${id}-e1`,
    ...extra,
  });
  const sops = new Map(
    [
      sop("mql-acceptance-handoff", "MQL Acceptance & Handoff", {
        revisionId: "7",
        requiredApproverRoles: ["VP_SALES", "MARKETING_DIRECTOR"],
        review: {
          state: "IN_REVIEW",
          revisionId: "7",
          submittedBy: "sam.ops@example.com",
          submitTime: iso(now - 2 * 3_600_000),
          approvals: [{ role: "VP_SALES", userId: "victor.vp@example.com", time: iso(now - 3_600_000), comment: "Fine by sales.", revisionId: "7" }],
          awaitingRoles: ["MARKETING_DIRECTOR"],
          authors: ["sam.ops@example.com"],
        },
        nextReviewTime: iso(now + 80 * DAY),
      }),
      sop("pricing-discount-playbook", "Pricing & Discount Playbook", {
        revisionId: "9",
        review: { state: "IN_REVIEW", revisionId: "9", submittedBy: "sam.ops@example.com", submitTime: iso(now - DAY), awaitingRoles: ["SALES_MANAGER", "VP_SALES"], authors: ["sam.ops@example.com"] },
      }),
      sop("content-usage-asset-request", "Content Usage & Asset Request", {
        revisionId: "4",
        publishedRevisionId: "3",
        review: {
          state: "APPROVED",
          revisionId: "4",
          submittedBy: "mia.marketing@example.com",
          submitTime: iso(now - 3 * DAY),
          approvals: [{ role: "MARKETING_DIRECTOR", userId: "dora.director@example.com", time: iso(now - 2 * DAY), revisionId: "4" }],
          authors: ["mia.marketing@example.com"],
        },
      }),
      sop("demo-appointment-booking", "Demo & Appointment Booking", { owner: "Sales Development Manager", nextReviewTime: iso(now - 4 * DAY) }),
      sop("first-touch-outreach-cadence", "First-Touch Outreach Cadence (Inbound MQL)", { owner: "Sales Development Manager", nextReviewTime: iso(now + 10 * DAY) }),
    ].map((s) => [s.name, s]),
  );
  const diffs = new Map([
    [
      `${ORG}/sops/mql-acceptance-handoff`,
      [
        { section: "title", path: "title", kind: "CHANGED", before: '"MQL Acceptance"', after: '"MQL Acceptance & Handoff"' },
        {
          section: "steps",
          path: "steps[ordinal=2].instructions",
          kind: "CHANGED",
          before: '"1. Open the lead.\\n2. Call within 5 minutes."',
          after: '"1. Open the lead.\\n2. Call within 3 minutes.\\n3. Log the call."',
          lines: [
            { op: "KEPT", text: "1. Open the lead." },
            { op: "REMOVED", text: "2. Call within 5 minutes." },
            { op: "ADDED", text: "2. Call within 3 minutes." },
            { op: "ADDED", text: "3. Log the call." },
          ],
        },
        { section: "steps", path: "steps[ordinal=4]", kind: "ADDED", after: '{"ordinal":4,"title":"Send the recap email"}' },
        { section: "sla_terms", path: "sla_terms[first_contact_window].duration", kind: "CHANGED", before: '"300s"', after: '"180s"' },
        { section: "visibility_roles", path: "visibility_roles[AE]", kind: "REMOVED", before: '"AE"' },
      ],
    ],
  ]);
  const comments = new Map([
    [
      `${ORG}/sops/mql-acceptance-handoff`,
      [
        { name: `${ORG}/sops/mql-acceptance-handoff/comments/1`, text: "Is 3 minutes realistic for the night shift?", stepOrdinal: 2, revisionId: "7", author: "victor.vp@example.com", createTime: iso(now - 90 * 60_000) },
        { name: `${ORG}/sops/mql-acceptance-handoff/comments/2`, text: "<script>window.__xss = 1</script> Yes: the queue covers it.", revisionId: "7", author: "sam.ops@example.com", createTime: iso(now - 80 * 60_000) },
      ],
    ],
  ]);
  let etagN = 1;
  return {
    sops,
    diffs,
    comments,
    /** A new draft revision of `id` (someone edited it): the open view goes stale. */
    edit(id) {
      const s = sops.get(`${ORG}/sops/${id}`);
      const rev = String(Number(s.revisionId) + 1);
      s.revisionId = rev;
      s.etag = `${id}-e${++etagN + 100}`;
      s.review = { ...s.review, state: "IN_REVIEW", revisionId: rev, approvals: [], awaitingRoles: s.requiredApproverRoles ?? [] };
    },
    nextEtag(id) {
      return `${id}-e${++etagN}`;
    },
  };
}

export function reviewUser(token) {
  return REVIEW_USERS[token];
}

const REPS = {
  "sdr-token": { userId: "demo-sdr@example.com", displayName: "Demo SDR", roles: ["SDR"] },
  "ae-token": { userId: "demo-ae@example.com", displayName: "Demo AE", roles: ["AE"] },
};

/**
 * Registers SopService and AdminService on a connect-node router; `auth(ctx)` gives the user.
 * `more`: further SopService methods (SearchSops, from test/analytics-server.mjs).
 */
export function reviewRoutes(router, state, auth, more = {}) {
  const user = async (ctx) => {
    const u = auth(ctx);
    if (u.token === "slowreview-token") await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
    return u;
  };
  const get = (name) => {
    const s = state.sops.get(name);
    if (!s) throw new ConnectError(`SOP "${name}" not found`, Code.NotFound);
    return s;
  };
  const sopMsg = (s) => fromJson(SopSchema, s);
  const checkDecision = (u, s, q, verb) => {
    const r = s.review;
    if (!r || r.state !== "IN_REVIEW") throw new ConnectError(`cannot ${verb}: the SOP is not IN_REVIEW (it is ${r?.state ?? "without a review"})`, Code.FailedPrecondition);
    if (q.etag && q.etag !== s.etag) throw new ConnectError(`etag: "${q.etag}" is stale; the SOP changed since it was read`, Code.Aborted);
    if (q.revisionId && q.revisionId !== r.revisionId) {
      throw new ConnectError(`revision_id: "${q.revisionId}" is not the revision under review ("${r.revisionId}")`, Code.Aborted);
    }
    const role = q.role && q.role !== "ROLE_UNSPECIFIED" ? q.role : u.roles.find((x) => r.awaitingRoles.includes(x));
    if (!role || !u.roles.includes(role) || !r.awaitingRoles.includes(role)) {
      throw new ConnectError(`role: ${role ?? "none"} is not awaited or not yours`, Code.PermissionDenied);
    }
    return role;
  };
  router.service(AdminService, {
    async whoAmI(_req, ctx) {
      const rep = REPS[/^Bearer (.+)$/.exec(ctx.requestHeader.get("authorization") ?? "")?.[1]];
      const u = rep ?? (await user(ctx));
      return fromJson(WhoAmIResponseSchema, { org: ORG, userId: u.userId, displayName: u.displayName, roles: u.roles, token: `${ORG}/tokens/t-${u.userId}` });
    },
  });
  router.service(SopService, {
    ...more,
    async listSops(_req, ctx) {
      await user(ctx);
      // The basic view: no body, which the fixture has none of anyway.
      return fromJson(ListSopsResponseSchema, { sops: [...state.sops.values()] });
    },
    async getSop(req, ctx) {
      await user(ctx);
      return sopMsg(get(req.name));
    },
    async diffSopRevisions(req, ctx) {
      await user(ctx);
      const name = req.revisionB.replace(/\/revisions\/[^/]+$/, "");
      const s = get(name);
      if (req.revisionA !== `${name}/revisions/${s.publishedRevisionId}` && !req.revisionA.endsWith("/revisions/live")) {
        throw new ConnectError(`revision_a: not the live revision of ${name}`, Code.InvalidArgument);
      }
      return fromJson(SopDiffSchema, { revisionA: req.revisionA, revisionB: req.revisionB, changes: state.diffs.get(name) ?? [] });
    },
    async listComments(req, ctx) {
      await user(ctx);
      return fromJson(ListCommentsResponseSchema, { comments: state.comments.get(req.parent) ?? [] });
    },
    async approveSop(req, ctx) {
      const u = await user(ctx);
      const q = toJson(ApproveSopRequestSchema, req);
      const s = get(q.name);
      const role = checkDecision(u, s, q, "approve");
      const r = s.review;
      r.approvals = [...(r.approvals ?? []), { role, userId: u.userId, time: new Date().toISOString(), comment: q.comment ?? "", revisionId: r.revisionId }];
      r.awaitingRoles = r.awaitingRoles.filter((x) => x !== role);
      if (r.awaitingRoles.length === 0) r.state = "APPROVED";
      s.etag = state.nextEtag(s.name.split("/").pop());
      return sopMsg(s);
    },
    async rejectSop(req, ctx) {
      const u = await user(ctx);
      const q = toJson(RejectSopRequestSchema, req);
      if (!q.comment) throw new ConnectError("comment: required to reject", Code.InvalidArgument);
      const s = get(q.name);
      const role = checkDecision(u, s, q, "reject");
      s.review = { ...s.review, state: "DRAFT", approvals: [], awaitingRoles: [], rejection: { role, userId: u.userId, time: new Date().toISOString(), comment: q.comment, revisionId: s.review.revisionId } };
      s.etag = state.nextEtag(s.name.split("/").pop());
      return sopMsg(s);
    },
    async publishSop(req, ctx) {
      const u = await user(ctx);
      const s = get(req.name);
      if (!u.roles.some((r) => PUBLISHERS.includes(r))) throw new ConnectError("publish SOPs: needs SALES_OPS or ADMIN", Code.PermissionDenied);
      if (req.etag && req.etag !== s.etag) throw new ConnectError("etag: stale", Code.Aborted);
      if (s.review?.state !== "APPROVED") throw new ConnectError(`not approved: awaiting ${(s.review?.awaitingRoles ?? []).join(", ")}`, Code.FailedPrecondition);
      s.state = "PUBLISHED";
      s.publishedRevisionId = s.revisionId;
      s.publishTime = new Date().toISOString();
      delete s.review;
      s.etag = state.nextEtag(s.name.split("/").pop());
      return fromJson(PublishSopResponseSchema, { sop: s });
    },
    async listDueReviews(req, ctx) {
      await user(ctx);
      const within = req.within ? Number(req.within.seconds) * 1000 : 0;
      const limit = Date.now() + within;
      const due = [...state.sops.values()]
        .filter((s) => s.nextReviewTime && Date.parse(s.nextReviewTime) <= limit)
        .sort((a, b) => Date.parse(a.nextReviewTime) - Date.parse(b.nextReviewTime));
      return fromJson(ListDueReviewsResponseSchema, { sops: due });
    },
  });
}
