// npm run screenshots: renders the card in each state (scripts/render-states.jsx, with vitest and
// the SDK's test renderer), then screenshots each page at 360 px with Debian's headless Chromium
// driven by playwright-core (CHROMIUM overrides /usr/bin/chromium): docs/<state>.png.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pages = mkdtempSync(join(tmpdir(), 'sop-card-'));

execFileSync('npx', ['vitest', 'run', '--config', 'scripts/vitest.screenshots.config.js'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SCREENSHOT_DIR: pages }
});

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu']
});
try {
    const page = await browser.newPage({ viewport: { width: 360, height: 800 }, deviceScaleFactor: 1 });
    for (const file of readdirSync(pages).filter((f) => f.endsWith('.html')).sort()) {
        await page.goto(pathToFileURL(join(pages, file)).href);
        const name = file.replace(/\.html$/, '.png');
        await page.locator('.card').screenshot({ path: join(root, 'docs', name) });
        console.log(`wrote docs/${name}`);
    }
} finally {
    await browser.close();
    rmSync(pages, { recursive: true, force: true });
}
