/**
 * An error message as the server wrote it. A message of several lines (a CEL refusal shows the
 * source line with a `^` under the mistake) keeps its lines and spacing in a monospace font, so
 * the caret stays under the character it points at; one line is plain text.
 */
export function ErrorText({ text }: { text: string }) {
  const nl = text.indexOf("\n");
  if (nl < 0) return <>{text}</>;
  return (
    <>
      {text.slice(0, nl)}
      <pre className="error-source" data-testid="error-source">
        {text.slice(nl + 1).replace(/^\n+/, "")}
      </pre>
    </>
  );
}
