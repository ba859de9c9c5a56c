// The panel's content as plain data, computed from LookupSopsResponse in the proto3 JSON mapping
// (lowerCamelCase fields, enums by name, Durations as "300s", Timestamps as RFC 3339 strings).
// No platform imports: the Salesforce LWC and the HubSpot card render the same view from it, so
// this file is kept identical in plugins/salesforce/force-app/main/default/lwc/sopPanel/ and
// plugins/hubspot/src/app/cards/ (the HubSpot tests check that).

const ROLE_LABELS = {
    SDR: 'SDR',
    AE: 'Account Executive',
    SALES_MANAGER: 'Sales Manager',
    SALES_OPS: 'Sales Ops',
    MARKETING: 'Marketing',
    VP_SALES: 'VP Sales',
    MARKETING_DIRECTOR: 'Marketing Director',
    ADMIN: 'Admin'
};

const CHANNEL_LABELS = {
    CALL: 'Call',
    EMAIL: 'Email',
    LINKEDIN: 'LinkedIn',
    SMS: 'SMS',
    VIDEO: 'Video',
    OTHER_CHANNEL: 'Other'
};

/** "300s" / "1.5s" → seconds; 0 when unset or malformed. */
export function durationSeconds(d) {
    if (typeof d !== 'string') return 0;
    const n = Number.parseFloat(d);
    return Number.isFinite(n) ? n : 0;
}

/** 42 → "0:42", 192 → "3:12", 3725 → "1:02:05", 2 days+ → "2d 3h" (as the web panel). */
export function clock(totalSeconds) {
    const s = Math.max(0, Math.floor(totalSeconds));
    const days = Math.floor(s / 86400);
    if (days >= 1) return `${days}d ${Math.floor((s % 86400) / 3600)}h`;
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
    return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** 300 → "5 minutes", 7200 → "2 hours", 172800 → "2 days". */
export function humanDuration(seconds) {
    const unit = (n, w) => `${n} ${w}${n === 1 ? '' : 's'}`;
    if (seconds >= 86400 && seconds % 86400 === 0) return unit(seconds / 86400, 'day');
    if (seconds >= 3600 && seconds % 3600 === 0) return unit(seconds / 3600, 'hour');
    if (seconds >= 60 && seconds % 60 === 0) return unit(seconds / 60, 'minute');
    return unit(Math.round(seconds), 'second');
}

export function roleLabel(role) {
    return ROLE_LABELS[role] ?? '';
}

export function channelLabel(channel) {
    return CHANNEL_LABELS[channel] ?? '—';
}

/** A google.protobuf.Value (plain JSON) as the rep reads it: strings quoted, others as JSON. */
export function valueText(v) {
    if (v === undefined) return '(not set)';
    if (typeof v === 'string') return `“${v}”`;
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? `“${x}”` : JSON.stringify(x))).join(', ');
    return JSON.stringify(v);
}

export function conditionText(c) {
    if (!c) return '';
    const ci = c.caseInsensitive ? ' (any case)' : '';
    if ('equals' in c) return `${c.field} = ${valueText(c.equals)}${ci}`;
    if ('anyOf' in c) return `${c.field} is one of ${(c.anyOf ?? []).map(valueText).join(', ')}${ci}`;
    if ('noneOf' in c) return `${c.field} is none of ${(c.noneOf ?? []).map(valueText).join(', ')}${ci}`;
    if ('prefix' in c) return `${c.field} starts with “${c.prefix}”${ci}`;
    if ('exists' in c) return c.exists ? `${c.field} is set` : `${c.field} is not set`;
    if ('range' in c) {
        const r = c.range ?? {};
        const parts = [];
        if (r.min !== undefined) parts.push(`${r.exclusiveMin ? '>' : '≥'} ${r.min}`);
        if (r.minTime !== undefined) parts.push(`${r.exclusiveMin ? 'after' : 'from'} ${r.minTime}`);
        if (r.max !== undefined) parts.push(`${r.exclusiveMax ? '<' : '≤'} ${r.max}`);
        if (r.maxTime !== undefined) parts.push(`${r.exclusiveMax ? 'before' : 'until'} ${r.maxTime}`);
        return `${c.field} ${parts.join(' and ')}`;
    }
    return c.field ?? '';
}

/** The SLA's name for a step's clock ("First contact"): the SOP's SLA term of the same duration. */
export function slaName(sop, step) {
    const secs = durationSeconds(step.timeLimit?.duration);
    const term = (sop.slaTerms ?? []).find((t) => t.duration !== undefined && durationSeconds(t.duration) === secs);
    if (!term) return 'Step deadline';
    const words = term.name.replace(/_(window|sla|limit|deadline)$/, '').replace(/_/g, ' ');
    return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The countdown to a step's due time: "3:12 left", or "overdue by 0:42" once breached. */
export function slaView(dueTime, nowMs) {
    const due = Date.parse(dueTime);
    if (!Number.isFinite(due)) return null;
    const secs = (due - nowMs) / 1000;
    const overdue = secs < 0;
    return { overdue, text: overdue ? `overdue by ${clock(-secs)}` : `${clock(Math.ceil(secs))} left` };
}

/**
 * Step instructions (Markdown written by SOP editors) as plain text, as `sopctl` prints them:
 * emphasis and code marks dropped, links as "text <url>", images as their alt text, heading and
 * quote marks removed; lists and tables keep their lines. Both CRMs render it as text, never as
 * HTML, so whatever an SOP holds cannot run.
 */
export function markdownText(md) {
    return (md ?? '')
        .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
        .replace(/\[([^\]]+)\]\(([^)\s]+)[^)]*\)/g, '$1 <$2>')
        .replace(/(\*\*|__)(.+?)\1/g, '$2')
        .replace(/(^|[\s(])([*_])(\S(?:.*?\S)?)\2(?=[\s).,;:!?]|$)/gm, '$1$3')
        .replace(/`([^`]*)`/g, '$1')
        .replace(/^ {0,3}(#{1,6}|>) ?/gm, '')
        .replace(/\n{3,}/g, '\n\n')
        .trim();
}

function isSafeUrl(uri) {
    try {
        return ['http:', 'https:', 'mailto:', 'tel:'].includes(new URL(uri).protocol);
    } catch {
        return false;
    }
}

function assetView(a) {
    return {
        key: a.id,
        title: a.title,
        // Asset URIs are written by SOP editors: only these protocols become links.
        url: a.uri && isSafeUrl(a.uri) ? a.uri : '',
        kind: a.kind ? a.kind.replace(/_/g, ' ') : ''
    };
}

function updatesView(list) {
    return (list ?? []).map((u, i) => ({
        key: `${u.field}:${i}`,
        field: u.field,
        value: u.value === undefined ? '' : valueText(u.value),
        note: u.note ?? ''
    }));
}

function cadenceView(sop, day) {
    const cadence = sop.cadence ?? [];
    if (cadence.length === 0) return null;
    const lastDay = Math.max(...cadence.map((t) => t.day));
    let note = '';
    if (day > lastDay) note = `The cadence ended on day ${lastDay}.`;
    else if (day > 0 && !cadence.some((t) => t.day === day)) note = `No touch is scheduled for day ${day}.`;
    return {
        heading: day > 0 ? `Cadence — day ${day}` : 'Cadence',
        note,
        touches: cadence.map((t, i) => ({
            key: `${t.day}:${i}`,
            day: `Day ${t.day}`,
            today: day > 0 && t.day === day,
            past: day > 0 && t.day < day,
            channel: channelLabel(t.channel),
            within: t.within ? `within ${humanDuration(durationSeconds(t.within))}` : '',
            action: t.action ?? ''
        }))
    };
}

function whyView(m) {
    const e = m.explanation;
    if (!e) return { rule: '', conditions: [], ranking: 'The server sent no explanation.' };
    const conditions = [];
    if (e.matchedRecordType) conditions.push({ key: 'record-type', text: `record type = “${e.matchedRecordType}”` });
    (e.matchedConditions ?? []).forEach((mc, i) => {
        conditions.push({ key: `c${i}`, text: `${conditionText(mc.condition)} (record: ${valueText(mc.actual)})` });
    });
    return {
        rule: e.ruleDescription ? `Rule: ${e.ruleDescription}` : '',
        conditions,
        ranking: `Priority ${e.priority ?? 0} · specificity ${e.specificity ?? 0}`
    };
}

/**
 * The view of a LookupSopsResponse at time nowMs: null when nothing matched, else the top match
 * (title, purpose, current step with its SLA countdown, updates, disqualification codes, assets,
 * cadence with today's touch, all steps, why it matched) and the other matches' titles.
 */
export function lookupView(response, nowMs) {
    const matches = (response?.matches ?? []).filter((m) => m.sopBody);
    if (matches.length === 0) return null;
    const [top, ...others] = matches;
    const sop = top.sopBody;
    const steps = sop.steps ?? [];
    const idx = top.currentStepIndex ?? -1;
    const step = idx >= 0 && idx < steps.length ? steps[idx] : undefined;
    const assetsById = new Map((sop.assets ?? []).map((a) => [a.id, a]));

    let current = null;
    if (step) {
        const sla = top.currentStepDueTime ? slaView(top.currentStepDueTime, nowMs) : null;
        const limit = step.timeLimit?.duration ? humanDuration(durationSeconds(step.timeLimit.duration)) : '';
        const anchor = step.timeLimit?.anchorEvent ?? '';
        const updates = updatesView(step.requiredUpdates);
        current = {
            label: `Current step · ${step.ordinal} of ${steps.length}`,
            title: step.title,
            instructions: markdownText(step.instructions),
            who: roleLabel(step.responsibleRole),
            timeLimit: limit && anchor ? `${limit} from ${anchor}` : limit,
            sla: sla && { ...sla, label: slaName(sop, step), note: anchor ? `since ${anchor}` : '', dueTime: top.currentStepDueTime },
            updates,
            // The picker shows when the step asks for a disqualification code, as in the web panel.
            disqualificationCodes: updates.some((u) => u.field === 'disqualification_code')
                ? (sop.disqualificationCodes ?? []).map((c) => ({ key: c.code, code: c.code, label: c.label, description: c.description ?? '' }))
                : [],
            assets: (step.assetIds ?? []).map((id) => assetsById.get(id)).filter(Boolean).map(assetView)
        };
    }
    const shown = new Set(step?.assetIds ?? []);
    return {
        name: top.sop,
        title: sop.title,
        purpose: sop.purpose ?? '',
        current,
        noCurrentStep: !step && steps.length > 0,
        cadence: cadenceView(sop, top.cadenceDay ?? 0),
        steps: steps.map((s, i) => ({
            key: `${s.ordinal}`,
            label: `${s.ordinal}. ${s.title}`,
            current: i === idx,
            who: roleLabel(s.responsibleRole)
        })),
        otherAssets: (sop.assets ?? []).filter((a) => !shown.has(a.id)).map(assetView),
        why: whyView(top),
        others: others.map((o) => {
            const os = o.sopBody.steps ?? [];
            const oi = o.currentStepIndex ?? -1;
            return { key: o.sop, title: o.sopBody.title, step: oi >= 0 && oi < os.length ? `Current step: ${os[oi].title}` : '' };
        })
    };
}
