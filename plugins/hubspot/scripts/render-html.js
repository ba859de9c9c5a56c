// The card's rendered component tree (from @hubspot/ui-extensions/testing) as HTML that imitates
// HubSpot's components closely enough for a screenshot. An approximation: HubSpot draws the real
// components in its own UI.
const escape = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function children(node) {
    return (node.childNodes ?? []).map(toHtml).join('');
}

function textStyle(props) {
    const f = props.format ?? {};
    const classes = ['text'];
    if (props.variant === 'microcopy') classes.push('micro');
    if (f.fontWeight === 'bold') classes.push('bold');
    if (f.fontWeight === 'demibold') classes.push('demi');
    if (f.textTransform === 'uppercase') classes.push('upper');
    return classes.join(' ');
}

const COMPONENTS = {
    Flex: (n) => `<div class="flex ${n.props.direction === 'column' ? 'col' : 'row'} gap-${n.props.gap ?? 'none'}">${children(n)}</div>`,
    Heading: (n) => `<h2 class="heading">${children(n)}</h2>`,
    Text: (n) => `<p class="${textStyle(n.props)}">${children(n)}</p>`,
    Tag: (n) => `<span class="tag ${n.props.variant ?? 'default'}">${children(n)}</span>`,
    Alert: (n) => `<div class="alert ${n.props.variant ?? 'info'}" role="alert"><strong>${escape(n.props.title)}</strong><div>${children(n)}</div></div>`,
    Button: (n) => `<button class="button">${children(n)}</button>`,
    LoadingSpinner: (n) => `<div class="spinner-row"><span class="spinner"></span>${n.props.showLabel ? escape(n.props.label) : ''}</div>`,
    List: (n) => {
        const tag = String(n.props.variant ?? '').startsWith('ordered') ? 'ol' : 'ul';
        return `<${tag} class="list">${(n.childNodes ?? []).map((c) => `<li>${toHtml(c)}</li>`).join('')}</${tag}>`;
    },
    DescriptionList: (n) => `<dl class="dl">${children(n)}</dl>`,
    DescriptionListItem: (n) => `<div><dt>${escape(n.props.label)}</dt><dd>${children(n)}</dd></div>`,
    Select: (n) => {
        const chosen = (n.props.options ?? []).find((o) => o.value === n.props.value);
        return `<div class="select"><label>${escape(n.props.label)}</label><div class="box">${escape(chosen ? chosen.label : n.props.placeholder)}<span>▾</span></div>` +
            `<p class="text micro">${escape(n.props.description)}</p></div>`;
    },
    Link: (n) => `<a class="link">${children(n)}</a>`,
    Table: (n) => `<table class="table">${children(n)}</table>`,
    TableHead: (n) => `<thead>${children(n)}</thead>`,
    TableBody: (n) => `<tbody>${children(n)}</tbody>`,
    TableRow: (n) => `<tr>${children(n)}</tr>`,
    TableHeader: (n) => `<th>${children(n)}</th>`,
    TableCell: (n) => `<td>${children(n)}</td>`,
    Accordion: (n) => `<details class="accordion"><summary>${escape(n.props.title)}</summary>${children(n)}</details>`,
    Divider: () => '<hr class="divider">'
};

export function toHtml(node) {
    if (node.nodeType === 'text') return escape(node.text);
    if (node.nodeType === 'element') return (COMPONENTS[node.name] ?? ((n) => `<div>${children(n)}</div>`))(node);
    return children(node);
}

export const CSS = `
html { background: #f5f8fa; }
body { margin: 0; padding: 12px; font: 14px/1.5 "Lexend Deca", system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #33475b; }
.card { width: 320px; background: #fff; border: 1px solid #cbd6e2; border-radius: 4px; padding: 12px 16px 16px; }
.card > header { font-weight: 600; font-size: 14px; margin: 0 0 12px; padding-bottom: 8px; border-bottom: 1px solid #dfe3eb; }
.flex { display: flex; } .col { flex-direction: column; } .gap-xs { gap: 4px; } .gap-sm { gap: 8px; }
p, h2, ul, ol, dl, dd { margin: 0; }
.heading { font-size: 18px; font-weight: 600; line-height: 1.3; color: #213343; }
.text { white-space: pre-line; overflow-wrap: anywhere; } .micro { font-size: 12px; color: #516f90; }
.bold { font-weight: 700; } .demi { font-weight: 600; } .upper { text-transform: uppercase; letter-spacing: .04em; }
.tag { align-self: flex-start; display: inline-block; border-radius: 3px; padding: 2px 8px; font-size: 12px; font-weight: 600; border: 1px solid; }
.tag.info { background: #e5f5f8; border-color: #7fd1de; color: #0b6a7a; } .tag.error { background: #fde8e9; border-color: #f2545b; color: #a3272d; }
.tag.success { background: #e5f8f6; border-color: #00bda5; color: #00705f; margin-left: 6px; } .tag.default { background: #eaf0f6; border-color: #cbd6e2; }
.alert { border-radius: 3px; border: 1px solid; border-top-width: 4px; padding: 10px 12px; font-size: 13px; }
.alert strong { display: block; margin-bottom: 4px; font-size: 14px; }
.alert.error { background: #fde8e9; border-color: #f2545b; } .alert.warning { background: #fef8f0; border-color: #f5c26b; }
.button { align-self: flex-start; font: inherit; font-size: 12px; font-weight: 600; color: #506e91; background: #eaf0f6; border: 1px solid #cbd6e2; border-radius: 3px; padding: 6px 14px; }
.spinner-row { display: flex; align-items: center; gap: 8px; justify-content: center; padding: 16px 0; color: #516f90; }
.spinner { width: 18px; height: 18px; border: 3px solid #cbd6e2; border-top-color: #ff7a59; border-radius: 50%; }
.list { padding-left: 20px; } .list li { margin: 2px 0; }
.dl > div { display: flex; gap: 12px; font-size: 13px; } .dl dt { color: #516f90; min-width: 72px; }
.select label { display: block; font-size: 13px; font-weight: 600; margin-bottom: 4px; }
.select .box { display: flex; justify-content: space-between; border: 1px solid #cbd6e2; border-radius: 3px; padding: 6px 10px; background: #f5f8fa; }
.link { color: #0091ae; font-weight: 600; text-decoration: none; }
.table { border-collapse: collapse; width: 100%; font-size: 13px; }
.table th, .table td { text-align: left; vertical-align: top; border: 1px solid #dfe3eb; padding: 6px 8px; }
.table th { background: #f5f8fa; font-size: 12px; text-transform: uppercase; }
.accordion summary { cursor: pointer; font-weight: 600; color: #0091ae; padding: 4px 0; }
.divider { border: 0; border-top: 1px solid #dfe3eb; width: 100%; margin: 4px 0; }
`;

export function page(root) {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SOP Sidebar card</title><style>${CSS}</style></head>` +
        `<body><section class="card"><header>SOP Sidebar</header>${toHtml(root)}</section></body></html>\n`;
}
