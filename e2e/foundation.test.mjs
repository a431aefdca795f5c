// End-to-end story for Rampart's foundation, in a real headless Chromium
// against a real `rampart serve`:
//
//   first-admin setup → TOTP enrolment → sign out → sign in with 2FA →
//   API token → SARIF upload (twice, to see deduplication) → findings list →
//   finding detail and status change → screenshots → axe-core checks.
//
// It is one story, so the steps share state and run in order; after the first
// failure the remaining steps are skipped. The last line printed is the
// summary `N passed, N failed` (plus `, N skipped` when something failed).
//
// Environment:
//   RAMPART_BIN      the rampart binary (default: ../target/debug/rampart)
//   CHROMIUM_PATH    the browser (default: /usr/bin/chromium)
//   SCREENSHOT_DIR   where PNGs go (default: ../docs/screenshots)

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const RAMPART_BIN = process.env.RAMPART_BIN || path.join(REPO, 'target', 'debug', 'rampart');
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || path.join(REPO, 'docs', 'screenshots');
const AXE_SOURCE = fs.readFileSync(path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

const OVERALL_TIMEOUT_MS = 180_000;
const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct horse battery staple 42';
const DESKTOP = { width: 1280, height: 800 };

// ---------------------------------------------------------------------------
// A tiny sequential runner.

const steps = [];
function step(name, fn) {
  steps.push({ name, fn });
}

// ---------------------------------------------------------------------------
// TOTP (RFC 6238 over RFC 4226): HMAC-SHA1, 6 digits, 30-second steps.

const TOTP_STEP_MS = 30_000;

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const idx = alphabet.indexOf(ch);
    if (idx === -1) throw new Error(`not base32: ${JSON.stringify(ch)} in ${JSON.stringify(text)}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

function totpAt(secretBase32, counter) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(msg).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

const totpCounter = (ms = Date.now()) => Math.floor(ms / TOTP_STEP_MS);

// Self-check against the RFC 6238 appendix B vector (SHA-1, T = 59 s), so a
// bug in this helper shows up as itself rather than as "server rejected code".
assert.equal(totpAt('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1), '287082');

// ---------------------------------------------------------------------------
// Helpers for the server.

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Starts `rampart serve` and resolves with the one-time setup link once it is
// printed. Rejects if the process exits first or nothing comes in 30 s.
function startServer(port, dataDir, log) {
  const env = { ...process.env, RAMPART_LOG_FORMAT: 'text', NO_COLOR: '1' };
  delete env.RAMPART_CONFIG; // a developer's config must not leak into the test
  const child = spawn(RAMPART_BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => log.push(d));
  const setupLink = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no /setup/ link printed within 30 s')), 30_000);
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      log.push(line + '\n');
      const m = line.match(/(https?:\/\/\S+\/setup\/[0-9a-f]{64})/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`rampart serve exited early (code ${code}, signal ${signal})`));
    });
  });
  return { child, setupLink };
}

async function waitForHealthy(base, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(100);
  }
  throw new Error(`/healthz did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

function stopServer(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // SIGTERM lets it shut down cleanly; SIGKILL if it does not within 5 s.
    const hard = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------------------
// Helpers for the browser.

async function screenshot(page, name) {
  const file = path.join(SCREENSHOT_DIR, name);
  await page.screenshot({ path: file, fullPage: true });
  const kb = Math.round(fs.statSync(file).size / 1024);
  console.log(`    screenshot ${path.relative(REPO, file)} (${kb} KB)`);
}

// Runs axe-core on `pathname` in a separate context that bypasses the CSP:
// the app forbids inline script, and addScriptTag({content}) is inline. Only
// this throwaway context bypasses it; the story itself runs under the real
// CSP. `storageState` carries the session cookie over (or none, signed out).
async function axeCheck(browser, base, pathname, storageState, colorScheme) {
  const ctx = await browser.newContext({
    bypassCSP: true,
    viewport: DESKTOP,
    colorScheme,
    storageState,
  });
  try {
    const page = await ctx.newPage();
    const res = await page.goto(base + pathname);
    assert.equal(res.status(), 200, `${pathname} answered ${res.status()}`);
    await page.addScriptTag({ content: AXE_SOURCE });
    const results = await page.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { resultTypes: ['violations'] }),
    );
    return results.violations.map((v) => ({
      page: `${pathname} (${colorScheme})`,
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  } finally {
    await ctx.close();
  }
}

// ---------------------------------------------------------------------------
// Shared state of the story.

const S = {
  port: 0,
  base: '',
  dataDir: '',
  server: null,
  serverLog: [],
  setupLink: '',
  browser: null,
  context: null,
  page: null,
  totpSecret: '',
  lastTotpCounter: -1,
  token: '',
  axe: [],
  pageErrors: [],
  consoleErrors: [],
};

// A small SARIF 2.1.0 log: one run of semgrep with three results at three
// severities in three files, so each gets its own fingerprint.
const SARIF = {
  $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
  version: '2.1.0',
  runs: [
    {
      tool: { driver: { name: 'semgrep', version: '1.0.0' } },
      results: [
        {
          ruleId: 'python.django.security.injection.sql.raw-query',
          level: 'error',
          message: { text: 'SQL query built from user input with string formatting' },
          locations: [
            { physicalLocation: { artifactLocation: { uri: 'shop/orders/views.py' }, region: { startLine: 42 } } },
          ],
        },
        {
          ruleId: 'python.flask.security.open-redirect',
          level: 'warning',
          message: { text: 'Redirect target comes from the request without validation' },
          locations: [
            { physicalLocation: { artifactLocation: { uri: 'shop/auth/login.py' }, region: { startLine: 17 } } },
          ],
        },
        {
          ruleId: 'generic.secrets.hardcoded-debug-flag',
          level: 'note',
          message: { text: 'Debug mode is switched on in the settings file' },
          locations: [
            { physicalLocation: { artifactLocation: { uri: 'shop/settings.py' }, region: { startLine: 3 } } },
          ],
        },
      ],
    },
  ],
};

async function postSarif() {
  const res = await fetch(`${S.base}/api/v1/findings/sarif?asset=shop`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${S.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(SARIF),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `SARIF upload answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

// Reads the findings table: one entry per body row, with the title and the
// "Seen" count (the last cell).
async function findingsRows(page) {
  return page.locator('table.data tbody tr').evaluateAll((rows) =>
    rows.map((r) => ({
      title: r.querySelector('td:nth-child(2)').textContent.trim(),
      seen: r.querySelector('td:last-child').textContent.trim(),
    })),
  );
}

// ---------------------------------------------------------------------------
// The story.

step('server starts and prints the first-admin link', async () => {
  // Other servers may share this machine: a port found free can be taken
  // before rampart binds it, and rampart then exits. Try a few ports.
  for (let attempt = 1; ; attempt++) {
    S.port = await freePort();
    S.base = `http://127.0.0.1:${S.port}`;
    S.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rampart-e2e-'));
    const { child, setupLink } = startServer(S.port, S.dataDir, S.serverLog);
    S.server = child;
    try {
      S.setupLink = await setupLink;
      break;
    } catch (e) {
      const exitedByItself = child.exitCode !== null;
      await stopServer(child);
      fs.rmSync(S.dataDir, { recursive: true, force: true });
      if (attempt === 3 || !exitedByItself) throw e;
      console.log(`    rampart did not start on port ${S.port} (${e.message}); trying another port`);
    }
  }
  assert.ok(S.setupLink.startsWith(`${S.base}/setup/`), `unexpected link ${S.setupLink}`);
  // The link is printed before the listener necessarily accepts connections.
  await waitForHealthy(S.base);
});

step('browser launches', async () => {
  S.browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // The story's own context keeps the app's CSP in force.
  S.context = await S.browser.newContext({ viewport: DESKTOP });
  S.page = await S.context.newPage();
  S.page.setDefaultTimeout(15_000);
  S.page.on('pageerror', (e) => S.pageErrors.push(`${S.page.url()}: ${e.message}`));
  S.page.on('console', (m) => {
    if (m.type() === 'error') {
      const where = m.location()?.url || S.page.url();
      S.consoleErrors.push(`${where}: ${m.text()}`);
    }
  });
});

step('first administrator is created through the setup link', async () => {
  const { page } = S;
  await page.goto(S.setupLink);
  await page.getByLabel('Email address').fill(ADMIN_EMAIL);
  await page.getByLabel('New password', { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByLabel('Repeat the password', { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Save and continue' }).click();
  await page.waitForURL(`${S.base}/account`);
  await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
});

step('two-factor is enrolled with a computed TOTP code', async () => {
  const { page } = S;
  await page.getByRole('button', { name: 'Set up two-factor' }).click();
  await page.waitForURL(`${S.base}/account/2fa`);
  S.totpSecret = (await page.locator('#totp-secret').textContent()).trim();
  assert.match(S.totpSecret.replace(/\s/g, ''), /^[A-Z2-7]+=*$/i, 'secret is not base32');
  await screenshot(page, 'account-2fa.png');

  // A code typed in the last moment of its step may reach the server in the
  // next one; start on a fresh step when less than 3 s are left.
  const left = TOTP_STEP_MS - (Date.now() % TOTP_STEP_MS);
  if (left < 3_000) await sleep(left + 500);
  S.lastTotpCounter = totpCounter();
  await page.getByLabel('Code from the app').fill(totpAt(S.totpSecret, S.lastTotpCounter));
  await page.getByRole('button', { name: 'Turn on two-factor' }).click();

  await page.locator('#recovery-codes').waitFor();
  assert.equal(await page.locator('#recovery-codes li').count(), 10, 'expected 10 recovery codes');
  await page.getByRole('link', { name: 'I have saved them' }).click();
  await page.waitForURL(`${S.base}/account`);
  await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
});

step('signing out and in again asks for and accepts a TOTP code', async () => {
  const { page } = S;
  await page.locator('header').getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login(\?|$)/);

  // The sign-in page as a signed-out visitor sees it, light and dark.
  S.axe.push(...(await axeCheck(S.browser, S.base, '/login', undefined, 'light')));
  S.axe.push(...(await axeCheck(S.browser, S.base, '/login', undefined, 'dark')));
  await page.goto(`${S.base}/login`);
  await screenshot(page, 'login.png');

  await page.getByLabel('Email address').fill(ADMIN_EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${S.base}/login/2fa**`);
  await page.getByRole('heading', { level: 1, name: 'Two-factor check' }).waitFor();

  // Replay protection: the server refuses a second code from the 30-second
  // step already used for enrolment (even a different code of that step), so
  // wait until the next step begins, plus a second of margin for clock edges.
  if (totpCounter() <= S.lastTotpCounter) {
    const wait = (S.lastTotpCounter + 1) * TOTP_STEP_MS - Date.now() + 1_000;
    console.log(`    waiting ${(wait / 1000).toFixed(1)} s for the next TOTP step (replay protection)`);
    await sleep(wait);
  }
  S.lastTotpCounter = totpCounter();
  await page.getByLabel('Code', { exact: true }).fill(totpAt(S.totpSecret, S.lastTotpCounter));
  await page.getByRole('button', { name: 'Verify' }).click();

  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  await page.locator('header').getByText(ADMIN_EMAIL).waitFor();
});

step('an API token is created on the account page', async () => {
  const { page } = S;
  await page.goto(`${S.base}/account`);
  await page.locator('#token-name').fill('ci');
  await page.locator('input[type=checkbox][value="findings:write"]').check();
  await page.locator('input[type=checkbox][value="findings:read"]').check();
  await page.getByRole('button', { name: 'Create token' }).click();
  S.token = (await page.locator('#new-token').textContent()).trim();
  assert.match(S.token, /^rmp_at_\S+$/, 'token format');

  // The account page of a signed-in admin with 2FA on and one token.
  const state = await S.context.storageState();
  S.axe.push(...(await axeCheck(S.browser, S.base, '/account', state, 'light')));
  S.axe.push(...(await axeCheck(S.browser, S.base, '/account', state, 'dark')));
});

step('a SARIF upload creates three findings, each seen once', async () => {
  assert.deepEqual(
    (({ created, updated }) => ({ created, updated }))(await postSarif()),
    { created: 3, updated: 0 },
  );
  const { page } = S;
  await page.goto(`${S.base}/findings`);
  const rows = await findingsRows(page);
  assert.equal(rows.length, 3, `rows: ${JSON.stringify(rows)}`);
  for (const r of rows) assert.equal(r.seen, '1', `seen count of ${r.title}`);
});

step('the same SARIF again updates the three findings instead of duplicating', async () => {
  assert.deepEqual(
    (({ created, updated }) => ({ created, updated }))(await postSarif()),
    { created: 0, updated: 3 },
  );
  const { page } = S;
  await page.reload();
  const rows = await findingsRows(page);
  assert.equal(rows.length, 3, `rows: ${JSON.stringify(rows)}`);
  for (const r of rows) assert.equal(r.seen, '2', `seen count of ${r.title}`);

  await page.setViewportSize({ width: 1440, height: 900 });
  await screenshot(page, 'findings-desktop.png');
  await page.setViewportSize({ width: 360, height: 780 });
  await screenshot(page, 'findings-phone.png');
  await page.setViewportSize(DESKTOP);

  const state = await S.context.storageState();
  S.axe.push(...(await axeCheck(S.browser, S.base, '/findings', state, 'light')));
  S.axe.push(...(await axeCheck(S.browser, S.base, '/findings', state, 'dark')));
});

step('a finding is opened and resolved, and its history says so', async () => {
  const { page } = S;
  const link = page.locator('table.data tbody tr').first().locator('td:nth-child(2) a');
  const title = (await link.textContent()).trim();
  await link.click();
  await page.waitForURL(/\/findings\/\d+$/);
  await page.getByRole('heading', { level: 1, name: title }).waitFor();

  await page.locator('#status').selectOption('resolved');
  await page.getByRole('button', { name: 'Change status' }).click();
  await page.waitForURL(/\/findings\/\d+\?done=status$/);
  await page.locator('.flash', { hasText: 'Status changed.' }).waitFor();
  const main = await page.locator('main').textContent();
  assert.ok(main.includes('open → resolved'), 'history does not mention "open → resolved"');
  await screenshot(page, 'finding-detail.png');
});

step('no uncaught script errors in the pages', async () => {
  for (const e of S.consoleErrors) console.log(`    console error: ${e}`);
  assert.deepEqual(S.pageErrors, [], 'uncaught exceptions in the page');
});

step('axe-core finds no serious or critical violations', async () => {
  if (S.axe.length === 0) console.log('    axe: no violations on /login, /account, /findings (light and dark)');
  for (const v of S.axe) {
    console.log(`    axe ${v.page}: ${v.id} [${v.impact}] ${v.help}`);
    for (const t of v.targets) console.log(`        ${t}`);
  }
  const bad = S.axe.filter((v) => v.impact === 'critical' || v.impact === 'serious');
  assert.equal(bad.length, 0, `${bad.length} serious or critical axe violation(s): ${bad.map((v) => `${v.page} ${v.id}`).join(', ')}`);
});

// ---------------------------------------------------------------------------

async function teardown() {
  if (S.browser) await S.browser.close().catch((e) => console.log(`    closing the browser: ${e.message}`));
  await stopServer(S.server);
  if (S.dataDir) fs.rmSync(S.dataDir, { recursive: true, force: true });
}

async function main() {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  let passed = 0;
  let failed = 0;
  let skipped = 0;

  // A hung step (a browser that never answers, a server that never starts)
  // must not hang CI: give up after three minutes, cleaning up what we can.
  const watchdog = setTimeout(async () => {
    console.log(`✘ timed out after ${OVERALL_TIMEOUT_MS / 1000} s`);
    S.server?.kill('SIGKILL');
    await Promise.race([S.browser?.close(), sleep(5_000)]).catch(() => {});
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }, OVERALL_TIMEOUT_MS);

  try {
    for (const s of steps) {
      if (failed) {
        skipped++;
        console.log(`- skipped: ${s.name}`);
        continue;
      }
      const t0 = Date.now();
      try {
        await s.fn();
        passed++;
        console.log(`✔ ${s.name} (${Date.now() - t0} ms)`);
      } catch (e) {
        failed++;
        console.log(`✘ ${s.name} (${Date.now() - t0} ms)`);
        console.log(String(e.stack || e).replace(/^/gm, '    '));
        if (S.page) {
          const shot = path.join(os.tmpdir(), 'rampart-e2e-failure.png');
          await S.page
            .screenshot({ path: shot, fullPage: true })
            .then(() => console.log(`    page at failure: ${S.page.url()} (screenshot ${shot})`))
            .catch(() => {});
        }
      }
    }
  } finally {
    await teardown();
    clearTimeout(watchdog);
  }

  if (failed) {
    console.log('--- server output (last 40 lines) ---');
    console.log(S.serverLog.join('').split('\n').slice(-40).join('\n'));
  }
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exitCode = failed ? 1 : 0;
}

await main();
