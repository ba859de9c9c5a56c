import { createElement } from 'lwc';
import SopPanel from 'c/sopPanel';
import { getRecord } from 'lightning/uiRecordApi';
import lookup from '@salesforce/apex/SopSidebarController.lookup';

// The Apex method, as Salesforce's LWC testing guide mocks it.
jest.mock('@salesforce/apex/SopSidebarController.lookup', () => ({ default: jest.fn() }), { virtual: true });

const leadRecord = require('./data/leadRecord.json');
const lookupMql = require('./data/lookupMql.json');
const lookupCadence = require('./data/lookupCadence.json');

const NOW = new Date('2026-11-30T10:01:48Z'); // 3:12 before the MQL step's due time

function apexError(code, message) {
    return { body: { message: JSON.stringify({ code, message }) }, status: 500 };
}

function withStatus(record, status) {
    return { ...record, fields: { ...record.fields, Status: { value: status, displayValue: status } } };
}

async function flush() {
    for (let i = 0; i < 5; i++) await Promise.resolve();
}

function mount(props = {}) {
    const el = createElement('c-sop-panel', { is: SopPanel });
    Object.assign(el, { recordId: leadRecord.id, objectApiName: 'Lead', ...props });
    document.body.appendChild(el);
    return el;
}

const $ = (el, selector) => el.shadowRoot.querySelector(selector);
const $$ = (el, selector) => Array.from(el.shadowRoot.querySelectorAll(selector));
const text = (el, selector) => $(el, selector)?.textContent.trim();

describe('c-sop-panel', () => {
    beforeEach(() => {
        jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
        jest.setSystemTime(NOW);
    });

    afterEach(() => {
        while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
        jest.clearAllMocks();
        jest.useRealTimers();
    });

    describe('the context it sends', () => {
        it('asks getRecord for the object default fields, as optional fields', async () => {
            mount();
            await flush();
            expect(getRecord.getLastConfig()).toEqual({
                recordId: '00Q5e000004DemoAA1',
                optionalFields: [
                    'Lead.Status',
                    'Lead.LeadSource',
                    'Lead.Rating',
                    'Lead.Industry',
                    'Lead.NumberOfEmployees',
                    'Lead.AnnualRevenue',
                    'Lead.Title',
                    'Lead.Country',
                    'Lead.IsConverted',
                    'Lead.OwnerId',
                    'Lead.CreatedDate',
                    'Lead.LastModifiedDate'
                ]
            });
        });

        it('sends the record fields by API name with their typed values to the Apex method', async () => {
            lookup.mockResolvedValue(JSON.stringify(lookupMql));
            mount();
            getRecord.emit(leadRecord);
            await flush();
            expect(lookup).toHaveBeenCalledTimes(1);
            expect(lookup.mock.calls[0][0]).toEqual({
                objectApiName: 'Lead',
                recordId: '00Q5e000004DemoAA1',
                fieldsJson: JSON.stringify({
                    Status: 'MQL – New Handoff',
                    LeadSource: 'Web',
                    Rating: 'Hot',
                    Industry: null,
                    NumberOfEmployees: 240,
                    Title: 'VP of Revenue Operations',
                    IsConverted: false,
                    LastModifiedDate: '2026-11-30T10:00:00.000Z'
                }),
                maxResults: 3
            });
        });

        it('sends only the fields named in the design property, and its maximum', async () => {
            lookup.mockResolvedValue(JSON.stringify(lookupMql));
            mount({ fieldNames: 'Status, NumberOfEmployees,MQL_Score__c', maxResults: 5 });
            await flush();
            expect(getRecord.getLastConfig().optionalFields).toEqual(['Lead.Status', 'Lead.NumberOfEmployees', 'Lead.MQL_Score__c']);
            getRecord.emit({ ...leadRecord, fields: { ...leadRecord.fields, MQL_Score__c: { value: 82 } } });
            await flush();
            expect(lookup.mock.calls[0][0]).toMatchObject({
                fieldsJson: JSON.stringify({ Status: 'MQL – New Handoff', NumberOfEmployees: 240, MQL_Score__c: 82 }),
                maxResults: 5
            });
        });

        it('uses the Opportunity defaults on an Opportunity page', async () => {
            mount({ objectApiName: 'Opportunity', recordId: '0065e00000AbCdEAA1' });
            await flush();
            expect(getRecord.getLastConfig().optionalFields).toContain('Opportunity.StageName');
            expect(getRecord.getLastConfig().optionalFields).not.toContain('Opportunity.Status');
        });
    });

    describe('its states', () => {
        it('shows the loading state until sopd answers', async () => {
            lookup.mockReturnValue(new Promise(() => {}));
            const el = mount();
            getRecord.emit(leadRecord);
            await flush();
            expect($(el, 'section').dataset.state).toBe('loading');
            expect($(el, 'lightning-spinner')).not.toBeNull();
            expect(text(el, '.state p')).toBe('Finding the procedure for this record…');
        });

        it('shows the SOP: title, the step to do now, its SLA countdown, what to update, its assets', async () => {
            lookup.mockResolvedValue(JSON.stringify(lookupMql));
            const el = mount();
            getRecord.emit(leadRecord);
            await flush();
            expect($(el, 'section').dataset.state).toBe('sop');
            expect(text(el, 'h2.title')).toBe('MQL Acceptance & Handoff');
            expect(text(el, '.step-label')).toBe('Current step · 2 of 4');
            expect(text(el, '.step-title')).toBe('Open the lead and check acceptance criteria within 5 minutes');
            expect(text(el, '.sla-label')).toBe('First contact');
            expect(text(el, '.sla-time')).toBe('3:12 left');
            expect(text(el, '.sla-note')).toBe('since MQL assigned');
            expect(text(el, '.who')).toBe('SDR');
            expect(text(el, '.time-limit')).toBe('5 minutes from MQL assigned');
            expect(text(el, '.instructions')).toBe('You have 5 minutes from assignment.\nCheck score, size and seniority.');
            expect(text(el, '.updates code')).toBe('lead_status');
            const link = $(el, '.step-current .assets a');
            expect(link.textContent).toBe('MQL acceptance checklist');
            expect(link.getAttribute('href')).toBe('https://sops.example.com/assets/mql-acceptance-checklist');
            expect(link.getAttribute('rel')).toBe('noopener noreferrer');
            expect($$(el, '.steps li').map((li) => li.getAttribute('aria-current'))).toEqual([null, 'step', null, null]);
            expect(text(el, '.others summary')).toBe('Other matching SOPs (1)');
            expect(text(el, '.other-title')).toBe('Content Usage & Asset Request');
        });

        it('never turns an asset URI with another protocol into a link', async () => {
            lookup.mockResolvedValue(JSON.stringify(lookupMql));
            const el = mount();
            getRecord.emit(leadRecord);
            await flush();
            const other = $$(el, '.assets li').find((li) => li.textContent.includes('Hostile link'));
            expect(other.querySelector('a')).toBeNull();
        });

        it('counts the SLA down every second and turns it red once breached', async () => {
            lookup.mockResolvedValue(JSON.stringify(lookupMql));
            const el = mount();
            getRecord.emit(leadRecord);
            await flush();
            jest.advanceTimersByTime(2000);
            await flush();
            expect(text(el, '.sla-time')).toBe('3:10 left');
            jest.advanceTimersByTime(190 * 1000 + 1000);
            await flush();
            expect(text(el, '.sla-time')).toBe('overdue by 0:01');
            expect($(el, '.sla').classList).toContain('overdue');
            expect($(el, '.step-current').classList).toContain('breached');
        });

        it("highlights today's cadence touches", async () => {
            lookup.mockResolvedValue(JSON.stringify(lookupCadence));
            const el = mount();
            getRecord.emit(withStatus(leadRecord, 'SQL – Accepted'));
            await flush();
            expect(text(el, '.section')).toBe('Cadence — day 3');
            const rows = $$(el, 'table.cadence tbody tr');
            expect(rows.map((r) => r.className)).toEqual(['past', 'past', 'today', '']);
            expect(rows[2].getAttribute('aria-current')).toBe('date');
            expect(rows[2].querySelector('lightning-badge').label).toBe('Today');
            expect(rows[2].textContent).toContain('LinkedIn');
            expect(rows[0].querySelector('.kind').textContent).toBe(' · within 1 hour');
        });

        it('offers the disqualification codes when the step asks for one', async () => {
            const reject = JSON.parse(JSON.stringify(lookupMql));
            reject.matches[0].currentStepIndex = 3;
            delete reject.matches[0].currentStepDueTime;
            lookup.mockResolvedValue(JSON.stringify(reject));
            const el = mount();
            const picked = jest.fn();
            el.addEventListener('disqualificationcode', picked);
            getRecord.emit(leadRecord);
            await flush();
            const combobox = $(el, 'lightning-combobox');
            expect(combobox.options).toEqual([
                { label: 'D-TooSmall — Company too small', value: 'D-TooSmall' },
                { label: 'D-Junior — Not senior enough', value: 'D-Junior' }
            ]);
            expect($(el, '.sla')).toBeNull();
            combobox.dispatchEvent(new CustomEvent('change', { detail: { value: 'D-Junior' } }));
            await flush();
            expect(text(el, '.dq-desc')).toBe('Below VP level.');
            expect(picked.mock.calls[0][0].detail).toEqual({ code: 'D-Junior', label: 'Not senior enough' });
        });

        it('shows the no-match state when no SOP applies', async () => {
            lookup.mockResolvedValue(JSON.stringify({ matches: [] }));
            const el = mount();
            getRecord.emit(leadRecord);
            await flush();
            expect($(el, 'section').dataset.state).toBe('no-match');
            expect(text(el, '.state h2')).toBe('No procedure for this record');
        });

        it('shows the not-signed-in state when sopd refuses the integration or the viewer', async () => {
            lookup.mockRejectedValue(apexError('unauthenticated', 'SOP Sidebar did not accept the integration token: token expired'));
            const el = mount();
            getRecord.emit(leadRecord);
            await flush();
            expect($(el, 'section').dataset.state).toBe('unauthenticated');
            expect(text(el, '.state h2')).toBe('Not signed in to SOP Sidebar');
            expect(text(el, '.message')).toBe('SOP Sidebar did not accept the integration token: token expired');
        });

        it("shows the error state with sopd's message, and retries on request", async () => {
            lookup.mockRejectedValueOnce(apexError('invalid_argument', 'SOP Sidebar rejected the request: context.recordType is required'));
            const el = mount();
            getRecord.emit(leadRecord);
            await flush();
            expect($(el, 'section').dataset.state).toBe('error');
            expect(text(el, '.state h2')).toBe("Couldn't load procedures");
            expect(text(el, '.message')).toBe('SOP Sidebar rejected the request: context.recordType is required');
            lookup.mockResolvedValueOnce(JSON.stringify(lookupMql));
            $(el, '.state lightning-button').click();
            await flush();
            expect(lookup).toHaveBeenCalledTimes(2);
            expect($(el, 'section').dataset.state).toBe('sop');
        });

        it('shows a platform error as the error state', async () => {
            lookup.mockRejectedValue({ body: { message: 'You do not have access to the Apex class named SopSidebarController.' } });
            const el = mount();
            getRecord.emit(leadRecord);
            await flush();
            expect(text(el, '.message')).toBe('You do not have access to the Apex class named SopSidebarController.');
        });

        it('shows the record wire errors as the error state', async () => {
            const el = mount();
            getRecord.error({ message: 'The requested resource does not exist' });
            await flush();
            expect($(el, 'section').dataset.state).toBe('error');
            expect(lookup).not.toHaveBeenCalled();
        });

        it('shows the offline state while sopd is unreachable and reconnects with backoff', async () => {
            lookup.mockRejectedValueOnce(apexError('unavailable', 'SOP Sidebar could not be reached: Read timed out'));
            lookup.mockRejectedValueOnce(apexError('unavailable', 'SOP Sidebar could not be reached: Read timed out'));
            lookup.mockResolvedValueOnce(JSON.stringify(lookupMql));
            const el = mount();
            getRecord.emit(leadRecord);
            await flush();
            expect($(el, 'section').dataset.state).toBe('offline');
            expect(text(el, '.banner span')).toBe('Offline — reconnecting…');
            expect(text(el, '.state h2')).toBe("Can't reach the SOP server");
            jest.advanceTimersByTime(5000);
            await flush();
            expect(lookup).toHaveBeenCalledTimes(2);
            jest.advanceTimersByTime(9999);
            await flush();
            expect(lookup).toHaveBeenCalledTimes(2);
            jest.advanceTimersByTime(1);
            await flush();
            expect(lookup).toHaveBeenCalledTimes(3);
            expect($(el, 'section').dataset.state).toBe('sop');
            expect($(el, '.banner')).toBeNull();
        });

        it('keeps the SOP on screen under the offline banner when a refresh cannot reach sopd', async () => {
            lookup.mockResolvedValueOnce(JSON.stringify(lookupMql));
            lookup.mockRejectedValueOnce(apexError('deadline_exceeded', 'SOP Sidebar did not answer in time'));
            const el = mount();
            getRecord.emit(leadRecord);
            await flush();
            getRecord.emit(withStatus(leadRecord, 'Working - Contacted'));
            await flush();
            expect($(el, 'section').dataset.state).toBe('offline');
            expect($(el, '.banner')).not.toBeNull();
            expect(text(el, 'h2.title')).toBe('MQL Acceptance & Handoff');
        });
    });

    describe('when the record changes', () => {
        it('looks up again with the new values and renders the new SOP', async () => {
            lookup.mockResolvedValueOnce(JSON.stringify(lookupMql)).mockResolvedValueOnce(JSON.stringify(lookupCadence));
            const el = mount();
            getRecord.emit(leadRecord);
            await flush();
            expect(text(el, 'h2.title')).toBe('MQL Acceptance & Handoff');
            getRecord.emit(withStatus(leadRecord, 'SQL – Accepted'));
            await flush();
            expect(lookup).toHaveBeenCalledTimes(2);
            expect(JSON.parse(lookup.mock.calls[1][0].fieldsJson).Status).toBe('SQL – Accepted');
            expect(text(el, 'h2.title')).toBe('First-Touch Outreach Cadence (Inbound MQL)');
            expect($(el, '.sla')).toBeNull();
        });

        it('does not look up again when the wire re-fires with the same values', async () => {
            lookup.mockResolvedValue(JSON.stringify(lookupMql));
            mount();
            getRecord.emit(leadRecord);
            await flush();
            getRecord.emit(JSON.parse(JSON.stringify(leadRecord)));
            await flush();
            expect(lookup).toHaveBeenCalledTimes(1);
        });

        it('ignores an answer that arrives after a newer lookup started', async () => {
            let answerFirst;
            lookup.mockReturnValueOnce(new Promise((resolve) => (answerFirst = resolve))).mockResolvedValueOnce(JSON.stringify(lookupCadence));
            const el = mount();
            getRecord.emit(leadRecord);
            await flush();
            getRecord.emit(withStatus(leadRecord, 'SQL – Accepted'));
            await flush();
            answerFirst(JSON.stringify(lookupMql));
            await flush();
            expect(text(el, 'h2.title')).toBe('First-Touch Outreach Cadence (Inbound MQL)');
        });
    });
});
