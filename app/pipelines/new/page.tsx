import { Suspense } from "react";
import { NewPipelineEditor } from "@/components/pipeline-editor/pipeline-editor";
import { Loading } from "@/components/ui/status";

export default async function Page({ searchParams }: { searchParams: Promise<{ template?: string | string[] }> }) {
  const { template } = await searchParams;
  return (
    <Suspense fallback={<Loading height={480} />}>
      <NewPipelineEditor template={typeof template === "string" ? template : undefined} />
    </Suspense>
  );
}
