/** The keys of a simulated producer's records: none, uniform over N keys, or a few hot keys taking most records. */
import type { TKeyDistribution } from "../schemas/topology.ts";

export type KeyChooser = (random: () => number) => string | null;

export function keyChooser(keys: TKeyDistribution): KeyChooser {
  switch (keys.type) {
    case "none":
      return () => null;
    case "uniform":
      return (random) => `key-${Math.floor(random() * keys.count)}`;
    case "hot":
      return (random) => (random() < keys.hotShare ? `key-${Math.floor(random() * keys.hot)}` : `key-${Math.floor(random() * keys.count)}`);
  }
}
