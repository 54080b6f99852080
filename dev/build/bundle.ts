/**
 * `npm run build`: one self-contained ESM bundle per function under `dist/functions/<name>/`
 * (`index.js` plus a minimal `package.json`), ready to zip for Cloud Run functions.
 *
 * The Functions Framework stays external: it is the host that loads the bundle, so the bundle must
 * register into the same copy the host runs (the Cloud Run Node.js buildpack installs it from the
 * minimal package.json). Everything else our code imports is inlined. The build fails if any
 * devDependency ends up inside a bundle.
 */
import { build, type BuildOptions, type Metafile, type Plugin, version as esbuildVersion } from 'esbuild';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { configHash, isUpToDate, recordInputs, writeRecord } from './inputs-record.ts';

const root = path.resolve(import.meta.dirname, '../..');
const functionsDir = path.join(root, 'functions');
const outRoot = path.join(root, 'dist', 'functions');

interface PackageJson {
  version: string;
  dependencies: Record<string, string>;
}

/**
 * Packages dependencies load only if present, inside try/catch (`debug` tries `supports-color`):
 * left out so a devDependency that happens to be installed never slips into a bundle.
 */
const OPTIONAL_REQUIRES = ['supports-color'];

/** The host package: provided to the bundle at run time, never inlined. */
const HOST_PACKAGE = '@google-cloud/functions-framework';

/** Install paths (`node_modules/a/node_modules/b`) of the npm packages a bundle inlined. */
const inlinedPackagePaths = (metafile: Metafile): Set<string> => {
  const paths = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(?:.*\/)?((?:node_modules\/(?:@[^/]+\/)?[^/]+\/)+)/.exec(input);
    if (match?.[1]) {
      paths.add(match[1].slice(0, -1));
    }
  }
  return paths;
};

/**
 * Packages npm installs only for development (`"dev": true` in package-lock.json): a package that
 * is both a devDependency and needed by a runtime dependency (protobufjs through google-gax) is not
 * dev-only and may be bundled.
 */
const devOnlyPackages = async (): Promise<Set<string>> => {
  const lock = JSON.parse(await readFile(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  return new Set(Object.entries(lock.packages).filter(([, entry]) => entry.dev === true).map(([installPath]) => installPath));
};

/**
 * CommonJS dependencies (grpc-js, google-gax, google-auth-library) call `require()` and read
 * `__dirname`; an ESM bundle has neither, so the banner defines them from `import.meta.url`.
 */
const CJS_SHIM =
  "import { createRequire as __kgCreateRequire } from 'node:module'; import { fileURLToPath as __kgFileURLToPath } from 'node:url'; import { dirname as __kgDirname } from 'node:path';" +
  ' const require = __kgCreateRequire(import.meta.url); const __filename = __kgFileURLToPath(import.meta.url); const __dirname = __kgDirname(__filename);';

/**
 * Generated protobuf classes (protobufjs static code) that libraries require eagerly but our paths
 * never use at run time. Each require below is replaced by an object that throws a clear error on
 * any use (reached through TypeScript's `__importStar` wrapper, a use reads undefined and fails with a
 * TypeError), so a future use fails instead of working on missing data.
 *
 * - `@google-cloud/pubsub` and `@google-cloud/pubsub-api` re-export their generated classes from
 *   their index (`exports.protos`: 0.7 MiB each, defining every Pub/Sub message class at load) for
 *   library users. Nothing in either library requires them at run time (the clients load
 *   `protos.json` through google-gax), and our code never reads `protos`.
 * - google-gax's index and its HTTP/1.1 `fallback` module re-export the static IAM, Locations and
 *   Operations classes (`IamProtos`, `LocationProtos`, `operationsProtos`: 0.46 MiB). The IAM,
 *   Locations and Operations clients gax builds (the Pub/Sub clients build an IamClient) load the
 *   `.json` descriptors, which stay. The one other user is `longRunningCalls/longrunning.js`, at
 *   call time only (cancelling or polling a long-running operation); Pub/Sub declares no
 *   long-running methods (`descriptors.longrunning` is empty), so that use cannot happen here.
 *
 * Saves ~1.9 MiB per bundle that uses Pub/Sub, and the time to define those classes at cold start.
 */
const UNUSED_GENERATED_PROTOS: readonly { readonly importer: RegExp; readonly specifier: RegExp; readonly what: string }[] = [
  { importer: /node_modules\/@google-cloud\/pubsub(?:-api)?\/build\/src\/index\.js$/, specifier: /^\.\.\/protos\/protos$/, what: '@google-cloud/pubsub protos' },
  {
    importer: /node_modules\/google-gax\/build\/src\/(?:index|fallback)\.js$/,
    specifier: /^\.\.\/protos\/(?:iam_service|locations|operations)$/,
    what: 'google-gax static IAM/Locations/Operations protos',
  },
  { importer: /node_modules\/google-gax\/build\/src\/longRunningCalls\/longrunning\.js$/, specifier: /^\.\.\/\.\.\/protos\/operations$/, what: 'google-gax static Operations protos (long-running operations)' },
];
const dropUnusedGeneratedProtos: Plugin = {
  name: 'drop-unused-generated-protos',
  setup(plugin) {
    plugin.onResolve({ filter: /protos\/[a-z_]+$/ }, (args) => {
      const unused = UNUSED_GENERATED_PROTOS.find((entry) => entry.importer.test(args.importer) && entry.specifier.test(args.path));
      return unused === undefined ? undefined : { path: unused.what, namespace: 'kg-unused-protos' };
    });
    plugin.onLoad({ filter: /.*/, namespace: 'kg-unused-protos' }, (args) => ({
      loader: 'js',
      contents:
        "module.exports = new Proxy({}, { get(_, key) { if (typeof key === 'symbol' || key === '__esModule' || key === 'then') { return undefined; } " +
        `throw new Error(${JSON.stringify(`${args.path} were left out of this bundle (dev/build/bundle.ts): `)} + String(key)); } });`,
    }));
  },
};

/**
 * fetch-blob (node-fetch's Blob, through gaxios) requires web-streams-polyfill when
 * `globalThis.ReadableStream` is missing and `node:stream/web` cannot be loaded: never on Node 22,
 * the only runtime the bundles target (Node has had both since 18). Left in, its 59 KiB are parsed
 * at every cold start of every bundle that talks to Google APIs. Replaced by a module that throws a
 * clear error if that fallback ever runs.
 */
const dropStreamsPolyfill: Plugin = {
  name: 'drop-web-streams-polyfill',
  setup(plugin) {
    plugin.onResolve({ filter: /^web-streams-polyfill(?:\/|$)/ }, (args) =>
      /node_modules\/fetch-blob\//.test(args.importer) ? { path: args.path, namespace: 'kg-no-polyfill' } : undefined,
    );
    plugin.onLoad({ filter: /.*/, namespace: 'kg-no-polyfill' }, (args) => ({
      loader: 'js',
      contents: `throw new Error(${JSON.stringify(`${args.path} was left out of this bundle (dev/build/bundle.ts): Node 22 has web streams`)});`,
    }));
  },
};

/**
 * @kubernetes/client-node is ESM but declares no `sideEffects` in its package.json, so esbuild keeps
 * every module reachable from its index whose top level might do something, even when nothing
 * uses it: the informer cache and the YAML helpers (through them `ObjectSerializer`, whose type map
 * holds all ~900 generated model classes: 0.35 MiB parsed and evaluated at every cold start),
 * watch, exec, port-forward and so on. Their top levels only define classes and constants; the
 * package's one side effect, `polyfill.js` (a `File` global for Node 18, a no-op on Node 22), is
 * kept. Declaring the other modules side-effect free lets esbuild drop the ones our code never
 * reaches (bundles that do use `ObjectSerializer`, like record's CustomObjectsApi, keep it).
 */
const CLIENT_NODE_DIST = /node_modules\/@kubernetes\/client-node\/dist\//;
const RESOLVING = 'kg-client-node-side-effects';
const clientNodeSideEffectFree: Plugin = {
  name: 'client-node-side-effect-free',
  setup(plugin) {
    plugin.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === RESOLVING || !CLIENT_NODE_DIST.test(args.importer)) {
        return undefined;
      }
      // Nearly all of client-node's imports are relative with their `.js` extension (~900 model
      // files): resolving those here saves a resolve round trip through esbuild per import, which
      // made record's and remediate's builds ~10x slower (7-8 s instead of under 1 s).
      if (/^\.\.?\/.*\.js$/.test(args.path)) {
        const file = path.resolve(args.resolveDir, args.path);
        if (CLIENT_NODE_DIST.test(file) && !file.endsWith('/polyfill.js') && existsSync(file)) {
          return { path: file, sideEffects: false };
        }
      }
      const resolved = await plugin.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: RESOLVING });
      if (resolved.errors.length > 0 || !CLIENT_NODE_DIST.test(resolved.path) || resolved.path.endsWith('/polyfill.js')) {
        return undefined;
      }
      return { ...resolved, sideEffects: false };
    });
  },
};

/**
 * client-node imports three things from undici: `Agent` and `ProxyAgent` (its HTTPS dispatchers)
 * and `fetch`. undici's index (CommonJS, so not tree-shaken) also loads its mock agents, cache
 * storage, cookies, WebSocket and EventSource clients, interceptors and more at start-up: ~0.2 MiB
 * and ~14 ms of every cold start of record and remediate. For client-node only, `undici` is
 * replaced by a module that takes those three from the same undici's own files. The one difference:
 * the index's `fetch` wrapper appends the caller's stack to network errors; this one does not.
 * A new undici that moves those files fails the build here, not at run time.
 */
const UNDICI_SUBSET = 'kg-undici-subset';
const clientNodeUndiciSubset: Plugin = {
  name: 'client-node-undici-subset',
  setup(plugin) {
    plugin.onResolve({ filter: /^undici$/ }, (args) =>
      CLIENT_NODE_DIST.test(args.importer) ? { path: createRequire(args.importer).resolve('undici'), namespace: UNDICI_SUBSET } : undefined,
    );
    plugin.onLoad({ filter: /.*/, namespace: UNDICI_SUBSET }, (args) => ({
      loader: 'js',
      resolveDir: path.dirname(args.path),
      contents:
        "const Agent = require('./lib/dispatcher/agent.js'); const ProxyAgent = require('./lib/dispatcher/proxy-agent.js');" +
        " const { fetch: fetchImpl } = require('./lib/web/fetch/index.js');" +
        ' module.exports = { Agent, ProxyAgent, fetch: (input, init) => fetchImpl(input, init) };',
    }));
  },
};

const formatSize = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

/** Names of the functions: every folder of `functions/` with an `index.ts`. */
export const functionNames = async (): Promise<string[]> => {
  const entries = await readdir(functionsDir, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) {
      const hasIndex = await stat(path.join(functionsDir, entry.name, 'index.ts')).then(
        () => true,
        () => false,
      );
      if (hasIndex) {
        names.push(entry.name);
      }
    }
  }
  return names.sort();
};

/** The esbuild options of one function's bundle (exported for test/bench/bundle-size.ts). */
export const functionBuildOptions = (name: string, outfile: string): BuildOptions & { metafile: true } => ({
  entryPoints: [path.join(functionsDir, name, 'index.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  metafile: true,
  external: [HOST_PACKAGE, ...OPTIONAL_REQUIRES],
  // ESM builds first where a package ships both: esbuild can drop what is never imported from them
  // (@opentelemetry/semantic-conventions, through Pub/Sub's tracing, is one large table of
  // constants: ~50 KiB less per Pub/Sub bundle).
  mainFields: ['module', 'main'],
  plugins: [dropUnusedGeneratedProtos, dropStreamsPolyfill, clientNodeUndiciSubset, clientNodeSideEffectFree],
  banner: { js: CJS_SHIM },
  logLevel: 'warning',
});

interface Built {
  readonly name: string;
  readonly bytes: number;
  /** Files written, relative to the repository root. */
  readonly outputs: readonly string[];
  /** Files esbuild read (metafile inputs, relative to the working directory, the root). */
  readonly inputs: readonly string[];
}

const bundleOne = async (name: string, pkg: PackageJson, devOnly: Set<string>): Promise<Built> => {
  const outDir = path.join(outRoot, name);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build(functionBuildOptions(name, path.join(outDir, 'index.js')));
  const devInside = [...inlinedPackagePaths(result.metafile)].filter((installPath) => devOnly.has(installPath));
  if (devInside.length > 0) {
    throw new Error(`bundle ${name} contains devDependencies: ${devInside.join(', ')}`);
  }
  const hostVersion = pkg.dependencies[HOST_PACKAGE];
  if (hostVersion === undefined) {
    throw new Error(`${HOST_PACKAGE} must be a dependency`);
  }
  const manifest = {
    name: `kernel-gossip-${name}`,
    version: pkg.version,
    private: true,
    type: 'module',
    main: 'index.js',
    engines: { node: '22' },
    scripts: {
      start: `functions-framework --target=${name}`,
      // The code is already built: stop the buildpack from running a build without devDependencies.
      'gcp-build': '',
    },
    dependencies: { [HOST_PACKAGE]: hostVersion },
  };
  await writeFile(path.join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const { size } = await stat(path.join(outDir, 'index.js'));
  const outputs = ['index.js', 'package.json'].map((file) => path.relative(root, path.join(outDir, file)));
  return { name: `dist/functions/${name}/index.js`, bytes: size, outputs, inputs: Object.keys(result.metafile.inputs) };
};

/** The `kernel-gossip` command line as one executable ESM file (the package's `bin`). */
const bundleCli = async (): Promise<Built> => {
  const outfile = path.join(root, 'dist', 'cli', 'kernel-gossip.js');
  const result = await build({
    entryPoints: [path.join(root, 'cli', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    legalComments: 'none',
    banner: { js: `#!/usr/bin/env node\n${CJS_SHIM}` },
    logLevel: 'warning',
    metafile: true,
  });
  await chmod(outfile, 0o755);
  const name = path.relative(root, outfile);
  return { name, bytes: (await stat(outfile)).size, outputs: [name], inputs: Object.keys(result.metafile.inputs) };
};

/** What configures the build besides its inputs: a change to any of these rebuilds everything. */
const buildConfigHash = async (functions: readonly string[]): Promise<string> =>
  configHash(root, ['dev/build/bundle.ts', 'dev/build/inputs-record.ts', 'package.json', 'package-lock.json'], [process.version, esbuildVersion, ...functions]);

const RECORD_FILE = path.join(outRoot, '..', '.build-inputs.json');

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { 'if-changed': { type: 'boolean', default: false } }, strict: true });
  const names = await functionNames();
  if (names.length === 0) {
    throw new Error('no functions found under functions/');
  }
  // A function added or removed changes the set of bundles, whatever the inputs of the others.
  const config = await buildConfigHash(names);
  if (values['if-changed'] && (await isUpToDate(root, RECORD_FILE, config))) {
    console.log('dist/ is up to date: no build input changed since the last build (dist/.build-inputs.json)');
    return;
  }
  // A build that stops half-way must never look up to date.
  await rm(RECORD_FILE, { force: true });
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as PackageJson;
  const devOnly = await devOnlyPackages();
  // esbuild builds in parallel inside one service process: start every bundle at once.
  const results = await Promise.all([...names.map(async (name) => bundleOne(name, pkg, devOnly)), bundleCli()]);
  for (const { name, bytes } of results) {
    console.log(`${name.padEnd(44)} ${formatSize(bytes).padStart(10)}`);
  }
  await writeRecord(
    RECORD_FILE,
    await recordInputs(
      root,
      config,
      results.flatMap((built) => built.inputs),
      results.flatMap((built) => built.outputs),
    ),
  );
};

if (import.meta.main) {
  await main();
}
