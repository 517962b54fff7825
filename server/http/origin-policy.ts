/**
 * Which web origins and Host names may drive this server. A local console must not be driven
 * by a page the user happens to visit: a foreign page can open a WebSocket (browsers send no
 * preflight for it), post a JSON-less body, or, after a DNS rebinding, read the API under its
 * own name. So: the Host header must be a configured name or a loopback address (as Jupyter and
 * Vite do), and a browser-sent Origin must be the server's own origin or an allowed one.
 */
import { isIP } from "node:net";

export interface OriginPolicyConfig {
  /** Extra Host names served besides loopback (TRIBUTARY_ALLOWED_HOSTS; `*` serves every name). */
  allowedHosts: string[];
  /** Extra origins allowed to drive the server (TRIBUTARY_ALLOWED_ORIGINS, e.g. `https://console.example`). */
  allowedOrigins: string[];
}

/** `host[:port]` from a Host header or URL authority → lower-case host name without brackets. */
export function hostName(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith("[")) return a.slice(1, a.indexOf("]") > 0 ? a.indexOf("]") : undefined);
  const colon = a.lastIndexOf(":");
  // a bare IPv6 address has several colons and no port
  return colon > 0 && a.indexOf(":") === colon ? a.slice(0, colon) : a;
}

export function isLoopbackName(name: string): boolean {
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (isIP(name) === 4) return name.startsWith("127.");
  if (isIP(name) === 6) return name === "::1" || name === "0:0:0:0:0:0:0:1";
  return false;
}

export class OriginPolicy {
  private readonly hosts: Set<string>;
  private readonly anyHost: boolean;
  private readonly origins: Set<string>;

  constructor(config: OriginPolicyConfig) {
    this.hosts = new Set(config.allowedHosts.map((h) => hostName(h)));
    this.anyHost = this.hosts.has("*");
    this.origins = new Set(config.allowedOrigins.map((o) => o.trim().toLowerCase().replace(/\/+$/, "")));
  }

  /** Whether a request that names this Host (header value, or undefined) may be served. */
  allowsHost(host: string | undefined): boolean {
    if (!host) return false;
    if (this.anyHost) return true;
    const name = hostName(host);
    return isLoopbackName(name) || this.hosts.has(name);
  }

  /** Whether this Origin is one the operator allowed (TRIBUTARY_ALLOWED_ORIGINS). */
  isConfiguredOrigin(origin: string): boolean {
    return this.origins.has(origin.trim().toLowerCase());
  }

  /**
   * Whether a request carrying this Origin header may act. No Origin (curl, the TypeScript
   * client, same-origin GETs) is allowed; `null` (sandboxed frames, file pages) is not. An
   * Origin is the server's own when its authority equals the request's Host header.
   */
  allowsOrigin(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    const o = origin.trim().toLowerCase();
    if (this.origins.has(o)) return true;
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      return false;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return false;
    return host !== undefined && url.host === host.trim().toLowerCase() && this.allowsHost(host);
  }
}

/** Comma-separated list from an environment value. */
export function listFromEnv(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
