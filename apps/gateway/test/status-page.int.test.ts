/// <reference lib="dom" />
/**
 * The status page as a person sees it, in headless Chromium (Debian's `chromium`, driven by
 * puppeteer-core): it renders without script errors, shows the keyspaces, shard health and pool
 * bars, charts and the vschema, and updates itself after queries run. A screenshot is saved for
 * a person to look at (apps/gateway/test-results/status-page.png).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, parseConfig } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SCREENSHOT = path.resolve(here, '../test-results/status-page.png');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

let dir: string;
let gateway: Gateway;
let browser: Browser;
let client: mysql.Connection;

beforeAll(async () => {
  if (CHROMIUM === undefined) throw new Error('chromium is not installed: run `bash scripts/setup.sh --test-tools` (apt-get install chromium)');
  dir = mkdtempSync(path.join(tmpdir(), 'sg-status-'));
  writeFileSync(
    path.join(dir, 'vschema.json'),
    JSON.stringify({
      keyspaces: {
        commerce: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
        main: { sharded: false, tables: { settings: {} } },
      },
    }),
  );
  writeFileSync(path.join(dir, 'commerce.sql'), 'CREATE TABLE customer (id BIGINT PRIMARY KEY, name VARCHAR(40));');
  writeFileSync(path.join(dir, 'main.sql'), 'CREATE TABLE settings (k VARCHAR(20) PRIMARY KEY, v VARCHAR(20));');
  gateway = new Gateway(
    parseConfig(
      {
        listen: { mysql: '127.0.0.1:0', http: '127.0.0.1:0' },
        users: [{ user: 'app', password: 'secret' }],
        vschema: './vschema.json',
        keyspaces: {
          commerce: { schema: './commerce.sql', shards: { '-80': 'local', '80-': 'local' } },
          main: { schema: './main.sql', shards: { '0': 'local' } },
        },
      },
      path.join(dir, 'shardgate.yaml'),
    ),
  );
  const addr = await gateway.start();
  client = await mysql.createConnection({ host: '127.0.0.1', port: addr.mysql.port, user: 'app', password: 'secret', database: 'commerce' });
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

afterAll(async () => {
  await browser?.close();
  await client?.end();
  await gateway?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('status page in a browser', () => {
  it('renders the topology, health, charts and vschema, updates after queries, and is saved as a screenshot', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    await page.setViewport({ width: 1280, height: 1400 });
    const url = `http://127.0.0.1:${gateway.addresses!.http!.port}/`;
    await page.goto(url, { waitUntil: 'load' });

    const text = (selector: string): Promise<string> => page.$eval(selector, (el) => (el as HTMLElement).innerText);
    // The topology: every keyspace and shard, each pinged up, with a pool bar.
    await page.waitForFunction(() => document.querySelectorAll('#topology .up').length === 3, { timeout: 20_000 });
    const topology = await text('#topology');
    for (const want of ['commerce', 'main', '-80', '80-', 'local, temporary']) expect(topology).toContain(want);
    expect(await page.$$eval('#topology .bar', (bars) => bars.length)).toBe(3);
    expect(await page.$$eval('svg polyline', (lines) => lines.length)).toBe(2);
    expect(await text('#vschema')).toMatch(/customer\s+sharded\s+id → hash \(hash\)/);
    // Nothing on the page is a JSON dump, and the MySQL address reads as host:port.
    const body = await text('body');
    expect(body).not.toMatch(/[{[]\s*"/);
    expect(body).toContain(`MySQL on ${gateway.addresses!.mysql.host}:${gateway.addresses!.mysql.port}`);
    expect(await text('#statements')).toBe('0');

    // Traffic: the page follows it without a reload.
    await client.query("INSERT INTO customer (id, name) VALUES (1, 'ada'), (2, 'grace'), (3, 'edsger')");
    for (let i = 0; i < 20; i++) await client.query('SELECT name FROM customer WHERE id = ?', [1 + (i % 3)]);
    await client.query('SELECT COUNT(*) FROM customer');
    await client.query('SELECT * FROM no_such_table').catch(() => undefined);
    await page.waitForFunction(() => Number(document.getElementById('statements')?.textContent) >= 23, { timeout: 10_000 });
    const plans = await text('#plans');
    expect(plans).toMatch(/select name from customer where id = :\w+/i);
    expect(plans).toContain('Route EqualUnique');
    expect(plans).toContain('Aggregate Scalar');
    expect(plans).toContain('Insert Sharded');
    expect(await text('#errors')).toContain('no_such_table');
    expect(await text('#plan-cache')).toMatch(/hit ratio\s+[\d.]+ %/);
    expect(pageErrors).toEqual([]);

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    await page.close();
  });
});
