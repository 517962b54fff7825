import { GroupPage } from "@/components/groups/group-page";

export default async function Page({ params }: { params: Promise<{ group: string }> }) {
  const { group } = await params;
  return <GroupPage groupId={decodeURIComponent(group)} />;
}
