/**
 * What a person sees when they open a demo alert email: a realistic alert (a generated attack event, run
 * through the real seed rule's alert builder and the real email channel, over SMTP to the demo's mail
 * catcher) rendered by headless Chromium (Debian package) driven by playwright-core.
 *
 * An event field carries hostile HTML: it must show as text, never run, and never make the page fetch
 * anything. A screenshot is kept in test-results/demo-email.png (CI artefact).
 *
 * Chromium: `apt-get install -y chromium` (.ci/run does it). Without /usr/bin/chromium the test is skipped
 * locally, and fails in CI (CI=true) so the artefact cannot silently disappear.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEventAlert } from '../../src/alerts/build.js';
import { EmailChannel } from '../../src/notify/channels/email.js';
import { summarizeAlert } from '../../src/notify/render/summary.js';
import { loadRuleFile } from '../../src/rules/load.js';
import { generateScenario, PROCESS_INDEX, SEED_RULES } from '../../src/scenario/index.js';
import { startMailCatcher, type MailCatcher } from '../../scripts/demo/mail-catcher.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const screenshot = path.join(repoRoot, 'test-results/demo-email.png');
const inCi = Boolean(process.env.CI);
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !inCi) {
  console.warn(`[browser test] skipped: ${CHROMIUM} is absent (Debian/Ubuntu: sudo apt-get install -y chromium)`);
}

const KIBANA = 'https://kibana.example.com:5601';
const HOSTILE = `bash -c '<script>window.__pwned=1;document.title="pwned"</script><img src="http://attacker.invalid/x.png" onerror="window.__pwned=2">'`;

describe.skipIf(!haveChromium && !inCi)('a demo alert email opened in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  let catcher: MailCatcher;
  let dir: string;
  const requests: string[] = [];
  const expected = { pod: '', rule: SEED_RULES.interactive_exec.name, alertId: '' };

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`CI: ${CHROMIUM} is missing; .ci/run installs it with "apt-get install -y chromium"`);
    // A real attack: the shell `kubectl exec -it` starts, as the seed rule sees it; its command line is hostile.
    const scenario = generateScenario({ events: 400, attacks: 1, attackMix: { 'exec-only': 1, 'exec-api': 0, 'exec-api-slow': 0 }, seed: 7 });
    const match = scenario.expectedAlerts.find((a) => a.rule === 'interactive_exec')!;
    const event = structuredClone(scenario.events[match.eventIndices[0]!]!) as Record<string, unknown>;
    const proc = event.process as Record<string, unknown>;
    proc.command_line = HOSTILE;
    proc.args = ['bash', '-c', HOSTILE.slice("bash -c '".length, -1)];
    expected.pod = (event.orchestrator as { resource: { name: string } }).resource.name;

    const loaded = await loadRuleFile(path.join(repoRoot, 'queries/execution_interactive_exec_into_container.toml'));
    if (loaded.kind !== 'rule') throw new Error(`seed rule did not load: ${loaded.kind}`);
    const alert = buildEventAlert(loaded.rule, { _index: PROCESS_INDEX, _id: 'browser-test-event', _source: event }, {
      now: new Date('2026-01-20T10:05:00.000Z'),
      spaceId: 'default',
      executionId: 'browser-test',
      kibanaUrl: KIBANA,
    })!;
    const summary = summarizeAlert(alert.doc);
    expected.alertId = summary.alertId;

    dir = mkdtempSync(path.join(tmpdir(), 'eqlwatch-browser-'));
    catcher = await startMailCatcher(dir);
    const channel = new EmailChannel({
      name: 'demo_mail', host: '127.0.0.1', port: catcher.port, secure: false, requireTLS: false, tlsRejectUnauthorized: true,
      from: 'eqlwatch-demo@example.com', to: ['soc@example.com'], cc: [], timeoutMs: 10_000,
      render: { kibana: { url: KIBANA, spaceId: 'default' }, subjectPrefix: '[eqlwatch demo]', subjectChars: 200 },
    });
    await channel.send({
      notificationId: 'browser-test-notification',
      alertIds: [summary.alertId],
      payload: { kind: 'alert', ruleName: summary.ruleName, severity: summary.severity, alerts: [summary], total: 1 },
      suppressed: 0,
    });
    await channel.close();
    const [mail] = await catcher.waitFor(1, 10_000);
    if (!mail?.htmlPath) throw new Error('the catcher received no HTML email');

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
    page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    page.on('request', (r) => requests.push(r.url()));
    await page.route(/^(?!file:)/, (route) => route.abort());
    await page.goto(pathToFileURL(mail.htmlPath).href, { waitUntil: 'load' });
    mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
  });

  afterAll(async () => {
    await browser?.close();
    await catcher?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the rule name, the severity and the pod', async () => {
    const heading = page.getByRole('heading').first();
    expect(await heading.isVisible()).toBe(true);
    expect(await heading.innerText()).toContain(expected.rule);
    const badge = page.getByText('low', { exact: true }).first();
    expect(await badge.isVisible()).toBe(true);
    const pod = page.getByText(expected.pod).first();
    expect(await pod.isVisible()).toBe(true);
  });

  it('shows the hostile command line as visible text', async () => {
    const code = page.locator('code', { hasText: '<script>' });
    expect(await code.isVisible()).toBe(true);
    expect(await code.innerText()).toContain(HOSTILE);
  });

  it('ran no script from the event and fetched nothing', async () => {
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.title()).not.toBe('pwned');
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
  });

  it('links to the alert in Kibana', async () => {
    const link = page.getByRole('link', { name: 'Open in Kibana' });
    expect(await link.isVisible()).toBe(true);
    const href = await link.getAttribute('href');
    // No promotion configured here: the link opens Discover on eqlwatch's data view, filtered to this alert.
    const url = new URL(href!);
    expect(`${url.origin}${url.pathname}`).toBe(`${KIBANA}/app/discover`);
    const state = decodeURIComponent(url.hash);
    expect(state).toContain(`kibana.alert.uuid: "${expected.alertId}"`);
    expect(expected.alertId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('kept a screenshot for the CI artefacts', () => {
    expect(existsSync(screenshot)).toBe(true);
  });
});
