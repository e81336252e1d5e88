import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { details, lastMessage, messageCount, verificationLink } from './outbox.js';

const HOUR = 3_600_000;

describe('registration through the API', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  async function register(over: Record<string, unknown> = {}, lang?: string) {
    // English asked for: the emails (and the pages their links open) are in the language the
    // person registered in; with none asked for, the institution's (account-locale.test.ts).
    const c = apiClient(t.app, { lang: lang ?? 'en' });
    const f = (await c.start('registration')).body;
    assert.equal(f.state, 'awaiting_details');
    const r = await c.submit('registration', f.id, details(over));
    return { c, f, r };
  }

  async function login(username: string, password: string) {
    const c = apiClient(t.app);
    const f = (await c.start('login')).body;
    return { c, f, r: await c.submit('login', f.id, { username, password }) };
  }

  it('registers, refuses login until the link is opened, then activates through the token', async () => {
    const { c, f, r } = await register();
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'awaiting_verification');
    assert.deepEqual(r.body.actions, ['submit', 'resend', 'change_email']);
    assert.equal(r.body.data.email, 'mario.bianchi@example.org');
    const acc = await t.ctx.db.kysely.selectFrom('accounts').selectAll().where('username_lower', '=', 'mario.bianchi').executeTakeFirstOrThrow();
    assert.equal(acc.status, 'pending_verification');
    const person = await t.ctx.db.kysely.selectFrom('persons').selectAll().where('id', '=', acc.person_id!).executeTakeFirstOrThrow();
    assert.equal(person.population, 'external');
    assert.match(person.external_id, /^ext-/);
    assert.equal(person.mobile, '+393331234567');
    assert.deepEqual([person.name_key_family_first, person.name_key_given_first], ['bianchi mario', 'mario bianchi'], 'found by the helpdesk by name');
    const mail = await lastMessage(t.ctx, 'mario.bianchi@example.org', 'email_verification');
    assert.ok(mail);
    assert.match(mail.text, /http:\/\/localhost:3000\/verify-email\?token=/);
    assert.match(mail.text, /24 hours/);

    // Login before activation: refused, says why, offers to resend.
    const l = await login('Mario.Bianchi', 'Lago-Maggiore-71');
    assert.equal(l.r.status, 403);
    assert.equal(l.r.body.error.code, 'auth.email_not_verified');
    assert.match(l.r.body.error.message, /not confirmed/);
    assert.deepEqual(l.r.body.actions, ['submit', 'resend_verification', 'change_verification_email']);
    const before = await messageCount(t.ctx, 'mario.bianchi@example.org', 'email_verification');
    t.clock.advance(61_000);
    const again = await l.c.submit('login', l.f.id, { action: 'resend_verification' });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.data.verificationResentTo, 'mario.bianchi@example.org');
    assert.equal(await messageCount(t.ctx, 'mario.bianchi@example.org', 'email_verification'), before + 1);
    // A wrong password never offers the resend.
    const wrong = await login('mario.bianchi', 'Lago-Maggiore-72');
    assert.equal(wrong.r.body.error.code, 'auth.invalid_credentials');
    assert.deepEqual(wrong.r.body.actions, ['submit']);

    const { token } = await verificationLink(t.ctx, 'mario.bianchi@example.org');
    const bad = await c.submit('registration', f.id, { token: `${token.split('.')[0]}.AAAAAAAAAAAAAAAAAAAAAAAA` });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.code, 'registration.link_invalid');
    const done = await c.submit('registration', f.id, { token });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(done.body.result, { username: 'mario.bianchi', status: 'active' });
    const ok = await login('mario.bianchi', 'Lago-Maggiore-71');
    assert.equal(ok.r.status, 200);
    const session = await ok.c.request('GET', '/api/v1/session', undefined, { authorization: `Bearer ${ok.r.body.result.sessionToken}` });
    assert.equal(session.body.account.population, 'external');
  });

  it('answers username_taken and email_registered (case-insensitively), changing nothing', async () => {
    await seedAccount(t.ctx, { externalId: 'X1', population: 'external', username: 'giulia', email: 'giulia@example.org', status: 'active', password: 'Whatever-12' });
    const taken = await register({ username: 'GIULIA', email: 'other@example.org' });
    // A wrong input (API.md): 422 with the unchanged flow, never the 409 of a wrong state.
    assert.equal(taken.r.status, 422);
    assert.equal(taken.r.body.error.code, 'registration.username_taken');
    assert.equal(taken.r.body.error.fields.username, 'registration.username_taken');
    const dup = await register({ username: 'giulia2', email: 'Giulia@Example.org' }, 'it');
    assert.equal(dup.r.status, 422);
    assert.equal(dup.r.body.error.code, 'registration.email_registered');
    assert.match(dup.r.body.error.message, /Recupera il nome utente o la password/);
    assert.equal(await messageCount(t.ctx, 'other@example.org'), 0);
    const n = await t.ctx.db.kysely.selectFrom('accounts').select('id').where('username_lower', '=', 'giulia2').execute();
    assert.equal(n.length, 0);
    // Names that would pass for the institution or its mail roles are never given.
    for (const username of ['postmaster', 'Admin', 'helpdesk']) {
      const reserved = await register({ username, email: `${username.toLowerCase()}.someone@example.org` });
      assert.equal(reserved.r.status, 422, username);
      assert.equal(reserved.r.body.error.fields.username, 'registration.username_taken', username);
    }
    assert.equal(await messageCount(t.ctx, 'postmaster.someone@example.org'), 0);
  });

  it('validates every field and the password policy, in the caller’s language', async () => {
    const { r } = await register({ username: '1x', email: 'nope', mobile: '12', birthDate: '2999-01-01', consents: false }, 'el');
    assert.equal(r.status, 422);
    assert.equal(r.body.error.fields.username, 'username.invalid');
    assert.equal(r.body.error.fields.email, 'email.invalid');
    assert.equal(r.body.error.fields.consents, 'consent.required');
    assert.ok(r.body.messages.some((m: { text: string }) => /ενημέρωση/.test(m.text)));
    const p = await register({ username: 'valid.name', email: 'v@example.org', password: 'password', passwordConfirm: 'password' });
    assert.equal(p.r.body.error.code, 'password.policy');
    const m = await register({ username: 'valid.name', email: 'v@example.org', passwordConfirm: 'Lago-Maggiore-72' });
    assert.equal(m.r.body.error.code, 'password.mismatch');
    const ph = await register({ username: 'valid.name', email: 'v@example.org', mobile: '+39 12' });
    assert.equal(ph.r.body.error.fields.mobile, 'phone.invalid');
    const fixed = await register({ username: 'valid.name', email: 'v@example.org', mobile: '02 1234 5678' });
    assert.equal(fixed.r.body.error.fields.mobile, 'phone.not_mobile', 'a landline is not a mobile');
  });

  it('reports every invalid field of one submission at once', async () => {
    const { r } = await register({ username: 'all.at.once', email: 'not-an-email', mobile: 'abc', password: 'short', passwordConfirm: 'short', consents: false });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'validation.failed');
    assert.equal(r.body.error.fields.email, 'email.invalid');
    assert.equal(r.body.error.fields.mobile, 'phone.invalid');
    assert.equal(r.body.error.fields.password, 'password.policy');
    assert.equal(r.body.error.fields.consents, 'consent.required');
    assert.equal(r.body.error.fields.passwordConfirm, undefined);
    // The broken password rules are listed too, under the password.
    assert.ok(r.body.messages.some((m: { field?: string; text: string }) => m.field === 'password' && /At least \d+ characters/.test(m.text)), JSON.stringify(r.body.messages));
    // Fields checked after the shape: a bad birth date and a mismatched confirmation come together.
    const b = await register({ username: 'all.at.once', mobile: 'abc', birthDate: '2999-01-01', passwordConfirm: 'Lago-Maggiore-72' });
    assert.equal(b.r.body.error.code, 'validation.failed');
    assert.deepEqual(b.r.body.error.fields, { mobile: 'phone.invalid', birthDate: 'date.invalid', passwordConfirm: 'password.mismatch' });
    // A birth date left out is missing, not malformed.
    const noDate = await register({ username: 'no.date', birthDate: '' });
    assert.equal(noDate.r.body.error.fields.birthDate, 'field.required');
    // Only the password wrong: still password.policy.
    const p = await register({ username: 'all.at.once', password: 'short', passwordConfirm: 'short' });
    assert.equal(p.r.body.error.code, 'password.policy');
    assert.deepEqual(p.r.body.error.fields, { password: 'password.policy' });
  });

  it('refuses institutions, schools and companies with the institution’s message', async () => {
    const { r } = await register({ username: 'acme', email: 'acme@example.org', registrantType: 'company' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'registration.closed');
    assert.ok(r.body.messages.some((m: { text: string }) => /March 2015/.test(m.text)));
    const person = await register({ username: 'acme', email: 'acme@example.org', registrantType: 'person' });
    assert.equal(person.r.status, 200);
  });

  it('resends, corrects the address (the old link stops working), rate-limits resends', async () => {
    const { c, f } = await register({ username: 'anna.verdi', email: 'anna@exampel.org' });
    const first = await verificationLink(t.ctx, 'anna@exampel.org');
    const soon = await c.submit('registration', f.id, { action: 'resend' });
    assert.equal(soon.status, 429);
    assert.equal(soon.body.error.code, 'registration.resend_too_soon');
    // How long to wait, for apps: in the error's params and in Retry-After (the interval is 60 s).
    assert.ok(soon.body.error.params.seconds >= 1 && soon.body.error.params.seconds <= 60, JSON.stringify(soon.body.error));
    assert.equal(soon.res.headers['retry-after'], String(soon.body.error.params.seconds));
    // Correcting the address sends an email too: under the same cooldown.
    const early = await c.submit('registration', f.id, { action: 'change_email', email: 'anna@example.org' });
    assert.equal(early.status, 429);
    assert.equal(early.body.error.code, 'registration.resend_too_soon');
    assert.equal(await messageCount(t.ctx, 'anna@example.org'), 0);
    t.clock.advance(61_000);
    const changed = await c.submit('registration', f.id, { action: 'change_email', email: 'anna@example.org' });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.data.email, 'anna@example.org');
    const second = await verificationLink(t.ctx, 'anna@example.org');
    const old = await c.submit('registration', f.id, { token: first.token });
    assert.equal(old.body.error.code, 'registration.link_invalid');
    const page = await t.app.inject({ method: 'GET', url: first.path });
    assert.equal(page.statusCode, 422);
    t.clock.advance(61_000);
    const resent = await c.submit('registration', f.id, { action: 'resend' });
    assert.equal(resent.status, 200);
    const third = await verificationLink(t.ctx, 'anna@example.org');
    assert.notEqual(third.token, second.token);
    const done = await c.submit('registration', f.id, { token: third.token });
    assert.equal(done.body.state, 'completed');
    const acc = await t.ctx.db.kysely.selectFrom('accounts').select(['email', 'status']).where('username_lower', '=', 'anna.verdi').executeTakeFirstOrThrow();
    assert.deepEqual(acc, { email: 'anna@example.org', status: 'active' });
  });

  it('after 24 hours the link is expired, the registration void, username and email free again', async () => {
    const { c, f } = await register({ username: 'late.user', email: 'late@example.org' });
    const link = await verificationLink(t.ctx, 'late@example.org');
    t.clock.advance(24 * HOUR + 1000);
    const r = await c.submit('registration', f.id, { token: link.token });
    assert.equal(r.status, 410);
    assert.equal(r.body.error.code, 'registration.link_expired');
    assert.deepEqual(r.body.actions, []);
    assert.equal(r.body.data.registerAgain, '/flows/registration');
    // What was typed in is gone from the stored flow; a later look still reads "void".
    const stored = await t.ctx.db.kysely.selectFrom('flows').select('data').where('id', '=', f.id).executeTakeFirstOrThrow();
    assert.doesNotMatch(stored.data, /late@example\.org|late\.user/);
    assert.deepEqual((await c.get('registration', f.id)).body.data, { voided: true, registerAgain: '/flows/registration' });
    const page = await t.app.inject({ method: 'GET', url: link.path, headers: { 'accept-language': 'en' } });
    assert.equal(page.statusCode, 410);
    assert.match(page.body, /Register again/);
    // Same username and email register again at once.
    const again = await register({ username: 'late.user', email: 'late@example.org' });
    assert.equal(again.r.status, 200, JSON.stringify(again.r.body));
  });

  it('a void registration answers 410 to every action, offers none, and its login fails like any that cannot sign in', async () => {
    const { c, f } = await register({ username: 'void.user', email: 'void@example.org' });
    const link = await verificationLink(t.ctx, 'void@example.org');
    t.clock.advance(24 * HOUR + 1000);
    // Past its lifetime the flow offers nothing, even before anything is sent.
    const seen = await c.get('registration', f.id);
    assert.equal(seen.status, 200);
    assert.deepEqual(seen.body.actions, []);
    assert.deepEqual(seen.body.data, { voided: true, registerAgain: '/flows/registration' });
    for (const payload of [{ action: 'resend' }, { token: link.token }, { token: link.token }, { action: 'change_email', email: 'void2@example.org' }, { action: 'resend' }]) {
      const r = await c.submit('registration', f.id, payload, { 'accept-language': 'it' });
      assert.equal(r.status, 410, JSON.stringify({ payload, body: r.body }));
      assert.equal(r.body.error.code, 'registration.link_expired');
      assert.match(r.body.error.message, /scadut/);
      assert.deepEqual(r.body.actions, []);
      assert.equal(r.body.data.registerAgain, '/flows/registration');
    }
    assert.equal(await messageCount(t.ctx, 'void2@example.org'), 0);
    assert.equal(await messageCount(t.ctx, 'void@example.org', 'email_verification'), 1);

    // Login as a registration past its lifetime (the job has not run): the answer it gets once
    // the job has removed it, with no offer to resend; the registration is voided on the spot.
    await register({ username: 'late.login', email: 'late.login@example.org' });
    t.clock.advance(24 * HOUR + 1000);
    const l = await login('late.login', 'Lago-Maggiore-71');
    const unknown = await login('nobody.here', 'Lago-Maggiore-71');
    assert.equal(l.r.status, unknown.r.status, JSON.stringify(l.r.body));
    assert.equal(l.r.body.error.code, 'auth.invalid_credentials');
    assert.deepEqual(l.r.body.actions, ['submit']);
    assert.equal(await t.ctx.db.kysely.selectFrom('accounts').select('id').where('username_lower', '=', 'late.login').executeTakeFirst(), undefined);
    assert.equal((await login('late.login', 'Lago-Maggiore-71')).r.body.error.code, 'auth.invalid_credentials');

    // Offered the resend in time, asked for it too late: expired, and the login goes on without the offer.
    await register({ username: 'slow.click', email: 'slow.click@example.org' });
    t.clock.advance(24 * HOUR - 60_000);
    const s = await login('slow.click', 'Lago-Maggiore-71');
    assert.equal(s.r.body.error.code, 'auth.email_not_verified');
    t.clock.advance(2 * 60_000);
    const resend = await s.c.submit('login', s.f.id, { action: 'resend_verification' });
    assert.equal(resend.status, 410);
    assert.equal(resend.body.error.code, 'registration.link_expired');
    assert.deepEqual(resend.body.actions, ['submit']);
    assert.equal(await messageCount(t.ctx, 'slow.click@example.org', 'email_verification'), 1);
  });

  it('frees the username of a void registration even before the job runs', async () => {
    await register({ username: 'quick.user', email: 'quick@example.org' });
    t.clock.advance(25 * HOUR);
    const again = await register({ username: 'quick.user', email: 'quick2@example.org' });
    assert.equal(again.r.status, 200, JSON.stringify(again.r.body));
    const old = await t.ctx.db.kysely.selectFrom('accounts').select(['status', 'username']).where('status', '=', 'purged').execute();
    assert.ok(old.length >= 1);
    const audit = await t.ctx.db.kysely.selectFrom('audit_log').select('details').where('action', '=', 'account.status_changed').where('details', 'like', '%registration.link_expired%').execute();
    assert.ok(audit.length >= 1);
  });

  it('registrations with the same email at once: one registers, the others hear the email is registered', async () => {
    const flows = await Promise.all([1, 2, 3, 4].map(async (i) => ({ i, c: apiClient(t.app), f: null as null | { id: string } })));
    for (const x of flows) x.f = (await x.c.start('registration')).body;
    const answers = await Promise.all(flows.map((x) => x.c.submit('registration', x.f!.id, details({ username: `twin.reg${x.i}`, email: 'twin.reg@example.org' }))));
    const summary = answers.map((r) => `${r.status}:${r.body.error?.code ?? r.body.state}`).join(',');
    assert.equal(answers.filter((r) => r.status === 200).length, 1, summary);
    for (const r of answers.filter((x) => x.status !== 200)) {
      assert.equal(r.body.error.code, 'registration.email_registered', summary);
      assert.deepEqual(r.body.error.fields, { email: 'registration.email_registered' });
    }
  });

  it('the link opened several times at once (a double click, a mail scanner): every answer says the account is active', async () => {
    const { r } = await register({ username: 'double.click', email: 'double.click@example.org' });
    assert.equal(r.status, 200);
    const { path } = await verificationLink(t.ctx, 'double.click@example.org');
    const answers = await Promise.all(Array.from({ length: 6 }, () => t.app.inject({ method: 'GET', url: path, headers: { accept: 'text/html' } })));
    for (const a of answers) {
      assert.equal(a.statusCode, 200, a.body.slice(0, 300));
      assert.doesNotMatch(a.body, /not valid/);
    }
    const acc = await t.ctx.db.kysely.selectFrom('accounts').select('status').where('username_lower', '=', 'double.click').executeTakeFirstOrThrow();
    assert.equal(acc.status, 'active');
  });

  it('an older email\'s link, opened again and again, never uses up the newest one', async () => {
    const { c, f } = await register({ username: 'old.link', email: 'old.link@example.org' });
    const first = await verificationLink(t.ctx, 'old.link@example.org');
    t.clock.advance(61_000);
    assert.equal((await c.submit('registration', f.id, { action: 'resend' })).status, 200);
    for (let i = 0; i < 6; i++) {
      const r = await t.app.inject({ method: 'GET', url: first.path, headers: { accept: 'text/html' } });
      assert.equal(r.statusCode, 422);
      assert.match(r.body, /latest email/);
    }
    const newest = await verificationLink(t.ctx, 'old.link@example.org');
    const done = await c.submit('registration', f.id, { token: newest.token });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.state, 'completed');
  });

  it('a link sent again late says until when it works', async () => {
    const { c, f } = await register({ username: 'late.resend', email: 'late.resend@example.org' });
    t.clock.advance(23 * HOUR);
    const again = await c.submit('registration', f.id, { action: 'resend' });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const mail = await lastMessage(t.ctx, 'late.resend@example.org', 'email_verification');
    assert.doesNotMatch(mail!.text, /24 hours/);
    assert.match(mail!.text, /Open this link by \d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}/);
    assert.match(again.body.data.linkWorksUntil, /\d{2}:\d{2}/);
  });

  it('resending from the login page goes to the address now on file', async () => {
    const { c, f } = await register({ username: 'typo.mail', email: 'typo@exmaple.org' });
    const l = await login('typo.mail', 'Lago-Maggiore-71');
    assert.equal(l.r.body.error.code, 'auth.email_not_verified');
    t.clock.advance(61_000);
    const corrected = await c.submit('registration', f.id, { action: 'change_email', email: 'right.address@example.org' });
    assert.equal(corrected.status, 200, JSON.stringify(corrected.body));
    t.clock.advance(61_000);
    const again = await l.c.submit('login', l.f.id, { action: 'resend_verification' });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.data.verificationResentTo, 'right.address@example.org');
    assert.equal(await messageCount(t.ctx, 'typo@exmaple.org', 'email_verification'), 1, 'only the first link went to the wrong address');
    assert.equal(await messageCount(t.ctx, 'right.address@example.org', 'email_verification'), 2);
  });

});

describe('registration with a configured link lifetime', () => {
  it('honours a configured link lifetime', async () => {
    const t2 = await makeApp({ config: testConfig((c) => (c.registration.linkLifetimeHours = 2)) });
    try {
      const c = apiClient(t2.app, { lang: 'en' });
      const f = (await c.start('registration')).body;
      await c.submit('registration', f.id, details());
      const mail = await lastMessage(t2.ctx, 'mario.bianchi@example.org', 'email_verification');
      assert.match(mail!.text, /2 hours/);
      const { token } = await verificationLink(t2.ctx, 'mario.bianchi@example.org');
      t2.clock.advance(2 * HOUR + 1);
      const r = await c.submit('registration', f.id, { token });
      assert.equal(r.body.error.code, 'registration.link_expired');
    } finally {
      await t2.close();
    }
  });
});
