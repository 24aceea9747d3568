/** Energy of Grid'5000 nodes: Kwollect as an energy source, built from a set-up experiment's g5k state. */
import type { EnergyHost, EnergyQuery, EnergySource, HostEnergy } from '../../metrics/energy/source.js';
import { noData } from '../../metrics/energy/source.js';
import type { PlatformHandle } from '../platform.js';
import { G5kApi } from './api.js';
import { insideGrid5000, loadCredentials } from './credentials.js';
import { kwollectEnergy } from './kwollect.js';
import type { KwollectOptions } from './kwollect.js';
import type { G5kPlatformConfig } from './schema.js';

/** The node fqdn of an energy host: attributes.g5k_fqdn (the inventory var), else a grid5000.fr name or address. */
export function fqdnOfEnergyHost(h: EnergyHost): string | undefined {
  const a = h.attributes?.g5k_fqdn ?? h.attributes?.fqdn;
  if (a) return a;
  if (/\.grid5000\.fr$/.test(h.address)) return h.address;
  if (/\.grid5000\.fr$/.test(h.name)) return h.name;
  return undefined;
}

/**
 * Kwollect as an energy source (priority 20): wattmetre_power_watt where the cluster has wattmetres,
 * bmc_node_power_watt elsewhere, integrated by the trapezoid rule over the run window.
 */
export class KwollectSource implements EnergySource {
  readonly name = 'kwollect';
  readonly priority = 20;
  readonly #api: G5kApi | (() => G5kApi);
  constructor(
    api: G5kApi | (() => G5kApi),
    private readonly opts: KwollectOptions = {},
  ) {
    this.#api = api;
  }

  /** The client, built on first use (so missing credentials fail this source only, not the account). */
  get api(): G5kApi {
    return typeof this.#api === 'function' ? this.#api() : this.#api;
  }

  async measure(q: EnergyQuery): Promise<HostEnergy[]> {
    const known = q.hosts.map((h) => ({ h, fqdn: fqdnOfEnergyHost(h) }));
    const asked = known.filter((k): k is { h: EnergyHost; fqdn: string } => k.fqdn !== undefined);
    let got: Awaited<ReturnType<typeof kwollectEnergy>> = [];
    if (asked.length) {
      try {
        got = await kwollectEnergy(
          this.api,
          asked.map((k) => ({ host: k.h.name, fqdn: k.fqdn })),
          q.window.start,
          q.window.end,
          this.opts,
        );
      } catch (e) {
        throw new Error(`kwollect: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    return known.map(({ h, fqdn }) => {
      if (!fqdn) return noData(h.name, 'kwollect', 'not a Grid\'5000 node (no g5k_fqdn attribute)');
      const r = got.find((x) => x.host === h.name);
      if (!r || r.samples === 0) return noData(h.name, r?.source ?? 'kwollect', `Kwollect has no power samples for ${fqdn} in the window`);
      const out: HostEnergy = {
        host: h.name,
        joules: r.joules,
        source: r.source,
        coverage: { samples: r.samples, gaps: r.gaps, coveredSeconds: r.coveredSeconds, fraction: r.coverage },
        meanWatts: r.meanWatts,
        kind: 'measured',
      };
      if (r.coverage < 0.95) out.note = `samples cover ${(r.coverage * 100).toFixed(0)} % of the window`;
      return out;
    });
  }
}

/**
 * The Kwollect source of a set-up g5k experiment: the API URL and timeout its platform state
 * recorded (`.greenrace/<exp>/g5k.json`, also the handle's data), credentials as for setup (built on
 * first use, never logged), the power metric from `platform.g5k.energy_metric`.
 */
export function kwollectSourceFor(data: Record<string, unknown> | undefined, section?: G5kPlatformConfig): KwollectSource {
  const apiUrl = typeof data?.apiUrl === 'string' ? data.apiUrl : section?.api_url;
  const timeout = typeof data?.apiTimeout === 'number' ? data.apiTimeout : (section?.api_timeout ?? 30);
  const metric = section?.energy_metric ?? 'auto';
  let api: G5kApi | undefined;
  return new KwollectSource(
    () => {
      if (!api) {
        const credentials = loadCredentials({ inside: insideGrid5000() });
        api = new G5kApi({ ...(apiUrl ? { baseUrl: apiUrl } : {}), timeoutMs: timeout * 1000, ...(credentials ? { credentials } : {}) });
      }
      return api;
    },
    { metric },
  );
}

/** The g5k platform's energy sources: Kwollect (wattmetres or BMC readings of each node). */
export async function energySources(handle: PlatformHandle, section: G5kPlatformConfig | undefined): Promise<Record<string, EnergySource>> {
  return { kwollect: kwollectSourceFor(handle.data, section) };
}
