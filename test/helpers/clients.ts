import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ADMIN_TOKEN } from './app.js';

/** JSON API client over inject. */
export function apiClient(app: FastifyInstance, defaults: { lang?: string; bearer?: string; ip?: string } = {}) {
  const headers = (extra: Record<string, string> = {}) => ({
    ...(defaults.lang ? { 'accept-language': defaults.lang } : {}),
    ...(defaults.bearer ? { authorization: `Bearer ${defaults.bearer}` } : {}),
    ...extra,
  });
  const remoteAddress = defaults.ip ?? '127.0.0.1';
  return {
    async start(kind: string, query = '') {
      const r = await app.inject({ method: 'POST', url: `/api/v1/flows/${kind}${query}`, headers: headers(), remoteAddress });
      return { status: r.statusCode, body: r.json() as any, res: r };
    },
    async get(kind: string, id: string) {
      const r = await app.inject({ method: 'GET', url: `/api/v1/flows/${kind}/${id}`, headers: headers(), remoteAddress });
      return { status: r.statusCode, body: r.json() as any, res: r };
    },
    async submit(kind: string, id: string, payload: Record<string, unknown>, extra: Record<string, string> = {}) {
      const r = await app.inject({ method: 'POST', url: `/api/v1/flows/${kind}/${id}`, payload, headers: headers(extra), remoteAddress });
      return { status: r.statusCode, body: r.json() as any, res: r };
    },
    async request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, extra: Record<string, string> = {}) {
      const r = await app.inject({ method, url, headers: headers(extra), remoteAddress, ...(payload !== undefined ? { payload: payload as any } : {}) });
      return { status: r.statusCode, body: r.body ? (safeJson(r.body) as any) : null, res: r };
    },
  };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

export const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Runs a flow through the API from start to `completed`, one input object per state. */
export async function runApiFlow(app: FastifyInstance, kind: string, steps: Array<Record<string, unknown>>, opts: { bearer?: string } = {}) {
  const c = apiClient(app, opts);
  const started = await c.start(kind);
  let body = started.body;
  for (const s of steps) {
    const r = await c.submit(kind, body.id, s);
    if (r.status !== 200) throw new Error(`step ${body.state} failed: ${r.status} ${JSON.stringify(r.body.messages ?? r.body)}`);
    body = r.body;
  }
  return body;
}

/**
 * A browser without JavaScript over inject: keeps cookies, follows redirects, fills forms by
 * reading the page's own `_csrf` field and form action.
 */
export class FormBrowser {
  readonly cookies = new Map<string, string>();
  html = '';
  status = 0;
  /** The headers of the last answer (after a redirect, the page's). */
  headers: LightMyRequestResponse['headers'] = {};
  url = '/';
  constructor(
    private readonly app: FastifyInstance,
    private readonly lang = 'it',
  ) {}

  private keep(r: LightMyRequestResponse) {
    for (const c of r.cookies as Array<{ name: string; value: string; maxAge?: number; expires?: Date }>) {
      if (c.value === '' || (c.expires && c.expires.getTime() < Date.now() - 1000 && c.maxAge === undefined)) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
  }

  private cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string): Promise<this> {
    let next: string | null = url;
    for (let i = 0; next && i < 10; i++) {
      const r: LightMyRequestResponse = await this.app.inject({ method: "GET", url: next, headers: { accept: 'text/html', 'accept-language': this.lang, cookie: this.cookieHeader() } });
      this.keep(r);
      this.url = next;
      this.status = r.statusCode;
      this.headers = r.headers;
      this.html = r.body;
      next = r.statusCode >= 300 && r.statusCode < 400 ? String(r.headers.location) : null;
    }
    return this;
  }

  /** Posts the page's form (the first one, or the one whose action matches) with `fields`. */
  async submit(fields: Record<string, string>, opts: { action?: string; formAction?: RegExp; csrf?: string } = {}): Promise<this> {
    const forms = [...this.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = forms.find((f) => (opts.formAction ? opts.formAction.test(f[1]!) : !f[1]!.startsWith('/logout'))) ?? forms[0];
    if (!form) throw new Error(`no form on ${this.url}: ${this.html.slice(0, 300)}`);
    const csrf = opts.csrf ?? /name="_csrf" value="([^"]*)"/.exec(form[2]!)?.[1] ?? '';
    const body = new URLSearchParams({ _csrf: csrf, action: opts.action ?? 'submit', ...fields }).toString();
    const r = await this.app.inject({
      method: 'POST',
      url: form[1]!,
      payload: body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', 'accept-language': this.lang, cookie: this.cookieHeader() },
    });
    this.keep(r);
    this.status = r.statusCode;
    this.headers = r.headers;
    this.html = r.body;
    if (r.statusCode >= 300 && r.statusCode < 400) await this.get(String(r.headers.location));
    return this;
  }

  /** The visible text of the page (tags removed), for assertions. */
  text(): string {
    // <wbr> only allows a line break (e.g. after the "@" of an address): it separates no words.
    return this.html.replace(/<wbr\s*\/?>/g, '').replace(/<[^>]+>/g, ' ').replace(/&#x27;|&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
  }
}
