// The reference sender of the Web Push benchmark (bench/push.py): the npm package web-push,
// the usual library for sending Web Push from a server, driven as concurrently as it allows.
//
//   node bench/push_reference.mjs JOB.json        (WEB_PUSH_PREFIX: where `npm install
//                                                   --prefix` put web-push; bench/push.sh does)
//
// JOB: {"subscriptions": [{"endpoint", "keys": {"p256dh", "auth"}}], "payload": "<text>",
//       "vapid": {"subject", "publicKey", "privateKey"}, "ttl": 600, "urgency": "high",
//       "topic": "31-air_raid", "in_flight": 128, "workers": 0 (0: one per CPU)}
//
// web-push's sendNotification speaks https only (it calls https.request and takes only an
// https.Agent), and the sink is plain http on loopback. So each message is made by its
// generateRequestDetails, which is what sendNotification does first (encrypt, VAPID-sign,
// headers), and sent with http.request exactly as sendNotification sends it, through a
// keep-alive Agent. Node runs JavaScript on one thread, and encryption is most of the work, so
// the subscriptions are split among worker threads (one per CPU by default), each with its
// share of the requests in flight.
//
// Prints one JSON line. `start_ns` and `end_ns` are CLOCK_MONOTONIC (libuv's hrtime), the clock
// the sink stamps its acceptances with; `cpu_ms` is the process's (all threads) from the start
// signal to the last answer, `cpu_total_ms` since the process started.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const prefix = process.env.WEB_PUSH_PREFIX || '/tmp/tryvoha-bench-npm';
const require = createRequire(path.join(prefix, 'package.json'));

function cpuMs(usage) {
  return (usage.user + usage.system) / 1000;
}

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const workers = job.workers || os.availableParallelism();
  const inFlight = job.in_flight || 128;
  const slices = Array.from({ length: workers }, () => []);
  job.subscriptions.forEach((subscription, i) => slices[i % workers].push(subscription));
  const common = { payload: job.payload, vapid: job.vapid, ttl: job.ttl ?? 600, urgency: job.urgency || 'high',
    topic: job.topic, inFlight: Math.ceil(inFlight / workers) };
  const threads = slices.map((slice) => new Worker(new URL(import.meta.url), { workerData: { ...common, slice } }));
  const message = (worker) => new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  // Every worker has loaded the library and its share before the clock starts, as tryvoha has
  // its subscriptions in memory before the declaration.
  await Promise.all(threads.map(message));
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  const finished = threads.map(message);
  threads.forEach((worker) => worker.postMessage('go'));
  const results = await Promise.all(finished);
  const end = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpuBefore);
  const statuses = {};
  for (const result of results) {
    for (const [status, count] of Object.entries(result.statuses)) statuses[status] = (statuses[status] || 0) + count;
  }
  const accepted = Object.entries(statuses).filter(([s]) => /^2\d\d$/.test(s)).reduce((sum, [, n]) => sum + n, 0);
  console.log(JSON.stringify({
    sender: `web-push ${require('web-push/package.json').version}`,
    node: process.version,
    workers,
    in_flight: inFlight,
    sent: job.subscriptions.length,
    accepted,
    statuses,
    errors: results.flatMap((r) => r.errors).slice(0, 5),
    start_ns: Number(start),
    end_ns: Number(end),
    elapsed_ms: Number(end - start) / 1e6,
    cpu_ms: cpuMs(cpu),
    cpu_total_ms: cpuMs(process.cpuUsage()),
    max_rss_kib: process.resourceUsage().maxRSS,
  }));
  await Promise.all(threads.map((worker) => worker.terminate()));
}

async function worker() {
  const webpush = require('web-push');
  const { slice, payload, vapid, ttl, urgency, topic, inFlight } = workerData;
  const body = Buffer.from(payload, 'utf8');
  const options = { vapidDetails: vapid, TTL: ttl, urgency, ...(topic ? { topic } : {}) };
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  const statuses = {};
  const errors = [];
  const send = (subscription) => new Promise((resolve) => {
    const details = webpush.generateRequestDetails(subscription, body, options);
    const url = new URL(details.endpoint);
    const request = http.request({ hostname: url.hostname, port: url.port, path: url.pathname + url.search,
      method: details.method, headers: details.headers, agent }, (response) => {
      response.resume();
      response.on('end', () => resolve(String(response.statusCode)));
    });
    request.on('error', (error) => {
      if (errors.length < 5) errors.push(String(error));
      resolve('error');
    });
    request.end(details.body);
  });
  let next = 0;
  const lane = async () => {
    while (next < slice.length) {
      const status = await send(slice[next++]);
      statuses[status] = (statuses[status] || 0) + 1;
    }
  };
  parentPort.postMessage('ready');
  await new Promise((resolve) => parentPort.once('message', resolve));
  await Promise.all(Array.from({ length: Math.min(inFlight, slice.length) }, lane));
  agent.destroy();
  parentPort.postMessage({ statuses, errors });
}

(isMainThread ? main() : worker()).catch((error) => {
  console.error(error);
  process.exit(1);
});
