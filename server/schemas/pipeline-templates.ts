/**
 * Pipeline templates: starting points the console offers (the list's "start from a template"
 * and `/pipelines/new?template=<id>`). Pure data — each a valid PipelineDefinition input, with
 * positions so the editor opens them laid out; the pipeline name is the template's id (the user
 * renames it before saving).
 */
import type { TPipelineDefinitionInput, TPipelineEdge } from "./pipeline.ts";

export interface PipelineTemplate {
  id: string;
  title: string;
  description: string;
  definition: TPipelineDefinitionInput;
}

const HOUR = 3_600_000;
const MIN = 60_000;

const edge = (from: string, to: string, fromPort = "out", toPort = "in"): TPipelineEdge => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});

/** x of the n-th column of a left-to-right layout, and the height of a row */
const col = (n: number) => n * 240;
const ROW = 140;

export const PIPELINE_TEMPLATES: readonly PipelineTemplate[] = [
  {
    id: "fraud-alert",
    title: "Fraud alert",
    description: "Counts each user's purchases per hour and sends an alert to fraud-alerts when a user makes more than 10.",
    definition: {
      name: "fraud-alert",
      description: "Alert when a user makes more than 10 purchases in an hour",
      nodes: [
        {
          id: "purchases",
          position: { x: col(0), y: 0 },
          config: { kind: "source", topics: ["purchases"], start: "earliest", eventTime: "timestamp(value.at)", outOfOrdernessMs: 5 * MIN },
        },
        { id: "byUser", label: "key by user", position: { x: col(1), y: 0 }, config: { kind: "selectKey", key: "value.user" } },
        {
          id: "perHour",
          label: "count per user per hour",
          position: { x: col(2), y: 0 },
          config: {
            kind: "aggregate",
            window: { type: "tumbling", sizeMs: HOUR, graceMs: MIN },
            aggregations: [{ fn: "count", as: "count" }],
            emit: "final",
          },
        },
        {
          id: "overTen",
          label: "more than 10",
          position: { x: col(0), y: ROW },
          config: { kind: "filter", condition: "value.count > 10" },
        },
        {
          id: "alert",
          label: "to an alert",
          position: { x: col(1), y: ROW },
          config: {
            kind: "map",
            value:
              '{"user": key, "purchases": value.count, "windowStart": value.window.start, "reason": "more than 10 purchases in an hour"}',
          },
        },
        {
          id: "fraudAlerts",
          position: { x: col(2), y: ROW },
          config: { kind: "sink", topic: "fraud-alerts", createTopic: { partitions: 1 } },
        },
      ],
      edges: [
        edge("purchases", "byUser"),
        edge("byUser", "perHour"),
        edge("perHour", "overTen"),
        edge("overTen", "alert"),
        edge("alert", "fraudAlerts"),
      ],
      settings: { commitIntervalMs: 100 },
    },
  },
  {
    id: "filter-map",
    title: "Filter → map",
    description: "Keeps the records that match a condition and reshapes them into another topic.",
    definition: {
      name: "filter-map",
      nodes: [
        { id: "orders", position: { x: col(0), y: 0 }, config: { kind: "source", topics: ["orders"], start: "earliest" } },
        {
          id: "large",
          label: "large orders",
          position: { x: col(1), y: 0 },
          config: { kind: "filter", condition: "value.amount > 100.0" },
        },
        {
          id: "summary",
          position: { x: col(2), y: 0 },
          config: { kind: "map", value: '{"order": value.id, "amount": value.amount}' },
        },
        {
          id: "largeOrders",
          position: { x: col(3), y: 0 },
          config: { kind: "sink", topic: "large-orders", createTopic: { partitions: 1 } },
        },
      ],
      edges: [edge("orders", "large"), edge("large", "summary"), edge("summary", "largeOrders")],
      settings: { commitIntervalMs: 100 },
    },
  },
  {
    id: "windowed-count",
    title: "Windowed count",
    description: "Counts the records of each key per minute and emits each window's total once it closes.",
    definition: {
      name: "windowed-count",
      nodes: [
        { id: "clicks", position: { x: col(0), y: 0 }, config: { kind: "source", topics: ["clicks"], start: "earliest" } },
        {
          id: "perMinute",
          label: "count per minute",
          position: { x: col(1), y: 0 },
          config: {
            kind: "aggregate",
            window: { type: "tumbling", sizeMs: MIN, graceMs: 0 },
            aggregations: [{ fn: "count", as: "count" }],
            emit: "final",
          },
        },
        {
          id: "clicksPerMinute",
          position: { x: col(2), y: 0 },
          config: { kind: "sink", topic: "clicks-per-minute", createTopic: { partitions: 1 } },
        },
      ],
      edges: [edge("clicks", "perMinute"), edge("perMinute", "clicksPerMinute")],
      settings: { commitIntervalMs: 100 },
    },
  },
  {
    id: "enrichment-join",
    title: "Enrichment join",
    description: "Joins each order with the latest record of its customer from a table topic.",
    definition: {
      name: "enrichment-join",
      nodes: [
        { id: "orders", position: { x: col(0), y: 0 }, config: { kind: "source", topics: ["orders"], start: "earliest" } },
        {
          id: "byCustomer",
          label: "key by customer",
          position: { x: col(1), y: 0 },
          config: { kind: "selectKey", key: "value.customer" },
        },
        { id: "customers", position: { x: col(1), y: 160 }, config: { kind: "table", topic: "customers" } },
        {
          id: "enrich",
          position: { x: col(2), y: 60 },
          config: { kind: "join", type: "left", value: '{"order": left, "customer": right}' },
        },
        {
          id: "enrichedOrders",
          position: { x: col(3), y: 60 },
          config: { kind: "sink", topic: "orders-enriched", createTopic: { partitions: 1 } },
        },
      ],
      edges: [
        edge("orders", "byCustomer"),
        edge("byCustomer", "enrich", "out", "left"),
        edge("customers", "enrich", "out", "right"),
        edge("enrich", "enrichedOrders"),
      ],
      settings: { commitIntervalMs: 100 },
    },
  },
];

export type PipelineTemplateId = (typeof PIPELINE_TEMPLATES)[number]["id"];

export function pipelineTemplate(id: string): PipelineTemplate | undefined {
  return PIPELINE_TEMPLATES.find((t) => t.id === id);
}
