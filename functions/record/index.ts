/**
 * `record`: HTTP function behind the Terraform-owned push subscription of the findings topic.
 * Keeps findings as KernelWhisper and PodBirthCertificate objects in the cluster. The core is
 * `shared/kube/record-push.ts`.
 *
 * @module
 */
import * as ff from '@google-cloud/functions-framework';
import { clusterSpec } from '../../shared/kube/config.ts';
import { pushFunction } from '../../shared/kube/push-function.ts';
import { handleRecordPush } from '../../shared/kube/record-push.ts';
import { createRecorder } from '../../shared/kube/recorder.ts';

export const record: ff.HttpFunction = pushFunction(
  'record',
  clusterSpec,
  (_config, kubeConfig) => createRecorder(kubeConfig),
  (body, { config, deps, log, deadline }) => handleRecordPush(body, { recorder: deps, cluster: config.KG_CLUSTER_NAME, log, deadline }),
);

ff.http('record', record);
