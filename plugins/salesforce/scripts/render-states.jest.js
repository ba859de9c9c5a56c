// Renders sopPanel in each state the way the tests do (jsdom, Apex mocked, getRecord emitted) and
// writes each as a standalone HTML page to $SCREENSHOT_DIR for scripts/screenshots.mjs. Run by that
// script only: the name does not match Jest's test pattern.
import { createElement } from 'lwc';
import SopPanel from 'c/sopPanel';
import { getRecord } from 'lightning/uiRecordApi';
import lookup from '@salesforce/apex/SopSidebarController.lookup';

jest.mock('@salesforce/apex/SopSidebarController.lookup', () => ({ default: jest.fn() }), { virtual: true });

const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const outDir = process.env.SCREENSHOT_DIR;
const leadRecord = require('../force-app/main/default/lwc/sopPanel/__tests__/data/leadRecord.json');
const lookupMql = require('../force-app/main/default/lwc/sopPanel/__tests__/data/lookupMql.json');
const lookupCadence = require('../force-app/main/default/lwc/sopPanel/__tests__/data/lookupCadence.json');
const css = ['scripts/slds-lite.css', 'force-app/main/default/lwc/sopPanel/sopPanel.css']
    .map((f) => fs.readFileSync(path.join(root, f), 'utf8'))
    .join('\n');

const NOW = new Date('2026-11-30T10:01:48Z');
const escape = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

// The Lightning base components are stubs in jsdom; these stand-ins draw them as SLDS would.
const STAND_INS = {
    'lightning-card': (el, inner) =>
        `<article class="slds-card"><header class="slds-card__header"><span class="card-icon" aria-hidden="true"></span>` +
        `<h2 class="slds-card__header-title">${escape(el.title)}</h2></header><div class="slds-card__body">${inner}</div></article>`,
    'lightning-spinner': (el) => `<div class="slds-spinner" role="status"><span class="slds-assistive-text">${escape(el.alternativeText)}</span></div>`,
    'lightning-button': (el) => `<button class="slds-button ${el.variant === 'base' ? 'slds-button_base' : 'slds-button_neutral'}">${escape(el.label)}</button>`,
    'lightning-badge': (el) => `<span class="slds-badge">${escape(el.label)}</span>`,
    'lightning-combobox': (el) => {
        const chosen = (el.options ?? []).find((o) => o.value === el.value);
        return `<div class="slds-form-element"><label class="slds-form-element__label">${escape(el.label)}</label>` +
            `<div class="slds-combobox">${escape(chosen ? chosen.label : el.placeholder)}<span aria-hidden="true">▾</span></div></div>`;
    }
};

function serialize(node) {
    if (node.nodeType === 3) return escape(node.textContent);
    if (node.nodeType !== 1) return '';
    const tag = node.tagName.toLowerCase();
    const inner = Array.from(node.childNodes).map(serialize).join('');
    if (STAND_INS[tag]) return STAND_INS[tag](node, inner);
    const attrs = Array.from(node.attributes).map((a) => ` ${a.name}="${escape(a.value)}"`).join('');
    return `<${tag}${attrs}>${inner}</${tag}>`;
}

function page(el) {
    const body = Array.from(el.shadowRoot.childNodes).map(serialize).join('');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sopPanel</title><style>${css}</style></head>` +
        `<body><div class="frame">${body}</div></body></html>\n`;
}

async function flush() {
    for (let i = 0; i < 5; i++) await Promise.resolve();
}

function apexError(code, message) {
    return { body: { message: JSON.stringify({ code, message }) } };
}

const reject = JSON.parse(JSON.stringify(lookupMql));
reject.matches[0].currentStepIndex = 3;
delete reject.matches[0].currentStepDueTime;

const STATES = [
    { name: 'loading', answer: () => new Promise(() => {}) },
    { name: 'sop-current-step', answer: () => Promise.resolve(JSON.stringify(lookupMql)) },
    { name: 'overdue', answer: () => Promise.resolve(JSON.stringify(lookupMql)), later: 235_000 },
    { name: 'cadence', answer: () => Promise.resolve(JSON.stringify(lookupCadence)) },
    { name: 'disqualification', answer: () => Promise.resolve(JSON.stringify(reject)) },
    { name: 'no-match', answer: () => Promise.resolve(JSON.stringify({ matches: [] })) },
    {
        name: 'unauthenticated',
        answer: () => Promise.reject(apexError('permission_denied', 'SOP Sidebar does not let this user see procedures: no role map entry for "Custom: Partner"'))
    },
    { name: 'error', answer: () => Promise.reject(apexError('internal', 'SOP Sidebar answered with an error (internal): storage failed')) },
    { name: 'offline', answer: () => Promise.reject(apexError('unavailable', 'SOP Sidebar could not be reached: Read timed out')) }
];

describe('sopPanel states for screenshots', () => {
    beforeAll(() => fs.mkdirSync(outDir, { recursive: true }));
    afterEach(() => {
        while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
        jest.useRealTimers();
    });

    for (const state of STATES) {
        it(state.name, async () => {
            jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
            jest.setSystemTime(NOW);
            lookup.mockImplementation(state.answer);
            const el = createElement('c-sop-panel', { is: SopPanel });
            Object.assign(el, { recordId: leadRecord.id, objectApiName: 'Lead' });
            document.body.appendChild(el);
            getRecord.emit(leadRecord);
            await flush();
            if (state.later) {
                jest.advanceTimersByTime(state.later);
                await flush();
            }
            fs.writeFileSync(path.join(outDir, `${state.name}.html`), page(el));
        });
    }
});
