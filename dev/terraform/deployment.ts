/**
 * The deployment exactly as Terraform declares it, for the twin (dev/twin) and the tests: OpenTofu
 * plans terraform/examples/basic (with the given variables) against the schema stand-in providers
 * under `mock_provider`, which fills in what only the real providers compute at apply time (URIs,
 * ids). `tofu test -json -verbose` prints that plan as `tofu show -json` does (message
 * `test_plan`), and this module reads the running parts out of it: each function's environment,
 * sizing and source folder, each Scheduler job's request, retry and deadline, the topics with their
 * schema and every subscription with its delivery settings.
 *
 * Nothing is re-typed here: which function a job or a subscription calls comes from the plan's
 * own configuration (its `uri`/`push_endpoint` expression refers to the function instance of the
 * same key), never from names.
 *
 * @module
 */
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findTofuWithStandIns, prepareWorkCopy, runTofu } from './cli.ts';

/** Terraform variables of the example root (HCL values; JSON is valid HCL for these). */
export type RootVariables = Readonly<Record<string, unknown>>;

export interface DeployedFunction {
  /** The contract key (`observe-throttle`, ...), also the folder under dist/functions. */
  readonly key: string;
  /** The Cloud Run function's name (`kg-observe-throttle`). */
  readonly name: string;
  readonly entryPoint: string;
  /** The folder Terraform zips and uploads (`archive_file.source_dir`). */
  readonly sourceDir: string;
  /** Plain environment variables, exactly as Terraform sets them. */
  readonly env: Readonly<Record<string, string>>;
  /** Secret environment variables (names; the values come from Secret Manager). */
  readonly secretEnv: readonly string[];
  readonly memoryMib: number;
  readonly timeoutSeconds: number;
  readonly concurrency: number;
  readonly maxInstances: number;
}

export interface SchedulerRetry {
  readonly retryCount: number;
  readonly minBackoffSeconds: number;
  readonly maxBackoffSeconds: number;
  readonly maxDoublings: number;
  /** 0: unlimited. */
  readonly maxRetryDurationSeconds: number;
}

export interface DeployedJob {
  readonly key: string;
  readonly name: string;
  readonly schedule: string;
  readonly timeZone: string;
  /** The function key the job calls (its `http_target.uri`). */
  readonly target: string;
  /** The function key whose URI is the OIDC token's audience. */
  readonly audience: string;
  readonly httpMethod: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The request body, decoded from the job's base64. */
  readonly body: string;
  readonly attemptDeadlineSeconds: number;
  readonly retry: SchedulerRetry;
}

export interface DeployedTopic {
  readonly address: string;
  readonly name: string;
  readonly retentionSeconds: number | undefined;
  readonly schema?: { readonly name: string; readonly type: string; readonly definition: string; readonly encoding: string };
}

export interface DeployedSubscription {
  readonly address: string;
  readonly name: string;
  readonly topic: string;
  readonly ackDeadlineSeconds: number;
  readonly enableMessageOrdering: boolean;
  readonly filter: string;
  readonly retryPolicy?: { readonly minimumBackoffSeconds: number; readonly maximumBackoffSeconds: number };
  readonly deadLetter?: { readonly topic: string; readonly maxDeliveryAttempts: number };
  /** Push delivery: the function key of the endpoint and of the OIDC audience, and the push attributes. */
  readonly push?: { readonly target: string; readonly audience: string; readonly attributes: Readonly<Record<string, string>> };
  readonly bigquery?: { readonly table: string; readonly useTopicSchema: boolean; readonly writeMetadata: boolean; readonly dropUnknownFields: boolean };
}

export interface Deployment {
  readonly functions: Readonly<Record<string, DeployedFunction>>;
  readonly jobs: Readonly<Record<string, DeployedJob>>;
  readonly topics: readonly DeployedTopic[];
  readonly subscriptions: readonly DeployedSubscription[];
}

/** The plan does not say what the twin needs, or says it in a shape the twin cannot follow. */
export class DeploymentError extends Error {
  override readonly name = 'DeploymentError';
}

type Json = Record<string, unknown>;

interface PlannedResource {
  readonly address: string;
  readonly type: string;
  readonly name: string;
  readonly index?: string | number;
  readonly values: Json;
}

interface ConfiguredResource {
  readonly address: string;
  readonly expressions: Json;
}

const MODULE = 'kernel_gossip';

const asObject = (value: unknown, what: string): Json => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DeploymentError(`${what} is not an object in the plan`);
  }
  return value as Json;
};

/** The single block of a nested block list (`service_config[0]`). */
const block = (values: Json, name: string, where: string): Json => {
  const list = values[name];
  if (!Array.isArray(list) || list.length !== 1) {
    throw new DeploymentError(`${where}.${name} is not one block`);
  }
  return asObject(list[0], `${where}.${name}[0]`);
};

const optionalBlock = (values: Json, name: string, where: string): Json | undefined =>
  Array.isArray(values[name]) && (values[name] as unknown[]).length > 0 ? block(values, name, where) : undefined;

const str = (values: Json, name: string, where: string): string => {
  const value = values[name];
  if (typeof value !== 'string') {
    throw new DeploymentError(`${where}.${name} is not a known string in the plan`);
  }
  return value;
};

const num = (values: Json, name: string, where: string): number => {
  const value = values[name];
  if (typeof value !== 'number') {
    throw new DeploymentError(`${where}.${name} is not a known number in the plan`);
  }
  return value;
};

/** `"330s"` -> 330. */
const seconds = (value: string, where: string): number => {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value);
  if (!match) {
    throw new DeploymentError(`${where} is not a duration in seconds: ${value}`);
  }
  return Number(match[1]);
};

/** `"256Mi"` / `"1Gi"` / `"512M"` -> MiB. */
const mebibytes = (value: string, where: string): number => {
  const match = /^(\d+)(Mi|Gi|M|G)$/.exec(value);
  if (!match) {
    throw new DeploymentError(`${where} is not a memory size: ${value}`);
  }
  const n = Number(match[1]);
  return { Mi: n, Gi: n * 1024, M: (n * 1e6) / 2 ** 20, G: (n * 1e9) / 2 ** 20 }[match[2] as 'Mi' | 'Gi' | 'M' | 'G'];
};

const stringMap = (value: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(value === null || value === undefined ? {} : asObject(value, 'map')).map(([k, v]) => [k, String(v)]));

/**
 * Which function instance an expression calls: the plan's configuration must refer to
 * `google_cloudfunctions2_function.function` with `each.key`, so the callee is the function of the
 * caller's own key.
 */
const calledFunction = (expression: unknown, callerKey: string, where: string): string => {
  const references = (expression as { references?: unknown } | undefined)?.references;
  if (Array.isArray(references) && references.includes('google_cloudfunctions2_function.function') && references.includes('each.key')) {
    return callerKey;
  }
  throw new DeploymentError(`${where} does not call google_cloudfunctions2_function.function[each.key]; the twin cannot tell which function it reaches`);
};

/** The resource a topic-valued expression refers to (`google_pubsub_topic.findings.id`). */
const referencedTopic = (expression: unknown, where: string): string => {
  const references = (expression as { references?: unknown } | undefined)?.references;
  const found = Array.isArray(references) ? references.find((r): r is string => typeof r === 'string' && /^google_pubsub_topic\.[a-z_]+$/.test(r)) : undefined;
  if (found === undefined) {
    throw new DeploymentError(`${where} does not refer to a google_pubsub_topic`);
  }
  return found;
};

/**
 * Whether the configuration sets an argument. Arguments the provider declares optional and
 * computed (e.g. the subscription's `ack_deadline_seconds`) get random values from the mocks when
 * unset; an unset argument takes the API's default instead (below), as the real provider leaves it
 * to the API.
 */
const set = (expressions: Json, name: string): boolean => expressions[name] !== undefined;

/** Pub/Sub's defaults for what a subscription leaves unset (REST reference, projects.subscriptions). */
const PUBSUB_DEFAULTS = { ackDeadlineSeconds: 10 } as const;

/**
 * Reads the deployment out of `tofu show -json` of the example root's plan (configuration: what
 * refers to what) and of its applied state under the mocks (values, data sources included);
 * `sourceDir` maps `archive_file.source_dir` (relative to the root) to a folder here.
 */
export const deploymentFromPlan = (plan: unknown, state: unknown, sourceDir: (planned: string) => string = (planned) => planned): Deployment => {
  const moduleResources = (values: unknown, what: string): PlannedResource[] => {
    const root = asObject(asObject(values, what)['root_module'], `${what}.root_module`);
    const child = (root['child_modules'] as Json[] | undefined)?.find((m) => m['address'] === `module.${MODULE}`);
    return (child?.['resources'] as PlannedResource[] | undefined) ?? [];
  };
  // Values from the applied (mocked) state, which also holds the data sources (the zips); the
  // configuration, which says what refers to what, from the plan.
  const planned = moduleResources(asObject(state, 'state')['values'], 'state values');
  if (planned.length === 0) {
    throw new DeploymentError(`the plan has no module.${MODULE}`);
  }
  const configModule = asObject(
    asObject(asObject(asObject(asObject(plan, 'plan')['configuration'], 'configuration')['root_module'], 'root_module')['module_calls'], 'module_calls')[MODULE],
    MODULE,
  )['module'];
  const configured = new Map((asObject(configModule, 'module')['resources'] as ConfiguredResource[]).map((r) => [r.address, asObject(r.expressions, r.address)]));
  const of = (type: string, name: string): PlannedResource[] => planned.filter((r) => r.type === type && r.name === name);
  const expressions = (address: string): Json => {
    const found = configured.get(address);
    if (found === undefined) {
      throw new DeploymentError(`the plan's configuration has no ${address}`);
    }
    return found;
  };

  const sources = new Map(of('archive_file', 'function').map((r) => [String(r.index), sourceDir(str(r.values, 'source_dir', r.address))]));
  const functions: Record<string, DeployedFunction> = {};
  for (const fn of of('google_cloudfunctions2_function', 'function')) {
    const key = String(fn.index);
    const service = block(fn.values, 'service_config', fn.address);
    const build = block(fn.values, 'build_config', fn.address);
    const sourceDir = sources.get(key);
    if (sourceDir === undefined) {
      throw new DeploymentError(`no archive_file.function["${key}"] in the plan`);
    }
    functions[key] = {
      key,
      name: str(fn.values, 'name', fn.address),
      entryPoint: str(build, 'entry_point', fn.address),
      sourceDir,
      env: stringMap(service['environment_variables']),
      secretEnv: ((service['secret_environment_variables'] as Json[] | undefined) ?? []).map((s) => str(s, 'key', `${fn.address}.secret_environment_variables`)),
      memoryMib: mebibytes(str(service, 'available_memory', fn.address), `${fn.address}.available_memory`),
      timeoutSeconds: num(service, 'timeout_seconds', fn.address),
      concurrency: num(service, 'max_instance_request_concurrency', fn.address),
      maxInstances: num(service, 'max_instance_count', fn.address),
    };
  }

  const jobs: Record<string, DeployedJob> = {};
  const jobExpressions = expressions('google_cloud_scheduler_job.observe');
  const jobTarget = asObject((jobExpressions['http_target'] as unknown[] | undefined)?.[0], 'http_target expressions');
  for (const job of of('google_cloud_scheduler_job', 'observe')) {
    const key = String(job.index);
    const http = block(job.values, 'http_target', job.address);
    const retry = block(job.values, 'retry_config', job.address);
    jobs[key] = {
      key,
      name: str(job.values, 'name', job.address),
      schedule: str(job.values, 'schedule', job.address),
      timeZone: str(job.values, 'time_zone', job.address),
      target: calledFunction(jobTarget['uri'], key, `${job.address}.http_target.uri`),
      audience: calledFunction(asObject((jobTarget['oidc_token'] as unknown[] | undefined)?.[0], 'oidc_token expressions')['audience'], key, `${job.address}.oidc_token.audience`),
      httpMethod: str(http, 'http_method', job.address),
      headers: stringMap(http['headers']),
      body: Buffer.from(str(http, 'body', job.address), 'base64').toString('utf8'),
      attemptDeadlineSeconds: seconds(str(job.values, 'attempt_deadline', job.address), `${job.address}.attempt_deadline`),
      retry: {
        retryCount: num(retry, 'retry_count', job.address),
        minBackoffSeconds: seconds(str(retry, 'min_backoff_duration', job.address), 'min_backoff_duration'),
        maxBackoffSeconds: seconds(str(retry, 'max_backoff_duration', job.address), 'max_backoff_duration'),
        maxDoublings: num(retry, 'max_doublings', job.address),
        maxRetryDurationSeconds: seconds(str(retry, 'max_retry_duration', job.address), 'max_retry_duration'),
      },
    };
  }

  const schemas = new Map(of('google_pubsub_schema', 'findings').map((s) => [`google_pubsub_schema.${s.name}`, s]));
  const topics: DeployedTopic[] = planned
    .filter((r) => r.type === 'google_pubsub_topic')
    .map((topic) => {
      const settings = optionalBlock(topic.values, 'schema_settings', topic.address);
      const retention = topic.values['message_retention_duration'];
      let schema: DeployedTopic['schema'];
      if (settings !== undefined) {
        const schemaRef = ((asObject((expressions(`google_pubsub_topic.${topic.name}`)['schema_settings'] as unknown[] | undefined)?.[0], 'schema_settings')['schema'] as { references?: string[] }).references ?? []).find((r) =>
          r.startsWith('google_pubsub_schema.') && r.split('.').length === 2,
        );
        const planned_ = schemaRef === undefined ? undefined : schemas.get(schemaRef);
        if (planned_ === undefined) {
          throw new DeploymentError(`${topic.address}.schema_settings.schema does not refer to a google_pubsub_schema of the plan`);
        }
        schema = {
          name: str(planned_.values, 'name', planned_.address),
          type: str(planned_.values, 'type', planned_.address),
          definition: str(planned_.values, 'definition', planned_.address),
          encoding: str(settings, 'encoding', topic.address),
        };
      }
      return {
        address: `google_pubsub_topic.${topic.name}`,
        name: str(topic.values, 'name', topic.address),
        retentionSeconds: typeof retention === 'string' ? seconds(retention, `${topic.address}.message_retention_duration`) : undefined,
        ...(schema === undefined ? {} : { schema }),
      };
    });
  const topicName = (address: string): string => {
    const found = topics.find((t) => t.address === address);
    if (found === undefined) {
      throw new DeploymentError(`no ${address} in the plan`);
    }
    return found.name;
  };

  const subscriptions: DeployedSubscription[] = planned
    .filter((r) => r.type === 'google_pubsub_subscription')
    .map((sub) => {
      const exprs = expressions(`google_pubsub_subscription.${sub.name}`);
      const key = sub.index === undefined ? '' : String(sub.index);
      const retry = optionalBlock(sub.values, 'retry_policy', sub.address);
      const deadLetter = optionalBlock(sub.values, 'dead_letter_policy', sub.address);
      const push = optionalBlock(sub.values, 'push_config', sub.address);
      const bigquery = optionalBlock(sub.values, 'bigquery_config', sub.address);
      const pushExprs = push === undefined ? undefined : asObject((exprs['push_config'] as unknown[] | undefined)?.[0], 'push_config expressions');
      return {
        address: sub.address,
        name: str(sub.values, 'name', sub.address),
        topic: topicName(referencedTopic(exprs['topic'], `${sub.address}.topic`)),
        ackDeadlineSeconds: set(exprs, 'ack_deadline_seconds') ? num(sub.values, 'ack_deadline_seconds', sub.address) : PUBSUB_DEFAULTS.ackDeadlineSeconds,
        enableMessageOrdering: set(exprs, 'enable_message_ordering') && sub.values['enable_message_ordering'] === true,
        filter: set(exprs, 'filter') ? str(sub.values, 'filter', sub.address) : '',
        ...(retry === undefined
          ? {}
          : {
              retryPolicy: {
                minimumBackoffSeconds: seconds(str(retry, 'minimum_backoff', sub.address), 'minimum_backoff'),
                maximumBackoffSeconds: seconds(str(retry, 'maximum_backoff', sub.address), 'maximum_backoff'),
              },
            }),
        ...(deadLetter === undefined
          ? {}
          : {
              deadLetter: {
                topic: topicName(referencedTopic(asObject((exprs['dead_letter_policy'] as unknown[] | undefined)?.[0], 'dead_letter_policy')['dead_letter_topic'], `${sub.address}.dead_letter_topic`)),
                maxDeliveryAttempts: num(deadLetter, 'max_delivery_attempts', sub.address),
              },
            }),
        ...(push === undefined || pushExprs === undefined
          ? {}
          : {
              push: {
                target: calledFunction(pushExprs['push_endpoint'], key, `${sub.address}.push_endpoint`),
                audience: calledFunction(asObject((pushExprs['oidc_token'] as unknown[] | undefined)?.[0], 'push oidc_token')['audience'], key, `${sub.address}.oidc_token.audience`),
                attributes: set(pushExprs, 'attributes') ? stringMap(push['attributes']) : {},
              },
            }),
        ...(bigquery === undefined
          ? {}
          : {
              bigquery: {
                table: str(bigquery, 'table', sub.address),
                useTopicSchema: bigquery['use_topic_schema'] === true,
                writeMetadata: bigquery['write_metadata'] === true,
                dropUnknownFields: bigquery['drop_unknown_fields'] === true,
              },
            }),
      };
    });
  // The jobs' and subscriptions' addresses prove nothing by themselves: check the callees exist.
  for (const callee of [...Object.values(jobs).flatMap((j) => [j.target, j.audience]), ...subscriptions.flatMap((s) => (s.push ? [s.push.target, s.push.audience] : []))]) {
    if (functions[callee] === undefined) {
      throw new DeploymentError(`the plan calls a function ${callee} it does not deploy`);
    }
  }
  return { functions, jobs, topics, subscriptions };
};

/** Mocks for what only the real providers compute; the rest is Terraform's own evaluation. */
const MOCKS = `mock_provider "google" {
  mock_data "google_project" {
    defaults = {
      number = "123456789012"
    }
  }
  mock_resource "google_service_account" {
    defaults = {
      name   = "projects/twin-project/serviceAccounts/kg-twin@twin-project.iam.gserviceaccount.com"
      email  = "kg-twin@twin-project.iam.gserviceaccount.com"
      member = "serviceAccount:kg-twin@twin-project.iam.gserviceaccount.com"
    }
  }
}

mock_provider "archive" {}
`;

export interface RenderOptions {
  /** Variables of terraform/examples/basic; `pixie_api_key` is required by the root. */
  readonly variables: RootVariables;
  /** Where the function bundles are (dist/functions of this repository). */
  readonly distDir: string;
  /** Stops tofu (and removes its work copy) when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * Plans terraform/examples/basic with `variables` (stand-in providers, mocked) and returns the
 * plan as `tofu show -json` renders it.
 */
export const planExample = async (options: RenderOptions): Promise<{ plan: unknown; state: unknown; sourceDir: (planned: string) => string }> => {
  const tofu = await findTofuWithStandIns();
  const work = await prepareWorkCopy([]);
  try {
    // The module zips <repository>/dist/functions by default: point the copy's at the real bundles.
    await mkdir(path.join(work, 'dist'), { recursive: true });
    const workDist = path.join(work, 'dist', 'functions');
    await symlink(options.distDir, workDist);
    const example = path.join(work, 'terraform', 'examples', 'basic');
    // The zipped folder as a path here: the work copy is gone once the plan is read.
    const sourceDir = (planned: string): string => {
      const relative = path.relative(workDist, path.resolve(example, planned));
      if (relative.startsWith('..') || path.isAbsolute(relative)) {
        throw new DeploymentError(`the plan zips ${planned}, outside the function bundles`);
      }
      return path.join(options.distDir, relative);
    };
    await mkdir(path.join(example, 'tests'), { recursive: true });
    const variables = Object.entries(options.variables)
      .map(([name, value]) => `  ${name} = ${JSON.stringify(value)}`)
      .join('\n');
    await writeFile(path.join(example, 'tests', 'twin.tftest.hcl'), `${MOCKS}\nvariables {\n${variables}\n}\n\nrun "plan" {\n  command = plan\n}\n\nrun "apply" {\n  command = apply\n}\n`);
    const init = await runTofu(tofu, ['init', '-backend=false', '-input=false', '-no-color'], example, {}, options.signal);
    if (init.code !== 0) {
      throw new DeploymentError(`tofu init of the example failed: ${init.stdout}\n${init.stderr}`);
    }
    const test = await runTofu(tofu, ['test', '-json', '-verbose', '-no-color'], example, {}, options.signal);
    const messages = test.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { type?: string; test_plan?: unknown; test_state?: unknown; '@message'?: string });
    const plan = messages.find((m) => m.type === 'test_plan')?.test_plan;
    const state = messages.find((m) => m.type === 'test_state')?.test_state;
    if (test.code !== 0 || plan === undefined || state === undefined) {
      const problems = messages.filter((m) => m.type === 'diagnostic').map((m) => m['@message']);
      throw new DeploymentError(`tofu could not plan the example: ${problems.join('; ') || test.stderr.slice(0, 2000)}`);
    }
    return { plan, state, sourceDir };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
};

/** The deployment Terraform plans for `variables`. */
export const renderDeployment = async (options: RenderOptions): Promise<Deployment> => {
  const { plan, state, sourceDir } = await planExample(options);
  return deploymentFromPlan(plan, state, sourceDir);
};
