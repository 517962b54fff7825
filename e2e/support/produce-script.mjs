// Produces records at a steady rate over REST until the time is up, then prints one JSON line
// {sent, seconds, errors}. Usage: node produce-script.mjs BASE_URL TOPIC RATE SECONDS BATCH PREFIX
// Requests are paced by the clock (not by their replies), at most 8 in flight.
const [base, topic, rateArg, secondsArg, batchArg, prefix] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const batch = Number(batchArg);
const pad = "x".repeat(60);
let sent = 0;
let errors = 0;
let n = 0;
let stopping = false;
process.on("SIGTERM", () => (stopping = true));

const inFlight = new Set();
async function send(count) {
  const records = [];
  for (let i = 0; i < count; i++, n++) records.push({ key: `${prefix}-${n}`, value: { n, pad } });
  try {
    const res = await fetch(`${base}/api/v1/topics/${topic}/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ records }),
    });
    if (res.ok) sent += count;
    else errors++;
    await res.arrayBuffer();
  } catch {
    errors++;
  }
}

const start = performance.now();
const interval = (1000 * batch) / rate;
let next = start;
while (!stopping && performance.now() - start < seconds * 1000) {
  if (inFlight.size < 8) {
    const p = send(batch).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  next += interval;
  const wait = next - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
await Promise.all(inFlight);
console.log(JSON.stringify({ sent, seconds: (performance.now() - start) / 1000, errors }));
