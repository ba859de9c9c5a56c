// Checks the metadata before a deploy can: every *-meta.xml is well-formed XML (xmllint), its root
// element is the Metadata API type its folder holds, in the metadata namespace; the names the
// files refer to each other by agree (the Named Credential's External Credential, the permission
// set's class and principal); and every file the README names exists.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'force-app/main/default');
const NS = 'http://soap.sforce.com/2006/04/metadata';
const ROOTS = {
    classes: 'ApexClass',
    lwc: 'LightningComponentBundle',
    namedCredentials: 'NamedCredential',
    externalCredentials: 'ExternalCredential',
    cspTrustedSites: 'CspTrustedSite',
    remoteSiteSettings: 'RemoteSiteSetting',
    permissionsets: 'PermissionSet'
};

const problems = [];
const walk = (dir) =>
    readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? walk(path) : [path];
    });
const files = walk(source).filter((f) => f.endsWith('-meta.xml'));

try {
    execFileSync('xmllint', ['--noout', ...files], { stdio: 'pipe' });
} catch (e) {
    if (e.code === 'ENOENT') problems.push('xmllint not found: install it (Debian: apt-get install libxml2-utils)');
    else problems.push(`xmllint: ${e.stderr.toString().trim()}`);
}

const text = (file) => readFileSync(file, 'utf8');
const element = (xml, name) => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]);

for (const file of files) {
    const folder = relative(source, file).split('/')[0];
    const want = ROOTS[folder];
    const rootTag = /<([A-Za-z]+)\s+xmlns="([^"]+)"/.exec(text(file));
    if (!want) problems.push(`${relative(root, file)}: unexpected folder ${folder}`);
    else if (!rootTag || rootTag[1] !== want || rootTag[2] !== NS) {
        problems.push(`${relative(root, file)}: root element should be <${want} xmlns="${NS}">`);
    }
}

const named = text(join(source, 'namedCredentials/SopSidebar.namedCredential-meta.xml'));
const external = text(join(source, 'externalCredentials/SopSidebar.externalCredential-meta.xml'));
const permissions = text(join(source, 'permissionsets/SopSidebar_User.permissionset-meta.xml'));
if (!element(named, 'externalCredential').includes('SopSidebar')) problems.push('the Named Credential does not use the SopSidebar External Credential');
const principals = [...external.matchAll(/<parameterName>([^<]+)<\/parameterName>\s*<parameterType>NamedPrincipal</g)].map((m) => m[1]);
for (const p of element(permissions, 'externalCredentialPrincipal')) {
    const [credential, principal] = p.split('-');
    if (credential !== 'SopSidebar' || !principals.includes(principal)) problems.push(`the permission set grants ${p}, which the External Credential does not define`);
}
for (const cls of element(permissions, 'apexClass')) {
    if (!existsSync(join(source, `classes/${cls}.cls`))) problems.push(`the permission set grants the missing class ${cls}`);
}
if (!/\$Credential\.SopSidebar\.Token/.test(external)) problems.push('the Authorization header does not use $Credential.SopSidebar.Token');
const controller = text(join(source, 'classes/SopSidebarController.cls'));
if (!controller.includes("'callout:SopSidebar/sopsidebar.v1.ContextService/LookupSops'")) problems.push('the controller does not call through the SopSidebar Named Credential');

// Files the README names in backquotes: paths from this folder, or bare file names of the
// component's folder; patterns (docs/*.png) are not names.
const readme = text(join(root, 'README.md'));
const component = join(source, 'lwc/sopPanel');
for (const [, path] of readme.matchAll(/`((?:force-app|scripts|docs)\/[^`\s]+|[\w.-]+\.(?:json|js|mjs|cls))`/g)) {
    if (path.includes('*')) continue;
    const candidates = path.includes('/') ? [join(root, path)] : [join(root, path), join(component, path), join(source, 'classes', path)];
    if (!candidates.some((c) => existsSync(c))) problems.push(`README.md names ${path}, which does not exist`);
}

if (problems.length > 0) {
    for (const p of problems) console.error(`check-metadata: ${p}`);
    process.exit(1);
}
console.log(`check-metadata: ${files.length} metadata files well-formed and consistent`);
