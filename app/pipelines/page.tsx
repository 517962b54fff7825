import { Suspense } from "react";
import { PipelinesList } from "@/components/pipelines/pipelines-list";
import { Loading } from "@/components/ui/status";

export default function PipelinesPage() {
  return (
    <Suspense fallback={<Loading />}>
      <PipelinesList />
    </Suspense>
  );
}
