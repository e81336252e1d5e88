import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createContext } from '../../src/app/container.js';
import type { AppContext } from '../../src/app/context.js';
import { buildServer } from '../../src/app/server.js';
import type { InstitutionConfig } from '../../src/config/institution-schema.js';
import { readEnv } from '../../src/config/env.js';
import { systemClock, type Clock } from '../../src/ports/clock.js';
import { ADMIN_TOKEN, freshDb, testConfig } from './app.js';

/** The system's Chromium (Debian package); TESSERA_CHROMIUM points elsewhere when needed. */
export const chromiumPath = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';

const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * `false` when browser tests can run, otherwise the reason they are skipped. Use it as the
 * `skip` option of `describe`, so a machine without Chromium reports the skip instead of failing.
 */
export const browserSkip: string | false = existsSync(chromiumPath)
  ? false
  : `browser tests skipped: no Chromium at ${chromiumPath} (install the chromium package or set TESSERA_CHROMIUM)`;

export interface BrowserApp {
  ctx: AppContext;
  app: FastifyInstance;
  /** Where the server listens, e.g. http://127.0.0.1:41234 (no trailing slash). */
  baseUrl: string;
  browser: Browser;
  /**
   * A new page in a browser context of its own (own cookies). The page records console errors,
   * uncaught exceptions and Content-Security-Policy refusals; `assertCleanConsole` checks them.
   */
  newPage(opts?: PageOptions): Promise<Page>;
  close(): Promise<void>;
}

export interface PageOptions {
  /** Viewport width in CSS pixels (default 1280). */
  width?: number;
  height?: number;
  /** The browser's Accept-Language (default Italian, the demo institution's language). */
  locale?: string;
  /** false runs the page without JavaScript, as a visitor with scripts turned off would see it. */
  javaScriptEnabled?: boolean;
}

const problems = new WeakMap<Page, string[]>();

/**
 * Starts Tessera on a fresh database, listening on 127.0.0.1 on a random port, and launches
 * headless Chromium. Time is the real clock by default: the browser judges cookie expiry by it.
 */
export async function startBrowserApp(opts: { config?: InstitutionConfig; clock?: Clock; env?: Record<string, string> } = {}): Promise<BrowserApp> {
  const { db, drop } = await freshDb();
  const env = readEnv({
    NODE_ENV: 'test',
    TESSERA_SECRET: 'test-secret-test-secret-test-secret-0123',
    TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const ctx = await createContext({ env, config: opts.config ?? testConfig(), db, clock: opts.clock ?? systemClock, logLevel: 'silent' });
  const app = await buildServer(ctx, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
  } catch (e) {
    await app.close();
    await drop();
    throw e;
  }
  const contexts: BrowserContext[] = [];
  return {
    ctx,
    app,
    baseUrl,
    browser,
    async newPage(p = {}) {
      const context = await browser.newContext({
        baseURL: baseUrl,
        viewport: { width: p.width ?? 1280, height: p.height ?? 900 },
        locale: p.locale ?? 'it-IT',
        javaScriptEnabled: p.javaScriptEnabled ?? true,
      });
      contexts.push(context);
      const page = await context.newPage();
      const seen: string[] = [];
      problems.set(page, seen);
      page.on('console', (m) => {
        // Failed loads are judged by the response listener below, which knows the resource type.
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) seen.push(`console error on ${page.url()}: ${m.text()} ${m.location().url}`.trim());
      });
      page.on('response', (r) => {
        // A document may rightly answer 4xx (a form with errors); a stylesheet or icon may not.
        if (r.status() >= 400 && r.request().resourceType() !== 'document') seen.push(`${r.status()} for ${r.url()}`);
      });
      page.on('pageerror', (e) => seen.push(`uncaught exception on ${page.url()}: ${e.message}`));
      return page;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
      await app.close();
      await drop();
    },
  };
}

/**
 * Fails when the page logged an error: a Content-Security-Policy refusal (an inline style or
 * script slipped into a view), a failed resource, or an uncaught exception.
 */
export function assertCleanConsole(page: Page): void {
  const seen = problems.get(page) ?? [];
  if (seen.length) throw new Error(`the browser reported problems:\n  ${seen.join('\n  ')}`);
}

let axeSource: string | undefined;
function axeScript(): string {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

/** The WCAG levels Tessera's pages must meet. */
export const wcagTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string; html: string }>;
}

/**
 * Runs axe-core on the page as it is now (WCAG 2.0 and 2.1, levels A and AA) and throws a
 * readable list of violations, if any. axe is injected through the debugging protocol: the
 * pages' Content-Security-Policy rightly refuses inline scripts, and stays enforced.
 */
export async function checkAxe(page: Page, label = page.url()): Promise<void> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.evaluate(axeScript());
  const violations = await page.evaluate(async (tags: string[]) => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: unknown[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations;
  }, wcagTags) as AxeViolation[];
  if (violations.length === 0) return;
  const lines = violations.flatMap((v) => [
    `- ${v.id} (${v.impact ?? 'n/a'}): ${v.help} <${v.helpUrl}>`,
    ...v.nodes.map((n) => `    at ${n.target.map(String).join(' ')}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ').trim()}\n      ${n.html}`),
  ]);
  throw new Error(`axe found ${violations.length} accessibility violation(s) on ${label}:\n${lines.join('\n')}`);
}

/** Saves a full-page screenshot when TESSERA_SCREENSHOTS names a directory (for reviewing the look). */
export async function maybeScreenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.TESSERA_SCREENSHOTS;
  if (dir) await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}
