"use client";
import { useState } from "react";
import { useDeleteTopic } from "../hooks/use-topics";
import { Dialog } from "../ui/dialog";
import { ErrorBox } from "../ui/status";

/** Deleting needs the topic's name typed out: it removes every record. */
export function DeleteTopicDialog({
  topic,
  open,
  onClose,
  onDeleted,
}: {
  topic: string;
  open: boolean;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const del = useDeleteTopic();
  const [typed, setTyped] = useState("");
  const close = () => {
    setTyped("");
    del.reset();
    onClose();
  };
  return (
    <Dialog open={open} onClose={close} title={`Delete topic ${topic}`} testId="delete-topic-dialog">
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          if (typed !== topic) return;
          del.mutate(topic, {
            onSuccess: () => {
              setTyped("");
              onDeleted();
            },
          });
        }}
      >
        <p>
          This deletes <strong>{topic}</strong> and all of its records. It cannot be undone. Type the topic name to confirm.
        </p>
        <input
          autoFocus
          aria-label="type the topic name to confirm"
          data-testid="delete-topic-confirm"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          placeholder={topic}
        />
        <ErrorBox error={del.error} testId="delete-topic-error" />
        <div className="row" style={{ justifyContent: "flex-end" }}>
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={typed !== topic || del.isPending} data-testid="delete-topic-submit">
            {del.isPending ? "Deleting…" : "Delete topic"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
