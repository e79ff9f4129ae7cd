// The status page in Debian's Chromium, driven by playwright-core: a controller, two
// simulated agents and a deployment; every node and pod is on the page, a new pod shows
// up without a reload, the page fits a phone, and a screenshot is kept.
import test from 'ava';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { chromium, type BrowserContext } from 'playwright-core';
import { kubectl, startAgent, startController, waitFor, removeDir, type AgentHandle, type ControllerHandle } from '../helpers/processes.js';

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM) && process.env.CI === 'true') {
  await execa('apt-get', ['install', '-y', 'chromium'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
}

const suffix = randomBytes(3).toString('hex');
const NODES = [`ui-a-${suffix}`, `ui-b-${suffix}`];
let controller: ControllerHandle | undefined;
const agents: AgentHandle[] = [];
let context: BrowserContext | undefined;
const dirs: string[] = [];

test.after.always(async () => {
  await context?.close().catch(() => undefined);
  for (const a of agents) await a.kill();
  await controller?.kill();
  for (const a of agents) removeDir(a.dir);
  if (controller) removeDir(controller.dir);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: localhost/busybox:latest
          command: ["httpd", "-f", "-p", "8080"]
`;

test('status page shows every node and pod, follows changes live, and fits a phone', async (t) => {
  if (!existsSync(CHROMIUM)) return t.fail(`${CHROMIUM} is missing (apt-get install -y chromium)`);
  controller = await startController();
  for (const nodeName of NODES) agents.push(startAgent(controller, { nodeName }));
  const k = kubectl(controller.kubeconfig);
  await waitFor('both nodes Ready', async () => {
    const out = (await k(['get', 'nodes', '--no-headers'], { reject: false })).stdout;
    return NODES.every((n) => new RegExp(`^${n}\\s+Ready\\b`, 'm').test(out));
  }, 60_000, 300);
  await k(['create', '-f', '-'], { input: DEPLOYMENT });
  const podNames = await waitFor('3 web pods Running', async () => {
    const out = (await k(['get', 'pods', '-l', 'app=web', '--no-headers'])).stdout.trim().split('\n').filter(Boolean);
    return out.length === 3 && out.every((l) => /\sRunning\s/.test(l)) ? out.map((l) => l.split(/\s+/)[0]!) : undefined;
  }, 60_000, 300);

  // Without the token: a sign-in form, not the cluster; a token in the URL is never taken.
  const anonymous = await get(`${controller.apiUrl}/ui/`);
  t.is(anonymous.status, 401);
  t.regex(anonymous.body, /<form method="post" action="\/ui\/login">/);
  t.false(anonymous.body.includes(NODES[0]!));
  const inUrl = await get(`${controller.apiUrl}/ui/?token=${encodeURIComponent(controller.token)}`);
  t.is(inUrl.status, 401);
  t.is(inUrl.headers['set-cookie'], undefined);
  t.is((await get(`${controller.apiUrl}/ui/stream`, { Cookie: 'pikube_ui_session=wrong' })).status, 401);

  const profile = mkdtempSync(join(tmpdir(), 'pikube-chromium-'));
  dirs.push(profile);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const failures: string[] = [];
  page.on('pageerror', (err) => failures.push(String(err)));
  page.on('console', (m) => { if (m.type() === 'error') failures.push(m.text()); });

  // Sign in through the form: the token becomes a short-lived session cookie, never a URL.
  await page.goto(`${controller.apiUrl}/ui/`);
  await page.fill('#token', 'not-a-token');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  t.regex(await page.content(), /not accepted/);
  await page.fill('#token', controller.token);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  t.is(new URL(page.url()).pathname, '/ui/');
  t.false(page.url().includes('token'));
  const cookie = (await context.cookies()).find((c) => c.name === 'pikube_ui_session');
  t.truthy(cookie);
  t.true(cookie!.httpOnly && cookie!.secure);
  t.is(cookie!.sameSite, 'Strict');
  t.is(cookie!.path, '/ui');
  t.false(cookie!.value.includes(controller.token));
  t.true(cookie!.expires - Date.now() / 1000 <= 3600 + 5, 'an hour at most');
  // The sign-in page answers 401 (the browser logs that); from here on nothing may fail.
  failures.length = 0;

  for (const n of NODES) await page.waitForSelector(`[data-node="${n}"]`, { timeout: 20_000 });
  for (const p of podNames) await page.waitForSelector(`[data-pod="default/${p}"]`, { timeout: 20_000 });
  // Each pod sits in its node's card with its phase.
  const placed = await page.$$eval('[data-node] [data-pod]', (els) => els.map((e) => [e.closest('[data-node]')!.getAttribute('data-node'), e.getAttribute('data-pod'), e.getAttribute('data-phase')]));
  const bound = JSON.parse((await k(['get', 'pods', '-o', 'json'])).stdout).items as { metadata: { name: string }; spec: { nodeName: string } }[];
  for (const p of podNames) {
    const node = bound.find((b) => b.metadata.name === p)!.spec.nodeName;
    t.deepEqual(placed.find((x) => x[1] === `default/${p}`), [node, `default/${p}`, 'Running']);
  }
  // Bars carry the agents' real readings.
  // (Browser-side code is given as strings: the project compiles without the DOM types.)
  await page.waitForFunction(`Number(document.querySelector('[data-node="${NODES[0]}"] .bar[aria-label="Memory"]')?.getAttribute('aria-valuenow')) > 0`, undefined, { timeout: 20_000 });
  await page.waitForSelector('#live[data-state="live"]');
  await page.waitForFunction(`/Scheduled/.test(document.getElementById('events').textContent)`, undefined, { timeout: 20_000 });

  // A new pod appears without a reload.
  await page.evaluate('window.marker = 42');
  const started = Date.now();
  await k(['run', 'late-pod', '--image=localhost/busybox:latest', '--restart=Never', '--', 'sleep', '3600']);
  await page.waitForSelector('[data-pod="default/late-pod"]', { timeout: 20_000 });
  const appearedMs = Date.now() - started;
  await page.waitForSelector('[data-node] [data-pod="default/late-pod"][data-phase="Running"]', { timeout: 30_000 });
  t.is(await page.evaluate('window.marker'), 42, 'the page was not reloaded');
  t.log(`new pod on the page ${appearedMs} ms after kubectl run was started`);

  const shots = mkdtempSync(join(tmpdir(), 'pikube-status-page-'));
  const desktop = join(shots, 'status-page-desktop.png');
  await page.screenshot({ path: desktop, fullPage: true });

  // A phone: one column, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth') as number;
  t.true(overflow <= 0, `page is ${overflow}px wider than a phone screen`);
  const phone = join(shots, 'status-page-phone.png');
  await page.screenshot({ path: phone, fullPage: true });
  console.log(`status page screenshots: ${desktop} ${phone}`);
  t.deepEqual(failures, []);
});
