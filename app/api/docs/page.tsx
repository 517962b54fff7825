import { ApiReferenceLoader } from "@/components/api-docs/api-reference-loader";

export const metadata = { title: "API · Tributary" };

/** /api/docs: the interactive reference of the REST API (a page, though under /api; see server/http/request-guard.ts). */
export default function ApiDocs() {
  return <ApiReferenceLoader />;
}
