import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hubspot } from '@hubspot/ui-extensions';
import { LOOKUP_URL, SopdError, buildContext, lookupSops, propertyNames } from '../src/app/cards/sopd.js';

const reply = (status, body) => ({ ok: status >= 200 && status < 300, status, json: async () => body });

afterEach(() => vi.restoreAllMocks());

describe('buildContext', () => {
    it('sends a contact as crm "hubspot", its objectTypeId as the record type and its properties as fields', () => {
        const context = buildContext('0-1', 51, {
            hs_lead_status: 'NEW',
            lifecyclestage: 'marketingqualifiedlead',
            numberofemployees: '240',
            jobtitle: 'VP of Revenue Operations',
            industry: null,
            not_asked_for: 'x'
        });
        expect(context).toEqual({
            crm: 'hubspot',
            recordType: '0-1',
            recordId: '51',
            fields: {
                lifecyclestage: 'marketingqualifiedlead',
                hs_lead_status: 'NEW',
                numberofemployees: '240',
                jobtitle: 'VP of Revenue Operations',
                industry: null
            }
        });
    });

    it('reads deal properties for a deal', () => {
        expect(propertyNames('0-3')).toContain('dealstage');
        expect(buildContext('0-3', 9, { dealstage: 'presentationscheduled', amount: '12000' })).toEqual({
            crm: 'hubspot',
            recordType: '0-3',
            recordId: '9',
            fields: { dealstage: 'presentationscheduled', amount: '12000' }
        });
    });
});

describe('lookupSops', () => {
    const context = buildContext('0-1', 51, { hs_lead_status: 'NEW' });

    it('POSTs the context as JSON to LookupSops with the 15 s timeout, and no token or viewer headers', async () => {
        const fetch = vi.spyOn(hubspot, 'fetch').mockResolvedValue(reply(200, { matches: [] }));
        await expect(lookupSops(context, 3)).resolves.toEqual({ matches: [] });
        expect(fetch).toHaveBeenCalledWith('https://sopd.example.com/sopsidebar.v1.ContextService/LookupSops', {
            method: 'POST',
            timeout: 15000,
            headers: { 'Content-Type': 'application/json' },
            body: { context, maxResults: 3 }
        });
        expect(LOOKUP_URL).toBe('https://sopd.example.com/sopsidebar.v1.ContextService/LookupSops');
    });

    it('rejects with the Connect error code and message', async () => {
        vi.spyOn(hubspot, 'fetch').mockResolvedValue(reply(403, { code: 'permission_denied', message: 'no role for this user', details: [] }));
        const error = await lookupSops(context, 3).catch((e) => e);
        expect(error).toBeInstanceOf(SopdError);
        expect(error.code).toBe('permission_denied');
        expect(error.message).toBe('no role for this user');
    });

    it("maps an answer without Connect JSON by its status (HubSpot's 429 when 20 requests are in flight)", async () => {
        vi.spyOn(hubspot, 'fetch').mockResolvedValue({ ok: false, status: 429, json: async () => Promise.reject(new SyntaxError('not JSON')) });
        const error = await lookupSops(context, 3).catch((e) => e);
        expect(error.code).toBe('unavailable');
        expect(error.message).toBe('HTTP 429');
    });

    it('treats a failed fetch (timeout, network) as unavailable', async () => {
        vi.spyOn(hubspot, 'fetch').mockRejectedValue(new Error('Request timed out'));
        const error = await lookupSops(context, 3).catch((e) => e);
        expect(error.code).toBe('unavailable');
        expect(error.message).toBe('SOP Sidebar could not be reached: Request timed out');
    });
});

describe('sopView.js', () => {
    it('is the same file as the Salesforce component uses', () => {
        const here = readFileSync(new URL('../src/app/cards/sopView.js', import.meta.url), 'utf8');
        const salesforce = new URL('../../salesforce/force-app/main/default/lwc/sopPanel/sopView.js', import.meta.url);
        expect(here).toBe(readFileSync(salesforce, 'utf8'));
    });
});
