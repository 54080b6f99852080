/**
 * Import rules from the design: functions -> shared/{pixie,pxl,findings,kube} -> shared/analysis.
 * `shared/` never reaches into `dev/` or `test/`, and `shared/analysis` stays pure (no I/O).
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
      name: 'shared-not-to-dev-or-test',
      severity: 'error',
      comment: 'shared/ is bundled into the functions; dev/ and test/ never are.',
      from: { path: '^shared/' },
      to: { path: '^(dev|test)/' },
    },
    {
      name: 'functions-not-to-dev-or-test',
      severity: 'error',
      comment: 'Function entries are deployed; the local stack and tests are not.',
      from: { path: '^functions/' },
      to: { path: '^(dev|test)/' },
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
