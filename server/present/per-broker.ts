/**
 * One object per broker, kept on the broker itself under a global symbol: Next bundles route
 * handlers with their own copy of this module, and both copies must find the object the server
 * created at start-up (a module-level map would be a second, empty one).
 */
import type { Broker } from "../broker/broker.ts";

export function perBroker<T>(broker: Broker, name: string, create: () => T): T {
  const key = Symbol.for(`tributary.${name}`);
  const holder = broker as unknown as Record<symbol, T | undefined>;
  return (holder[key] ??= create());
}
