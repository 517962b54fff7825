import { Suspense } from "react";
import { TopologyPage } from "@/components/topology/topology-page";
import { Loading } from "@/components/ui/status";

export default function Page() {
  return (
    <Suspense fallback={<Loading height={480} />}>
      <TopologyPage />
    </Suspense>
  );
}
