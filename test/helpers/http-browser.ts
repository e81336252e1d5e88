/**
 * A browser without JavaScript over real HTTP (fetch): a cookie jar honouring paths, redirects
 * and meta refreshes followed, forms filled from the page's own fields. Navigation stops at any
 * URL starting with one of `stopAt` (a relying party's callback, which is not listening) and
 * records it in `stoppedAt`.
 */
export class HttpBrowser {
  private readonly jar = new Map<string, { name: string; value: string; path: string }>();
  html = '';
  status = 0;
  /** The headers of the last answer. */
  responseHeaders = new Headers();
  url = '';
  stoppedAt: string | null = null;
  /** Every URL visited, in order (redirects included). */
  readonly visited: string[] = [];
  /** Headers added to every request (e.g. a balancer's Host). */
  headers: Record<string, string> = {};

  constructor(
    private readonly stopAt: string[],
    private readonly lang = 'en',
  ) {}

  private store(url: URL, headers: Headers) {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      let path = '/';
      let expired = value === '';
      for (const a of attrs) {
        const [k, v = ''] = a.trim().split('=');
        const key = k!.toLowerCase();
        if (key === 'path') path = v;
        if (key === 'expires' && Date.parse(v) < Date.now()) expired = true;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
      }
      const id = `${name};${path}`;
      if (expired) this.jar.delete(id);
      else this.jar.set(id, { name, value, path });
    }
    void url;
  }

  cookieHeader(url: URL): string {
    return [...this.jar.values()]
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** The value of a cookie by name (any path). */
  cookie(name: string): string | undefined {
    return [...this.jar.values()].find((c) => c.name === name)?.value;
  }

  deleteCookie(name: string): void {
    for (const [k, c] of this.jar) if (c.name === name) this.jar.delete(k);
  }

  private stops(url: string): boolean {
    if (this.stopAt.some((s) => url.startsWith(s))) {
      this.stoppedAt = url;
      return true;
    }
    return false;
  }

  private async request(method: string, url: string, body?: string): Promise<string | null> {
    const u = new URL(url);
    this.visited.push(`${method} ${u.pathname}`);
    const res = await fetch(u, {
      method,
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        'accept-language': this.lang,
        cookie: this.cookieHeader(u),
        ...this.headers,
        ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });
    this.store(u, res.headers);
    this.url = url;
    this.status = res.status;
    this.responseHeaders = res.headers;
    this.html = await res.text();
    if (res.status >= 300 && res.status < 400) return new URL(res.headers.get('location')!, u).href;
    const refresh = /<meta http-equiv="refresh" content="0;url=([^"]+)"/.exec(this.html);
    if (refresh) return new URL(refresh[1]!.replace(/&amp;/g, '&'), u).href;
    return null;
  }

  private async follow(next: string | null): Promise<this> {
    for (let i = 0; next && i < 15; i++) {
      if (this.stops(next)) return this;
      next = await this.request('GET', next);
    }
    return this;
  }

  async get(url: string): Promise<this> {
    this.stoppedAt = null;
    return this.follow(url);
  }

  /** Posts the page's form (the one whose action matches, or the first) with `fields`. */
  async submit(fields: Record<string, string>, opts: { formAction?: RegExp; action?: string } = {}): Promise<this> {
    this.stoppedAt = null;
    const forms = [...this.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = forms.find((f) => (opts.formAction ? opts.formAction.test(f[1]!) : !f[1]!.startsWith('/logout'))) ?? forms[0];
    if (!form) throw new Error(`no form on ${this.url}: ${this.text().slice(0, 300)}`);
    const hidden: Record<string, string> = {};
    for (const m of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) hidden[m[1]!] = m[2]!.replace(/&amp;/g, '&');
    const body = new URLSearchParams({ ...hidden, ...(opts.action ? { action: opts.action } : {}), ...fields }).toString();
    const next = await this.request('POST', new URL(form[1]!.replace(/&amp;/g, '&'), this.url).href, body);
    return this.follow(next);
  }

  text(): string {
    return this.html.replace(/<[^>]+>/g, ' ').replace(/&#x27;|&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
  }
}
