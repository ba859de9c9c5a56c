// The project files HubSpot reads on `hs project upload`, checked against the code they describe.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SOPD_URL } from '../src/app/cards/sopd.js';

const json = (path) => JSON.parse(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8'));

describe('the HubSpot project', () => {
    const project = json('hsproject.json');
    const app = json('src/app/app-hsmeta.json');
    const card = json('src/app/cards/sop-card-hsmeta.json');

    it('is a 2025.2 developer platform project with its sources in src/', () => {
        expect(project).toMatchObject({ srcDir: 'src', platformVersion: '2025.2' });
    });

    it("permits hubspot.fetch to sopd's origin, and nothing else", () => {
        expect(app.type).toBe('app');
        expect(app.config.permittedUrls.fetch).toEqual([new URL(SOPD_URL).origin]);
    });

    it('puts the card in the contact and deal sidebar, with an entry point that exists', () => {
        expect(card.type).toBe('card');
        expect(card.config.location).toBe('crm.record.sidebar');
        expect(card.config.objectTypes).toEqual(['contacts', 'deals']);
        expect(existsSync(new URL(`../src${card.config.entrypoint}`, import.meta.url))).toBe(true);
    });

    it('can read the records the card is on', () => {
        expect(app.config.auth.requiredScopes).toEqual(expect.arrayContaining(['crm.objects.contacts.read', 'crm.objects.deals.read']));
    });

    it('names every file its README names', () => {
        const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
        for (const [, path] of readme.matchAll(/`((?:src|test|docs|scripts)\/[^`\s]+|[\w.-]+\.(?:json|js|jsx|mjs))`/g)) {
            if (path.includes('*')) continue; // a pattern, not a name
            expect(existsSync(new URL(`../${path}`, import.meta.url)), `README.md names ${path}`).toBe(true);
        }
    });
});
