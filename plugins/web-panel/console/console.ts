// The review console (/console/): an approver signs in with a token, sees the SOP changes that
// await one of their roles, opens one (who submitted it, the approvals so far, the field-level
// diff against the live revision, the comments) and approves or rejects it; a publisher
// publishes an approved draft; owners see the reviews falling due. It talks only to the sopd
// that serves it (Connect JSON, src/connect.ts) and runs under sopd's CSP: no inline script or
// style, nothing from another origin. The Analytics view (#analytics, console/dashboard.ts) is
// Marketing's dashboard over AnalyticsService's reports.
import { demoTokens } from "../demo/demo-tokens.js";
import { ConnectError, ConnectJsonClient, codeName, toConnectError } from "../src/connect.js";
import {
  ReviewApi,
  awaitingSignOff,
  mayPublish,
  readyToPublish,
  rolesToSign,
  type RoleJson,
  type SopJson,
  type WhoAmIResponseJson,
} from "./review-api.js";
import { AnalyticsApi } from "./analytics-api.js";
import { renderDiagram } from "../src/diagram.js";
import { EditorApi, SopEditor } from "./editor.js";
import { Dashboard } from "./dashboard.js";
import { h, renderComment, renderDiff, renderSignOff, roleLabel, timeEl } from "./view.js";

const TOKEN_KEY = "sop-console-token";
const DUE_WITHIN_DAYS = 30;
/** The roles whose demo tokens get a sign-in button (when sopd serves /demo/tokens.json). */
const DEMO_ROLES = ["VP_SALES", "MARKETING_DIRECTOR", "SALES_MANAGER", "SALES_OPS", "MARKETING"];

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

type PageState = "signed-out" | "loading" | "ready" | "error";

interface Session {
  api: ReviewApi;
  analytics: AnalyticsApi;
  editorApi: EditorApi;
  me: WhoAmIResponseJson;
  roles: RoleJson[];
}

let session: Session | undefined;
/** The Analytics view, made on its first showing in a session. */
let dashboard: Dashboard | undefined;
/** SOP titles by name, from the last ListSops (the dashboard names SOPs by title). */
const sopTitles = new Map<string, string>();
/** Bumped on every sign-in and sign-out, so a late answer for an old session is dropped. */
let generation = 0;
/** The editor shown (#/new, #/sops/{id}/edit), if any. */
let editor: SopEditor | undefined;
/** The Mermaid chunk, from sopd's origin like everything else. */
const MERMAID_URL = "/panel/sop-mermaid.js";
/** Bumped whenever an SOP is opened, so a late answer for the SOP shown before is dropped. */
let detailGeneration = 0;

function setPageState(state: PageState): void {
  document.body.dataset.state = state;
  $("main").setAttribute("aria-busy", state === "loading" ? "true" : "false");
}

function errorText(e: unknown): string {
  const err = e instanceof ConnectError ? e : toConnectError(e);
  return `${codeName(err.code)}: ${err.rawMessage || "no message"}`;
}

function isAuthError(e: unknown): boolean {
  return e instanceof ConnectError && (e.code === "unauthenticated" || e.code === "permission_denied");
}

function sopId(name: string): string {
  return name.split("/").pop() ?? name;
}

function sopLink(sop: SopJson): HTMLAnchorElement {
  return h("a", { href: `#${sop.name ?? ""}`, class: "sop-link" }, sop.title || sopId(sop.name ?? ""));
}

// ---- sign-in ------------------------------------------------------------------------------

function signOut(message = ""): void {
  generation++;
  detailGeneration++;
  session = undefined;
  dashboard?.destroy();
  dashboard = undefined;
  sopTitles.clear();
  $("views").hidden = true;
  $("analytics-view").hidden = true;
  editor?.destroy();
  editor = undefined;
  $("editor-view").hidden = true;
  $("editor-view").replaceChildren();
  sessionStorage.removeItem(TOKEN_KEY);
  $("who").textContent = "Not signed in";
  $("signout").hidden = true;
  $("signin-panel").hidden = false;
  $("workspace").hidden = true;
  $("page-error").hidden = true;
  $("loading").hidden = true;
  const err = $("signin-error");
  err.textContent = message;
  err.hidden = !message;
  setPageState("signed-out");
}

async function signIn(token: string): Promise<void> {
  const gen = ++generation;
  const client = new ConnectJsonClient(location.origin);
  const api = new ReviewApi(client, token);
  setPageState("loading");
  $("signin-error").hidden = true;
  $("page-error").hidden = true;
  $("signin-panel").hidden = true;
  $("loading").hidden = false;
  try {
    const me = await api.whoAmI();
    if (gen !== generation) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    session = { api, analytics: new AnalyticsApi(client, token), editorApi: new EditorApi(client, token), me, roles: me.roles ?? [] };
    const roles = session.roles.map(roleLabel).join(", ") || "no roles";
    $("who").textContent = `Signed in as ${me.displayName || me.userId || "unknown"} (${roles})`;
    $("signout").hidden = false;
    $("signin-panel").hidden = true;
    $("views").hidden = false;
    $("workspace").hidden = location.hash === "#analytics";
    await refreshLists();
    if (gen !== generation) return;
    await route();
  } catch (e) {
    if (gen !== generation) return;
    $("loading").hidden = true;
    if (isAuthError(e)) return signOut(`Sign-in failed — ${errorText(e)}`);
    // The token may be fine and sopd unwell: keep the token, say what failed, offer a retry.
    sessionStorage.setItem(TOKEN_KEY, token);
    $("signin-panel").hidden = true;
    $("workspace").hidden = true;
    $("signout").hidden = false;
    $("page-error-text").textContent = `Could not load the review console — ${errorText(e)}`;
    $("page-error").hidden = false;
    setPageState("error");
  }
}

function offerDemoTokens(): void {
  void demoTokens(DEMO_ROLES).then((tokens) => {
    const box = $("demo-buttons");
    for (const [role, token] of tokens) {
      const b = h("button", { type: "button", id: `signin-${role.toLowerCase().replace(/_/g, "-")}` }, `Sign in as demo ${roleLabel(role as RoleJson)}`);
      b.addEventListener("click", () => void signIn(token));
      box.append(b);
    }
    $("demo-tokens").hidden = box.childElementCount === 0;
  });
}

// ---- the lists ----------------------------------------------------------------------------

function listItem(sop: SopJson, detail: (Node | string)[]): HTMLLIElement {
  return h("li", { "data-sop": sop.name ?? "" }, sopLink(sop), h("span", { class: "item-meta" }, ...detail));
}

async function refreshLists(): Promise<void> {
  const s = session;
  if (!s) return;
  const gen = generation;
  const org = s.me.org || "orgs/default";
  const awaiting = $("awaiting-list");
  const awaitingState = $("awaiting-state");
  awaitingState.textContent = "Loading…";
  awaitingState.className = "list-state";
  const [sops, due] = await Promise.allSettled([s.api.listSops(org), s.api.dueReviews(org, DUE_WITHIN_DAYS)]);
  if (gen !== generation) return;
  $("loading").hidden = true;

  awaiting.replaceChildren();
  const readyList = $("ready-list");
  readyList.replaceChildren();
  if (sops.status === "rejected") {
    if (isAuthError(sops.reason) && (sops.reason as ConnectError).code === "unauthenticated") return signOut(`Signed out — ${errorText(sops.reason)}`);
    awaitingState.textContent = `Could not load the SOPs — ${errorText(sops.reason)}`;
    awaitingState.className = "list-state error";
    setPageState("error");
  } else {
    for (const sop of sops.value) if (sop.name) sopTitles.set(sop.name, sop.title || sopId(sop.name));
    const mine = awaitingSignOff(sops.value, s.roles);
    for (const sop of mine) {
      const r = sop.review;
      const meta: (Node | string)[] = [`Awaiting ${(r?.awaitingRoles ?? []).map(roleLabel).join(", ")}`];
      if (r?.submittedBy) meta.push(` · submitted by ${r.submittedBy}`);
      if (r?.submitTime) meta.push(" ", timeEl(r.submitTime));
      awaiting.append(listItem(sop, meta));
    }
    awaitingState.textContent = mine.length === 0 ? "Nothing awaits your sign-off." : `${mine.length} ${mine.length === 1 ? "change awaits" : "changes await"} your sign-off.`;
    awaitingState.className = mine.length === 0 ? "list-state empty" : "list-state";
    const ready = mayPublish(s.roles) ? readyToPublish(sops.value) : [];
    for (const sop of ready) readyList.append(listItem(sop, [`Approved revision ${sop.review?.revisionId ?? ""}`]));
    $("ready").hidden = ready.length === 0;
    setPageState("ready");
  }

  const dueList = $("due-list");
  const dueState = $("due-state");
  dueList.replaceChildren();
  if (due.status === "rejected") {
    dueState.textContent = `Could not load the reviews due — ${errorText(due.reason)}`;
    dueState.className = "list-state error";
  } else {
    const now = Date.now();
    for (const sop of due.value) {
      const t = sop.nextReviewTime;
      const overdue = t !== undefined && Date.parse(t) < now;
      const meta: (Node | string)[] = [h("span", { class: overdue ? "flag overdue" : "flag due" }, overdue ? "Overdue" : "Due"), overdue ? " since " : " ", timeEl(t)];
      if (sop.owner) meta.push(` · owner ${sop.owner}`);
      const li = listItem(sop, meta);
      if (overdue) li.classList.add("overdue");
      dueList.append(li);
    }
    dueState.textContent = due.value.length === 0 ? `No reviews due in the next ${DUE_WITHIN_DAYS} days.` : "";
    dueState.className = due.value.length === 0 ? "list-state empty" : "list-state";
  }
}

// ---- one SOP ------------------------------------------------------------------------------

/** `#/new` → {}, `#/sops/{id}/edit` → {id}; else undefined. */
function editorRoute(): { id?: string } | undefined {
  if (location.hash === "#/new") return {};
  const m = /^#\/sops\/([a-z][a-z0-9-]*)\/edit$/.exec(location.hash);
  return m ? { id: m[1] } : undefined;
}

function openEditor(target: { id?: string }): void {
  const s = session as Session;
  const org = s.me.org || "orgs/default";
  const name = target.id ? `${org}/sops/${target.id}` : undefined;
  editor?.destroy();
  const view = $("editor-view");
  editor = new SopEditor({
    api: s.editorApi,
    org,
    name,
    mermaidUrl: MERMAID_URL,
    onSaved: (sop) => {
      // The new SOP now has a name: its editor's URL, without opening the editor again.
      history.replaceState(null, "", `#/sops/${sopId(sop.name ?? "")}/edit`);
      void refreshLists();
    },
  });
  view.replaceChildren(editor.root);
  view.hidden = false;
  void editor.start().then(() => $("editor-title").focus());
}

async function route(): Promise<void> {
  const target = session ? editorRoute() : undefined;
  if (location.hash === "#/new") $("nav-new").setAttribute("aria-current", "page");
  else $("nav-new").removeAttribute("aria-current");
  if (target) {
    for (const id of ["nav-reviews", "nav-analytics"]) $(id).removeAttribute("aria-current");
    dashboard?.stop();
    $("analytics-view").hidden = true;
    $("workspace").hidden = true;
    openEditor(target);
    return;
  }
  editor?.destroy();
  editor = undefined;
  $("editor-view").hidden = true;
  $("editor-view").replaceChildren();
  const analytics = location.hash === "#analytics";
  for (const [id, current] of [["nav-reviews", !analytics], ["nav-analytics", analytics]] as const) {
    if (current) $(id).setAttribute("aria-current", "page");
    else $(id).removeAttribute("aria-current");
  }
  if (session && analytics) {
    $("workspace").hidden = true;
    $("analytics-view").hidden = false;
    dashboard ??= new Dashboard($("analytics-view"), session.analytics, session.me.org || "orgs/default", (name) => sopTitles.get(name) ?? sopId(name));
    dashboard.start();
    $("analytics-h").focus();
    return;
  }
  dashboard?.stop();
  $("analytics-view").hidden = true;
  if (session) $("workspace").hidden = false;
  const name = decodeURIComponent(location.hash.replace(/^#/, ""));
  const detail = $("detail");
  if (!session || !/^orgs\/[^/]+\/sops\/[^/]+$/.test(name)) {
    detail.hidden = true;
    detail.replaceChildren();
    return;
  }
  await openSop(name);
}

/** Says `text` through the page's persistent polite live region (the detail's own is rebuilt). */
function announce(text: string): void {
  $("announcer").textContent = text;
}

function showDetailMessage(kind: "status" | "error", text: string, extra?: Node): void {
  if (kind === "status") announce(text);
  const status = $("detail-status");
  const error = $("detail-error");
  if (kind === "status") {
    status.textContent = text;
    error.hidden = true;
    error.replaceChildren();
  } else {
    status.textContent = "";
    error.replaceChildren(h("p", {}, text), ...(extra ? [extra] : []));
    error.hidden = false;
  }
}

async function openSop(name: string, notice = ""): Promise<void> {
  const s = session;
  if (!s) return;
  const gen = ++detailGeneration;
  const detail = $("detail");
  detail.hidden = false;
  detail.dataset.state = "loading";
  detail.setAttribute("aria-busy", "true");
  detail.replaceChildren(
    h("h2", { id: "detail-title", tabindex: "-1" }, "Loading…"),
    h("p", { id: "detail-status", role: "status", class: "status" }, notice),
    h("div", { id: "detail-error", role: "alert", class: "error", hidden: true }),
  );
  let sop: SopJson;
  try {
    sop = await s.api.getSop(name);
  } catch (e) {
    if (gen !== detailGeneration) return;
    detail.dataset.state = "error";
    detail.setAttribute("aria-busy", "false");
    $("detail-title").textContent = sopId(name);
    showDetailMessage("error", `Could not open ${sopId(name)} — ${errorText(e)}`);
    return;
  }
  if (gen !== detailGeneration) return;
  renderSop(sop, gen);
  const title = $("detail-title");
  if (notice) announce(notice);
  else title.focus();
}

function renderSop(sop: SopJson, gen: number): void {
  const s = session as Session;
  const name = sop.name ?? "";
  const review = sop.review;
  const rstate = review?.state ?? "NONE";
  const live = sop.state === "PUBLISHED" && !!sop.publishedRevisionId && sop.publishedRevisionId === sop.revisionId;
  const detail = $("detail");
  detail.dataset.state = "ready";
  detail.dataset.reviewState = rstate;
  detail.dataset.sopState = String(sop.state ?? "");
  detail.setAttribute("aria-busy", "false");
  $("detail-title").textContent = sop.title || sopId(name);

  const facts = h("dl", { class: "facts" });
  const fact = (term: string, ...value: (Node | string)[]) => facts.append(h("dt", {}, term), h("dd", {}, ...value));
  fact("Review", h("span", { class: `chip review-${rstate.toLowerCase()}`, id: "review-state" }, reviewStateLabel(rstate)));
  fact("SOP state", h("span", { id: "sop-state", class: "chip" }, String(sop.state ?? "")));
  fact("Live revision", h("span", { id: "published-revision" }, sop.publishedRevisionId || "none yet"));
  if (review?.revisionId) fact("Revision under review", h("span", { id: "review-revision" }, review.revisionId));
  if (review?.submittedBy) fact("Submitted by", review.submittedBy, ...(review.submitTime ? [" on ", timeEl(review.submitTime)] : []));
  if ((review?.authors ?? []).length > 0) fact("Authors", (review?.authors ?? []).join(", "));
  if (sop.owner) fact("Owner", sop.owner);

  const approvals = h("ul", { id: "approvals", class: "signoffs" }, ...(review?.approvals ?? []).map(renderSignOff));
  const awaiting = h("ul", { id: "awaiting-roles", class: "roles" }, ...(review?.awaitingRoles ?? []).map((r) => h("li", { class: "chip", "data-role": String(r) }, roleLabel(r))));

  const parts: Node[] = [facts];
  if (live && !review) {
    parts.unshift(h("p", { class: "live-banner", id: "live-banner" }, `Live: revision ${sop.publishedRevisionId} is published`, sop.publishTime ? " since " : "", ...(sop.publishTime ? [timeEl(sop.publishTime)] : [])));
  }
  if (review?.rejection?.userId) {
    const r = review.rejection;
    parts.push(h("div", { class: "rejection" }, h("h3", {}, "Rejected"), h("ul", { class: "signoffs" }, renderSignOff(r))));
  }
  if (review) {
    parts.push(
      h("section", { "aria-labelledby": "approvals-h", class: "block" }, h("h3", { id: "approvals-h" }, "Approvals so far"), (review.approvals ?? []).length ? approvals : h("p", { class: "empty" }, "None yet.")),
      h("section", { "aria-labelledby": "awaiting-h", class: "block" }, h("h3", { id: "awaiting-h" }, "Awaiting"), (review.awaitingRoles ?? []).length ? awaiting : h("p", { class: "empty" }, "No role: every required approval is in.")),
    );
  }
  const actions = renderActions(sop, s.roles);
  if (actions) parts.push(actions);
  if (mayPublish(s.roles)) parts.push(h("p", { class: "edit-link" }, h("a", { href: `#/sops/${sopId(name)}/edit`, id: "edit-sop" }, "Edit this SOP")));
  const lane = h("div", { id: "detail-swimlane", class: "detail-swimlane", "data-state": "loading" }, h("p", { class: "list-state", role: "status" }, "Drawing the swimlane…"));
  parts.push(h("section", { "aria-labelledby": "swimlane-detail-h", class: "block", id: "swimlane-detail" }, h("h3", { id: "swimlane-detail-h" }, "Swimlane"), lane));

  const diffBox = h("section", { "aria-labelledby": "diff-h", class: "block", id: "diff" }, h("h3", { id: "diff-h" }, "Changes against the live revision"), h("p", { class: "list-state", role: "status" }, "Loading the diff…"));
  const commentsBox = h("section", { "aria-labelledby": "comments-h", class: "block", id: "comments" }, h("h3", { id: "comments-h" }, "Comments"), h("p", { class: "list-state", role: "status" }, "Loading comments…"));
  if (review?.revisionId) parts.push(diffBox);
  parts.push(commentsBox);

  // Keep the title and the status/error regions; replace the rest.
  const keep = new Set(["detail-title", "detail-status", "detail-error"]);
  for (const child of Array.from(detail.children)) if (!keep.has(child.id)) child.remove();
  detail.append(...parts);

  if (review?.revisionId) void loadDiff(sop, diffBox, gen);
  void loadSwimlane(name, review?.revisionId || sop.publishedRevisionId || "", lane, gen);
  void loadComments(name, commentsBox, gen);
}

function reviewStateLabel(state: string): string {
  switch (state) {
    case "IN_REVIEW":
      return "In review";
    case "APPROVED":
      return "Approved — ready to publish";
    case "DRAFT":
      return "Draft (not submitted)";
    default:
      return "Nothing under review";
  }
}

async function loadDiff(sop: SopJson, box: HTMLElement, gen: number): Promise<void> {
  const s = session as Session;
  const name = sop.name ?? "";
  const b = `${name}/revisions/${sop.review?.revisionId ?? ""}`;
  const a = sop.publishedRevisionId ? `${name}/revisions/${sop.publishedRevisionId}` : "";
  const state = box.querySelector(".list-state") as HTMLElement;
  if (!a) {
    state.textContent = "A new SOP: nothing is live yet, so the whole revision is new.";
    return;
  }
  try {
    const diff = await s.api.diff({ revisionA: a, revisionB: b });
    if (gen !== detailGeneration) return;
    state.remove();
    box.append(h("p", { class: "diff-sides" }, `Revision ${sop.publishedRevisionId} (live) → revision ${sop.review?.revisionId ?? ""} (under review)`), renderDiff(diff));
  } catch (e) {
    if (gen !== detailGeneration) return;
    state.textContent = `Could not load the diff — ${errorText(e)}`;
    state.className = "list-state error";
    state.setAttribute("role", "alert");
  }
}

/** The swimlane of the revision under review (else the live one, else the draft). */
async function loadSwimlane(name: string, revision: string, box: HTMLElement, gen: number): Promise<void> {
  const s = session as Session;
  try {
    type Diagram = { source?: string; revisionId?: string };
    const ask = (rev: string) => s.editorApi.call<Diagram>("sopsidebar.v1.AuthoringService/GetSopDiagram", { name, revision: rev, kind: "SWIMLANE", format: "MERMAID" });
    // Without SOP history rights (kReadHistory) the SOP as GetSop shows it to the caller.
    const d = await ask(revision).catch((e: unknown) => {
      if (toConnectError(e).code === "permission_denied" && revision) return ask("");
      throw e;
    });
    if (gen !== detailGeneration) return;
    const svg = await renderDiagram(d.source ?? "", MERMAID_URL, document);
    if (gen !== detailGeneration) return;
    svg.setAttribute("aria-label", `Swimlane of revision ${d.revisionId ?? revision}: one lane per responsible role`);
    box.replaceChildren(svg);
    box.dataset.state = "ready";
  } catch (e) {
    if (gen !== detailGeneration) return;
    box.dataset.state = "error";
    box.replaceChildren(h("p", { class: "list-state error" }, `Couldn't draw the swimlane — ${e instanceof ConnectError ? errorText(e) : e instanceof Error ? e.message : String(e)}`));
  }
}

async function loadComments(name: string, box: HTMLElement, gen: number): Promise<void> {
  const s = session as Session;
  const state = box.querySelector(".list-state") as HTMLElement;
  try {
    const comments = await s.api.listComments(name);
    if (gen !== detailGeneration) return;
    if (comments.length === 0) {
      state.textContent = "No comments.";
      state.className = "list-state empty";
      return;
    }
    state.remove();
    box.append(h("ol", { class: "comments", id: "comment-list" }, ...comments.map(renderComment)));
  } catch (e) {
    if (gen !== detailGeneration) return;
    state.textContent = `Could not load the comments — ${errorText(e)}`;
    state.className = "list-state error";
  }
}

function renderActions(sop: SopJson, roles: RoleJson[]): HTMLElement | null {
  const review = sop.review;
  const name = sop.name ?? "";
  if (review?.state === "IN_REVIEW") {
    const signable = rolesToSign(sop, roles);
    if (signable.length === 0) {
      return h("p", { class: "note", id: "no-action" }, "None of your roles is awaited on this change.");
    }
    const form = h("form", { class: "decision", id: "decision", "aria-labelledby": "decision-h" });
    form.append(h("h3", { id: "decision-h" }, "Your decision"));
    let roleSelect: HTMLSelectElement | undefined;
    if (signable.length > 1) {
      roleSelect = h("select", { id: "decision-role" });
      for (const r of signable) roleSelect.append(new Option(roleLabel(r), String(r)));
      form.append(h("label", { for: "decision-role" }, "Sign as"), roleSelect);
    } else {
      form.append(h("p", { class: "note" }, `You sign as ${roleLabel(signable[0])}.`));
    }
    const comment = h("textarea", { id: "decision-comment", rows: "3", maxlength: "4000", "aria-describedby": "decision-hint" });
    form.append(
      h("label", { for: "decision-comment" }, "Comment"),
      h("p", { id: "decision-hint", class: "hint" }, "Optional to approve; required to reject."),
      comment,
    );
    const approve = h("button", { type: "submit", id: "approve", class: "primary" }, "Approve");
    const reject = h("button", { type: "button", id: "reject", class: "danger" }, "Reject");
    form.append(h("div", { class: "buttons" }, approve, reject));
    const role = () => (roleSelect ? (roleSelect.value as RoleJson) : signable[0]);
    const busy = (on: boolean) => {
      approve.disabled = on;
      reject.disabled = on;
      form.setAttribute("aria-busy", on ? "true" : "false");
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void decide("approve", sop, role(), comment.value.trim(), busy);
    });
    reject.addEventListener("click", () => {
      const text = comment.value.trim();
      if (!text) {
        comment.setAttribute("aria-invalid", "true");
        showDetailMessage("error", "A rejection needs a comment: say what to change.");
        comment.focus();
        return;
      }
      comment.removeAttribute("aria-invalid");
      void decide("reject", sop, role(), text, busy);
    });
    return form;
  }
  if (review?.state === "APPROVED") {
    if (!mayPublish(roles)) {
      return h("p", { class: "note", id: "no-action" }, "Every required approval is in. A SOP editor (Sales Ops or Admin) publishes it.");
    }
    const box = h("div", { class: "decision", id: "publish-box" }, h("h3", {}, "Publish"), h("p", { class: "note" }, `Makes revision ${review.revisionId ?? ""} the one reps see.`));
    const publish = h("button", { type: "button", id: "publish", class: "primary" }, "Publish");
    publish.addEventListener("click", () => void doPublish(name, sop.etag ?? "", publish));
    box.append(publish);
    return box;
  }
  return null;
}

async function decide(kind: "approve" | "reject", sop: SopJson, role: RoleJson, comment: string, busy: (on: boolean) => void): Promise<void> {
  const s = session;
  if (!s) return;
  const name = sop.name ?? "";
  const request = { name, etag: sop.etag ?? "", revisionId: sop.review?.revisionId ?? "", role, comment };
  busy(true);
  showDetailMessage("status", kind === "approve" ? "Approving…" : "Rejecting…");
  try {
    if (kind === "approve") await s.api.approve(request);
    else await s.api.reject(request);
  } catch (e) {
    busy(false);
    const err = toConnectError(e);
    const stale = err.code === "aborted" || err.code === "failed_precondition";
    const reload = stale ? h("button", { type: "button", id: "reload", class: "secondary" }, "Reload this SOP") : undefined;
    reload?.addEventListener("click", () => void openSop(name));
    showDetailMessage("error", `${kind === "approve" ? "Approval" : "Rejection"} failed — ${errorText(err)}${stale ? ". The SOP changed since you opened it: reload, read the current diff, and decide again." : ""}`, reload);
    if (isAuthError(err) && err.code === "unauthenticated") signOut(`Signed out — ${errorText(err)}`);
    return;
  }
  const notice = kind === "approve" ? `Approved as ${roleLabel(role)}.` : `Rejected as ${roleLabel(role)}: the draft is back with its authors.`;
  await Promise.all([openSop(name, notice), refreshLists()]);
}

async function doPublish(name: string, etag: string, button: HTMLButtonElement): Promise<void> {
  const s = session;
  if (!s) return;
  button.disabled = true;
  showDetailMessage("status", "Publishing…");
  try {
    const res = await s.api.publish(name, etag);
    const rev = res.sop?.publishedRevisionId ?? "";
    await Promise.all([openSop(name, `Published: revision ${rev} is live.`), refreshLists()]);
  } catch (e) {
    button.disabled = false;
    showDetailMessage("error", `Publishing failed — ${errorText(e)}`);
  }
}

// ---- start --------------------------------------------------------------------------------

function main(): void {
  $("signin").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = $<HTMLInputElement>("token");
    const token = input.value.trim();
    input.value = "";
    if (!token) {
      $("signin-error").textContent = "Paste a token first.";
      $("signin-error").hidden = false;
      input.focus();
      return;
    }
    void signIn(token);
  });
  $("signout").addEventListener("click", () => signOut());
  $("retry").addEventListener("click", () => {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) void signIn(saved);
    else signOut();
  });
  $("refresh").addEventListener("click", () => {
    if (location.hash === "#analytics") {
      void dashboard?.refresh();
      return;
    }
    void refreshLists();
    void route();
  });
  window.addEventListener("hashchange", () => void route());
  offerDemoTokens();
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) void signIn(saved);
  else signOut();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
else main();
