// The review console's calls: SopService's review methods and AdminService.WhoAmI, over the
// panel's Connect JSON client (src/connect.ts), typed by the generated proto3 JSON types
// (types only: nothing of src/gen/ reaches the bundle).
import type { ConnectJsonClient } from "../src/connect.js";
import type { WhoAmIResponseJson } from "../src/gen/sopsidebar/v1/admin_service_pb.js";
import type { RoleJson, SopJson } from "../src/gen/sopsidebar/v1/sop_pb.js";
import type {
  ApproveSopRequestJson,
  CommentJson,
  DiffSopRevisionsRequestJson,
  ListCommentsResponseJson,
  ListDueReviewsResponseJson,
  ListSopsResponseJson,
  PublishSopResponseJson,
  RejectSopRequestJson,
  SopDiffJson,
} from "../src/gen/sopsidebar/v1/sop_service_pb.js";

export type { CommentJson, RoleJson, SopDiffJson, SopJson, WhoAmIResponseJson };
export type { FieldChangeJson, LineChangeJson } from "../src/gen/sopsidebar/v1/sop_service_pb.js";
export type { DraftReviewJson, SignOffJson } from "../src/gen/sopsidebar/v1/sop_pb.js";

const SOPS = "sopsidebar.v1.SopService";
const ADMIN = "sopsidebar.v1.AdminService";

/** Roles that may publish (the SOP editors: common/auth/permissions.cc's kPublishSops). */
export const PUBLISHER_ROLES: readonly RoleJson[] = ["SALES_OPS", "ADMIN"];

/** The review API as one object, so the page holds one token in one place. */
export class ReviewApi {
  constructor(
    private readonly client: ConnectJsonClient,
    private readonly token: string,
  ) {}

  #call<Res>(method: string, request: unknown): Promise<Res> {
    return this.client.unary<unknown, Res>(method, request, { headers: { Authorization: `Bearer ${this.token}` } });
  }

  whoAmI(): Promise<WhoAmIResponseJson> {
    return this.#call(`${ADMIN}/WhoAmI`, {});
  }

  /** Every SOP of the org in the basic view (which keeps review, etag and the revision ids). */
  async listSops(org: string, maxPages = 20): Promise<SopJson[]> {
    const out: SopJson[] = [];
    let pageToken = "";
    for (let i = 0; i < maxPages; i++) {
      const res = await this.#call<ListSopsResponseJson>(`${SOPS}/ListSops`, {
        parent: org,
        pageSize: 1000,
        pageToken,
        view: "SOP_VIEW_BASIC",
      });
      out.push(...(res.sops ?? []));
      pageToken = res.nextPageToken ?? "";
      if (!pageToken) break;
    }
    return out;
  }

  getSop(name: string): Promise<SopJson> {
    return this.#call(`${SOPS}/GetSop`, { name });
  }

  diff(request: DiffSopRevisionsRequestJson): Promise<SopDiffJson> {
    return this.#call(`${SOPS}/DiffSopRevisions`, request);
  }

  async listComments(parent: string): Promise<CommentJson[]> {
    const res = await this.#call<ListCommentsResponseJson>(`${SOPS}/ListComments`, { parent, pageSize: 1000 });
    return res.comments ?? [];
  }

  approve(request: ApproveSopRequestJson): Promise<SopJson> {
    return this.#call(`${SOPS}/ApproveSop`, request);
  }

  reject(request: RejectSopRequestJson): Promise<SopJson> {
    return this.#call(`${SOPS}/RejectSop`, request);
  }

  publish(name: string, etag: string): Promise<PublishSopResponseJson> {
    return this.#call(`${SOPS}/PublishSop`, { name, etag });
  }

  /** Published SOPs whose review is overdue or due within `withinDays`, soonest first. */
  async dueReviews(org: string, withinDays: number): Promise<SopJson[]> {
    const res = await this.#call<ListDueReviewsResponseJson>(`${SOPS}/ListDueReviews`, {
      parent: org,
      within: `${withinDays * 86_400}s`,
      pageSize: 1000,
    });
    return res.sops ?? [];
  }
}

/** The SOPs under review that await one of `roles`. */
export function awaitingSignOff(sops: readonly SopJson[], roles: readonly RoleJson[]): SopJson[] {
  const mine = new Set(roles);
  return sops.filter((s) => s.review?.state === "IN_REVIEW" && (s.review.awaitingRoles ?? []).some((r) => mine.has(r)));
}

/** Approved drafts, waiting for a publisher. */
export function readyToPublish(sops: readonly SopJson[]): SopJson[] {
  return sops.filter((s) => s.review?.state === "APPROVED");
}

export function mayPublish(roles: readonly RoleJson[]): boolean {
  return roles.some((r) => PUBLISHER_ROLES.includes(r));
}

/** The required roles the caller could sign for now. */
export function rolesToSign(sop: SopJson, roles: readonly RoleJson[]): RoleJson[] {
  const awaiting = new Set(sop.review?.awaitingRoles ?? []);
  return roles.filter((r) => awaiting.has(r));
}
