import { Suspense } from "react";
import { GroupsList } from "@/components/groups/groups-list";
import { Loading } from "@/components/ui/status";

export default function GroupsPage() {
  return (
    <Suspense fallback={<Loading />}>
      <GroupsList />
    </Suspense>
  );
}
