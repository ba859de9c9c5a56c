// Renders the card in each state the way the tests do (the SDK's test renderer, hubspot.fetch
// mocked, the clock fixed) and writes each as an HTML page to $SCREENSHOT_DIR for
// scripts/screenshots.mjs, which runs this file with vitest.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, vi } from 'vitest';
import { Select, hubspot } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { SopCard } from '../src/app/cards/SopCard.jsx';
import lookupMql from '../test/data/lookupMql.json';
import lookupCadence from '../test/data/lookupCadence.json';
import { page } from './render-html.js';

const NOW = new Date('2026-11-30T10:01:48Z');
const outDir = process.env.SCREENSHOT_DIR;
const reply = (status, body) => ({ ok: status >= 200 && status < 300, status, json: async () => body });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const reject = JSON.parse(JSON.stringify(lookupMql));
reject.matches[0].currentStepIndex = 3;
delete reject.matches[0].currentStepDueTime;

const STATES = [
    { name: 'loading', answer: () => new Promise(() => {}) },
    { name: 'sop-current-step', answer: async () => reply(200, lookupMql) },
    { name: 'overdue', answer: async () => reply(200, lookupMql), now: new Date(NOW.getTime() + 235_000) },
    { name: 'cadence', answer: async () => reply(200, lookupCadence) },
    { name: 'disqualification', answer: async () => reply(200, reject), pick: 'D-TooSmall' },
    { name: 'no-match', answer: async () => reply(200, { matches: [] }) },
    { name: 'unauthenticated', answer: async () => reply(401, { code: 'unauthenticated', message: 'the HubSpot signature does not verify' }) },
    { name: 'error', answer: async () => reply(500, { code: 'internal', message: 'storage failed' }) },
    { name: 'offline', answer: async () => Promise.reject(new Error('Request timed out')) }
];

describe('SopCard states for screenshots', () => {
    beforeEach(() => {
        mkdirSync(outDir, { recursive: true });
        vi.useFakeTimers({ toFake: ['Date'] });
    });
    afterEach(() => {
        vi.useRealTimers();
        vi.restoreAllMocks();
    });

    for (const state of STATES) {
        it(state.name, async () => {
            vi.setSystemTime(state.now ?? NOW);
            vi.spyOn(hubspot, 'fetch').mockImplementation(state.answer);
            const renderer = createRenderer('crm.record.sidebar');
            renderer.mocks.useCrmProperties.willCall(() => ({
                properties: { hs_lead_status: 'NEW', lifecyclestage: 'marketingqualifiedlead', numberofemployees: '240' },
                error: null,
                isLoading: false,
                isRefetching: false,
                refetch: async () => {}
            }));
            renderer.render(<SopCard />);
            await sleep(50);
            if (state.pick) {
                renderer.find(Select).trigger('onChange', state.pick);
                await sleep(20);
            }
            writeFileSync(join(outDir, `${state.name}.html`), page(renderer.getRootNode()));
        });
    }
});
