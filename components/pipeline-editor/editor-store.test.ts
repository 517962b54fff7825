import { describe, expect, it } from "vitest";
import { pipelineTemplate } from "../../server/schemas/pipeline-templates.ts";
import { docFrom, editorReducer, edgeId, initialState, type EditorAction, type EditorState } from "./editor-store.ts";

const run = (s: EditorState, ...actions: EditorAction[]) => actions.reduce(editorReducer, s);
const fraud = () => initialState(docFrom(structuredClone(pipelineTemplate("fraud-alert")!.definition), "fraud"));

describe("the editor store", () => {
  it("undo restores a deleted node with its edges; redo deletes it again", () => {
    const s0 = fraud();
    const deleted = run(s0, { type: "select", nodes: ["overTen"], edges: [] }, { type: "deleteSelection" });
    expect(deleted.doc.nodes.map((n) => n.id)).not.toContain("overTen");
    expect(deleted.doc.edges).toHaveLength(3);
    const undone = run(deleted, { type: "undo" });
    expect(undone.doc).toEqual(s0.doc);
    expect(run(undone, { type: "redo" }).doc).toEqual(deleted.doc);
  });

  it("refuses a connection that makes a cycle or feeds a taken input, with the reason", () => {
    const s0 = fraud();
    const cycle = run(s0, {
      type: "connect",
      edge: { from: { node: "alert", port: "out" }, to: { node: "byUser", port: "in" } },
      at: 1,
    });
    expect(cycle.doc).toBe(s0.doc);
    expect(cycle.notice?.text).toMatch(/^Connection refused: cycle: /);
    const withMerge = run(s0, { type: "add", kind: "merge", position: { x: 0, y: 0 } });
    const ok = run(withMerge, {
      type: "connect",
      edge: { from: { node: "alert", port: "out" }, to: { node: "merge1", port: "in" } },
      at: 2,
    });
    expect(ok.doc.edges).toHaveLength(6);
    const loop = run(ok, { type: "connect", edge: { from: { node: "merge1", port: "out" }, to: { node: "perHour", port: "in" } }, at: 3 });
    expect(loop.notice?.text).toMatch(/cycle: /);
  });

  it("one undo step per drag and per field typed; every edit undoable", () => {
    let s = fraud();
    s = run(s, { type: "dragStart" });
    for (let i = 0; i < 10; i++) s = run(s, { type: "move", moves: [{ id: "purchases", position: { x: i, y: i } }] });
    s = run(s, { type: "dragEnd" });
    expect(s.past).toHaveLength(1);
    const filter = s.doc.nodes.find((n) => n.id === "overTen")!;
    for (const [i, c] of ["v", "va", "val"].entries())
      s = run(s, { type: "updateConfig", id: "overTen", config: { kind: "filter", condition: c }, field: "condition", at: 1000 + i * 100 });
    expect(s.past).toHaveLength(2);
    s = run(s, { type: "undo" });
    expect(s.doc.nodes.find((n) => n.id === "overTen")).toEqual(filter);
    s = run(s, { type: "undo" });
    expect(s.doc.nodes[0].position).toEqual(fraud().doc.nodes[0].position);
  });

  it("copy and paste: new ids, the edges between copied nodes, selected", () => {
    const s = run(fraud(), { type: "select", nodes: ["overTen", "alert"], edges: [] }, { type: "copy" }, { type: "paste" });
    expect(s.selectedNodes).toEqual(["filter1", "map1"]);
    expect(s.doc.edges.map(edgeId)).toContain("filter1:out->map1:in");
    expect(s.doc.nodes).toHaveLength(8);
  });

  it("renaming a node rewrites its edges", () => {
    const s = run(fraud(), { type: "updateNode", id: "overTen", newId: "tooMany", at: 1 });
    expect(s.doc.edges.map(edgeId)).toEqual(expect.arrayContaining(["perHour:out->tooMany:in", "tooMany:out->alert:in"]));
  });
});
