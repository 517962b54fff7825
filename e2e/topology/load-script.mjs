// Keeps a busy topology moving over REST until the time is up, then prints one JSON line
// {rounds, produced, errors}. Every second: one record into every partition of every topic, and
// each group's members heartbeat and commit two records behind the end of what they own (so
// every group has a little lag). Group i reads topics 2i and 2i+1 with two members.
// Usage: node load-script.mjs BASE_URL PREFIX TOPICS PARTITIONS GROUPS SECONDS
const [base, prefix, topicsArg, partitionsArg, groupsArg, secondsArg] = process.argv.slice(2);
const topics = Array.from({ length: Number(topicsArg) }, (_, i) => `${prefix}-t${String(i).padStart(2, "0")}`);
const partitions = Number(partitionsArg);
const groupCount = Number(groupsArg);
const seconds = Number(secondsArg);
let errors = 0;
let produced = 0;
let stopping = false;
process.on("SIGTERM", () => (stopping = true));

async function call(method, path, body) {
  try {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) {
      errors++;
      return null;
    }
    return text ? JSON.parse(text) : null;
  } catch {
    errors++;
    return null;
  }
}

const members = [];
for (let g = 0; g < groupCount; g++) {
  const group = `${prefix}-g${g}`;
  const subscribed = topics.slice((2 * g) % topics.length, ((2 * g) % topics.length) + 2);
  for (let m = 0; m < 2; m++) {
    const r = await call("POST", `/api/v1/groups/${group}/members`, {
      topics: subscribed,
      clientId: `${group}-c${m}`,
      autoOffsetReset: "earliest",
    });
    if (r) members.push({ group, memberId: r.memberId, epoch: r.memberEpoch, assignment: r.assignment });
  }
}

const start = performance.now();
let rounds = 0;
while (!stopping && performance.now() - start < seconds * 1000) {
  const tick = performance.now();
  rounds++;
  await Promise.all(
    topics.map(async (t) => {
      const records = Array.from({ length: partitions }, (_, p) => ({ key: `k${p}`, value: { round: rounds, p }, partition: p }));
      if (await call("POST", `/api/v1/topics/${t}/records`, { records })) produced += partitions;
    }),
  );
  await Promise.all(
    members.map(async (m) => {
      // owning only what the last reply assigned acknowledges a revocation (KIP-848)
      const hb = await call("POST", `/api/v1/groups/${m.group}/members/${m.memberId}/heartbeat`, {
        memberEpoch: m.epoch,
        ownedPartitions: m.assignment,
      });
      if (!hb) return;
      m.epoch = hb.memberEpoch;
      m.assignment = hb.assignment;
      const offsets = hb.assignment.flatMap((a) =>
        a.partitions.map((p) => ({ topic: a.topic, partition: p, offset: Math.max(0, rounds - 2) })),
      );
      if (offsets.length > 0)
        await call("POST", `/api/v1/groups/${m.group}/members/${m.memberId}/offsets`, { memberEpoch: m.epoch, offsets });
    }),
  );
  const wait = 1000 - (performance.now() - tick);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
await Promise.all(members.map((m) => call("DELETE", `/api/v1/groups/${m.group}/members/${m.memberId}`)));
console.log(JSON.stringify({ rounds, produced, errors }));
