// SOP Sidebar on a Lead, Contact or Opportunity record page: reads the record's fields with
// getRecord, asks sopd (through the SopSidebarController Apex class and its Named Credential)
// which SOP applies for the running user, and shows it — the step to do now with its SLA
// countdown, today's cadence touch, the disqualification codes — or the loading, no-match,
// error, not-authorised or offline state, as the web panel does.
import { LightningElement, api, wire } from 'lwc';
import { getRecord } from 'lightning/uiRecordApi';
import lookup from '@salesforce/apex/SopSidebarController.lookup';
import { fieldNames, optionalFields, recordFields } from './recordContext';
import { lookupView } from './sopView';

const RETRY_MIN_MS = 5000;
const RETRY_MAX_MS = 60000;

/**
 * The Apex method's errors carry a Connect code: AuraHandledException's message is
 * {"code": "...", "message": "..."} (see SopSidebarController.failure). Anything else (the wire's
 * errors, a message that is not that JSON) is "unknown" with its text.
 */
export function describeError(error) {
    const raw = error?.body?.message ?? error?.message ?? (typeof error === 'string' ? error : '');
    try {
        const parsed = JSON.parse(raw);
        if (parsed && typeof parsed.code === 'string') return { code: parsed.code, message: String(parsed.message ?? '') };
    } catch {
        // Not the controller's JSON: a platform error with plain text.
    }
    const list = Array.isArray(error?.body) ? error.body.map((e) => e.message).join(', ') : raw;
    return { code: 'unknown', message: list || 'Unknown error' };
}

function stateOf(code) {
    switch (code) {
        case 'unauthenticated':
        case 'permission_denied':
            return 'unauthenticated';
        case 'unavailable':
        case 'deadline_exceeded':
            return 'offline';
        default:
            return 'error';
    }
}

export default class SopPanel extends LightningElement {
    /** Set by the record page. */
    @api recordId;
    /** Set by the record page: Lead, Contact or Opportunity. */
    @api objectApiName;
    /** Design property: the card's title. */
    @api cardTitle = 'Procedure';
    /** Design property: how many matching SOPs to ask for. */
    @api maxResults = 3;
    /** Design property: comma-separated field API names to send; empty means the object's defaults. */
    @api fieldNames;

    state = 'loading';
    result;
    errorMessage = '';
    /** What the template renders: recomputed when the result or the clock changes. */
    view = null;
    selectedCode = '';
    optionalFields = [];

    _names = [];
    _lastFieldsJson;
    _sequence = 0;
    _tick;
    _retryTimer;
    _retryDelay = RETRY_MIN_MS;

    connectedCallback() {
        // Computed once the page has set objectApiName and the design properties; assigning it
        // is what lets the wire below fire.
        this._names = fieldNames(this.objectApiName, this.fieldNames);
        this.optionalFields = optionalFields(this.objectApiName, this.fieldNames);
    }

    disconnectedCallback() {
        this._sequence++;
        clearInterval(this._tick);
        clearTimeout(this._retryTimer);
        this._tick = undefined;
    }

    // The wire re-fires whenever the record changes (an edit on the page, a notifyRecordUpdate),
    // so the SOP follows the record without a reload.
    @wire(getRecord, { recordId: '$recordId', optionalFields: '$optionalFields' })
    wiredRecord({ data, error }) {
        if (data) {
            const fieldsJson = JSON.stringify(recordFields(data, this._names));
            // A re-fire with the same values (LDS refreshing the cache) needs no new lookup.
            if (fieldsJson === this._lastFieldsJson && this.state !== 'error' && this.state !== 'offline') return;
            this._lastFieldsJson = fieldsJson;
            this._lookup(fieldsJson);
        } else if (error) {
            this._sequence++;
            this.result = undefined;
            this._show('error', describeError(error).message);
        }
    }

    async _lookup(fieldsJson) {
        const sequence = ++this._sequence;
        clearTimeout(this._retryTimer);
        // Same record, new field values: the SOP on screen stays until the new answer replaces it.
        if (!this.result) this.state = 'loading';
        try {
            const body = await lookup({
                objectApiName: this.objectApiName,
                recordId: this.recordId,
                fieldsJson,
                maxResults: Number(this.maxResults) || 3
            });
            if (sequence !== this._sequence) return; // a newer lookup is under way
            this.result = JSON.parse(body);
            this._retryDelay = RETRY_MIN_MS;
            this._show(this.result?.matches?.some((m) => m.sopBody) ? 'sop' : 'no-match');
        } catch (error) {
            if (sequence !== this._sequence) return;
            const { code, message } = describeError(error);
            const state = stateOf(code);
            if (state !== 'offline') this.result = undefined;
            this._show(state, message);
            if (state === 'offline') this._scheduleRetry(fieldsJson);
        }
    }

    _scheduleRetry(fieldsJson) {
        const delay = this._retryDelay;
        this._retryDelay = Math.min(RETRY_MAX_MS, delay * 2);
        // eslint-disable-next-line @lwc/lwc/no-async-operation -- the backoff while sopd is unreachable
        this._retryTimer = setTimeout(() => this._lookup(fieldsJson), delay);
    }

    _show(state, message = '') {
        this.state = state;
        this.errorMessage = message;
        this._render();
        const ticking = this.result?.matches?.[0]?.currentStepDueTime !== undefined;
        if (ticking && !this._tick) {
            // eslint-disable-next-line @lwc/lwc/no-async-operation -- the SLA countdown ticks every second
            this._tick = setInterval(() => this._render(), 1000);
        } else if (!ticking && this._tick) {
            clearInterval(this._tick);
            this._tick = undefined;
        }
    }

    handleRetry() {
        this._retryDelay = RETRY_MIN_MS;
        if (this._lastFieldsJson !== undefined) this._lookup(this._lastFieldsJson);
    }

    handleCodeChange(event) {
        this.selectedCode = event.detail.value;
        const code = this.view?.current?.disqualificationCodes.find((c) => c.code === this.selectedCode);
        if (code) {
            this.dispatchEvent(new CustomEvent('disqualificationcode', { detail: { code: code.code, label: code.label } }));
        }
    }

    // ---- what the template shows ----------------------------------------------------------

    get isLoading() {
        return this.state === 'loading';
    }
    get isNoMatch() {
        return this.state === 'no-match';
    }
    get isError() {
        return this.state === 'error';
    }
    get isUnauthenticated() {
        return this.state === 'unauthenticated';
    }
    get isOffline() {
        return this.state === 'offline';
    }
    get isOfflineWithoutResult() {
        return this.state === 'offline' && !this.view;
    }
    /** The SOP shows in the sop state and, under the offline banner, while reconnecting. */
    get showSop() {
        return (this.state === 'sop' || this.state === 'offline') && this.view !== null;
    }

    _render() {
        this.view = decorate(lookupView(this.result, Date.now()));
    }

    get selectedCodeDescription() {
        return this.view?.current?.disqualificationCodes.find((c) => c.code === this.selectedCode)?.description ?? '';
    }
}

/** lookupView plus what the template cannot compute: classes, aria values, flags. */
function decorate(v) {
    if (!v) return null;
    const current = v.current && {
        ...v.current,
        boxClass: `step-current${v.current.sla?.overdue ? ' breached' : ''}`,
        slaClass: `sla${v.current.sla?.overdue ? ' overdue' : ''}`,
        hasUpdates: v.current.updates.length > 0,
        hasCodes: v.current.disqualificationCodes.length > 0,
        codeOptions: v.current.disqualificationCodes.map((c) => ({ label: `${c.code} — ${c.label}`, value: c.code })),
        hasAssets: v.current.assets.length > 0
    };
    return {
        ...v,
        current,
        cadence: v.cadence && {
            ...v.cadence,
            touches: v.cadence.touches.map((t) => ({
                ...t,
                // The template drops the blank between two elements: the separator is data.
                within: t.within ? ` · ${t.within}` : '',
                rowClass: t.today ? 'today' : t.past ? 'past' : '',
                ariaCurrent: t.today ? 'date' : null
            }))
        },
        steps: v.steps.map((s) => ({
            ...s,
            itemClass: s.current ? 'current' : '',
            ariaCurrent: s.current ? 'step' : null
        })),
        hasOtherAssets: v.otherAssets.length > 0,
        hasOthers: v.others.length > 0,
        otherCount: `Other matching SOPs (${v.others.length})`
    };
}
