// The people of the benchmarks, in their own process: a browser (cookies, redirects, meta
// refresh, forms) and an API client, driven over IPC by the benchmark that runs the server.
// Everything a person's browser or a campus service spends (building requests, parsing pages and
// cookies) is spent here, so the server's process measures only what the server does, HTTP
// parsing and writing included, as a deployment pays it.
//
// Messages in:  {job: 'code-flow' | 'login-page' | 'api-login' | 'activation', items, concurrency, ...}
//               {pin, mobile}: the answer to a request for a PIN
// Messages out: {done, failures, error?, results} once every item of the job has run (results:
//               what each run returned, e.g. a code flow's access token)
//               {needPin: mobile}: the PIN sent to this mobile, which the benchmark reads from the outbox
'use strict';
const http = require('node:http');
const { createHash, randomBytes } = require('node:crypto');

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP exchange; resolves with the status, headers and body as text. */
function send(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/** A browser: one cookie jar, every cookie sent to the one server; links on the issuer's address go to the server's. */
class Browser {
  constructor(base, issuer) {
    this.base = base;
    this.issuer = issuer;
    this.cookies = new Map();
  }
  async go(method, url, form) {
    const target = url.startsWith(this.issuer) ? this.base + url.slice(this.issuer.length) : url.startsWith('/') ? this.base + url : url;
    const headers = { accept: 'text/html', 'accept-language': 'en' };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const body = form ? new URLSearchParams(form).toString() : undefined;
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const r = await send(method, target, headers, body);
    for (const c of r.headers['set-cookie'] ?? []) {
      const pair = c.slice(0, c.indexOf(';') < 0 ? c.length : c.indexOf(';'));
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = /;\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(c);
      if (value === '' || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return r;
  }
  /** Follows redirects and meta refreshes until a page, or a redirect to `stopAt` (a relying party's callback). */
  async navigate(method, url, form, stopAt) {
    let r = await this.go(method, url, form);
    for (let i = 0; i < 12; i++) {
      const loc =
        r.status >= 300 && r.status < 400
          ? String(r.headers.location)
          : /http-equiv="refresh" content="0;url=([^"]+)"/.exec(r.body)?.[1]?.replace(/&amp;/g, '&');
      if (!loc) return { page: r, callback: null };
      if (stopAt && loc.startsWith(stopAt)) return { page: r, callback: loc };
      r = await this.go('GET', loc);
    }
    throw new Error('too many redirects');
  }
}

const loginForm = (body) => {
  const m = /<form method="post" action="([^"]+)"[\s\S]*?name="_csrf" value="([^"]+)"/.exec(body);
  if (!m) throw new Error('no login form');
  return { action: m[1].replace(/&amp;/g, '&'), csrf: m[2] };
};

/** Tessera's login page, filled in and sent, as a person does it. */
async function loginPage(cfg, username) {
  const b = new Browser(cfg.base, cfg.issuer);
  const page = await b.navigate('GET', '/flows/login');
  const f = loginForm(page.page.body);
  const done = await b.navigate('POST', f.action, { _csrf: f.csrf, action: 'submit', username, password: cfg.password });
  if (done.page.status !== 200) throw new Error(`login page: ${done.page.status}`);
}

/** One OpenID Connect code flow with PKCE: authorize → Tessera's login form → code → token → userinfo. */
async function codeFlow(cfg, username) {
  const verifier = randomBytes(32).toString('base64url');
  const q = new URLSearchParams({
    client_id: cfg.clientId,
    response_type: 'code',
    redirect_uri: cfg.redirect,
    scope: 'openid profile email institution',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
  });
  const b = new Browser(cfg.base, cfg.issuer);
  const login = await b.navigate('GET', `/oidc/auth?${q}`, undefined, cfg.redirect);
  const f = loginForm(login.page.body);
  const done = await b.navigate('POST', f.action, { _csrf: f.csrf, action: 'submit', username, password: cfg.password }, cfg.redirect);
  const code = done.callback ? new URL(done.callback).searchParams.get('code') : null;
  if (!code) throw new Error(`no code: ${done.page.status} ${done.page.body.slice(0, 200)}`);
  const token = await send(
    'POST',
    `${cfg.base}/oidc/token`,
    { authorization: `Basic ${Buffer.from(`${cfg.clientId}:${cfg.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: cfg.redirect, code_verifier: verifier }).toString(),
  );
  const accessToken = JSON.parse(token.body).access_token;
  if (!accessToken) throw new Error(`token: ${token.body}`);
  const me = await send('GET', `${cfg.base}/oidc/me`, { authorization: `Bearer ${accessToken}` });
  if (me.status !== 200) throw new Error(`userinfo: ${me.status} ${me.body}`);
  return accessToken;
}

const json = (base, url, payload, headers = {}) =>
  send('POST', base + url, { accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}), ...headers }, payload ? JSON.stringify(payload) : undefined).then((r) => {
    if (r.status >= 300) throw new Error(`${url}: ${r.status} ${r.body}`);
    return JSON.parse(r.body);
  });

/** A full login through the JSON API: start the flow, send the credentials. */
async function apiLogin(cfg, username) {
  const flow = await json(cfg.base, '/api/v1/flows/login');
  const done = await json(cfg.base, `/api/v1/flows/login/${flow.id}`, { username, password: cfg.password });
  if (done.state !== 'completed') throw new Error(`login ended in ${done.state}`);
}

const pinWaiters = new Map();
/** The PIN sent to `mobile`: the benchmark reads it from the outbox, as the SMS gateway would take it. */
function pinFor(mobile) {
  return new Promise((resolve) => {
    pinWaiters.set(mobile, resolve);
    process.send({ needPin: mobile });
  });
}

/** One activation by PIN through the JSON API: start → mobile → PIN → data confirmed → password → completed. */
async function activation(cfg, item) {
  const flow = await json(cfg.base, '/api/v1/flows/activation-pin');
  const url = `/api/v1/flows/activation-pin/${flow.id}`;
  await json(cfg.base, url, { mobile: item.mobile });
  await json(cfg.base, url, { pin: await pinFor(item.mobile) });
  await json(cfg.base, url, { dataAccurate: true, consents: {} });
  const done = await json(cfg.base, url, { password: item.password, passwordConfirm: item.password });
  if (done.state !== 'completed') throw new Error(`activation ended in ${done.state}`);
}

const jobs = { 'code-flow': codeFlow, 'login-page': loginPage, 'api-login': apiLogin, activation };

process.on('message', async (m) => {
  if (m.pin !== undefined) {
    const resolve = pinWaiters.get(m.mobile);
    pinWaiters.delete(m.mobile);
    resolve(m.pin);
    return;
  }
  const run = jobs[m.job];
  let next = 0;
  let failures = 0;
  let error;
  const results = [];
  await Promise.all(
    Array.from({ length: m.concurrency ?? 1 }, async () => {
      while (next < m.items.length) {
        const k = next++;
        try {
          results[k] = (await run(m, m.items[k])) ?? null;
        } catch (e) {
          failures++;
          error ??= String(e && e.message ? e.message : e);
        }
      }
    }),
  );
  process.send({ done: m.items.length, failures, error, results });
});
process.on('disconnect', () => {
  agent.destroy();
  process.exit(0);
});
