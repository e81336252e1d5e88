import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, readEnv } from '../../src/config/env.js';
import { loadInstitution, parseInstitution } from '../../src/config/load-institution.js';
import { createContext } from '../../src/app/container.js';
import { connect } from '../../src/db/connect.js';

const root = new URL('../..', import.meta.url).pathname;

describe('configuration', () => {
  it('loads the demo institution with defaults', () => {
    const { config, isDemo } = loadInstitution(undefined);
    assert.equal(isDemo, true);
    assert.equal(config.passwordPolicy.minLength, 8);
    assert.equal(config.populations.student?.mailbox, '{externalId}@studenti.{domain}');
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
  });

  it('refuses the built-in demo institution in production', async () => {
    const env = readEnv({ NODE_ENV: 'production', TESSERA_SECRET: 'x'.repeat(40), LOG_LEVEL: 'silent', DATABASE_URL: 'sqlite::memory:' });
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
    assert.equal(readEnv({ PORT: '4000' }).PUBLIC_URL, 'http://localhost:4000');
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
