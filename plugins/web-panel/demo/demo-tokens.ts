// The demo's tokens, which sopd serves at /demo/tokens.json on loopback only (--http-demo-tokens):
// the demo CRM page and the review console both offer them as sign-in buttons.

/**
 * The demo tokens of `roles` that sopd offers, in the order of `roles`; none when it offers none
 * (not on loopback, or no demo data): the token field is then the way in.
 */
export async function demoTokens(roles: readonly string[]): Promise<Array<[role: string, token: string]>> {
  try {
    const r = await fetch("/demo/tokens.json", { headers: { Accept: "application/json" } });
    if (!r.ok) return [];
    const tokens: unknown = await r.json();
    if (!tokens || typeof tokens !== "object") return [];
    const offered = tokens as Record<string, unknown>;
    return roles.flatMap((role): Array<[string, string]> => {
      const token = offered[role];
      return typeof token === "string" ? [[role, token]] : [];
    });
  } catch {
    return [];
  }
}
