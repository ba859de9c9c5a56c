// The card's one call to sopd: LookupSops over the Connect protocol (JSON), through hubspot.fetch.
//
// HubSpot signs every hubspot.fetch request (X-HubSpot-Signature-v3, X-HubSpot-Request-Timestamp)
// and appends userId, userEmail, portalId and appId to the URL; sopd checks the signature with the
// app's client secret and takes the viewer from those parameters. So the card sends no token and
// no viewer headers: only the record, as HubSpot's internal property names, which sopd maps with
// the org's field map for crm "hubspot".
import { hubspot } from '@hubspot/ui-extensions';

/** sopd's base URL: change it to yours, together with permittedUrls.fetch in app-hsmeta.json. */
export const SOPD_URL = 'https://sopd.example.com';
export const LOOKUP_URL = `${SOPD_URL}/sopsidebar.v1.ContextService/LookupSops`;
/** hubspot.fetch's ceiling; a smaller SOP answer is long back by then. */
export const TIMEOUT_MS = 15000;

/**
 * The properties the card reads, by objectTypeId ("0-1" contact, "0-3" deal). Values arrive as
 * strings (or null); sopd converts them with the field map's types.
 */
export const PROPERTIES = {
    '0-1': [
        'lifecyclestage',
        'hs_lead_status',
        'hubspotscore',
        'numberofemployees',
        'jobtitle',
        'industry',
        'country',
        'hs_analytics_source',
        'hubspot_owner_id',
        'createdate',
        'lastmodifieddate'
    ],
    '0-3': ['dealstage', 'pipeline', 'amount', 'dealtype', 'closedate', 'hubspot_owner_id', 'createdate', 'hs_lastmodifieddate']
};

export function propertyNames(objectTypeId) {
    return PROPERTIES[objectTypeId] ?? [];
}

/** The LookupSops context for a record: its type, id and properties as they are. */
export function buildContext(objectTypeId, objectId, properties) {
    const fields = {};
    for (const name of propertyNames(objectTypeId)) {
        if (properties && name in properties) fields[name] = properties[name];
    }
    return { crm: 'hubspot', recordType: objectTypeId, recordId: String(objectId), fields };
}

/** A failed lookup: `code` is the Connect code ("permission_denied", "unavailable", ...). */
export class SopdError extends Error {
    constructor(code, message) {
        super(message);
        this.name = 'SopdError';
        this.code = code;
    }
}

// The Connect protocol's HTTP status to code mapping, for answers without Connect error JSON
// (HubSpot's own 429 when the account has 20 requests in flight, a proxy's 502).
const STATUS_CODES = {
    400: 'invalid_argument',
    401: 'unauthenticated',
    403: 'permission_denied',
    404: 'unimplemented',
    408: 'deadline_exceeded',
    429: 'unavailable',
    502: 'unavailable',
    503: 'unavailable',
    504: 'unavailable'
};

/** POSTs the context to sopd; resolves to LookupSopsResponse (proto3 JSON), rejects with SopdError. */
export async function lookupSops(context, maxResults) {
    let response;
    try {
        response = await hubspot.fetch(LOOKUP_URL, {
            method: 'POST',
            timeout: TIMEOUT_MS,
            headers: { 'Content-Type': 'application/json' },
            body: { context, maxResults }
        });
    } catch (e) {
        // Timeouts, a refused connection, a response over HubSpot's 1 MB limit.
        throw new SopdError('unavailable', `SOP Sidebar could not be reached: ${e?.message ?? e}`);
    }
    let body;
    try {
        body = await response.json();
    } catch {
        body = undefined;
    }
    if (response.ok) {
        if (!body || typeof body !== 'object') throw new SopdError('unknown', 'SOP Sidebar sent an answer that is not JSON');
        return body;
    }
    const code = typeof body?.code === 'string' ? body.code : (STATUS_CODES[response.status] ?? 'unknown');
    const message = typeof body?.message === 'string' ? body.message : `HTTP ${response.status}`;
    throw new SopdError(code, message);
}
