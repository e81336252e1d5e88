import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { enqueueMessage } from '../../src/outbox/enqueue.js';
import { OutboxDispatcher, SCRUBBED_TEXT } from '../../src/outbox/dispatcher.js';
import { sendersFromEnv } from '../../src/outbox/senders.js';
import type { DeliverableMessage } from '../../src/ports/message-sender.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { makeAmka, seedStudent } from './helpers.js';

interface Mail {
  to: string[];
  raw: string;
}

/** A real SMTP server on 127.0.0.1, port chosen by the system. */
async function startSmtp(): Promise<{ server: SMTPServer; port: number; mails: Mail[]; next: () => Promise<Mail> }> {
  const mails: Mail[] = [];
  const waiters: Array<(m: Mail) => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const m = { to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') };
        mails.push(m);
        waiters.shift()?.(m);
        cb();
      });
    },
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = (server.server.address() as AddressInfo).port;
  return { server, port, mails, next: () => new Promise((res) => waiters.push(res)) };
}

interface Sms {
  to: string;
  text: string;
  purpose: string;
}

/** A real HTTP SMS gateway on 127.0.0.1 whose answer status the test sets. */
async function startGateway(): Promise<{ server: Server; url: string; received: Sms[]; setStatus: (s: number) => void }> {
  const received: Sms[] = [];
  let status = 202;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method === 'POST' && req.headers['content-type']?.startsWith('application/json')) received.push(JSON.parse(body) as Sms);
      res.statusCode = status;
      res.end('{}');
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`, received, setStatus: (s) => (status = s) };
}

const pinIn = (s: string) => /\b(\d{6})\b/.exec(s)?.[1];

describe('real delivery: SMTP and the SMS webhook through the outbox', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  before(async () => {
    smtp = await startSmtp();
    gw = await startGateway();
    t = await makeApp({
      config: testConfig((c) => (c.institution.defaultCountry = 'GR')),
      env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, SMS_WEBHOOK_URL: gw.url },
    });
  });
  after(async () => {
    await t.close();
    await new Promise<void>((res) => smtp.server.close(() => res()));
    await new Promise<void>((res) => gw.server.close(() => res()));
  });

  it('the PIN arrives by email and SMS (the dispatcher is woken by the commit) and works', async () => {
    await seedStudent(t.ctx, { externalId: 'S5001', mobile: '+306912340001', email: 'nikos@example.org', amka: makeAmka('101098') });
    const dispatcher = new OutboxDispatcher(t.ctx, { senders: sendersFromEnv(t.ctx), pollMs: 3_600_000 });
    const stop = dispatcher.start();
    try {
      const mail = smtp.next();
      const c = apiClient(t.app, { lang: 'en' });
      const s = await c.start('activation-pin');
      const r = await c.submit('activation-pin', s.body.id, { mobile: '6912340001', email: 'NIKOS@example.org' });
      assert.equal(r.status, 200);
      const m = await mail;
      assert.deepEqual(m.to, ['nikos@example.org']);
      assert.match(m.raw, /Subject: UniDemo: your activation PIN/);
      assert.match(m.raw, /^Content-Language: en\r?$/m, 'the language it is written in, for mail clients and screen readers');
      assert.match(m.raw, /Content-Type: text\/plain/);
      assert.match(m.raw, /Content-Type: text\/html/);
      const pin = pinIn(m.raw);
      assert.ok(pin);
      for (let i = 0; i < 100 && gw.received.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
      assert.equal(gw.received.length, 1);
      assert.equal(gw.received[0]!.to, '+306912340001');
      assert.equal(gw.received[0]!.purpose, 'activation_pin');
      assert.equal(pinIn(gw.received[0]!.text), pin);
      const ok = await c.submit('activation-pin', s.body.id, { pin });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.state, 'awaiting_consent');
      // Delivered PINs are scrubbed from the outbox.
      for (let i = 0; i < 100; i++) {
        const rows = await t.ctx.db.kysely.selectFrom('outbox').select(['status']).where('status', '!=', 'sent').execute();
        if (rows.length === 0) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      const rows = await t.ctx.db.kysely.selectFrom('outbox').select(['status', 'payload']).execute();
      assert.equal(rows.length, 2);
      for (const row of rows) {
        assert.equal(row.status, 'sent');
        assert.ok(!row.payload.includes(pin!), 'no PIN left in the outbox');
        assert.ok(row.payload.includes(SCRUBBED_TEXT));
      }
    } finally {
      await stop();
    }
  });

  it('the development outbox is off when both transports are configured', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/dev/outbox' })).statusCode, 404);
  });

  it('retries with backoff, dead-letters after N tries, and an administrator can retry', async () => {
    gw.setStatus(500);
    gw.received.length = 0;
    const id = await t.ctx.db.kysely.transaction().execute((tx) => enqueueMessage(tx, t.clock.now(), { channel: 'sms', purpose: 'activation_pin', to: '+306900000111', text: 'PIN 123456', sensitive: true }));
    const d = new OutboxDispatcher(t.ctx, { senders: sendersFromEnv(t.ctx), maxAttempts: 3, baseDelayMs: 1000 });
    assert.deepEqual(await d.runOnce(), { sent: 0, retried: 1, dead: 0 });
    assert.deepEqual(await d.runOnce(), { sent: 0, retried: 0, dead: 0 }, 'not due before the backoff');
    t.clock.advance(1000);
    assert.deepEqual(await d.runOnce(), { sent: 0, retried: 1, dead: 0 });
    t.clock.advance(1999);
    assert.deepEqual(await d.runOnce(), { sent: 0, retried: 0, dead: 0 }, 'the second delay is twice the first');
    t.clock.advance(1);
    assert.deepEqual(await d.runOnce(), { sent: 0, retried: 0, dead: 1 });
    assert.equal(gw.received.length, 3);
    const c = apiClient(t.app);
    const dead = await c.request('GET', '/api/v1/admin/outbox?status=dead', undefined, adminHeaders);
    assert.equal(dead.status, 200);
    const row = dead.body.messages.find((m: any) => m.id === id);
    assert.equal(row.attempts, 3);
    assert.match(row.lastError, /HTTP 500/);
    assert.ok(!JSON.stringify(dead.body).includes('123456'), 'administrators never see a message body');
    assert.equal((await c.request('GET', '/api/v1/admin/outbox?status=dead')).status, 401);
    gw.setStatus(200);
    const retried = await c.request('POST', `/api/v1/admin/outbox/${id}/retry`, undefined, adminHeaders);
    assert.equal(retried.status, 200);
    assert.equal((await c.request('POST', `/api/v1/admin/outbox/${id}/retry`, undefined, adminHeaders)).status, 404, 'only dead messages are retried');
    assert.deepEqual(await d.drain(), { sent: 1, retried: 0, dead: 0 });
    const after = await t.ctx.db.kysely.selectFrom('outbox').select(['status', 'payload']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(after.status, 'sent');
    assert.ok(!after.payload.includes('123456'));
  });

  it('two dispatchers (two instances) never deliver one message twice', async () => {
    gw.setStatus(200);
    gw.received.length = 0;
    await t.ctx.db.kysely.transaction().execute(async (tx) => {
      for (let i = 0; i < 30; i++) await enqueueMessage(tx, t.clock.now(), { channel: 'sms', purpose: 'test', to: `+3069000${String(i).padStart(5, '0')}`, text: `message ${i}` });
    });
    const a = new OutboxDispatcher(t.ctx, { senders: sendersFromEnv(t.ctx), batch: 7 });
    const b = new OutboxDispatcher(t.ctx, { senders: sendersFromEnv(t.ctx), batch: 7 });
    const [ra, rb] = await Promise.all([a.drain(), b.drain()]);
    assert.equal(ra.sent + rb.sent, 30);
    assert.equal(gw.received.length, 30);
    assert.equal(new Set(gw.received.map((m) => m.to)).size, 30);
  });

  it('a message that stalls past its claim: the instance that takes the batch over sends the rest, each once', async () => {
    const to = ['+306900100001', '+306900100002', '+306900100003'];
    await t.ctx.db.kysely.transaction().execute(async (tx) => {
      for (const n of to) await enqueueMessage(tx, t.clock.now(), { channel: 'sms', purpose: 'test', to: n, text: `message to ${n}` });
    });
    const sent: string[] = [];
    let release!: () => void;
    const stall = new Promise<void>((r) => (release = r));
    let stalled = false;
    // Instance A's gateway hangs on its first message; instance B's answers at once.
    const a = new OutboxDispatcher(t.ctx, {
      senders: [{ channel: 'sms', send: async (m: DeliverableMessage) => { if (!stalled) { stalled = true; await stall; } sent.push(`A ${m.to}`); } }],
      batch: 10,
    });
    const b = new OutboxDispatcher(t.ctx, { senders: [{ channel: 'sms', send: async (m: DeliverableMessage) => void sent.push(`B ${m.to}`) }], batch: 10 });
    const roundA = a.runOnce();
    while (!stalled) await new Promise((r) => setImmediate(r));
    // A's claim (2 minutes) lapses while it waits: B takes the messages over and sends them.
    t.clock.advance(121_000);
    await b.drain();
    release();
    await roundA;
    assert.deepEqual(sent.filter((x) => x.startsWith('B ')).sort(), to.map((n) => `B ${n}`));
    // A delivers only the message it had already handed to its gateway, never the others.
    assert.deepEqual(sent.filter((x) => x.startsWith('A ')), [`A ${to[0]}`]);
    const rows = await t.ctx.db.kysely.selectFrom('outbox').select(['status', 'attempts']).where('recipient', 'in', to).execute();
    assert.deepEqual(rows.map((r) => [r.status, r.attempts]), [['sent', 2], ['sent', 2], ['sent', 2]]);
  });
});
