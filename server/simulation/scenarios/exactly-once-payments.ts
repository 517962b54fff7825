/**
 * Exactly-once: the same payments processed twice, by two payment/balance processors that each
 * crash once between producing a batch's balance updates and committing: at-least-once (produce,
 * then commit the offsets) deducts that batch again after its restart; exactly-once (events and
 * offsets in one transaction, read_committed) has its open transaction aborted and deducts each
 * payment once. The outcome is read back from the broker: every payment, every balance event
 * (read_committed), duplicates and final balances against those the payments imply.
 */
import type { Admin } from "../../client/admin.ts";
import { PaymentProcessor, type BalanceUpdated, type DeliveryMode, type Payment } from "./payment-processor.ts";
import { readAll, type ScenarioScript } from "./scenario-script.ts";

const PAYMENTS = "scenario-eos.payments";
const OUTPUT: Record<DeliveryMode, string> = {
  "at-least-once": "scenario-eos.balances-at-least-once",
  "exactly-once": "scenario-eos.balances-exactly-once",
};
const PARTITIONS = 3;
const ACCOUNTS = 6;
const OPENING_BALANCE = 10_000;
const RATE = 40;
/** Payments produced before the producer stops (a few more may land). */
const TARGET = 240;
const MODES: readonly DeliveryMode[] = ["at-least-once", "exactly-once"];
/** Measure names' suffix per mode. */
const SUFFIX: Record<DeliveryMode, string> = { "at-least-once": "AtLeastOnce", "exactly-once": "ExactlyOnce" };

export interface PaymentTally {
  /** Balance events beyond the first for a payment: deductions made twice. */
  duplicates: number;
  /** Payments with no balance event. */
  missing: number;
  /** Accounts whose last balance is not the opening balance less their payments. */
  wrongBalances: number;
  /** What those accounts were charged beyond their payments, together. */
  overcharged: number;
}

/** Duplicates and final balances of a processor's output against the payments it read. */
export function tallyPayments(payments: Payment[], events: BalanceUpdated[], opening: number): PaymentTally {
  const seen = new Map<string, number>();
  for (const e of events) seen.set(e.paymentId, (seen.get(e.paymentId) ?? 0) + 1);
  let duplicates = 0;
  for (const n of seen.values()) duplicates += n - 1;
  const missing = payments.filter((p) => !seen.has(p.paymentId)).length;
  const expected = new Map<string, number>();
  for (const p of payments) expected.set(p.account, (expected.get(p.account) ?? opening) - p.amount);
  // events are in log order per partition, and an account's events all land on one partition
  const last = new Map<string, number>();
  for (const e of events) last.set(e.account, e.balance);
  let wrongBalances = 0;
  let overcharged = 0;
  for (const [account, balance] of expected) {
    const final = last.get(account) ?? opening;
    if (final !== balance) {
      wrongBalances++;
      overcharged += balance - final;
    }
  }
  return { duplicates, missing, wrongBalances, overcharged };
}

/** Whether the group's committed offsets reached the end of every partition of `topic`. */
async function caughtUp(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const [g, t] = await Promise.all([admin.describeGroup(groupId), admin.describeTopic(topic)]);
  return t.partitions.every((p) => {
    const o = g.offsets.find((x) => x.topic === topic && x.partition === p.partition);
    return p.highWatermark === 0 || (o !== undefined && o.committedOffset === p.highWatermark);
  });
}

export const exactlyOncePayments: ScenarioScript = {
  id: "exactly-once-payments",
  title: "Exactly-once",
  explanation:
    "A payment processor reads payments, deducts each from its account's balance and writes a balance update. " +
    "Two processors handle the same payments and each crashes once, after writing a batch's updates and before committing. " +
    "At-least-once (write, then commit the offsets) re-reads that batch after its restart and deducts it twice. " +
    "Exactly-once (a transactional producer: updates and offsets in one transaction, read_committed) has the open transaction aborted by its successor, so every payment is deducted once.",
  topics: { [PAYMENTS]: PARTITIONS, [OUTPUT["at-least-once"]]: PARTITIONS, [OUTPUT["exactly-once"]]: PARTITIONS },
  async run(ctx) {
    const producer = await ctx.simulations.createProducer({
      topic: PAYMENTS,
      ratePerSec: RATE,
      keys: { type: "uniform", count: ACCOUNTS },
      value: {
        type: "cel",
        expression: '{"paymentId": "pay-" + string(seq), "account": "acct-" + key.substring(4), "amount": 1 + int(random * 99.0)}',
      },
      clientId: `scenario-eos-payments-${ctx.run}`,
      idempotent: true,
      paused: false,
    });
    void ctx.own("simulation", producer.id);
    ctx.step(`A producer writes ${RATE} payments/s to ${PAYMENTS} (${PARTITIONS} partitions), keyed by account (${ACCOUNTS} accounts)`);

    const processors = new Map<DeliveryMode, PaymentProcessor>();
    for (const mode of MODES) {
      const groupId = `scenario-eos.${mode}-${ctx.run}`;
      const p = new PaymentProcessor({
        baseUrl: ctx.baseUrl,
        mode,
        input: PAYMENTS,
        output: OUTPUT[mode],
        groupId,
        clientId: `scenario-eos-${mode}-${ctx.run}`,
        openingBalance: OPENING_BALANCE,
        maxRecords: 20,
      });
      processors.set(mode, p);
      await ctx.own("group", groupId);
      // its instances (`<clientId>-<n>`) and group are this scenario's simulated clients on the canvas
      ctx.simulations.markScripted(`scenario-eos-${mode}-${ctx.run}-`, groupId, true);
      ctx.defer(async () => ctx.simulations.markScripted(`scenario-eos-${mode}-${ctx.run}-`, groupId, false));
      ctx.defer(() => p.stop());
    }
    await Promise.all([...processors.values()].map((p) => p.start()));
    ctx.step(
      `Two processors read them, each in its own group: at-least-once writes to ${OUTPUT["at-least-once"]}, then commits; exactly-once writes to ${OUTPUT["exactly-once"]} in transactions`,
    );
    const all = [...processors.values()];
    await ctx.until(
      "both processors committing batches",
      async () => all.map((p) => p.committedBatches),
      (n) => n.every((c) => c >= 3),
      60_000,
    );
    for (const p of all) p.crashNextBatch();
    await ctx.until(
      "both processors to crash mid-batch",
      async () => all.map((p) => p.crashes),
      (n) => n.every((c) => c >= 1),
      60_000,
    );
    const committedAtCrash = all.map((p) => p.committedBatches);
    ctx.step(
      "Both crashed after writing a batch's balance updates, before committing; each restarts at once (the exactly-once one fences its predecessor and aborts the open transaction) and resumes from its group's committed offsets once the dead member's session times out",
    );
    await ctx.until(
      `${TARGET} payments produced`,
      async () => ctx.simulations.getProducer(producer.id).produced,
      (n) => n >= TARGET,
      60_000,
    );
    ctx.simulations.updateProducer(producer.id, { paused: true });
    const produced = ctx.simulations.getProducer(producer.id).produced;
    ctx.step(`The producer stops after ${produced} payments`);
    await ctx.until(
      "both restarted processors to read every payment and commit",
      async () => ({
        caughtUp: await Promise.all([...processors.keys()].map((m) => caughtUp(ctx.admin, `scenario-eos.${m}-${ctx.run}`, PAYMENTS))),
        committed: all.map((p) => p.committedBatches),
      }),
      (v) => v.caughtUp.every(Boolean) && v.committed.every((c, i) => c > committedAtCrash[i]),
      240_000,
    );

    // the outcome, from what the broker holds
    const payments = (await readAll(ctx.baseUrl, PAYMENTS, PARTITIONS, "read_committed")).map((r) => JSON.parse(r.value) as Payment);
    const measures: Record<string, number> = { payments: payments.length, accounts: new Set(payments.map((p) => p.account)).size };
    const tallies = new Map<DeliveryMode, PaymentTally>();
    for (const [mode, p] of processors) {
      const committed = await readAll(ctx.baseUrl, OUTPUT[mode], PARTITIONS, "read_committed");
      const written = await readAll(ctx.baseUrl, OUTPUT[mode], PARTITIONS, "read_uncommitted");
      const t = tallyPayments(
        payments,
        committed.map((r) => JSON.parse(r.value) as BalanceUpdated),
        OPENING_BALANCE,
      );
      tallies.set(mode, t);
      const s = SUFFIX[mode];
      Object.assign(measures, {
        [`crashes${s}`]: p.crashes,
        [`duplicates${s}`]: t.duplicates,
        [`wrongBalances${s}`]: t.wrongBalances,
        [`overcharged${s}`]: t.overcharged,
        [`missing${s}`]: t.missing,
        [`abortedUpdates${s}`]: written.length - committed.length,
      });
    }
    const alo = tallies.get("at-least-once")!;
    const eos = tallies.get("exactly-once")!;
    ctx.step(
      `Read back (read_committed): at-least-once ${alo.duplicates} duplicate deductions, ${alo.wrongBalances} wrong balances; exactly-once ${eos.duplicates} duplicates, ${eos.wrongBalances} wrong balances`,
    );
    const clean = (t: PaymentTally) => t.duplicates === 0 && t.missing === 0 && t.wrongBalances === 0;
    return {
      reached: all.every((p) => p.crashes >= 1) && alo.duplicates > 0 && alo.missing === 0 && clean(eos),
      summary:
        `${payments.length} payments, each processor crashed once between writing and committing. ` +
        `At-least-once: ${alo.duplicates} payments deducted twice, ${alo.wrongBalances} of ${measures.accounts} accounts end with the wrong balance (${alo.overcharged} overcharged). ` +
        `Exactly-once: ${eos.duplicates} duplicates, ${eos.wrongBalances} wrong balances (${measures.abortedUpdatesExactlyOnce} updates written in the crashed transaction were aborted)`,
      measures,
    };
  },
};
