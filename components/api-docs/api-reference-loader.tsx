"use client";
import dynamic from "next/dynamic";
import { Loading } from "@/components/ui/status";

/** Scalar touches the DOM as it loads: render it in the browser only, its code in a chunk of its own. */
export const ApiReferenceLoader = dynamic(() => import("./api-reference").then((m) => m.ApiReference), {
  ssr: false,
  loading: () => <Loading />,
});
