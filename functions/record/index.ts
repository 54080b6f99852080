/**
 * `record`: HTTP function behind the Terraform-owned push subscription of the findings topic.
 * Keeps findings as KernelWhisper and PodBirthCertificate objects in the cluster. The core is
 * `shared/kube/record-push.ts`.
 *
 * @module
 */
import * as ff from '@google-cloud/functions-framework';
import { GoogleAuth } from 'google-auth-library';
import { parseConfig } from '../../shared/config.ts';
import { once } from '../../shared/instance.ts';
import { clusterKubeConfig } from '../../shared/kube/cluster.ts';
import { clusterSpec, parseClusterConfig } from '../../shared/kube/config.ts';
import { handleRecordPush } from '../../shared/kube/record-push.ts';
import { createRecorder } from '../../shared/kube/recorder.ts';
import { createLogger, traceFromHeaders } from '../../shared/log.ts';
import { runtimeSpec } from '../../shared/runtime.ts';

const instance = once(async () => {
  const runtime = parseConfig(runtimeSpec, process.env);
  const config = parseClusterConfig(clusterSpec, process.env);
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  return { runtime, config, recorder: createRecorder(await clusterKubeConfig(config, auth, runtime.GOOGLE_CLOUD_PROJECT)) };
});

export const record: ff.HttpFunction = async (req, res) => {
  let deps: Awaited<ReturnType<typeof instance>>;
  try {
    deps = await instance();
  } catch (error) {
    createLogger({ labels: { function: 'record' } }).error('record cannot start: configuration or cluster lookup failed', {
      event: 'function.misconfigured',
      error,
    });
    res.status(500).json({ error: 'function not configured' });
    return;
  }
  const log = createLogger({
    minSeverity: deps.runtime.LOG_LEVEL,
    trace: traceFromHeaders(req.headers, deps.runtime.GOOGLE_CLOUD_PROJECT),
    labels: { function: 'record', cluster: deps.config.KG_CLUSTER_NAME },
  });
  const response = await handleRecordPush(req.body, { recorder: deps.recorder, log });
  res.status(response.status).json(response.body);
};

ff.http('record', record);
