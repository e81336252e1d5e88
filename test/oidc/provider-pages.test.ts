import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { hasMessage, locales, translate, type Locale } from '../../src/i18n/index.js';
import { ADMIN_TOKEN } from '../helpers/app.js';
import type { HttpBrowser } from '../helpers/http-browser.js';
import { authorize, browserFor, fillLogin, rpConfig, SECRET, seedPerson, startWorld, type OidcWorld } from './harness.js';

/**
 * The pages the provider shows (its errors, the sign-out confirmation, the answer posted to a
 * service with response_mode=form_post, signing out with no session) are Tessera's, in the
 * person's language, with language links that lead back to the same page, and work without
 * JavaScript.
 */

const others = (l: Locale) => locales.filter((x) => x !== l);
const decode = (s: string) => s.replace(/&#x27;|&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const textOf = (html: string) => decode(html.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
const htmlLang = (html: string) => /<html lang="([^"]+)"/.exec(html)?.[1];
const h1 = (html: string) => textOf(/<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? '');
const lead = (html: string) => textOf(/<p class="lead"[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '');

/** The language links of a page: language → href. */
function languageLinks(html: string): Partial<Record<Locale, string>> {
  const nav = /<nav [^>]*class="lang">([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? '';
  const out: Partial<Record<Locale, string>> = {};
  for (const m of nav.matchAll(/<a href="([^"]*)" lang="([^"]+)"/g)) out[m[2] as Locale] = decode(m[1]!);
  return out;
}

/** A link's path and query parameters. */
function partsOf(href: string): { path: string; query: Record<string, string> } {
  const u = new URL(href, 'http://tessera.invalid');
  return { path: u.pathname, query: Object.fromEntries(u.searchParams) };
}

/** The directives of a Content-Security-Policy, by name. */
function directives(csp: string | null): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const d of (csp ?? '').split(';')) {
    const [name, ...values] = d.trim().split(/\s+/);
    if (name) out[name] = values;
  }
  return out;
}

/** The source allowing the page's inline script. */
function scriptSource(html: string): string {
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];
  assert.ok(script, 'the page submits itself with a script');
  return `'sha256-${createHash('sha256').update(script).digest('base64')}'`;
}

describe("single sign-on: the provider's own pages", () => {
  let w: OidcWorld;
  let second: string;
  const bye = () => `${w.rp.base}/webmail/bye`;
  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S700001');
    second = (await seedPerson(w, 'S700002')).accountId;
  });
  after(() => w.close());

  /** A browser signed in to webmail as `username`, and webmail's tokens. */
  async function signedIn(lang: string, username = 'S700001', b: HttpBrowser = browserFor(w, lang)) {
    const config = await rpConfig(w, 'webmail');
    const req = await authorize(w, config, 'webmail');
    await b.get(req.url);
    if (/\/flows\/login\//.test(b.url)) await fillLogin(b, username);
    assert.ok(b.stoppedAt, `back at webmail: ${b.url} ${b.text().slice(0, 300)}`);
    const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt), { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
    return { b, tokens };
  }

  it('?lang= wins over the language cookie and Accept-Language on an error page, is remembered, and the language links keep the query', async () => {
    for (const lang of locales) {
      const other = others(lang)[0]!;
      const r = await fetch(`${w.issuer}/oidc/auth?client_id=nope&scope=openid&lang=${lang}`, {
        headers: { accept: 'text/html', 'accept-language': other, cookie: `tessera_lang=${other}` },
      });
      const html = await r.text();
      assert.equal(r.status, 400);
      assert.equal(htmlLang(html), lang);
      assert.equal(h1(html), translate(lang, 'oidc.error.title'));
      assert.match(r.headers.get('set-cookie') ?? '', new RegExp(`(^|, )tessera_lang=${lang};.*path=/`), 'the language is remembered');
      const links = languageLinks(html);
      assert.deepEqual(Object.keys(links).sort(), others(lang).sort());
      for (const o of others(lang)) assert.deepEqual(partsOf(links[o]!), { path: '/oidc/auth', query: { client_id: 'nope', scope: 'openid', lang: o } });
    }
  });

  it('the error page of a posted request: the language links lead to a page that answers GET', async () => {
    const post = (path: string, body: Record<string, string>, lang: Locale) =>
      fetch(`${w.issuer}${path}`, {
        method: 'POST',
        headers: { accept: 'text/html', 'accept-language': lang, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body).toString(),
      }).then(async (r) => ({ status: r.status, html: await r.text() }));
    for (const lang of locales) {
      // An authorization request sent by POST: the same request by GET.
      const auth = await post('/oidc/auth', { client_id: 'nope', scope: 'openid' }, lang);
      assert.equal(auth.status, 400);
      assert.equal(htmlLang(auth.html), lang);
      for (const [o, href] of Object.entries(languageLinks(auth.html))) {
        assert.deepEqual(partsOf(href), { path: '/oidc/auth', query: { client_id: 'nope', scope: 'openid', lang: o } });
        const again = await fetch(new URL(href, w.issuer), { headers: { accept: 'text/html' } });
        assert.equal(again.status, 400);
        assert.equal(htmlLang(await again.text()), o, 'the same error, in that language');
      }
      // The sign-out step takes only POST: its error leads to the sign-out page.
      const confirm = await post('/oidc/session/end/confirm', { xsrf: 'x', logout: 'yes' }, lang);
      assert.equal(confirm.status, 400);
      assert.equal(htmlLang(confirm.html), lang);
      // Its title is about signing out, not signing in.
      assert.equal(h1(confirm.html), translate(lang, 'oidc.error.signOutTitle'));
      assert.equal(h1(auth.html), translate(lang, 'oidc.error.title'));
      for (const [o, href] of Object.entries(languageLinks(confirm.html))) {
        assert.deepEqual(partsOf(href), { path: '/oidc/session/end', query: { lang: o } });
        const again = await fetch(new URL(href, w.issuer), { headers: { accept: 'text/html' } });
        assert.equal(again.status, 200);
        assert.equal(htmlLang(await again.text()), o);
      }
    }
  });

  it('?lang= on an authorization request is remembered: the sign-in page it leads to is in that language', async () => {
    const config = await rpConfig(w, 'webmail');
    for (const lang of locales) {
      const b = browserFor(w, others(lang)[0]!);
      const req = await authorize(w, config, 'webmail');
      await b.get(`${req.url}&lang=${lang}`);
      assert.match(b.url, /\/flows\/login\//);
      assert.equal(htmlLang(b.html), lang);
      assert.equal(b.cookie('tessera_lang'), lang);
    }
  });

  it('the sign-out confirmation follows ?lang=, its language links keep the query string, and the page they lead to signs out', async () => {
    const { b } = await signedIn('el');
    const query = { client_id: 'webmail', post_logout_redirect_uri: bye(), state: 'st-1' };
    for (const lang of locales) {
      await b.get(`${w.issuer}/oidc/session/end?${new URLSearchParams({ ...query, lang })}`);
      assert.equal(b.status, 200);
      assert.equal(htmlLang(b.html), lang);
      assert.equal(h1(b.html), translate(lang, 'oidc.logout.title'));
      assert.ok(b.text().includes(translate(lang, 'oidc.logout.yes')));
      assert.equal(b.cookie('tessera_lang'), lang);
      const links = languageLinks(b.html);
      for (const o of others(lang)) assert.deepEqual(partsOf(links[o]!), { path: '/oidc/session/end', query: { ...query, lang: o } });
    }
    // The Italian link of the Greek page: the confirmation in Italian, which signs out.
    await b.get(new URL(languageLinks(b.html).it!, w.issuer).href);
    assert.equal(htmlLang(b.html), 'it');
    await b.submit({ logout: 'yes' });
    assert.equal(b.stoppedAt, `${bye()}?state=st-1`);
  });

  it('a sign-out posted by the service: the language links lead to the same confirmation by GET, naming the service, not carrying the ID token', async () => {
    for (const lang of locales) {
      const { b, tokens } = await signedIn(lang);
      const posted = { id_token_hint: tokens.id_token!, post_logout_redirect_uri: bye(), state: `st-${lang}` };
      const r = await fetch(`${w.issuer}/oidc/session/end`, {
        method: 'POST',
        headers: { accept: 'text/html', 'accept-language': lang, 'content-type': 'application/x-www-form-urlencoded', cookie: b.cookieHeader(new URL(`${w.issuer}/oidc/session/end`)) },
        body: new URLSearchParams(posted).toString(),
      });
      const html = await r.text();
      assert.equal(r.status, 200);
      assert.equal(htmlLang(html), lang);
      assert.equal(h1(html), translate(lang, 'oidc.logout.title'));
      const links = languageLinks(html);
      for (const o of others(lang)) {
        assert.deepEqual(partsOf(links[o]!), { path: '/oidc/session/end', query: { client_id: 'webmail', post_logout_redirect_uri: bye(), state: `st-${lang}`, lang: o } });
        assert.ok(!links[o]!.includes(tokens.id_token!));
      }
      const o = others(lang)[1]!;
      await b.get(new URL(links[o]!, w.issuer).href);
      assert.equal(b.status, 200);
      assert.equal(htmlLang(b.html), o);
      assert.ok(b.text().includes(translate(o, 'oidc.logout.yes')));
      await b.submit({ logout: 'yes' });
      assert.equal(b.stoppedAt, `${bye()}?state=st-${lang}`);
    }
  });

  it('the error page says what went wrong in the page\'s language; the provider\'s English detail is marked lang="en"', async () => {
    const cases = [
      { path: '/oidc/auth?client_id=nope&response_type=code&scope=openid', code: 'invalid_client', detail: 'client is invalid' },
      { path: '/oidc/auth?response_type=code&scope=openid', code: 'invalid_request', detail: "missing required parameter 'client_id'" },
      {
        path: `/oidc/auth?client_id=webmail&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('http://127.0.0.1:1/evil/cb')}`,
        code: 'invalid_redirect_uri',
        detail: "redirect_uri did not match any of the client's registered redirect_uris",
      },
      // An authorization the provider no longer finds (its cookie gone, or long expired).
      { path: '/oidc/auth/no-such-interaction', code: 'invalid_request', reason: 'session_not_found', detail: 'authorization request has expired' },
      { path: '/oidc/session/end?client_id=nope', code: 'invalid_client', detail: 'client is invalid' },
    ];
    for (const lang of locales) {
      for (const c of cases) {
        const r = await fetch(`${w.issuer}${c.path}`, { headers: { accept: 'text/html', 'accept-language': lang } });
        const html = await r.text();
        assert.ok(r.status >= 400, `${c.path}: ${r.status}`);
        assert.equal(htmlLang(html), lang);
        assert.match(html, new RegExp(`<p class="lead" data-code="${c.code}">`), c.path);
        assert.equal(lead(html), translate(lang, `oidc.error.reason.${c.reason ?? c.code}`), `${lang} ${c.path}`);
        assert.ok(textOf(html).includes(translate(lang, 'oidc.error.next')));
        assert.match(html, new RegExp(`<code>${c.code}</code>`));
        // The provider's English description only inside an element marked as English.
        const marked = [...html.matchAll(/<span lang="en">([^<]*)<\/span>/g)].map((m) => decode(m[1]!));
        assert.deepEqual(marked, [c.detail], `${lang} ${c.path}`);
        assert.ok(!textOf(html.replace(/<span lang="en">[^<]*<\/span>/g, '')).includes(c.detail), `${lang} ${c.path}: the detail is not shown unmarked`);
      }
    }
  });

  it('every common OAuth error has its own explanation in it, en and el', () => {
    const codes = ['invalid_request', 'invalid_client', 'invalid_redirect_uri', 'unauthorized_client', 'unsupported_response_type', 'invalid_scope', 'access_denied', 'login_required', 'consent_required', 'server_error', 'session_not_found', 'other'];
    for (const code of codes) {
      for (const l of locales) assert.ok(hasMessage(`oidc.error.reason.${code}`, l), `${l}: ${code}`);
      assert.notEqual(translate('it', `oidc.error.reason.${code}`), translate('en', `oidc.error.reason.${code}`));
      assert.notEqual(translate('el', `oidc.error.reason.${code}`), translate('en', `oidc.error.reason.${code}`));
    }
    assert.equal(new Set(codes.map((c) => translate('en', `oidc.error.reason.${c}`))).size, codes.length, 'one explanation per error');
  });

  it('an unknown provider address is answered without reflecting markup, and its language links stay on this site', async () => {
    const marked = await w.t.app.inject({ url: '/oidc/x"><b>bold</b>?lang=en', headers: { accept: 'text/html' } });
    assert.equal(marked.statusCode, 404);
    assert.equal(htmlLang(marked.body), 'en');
    assert.ok(!marked.body.includes('<b>bold</b>'), 'markup from the address is escaped');
    assert.ok(!marked.body.includes('"><b>'), 'the address does not end an attribute');
    const other = await w.t.app.inject({ url: '/oidc/..//evil.example/x', headers: { accept: 'text/html' } });
    assert.equal(other.statusCode, 404);
    for (const href of Object.values(languageLinks(other.body))) assert.match(href!, /^\/(?!\/)/, href);
  });

  it("response_mode=form_post: Tessera's page in the person's language, whose Continue button posts the answer without JavaScript", async () => {
    const registered = await fetch(`${w.issuer}/api/v1/admin/services`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'classroom',
        name: { en: 'Virtual classroom', it: 'Aula virtuale', el: 'Εικονική τάξη' },
        redirectUris: [`${w.rp.base}/classroom/cb`],
        populations: ['student'],
        firstParty: true,
      }),
    });
    assert.equal(registered.status, 201);
    const classroomSecret = ((await registered.json()) as { clientSecret: string }).clientSecret;
    const services = [
      // One of the institution's file, one registered through the administration API.
      { id: 'webmail', secret: SECRET, names: { en: 'Webmail', it: 'Posta', el: 'Αλληλογραφία' } },
      { id: 'classroom', secret: classroomSecret, names: { en: 'Virtual classroom', it: 'Aula virtuale', el: 'Εικονική τάξη' } },
    ];
    for (const service of services) {
      const config = await client.discovery(new URL(w.issuer), service.id, undefined, client.ClientSecretBasic(service.secret), { execute: [client.allowInsecureRequests] });
      for (const lang of locales) {
        const req = await authorize(w, config, service.id, { response_mode: 'form_post' });
        const b = browserFor(w, lang);
        await b.get(req.url);
        await fillLogin(b, 'S700001');
        assert.equal(b.stoppedAt, null, 'the answer is posted, not redirected');
        assert.equal(b.status, 200);
        assert.equal(htmlLang(b.html), lang);
        assert.doesNotMatch(b.html, /Submitting Callback|Your browser does not support JavaScript/);
        assert.equal(h1(b.html), translate(lang, 'oidc.formPost.title'));
        assert.equal(lead(b.html), translate(lang, 'oidc.formPost.lead', { service: service.names[lang] }));
        assert.match(b.html, new RegExp(`<form id="continue" method="post" action="${req.redirectUri}">`));
        assert.ok(textOf(b.html).includes(translate(lang, 'oidc.continue.button')));
        const csp = directives(b.responseHeaders.get('content-security-policy'));
        assert.ok(csp['script-src']?.includes(scriptSource(b.html)), 'the page may run its own script');
        assert.ok(csp['form-action']?.includes(w.rp.base), 'and post to the service');
        assert.deepEqual(csp['default-src'], ["'none'"]);

        const before = w.rp.posted.length;
        await b.submit({});
        assert.equal(w.rp.posted.length, before + 1, 'Continue posts the answer to the service');
        const answer = w.rp.posted.at(-1)!;
        assert.equal(answer.get('state'), req.state);
        assert.equal(answer.get('iss'), w.issuer);
        const tokens = await fetch(`${w.issuer}/oidc/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${service.id}:${service.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'authorization_code', code: answer.get('code')!, redirect_uri: req.redirectUri, code_verifier: req.verifier }).toString(),
        }).then((r) => r.json() as Promise<{ access_token?: string }>);
        assert.ok(tokens.access_token, 'the posted code is good');
      }
    }
  });

  it("signing out with no session at the provider: Tessera's page in the person's language, whose Continue button finishes without JavaScript", async () => {
    for (const lang of locales) {
      const b = browserFor(w, lang);
      const query = new URLSearchParams({ client_id: 'webmail', post_logout_redirect_uri: bye(), state: `out-${lang}` });
      await b.get(`${w.issuer}/oidc/session/end?${query}`);
      assert.equal(b.status, 200);
      assert.equal(htmlLang(b.html), lang);
      assert.doesNotMatch(b.html, /Submitting Callback|Your browser does not support JavaScript/);
      assert.equal(h1(b.html), translate(lang, 'oidc.signingOut.title'));
      assert.ok(textOf(b.html).includes(translate(lang, 'oidc.continue.button')));
      const csp = directives(b.responseHeaders.get('content-security-policy'));
      assert.ok(csp['script-src']?.includes(scriptSource(b.html)));
      assert.deepEqual(csp['form-action'], ["'self'", w.rp.base], 'the sign-out step may lead to the service');
      const links = languageLinks(b.html);
      for (const o of others(lang)) assert.deepEqual(partsOf(links[o]!), { path: '/oidc/session/end', query: { ...Object.fromEntries(query), lang: o } });
      await b.submit({});
      assert.equal(b.stoppedAt, `${bye()}?state=out-${lang}`);
    }
  });

  it("someone else signing in in this browser: the page ending the previous person's session is Tessera's, in the person's language", async () => {
    for (const lang of locales) {
      const { b } = await signedIn(lang, 'S700001');
      // The Tessera session ends (here, its cookie is gone); the provider's session is still the first person's.
      b.deleteCookie('tessera_session');
      const config = await rpConfig(w, 'webmail');
      const req = await authorize(w, config, 'webmail');
      await b.get(req.url);
      await fillLogin(b, 'S700002');
      assert.equal(b.stoppedAt, null);
      assert.equal(htmlLang(b.html), lang);
      assert.doesNotMatch(b.html, /Submitting Callback/);
      assert.equal(h1(b.html), translate(lang, 'oidc.continue.title'));
      assert.equal(lead(b.html), translate(lang, 'oidc.switching.lead'));
      const csp = directives(b.responseHeaders.get('content-security-policy'));
      assert.ok(csp['script-src']?.includes(scriptSource(b.html)));
      await b.submit({});
      const back = b.stoppedAt as string | null;
      assert.ok(back?.startsWith(req.redirectUri), `back at webmail: ${b.url} ${b.text().slice(0, 300)}`);
      const tokens = await client.authorizationCodeGrant(config, new URL(back!), { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
      assert.equal(tokens.claims()!.sub, second, 'signed in as the second person');
    }
  });
});
