// Keeps the card's lookup current: one request in flight per card (HubSpot allows 20 per account,
// shared by every rep's open cards), answers for a context that has since changed dropped, property
// changes debounced, an unreachable sopd retried with backoff.
import { useCallback, useEffect, useRef, useState } from 'react';
import { lookupSops } from './sopd.js';

const RETRY_MIN_MS = 5000;
const RETRY_MAX_MS = 60000;

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

/**
 * context: the LookupSops context, or null while the record's properties load.
 * Returns {state, response, message, retry}: state is loading, sop, no-match, unauthenticated,
 * offline (response is the last good answer, if any) or error.
 */
export function useSopLookup(context, { maxResults, debounceMs }) {
    const key = context ? JSON.stringify(context) : '';
    const [view, setView] = useState({ state: 'loading', response: undefined, message: '' });
    const latest = useRef({ key, context });
    const inFlight = useRef(false);
    const sentOnce = useRef(false);
    const retryDelay = useRef(RETRY_MIN_MS);
    const retryTimer = useRef(undefined);
    const mounted = useRef(true);

    const send = useCallback(async () => {
        if (inFlight.current || !latest.current.context) return;
        const { key: sentKey, context: sentContext } = latest.current;
        inFlight.current = true;
        sentOnce.current = true;
        clearTimeout(retryTimer.current);
        let outcome;
        try {
            const response = await lookupSops(sentContext, maxResults);
            retryDelay.current = RETRY_MIN_MS;
            const matched = (response.matches ?? []).some((m) => m.sopBody);
            outcome = { state: matched ? 'sop' : 'no-match', response, message: '' };
        } catch (e) {
            outcome = { state: stateOf(e.code), message: e.message };
        } finally {
            inFlight.current = false;
        }
        if (!mounted.current) return;
        // The record changed while this was in flight: its answer is stale, ask for the new one.
        if (latest.current.key !== sentKey) {
            send();
            return;
        }
        if (outcome.state === 'offline') {
            const delay = retryDelay.current;
            retryDelay.current = Math.min(RETRY_MAX_MS, delay * 2);
            retryTimer.current = setTimeout(send, delay);
        }
        // Offline keeps the last answer on screen, under the banner.
        setView((previous) => ({ ...outcome, response: outcome.response ?? (outcome.state === 'offline' ? previous.response : undefined) }));
    }, [maxResults]);

    useEffect(() => {
        latest.current = { key, context };
        if (!context) return undefined;
        // The first lookup goes at once; later property changes (a rep editing several fields)
        // are coalesced.
        const timer = setTimeout(send, sentOnce.current ? debounceMs : 0);
        return () => clearTimeout(timer);
        // eslint-disable-next-line react-hooks/exhaustive-deps -- key stands for context
    }, [key, send, debounceMs]);

    useEffect(
        () => () => {
            mounted.current = false;
            clearTimeout(retryTimer.current);
        },
        []
    );

    const retry = useCallback(() => {
        retryDelay.current = RETRY_MIN_MS;
        send();
    }, [send]);

    return { ...view, retry };
}
