import { Suspense } from "react";
import { TopicsList } from "@/components/topics/topics-list";
import { Loading } from "@/components/ui/status";

export default function TopicsPage() {
  return (
    <Suspense fallback={<Loading />}>
      <TopicsList />
    </Suspense>
  );
}
