import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Alert, Button, Flex, Heading, List, LoadingSpinner, Select, Table, TableRow, Tag, Text, hubspot } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { SopCard } from '../src/app/cards/SopCard.jsx';
import lookupMql from './data/lookupMql.json';
import lookupCadence from './data/lookupCadence.json';

const NOW = new Date('2026-11-30T10:01:48Z'); // 3:12 before the MQL step's due time
const CONTACT = {
    hs_lead_status: 'NEW',
    lifecyclestage: 'marketingqualifiedlead',
    hubspotscore: '82',
    numberofemployees: '240',
    jobtitle: 'VP of Revenue Operations',
    hs_analytics_source: 'ORGANIC_SEARCH',
    createdate: '2026-11-30T09:56:48.000Z',
    lastmodifieddate: '2026-11-30T10:00:00.000Z'
};

// waitFor re-checks when the rendered output changes; these waits are for what does not render.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const reply = (status, body) => ({ ok: status >= 200 && status < 300, status, json: async () => body });

function properties(values) {
    return { properties: values, error: null, isLoading: false, isRefetching: false, refetch: async () => {} };
}

/** A card on a contact (or objectTypeId) whose properties the test can change. */
function setup({ objectTypeId = '0-1', values = CONTACT } = {}) {
    const renderer = createRenderer('crm.record.sidebar');
    renderer.mocks.context.crm = { objectId: 51, objectTypeId };
    let current = values;
    renderer.mocks.useCrmProperties.willCall(() => properties(current));
    let setProperties;
    function Record() {
        const [, setVersion] = useState(0);
        setProperties = (next) => {
            current = next;
            setVersion((v) => v + 1);
        };
        return <SopCard debounceMs={20} />;
    }
    renderer.render(<Record />);
    return { ...renderer, setProperties: (next) => setProperties(next) };
}

let fetch;
beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    fetch = vi.spyOn(hubspot, 'fetch');
});
afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
});

describe('SopCard: the context it sends', () => {
    it("reads the contact's properties and POSTs them to sopd with crm hubspot and the objectTypeId", async () => {
        fetch.mockResolvedValue(reply(200, lookupMql));
        const { mocks, waitFor, find } = setup();
        await waitFor(() => expect(find(Heading).text).toBe('MQL Acceptance & Handoff'));
        expect(mocks.useCrmProperties.called).toBe(true);
        expect(mocks.useCrmProperties.calls[0][0]).toEqual(expect.arrayContaining(['hs_lead_status', 'lifecyclestage', 'numberofemployees', 'jobtitle']));
        expect(fetch).toHaveBeenCalledTimes(1);
        const [url, options] = fetch.mock.calls[0];
        expect(url).toBe('https://sopd.example.com/sopsidebar.v1.ContextService/LookupSops');
        expect(options.method).toBe('POST');
        expect(options.timeout).toBe(15000);
        expect(options.body).toEqual({
            context: { crm: 'hubspot', recordType: '0-1', recordId: '51', fields: CONTACT },
            maxResults: 3
        });
        expect(Object.keys(options.headers)).toEqual(['Content-Type']);
    });

    it("sends a deal's properties with recordType 0-3", async () => {
        fetch.mockResolvedValue(reply(200, { matches: [] }));
        const { waitFor } = setup({ objectTypeId: '0-3', values: { dealstage: 'contractsent', amount: '48000', pipeline: 'default' } });
        await waitFor(() => expect(fetch).toHaveBeenCalledTimes(1));
        expect(fetch.mock.calls[0][1].body.context).toEqual({
            crm: 'hubspot',
            recordType: '0-3',
            recordId: '51',
            fields: { dealstage: 'contractsent', amount: '48000', pipeline: 'default' }
        });
    });

    it('sends nothing while the properties load', async () => {
        const renderer = createRenderer('crm.record.sidebar');
        renderer.mocks.useCrmProperties.nextResult({ ...properties({}), isLoading: true });
        renderer.render(<SopCard />);
        expect(renderer.find(LoadingSpinner).props.label).toBe('Finding the procedure for this record…');
        await sleep(30);
        expect(fetch).not.toHaveBeenCalled();
    });
});

describe('SopCard: its states', () => {
    it('shows the loading state until sopd answers', () => {
        fetch.mockReturnValue(new Promise(() => {}));
        const { find } = setup();
        expect(find(LoadingSpinner).props.showLabel).toBe(true);
    });

    it('shows the SOP: title, the step to do now, its SLA countdown, what to update, its assets', async () => {
        fetch.mockResolvedValue(reply(200, lookupMql));
        const { waitFor, find, findByTestId, findAll } = setup();
        await waitFor(() => expect(find(Heading).text).toBe('MQL Acceptance & Handoff'));
        const texts = findAll(Text).map((t) => t.text);
        expect(texts).toContain('Current step · 2 of 4');
        expect(texts).toContain('Open the lead and check acceptance criteria within 5 minutes');
        expect(findByTestId(Tag, 'sla').text).toBe('First contact: 3:12 left');
        expect(findByTestId(Tag, 'sla').props.variant).toBe('info');
        expect(texts).toContain('since MQL assigned');
        expect(findByTestId(Text, 'instructions').text).toBe('You have 5 minutes from assignment.\nCheck score, size and seniority.');
        expect(findByTestId(List, 'updates').findAll(Text).map((t) => t.text)).toEqual([
            'lead_status — SQL – Accepted or Rejected: Return to Marketing — decide before the clock runs out.'
        ]);
        const steps = findByTestId(Flex, 'steps').findAll(Text).map((t) => t.text);
        expect(steps[1]).toBe('2. Open the lead and check acceptance criteria within 5 minutes (current step)');
        expect(texts).toContain('Content Usage & Asset Request');
    });

    it('counts the SLA down and turns it red once breached', async () => {
        fetch.mockResolvedValue(reply(200, lookupMql));
        const { waitFor, findByTestId } = setup();
        await waitFor(() => expect(findByTestId(Tag, 'sla').text).toBe('First contact: 3:12 left'));
        await sleep(50);
        // Only the card's one-second tick re-renders from here on.
        vi.setSystemTime(new Date(NOW.getTime() + 2_000));
        await waitFor(() => expect(findByTestId(Tag, 'sla').text).toBe('First contact: 3:10 left'), { timeoutInMs: 2500 });
        vi.setSystemTime(new Date(NOW.getTime() + 193_000));
        await waitFor(() => expect(findByTestId(Tag, 'sla').text).toBe('First contact: overdue by 0:01'), { timeoutInMs: 2500 });
        expect(findByTestId(Tag, 'sla').props.variant).toBe('error');
    });

    it("highlights today's cadence touch", async () => {
        fetch.mockResolvedValue(reply(200, lookupCadence));
        const { waitFor, find, findByTestId } = setup();
        await waitFor(() => expect(find(Heading).text).toBe('First-Touch Outreach Cadence (Inbound MQL)'));
        const table = findByTestId(Table, 'cadence');
        expect(table.findAll(Tag).map((t) => t.text)).toEqual(['Today']);
        const today = table.findAll(TableRow).filter((row) => row.maybeFind(Tag) !== null);
        expect(today).toHaveLength(1);
        expect(today[0].findAll(Text).map((t) => t.text)).toEqual(['Day 3', 'LinkedIn', 'Connect on LinkedIn with a note']);
    });

    it('offers the disqualification codes when the step asks for one', async () => {
        const reject = JSON.parse(JSON.stringify(lookupMql));
        reject.matches[0].currentStepIndex = 3;
        delete reject.matches[0].currentStepDueTime;
        fetch.mockResolvedValue(reply(200, reject));
        const { waitFor, find } = setup();
        await waitFor(() => expect(find(Select).props.options).toEqual([
            { label: 'D-TooSmall — Company too small', value: 'D-TooSmall' },
            { label: 'D-Junior — Not senior enough', value: 'D-Junior' }
        ]));
        find(Select).trigger('onChange', 'D-Junior');
        await waitFor(() => expect(find(Select).props.description).toBe('Below VP level.'));
    });

    it('shows the no-match state', async () => {
        fetch.mockResolvedValue(reply(200, { matches: [] }));
        const { waitFor, find } = setup();
        await waitFor(() => expect(find(Heading).text).toBe('No procedure for this record'));
    });

    it('shows the not-signed-in state when sopd refuses the viewer', async () => {
        fetch.mockResolvedValue(reply(401, { code: 'unauthenticated', message: 'bad HubSpot signature' }));
        const { waitFor, find } = setup();
        await waitFor(() => expect(find(Alert).props.title).toBe('Not signed in to SOP Sidebar'));
        expect(find(Alert).text).toContain('bad HubSpot signature');
    });

    it("shows the error state with sopd's message, and retries on request", async () => {
        fetch.mockResolvedValueOnce(reply(500, { code: 'internal', message: 'storage failed' }));
        fetch.mockResolvedValueOnce(reply(200, lookupMql));
        const { waitFor, find } = setup();
        await waitFor(() => expect(find(Alert).props.title).toBe("Couldn't load procedures"));
        expect(find(Alert).props.variant).toBe('error');
        expect(find(Alert).text).toBe('storage failed');
        find(Button).trigger('onClick');
        await waitFor(() => expect(find(Heading).text).toBe('MQL Acceptance & Handoff'));
        expect(fetch).toHaveBeenCalledTimes(2);
    });

    it('shows the offline state when sopd cannot be reached', async () => {
        fetch.mockRejectedValue(new Error('Request timed out'));
        const { waitFor, find, maybeFind } = setup();
        await waitFor(() => expect(find(Alert).props.title).toBe('Offline — reconnecting…'));
        expect(find(Alert).text).toContain("Can't reach the SOP server.");
        expect(maybeFind(Heading)).toBeNull();
    });

    it('keeps the last SOP under the offline banner when a refresh cannot reach sopd', async () => {
        fetch.mockResolvedValueOnce(reply(200, lookupMql));
        fetch.mockResolvedValueOnce(reply(503, { code: 'unavailable', message: 'sopd is restarting' }));
        const { waitFor, find, setProperties } = setup();
        await waitFor(() => expect(find(Heading).text).toBe('MQL Acceptance & Handoff'));
        setProperties({ ...CONTACT, hs_lead_status: 'IN_PROGRESS' });
        await waitFor(() => expect(find(Alert).props.title).toBe('Offline — reconnecting…'));
        expect(find(Heading).text).toBe('MQL Acceptance & Handoff');
    });
});

describe('SopCard: when the properties change', () => {
    it('looks up again, debounced, and renders the new SOP', async () => {
        fetch.mockResolvedValueOnce(reply(200, lookupMql));
        fetch.mockResolvedValueOnce(reply(200, lookupCadence));
        const { waitFor, find, setProperties } = setup();
        await waitFor(() => expect(find(Heading).text).toBe('MQL Acceptance & Handoff'));
        setProperties({ ...CONTACT, hs_lead_status: 'OPEN' });
        setProperties({ ...CONTACT, hs_lead_status: 'IN_PROGRESS' });
        await waitFor(() => expect(find(Heading).text).toBe('First-Touch Outreach Cadence (Inbound MQL)'));
        expect(fetch).toHaveBeenCalledTimes(2);
        expect(fetch.mock.calls[1][1].body.context.fields.hs_lead_status).toBe('IN_PROGRESS');
    });

    it('does not look up again when the properties come back unchanged', async () => {
        fetch.mockResolvedValue(reply(200, lookupMql));
        const { waitFor, find, setProperties } = setup();
        await waitFor(() => expect(find(Heading).text).toBe('MQL Acceptance & Handoff'));
        setProperties({ ...CONTACT });
        await sleep(60);
        expect(fetch).toHaveBeenCalledTimes(1);
    });

    it('keeps one request in flight and drops the answer for the old values', async () => {
        let answerFirst;
        fetch.mockReturnValueOnce(new Promise((resolve) => (answerFirst = resolve)));
        fetch.mockResolvedValueOnce(reply(200, lookupCadence));
        const { waitFor, find, findAll, setProperties } = setup();
        // The first lookup goes out on a timer: wait for it, however busy the machine.
        await vi.waitFor(() => expect(fetch).toHaveBeenCalledTimes(1));
        setProperties({ ...CONTACT, hs_lead_status: 'IN_PROGRESS' });
        await sleep(60);
        expect(fetch).toHaveBeenCalledTimes(1); // the first is still in flight
        answerFirst(reply(200, lookupMql));
        await waitFor(() => expect(find(Heading).text).toBe('First-Touch Outreach Cadence (Inbound MQL)'));
        expect(fetch).toHaveBeenCalledTimes(2);
        expect(fetch.mock.calls[1][1].body.context.fields.hs_lead_status).toBe('IN_PROGRESS');
        expect(findAll(Heading).map((h) => h.text)).not.toContain('MQL Acceptance & Handoff');
    });
});
