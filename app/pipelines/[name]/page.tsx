import { Suspense } from "react";
import { PipelineEditor } from "@/components/pipeline-editor/pipeline-editor";
import { Loading } from "@/components/ui/status";

export default async function Page({ params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return (
    <Suspense fallback={<Loading height={480} />}>
      <PipelineEditor name={decodeURIComponent(name)} />
    </Suspense>
  );
}
