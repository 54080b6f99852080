/**
 * The import rules (README "Layout"). Imports flow one way:
 *
 *   functions/ ─┐
 *   cli/ ───────┼─> shared/observe ─> shared/{pixie, pxl}
 *               │        │
 *               └─> shared/kube ──┬─> shared/findings ─> shared/analysis (pure: no I/O, no packages)
 *                   shared/observe┘
 *
 * - shared/pixie is the Pixie API client and shared/pxl the script loader: neither knows findings,
 *   Kubernetes or the observe cores. shared/findings is the message schema: it knows only analysis.
 * - shared/kube acts on findings and never reads Pixie; shared/observe reads Pixie and never acts.
 * - The top-level shared/*.ts modules (config, log, settings, runtime...) are the base every folder
 *   may use; they reach into a folder only for pure defaults (settings.ts reads the policy defaults).
 * - shared/ is bundled into the functions: it never imports functions/, cli/, dev/ or test/.
 * - cli/ is shipped (the package's bin) and may import shared/ freely; from dev/ only what its
 *   --local and --replay modes run on this host: the node reader (dev/node) and the process starter
 *   (it starts dev/vizier as its own process, never importing it). cli/report renders findings only.
 * - dev/ (stand-ins, tooling, the demo) and test/ may import anything above.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make initialisation order fragile and modules impossible to test alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-not-to-entries-or-dev',
      severity: 'error',
      comment: 'shared/ is bundled into the functions and the CLI; function entries, the CLI, dev/ and test/ are not its to use.',
      from: { path: '^shared/' },
      to: { path: '^(functions|cli|dev|test)/' },
    },
    {
      name: 'functions-only-to-shared',
      severity: 'error',
      comment: 'Function entries are deployed; the CLI, the local stack and tests are not.',
      from: { path: '^functions/' },
      to: { path: '^(cli|dev|test)/' },
    },
    {
      name: 'cli-not-to-dev-or-test',
      severity: 'error',
      comment:
        'The CLI is shipped. Of dev/ it uses only what its --local/--replay modes run on this host: the node reader and the process starter (dev/vizier runs as its own process, never imported).',
      from: { path: '^cli/' },
      to: { path: '^(dev|test)/', pathNot: '^dev/(node/|process\\.ts$)' },
    },
    {
      name: 'report-renders-findings-only',
      severity: 'error',
      comment: 'The HTML report is a pure rendering of findings: it does not drive the CLI or the local stack.',
      from: { path: '^cli/report/' },
      to: { path: '^(cli|dev|test|functions)/', pathNot: '^cli/report/' },
    },
    {
      name: 'pixie-and-pxl-know-no-domain',
      severity: 'error',
      comment: 'The Pixie client and the PxL loader are transport and scripts: findings, Kubernetes and the observe cores build on them, not the reverse.',
      from: { path: '^shared/(pixie|pxl)/' },
      to: { path: '^shared/(findings|kube|observe|analysis)/' },
    },
    {
      name: 'pixie-not-to-pxl',
      severity: 'error',
      comment: 'The Pixie client runs any script text it is given; choosing and loading scripts is shared/pxl.',
      from: { path: '^shared/pixie/' },
      to: { path: '^shared/pxl/' },
    },
    {
      name: 'findings-is-the-schema',
      severity: 'error',
      comment: 'The finding schema and codec are what observe produces and kube consumes: they depend on neither, nor on Pixie.',
      from: { path: '^shared/findings/' },
      to: { path: '^shared/(pixie|pxl|kube|observe)/' },
    },
    {
      name: 'kube-does-not-read-pixie',
      severity: 'error',
      comment: 'Remediation and recording act on published findings only; reading the kernel is shared/observe.',
      from: { path: '^shared/kube/' },
      to: { path: '^shared/(pixie|pxl|observe)/' },
    },
    {
      name: 'observe-does-not-act',
      severity: 'error',
      comment: 'The observe cores publish findings; acting on the cluster is shared/kube, behind the topic.',
      from: { path: '^shared/observe/' },
      to: { path: '^shared/kube/' },
    },
    {
      name: 'base-modules-stay-base',
      severity: 'error',
      comment: 'shared/*.ts (config, log, settings, runtime...) is used by every folder; it may read pure defaults (the policy defaults) but no adapter.',
      from: { path: '^shared/[^/]+\\.ts$' },
      to: { path: '^shared/(pixie|pxl|findings|observe|kube)/', pathNot: '^shared/kube/policy\\.ts$' },
    },
    {
      name: 'functions-not-to-functions',
      severity: 'error',
      comment: 'Each function is its own bundle; shared code belongs in shared/.',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/', pathNot: '^functions/$1/' },
    },
    {
      name: 'analysis-is-pure',
      severity: 'error',
      comment: 'shared/analysis is pure computation: no npm packages, no node built-ins, no adapters.',
      from: { path: '^shared/analysis/' },
      to: {
        pathNot: '^shared/analysis/',
      },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules|generated)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
  },
};
