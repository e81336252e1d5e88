import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestApp } from '../helpers/app.js';
import { apiClient, FormBrowser } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { codiceFiscaleCheckChar } from '../../src/domain/codice-fiscale.js';
import { sessionIdOf } from '../../src/sessions/sessions.js';
import { TestIdp } from './test-idp.js';
import { mario, postResponse, spidApp, specFor, startLogin } from './harness.js';

const cfOf = (attrs: Record<string, string>) => attrs.fiscalNumber!.slice(6);
let n = 0;
/** A distinct person per test: names and a codice fiscale of their own. */
function person(given: string, family: string) {
  n += 1;
  const first15 = `${family.slice(0, 3).toUpperCase()}${given.slice(0, 3).toUpperCase()}80A${String((n % 28) + 1).padStart(2, '0')}F205`;
  const cf = first15 + codiceFiscaleCheckChar(first15);
  return { name: given, familyName: family, fiscalNumber: `TINIT-${cf}`, dateOfBirth: '1980-01-01', email: `${given}.${family}@example.com`.toLowerCase() };
}

describe('SPID accounts: create, link, align', () => {
  let t: TestApp;
  let idp: TestIdp;
  before(async () => {
    idp = await TestIdp.create();
    t = await spidApp(idp);
  });
  after(() => t.close());

  const db = () => t.ctx.db.kysely;

  /** A SPID login through the ACS; returns the response (not followed). */
  async function spidLogin(attrs: Record<string, string>, opts: { returnTo?: string; cookies?: string; level?: string; lang?: string } = {}) {
    const s = await startLogin(t, idp, opts.returnTo, opts.lang);
    const spec = specFor(t, idp, s, attrs);
    if (opts.level) spec.authnContext = `https://www.spid.gov.it/${opts.level}`;
    return postResponse(t, s, idp.responseXml(spec), { html: true, ...(opts.cookies ? { extraCookies: opts.cookies } : {}) });
  }
  const sessionCookie = (r: { cookies: unknown }) => (r.cookies as Array<{ name: string; value: string }>).find((c) => c.name === 'tessera_session')?.value;
  // The browser the SPID answer came back to: the API drives its flow only with its cookie.
  const sameBrowser = (r: { cookies: unknown }) => ({ cookie: `tessera_csrf=${(r.cookies as Array<{ name: string; value: string }>).find((c) => c.name === 'tessera_csrf')!.value}` });

  it('creates an active external account at once for a new person, with the level as acr', async () => {
    const p = person('Giulia', 'Bianchi');
    const r = await spidLogin(p, { level: 'SpidL3' });
    assert.equal(r.statusCode, 303);
    const token = sessionCookie(r)!;
    const me = await apiClient(t.app, { bearer: token }).request('GET', '/api/v1/session');
    assert.equal(me.status, 200);
    assert.equal(me.body.account.population, 'external');
    assert.equal(me.body.account.status, 'active');
    const row = await db().selectFrom('persons').innerJoin('accounts', 'accounts.person_id', 'persons.id').selectAll().where('persons.tax_code', '=', cfOf(p)).executeTakeFirstOrThrow();
    assert.equal(row.given_name, 'Giulia');
    // Found by the helpdesk by name, as anyone.
    assert.deepEqual([row.name_key_family_first, row.name_key_given_first], ['bianchi giulia', 'giulia bianchi']);
    assert.equal(row.birth_date, '1980-01-01');
    assert.equal(row.personal_email, p.email);
    assert.equal(row.federated_only, 1);
    assert.equal(row.password_hash, null);
    const session = await db().selectFrom('sessions').selectAll().where('id', '=', sessionIdOf(token)).executeTakeFirstOrThrow();
    assert.equal(session.acr, 'SpidL3');
    const link = await db().selectFrom('spid_identities').selectAll().where('tax_code', '=', cfOf(p)).executeTakeFirstOrThrow();
    assert.equal(link.account_id, session.account_id);
    // The second time, the same account signs in: nothing new is created.
    const again = await spidLogin(p);
    assert.equal(again.statusCode, 303);
    const accounts = await db().selectFrom('persons').select('id').where('tax_code', '=', cfOf(p)).execute();
    assert.equal(accounts.length, 1);
    const audits = await db().selectFrom('audit_log').select('action').where('account_id', '=', session.account_id).execute();
    assert.deepEqual(audits.map((a) => a.action).sort(), ['account.created', 'login.succeeded', 'login.succeeded']);
  });

  it('remembers the language the person chose before going to SPID (the answer carries no cookie)', async () => {
    const p = person('Eleni', 'Papadaki');
    const localeOf = async () => (await db().selectFrom('accounts').innerJoin('persons', 'persons.id', 'accounts.person_id').select('accounts.locale').where('persons.tax_code', '=', cfOf(p)).executeTakeFirstOrThrow()).locale;
    // Chosen on the portal in Greek; the identity provider's answer arrives with Accept-Language: it.
    assert.equal((await spidLogin(p, { lang: 'el' })).statusCode, 303);
    assert.equal(await localeOf(), 'el', 'a new account keeps it');
    // A login started without choosing one (no cookie, no Accept-Language) changes nothing.
    assert.equal((await spidLogin(p)).statusCode, 303);
    assert.equal(await localeOf(), 'el');
    // Chosen anew: remembered anew.
    assert.equal((await spidLogin(p, { lang: 'en' })).statusCode, 303);
    assert.equal(await localeOf(), 'en');
  });

  it('honours return_to after a SPID login', async () => {
    const r = await spidLogin(person('Luca', 'Neri'), { returnTo: '/account?tab=profile' });
    assert.equal(r.headers.location, '/account?tab=profile');
    const bad = await spidLogin(person('Luca', 'Verdi'), { returnTo: 'https://evil.example/' });
    assert.equal(bad.headers.location, '/account');
  });

  it('uses the registrar record with the same codice fiscale: its population and pattern', async () => {
    const p = person('Anna', 'Galli');
    const seeded = await seedAccount(t.ctx, { externalId: '20269001', givenName: 'Anna', familyName: 'Galli', taxCode: cfOf(p) });
    await db().deleteFrom('accounts').where('id', '=', seeded.accountId).execute();
    const r = await spidLogin(p);
    assert.equal(r.statusCode, 303);
    const acc = await db().selectFrom('accounts').selectAll().where('person_id', '=', seeded.personId).executeTakeFirstOrThrow();
    assert.equal(acc.username, '20269001');
    assert.equal(acc.email, '20269001@studenti.unidemo.example.org');
    assert.equal(acc.status, 'active');
    assert.equal(acc.federated_only, 1);
  });

  it('links and activates a record whose account has no credentials yet', async () => {
    const p = person('Paolo', 'Conti');
    const seeded = await seedAccount(t.ctx, { externalId: '20269002', taxCode: cfOf(p), status: 'pending_activation' });
    const r = await spidLogin(p);
    assert.equal(r.statusCode, 303);
    const acc = await db().selectFrom('accounts').selectAll().where('id', '=', seeded.accountId).executeTakeFirstOrThrow();
    assert.equal(acc.status, 'active');
    assert.equal(acc.federated_only, 1);
    // Activated as an activation with a password would be: the institutional address, and audited.
    assert.equal(acc.email, '20269002@studenti.unidemo.example.org');
    const activated = await db().selectFrom('audit_log').selectAll().where('account_id', '=', seeded.accountId).where('action', '=', 'account.activated').executeTakeFirstOrThrow();
    assert.equal(JSON.parse(activated.details).method, 'spid');
  });

  it('a codice fiscale the registrar corrected: the old identity loses the record, the right one gets it', async () => {
    const wrong = person('Dario', 'Fumo');
    const right = person('Dario', 'Fumo');
    const seeded = await seedAccount(t.ctx, { externalId: '20269010', givenName: 'Dario', familyName: 'Fumo', taxCode: cfOf(wrong), status: 'pending_activation' });
    assert.equal((await spidLogin(wrong)).statusCode, 303);
    assert.equal((await db().selectFrom('spid_identities').select('account_id').where('tax_code', '=', cfOf(wrong)).executeTakeFirstOrThrow()).account_id, seeded.accountId);
    // The registrar's record had someone else's code: it is corrected.
    await db().updateTable('persons').set({ tax_code: cfOf(right) }).where('id', '=', seeded.personId).execute();
    // The owner of the old code no longer reaches the record: they are someone else to Tessera.
    const stale = await spidLogin(wrong);
    assert.equal(stale.statusCode, 303);
    const staleSession = await db().selectFrom('sessions').select('account_id').where('id', '=', sessionIdOf(sessionCookie(stale)!)).executeTakeFirstOrThrow();
    assert.notEqual(staleSession.account_id, seeded.accountId);
    assert.ok((await db().selectFrom('audit_log').select('action').where('account_id', '=', seeded.accountId).execute()).some((a) => a.action === 'spid.unlinked'));
    // The record's person signs in to it.
    const owner = await spidLogin(right);
    assert.equal(owner.statusCode, 303);
    const ownerSession = await db().selectFrom('sessions').select('account_id').where('id', '=', sessionIdOf(sessionCookie(owner)!)).executeTakeFirstOrThrow();
    assert.equal(ownerSession.account_id, seeded.accountId);
    const links = await db().selectFrom('spid_identities').selectAll().where('account_id', '=', seeded.accountId).execute();
    assert.deepEqual(links.map((l) => l.tax_code), [cfOf(right)]);
  });

  it('a person with two records: the one with a password of its own is aligned, whatever the older one is', async () => {
    for (const older of [{ status: 'suspended', registrarStatus: 'suspended' }, { status: 'pending_activation', registrarStatus: 'enrolled' }]) {
      const p = person('Irene', 'Villa');
      await seedAccount(t.ctx, { externalId: `S-${cfOf(p)}`, taxCode: cfOf(p), ...older });
      t.clock.advance(1000);
      const staff = await seedAccount(t.ctx, { population: 'staff', externalId: `D-${cfOf(p)}`, username: `irene.villa.${older.status}`, taxCode: cfOf(p), status: 'active', password: 'Vecchia-Pass1' });
      const r = await spidLogin(p);
      assert.equal(r.statusCode, 303, older.status);
      assert.match(String(r.headers.location), /^\/flows\/spid-alignment\//, older.status);
      const view = await apiClient(t.app).request('GET', `/api/v1/flows/spid-alignment/${String(r.headers.location).split('/').pop()}`, undefined, sameBrowser(r));
      assert.equal(view.status, 200);
      const flow = await db().selectFrom('flows').select('data').where('id', '=', String(r.headers.location).split('/').pop()!).executeTakeFirstOrThrow();
      assert.equal(JSON.parse(flow.data).d.accountId, staff.accountId, older.status);
      assert.equal(await db().selectFrom('spid_identities').select('tax_code').where('tax_code', '=', cfOf(p)).executeTakeFirst(), undefined, 'nothing linked before confirming');
    }
  });

  it('two first logins of one new identity at once: one account, both signed in', async () => {
    const p = person('Nora', 'Gatti');
    const [a, b] = await Promise.all([spidLogin(p), spidLogin(p)]);
    assert.deepEqual([a.statusCode, b.statusCode], [303, 303]);
    assert.equal((await db().selectFrom('persons').select('id').where('tax_code', '=', cfOf(p)).execute()).length, 1);
    const sessions = await Promise.all([a, b].map((r) => db().selectFrom('sessions').select('account_id').where('id', '=', sessionIdOf(sessionCookie(r)!)).executeTakeFirstOrThrow()));
    assert.equal(sessions[0]!.account_id, sessions[1]!.account_id);
    // Named after the person, never after the codice fiscale.
    const acc = await db().selectFrom('accounts').select('username').where('id', '=', sessions[0]!.account_id).executeTakeFirstOrThrow();
    assert.match(acc.username, /^nora\.gatti\d*$/);
  });

  it('never links to a record with a different codice fiscale', async () => {
    const p = person('Sara', 'Ferri');
    const local = await seedAccount(t.ctx, { externalId: '20269003', givenName: 'Sara', familyName: 'Ferri', taxCode: 'FRRSRA80A41F205H', status: 'active', password: 'Vecchia-Pass1' });
    const r = await spidLogin(p);
    assert.equal(r.statusCode, 303);
    const acc = await db().selectFrom('accounts').selectAll().where('id', '=', local.accountId).executeTakeFirstOrThrow();
    assert.equal(acc.federated_only, 0);
    assert.ok(acc.password_hash);
    const link = await db().selectFrom('spid_identities').selectAll().where('tax_code', '=', cfOf(p)).executeTakeFirstOrThrow();
    assert.notEqual(link.account_id, local.accountId);
  });

  it('refuses a linked account that may not sign in, writing nothing', async () => {
    const p = person('Marco', 'Sala');
    await spidLogin(p);
    const link = await db().selectFrom('spid_identities').selectAll().where('tax_code', '=', cfOf(p)).executeTakeFirstOrThrow();
    await db().updateTable('accounts').set({ status: 'suspended' }).where('id', '=', link.account_id).execute();
    const sessions = (await db().selectFrom('sessions').select('id').execute()).length;
    const r = await spidLogin(p);
    assert.equal(r.statusCode, 403);
    assert.match(r.body, /collegato a questa identità SPID non può accedere/);
    assert.equal((await db().selectFrom('sessions').select('id').execute()).length, sessions);
  });

  it('does not take over an account the registrar suspended or ended, nor a provisional one, with or without a password', async () => {
    const cases = [
      { status: 'expired', registrarStatus: 'ceased' },
      { status: 'suspended', registrarStatus: 'suspended' },
      { status: 'provisional', registrarStatus: 'provisional' },
      { status: 'suspended', registrarStatus: 'suspended', password: 'Vecchia-Pass1' },
      { status: 'expired', registrarStatus: 'ceased', password: 'Vecchia-Pass1' },
    ];
    for (const [i, c] of cases.entries()) {
      const p = person('Elena', 'Neri');
      const seeded = await seedAccount(t.ctx, { externalId: `2026950${i}`, taxCode: cfOf(p), status: c.status, registrarStatus: c.registrarStatus, ...(c.password ? { password: c.password } : {}) });
      const sessions = (await db().selectFrom('sessions').select('id').execute()).length;
      const r = await spidLogin(p);
      assert.equal(r.statusCode, 403, `${JSON.stringify(c)}: ${r.statusCode} ${String(r.headers.location ?? '')}`);
      assert.match(r.body, /non può accedere/);
      const acc = await db().selectFrom('accounts').selectAll().where('id', '=', seeded.accountId).executeTakeFirstOrThrow();
      assert.equal(acc.status, c.status, 'the status stays');
      assert.equal(acc.federated_only, 0);
      assert.equal(await db().selectFrom('spid_identities').selectAll().where('tax_code', '=', cfOf(p)).executeTakeFirst(), undefined, 'nothing linked');
      assert.equal((await db().selectFrom('sessions').select('id').execute()).length, sessions, 'no session');
    }
  });

  it('does not align an account suspended while its alignment page was open', async () => {
    const p = person('Luca', 'Moro');
    const local = await seedAccount(t.ctx, { externalId: '20269600', taxCode: cfOf(p), status: 'active', password: 'Vecchia-Pass1' });
    const r = await spidLogin(p);
    const id = String(r.headers.location).split('/').pop()!;
    await db().updateTable('accounts').set({ status: 'suspended' }).where('id', '=', local.accountId).execute();
    const res = await apiClient(t.app).submit('spid-alignment', id, { action: 'submit' }, sameBrowser(r));
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'spid.account_unavailable');
    const acc = await db().selectFrom('accounts').selectAll().where('id', '=', local.accountId).executeTakeFirstOrThrow();
    assert.equal(acc.status, 'suspended');
    assert.equal(acc.federated_only, 0);
    assert.ok(acc.password_hash, 'the password is kept');
  });

  it('aligns an account with local credentials through the HTML pages, in Italian', async () => {
    const p = { ...mario };
    const local = await seedAccount(t.ctx, {
      externalId: '20261111',
      givenName: 'MARIO',
      familyName: 'Rossi Bianchi',
      birthDate: '1980-01-02',
      taxCode: cfOf(p),
      personalEmail: 'old@example.com',
      status: 'active',
      password: 'Vecchia-Pass1',
    });
    // A password session opened earlier: alignment ends it.
    const api = apiClient(t.app);
    const lf = await api.start('login');
    const old = await api.submit('login', lf.body.id, { username: '20261111', password: 'Vecchia-Pass1' });
    assert.equal(old.status, 200);
    const oldToken = old.body.result.sessionToken as string;

    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/login');
    assert.match(b.html, /Entra con SPID/);
    assert.match(b.html, /href="\/spid\/login\?idp=https%3A%2F%2Fidp.test.example%2F"/);
    const cookies = [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await spidLogin(p, { cookies });
    assert.equal(r.statusCode, 303);
    assert.match(String(r.headers.location), /^\/flows\/spid-alignment\/[A-Za-z0-9_-]+$/);
    assert.equal(sessionCookie(r), undefined, 'no session before confirming');
    await b.get(String(r.headers.location));
    assert.equal(b.status, 200);
    const text = b.text();
    assert.match(text, /Allinea i tuoi dati con SPID/);
    assert.match(text, /Dati SPID/);
    assert.match(text, /Dati registrati/);
    assert.match(text, /Data di nascita 1980-01-01 1980-01-02 sarà aggiornato/);
    assert.match(text, /Codice fiscale RSSMRA80A01F205X RSSMRA80A01F205X invariato/);
    assert.match(text, /Email mario.rossi@example.com old@example.com sarà aggiornato/);
    assert.match(b.html, /Conferma e usa SPID da ora in poi/);
    await b.submit({});
    assert.equal(b.status, 200);
    assert.match(b.text(), /Il tuo account è collegato a SPID/);

    const acc = await db().selectFrom('accounts').selectAll().where('id', '=', local.accountId).executeTakeFirstOrThrow();
    assert.equal(acc.password_hash, null);
    assert.equal(acc.federated_only, 1);
    const per = await db().selectFrom('persons').selectAll().where('id', '=', local.personId).executeTakeFirstOrThrow();
    assert.equal(per.given_name, 'Mario');
    assert.equal(per.family_name, 'Rossi');
    assert.deepEqual([per.name_key_family_first, per.name_key_given_first], ['rossi mario', 'mario rossi']);
    assert.equal(per.birth_date, '1980-01-01');
    assert.equal(per.personal_email, 'mario.rossi@example.com');
    const aligned = await db().selectFrom('audit_log').selectAll().where('account_id', '=', local.accountId).where('action', '=', 'spid.aligned').executeTakeFirstOrThrow();
    const details = JSON.parse(aligned.details);
    assert.equal(details.before.givenName, 'MARIO');
    assert.equal(details.after.givenName, 'Mario');
    assert.equal(details.before.email, 'old@example.com');
    // The old session is over; the new one carries the level.
    assert.equal((await apiClient(t.app, { bearer: oldToken }).request('GET', '/api/v1/session')).status, 401);
    const newToken = b.cookies.get('tessera_session')!;
    const me = await apiClient(t.app, { bearer: newToken }).request('GET', '/api/v1/session');
    assert.equal(me.body.account.username, '20261111');
    const s = await db().selectFrom('sessions').selectAll().where('id', '=', sessionIdOf(newToken)).executeTakeFirstOrThrow();
    assert.equal(s.acr, 'SpidL2');
    // From now on only SPID: the password is refused with auth.federated_only, SPID logs in directly.
    const again = await api.start('login');
    const refused = await api.submit('login', again.body.id, { username: '20261111', password: 'Vecchia-Pass1' });
    assert.equal(refused.body.error.code, 'auth.federated_only');
    // The message points to SPID, in the caller's language.
    const italian = apiClient(t.app, { lang: 'it' });
    const third = await italian.submit('login', (await italian.start('login')).body.id, { username: '20261111', password: 'Vecchia-Pass1' });
    assert.match(third.body.error.message, /SPID/);
    const direct = await spidLogin(p);
    assert.equal(direct.statusCode, 303);
    assert.equal(direct.headers.location, '/account');
  });

  it('aligns through the JSON API, and cancelling changes nothing', async () => {
    const p = person('Elena', 'Moro');
    const local = await seedAccount(t.ctx, { externalId: '20262222', givenName: 'Elena', familyName: 'Moro', taxCode: cfOf(p), status: 'active', password: 'Vecchia-Pass1' });
    const api = apiClient(t.app, { lang: 'it' });

    const first = await spidLogin(p);
    const cancelId = String(first.headers.location).split('/').pop()!;
    assert.equal((await api.submit('spid-alignment', cancelId, { action: 'cancel' })).status, 404, 'the flow id alone drives nothing');
    const cancelled = await api.submit('spid-alignment', cancelId, { action: 'cancel' }, sameBrowser(first));
    assert.equal(cancelled.status, 200);
    assert.deepEqual(cancelled.body.result, { linked: false });
    // Its page says it was not linked (not the title of a done alignment).
    const page = await t.app.inject({ method: 'GET', url: `/flows/spid-alignment/${cancelId}`, headers: { accept: 'text/html', 'accept-language': 'it', ...sameBrowser(first) } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>Il tuo account non è stato collegato a SPID<\/h1>/);
    assert.doesNotMatch(page.body, /è collegato a SPID/);
    const still = await db().selectFrom('accounts').selectAll().where('id', '=', local.accountId).executeTakeFirstOrThrow();
    assert.equal(still.federated_only, 0);
    assert.ok(still.password_hash);
    assert.equal(await db().selectFrom('spid_identities').select('tax_code').where('tax_code', '=', cfOf(p)).executeTakeFirst(), undefined);

    // A refresh token a service holds from a password sign-in.
    await db()
      .insertInto('oidc_payloads')
      .values({ model: 'RefreshToken', id: `rt-${local.accountId}`, payload: '{}', consumed_at: null, grant_id: 'g1', user_code: null, uid: null, account_id: local.accountId, client_id: 'webmail', expires_at: new Date(Date.now() + 86_400_000).toISOString() })
      .execute();
    const second = await spidLogin(p);
    const id = String(second.headers.location).split('/').pop()!;
    const view = await api.request('GET', `/api/v1/flows/spid-alignment/${id}`, undefined, sameBrowser(second));
    assert.equal(view.body.state, 'awaiting_confirmation');
    assert.deepEqual(view.body.actions, ['submit', 'cancel']);
    assert.equal(view.body.data.spid.taxCode, cfOf(p));
    assert.equal(view.body.data.onFile.givenName, 'Elena');
    const done = await api.submit('spid-alignment', id, { action: 'submit' }, sameBrowser(second));
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.state, 'completed');
    assert.equal(done.body.result.linked, true);
    assert.equal(typeof done.body.result.sessionToken, 'string');
    const acc = await db().selectFrom('accounts').selectAll().where('id', '=', local.accountId).executeTakeFirstOrThrow();
    assert.equal(acc.federated_only, 1);
    // Whatever services got with the password (a refresh token here) ends with it.
    assert.equal(await db().selectFrom('oidc_payloads').select('id').where('account_id', '=', local.accountId).executeTakeFirst(), undefined);
    // The same step cannot run twice.
    const twice = await api.submit('spid-alignment', id, { action: 'submit' }, sameBrowser(second));
    assert.equal(twice.status, 409);
  });

  it('refuses to align when the record’s codice fiscale changed meanwhile', async () => {
    const p = person('Bruno', 'Riva');
    const local = await seedAccount(t.ctx, { externalId: '20263333', taxCode: cfOf(p), status: 'active', password: 'Vecchia-Pass1' });
    const r = await spidLogin(p);
    const id = String(r.headers.location).split('/').pop()!;
    await db().updateTable('persons').set({ tax_code: 'RVIBRN80A01F205J' }).where('id', '=', local.personId).execute();
    const res = await apiClient(t.app).submit('spid-alignment', id, { action: 'submit' }, sameBrowser(r));
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'spid.identity_mismatch');
    const acc = await db().selectFrom('accounts').selectAll().where('id', '=', local.accountId).executeTakeFirstOrThrow();
    assert.equal(acc.federated_only, 0);
  });

  it('cannot start an alignment from outside', async () => {
    const r = await apiClient(t.app).start('spid-alignment', '?handoff=guess');
    assert.equal(r.status, 404);
  });
});
