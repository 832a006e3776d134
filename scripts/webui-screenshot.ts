/**
 * Screenshots of the Temporal Web UI for the README, taken from a running `npm run dev` with at least
 * one incident: `npx tsx scripts/webui-screenshot.ts [workflowId]` writes docs/webui-list.png and
 * docs/webui-incident.png. Uses Debian's Chromium (no browser download).
 */
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const UI = process.env.AIRE_WEBUI_URL ?? 'http://127.0.0.1:8233';
const DOCS = join(__dirname, '..', 'docs');

async function main(): Promise<void> {
  const workflowId = process.argv[2];
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const query = encodeURIComponent('AireStatus="awaiting_approval" OR AireStatus="rolled_back" OR AireStatus="mitigated"');
    await page.goto(`${UI}/namespaces/default/workflows?query=${query}`, { waitUntil: 'networkidle' });
    await page.waitForTimeout(1_500);
    await page.screenshot({ path: join(DOCS, 'webui-list.png') });
    if (workflowId) {
      await page.goto(`${UI}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`, { waitUntil: 'networkidle' });
      await page.waitForTimeout(2_000);
      await page.screenshot({ path: join(DOCS, 'webui-incident.png'), fullPage: false });
    }
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
