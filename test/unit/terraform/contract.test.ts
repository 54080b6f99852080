/**
 * Terraform deploys exactly what the code is: one function per folder of functions/, entry point
 * = folder name, triggered the way the contract says, with the environment the code's config
 * specs read. The contract is `local.function_contract` in the module.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOG_LEVELS } from '../../../shared/log.ts';
import { parseDurationMs, hostPort, uuid, type ConfigSpec } from '../../../shared/config.ts';
import { clusterSpec, remediationSpec } from '../../../shared/kube/config.ts';
import { DEFAULT_POLICY, REMEDIATION_MODES } from '../../../shared/kube/policy.ts';
import { birthProbeSpec, observeSpec } from '../../../shared/observe/config.ts';
import { runtimeSpec } from '../../../shared/runtime.ts';
import { PUSH_FILTERS } from '../../../dev/pubsub/provision.ts';
import { findingAttributes } from '../../../shared/findings/codec.ts';
import { sampleThrottle } from '../../support/findings.ts';
import { loadModule, only, type Body, type TfModule } from '../../support/terraform/hcl.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const moduleDir = path.join(root, 'terraform', 'modules', 'kernel-gossip');

interface ContractEntry {
  entry_point: string;
  trigger: 'scheduler' | 'findings-push' | 'none';
  env: string[];
  secret_env: string[];
}

/** The functions kernel-gossip ships (design.md, docs/deployment.md). */
const FUNCTIONS = ['health', 'observe-births', 'observe-throttle', 'record', 'remediate'];

/** Variables Cloud Run sets itself; Terraform must not (and cannot) set them. */
const PLATFORM_SET = new Set(['K_SERVICE', 'K_REVISION', 'K_CONFIGURATION', 'PORT', 'FUNCTION_TARGET', 'FUNCTION_SIGNATURE_TYPE']);

/** Variables the code reads that Terraform leaves unset on purpose (each must be optional or defaulted). */
const NOT_SET_BY_TERRAFORM = new Map([
  ['KUBECONFIG', 'local development against a kubeconfig file, never in Cloud Run'],
  ['GKE_USE_PRIVATE_ENDPOINT', 'the private IP endpoint needs VPC egress, which this module does not configure; use cluster.dns_endpoint'],
  ['PIXIE_CA_FILE', 'Pixie Cloud presents a publicly trusted certificate; a CA file is for a local Vizier'],
  ['PIXIE_INSECURE', 'plaintext is for a local Vizier only'],
  ['PIXIE_ENCRYPTION', 'end-to-end encryption stays on (the default) in production'],
  ['PIXIE_SCRIPT_TIMEOUT', 'the default fits inside the function timeout; requests also carry the function deadline'],
  ['PIXIE_API_CLIENT', 'the client name sent to Pixie keeps its default'],
  ['OBSERVE_MAX_ROWS', 'Pixie\'s default row cap (10,000 per table) unless a very large cluster needs more'],
  ['KG_KERNEL_SOURCE', 'production reads Pixie, the default; local and replay are for the local stack'],
]);

/**
 * The config spec each function's entry parses, by function name. A function whose folder exists
 * must be listed here so that its environment is checked against what its code reads.
 */
const SPECS: Record<string, ConfigSpec> = {
  health: runtimeSpec,
  remediate: { ...runtimeSpec, ...remediationSpec },
  record: { ...runtimeSpec, ...clusterSpec },
  'observe-throttle': observeSpec,
  'observe-births': { ...observeSpec, ...birthProbeSpec },
};

const functionFolders = async (): Promise<string[]> => {
  const entries = await readdir(path.join(root, 'functions'), { withFileTypes: true });
  const names: string[] = [];
  for (const e of entries.filter((x) => x.isDirectory())) {
    if (await stat(path.join(root, 'functions', e.name, 'index.ts')).then(() => true, () => false)) {
      names.push(e.name);
    }
  }
  return names.sort();
};

/** The default of `attribute = optional(type, default)` in an object variable's type. */
const defaultOf = (mod: TfModule, variable: string, attribute: string): string => {
  const raw = mod.variables.get(variable)?.body['type'];
  const type = typeof raw === 'string' ? raw : '';
  const match = new RegExp(`\\b${attribute}\\s*=\\s*optional\\([a-z]+,\\s*("[^"]*"|[0-9.]+)\\)`).exec(type);
  if (!match?.[1]) {
    throw new Error(`no default for ${variable}.${attribute}`);
  }
  return match[1].replaceAll('"', '');
};

describe('function contract (local.function_contract)', () => {
  let mod: TfModule;
  let contract: Record<string, ContractEntry>;
  let envValues: Record<string, unknown>;

  beforeAll(async () => {
    mod = await loadModule(moduleDir);
    contract = mod.locals.get('function_contract')?.body['value'] as Record<string, ContractEntry>;
    envValues = mod.locals.get('env_values')?.body['value'] as Record<string, unknown>;
  });

  it('lists the five functions, each with its folder name as entry point', () => {
    expect(Object.keys(contract).sort()).toEqual(FUNCTIONS);
    expect(Object.entries(contract).filter(([name, entry]) => entry.entry_point !== name)).toEqual([]);
    expect(Object.values(contract).filter((entry) => !['scheduler', 'findings-push', 'none'].includes(entry.trigger))).toEqual([]);
  });

  it('deploys every function folder, and each folder registers its function under the folder name', async () => {
    const folders = await functionFolders();
    expect(folders.length).toBeGreaterThan(0);
    expect(folders.filter((name) => !(name in contract)).map((name) => `functions/${name} is not deployed by Terraform`)).toEqual([]);
    const unregistered: string[] = [];
    for (const name of folders) {
      const source = await readFile(path.join(root, 'functions', name, 'index.ts'), 'utf8');
      if (!new RegExp(`ff\\.(http|cloudEvent)\\(\\s*'${name}'`).test(source)) {
        unregistered.push(`functions/${name}/index.ts does not register '${name}'`);
      }
    }
    expect(unregistered).toEqual([]);
  });

  it('gives every function folder a config spec to check its environment against', async () => {
    const withoutSpec = (await functionFolders()).filter((name) => !(name in SPECS));
    expect(withoutSpec.map((name) => `add the config spec of functions/${name} to SPECS`)).toEqual([]);
  });

  it('sets exactly the variables each function reads, secrets as secret env vars', async () => {
    const set: Record<string, { env: string[]; secret: string[] }> = {};
    const read: Record<string, { env: string[]; secret: string[] }> = {};
    for (const name of await functionFolders()) {
      const spec = SPECS[name] ?? {};
      const entry = contract[name];
      set[name] = { env: [...(entry?.env ?? []), ...(entry?.secret_env ?? [])].sort(), secret: [...(entry?.secret_env ?? [])].sort() };
      read[name] = {
        env: Object.keys(spec).filter((key) => !PLATFORM_SET.has(key) && !NOT_SET_BY_TERRAFORM.has(key)).sort(),
        secret: Object.entries(spec).filter(([, field]) => field.secret).map(([key]) => key).sort(),
      };
    }
    expect(Object.keys(read).length).toBeGreaterThan(0);
    expect(set).toEqual(read);
  });

  it('leaves unset only variables the code can do without', () => {
    const required = Object.values(SPECS).flatMap((spec) =>
      Object.entries(spec).filter(([key, field]) => NOT_SET_BY_TERRAFORM.has(key) && !field.optional && field.fallback === undefined).map(([key]) => key),
    );
    expect(required).toEqual([]);
  });

  it('has a value for every variable of the contract, and no value nothing reads', () => {
    const declared = new Set(Object.values(contract).flatMap((e) => e.env));
    // FUNCTION_TIMEOUT_SECONDS and OBSERVE_SCHEDULE differ per function: local.function_env_values adds them.
    expect(String(mod.locals.get('function_env_values')?.body['value'])).toMatch(/FUNCTION_TIMEOUT_SECONDS = tostring\(local\.function_sizing\[name\]\.timeout\)/);
    expect(String(mod.locals.get('function_env_values')?.body['value'])).toMatch(/OBSERVE_SCHEDULE += lookup\(local\.schedule_of, name, null\)/);
    expect([...Object.keys(envValues), 'FUNCTION_TIMEOUT_SECONDS', 'OBSERVE_SCHEDULE'].sort()).toEqual([...declared].sort());
    expect([...declared].filter((key) => PLATFORM_SET.has(key))).toEqual([]);
  });

  it('sets every variable in the runtime environment, never as a build-time variable', () => {
    const fn = mod.resources.get('google_cloudfunctions2_function.function')?.body;
    expect(fn?.['for_each']).toBe('${local.function_contract}');
    const build = only(fn?.['build_config'], 'build_config');
    expect(build).toMatchObject({ runtime: 'nodejs22', entry_point: '${each.value.entry_point}' });
    expect(build).not.toHaveProperty('environment_variables');
    const service = only(fn?.['service_config'], 'service_config');
    expect(String(service['environment_variables'])).toMatch(/for key in each\.value\.env : key => local\.function_env_values\[each\.key\]\[key\]/);
    expect(service['ingress_settings']).toBe('ALLOW_INTERNAL_ONLY');
    const dynamic = service['dynamic'] as Body;
    const secretEnv = only(dynamic['secret_environment_variables'], 'secret_environment_variables');
    expect(secretEnv['for_each']).toBe('${toset(each.value.secret_env)}');
    expect(only(secretEnv['content'], 'content')).toMatchObject({ version: '${google_secret_manager_secret_version.pixie_api_key.version}' });
  });

  it('schedules exactly the scheduler-triggered functions and pushes findings to the push-triggered ones', () => {
    expect(mod.locals.get('scheduled_functions')?.body['value']).toMatch(/f\.trigger == "scheduler"/);
    expect(mod.locals.get('pushed_functions')?.body['value']).toMatch(/f\.trigger == "findings-push"/);
    expect(mod.resources.get('google_cloud_scheduler_job.observe')?.body['for_each']).toBe('${local.scheduled_functions}');
    expect(mod.resources.get('google_pubsub_subscription.push')?.body['for_each']).toBe('${local.pushed_functions}');
    const scheduled = Object.entries(contract).filter(([, e]) => e.trigger === 'scheduler').map(([n]) => n).sort();
    expect(scheduled).toEqual(['observe-births', 'observe-throttle']);
    const schedules = mod.locals.get('schedule_of')?.body['value'] as Record<string, unknown>;
    expect(Object.keys(schedules).sort()).toEqual(scheduled);
    const pushed = Object.entries(contract).filter(([, e]) => e.trigger === 'findings-push').map(([n]) => n).sort();
    expect(pushed).toEqual(['record', 'remediate']);
  });

  it('filters each push subscription on the kind attribute as the local stack does, remediate to the kind it acts on', () => {
    expect(mod.resources.get('google_pubsub_subscription.push')?.body['filter']).toBe('${local.function_contract[each.key].push_filter}');
    const filters = Object.fromEntries(
      Object.entries(contract)
        .filter(([, e]) => e.trigger === 'findings-push')
        .map(([name, e]) => [name, (e as unknown as { push_filter: string }).push_filter || undefined]),
    );
    expect(filters).toEqual(PUSH_FILTERS);
    // The attribute the filter reads is the one every published finding carries.
    expect(findingAttributes(sampleThrottle())['kind']).toBe('cpu.throttle');
  });

  it('sizes every function, with Scheduler deadlines and push ack deadlines following the timeouts', () => {
    const sizing = mod.locals.get('function_sizing')?.body['value'] as Record<string, { timeout: number; concurrency: number; cpu: string }>;
    expect(Object.keys(sizing).sort()).toEqual(FUNCTIONS);
    // Concurrency above 1 needs at least one whole CPU on Cloud Run.
    expect(Object.entries(sizing).filter(([, s]) => s.concurrency > 1 && Number(s.cpu) < 1)).toEqual([]);
    // A push subscription's ack deadline (= the timeout) is at most 600 s; HTTP functions at most 3600 s.
    expect(Object.entries(sizing).filter(([name, s]) => s.timeout > (contract[name]?.trigger === 'findings-push' ? 600 : 3600))).toEqual([]);
    const job = mod.resources.get('google_cloud_scheduler_job.observe')?.body;
    expect(job?.['attempt_deadline']).toBe('${local.function_sizing[each.key].timeout + 30}s');
    const sub = mod.resources.get('google_pubsub_subscription.push')?.body;
    expect(sub?.['ack_deadline_seconds']).toBe('${local.function_sizing[each.key].timeout}');
  });

  it('caps V8\'s old space well inside the memory of the functions it sizes at 256 MiB, through NODE_OPTIONS at run time', () => {
    const sizing = mod.locals.get('function_sizing')?.body['value'] as Record<string, { memory: string; node_options: string | null }>;
    const mib = (memory: string): number => Number(/^(\d+)Mi$/.exec(memory)?.[1] ?? Number.NaN);
    const heapMib = (options: string | null): number | undefined => {
      const match = /--max-old-space-size=(\d+)/.exec(options ?? '');
      return match?.[1] === undefined ? undefined : Number(match[1]);
    };
    // The observe functions run at 256 MiB only because their heap is bounded (docs/benchmarks.md, observe cycle).
    expect(Object.fromEntries(['observe-throttle', 'observe-births'].map((name) => [name, [sizing[name]?.memory, heapMib(sizing[name]?.node_options ?? null)]]))).toEqual({
      'observe-throttle': ['256Mi', 128],
      'observe-births': ['256Mi', 128],
    });
    // Any heap cap leaves at least half of the memory to code, buffers and the rest of the process.
    const tooLarge = Object.entries(sizing).filter(([, s]) => (heapMib(s.node_options) ?? 0) > mib(s.memory) / 2);
    expect(tooLarge.map(([name]) => name)).toEqual([]);
    const fn = mod.resources.get('google_cloudfunctions2_function.function')?.body;
    const service = only(fn?.['service_config'], 'service_config');
    expect(String(service['environment_variables'])).toMatch(/NODE_OPTIONS = local\.function_sizing\[each\.key\]\.node_options \} : key => value if value != null/);
  });

  it('replaces exactly the placeholder subjects that k8s/rbac/ names', async () => {
    const identities = mod.locals.get('rbac_identities')?.body['value'] as Record<string, unknown>;
    const rbacDir = path.join(root, 'k8s', 'rbac');
    const texts = await Promise.all((await readdir(rbacDir)).filter((f) => f.endsWith('.yaml')).map((f) => readFile(path.join(rbacDir, f), 'utf8')));
    const named = new Set(texts.flatMap((t) => [...t.matchAll(/\bname: ([\w.-]+@PROJECT_ID\.iam\.gserviceaccount\.com)$/gm)].map((m) => m[1])));
    expect(Object.keys(identities).sort()).toEqual([...named].sort());
    const rendered = String(mod.locals.get('rbac_rendered')?.body['value']);
    for (const placeholder of Object.keys(identities)) {
      expect(rendered).toContain(`"${placeholder}", local.rbac_identities["${placeholder}"]`);
    }
  });

  it('accepts exactly the log levels the logger knows', () => {
    const validation = only(mod.variables.get('log_level')?.body['validation'], 'validation');
    const listed = /contains\(\[([^\]]*)\]/.exec(String(validation['condition']))?.[1] ?? '';
    expect(listed.split(',').map((s) => s.trim().replaceAll('"', ''))).toEqual([...LOG_LEVELS]);
  });

  it("defaults the remediation guardrails to the code's documented policy", () => {
    expect(defaultOf(mod, 'remediation', 'mode')).toBe(DEFAULT_POLICY.mode);
    expect(Number(defaultOf(mod, 'remediation', 'max_step'))).toBe(DEFAULT_POLICY.maxStepFactor);
    expect(Number(defaultOf(mod, 'remediation', 'ceiling_millicores'))).toBe(DEFAULT_POLICY.ceilingMillicores);
    expect(parseDurationMs(defaultOf(mod, 'remediation', 'cooldown'))).toBe(DEFAULT_POLICY.cooldownMs);
    expect(Number(defaultOf(mod, 'remediation', 'min_windows'))).toBe(DEFAULT_POLICY.minConsecutiveWindows);
    expect(Number(defaultOf(mod, 'remediation', 'max_actions_per_run'))).toBe(DEFAULT_POLICY.maxActionsPerRun);
    const modeCheck = (mod.variables.get('remediation')?.body['validation'] as Body[]).map((v) => String(v['condition'])).find((c) => c.includes('mode'));
    const listed = /contains\(\[([^\]]*)\]/.exec(modeCheck ?? '')?.[1] ?? '';
    expect(listed.split(',').map((m) => m.trim().replaceAll('"', ''))).toEqual([...REMEDIATION_MODES]);
  });

  it('has defaults the code parses', () => {
    expect(hostPort().parse(String(mod.variables.get('pixie_cloud_address')?.body['default']))).toBe('work.withpixie.ai:443');
    const pixieIdPattern = /regex\("([^"]+)", var\.pixie_cluster_id\)/.exec(
      String(only(mod.variables.get('pixie_cluster_id')?.body['validation'], 'validation')['condition']),
    )?.[1];
    const sample = '7f3c2a10-0b1e-4c55-9a7d-1e2f3a4b5c6d';
    expect(new RegExp(pixieIdPattern ?? '^$').test(sample)).toBe(true);
    expect(uuid().parse(sample)).toBe(sample);
  });
});
