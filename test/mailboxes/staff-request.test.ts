import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mailboxRemindersJob, type MailboxRemindersReport } from '../../src/jobs/mailbox-reminders.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient, FormBrowser } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { importOffices, nameReferent, OFFICES, outbox, sessionToken, timelineActions } from './helpers.js';

const PW = 'Vecchia-Pass1';

async function seedOffices(t: TestApp) {
  await importOffices(t.app, OFFICES);
  await seedAccount(t.ctx, { population: 'staff', externalId: 'R-DIP', username: 'luca.bianchi', email: 'luca.bianchi@unidemo.example.org', status: 'active', password: PW, orgUnit: 'DIP-ISTR' });
  await seedAccount(t.ctx, { population: 'staff', externalId: 'R-AT', username: 'sara.neri', email: 'sara.neri@unidemo.example.org', status: 'active', password: PW, orgUnit: 'AT-MI' });
  assert.equal((await nameReferent(t.app, 'DIP-ISTR', 'luca.bianchi')).status, 200);
  assert.equal((await nameReferent(t.app, 'AT-MI', 'sara.neri')).status, 200);
}

describe('staff mailbox requests', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await seedOffices(t);
  });
  after(() => t.close());

  it('request → approval in the browser (Italian) → one-time activation link → password → login', async () => {
    await seedAccount(t.ctx, {
      population: 'staff',
      externalId: 'S100',
      givenName: 'Nicolò',
      familyName: "D'Amico",
      username: 'nicolo.damico',
      status: 'active',
      password: PW,
      orgUnit: 'DIP-ISTR',
      personalEmail: 'nicolo@example.net',
    });
    // Someone already holds the address the pattern gives: the new one is suffixed.
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S099', username: 'other', email: 'nicolo.damico@unidemo.example.org', status: 'active' });

    const person = new FormBrowser(t.app, 'it');
    await person.get('/flows/login');
    await person.submit({ username: 'nicolo.damico', password: PW });
    assert.equal(person.url, '/account');
    assert.match(person.text(), /Richiedi una casella di posta istituzionale/);
    await person.get('/flows/mailbox-request');
    assert.match(person.text(), /Referente informatico del tuo ufficio \(Dipartimento per il sistema educativo\)/);
    await person.submit({ note: 'Nuova assunzione' });
    assert.equal(person.status, 200);
    assert.match(person.text(), /Richiesta inviata/);
    const flowUrl = person.url;

    const notices = await outbox(t.ctx, 'mailbox_request');
    assert.equal(notices.length, 1);
    assert.equal(notices[0]!.recipient, 'luca.bianchi@unidemo.example.org');
    // The office by its name, not its code; the institution in the subject and the signature.
    assert.equal(notices[0]!.subject, "Università Demo: richiesta di casella di posta da Nicolò D'Amico");
    assert.match(notices[0]!.text, /^Nicolò D'Amico \(Dipartimento per il sistema educativo\) chiede una casella di posta istituzionale\./);
    assert.doesNotMatch(notices[0]!.text, /DIP-ISTR/);
    // The page the link opens speaks the email's language, whatever the referent's browser asks for.
    assert.match(notices[0]!.text, /http:\/\/localhost:3000\/referent\/requests\?lang=it\n/);
    assert.match(notices[0]!.text, /\n--\n\nUniversità Demo$/);
    assert.match(notices[0]!.html!, /^<!doctype html><html lang="it">/);
    assert.equal(notices[0]!.lang, 'it');

    const referent = new FormBrowser(t.app, 'it');
    await referent.get('/referent/requests');
    assert.match(referent.url, /^\/flows\/login\//);
    await referent.submit({ username: 'luca.bianchi', password: PW });
    assert.equal(referent.url, '/referent/requests');
    assert.match(referent.text(), /Richieste di casella di posta/);
    assert.match(referent.text(), /Nicolò D'Amico/);
    assert.match(referent.text(), /Nuova assunzione/);
    // A form without the page's token is refused.
    await referent.submit({}, { formAction: /\/approve$/, csrf: 'forged' });
    assert.equal(referent.status, 403);
    await referent.get('/referent/requests');
    // Rejecting needs a reason: the page says so and the request stays.
    await referent.submit({ comment: ' ' }, { formAction: /\/reject$/ });
    assert.equal(referent.status, 422);
    assert.match(referent.text(), /Campo obbligatorio/);
    assert.match(referent.text(), /Nicolò D'Amico/);
    await referent.submit({}, { formAction: /\/approve$/ });
    assert.equal(referent.status, 200);
    assert.match(referent.text(), /Richiesta di Nicolò D'Amico approvata: è stato assegnato l’indirizzo nicolo\.damico2@unidemo\.example\.org/);
    assert.match(referent.text(), /Nessuna richiesta in attesa/);

    // The requester's page shows the outcome.
    await person.get(flowUrl);
    assert.match(person.text(), /La richiesta è stata approvata: il tuo indirizzo è nicolo\.damico2@unidemo\.example\.org/);

    const links = await outbox(t.ctx, 'mailbox_activation');
    assert.equal(links.length, 1);
    assert.equal(links[0]!.recipient, 'nicolo@example.net');
    assert.equal(links[0]!.sensitive, true);
    assert.doesNotMatch(links[0]!.text, new RegExp(PW));
    assert.equal(links[0]!.subject, 'Università Demo: attiva la tua casella di posta istituzionale');
    assert.match(links[0]!.text, /^Gentile Nicolò D'Amico,\n\nIl tuo indirizzo istituzionale è nicolo\.damico2@unidemo\.example\.org\./);
    // He signs in to the portal with a password: the email says the link replaces it.
    assert.match(links[0]!.text, /La password che sceglierai sostituirà quella del tuo account: quella che usi ora non funzionerà più\./);
    assert.match(links[0]!.text, /\n--\n\nUniversità Demo$/);
    assert.match(links[0]!.html!, /^<!doctype html><html lang="it">[\s\S]*<a href="http:\/\/localhost:3000\/mailbox\/activate\?token=[\s\S]*Università Demo<\/p><\/body><\/html>$/);
    const link = /http:\/\/localhost:3000(\/mailbox\/activate\?token=\S+)/.exec(links[0]!.text)?.[1];
    assert.ok(link, links[0]!.text);

    const activation = new FormBrowser(t.app, 'it');
    await activation.get(link);
    assert.equal(activation.status, 200);
    assert.match(activation.text(), /Attiva la tua casella di posta/);
    await activation.submit({ newPassword: 'corta', newPasswordConfirm: 'corta' });
    assert.equal(activation.status, 422);
    assert.match(activation.text(), /Almeno 8 caratteri/);
    await activation.submit({ newPassword: 'Posta-Nuova-2026', newPasswordConfirm: 'Posta-Nuova-2026' });
    assert.equal(activation.status, 200);
    assert.match(activation.text(), /Il tuo indirizzo è nicolo\.damico2@unidemo\.example\.org/);
    // The link is spent: opened again, it says the account is active.
    await activation.get(link);
    assert.equal(activation.status, 410);
    assert.match(activation.text(), /Questo link è già stato usato/);

    const c = apiClient(t.app);
    const login = await c.start('login');
    assert.equal((await c.submit('login', login.body.id, { username: 'nicolo.damico', password: 'Posta-Nuova-2026' })).status, 200);
    const old = await c.start('login');
    assert.equal((await c.submit('login', old.body.id, { username: 'nicolo.damico', password: PW })).body.error.code, 'auth.invalid_credentials');

    const account = await t.ctx.db.kysely.selectFrom('accounts').selectAll().where('username_lower', '=', 'nicolo.damico').executeTakeFirstOrThrow();
    assert.equal(account.email, 'nicolo.damico2@unidemo.example.org');
    const actions = await timelineActions(t.app, 'nicolo.damico');
    for (const a of ['mailbox.requested', 'mailbox.approved', 'mailbox.activated']) assert.ok(actions.includes(a), actions.join());
  });

  it('staff activated by their referent: the link the referent sends opens the mailbox and activates the account', async () => {
    const s = await seedAccount(t.ctx, { population: 'staff', externalId: 'S777', givenName: 'Dario', familyName: 'Villa', username: 'dario.villa', status: 'pending_activation', orgUnit: 'DIP-ISTR', personalEmail: 'dario@example.net' });
    // A referent of another office knows nothing of him.
    const outsider = apiClient(t.app, { bearer: await sessionToken(t.app, 'sara.neri', PW) });
    assert.equal((await outsider.request('POST', '/api/v1/referent/accounts/dario.villa/mailbox-link', {})).status, 404);
    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', PW) });
    const opened = await ref.request('POST', '/api/v1/referent/accounts/dario.villa/mailbox-link', {});
    assert.equal(opened.status, 200, JSON.stringify(opened.body));
    assert.deepEqual(opened.body, { sentTo: 'd***@example.net', address: 'dario.villa@unidemo.example.org' });
    const acc = await t.ctx.db.kysely.selectFrom('accounts').select(['status', 'email']).where('id', '=', s.accountId).executeTakeFirstOrThrow();
    assert.deepEqual(acc, { status: 'pending_activation', email: 'dario.villa@unidemo.example.org' });
    const mailsTo = async () => (await outbox(t.ctx, 'mailbox_activation')).filter((m) => m.recipient === 'dario@example.net').map((m) => /token=([^&\s]+)/.exec(m.text)![1]!);
    const [first] = await mailsTo();
    // An account not activated yet has no password of its own to lose.
    const firstMail = (await outbox(t.ctx, 'mailbox_activation')).find((m) => m.recipient === 'dario@example.net')!;
    assert.match(firstMail.text, /^Gentile Dario Villa,\n\nIl tuo indirizzo istituzionale è dario\.villa@unidemo\.example\.org\./);
    assert.doesNotMatch(firstMail.text, /sostituirà/);
    // Asked again, it is a new link for the same mailbox (the first stops working).
    assert.deepEqual((await ref.request('POST', '/api/v1/referent/accounts/dario.villa/mailbox-link', {})).body, { sentTo: 'd***@example.net' });
    const tokens = await mailsTo();
    assert.equal(tokens.length, 2);
    const second = tokens.find((x) => x !== first)!;
    // While the account is suspended (its record ceased meanwhile), a live link activates nothing.
    await t.ctx.db.kysely.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', s.accountId).execute();
    const dead = await apiClient(t.app).request('POST', '/api/v1/mailbox/activate', { token: decodeURIComponent(second), newPassword: 'Dario-Posta-2026', newPasswordConfirm: 'Dario-Posta-2026' });
    assert.equal(dead.status, 410);
    assert.equal((await t.ctx.db.kysely.selectFrom('accounts').select('status').where('id', '=', s.accountId).executeTakeFirstOrThrow()).status, 'suspended');
    await t.ctx.db.kysely.updateTable('accounts').set({ status: 'pending_activation' }).where('id', '=', s.accountId).execute();
    assert.equal((await ref.request('POST', '/api/v1/referent/accounts/dario.villa/mailbox-link', {})).status, 200);
    const token = (await mailsTo()).find((x) => x !== first && x !== second)!;
    const done = await apiClient(t.app).request('POST', '/api/v1/mailbox/activate', { token: decodeURIComponent(token), newPassword: 'Dario-Posta-2026', newPasswordConfirm: 'Dario-Posta-2026' });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const c = apiClient(t.app);
    const login = await c.start('login');
    assert.equal((await c.submit('login', login.body.id, { username: 'dario.villa', password: 'Dario-Posta-2026' })).status, 200);
    const actions = await timelineActions(t.app, 'dario.villa');
    for (const a of ['mailbox.opened', 'mailbox.link_resent', 'mailbox.activated']) assert.ok(actions.includes(a), actions.join());
    // The same from the referent's page, without JavaScript.
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S779', givenName: 'Elio', familyName: 'Sala', username: 'elio.sala', status: 'pending_activation', orgUnit: 'DIP-ISTR', personalEmail: 'elio@example.net' });
    const page = new FormBrowser(t.app, 'it');
    await page.get('/referent/requests');
    await page.submit({ username: 'luca.bianchi', password: PW });
    assert.match(page.text(), /Invia un link di attivazione della casella/);
    await page.submit({ username: 'nessuno.qui' }, { formAction: /mailbox-link$/ });
    assert.equal(page.status, 404);
    assert.match(page.html, /<a href="\/referent\/requests\?lang=en"/, 'the language links lead to the list');
    await page.submit({ username: 'elio.sala' }, { formAction: /mailbox-link$/ });
    assert.equal(page.status, 200);
    assert.match(page.text(), /Un link di attivazione per Elio Sala \(elio\.sala@unidemo\.example\.org\) è stato inviato a e\*\*\*@example\.net\./);
    assert.ok((await outbox(t.ctx, 'mailbox_activation')).some((m) => m.recipient === 'elio@example.net'));
    // A staff account waiting for activation in a population not activated by referents gets no mailbox this way.
    t.ctx.config.populations.staff!.activation = ['password'];
    try {
      await seedAccount(t.ctx, { population: 'staff', externalId: 'S778', username: 'ugo.neri', status: 'pending_activation', orgUnit: 'DIP-ISTR', personalEmail: 'ugo@example.net' });
      const refused = await ref.request('POST', '/api/v1/referent/accounts/ugo.neri/mailbox-link', {});
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'mailbox.not_opened');
    } finally {
      t.ctx.config.populations.staff!.activation = ['referent'];
    }
  });

  it('rejection through the API: the reason is required and mailed; nothing is assigned', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S200', givenName: 'Giulia', familyName: 'Conti', username: 'giulia.conti', status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: 'giulia@example.net' });
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'giulia.conti', PW), lang: 'it' });
    const flow = (await me.start('mailbox-request')).body;
    assert.equal(flow.state, 'awaiting_details');
    assert.deepEqual(flow.fields.map((f: { name: string }) => f.name), ['note']);
    const sent = await me.submit('mailbox-request', flow.id, {});
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.state, 'awaiting_approval');
    // A second request while one is pending is refused.
    const twice = await me.start('mailbox-request');
    assert.equal(twice.body.error.code, 'mailbox.request_pending');

    const refToken = await sessionToken(t.app, 'luca.bianchi', PW);
    const ref = apiClient(t.app, { bearer: refToken, lang: 'it' });
    const list = await ref.request('GET', '/api/v1/referent/requests');
    assert.equal(list.status, 200);
    const mine = list.body.requests.find((r: { username: string }) => r.username === 'giulia.conti');
    assert.ok(mine);
    assert.equal(mine.orgUnit, 'DIP-ISTR');
    const noReason = await ref.request('POST', `/api/v1/referent/requests/${mine.id}/reject`, { comment: '  ' });
    assert.equal(noReason.status, 422);
    assert.deepEqual(noReason.body.error.fields, { comment: 'field.required' });
    // A key the decision does not know is named; a body that is not a JSON object is refused.
    const unknownKey = await ref.request('POST', `/api/v1/referent/requests/${mine.id}/reject`, { comment: 'ok', x: 1 });
    assert.equal(unknownKey.status, 422);
    assert.deepEqual(unknownKey.body.error.fields, { x: 'field.invalid' });
    const notJson = await t.app.inject({ method: 'POST', url: `/api/v1/referent/requests/${mine.id}/reject`, headers: { authorization: `Bearer ${refToken}`, 'content-type': 'text/plain' }, payload: 'comment=ok' });
    assert.equal(notJson.statusCode, 415);
    assert.equal(notJson.json().error.code, 'request.unsupported_media_type');
    const rejected = await ref.request('POST', `/api/v1/referent/requests/${mine.id}/reject`, { comment: 'Contratto non ancora registrato' });
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    assert.deepEqual(rejected.body, { id: mine.id, status: 'rejected', address: null });
    const again = await ref.request('POST', `/api/v1/referent/requests/${mine.id}/approve`, {});
    assert.equal(again.status, 404);

    const mails = await outbox(t.ctx, 'mailbox_rejected');
    assert.equal(mails.length, 1);
    assert.equal(mails[0]!.recipient, 'giulia@example.net');
    assert.match(mails[0]!.text, /Contratto non ancora registrato/);
    assert.match(mails[0]!.subject!, /respinta/);
    // Where to ask again, as a link; who sends it.
    assert.equal(mails[0]!.subject, 'Università Demo: la tua richiesta di casella di posta è stata respinta');
    assert.match(mails[0]!.text, /^Gentile Giulia Conti,\n\nLa tua richiesta/);
    assert.match(mails[0]!.text, /Puoi inviare una nuova richiesta dalla pagina del tuo account:\n\nhttp:\/\/localhost:3000\/account\?lang=it\n/);
    assert.ok(mails[0]!.html!.includes('Contratto non ancora registrato'));
    const done = await me.get('mailbox-request', flow.id);
    assert.equal(done.body.state, 'completed');
    assert.deepEqual(done.body.result, { address: null, status: 'rejected' });
    const acc = await t.ctx.db.kysely.selectFrom('accounts').select('email').where('username_lower', '=', 'giulia.conti').executeTakeFirstOrThrow();
    assert.equal(acc.email, null);
    assert.equal((await outbox(t.ctx, 'mailbox_activation')).filter((m) => m.recipient === 'giulia@example.net').length, 0);
    const actions = await timelineActions(t.app, 'giulia.conti');
    assert.ok(actions.includes('mailbox.requested') && actions.includes('mailbox.rejected'), actions.join());
  });

  it('a referent can neither see nor decide the requests of another office', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S300', givenName: 'Paolo', familyName: 'Galli', username: 'paolo.galli', status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: 'paolo@example.net' });
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'paolo.galli', PW) });
    const flow = (await me.start('mailbox-request')).body;
    assert.equal((await me.submit('mailbox-request', flow.id, {})).status, 200);
    const id = (await t.ctx.db.kysely.selectFrom('mailbox_requests').select('id').where('status', '=', 'pending').where('comment', 'is', null).orderBy('created_at', 'desc').executeTakeFirstOrThrow()).id;

    const other = apiClient(t.app, { bearer: await sessionToken(t.app, 'sara.neri', PW), lang: 'en' });
    const list = await other.request('GET', '/api/v1/referent/requests');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.requests, []);
    for (const action of ['approve', 'reject']) {
      const r = await other.request('POST', `/api/v1/referent/requests/${id}/${action}`, { comment: 'no' });
      assert.equal(r.status, 404, action);
      assert.equal(r.body.error.code, 'mailbox.request_not_found');
    }
    // Nor through the browser.
    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/login');
    await b.submit({ username: 'sara.neri', password: PW });
    await b.get('/referent/requests');
    assert.doesNotMatch(b.text(), /Paolo Galli/);
    const page = await t.app.inject({ method: 'GET', url: '/referent/requests', headers: { cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    assert.doesNotMatch(page.body, /action="\/referent\/requests\/[^"]+\/(approve|reject)"/, 'no decision form for another office');

    // A person without the role is refused outright.
    const plain = apiClient(t.app, { bearer: await sessionToken(t.app, 'paolo.galli', PW) });
    assert.equal((await plain.request('GET', '/api/v1/referent/requests')).status, 403);
    assert.equal((await plain.request('POST', `/api/v1/referent/requests/${id}/approve`, {})).status, 403);
    assert.equal((await apiClient(t.app).request('GET', '/api/v1/referent/requests')).status, 401);
    const row = await t.ctx.db.kysely.selectFrom('mailbox_requests').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'pending');
  });

  it('concurrent decisions on one request: exactly one wins', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S700', givenName: 'Ugo', familyName: 'Pini', username: 'ugo.pini', status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: 'ugo@example.net' });
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'ugo.pini', PW) });
    const flow = (await me.start('mailbox-request')).body;
    assert.equal((await me.submit('mailbox-request', flow.id, {})).status, 200);
    const id = (await t.ctx.db.kysely.selectFrom('mailbox_requests').select('id').where('flow_id', '=', flow.id).executeTakeFirstOrThrow()).id;
    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', PW) });
    const results = await Promise.all([
      ...Array.from({ length: 3 }, () => ref.request('POST', `/api/v1/referent/requests/${id}/approve`, {})),
      ...Array.from({ length: 3 }, () => ref.request('POST', `/api/v1/referent/requests/${id}/reject`, { comment: 'No' })),
    ]);
    assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join());
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.body.error.code === 'mailbox.request_not_found'));
    const mails = (await outbox(t.ctx)).filter((m) => m.recipient === 'ugo@example.net');
    assert.equal(mails.length, 1);
    const decisions = await t.ctx.db.kysely.selectFrom('audit_log').select('action').where('action', 'in', ['mailbox.approved', 'mailbox.rejected']).where('details', 'like', `%${id}%`).execute();
    assert.equal(decisions.length, 1);
  });

  it('without a personal address there is nowhere to send the link: refused and audited', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S800', username: 'senza.posta', status: 'active', password: PW, orgUnit: 'DIP-ISTR' });
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'senza.posta', PW), lang: 'it' });
    const flow = (await me.start('mailbox-request')).body;
    const r = await me.submit('mailbox-request', flow.id, {});
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'mailbox.not_eligible');
    assert.match(r.body.messages[1].text, /indirizzo di posta elettronica personale verificato/);
    assert.ok((await timelineActions(t.app, 'senza.posta')).includes('mailbox.eligibility_checked'));
  });

  it('two requests of one person sent at once: one is stored', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S900', username: 'doppia.richiesta', status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: 'dr@example.net' });
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'doppia.richiesta', PW) });
    const flows = [(await me.start('mailbox-request')).body, (await me.start('mailbox-request')).body];
    const results = await Promise.all(flows.map((f) => me.submit('mailbox-request', f.id, {})));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 409]);
    assert.equal(results.find((r) => r.status === 409)!.body.error.code, 'mailbox.request_pending');
    const person = await t.ctx.db.kysely.selectFrom('accounts').select('id').where('username_lower', '=', 'doppia.richiesta').executeTakeFirstOrThrow();
    assert.equal((await t.ctx.db.kysely.selectFrom('mailbox_requests').select('id').where('account_id', '=', person.id).execute()).length, 1);
    // The same flow's submission again (or at once): the step was done, the flow waits for a referent.
    const won = flows[results.findIndex((r) => r.status === 200)]!;
    const again = await Promise.all([me.submit('mailbox-request', won.id, {}), me.submit('mailbox-request', won.id, {})]);
    assert.deepEqual(again.map((r) => [r.status, r.body.error?.code]), [[409, 'flow.wrong_state'], [409, 'flow.wrong_state']]);
    // The request is the requester's to follow: no one else reads it by the flow's id.
    assert.equal((await me.request('GET', `/api/v1/flows/mailbox-request/${won.id}`)).status, 200);
    const stranger = await apiClient(t.app).request('GET', `/api/v1/flows/mailbox-request/${won.id}`);
    assert.equal(stranger.status, 401);
    assert.equal(stranger.body.error.code, 'flow.session_required');
    const other = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', PW) });
    const seen = await other.request('GET', `/api/v1/flows/mailbox-request/${won.id}`);
    assert.equal(seen.status, 403);
    assert.equal(seen.body.error.code, 'auth.forbidden');
    assert.equal(seen.body.data, undefined);
  });

  it('a referent cannot decide their own request', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R-DIP2', givenName: 'Carla', familyName: 'Rota', username: 'carla.rota', status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: 'carla@example.net' });
    await nameReferent(t.app, 'DIP-ISTR', 'carla.rota');
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'carla.rota', PW) });
    const flow = (await me.start('mailbox-request')).body;
    assert.equal((await me.submit('mailbox-request', flow.id, {})).status, 200);
    const mine = await t.ctx.db.kysely.selectFrom('mailbox_requests').select('id').where('flow_id', '=', flow.id).executeTakeFirstOrThrow();
    const list = await me.request('GET', '/api/v1/referent/requests');
    assert.ok(!list.body.requests.some((r: { id: string }) => r.id === mine.id));
    assert.equal((await me.request('POST', `/api/v1/referent/requests/${mine.id}/approve`, {})).status, 404);
    // The other referent of the office was told, and may decide it.
    assert.ok((await outbox(t.ctx, 'mailbox_request')).some((m) => m.recipient === 'luca.bianchi@unidemo.example.org' && /Carla Rota/.test(m.text)));
    await t.ctx.db.kysely.deleteFrom('org_unit_referents').where('account_id', '=', (await t.ctx.db.kysely.selectFrom('accounts').select('id').where('username_lower', '=', 'carla.rota').executeTakeFirstOrThrow()).id).execute();
  });

  it('the only referent of an office cannot send a request nobody else could decide', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R-DG', givenName: 'Marta', familyName: 'Galli', username: 'marta.galli', status: 'active', password: PW, orgUnit: 'DGSIS', personalEmail: 'marta@example.net' });
    await nameReferent(t.app, 'DGSIS', 'marta.galli');
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'marta.galli', PW) });
    const flow = (await me.start('mailbox-request')).body;
    const r = await me.submit('mailbox-request', flow.id, {});
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'mailbox.no_referent');
    assert.equal(await t.ctx.db.kysely.selectFrom('mailbox_requests').select('id').where('flow_id', '=', flow.id).executeTakeFirst(), undefined, 'nothing waits for a decision');
    // No request of hers waits, so nothing blocks her from asking again later.
    assert.equal((await me.start('mailbox-request')).status, 201);
    await t.ctx.db.kysely.deleteFrom('org_unit_referents').where('account_id', '=', (await t.ctx.db.kysely.selectFrom('accounts').select('id').where('username_lower', '=', 'marta.galli').executeTakeFirstOrThrow()).id).execute();
  });

  it('reminds the referents once after the configured time, then expires the request', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S400', givenName: 'Elena', familyName: 'Fabbri', username: 'elena.fabbri', status: 'active', password: PW, orgUnit: 'AT-MI', personalEmail: 'elena@example.net' });
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'elena.fabbri', PW) });
    const flow = (await me.start('mailbox-request')).body;
    assert.equal((await me.submit('mailbox-request', flow.id, {})).status, 200);
    const before = await mailboxRemindersJob.run(t.ctx, { dryRun: false });
    assert.deepEqual(before.reminded, []);

    t.clock.advance(49 * 3_600_000);
    // Requests left pending by the tests above are due too.
    const pending = (await t.ctx.db.kysely.selectFrom('mailbox_requests').innerJoin('accounts', 'accounts.id', 'mailbox_requests.account_id').select('accounts.username').where('mailbox_requests.status', '=', 'pending').execute()).map((r) => r.username).sort();
    assert.ok(pending.includes('elena.fabbri'), 'the report names the requesters');
    const sorted = (r: MailboxRemindersReport) => ({ ...r, reminded: [...r.reminded].sort(), noReferent: [...r.noReferent].sort() });
    assert.deepEqual(sorted(await mailboxRemindersJob.run(t.ctx, { dryRun: true })), { dryRun: true, reminded: pending, noReferent: [], expired: [] });
    assert.equal((await outbox(t.ctx, 'mailbox_request_reminder')).length, 0);
    assert.deepEqual(sorted(await mailboxRemindersJob.run(t.ctx, { dryRun: false })), { dryRun: false, reminded: pending, noReferent: [], expired: [] });
    assert.deepEqual(await mailboxRemindersJob.run(t.ctx, { dryRun: false }), { dryRun: false, reminded: [], noReferent: [], expired: [] });
    const reminders = (await outbox(t.ctx, 'mailbox_request_reminder')).filter((m) => /Elena Fabbri/.test(m.text));
    assert.deepEqual(reminders.map((m) => m.recipient), ['sara.neri@unidemo.example.org']);
    // The office by name, the expiry as a date written out (in the institution's time zone).
    assert.match(reminders[0]!.text, /Elena Fabbri \(Ambito territoriale di Milano\)/);
    assert.match(reminders[0]!.text, /Scade il 7 dicembre 2026\./);
    assert.doesNotMatch(reminders[0]!.text, /\d{4}-\d{2}-\d{2}/);

    t.clock.advance(13 * 86_400_000);
    const expired = await mailboxRemindersJob.run(t.ctx, { dryRun: false });
    // Every request still pending here is past its expiry, including the one of the previous test.
    assert.ok(expired.expired.includes('elena.fabbri'));
    // Two weeks on, her sign-in has ended: she signs in again to follow the request.
    const signedInAgain = apiClient(t.app, { bearer: await sessionToken(t.app, 'elena.fabbri', PW) });
    const mine = await signedInAgain.get('mailbox-request', flow.id);
    assert.deepEqual(mine.body.result, { address: null, status: 'expired' });
    const expiredMail = (await outbox(t.ctx, 'mailbox_request_expired')).find((m) => m.recipient === 'elena@example.net');
    assert.ok(expiredMail);
    assert.match(expiredMail.text, /http:\/\/localhost:3000\/account\?lang=(it|en|el)\n/);
    const actions = await timelineActions(t.app, 'elena.fabbri');
    assert.ok(actions.includes('mailbox.reminder_sent') && actions.includes('mailbox.request_expired'), actions.join());
    // A new request may be sent now (in a new session: the first one has ended meanwhile).
    const later = apiClient(t.app, { bearer: await sessionToken(t.app, 'elena.fabbri', PW) });
    assert.equal((await later.start('mailbox-request')).status, 201);
  });
});

describe('referents of the offices above (subtree scope)', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: testConfig((c) => (c.mailboxes.referentScope = 'subtree')) });
    await importOffices(t.app, OFFICES);
  });
  after(() => t.close());

  it('a referent of the Direzione sees and decides the requests of the Dipartimento below it', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R-DG', username: 'marco.riva', email: 'marco.riva@unidemo.example.org', status: 'active', password: PW, orgUnit: 'DGSIS' });
    await nameReferent(t.app, 'DGSIS', 'marco.riva');
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S500', givenName: 'Irene', familyName: 'Sala', username: 'irene.sala', status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: 'irene@example.net' });
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'irene.sala', PW) });
    const flow = (await me.start('mailbox-request')).body;
    assert.equal((await me.submit('mailbox-request', flow.id, {})).status, 200);
    assert.deepEqual((await outbox(t.ctx, 'mailbox_request')).map((m) => m.recipient), ['marco.riva@unidemo.example.org']);
    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'marco.riva', PW) });
    const list = await ref.request('GET', '/api/v1/referent/requests');
    assert.equal(list.body.requests.length, 1);
    const ok = await ref.request('POST', `/api/v1/referent/requests/${list.body.requests[0].id}/approve`, {});
    assert.deepEqual(ok.body, { id: list.body.requests[0].id, status: 'approved', address: 'irene.sala@unidemo.example.org' });
  });

  it('an office without referents refuses the request with a clear message', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S600', givenName: 'Rita', familyName: 'Moro', username: 'rita.moro', status: 'active', password: PW, orgUnit: 'AT-MI', personalEmail: 'rita@example.net' });
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'rita.moro', PW), lang: 'el' });
    const flow = (await me.start('mailbox-request')).body;
    const r = await me.submit('mailbox-request', flow.id, {});
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'mailbox.no_referent');
    assert.match(r.body.error.message, /υπεύθυνο πληροφορικής/);
    assert.equal((await t.ctx.db.kysely.selectFrom('mailbox_requests').select('id').where('person_id', 'is not', null).execute()).length, 1);
  });
});

describe('staff mailbox requests whose office loses its referent', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await seedOffices(t);
  });
  after(() => t.close());

  it('the reminder job reports them as no_referent, by the requester\'s username, once', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S900', givenName: 'Bruno', familyName: 'Serra', username: 'bruno.serra', status: 'active', password: PW, orgUnit: 'AT-MI', personalEmail: 'bruno@example.net' });
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'bruno.serra', PW) });
    const flow = (await me.start('mailbox-request')).body;
    assert.equal((await me.submit('mailbox-request', flow.id, {})).status, 200);
    const removed = await apiClient(t.app).request('DELETE', '/api/v1/admin/org-units/AT-MI/referents/sara.neri', undefined, adminHeaders);
    assert.equal(removed.status, 204);
    t.clock.advance(49 * 3_600_000);
    assert.deepEqual(await mailboxRemindersJob.run(t.ctx, { dryRun: true }), { dryRun: true, reminded: [], noReferent: ['bruno.serra'], expired: [] });
    const run = await apiClient(t.app).request('POST', '/api/v1/admin/jobs/mailbox-reminders', undefined, adminHeaders);
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.deepEqual(run.body.accounts, [{ username: 'bruno.serra', action: 'no_referent' }]);
    assert.deepEqual(run.body.counts, { no_referent: 1 });
    // Who ran it is in the audit log, with the request's id.
    const ran = await t.ctx.db.kysely.selectFrom('audit_log').select(['actor', 'correlation_id', 'details']).where('action', '=', 'job.run').executeTakeFirstOrThrow();
    assert.equal(ran.actor, 'admin:bootstrap');
    assert.equal(ran.correlation_id, run.res.headers['x-request-id']);
    assert.deepEqual(JSON.parse(ran.details).counts, { no_referent: 1 });
    assert.equal((await outbox(t.ctx, 'mailbox_request_reminder')).length, 0, 'nobody to remind');
    assert.deepEqual(await mailboxRemindersJob.run(t.ctx, { dryRun: false }), { dryRun: false, reminded: [], noReferent: [], expired: [] });
  });

  it('a request follows its requester when the registrar moves them to another office', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S901', givenName: 'Dora', familyName: 'Villa', username: 'dora.villa', status: 'active', password: PW, orgUnit: 'DGSIS', personalEmail: 'dora@example.net' });
    assert.equal((await nameReferent(t.app, 'DGSIS', 'sara.neri')).status, 200);
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'dora.villa', PW) });
    const flow = (await me.start('mailbox-request')).body;
    assert.equal((await me.submit('mailbox-request', flow.id, {})).status, 200);
    const oldRef = apiClient(t.app, { bearer: await sessionToken(t.app, 'sara.neri', PW) });
    const newRef = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', PW) });
    const id = (await oldRef.request('GET', '/api/v1/referent/requests')).body.requests.find((r: { username: string }) => r.username === 'dora.villa').id;

    const moved = await t.app.inject({ method: 'POST', url: '/api/v1/admin/imports?population=staff', payload: 'externalId,orgUnit\nS901,DIP-ISTR\n', headers: { ...adminHeaders, 'content-type': 'text/csv' } });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.equal(moved.json().updated, 1);

    assert.equal((await oldRef.request('GET', '/api/v1/referent/requests')).body.requests.some((r: { id: string }) => r.id === id), false, 'the old office no longer sees it');
    const refused = await oldRef.request('POST', `/api/v1/referent/requests/${id}/approve`, {});
    assert.equal(refused.status, 404);
    const seen = (await newRef.request('GET', '/api/v1/referent/requests')).body.requests.find((r: { id: string }) => r.id === id);
    assert.equal(seen?.orgUnit, 'DIP-ISTR');
    assert.ok((await outbox(t.ctx, 'mailbox_request')).some((m) => m.recipient === 'luca.bianchi@unidemo.example.org' && /Dora Villa/.test(m.text)), 'the new referent is told');
    const approved = await newRef.request('POST', `/api/v1/referent/requests/${id}/approve`, {});
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.ok((await timelineActions(t.app, 'dora.villa')).includes('mailbox.request_moved'));
  });
});

describe('reminders of a referent’s own request', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await seedOffices(t);
  });
  after(() => t.close());

  it('go to the other referents of the office, never to the requester; with none left it is no_referent', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R-AT2', givenName: 'Ugo', familyName: 'Pace', username: 'ugo.pace', status: 'active', password: PW, orgUnit: 'AT-MI', personalEmail: 'ugo@example.net' });
    assert.equal((await nameReferent(t.app, 'AT-MI', 'ugo.pace')).status, 200);
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'ugo.pace', PW) });
    const flow = (await me.start('mailbox-request')).body;
    assert.equal((await me.submit('mailbox-request', flow.id, {})).status, 200);
    t.clock.advance(49 * 3_600_000);
    assert.deepEqual(await mailboxRemindersJob.run(t.ctx, { dryRun: false }), { dryRun: false, reminded: ['ugo.pace'], noReferent: [], expired: [] });
    assert.deepEqual((await outbox(t.ctx, 'mailbox_request_reminder')).map((m) => m.recipient), ['sara.neri@unidemo.example.org']);

    // Another referent of the office asks; then the others leave: nobody but her could decide it.
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R-AT3', givenName: 'Ida', familyName: 'Moro', username: 'ida.moro', status: 'active', password: PW, orgUnit: 'AT-MI', personalEmail: 'ida@example.net' });
    assert.equal((await nameReferent(t.app, 'AT-MI', 'ida.moro')).status, 200);
    const mine = apiClient(t.app, { bearer: await sessionToken(t.app, 'ida.moro', PW) });
    const other = (await mine.start('mailbox-request')).body;
    assert.equal((await mine.submit('mailbox-request', other.id, {})).status, 200);
    for (const u of ['sara.neri', 'ugo.pace']) assert.equal((await apiClient(t.app).request('DELETE', `/api/v1/admin/org-units/AT-MI/referents/${u}`, undefined, adminHeaders)).status, 204);
    t.clock.advance(49 * 3_600_000);
    assert.deepEqual(await mailboxRemindersJob.run(t.ctx, { dryRun: true }), { dryRun: true, reminded: [], noReferent: ['ida.moro'], expired: [] });
    assert.deepEqual(await mailboxRemindersJob.run(t.ctx, { dryRun: false }), { dryRun: false, reminded: [], noReferent: ['ida.moro'], expired: [] });
    const audited = await t.ctx.db.kysely.selectFrom('audit_log').select('details').where('action', '=', 'mailbox.reminder_sent').orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(audited.details).referents, []);
  });
});
