import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, type KeyObject } from 'node:crypto';
import { jwtVerify } from 'jose';

/**
 * A stand-in for Google's OAuth token endpoint and the Admin SDK Directory API (users), written
 * from the published reference: the JWT bearer grant (RFC 7523) with an RS256 assertion whose
 * iss/sub/aud/scope/exp are checked; users.get/insert/update/delete/list with their documented
 * request fields, status codes (200, 204, 401, 404, 409, 400) and error body
 * `{"error": {"code", "message", "errors": [...]}}`. It keeps users in memory and logs requests.
 */
export interface FakeUser {
  kind: 'admin#directory#user';
  id: string;
  primaryEmail: string;
  name: { givenName: string; familyName: string; fullName: string };
  suspended: boolean;
  orgUnitPath: string;
  hashFunction?: string;
  /** Kept to check what was sent; the real API never returns it. */
  password?: string;
}

export interface GoogleFake {
  url: string;
  tokenUrl: string;
  users: Map<string, FakeUser>;
  requests: Array<{ method: string; path: string; body: any }>;
  tokensIssued: number;
  close(): Promise<void>;
}

const hashFunctions = ['MD5', 'SHA-1', 'crypt'];

export async function startGoogleFake(o: { publicKey: KeyObject; clientEmail: string; adminEmail: string; orgUnits: string[]; pageSize?: number }): Promise<GoogleFake> {
  const users = new Map<string, FakeUser>();
  const requests: GoogleFake['requests'] = [];
  const tokens = new Set<string>();
  let server: Server;
  const state = { tokensIssued: 0 };

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json; charset=UTF-8' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const fail = (res: ServerResponse, code: number, message: string, reason: string) =>
    send(res, code, { error: { code, message, errors: [{ message, domain: 'global', reason }] } });
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let s = '';
      req.on('data', (d: Buffer) => (s += d.toString()));
      req.on('end', () => resolve(s));
    });
  const tokenUrl = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  const show = (u: FakeUser) => {
    const { password: _p, hashFunction: _h, ...visible } = u;
    return visible;
  };

  server = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://127.0.0.1');
    const raw = await read(req);
    const json = req.headers['content-type']?.includes('json') && raw ? JSON.parse(raw) : null;
    requests.push({ method: req.method!, path: url.pathname + url.search, body: json ?? raw });

    if (url.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(raw);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return send(res, 400, { error: 'unsupported_grant_type' });
      try {
        const { payload } = await jwtVerify(form.get('assertion') ?? '', o.publicKey, { algorithms: ['RS256'], issuer: o.clientEmail, audience: tokenUrl(), subject: o.adminEmail });
        if (!String(payload.scope).split(' ').includes('https://www.googleapis.com/auth/admin.directory.user')) return send(res, 400, { error: 'invalid_scope' });
        if (!payload.exp || !payload.iat || payload.exp - payload.iat > 3600) return send(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT: exp too far' });
      } catch (e) {
        return send(res, 400, { error: 'invalid_grant', error_description: `Invalid JWT Signature. ${(e as Error).message}` });
      }
      const token = `ya29.${randomBytes(24).toString('base64url')}`;
      tokens.add(token);
      state.tokensIssued++;
      return send(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }

    const prefix = '/admin/directory/v1/users';
    if (!url.pathname.startsWith(prefix)) return fail(res, 404, 'Not Found', 'notFound');
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !tokens.has(bearer)) return fail(res, 401, 'Login Required.', 'required');
    const key = decodeURIComponent(url.pathname.slice(prefix.length + 1)).toLowerCase();

    const checkPassword = (b: any): string | null => {
      if (b.hashFunction !== undefined && !hashFunctions.includes(b.hashFunction)) return 'Invalid Input: hashFunction';
      if (b.password !== undefined && b.hashFunction === undefined && (b.password.length < 8 || b.password.length > 100)) return 'Invalid Password';
      return null;
    };
    const checkUnit = (p: string | undefined) => p === undefined || p === '/' || o.orgUnits.includes(p);

    if (req.method === 'POST' && key === '') {
      const b = json ?? {};
      if (!b.primaryEmail || !b.name?.givenName || !b.name?.familyName || !b.password) return fail(res, 400, 'Invalid Input: primary_user_email, name and password are required', 'invalid');
      const bad = checkPassword(b);
      if (bad) return fail(res, 400, bad, 'invalid');
      if (!checkUnit(b.orgUnitPath)) return fail(res, 400, 'Invalid Input: INVALID_OU_ID', 'invalid');
      if (users.has(b.primaryEmail.toLowerCase())) return fail(res, 409, 'Entity already exists.', 'duplicate');
      const u: FakeUser = {
        kind: 'admin#directory#user',
        id: randomBytes(10).toString('hex'),
        primaryEmail: b.primaryEmail,
        name: { givenName: b.name.givenName, familyName: b.name.familyName, fullName: `${b.name.givenName} ${b.name.familyName}` },
        suspended: b.suspended === true,
        orgUnitPath: b.orgUnitPath ?? '/',
        password: b.password,
        hashFunction: b.hashFunction,
      };
      users.set(u.primaryEmail.toLowerCase(), u);
      return send(res, 200, show(u));
    }
    if (req.method === 'GET' && key === '') {
      if (!url.searchParams.get('customer') && !url.searchParams.get('domain')) return fail(res, 400, 'Bad Request', 'badRequest');
      const unit = /^orgUnitPath='([^']*)'$/.exec(url.searchParams.get('query') ?? '')?.[1];
      const all = [...users.values()].filter((u) => unit === undefined || u.orgUnitPath === unit).sort((a, b) => a.primaryEmail.localeCompare(b.primaryEmail));
      const size = Math.min(Number(url.searchParams.get('maxResults') ?? 100), o.pageSize ?? 100);
      const from = Number(url.searchParams.get('pageToken') ?? 0);
      const page = all.slice(from, from + size);
      return send(res, 200, { kind: 'admin#directory#users', users: page.map(show), ...(from + size < all.length ? { nextPageToken: String(from + size) } : {}) });
    }
    const u = users.get(key);
    if (!u) return fail(res, 404, 'Resource Not Found: userKey', 'notFound');
    if (req.method === 'GET') return send(res, 200, show(u));
    if (req.method === 'DELETE') {
      users.delete(key);
      return send(res, 204);
    }
    if (req.method === 'PUT' || req.method === 'PATCH') {
      const b = json ?? {};
      const bad = checkPassword(b);
      if (bad) return fail(res, 400, bad, 'invalid');
      if (!checkUnit(b.orgUnitPath)) return fail(res, 400, 'Invalid Input: INVALID_OU_ID', 'invalid');
      if (b.name) u.name = { ...u.name, ...b.name, fullName: `${b.name.givenName ?? u.name.givenName} ${b.name.familyName ?? u.name.familyName}` };
      if (b.suspended !== undefined) u.suspended = b.suspended;
      if (b.orgUnitPath !== undefined) u.orgUnitPath = b.orgUnitPath;
      if (b.password !== undefined) [u.password, u.hashFunction] = [b.password, b.hashFunction];
      return send(res, 200, show(u));
    }
    return fail(res, 405, 'Method Not Allowed', 'badRequest');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    tokenUrl: tokenUrl(),
    users,
    requests,
    get tokensIssued() {
      return state.tokensIssued;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
