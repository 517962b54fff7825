import { Suspense } from "react";
import { TopicPage } from "@/components/topics/topic-page";
import { Loading } from "@/components/ui/status";

export default async function Page({ params }: { params: Promise<{ topic: string }> }) {
  const { topic } = await params;
  return (
    <Suspense fallback={<Loading />}>
      <TopicPage name={decodeURIComponent(topic)} />
    </Suspense>
  );
}
