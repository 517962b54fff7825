"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { TOPIC_CONFIG_ENUMS, ZPartitionCount, ZTopicConfigText, ZTopicName } from "@/server/schemas/topic";
import { useCreateTopic } from "../hooks/use-topics";
import { Dialog } from "../ui/dialog";
import { ErrorBox } from "../ui/status";

export const CONFIG_NAMES = [
  "retention.ms",
  "retention.bytes",
  "cleanup.policy",
  "delete.retention.ms",
  "max.message.bytes",
  "message.timestamp.type",
  "min.compaction.lag.ms",
] as const;
export const ENUM_CONFIGS: Readonly<Record<string, readonly string[]>> = TOPIC_CONFIG_ENUMS;

/**
 * Inline check of one config value with the shared schemas (the broker's names, integers and
 * ranges); null when it is fine. The server still has the last word.
 */
export function configHint(name: string, value: string): string | null {
  const n = name.trim();
  if (!n) return value.trim() ? "config name is required" : null;
  const schema = ZTopicConfigText[n];
  if (!schema) return `unknown config '${n}'; supported: ${CONFIG_NAMES.join(", ")}`;
  if (value.trim() === "") return "value is required";
  const r = schema.safeParse(value);
  return r.success ? null : (r.error.issues[0]?.message ?? "invalid value");
}

/** The value to send for a config that passed `configHint` (a number for integer configs). */
export function configValue(name: string, value: string): string | number {
  return ZTopicConfigText[name.trim()].parse(value);
}

interface ConfigRow {
  id: number;
  name: string;
  value: string;
}

export function CreateTopicDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const router = useRouter();
  const create = useCreateTopic();
  const [name, setName] = useState("");
  const [partitions, setPartitions] = useState("3");
  const [configs, setConfigs] = useState<ConfigRow[]>([]);
  const [touched, setTouched] = useState(false);

  const nameCheck = ZTopicName.safeParse(name);
  const nameError = name === "" && !touched ? null : nameCheck.success ? null : nameCheck.error.issues[0].message;
  const partCheck = ZPartitionCount.safeParse(/^\d+$/.test(partitions.trim()) ? Number(partitions) : NaN);
  const partError = partCheck.success
    ? null
    : /^\d+$/.test(partitions.trim())
      ? partCheck.error.issues[0].message
      : "partitions must be a whole number";
  const configErrors = configs.map((c) => configHint(c.name, c.value));
  const valid = nameCheck.success && partCheck.success && configErrors.every((e) => e === null);

  // the server's answer was about what was sent: an edit makes it stale ("topic 'orders' already exists")
  const edited =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      if (create.error) create.reset();
      set(v);
    };
  const setNameEdited = edited(setName);
  const setPartitionsEdited = edited(setPartitions);
  const setConfigsEdited = edited(setConfigs);

  const close = () => {
    create.reset();
    setName("");
    setPartitions("3");
    setConfigs([]);
    setTouched(false);
    onClose();
  };

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!valid) return;
    const cfg: Record<string, string | number> = {};
    for (const c of configs) {
      const n = c.name.trim();
      if (n) cfg[n] = configValue(n, c.value);
    }
    create.mutate(
      { name, partitions: Number(partitions), configs: Object.keys(cfg).length ? cfg : undefined },
      {
        onSuccess: (t) => {
          close();
          router.push(`/topics/${encodeURIComponent(t.name)}`);
        },
      },
    );
  };

  return (
    <Dialog open={open} onClose={close} title="Create topic" testId="create-topic-dialog">
      <form onSubmit={submit} className="stack" noValidate>
        <label className="field">
          Name
          <input
            autoFocus
            data-testid="create-topic-name"
            value={name}
            onChange={(e) => setNameEdited(e.target.value)}
            onBlur={() => setTouched(true)}
            aria-invalid={nameError ? true : undefined}
            aria-describedby="create-topic-name-error"
            placeholder="orders"
          />
          <span className="field-error" id="create-topic-name-error" data-testid="create-topic-name-error">
            {nameError}
          </span>
        </label>
        <label className="field">
          Partitions
          <input
            data-testid="create-topic-partitions"
            inputMode="numeric"
            value={partitions}
            onChange={(e) => setPartitionsEdited(e.target.value)}
            aria-invalid={partError ? true : undefined}
            aria-describedby="create-topic-partitions-error"
          />
          <span className="field-error" id="create-topic-partitions-error" data-testid="create-topic-partitions-error">
            {partError}
          </span>
        </label>
        <fieldset className="stack" style={{ border: "1px solid var(--line)", borderRadius: 6 }}>
          <legend className="small muted">Configs (optional)</legend>
          <datalist id="topic-config-names">
            {CONFIG_NAMES.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
          {configs.map((c, i) => (
            <div key={c.id}>
              <div className="row">
                <input
                  list="topic-config-names"
                  placeholder="retention.ms"
                  aria-label="config name"
                  data-testid={`create-topic-config-name-${i}`}
                  value={c.name}
                  onChange={(e) => setConfigsEdited(configs.map((x) => (x.id === c.id ? { ...x, name: e.target.value } : x)))}
                />
                <input
                  placeholder="value"
                  aria-label="config value"
                  data-testid={`create-topic-config-value-${i}`}
                  value={c.value}
                  aria-invalid={configErrors[i] ? true : undefined}
                  onChange={(e) => setConfigsEdited(configs.map((x) => (x.id === c.id ? { ...x, value: e.target.value } : x)))}
                />
                <button type="button" aria-label="remove config" onClick={() => setConfigsEdited(configs.filter((x) => x.id !== c.id))}>
                  ✕
                </button>
              </div>
              <div className="field-error" data-testid={`create-topic-config-error-${i}`}>
                {configErrors[i]}
              </div>
            </div>
          ))}
          <div>
            <button
              type="button"
              data-testid="create-topic-add-config"
              onClick={() => setConfigs([...configs, { id: Date.now() + Math.random(), name: "", value: "" }])}
            >
              Add config
            </button>
          </div>
        </fieldset>
        <ErrorBox error={create.error} testId="create-topic-error" />
        <div className="row" style={{ justifyContent: "flex-end" }}>
          <button type="button" onClick={close} data-testid="create-topic-cancel">
            Cancel
          </button>
          <button type="submit" className="primary" disabled={create.isPending || !valid} data-testid="create-topic-submit">
            {create.isPending ? "Creating…" : "Create"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
