import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, productionWarnings, readEnv } from '../../src/config/env.js';
import { loadInstitution, parseInstitution } from '../../src/config/load-institution.js';
import { createContext } from '../../src/app/container.js';
import { connect } from '../../src/db/connect.js';
import { provisioningTargetSchema } from '../../src/config/institution-schema.js';
import { startOutboxDispatcher } from '../../src/outbox/start-dispatcher.js';
import { makeApp, testConfig } from '../helpers/app.js';

const root = new URL('../..', import.meta.url).pathname;

describe('configuration', () => {
  it('loads the demo institution with defaults', () => {
    const { config, isDemo } = loadInstitution(undefined);
    assert.equal(isDemo, true);
    assert.equal(config.passwordPolicy.minLength, 8);
    assert.equal(config.populations.student?.mailbox, '{externalId}@studenti.{domain}');
  });

  it('the example configuration of the README is valid, and the demo links a privacy notice for its registrations', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const example = /## Configure an institution[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, 'the README has an example configuration');
    const config = parseInstitution(example, 'README.md');
    assert.equal(config.registration.privacyNotice?.version, '2026-09');
    assert.deepEqual(config.registration.consents.map((c) => c.id), ['open_days']);
    const demo = loadInstitution(undefined).config;
    assert.ok(demo.populations.external?.activation.includes('registration'));
    assert.match(String((demo.registration.privacyNotice?.url as Record<string, string>).el), /^https:\/\//);
  });

  it('names the file, the key and what is wrong', () => {
    const base = 'institution:\n  id: x\n  name: X\n  domain: uni.example.org\n';
    assert.throws(() => parseInstitution(`${base}passwordPolicy:\n  minLength: 3\n`, 'inst.yaml'), (e: ConfigError) => {
      assert.equal(e.source, 'inst.yaml');
      assert.equal(e.key, 'passwordPolicy.minLength');
      assert.match(e.message, /Invalid configuration in inst\.yaml: passwordPolicy\.minLength/);
      return true;
    });
    assert.throws(() => parseInstitution(`${base}  colour: red\n`, 'inst.yaml'), /institution has unknown key\(s\): colour|unknown key/);
    assert.throws(() => parseInstitution('institution: [\n', 'inst.yaml'), /not valid YAML/);
    assert.throws(() => parseInstitution('institution:\n  id: x\n  name: X\n  domain: nodot\n', 'inst.yaml'), /institution\.domain must be a domain name/);
    assert.throws(() => parseInstitution(`${base}  timeZone: Europe/Atlantis\n`, 'inst.yaml'), /institution\.timeZone must be a time zone/);
    assert.equal(parseInstitution(`${base}  timeZone: Europe/Athens\n`, 'inst.yaml').institution.timeZone, 'Europe/Athens');
    // The scheduler's time zone is checked as the institution's is (it stopped the start with
    // "CronDate: unhandled timestamp", naming neither the file nor the key).
    assert.throws(() => parseInstitution(`${base}jobs:\n  timezone: Europe/Rom\n`, 'inst.yaml'), /inst\.yaml: jobs\.timezone must be a time zone/);
    assert.equal(parseInstitution(`${base}jobs:\n  timezone: Europe/Athens\n`, 'inst.yaml').jobs.timezone, 'Europe/Athens');
    // A country that does not exist (UK for GB) made every national mobile number invalid.
    assert.throws(() => parseInstitution(`${base}  defaultCountry: UK\n`, 'inst.yaml'), /inst\.yaml: institution\.defaultCountry must be an ISO 3166-1 country code/);
    assert.equal(parseInstitution(`${base}  defaultCountry: GR\n`, 'inst.yaml').institution.defaultCountry, 'GR');
    // An unknown placeholder was kept as it is: every student of an import was `{matricola}`,
    // `{matricola}2`, `{matricola}3`…
    assert.throws(
      () => parseInstitution(`${base}populations:\n  student:\n    username: "{matricola}"\n`, 'inst.yaml'),
      /inst\.yaml: populations\.student\.username has an unknown placeholder \{matricola\}/,
    );
    assert.throws(
      () => parseInstitution(`${base}populations:\n  staff:\n    mailbox: "{given}.{surname}@{domain}"\n`, 'inst.yaml'),
      /inst\.yaml: populations\.staff\.mailbox has an unknown placeholder \{surname\}/,
    );
    const patterns = parseInstitution(`${base}populations:\n  staff:\n    username: "{given}.{family}"\n    mailbox: "{externalId}@{domain}"\n`, 'inst.yaml');
    assert.equal(patterns.populations.staff?.mailbox, '{externalId}@{domain}');
    // A key left out is said to be missing (it read "Invalid input").
    assert.throws(() => parseInstitution('institution:\n  id: x\n  domain: example.org\n', 'inst.yaml'), /inst\.yaml: institution\.name is required but missing/);
  });

  it('a campus service that could never sign anyone in stops the start, naming the key', () => {
    const base = 'institution:\n  id: x\n  name: X\n  domain: uni.example.org\nservices:\n  - id: docs\n    name: Docs\n    populations: [student]\n';
    const cases: Array<[string, string]> = [
      ['    redirectUris: [https://docs.example.org/cb]\n', 'services.0.clientSecret'],
      ['    clientSecret: docs-secret-0123456789\n', 'services.0.redirectUris'],
      ['    redirectUris: [https://docs.example.org/cb]\n    tokenEndpointAuthMethod: private_key_jwt\n', 'services.0.jwksUri'],
      ['    clientSecret: docs-secret-0123456789\n    redirectUris: ["https://docs.example.org/cb#x"]\n', 'services.0.redirectUris.0'],
      ['    clientSecret: docs-secret-0123456789\n    redirectUris: ["javascript:alert(1)"]\n', 'services.0.redirectUris.0'],
      // A public client keeps no secret: one given in the file is a mistake.
      ['    clientSecret: docs-secret-0123456789\n    redirectUris: [https://docs.example.org/cb]\n    tokenEndpointAuthMethod: none\n', 'services.0.clientSecret'],
      // No SAML identity provider serves it: accepted, it would be silently left out of every list.
      ['    protocol: saml\n', 'services.0.protocol'],
      // An app's own scheme (RFC 8252) is a public client's: an app keeps no secret.
      ['    clientSecret: docs-secret-0123456789\n    redirectUris: ["edu.example.docs:/cb"]\n', 'services.0.tokenEndpointAuthMethod'],
    ];
    for (const [extra, key] of cases) {
      assert.throws(() => parseInstitution(base + extra, 'inst.yaml'), (e: ConfigError) => {
        assert.equal(e.key, key, extra);
        assert.match(e.message, /inst\.yaml/);
        return true;
      });
    }
    const ok = parseInstitution(`${base}    clientSecret: docs-secret-0123456789\n    redirectUris: [https://docs.example.org/cb]\n`, 'inst.yaml');
    assert.equal(ok.services[0]?.id, 'docs');
    const app = parseInstitution(`${base}    redirectUris: [https://app.example.org/cb]\n    tokenEndpointAuthMethod: none\n`, 'inst.yaml');
    assert.equal(app.services[0]?.tokenEndpointAuthMethod, 'none');
    const phone = parseInstitution(`${base}    redirectUris: ["edu.example.docs:/cb", "http://127.0.0.1/cb"]\n    tokenEndpointAuthMethod: none\n`, 'inst.yaml');
    assert.deepEqual(phone.services[0]?.redirectUris, ['edu.example.docs:/cb', 'http://127.0.0.1/cb']);
  });

  it('refuses the built-in demo institution in production', async () => {
    const env = readEnv({ NODE_ENV: 'production', TESSERA_SECRET: 'x'.repeat(40), PUBLIC_URL: 'https://account.example.org', LOG_LEVEL: 'silent', DATABASE_URL: 'sqlite::memory:' });
    await assert.rejects(createContext({ env, db: connect('sqlite::memory:'), migrate: false }), (e: ConfigError) => {
      assert.equal(e.key, 'TESSERA_CONFIG');
      assert.match(e.message, /required when NODE_ENV=production/);
      return true;
    });
  });

  it('validates the environment and requires a secret in production', () => {
    assert.throws(() => readEnv({ PORT: 'abc' }), /PORT/);
    assert.throws(() => readEnv({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL must start with sqlite: or postgres/);
    assert.throws(() => readEnv({ NODE_ENV: 'production' }), /TESSERA_SECRET is required/);
    // Without PUBLIC_URL, production wrote http://localhost:3000 into emailed links and the
    // OpenID issuer; with an http:// address its session cookies went without `Secure`.
    const secret = 'x'.repeat(40);
    // Both are said at start (a trial of a production build on one machine may run so).
    const warned = (source: Record<string, string>) => productionWarnings(readEnv(source), source);
    assert.match(warned({ NODE_ENV: 'production', TESSERA_SECRET: secret })[0]!, /PUBLIC_URL is not set: links in messages and the OpenID issuer say http:\/\/localhost:3000/);
    assert.match(warned({ NODE_ENV: 'production', TESSERA_SECRET: secret, PUBLIC_URL: 'http://account.example.org' })[0]!, /PUBLIC_URL http:\/\/account\.example\.org is not https:\/\/: session cookies are sent without Secure/);
    assert.deepEqual(warned({ NODE_ENV: 'production', TESSERA_SECRET: secret, PUBLIC_URL: 'https://account.example.org' }), []);
    assert.deepEqual(warned({ NODE_ENV: 'production', TESSERA_SECRET: secret, PUBLIC_URL: 'http://localhost:3000' }), []);
    assert.deepEqual(warned({ PUBLIC_URL: 'http://account.example.org' }), [], 'development');
    assert.equal(readEnv({ NODE_ENV: 'production', TESSERA_SECRET: secret, PUBLIC_URL: 'https://account.example.org/' }).PUBLIC_URL, 'https://account.example.org');
    // Tessera answers at the root of its host: under a path its redirects and its OpenID endpoints
    // missed the prefix.
    assert.throws(() => readEnv({ PUBLIC_URL: 'https://www.example.org/account' }), /environment: PUBLIC_URL must be the address of a site's root/);
    // Only a web address: another scheme started with every link and the issuer unusable, and
    // one without an origin was refused as a root "such as null".
    assert.throws(() => readEnv({ PUBLIC_URL: 'ftp://account.example.org' }), /environment: PUBLIC_URL must be an http:\/\/ or https:\/\/ address/);
    assert.throws(() => readEnv({ PUBLIC_URL: 'javascript:alert(1)' }), /environment: PUBLIC_URL must be an http:\/\/ or https:\/\/ address/);
    // SMS go out as an HTTP POST: another scheme started and then failed every message.
    assert.throws(() => readEnv({ SMS_WEBHOOK_URL: 'ftp://sms.example.org/send' }), /environment: SMS_WEBHOOK_URL must be an http:\/\/ or https:\/\/ address/);
    assert.equal(readEnv({ SMS_WEBHOOK_URL: 'https://sms.example.org/send' }).SMS_WEBHOOK_URL, 'https://sms.example.org/send');
    // Trying a production build on one's own machine.
    assert.equal(readEnv({ NODE_ENV: 'production', TESSERA_SECRET: secret, PUBLIC_URL: 'http://localhost:3000' }).PUBLIC_URL, 'http://localhost:3000');
    assert.equal(readEnv({ PORT: '4000' }).PUBLIC_URL, 'http://localhost:4000');
  });

  it('keeps the SQLite file in TESSERA_DATA_DIR unless DATABASE_URL says otherwise', () => {
    assert.equal(readEnv({}).DATABASE_URL, 'sqlite:./data/tessera.db');
    // A second data folder is a second database, next to its own secret and keys: not the
    // default folder's database read with another secret.
    assert.equal(readEnv({ TESSERA_DATA_DIR: '/srv/tessera-trial' }).DATABASE_URL, 'sqlite:/srv/tessera-trial/tessera.db');
    assert.equal(readEnv({ TESSERA_DATA_DIR: 'trial/' }).DATABASE_URL, 'sqlite:trial/tessera.db');
    assert.equal(readEnv({ TESSERA_DATA_DIR: '/srv/trial', DATABASE_URL: 'sqlite:/var/lib/tessera.db' }).DATABASE_URL, 'sqlite:/var/lib/tessera.db');
  });

  it('a provisioning target whose bind password the environment lacks stops the start, naming the variable', async () => {
    // It started, and every provisioning operation failed until it was dead-lettered.
    const target = provisioningTargetSchema.parse({
      id: 'lab-ldap',
      type: 'ldap',
      populations: ['student'],
      url: 'ldap://127.0.0.1:1',
      bindDn: 'cn=tessera,dc=example,dc=org',
      bindPasswordEnv: 'TESSERA_TEST_UNSET_LDAP_PASSWORD',
      baseDn: 'dc=example,dc=org',
    });
    const t = await makeApp({ config: testConfig((c) => (c.provisioning.targets = [target])) });
    try {
      await assert.rejects(
        async () => {
          const stop = await startOutboxDispatcher(t.ctx);
          await stop?.();
        },
        (e: ConfigError) => {
          assert.equal(e.key, 'TESSERA_TEST_UNSET_LDAP_PASSWORD');
          assert.match(e.message, /Invalid configuration in environment: TESSERA_TEST_UNSET_LDAP_PASSWORD is required by provisioning target lab-ldap/);
          return true;
        },
      );
    } finally {
      await t.close();
    }
  });

  it('TRUST_PROXY is true or the addresses of the proxies; anything else stops the start', () => {
    assert.throws(() => readEnv({ TRUST_PROXY: 'yes' }), /environment: TRUST_PROXY must be true or the addresses of the proxies in front of Tessera/);
    assert.throws(() => readEnv({ TRUST_PROXY: '10.0.0.1, balancer' }), /TRUST_PROXY must be/);
    // A number of hops was read as an address (1 is 0.0.0.1): no client address was ever trusted.
    assert.throws(() => readEnv({ TRUST_PROXY: '1' }), /TRUST_PROXY must be/);
    for (const ok of ['true', '10.0.0.1', '10.0.0.1, 10.0.0.0/8', 'loopback', '::1', 'fd00::/8']) assert.equal(readEnv({ TRUST_PROXY: ok }).TRUST_PROXY, ok);
  });

  it('stops the start with a message naming the file when the configuration is bad', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cfg-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'institution:\n  id: x\n  name: X\n  domain: uni.example.org\nlogin:\n  lockMinutes: 0\n');
    const r = spawnSync(process.execPath, [join(root, 'bin/tessera.mjs'), 'serve'], {
      env: { ...process.env, TESSERA_CONFIG: file, DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, TESSERA_DATA_DIR: dir, PORT: '0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Invalid configuration in .*bad\.yaml: login\.lockMinutes/);
  });
});
