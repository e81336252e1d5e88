// A load generator in its own process, driven over IPC by the benchmark: {url, headers, n,
// concurrency} → sends n keep-alive GET requests, `concurrency` at a time, and answers
// {done, failures}. Running it outside the measured process keeps the client's own CPU out of
// the server's figure.
'use strict';
const http = require('node:http');

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function get(url, headers) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
  });
}

process.on('message', async ({ url, headers, n, concurrency }) => {
  let next = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        if ((await get(url, headers)) !== 200) failures++;
      }
    }),
  );
  process.send({ done: n, failures });
});
process.on('disconnect', () => {
  agent.destroy();
  process.exit(0);
});
