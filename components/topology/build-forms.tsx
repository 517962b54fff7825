"use client";
/**
 * The forms behind the palette and the topic's "+": a simulated producer (topic, rate, keys
 * uniform over N or a few hot ones, value template), a simulated consumer group (topics, members,
 * processing time per record, commit mode), a topic, more partitions. Fields are checked with the
 * shared schemas as typed; the server has the last word and its refusal is shown as it wrote it.
 */
import { useState, type ReactNode } from "react";
import type { z } from "zod";
import { ZPartitionCount, ZTopicName } from "@/server/schemas/topic";
import { SIMULATION_LIMITS, ZCreateSimulatedGroupRequest, ZCreateSimulatedProducerRequest } from "@/server/schemas/topology";
import { useAddPartitions } from "../hooks/use-topic";
import { useCreateTopic } from "../hooks/use-topics";
import { Dialog } from "../ui/dialog";
import { ErrorBox } from "../ui/status";
import { nodeId } from "./graph";
import { useCreateSimulatedGroup, useCreateSimulatedProducer } from "./use-simulations";

export type BuildForm =
  | { kind: "producer"; topic: string | null }
  | { kind: "group"; topic: string | null }
  | { kind: "topic" }
  | { kind: "partitions"; topic: string; current: number };

/** The first problem the schema finds with each top-level field. */
function problemsOf(r: z.ZodSafeParseResult<unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  if (r.success) return out;
  for (const i of r.error.issues) {
    const field = String(i.path[0] ?? "form");
    out[field] ??= i.message;
  }
  return out;
}

const num = (s: string) => (s.trim() === "" || Number.isNaN(Number(s)) ? NaN : Number(s));

function Field({ label, error, testId, children }: { label: string; error?: string | null; testId: string; children: ReactNode }) {
  return (
    <label className="field">
      {label}
      {children}
      <span className="field-error" data-testid={`${testId}-error`}>
        {error}
      </span>
    </label>
  );
}

/** A labelled text input checked as typed; its test id names the input and (with -error) its message. */
function InputField({
  label,
  error,
  testId,
  value,
  onChange,
  mode,
  size,
  autoFocus,
  placeholder,
  mono,
}: {
  label: string;
  error?: string | null;
  testId: string;
  value: string;
  onChange(v: string): void;
  mode?: "numeric" | "decimal";
  size?: number;
  autoFocus?: boolean;
  placeholder?: string;
  mono?: boolean;
}) {
  return (
    <Field label={label} error={error} testId={testId}>
      <input
        className={mono ? "mono" : undefined}
        data-testid={testId}
        inputMode={mode}
        size={size}
        autoFocus={autoFocus}
        placeholder={placeholder}
        value={value}
        aria-invalid={error ? true : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
    </Field>
  );
}

function Buttons({
  busy,
  valid,
  onCancel,
  label,
  testId,
}: {
  busy: boolean;
  valid: boolean;
  onCancel(): void;
  label: string;
  testId: string;
}) {
  return (
    <div className="row" style={{ justifyContent: "flex-end" }}>
      <button type="button" onClick={onCancel} data-testid={`${testId}-cancel`}>
        Cancel
      </button>
      <button type="submit" className="primary" disabled={busy || !valid} data-testid={`${testId}-submit`}>
        {busy ? "Working…" : label}
      </button>
    </div>
  );
}

function TopicSelect({
  topics,
  value,
  onChange,
  testId,
}: {
  topics: readonly string[];
  value: string;
  onChange(t: string): void;
  testId: string;
}) {
  return (
    <select data-testid={testId} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">choose a topic…</option>
      {topics.map((t) => (
        <option key={t} value={t}>
          {t}
        </option>
      ))}
    </select>
  );
}

const DEFAULT_TEMPLATE = '{\n  "seq": "{{seq}}",\n  "key": "{{key}}",\n  "at": "{{now}}"\n}';
const DEFAULT_CEL = '{"order": key, "amount": seq % 100}';

function ProducerForm({ topic, topics, onDone }: { topic: string | null; topics: readonly string[]; onDone(built?: string): void }) {
  const create = useCreateSimulatedProducer();
  const [t, setT] = useState(topic ?? "");
  const [rate, setRate] = useState("10");
  const [keys, setKeys] = useState<"uniform" | "hot" | "none">("uniform");
  const [count, setCount] = useState("100");
  const [hot, setHot] = useState("2");
  const [share, setShare] = useState("80");
  const [valueKind, setValueKind] = useState<"json" | "cel">("json");
  const [template, setTemplate] = useState(DEFAULT_TEMPLATE);
  const [cel, setCel] = useState(DEFAULT_CEL);

  let templateError: string | null = null;
  let parsedTemplate: unknown = undefined;
  if (valueKind === "json") {
    try {
      parsedTemplate = JSON.parse(template);
    } catch (e) {
      templateError = `not JSON: ${(e as Error).message}`;
    }
  }
  const req = {
    topic: t,
    ratePerSec: num(rate),
    keys:
      keys === "none"
        ? { type: "none" as const }
        : keys === "uniform"
          ? { type: "uniform" as const, count: num(count) }
          : { type: "hot" as const, count: num(count), hot: num(hot), hotShare: num(share) / 100 },
    value: valueKind === "json" ? { type: "json" as const, template: parsedTemplate } : { type: "cel" as const, expression: cel },
  };
  const problems = problemsOf(ZCreateSimulatedProducerRequest.safeParse(req));
  const valid = Object.keys(problems).length === 0 && !templateError;
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) create.mutate(req, { onSuccess: () => onDone(nodeId.topic(t)) });
      }}
    >
      <Field label="Topic" error={t ? problems.topic : "drop the producer onto a topic, or choose one"} testId="sim-producer-topic">
        <TopicSelect topics={topics} value={t} onChange={setT} testId="sim-producer-topic" />
      </Field>
      <InputField
        label={`Records per second (at most ${SIMULATION_LIMITS.ratePerSec})`}
        error={problems.ratePerSec}
        testId="sim-producer-rate"
        value={rate}
        onChange={setRate}
        mode="decimal"
      />
      <fieldset className="stack topo-fieldset">
        <legend className="small muted">Keys</legend>
        <div className="row" role="radiogroup" aria-label="key distribution">
          {(
            [
              ["uniform", "uniform over N keys"],
              ["hot", "a few hot keys"],
              ["none", "no key"],
            ] as const
          ).map(([k, label]) => (
            <label key={k} className="row small">
              <input type="radio" name="keys" data-testid={`sim-producer-keys-${k}`} checked={keys === k} onChange={() => setKeys(k)} />
              {label}
            </label>
          ))}
        </div>
        {keys !== "none" && (
          <div className="row">
            <InputField
              label="Keys (N)"
              error={problems.keys}
              testId="sim-producer-key-count"
              value={count}
              onChange={setCount}
              mode="numeric"
              size={8}
            />
            {keys === "hot" && (
              <>
                <InputField label="Hot keys" testId="sim-producer-hot" value={hot} onChange={setHot} mode="numeric" size={4} />
                <InputField
                  label="Share of records (%)"
                  testId="sim-producer-hot-share"
                  value={share}
                  onChange={setShare}
                  mode="decimal"
                  size={4}
                />
              </>
            )}
          </div>
        )}
      </fieldset>
      <fieldset className="stack topo-fieldset">
        <legend className="small muted">Value</legend>
        <div className="row" role="radiogroup" aria-label="value template kind">
          <label className="row small">
            <input
              type="radio"
              name="value"
              data-testid="sim-producer-value-json"
              checked={valueKind === "json"}
              onChange={() => setValueKind("json")}
            />
            JSON template ({"{{seq}}"}, {"{{key}}"}, {"{{now}}"}, {"{{random}}"})
          </label>
          <label className="row small">
            <input
              type="radio"
              name="value"
              data-testid="sim-producer-value-cel"
              checked={valueKind === "cel"}
              onChange={() => setValueKind("cel")}
            />
            CEL over seq, key, now, random
          </label>
        </div>
        {valueKind === "json" ? (
          <Field label="Template" error={templateError ?? problems.value} testId="sim-producer-template">
            <textarea data-testid="sim-producer-template" rows={5} value={template} onChange={(e) => setTemplate(e.target.value)} />
          </Field>
        ) : (
          <InputField label="Expression" error={problems.value} testId="sim-producer-cel" value={cel} onChange={setCel} mono />
        )}
      </fieldset>
      <ErrorBox error={create.error} testId="sim-producer-server-error" />
      <Buttons busy={create.isPending} valid={valid} onCancel={() => onDone()} label="Start producing" testId="sim-producer" />
    </form>
  );
}

function GroupForm({ topic, topics, onDone }: { topic: string | null; topics: readonly string[]; onDone(built?: string): void }) {
  const create = useCreateSimulatedGroup();
  const [chosen, setChosen] = useState<string[]>(topic ? [topic] : []);
  const [groupId, setGroupId] = useState(topic ? `${topic}-readers` : "readers");
  const [members, setMembers] = useState("3");
  const [processing, setProcessing] = useState("1");
  const [commitMode, setCommitMode] = useState<"auto" | "per-batch" | "none">("auto");
  const [reset, setReset] = useState<"earliest" | "latest">("earliest");
  const req = {
    groupId,
    topics: chosen,
    members: num(members),
    processingMsPerRecord: num(processing),
    commitMode,
    autoOffsetReset: reset,
  };
  const problems = problemsOf(ZCreateSimulatedGroupRequest.safeParse(req));
  const valid = Object.keys(problems).length === 0;
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) create.mutate(req, { onSuccess: (g) => onDone(nodeId.group(g.groupId)) });
      }}
    >
      <InputField label="Group id" error={problems.groupId} testId="sim-group-id" value={groupId} onChange={setGroupId} />
      <fieldset className="topo-fieldset">
        <legend className="small muted">Topics it reads</legend>
        <div className="topo-topic-checks">
          {topics.map((t) => (
            <label key={t} className="row small">
              <input
                type="checkbox"
                data-testid={`sim-group-topic-${t}`}
                checked={chosen.includes(t)}
                onChange={(e) => setChosen(e.target.checked ? [...chosen, t] : chosen.filter((x) => x !== t))}
              />
              {t}
            </label>
          ))}
        </div>
        <span className="field-error" data-testid="sim-group-topics-error">
          {problems.topics}
        </span>
      </fieldset>
      <div className="row">
        <InputField
          label={`Members (at most ${SIMULATION_LIMITS.membersPerGroup})`}
          error={problems.members}
          testId="sim-group-members"
          value={members}
          onChange={setMembers}
          mode="numeric"
          size={6}
        />
        <InputField
          label="Processing time per record (ms)"
          error={problems.processingMsPerRecord}
          testId="sim-group-processing"
          value={processing}
          onChange={setProcessing}
          mode="decimal"
          size={8}
        />
      </div>
      <div className="row">
        <Field label="Commit" testId="sim-group-commit">
          <select data-testid="sim-group-commit" value={commitMode} onChange={(e) => setCommitMode(e.target.value as typeof commitMode)}>
            <option value="auto">auto (every second)</option>
            <option value="per-batch">after each batch</option>
            <option value="none">never</option>
          </select>
        </Field>
        <Field label="Without a committed offset, start at" testId="sim-group-reset">
          <select data-testid="sim-group-reset" value={reset} onChange={(e) => setReset(e.target.value as typeof reset)}>
            <option value="earliest">earliest</option>
            <option value="latest">latest</option>
          </select>
        </Field>
      </div>
      <ErrorBox error={create.error} testId="sim-group-server-error" />
      <Buttons busy={create.isPending} valid={valid} onCancel={() => onDone()} label="Start the group" testId="sim-group" />
    </form>
  );
}

function TopicForm({ onDone }: { onDone(built?: string): void }) {
  const create = useCreateTopic();
  const [name, setName] = useState("");
  const [partitions, setPartitions] = useState("12");
  const nameCheck = ZTopicName.safeParse(name);
  const partCheck = ZPartitionCount.safeParse(num(partitions));
  const valid = nameCheck.success && partCheck.success;
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) create.mutate({ name, partitions: num(partitions) }, { onSuccess: () => onDone(nodeId.topic(name)) });
      }}
    >
      <InputField
        label="Name"
        error={name && !nameCheck.success ? nameCheck.error.issues[0].message : null}
        testId="topo-topic-name"
        value={name}
        onChange={setName}
        autoFocus
        placeholder="orders"
      />
      <InputField
        label="Partitions"
        error={partCheck.success ? null : (partCheck.error.issues[0]?.message ?? "a whole number")}
        testId="topo-topic-partitions"
        value={partitions}
        onChange={setPartitions}
        mode="numeric"
      />
      <ErrorBox error={create.error} testId="topo-topic-server-error" />
      <Buttons busy={create.isPending} valid={valid} onCancel={() => onDone()} label="Create topic" testId="topo-topic" />
    </form>
  );
}

function PartitionsForm({ topic, current, onDone }: { topic: string; current: number; onDone(built?: string): void }) {
  const add = useAddPartitions(topic);
  const [total, setTotal] = useState(String(current + 1));
  const check = ZPartitionCount.safeParse(num(total));
  const error = !check.success
    ? (check.error.issues[0]?.message ?? "a whole number")
    : num(total) <= current
      ? `more than ${current}`
      : null;
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!error) add.mutate(num(total), { onSuccess: () => onDone(nodeId.topic(topic)) });
      }}
    >
      <p className="small muted" style={{ margin: 0 }}>
        {topic} has {current} partitions. Partitions can only be added; keyed records may map to other partitions afterwards, and the groups
        reading it rebalance.
      </p>
      <InputField
        label="Partitions in all"
        error={error}
        testId="topo-partitions-total"
        value={total}
        onChange={setTotal}
        mode="numeric"
        autoFocus
      />
      <ErrorBox error={add.error} testId="topo-partitions-server-error" />
      <Buttons busy={add.isPending} valid={!error} onCancel={() => onDone()} label="Add partitions" testId="topo-partitions" />
    </form>
  );
}

const TITLES: Record<BuildForm["kind"], string> = {
  producer: "Simulated producer",
  group: "Simulated consumer group",
  topic: "New topic",
  partitions: "Add partitions",
};

export function BuildDialog({
  form,
  topics,
  onClose,
}: {
  form: BuildForm | null;
  topics: readonly string[];
  /** `built`: the canvas node of what was built, to bring into view */
  onClose(built?: string): void;
}) {
  return (
    <Dialog open={form !== null} onClose={() => onClose()} title={form ? TITLES[form.kind] : ""} testId="topology-build-dialog">
      {form?.kind === "producer" && <ProducerForm topic={form.topic} topics={topics} onDone={onClose} />}
      {form?.kind === "group" && <GroupForm topic={form.topic} topics={topics} onDone={onClose} />}
      {form?.kind === "topic" && <TopicForm onDone={onClose} />}
      {form?.kind === "partitions" && <PartitionsForm topic={form.topic} current={form.current} onDone={onClose} />}
    </Dialog>
  );
}
