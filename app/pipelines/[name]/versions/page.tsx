import { Suspense } from "react";
import { VersionHistory } from "@/components/pipelines/version-history";
import { Loading } from "@/components/ui/status";

export default async function Page({ params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return (
    <Suspense fallback={<Loading />}>
      <VersionHistory name={decodeURIComponent(name)} />
    </Suspense>
  );
}
