// SOP Sidebar as a HubSpot app card in the contact and deal sidebar: reads the record's properties,
// asks sopd which SOP applies (for the viewing user, whom HubSpot names in the signed request), and
// shows it — the step to do now with its SLA countdown, today's cadence touch, the disqualification
// codes — or the loading, no-match, error, not-authorised or offline state, as the web panel does.
import { useEffect, useState } from 'react';
import {
    Accordion,
    Alert,
    Button,
    DescriptionList,
    DescriptionListItem,
    Divider,
    Flex,
    Heading,
    Link,
    List,
    LoadingSpinner,
    Select,
    Table,
    TableBody,
    TableCell,
    TableHead,
    TableHeader,
    TableRow,
    Tag,
    Text,
    hubspot,
    useExtensionContext
} from '@hubspot/ui-extensions';
import { useCrmProperties } from '@hubspot/ui-extensions/crm';
import { buildContext, propertyNames } from './sopd.js';
import { lookupView } from './sopView.js';
import { useSopLookup } from './useSopLookup.js';

const DEFAULT_DEBOUNCE_MS = 400;
// Keeps the answer far below hubspot.fetch's 1 MB response limit: the top SOP in full, the others
// by title.
const MAX_RESULTS = 3;

/** Re-renders every second while `active`, for the SLA countdown. */
function useNow(active) {
    const [now, setNow] = useState(() => Date.now());
    useEffect(() => {
        if (!active) return undefined;
        setNow(Date.now());
        const timer = setInterval(() => setNow(Date.now()), 1000);
        return () => clearInterval(timer);
    }, [active]);
    return now;
}

function Assets({ assets }) {
    return (
        <List variant="unordered">
            {assets.map((a) => (
                <Text key={a.key}>
                    {a.url ? <Link href={{ url: a.url, external: true }}>{a.title}</Link> : a.title}
                    {a.kind ? ` (${a.kind})` : ''}
                </Text>
            ))}
        </List>
    );
}

function CurrentStep({ current }) {
    const [code, setCode] = useState('');
    const picked = current.disqualificationCodes.find((c) => c.code === code);
    return (
        <Flex direction="column" gap="xs">
            <Text variant="microcopy" format={{ fontWeight: 'bold', textTransform: 'uppercase' }}>
                {current.label}
            </Text>
            <Text format={{ fontWeight: 'bold' }}>{current.title}</Text>
            {current.sla && (
                <Tag testId="sla" variant={current.sla.overdue ? 'error' : 'info'}>
                    {`${current.sla.label}: ${current.sla.text}`}
                </Tag>
            )}
            {current.sla?.note && <Text variant="microcopy">{current.sla.note}</Text>}
            {current.instructions && <Text testId="instructions">{current.instructions}</Text>}
            {(current.who || current.timeLimit) && (
                <DescriptionList direction="row">
                    {current.who && <DescriptionListItem label="Who">{current.who}</DescriptionListItem>}
                    {current.timeLimit && <DescriptionListItem label="Time limit">{current.timeLimit}</DescriptionListItem>}
                </DescriptionList>
            )}
            {current.updates.length > 0 && (
                <>
                    <Text format={{ fontWeight: 'demibold' }}>Update in the CRM</Text>
                    <List variant="unordered" testId="updates">
                        {current.updates.map((u) => (
                            <Text key={u.key}>
                                {u.value ? `${u.field} → ${u.value}` : u.field}
                                {u.note ? ` — ${u.note}` : ''}
                            </Text>
                        ))}
                    </List>
                </>
            )}
            {current.disqualificationCodes.length > 0 && (
                <Select
                    label="Disqualification code (required)"
                    placeholder="Choose a code…"
                    value={code}
                    options={current.disqualificationCodes.map((c) => ({ label: `${c.code} — ${c.label}`, value: c.code }))}
                    onChange={(value) => setCode(String(value))}
                    description={picked?.description ?? ''}
                />
            )}
            {current.assets.length > 0 && (
                <>
                    <Text format={{ fontWeight: 'demibold' }}>Use</Text>
                    <Assets assets={current.assets} />
                </>
            )}
        </Flex>
    );
}

function Cadence({ cadence }) {
    return (
        <>
            <Text format={{ fontWeight: 'demibold' }}>{cadence.heading}</Text>
            {cadence.note && <Text variant="microcopy">{cadence.note}</Text>}
            <Table testId="cadence">
                <TableHead>
                    <TableRow>
                        <TableHeader>Day</TableHeader>
                        <TableHeader>Touch</TableHeader>
                    </TableRow>
                </TableHead>
                <TableBody>
                    {cadence.touches.map((t) => (
                        <TableRow key={t.key}>
                            <TableCell>
                                <Text format={{ fontWeight: t.today ? 'bold' : 'regular' }}>{t.day}</Text>
                                {t.today && <Tag variant="success">Today</Tag>}
                            </TableCell>
                            <TableCell>
                                <Text format={{ fontWeight: 'demibold' }}>{t.within ? `${t.channel} · ${t.within}` : t.channel}</Text>
                                <Text variant={t.past ? 'microcopy' : 'bodytext'}>{t.action}</Text>
                            </TableCell>
                        </TableRow>
                    ))}
                </TableBody>
            </Table>
        </>
    );
}

function Sop({ view }) {
    return (
        <Flex direction="column" gap="sm">
            <Heading>{view.title}</Heading>
            {view.purpose && <Text variant="microcopy">{view.purpose}</Text>}
            {view.current && <CurrentStep key={view.name} current={view.current} />}
            {view.noCurrentStep && <Text variant="microcopy">No step applies to this record right now; the steps are listed below.</Text>}
            {view.cadence && <Cadence cadence={view.cadence} />}
            <Text format={{ fontWeight: 'demibold' }}>All steps</Text>
            {/* The labels carry the SOP's own ordinals, which a numbered List would repeat. */}
            <Flex direction="column" gap="xs" testId="steps">
                {view.steps.map((s) => (
                    <Text key={s.key} format={{ fontWeight: s.current ? 'bold' : 'regular' }}>
                        {s.current ? `${s.label} (current step)` : s.label}
                    </Text>
                ))}
            </Flex>
            {view.otherAssets.length > 0 && (
                <Accordion title="Other linked assets" size="sm">
                    <Assets assets={view.otherAssets} />
                </Accordion>
            )}
            <Accordion title="Why this SOP" size="sm">
                {view.why.rule && <Text variant="microcopy">{view.why.rule}</Text>}
                <List variant="unordered">
                    {view.why.conditions.map((c) => (
                        <Text key={c.key}>{c.text}</Text>
                    ))}
                </List>
                <Text variant="microcopy">{view.why.ranking}</Text>
            </Accordion>
            {view.others.length > 0 && (
                <Accordion title={`Other matching SOPs (${view.others.length})`} size="sm">
                    {view.others.map((o) => (
                        <Flex key={o.key} direction="column">
                            <Text format={{ fontWeight: 'demibold' }}>{o.title}</Text>
                            {o.step && <Text variant="microcopy">{o.step}</Text>}
                        </Flex>
                    ))}
                </Accordion>
            )}
        </Flex>
    );
}

/** The card. Props are for tests: debounceMs between a property change and the new lookup. */
export function SopCard({ debounceMs = DEFAULT_DEBOUNCE_MS }) {
    const { crm } = useExtensionContext();
    const names = propertyNames(crm.objectTypeId);
    const { properties, isLoading, error: propertiesError } = useCrmProperties(names);
    const context = isLoading || propertiesError ? null : buildContext(crm.objectTypeId, crm.objectId, properties);
    const lookup = useSopLookup(context, { maxResults: MAX_RESULTS, debounceMs });
    const ticking = Boolean(lookup.response?.matches?.[0]?.currentStepDueTime);
    const now = useNow(ticking);

    if (propertiesError) {
        return (
            <Alert title="Can't read this record" variant="error">
                {propertiesError.message}
            </Alert>
        );
    }
    const view = lookup.response ? lookupView(lookup.response, now) : null;
    switch (lookup.state) {
        case 'loading':
            return <LoadingSpinner label="Finding the procedure for this record…" showLabel layout="centered" />;
        case 'no-match':
            return (
                <Flex direction="column" gap="xs">
                    <Heading>No procedure for this record</Heading>
                    <Text variant="microcopy">No published SOP applies to this record right now.</Text>
                </Flex>
            );
        case 'unauthenticated':
            return (
                <Alert title="Not signed in to SOP Sidebar" variant="warning">
                    SOP Sidebar did not accept the request made for you. Ask your HubSpot admin to check the SOP Sidebar integration
                    (the app secret and the role map). {lookup.message}
                </Alert>
            );
        case 'error':
            return (
                <Flex direction="column" gap="sm">
                    <Alert title="Couldn't load procedures" variant="error">
                        {lookup.message}
                    </Alert>
                    <Button onClick={lookup.retry}>Retry now</Button>
                </Flex>
            );
        case 'offline':
            return (
                <Flex direction="column" gap="sm">
                    <Alert title="Offline — reconnecting…" variant="warning">
                        {view ? 'Showing the last procedure received. ' : "Can't reach the SOP server. "}
                        {lookup.message}
                    </Alert>
                    <Button onClick={lookup.retry}>Retry now</Button>
                    {view && (
                        <>
                            <Divider />
                            <Sop view={view} />
                        </>
                    )}
                </Flex>
            );
        default:
            return <Sop view={view} />;
    }
}

hubspot.extend(() => <SopCard />);
