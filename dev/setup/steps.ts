/**
 * The set-up steps `npm test` and `npm run demo` provision on demand, one declaration per script in
 * dev/setup/. A new step is a script `dev/setup/NN-name.sh` (idempotent: a warm cache answers in
 * about a second, a build goes to a temporary path renamed into place) plus one entry here saying
 * what it sets up, why, who needs it and what it must wait for. A numbered script without an entry
 * still runs for the tests (after the Debian packages), so nothing added to dev/setup is ever missed.
 *
 * @module
 */

/** Who asks for the set-up: the tests need every step; the demo only some. */
export type SetupTarget = 'test' | 'demo';

/**
 * What the demo does when a step cannot be done: `required` stops it (it cannot run at all without),
 * `live` lets it continue with recorded kernel data (the step only serves the live kernel lab),
 * `none` means the demo does not run the step.
 */
export type DemoNeed = 'required' | 'live' | 'none';

export interface SetupStep {
  /** The script's name without `.sh`, e.g. `10-kube-apiserver`. */
  readonly id: string;
  /** What it sets up, as the progress line says it. */
  readonly what: string;
  /** Why it is needed, as the progress line says it. */
  readonly why: string;
  readonly demo: DemoNeed;
  /** Steps that must have finished first (their products are this step's inputs). */
  readonly after: readonly string[];
}

export const STEPS: readonly SetupStep[] = [
  {
    id: 'apt',
    what: 'Debian packages (bpftrace, runc, busybox-static, etcd-server, containerd, chromium, python3-venv, gcc...)',
    why: 'etcd for the local Kubernetes API, bpftrace/runc for the kernel lab, chromium for the report tests',
    demo: 'live',
    after: [],
  },
  {
    id: '10-kube-apiserver',
    what: 'kube-apiserver built from the Go module proxy',
    why: 'the real Kubernetes API the remediator and recorder write to',
    demo: 'required',
    after: [],
  },
  {
    id: '11-kube-node',
    what: 'kubelet, kube-controller-manager, kube-scheduler built like kube-apiserver; containerd and CNI checked',
    why: 'a real one-node cluster (dev/kube/node.ts): the node tests, and the live demo\'s workloads as kubelet pods',
    demo: 'live',
    // After kube-apiserver: same module, and its build warms the Go cache these reuse.
    after: ['apt', '10-kube-apiserver'],
  },
  {
    id: '20-pixie-clients',
    what: "Pixie's Python client (pxapi) in a venv",
    why: 'the conformance tests check the local Vizier against Pixie\'s own client',
    demo: 'none',
    after: ['apt'],
  },
  {
    id: '30-kernel-lab',
    what: 'tracefs and the kernel lab\'s static CPU burner',
    why: 'live kernel data: real containers with real CFS throttling under the probes',
    demo: 'live',
    after: ['apt'],
  },
  {
    id: '40-terraform-tools',
    what: 'OpenTofu built from the Go module proxy, and the schema-only provider stand-ins',
    why: 'tofu validate/test of terraform/, and the twin: the demo runs the deployment Terraform plans for terraform/examples/basic',
    demo: 'required',
    after: [],
  },
];

/** The declaration given to a numbered script nobody declared: run it for the tests, after apt. */
export const undeclaredStep = (id: string): SetupStep => ({
  id,
  what: `dev/setup/${id}.sh`,
  why: 'a set-up step of the tests (no declaration in dev/setup/steps.ts)',
  demo: 'none',
  after: ['apt'],
});

/** A script file name in dev/setup that is a step (`apt.sh`, `NN-name.sh`). */
export const stepIdOf = (fileName: string): string | undefined => /^(apt|\d+-[a-z0-9-]+)\.sh$/.exec(fileName)?.[1];

/**
 * The steps `target` needs, in a start order where every step comes after what it waits for,
 * from the declarations and the scripts present. A declared step without its script is an error
 * (it would silently provision nothing); dependencies on steps not selected are dropped.
 */
export const planSteps = (target: SetupTarget, scriptIds: readonly string[], declared: readonly SetupStep[] = STEPS): SetupStep[] => {
  const present = new Set(scriptIds);
  const missing = declared.filter((step) => !present.has(step.id)).map((step) => step.id);
  if (missing.length > 0) {
    throw new Error(`dev/setup/steps.ts declares steps without a script: ${missing.map((id) => `dev/setup/${id}.sh`).join(', ')}`);
  }
  const declaredIds = new Set(declared.map((step) => step.id));
  const all = [...declared, ...[...present].filter((id) => !declaredIds.has(id)).sort().map(undeclaredStep)];
  const chosen = all.filter((step) => target === 'test' || step.demo !== 'none');
  const chosenIds = new Set(chosen.map((step) => step.id));
  const ordered: SetupStep[] = [];
  const placed = new Set<string>();
  const visit = (step: SetupStep, path: readonly string[]): void => {
    if (placed.has(step.id)) {
      return;
    }
    if (path.includes(step.id)) {
      throw new Error(`dev/setup/steps.ts: steps wait for each other in a cycle: ${[...path, step.id].join(' -> ')}`);
    }
    for (const dep of step.after) {
      const before = chosen.find((candidate) => candidate.id === dep);
      if (before !== undefined) {
        visit(before, [...path, step.id]);
      }
    }
    placed.add(step.id);
    ordered.push({ ...step, after: step.after.filter((dep) => chosenIds.has(dep)) });
  };
  for (const step of chosen) {
    visit(step, []);
  }
  return ordered;
};
