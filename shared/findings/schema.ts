/**
 * The Avro schema of a finding message, version 1: the contract between the observe functions,
 * the topic (Terraform enforces it with JSON encoding), `remediate`, `record`, the BigQuery
 * subscription and any subscriber. `finding.avsc` beside this file is generated from it
 * (`node dev/build/schema.ts`) and a unit test keeps the two identical.
 *
 * Avro JSON encoding, as Pub/Sub validates it: every field present, `null` for absent optional
 * values, and a non-null union value wrapped in its branch name (`{"double": 0.25}`,
 * `{"io.gossip.kernel.v1.Throttle": {...}}`). `avro-json.ts` converts to and from that form.
 *
 * Compatible evolution only: add fields with defaults; never rename, retype or remove.
 *
 * @module
 */

export const FINDING_SCHEMA_VERSION = '1';

export const FINDING_SCHEMA = {
  "type": "record",
  "name": "Finding",
  "namespace": "io.gossip.kernel.v1",
  "doc": "A kernel-gossip finding, schema version 1. Published as Avro JSON on the kernel-findings topic, one per message. Compatible changes only: add fields with defaults.",
  "fields": [
    {
      "name": "schemaVersion",
      "doc": "Contract version; \"1\".",
      "type": "string"
    },
    {
      "name": "kind",
      "doc": "cpu.throttle, pod.birth or remediation.result.",
      "type": "string"
    },
    {
      "name": "id",
      "doc": "Stable id: SHA-256 of the evidence; the same evidence gives the same id.",
      "type": "string"
    },
    {
      "name": "cluster",
      "doc": "Cluster name.",
      "type": "string"
    },
    {
      "name": "namespace",
      "doc": "Kubernetes namespace.",
      "type": "string"
    },
    {
      "name": "workload",
      "doc": "Workload reference.",
      "type": {
        "type": "record",
        "name": "Workload",
        "doc": "The workload a finding is about.",
        "fields": [
          {
            "name": "kind",
            "doc": "Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, or Pod for a bare pod.",
            "type": "string"
          },
          {
            "name": "name",
            "doc": "Workload name.",
            "type": "string"
          },
          {
            "name": "container",
            "doc": "Container the finding is about, or empty when it is about the whole pod.",
            "type": "string"
          }
        ]
      }
    },
    {
      "name": "observedWindow",
      "doc": "Window the kernel data covers.",
      "type": {
        "type": "record",
        "name": "Window",
        "doc": "The time window the kernel data covers.",
        "fields": [
          {
            "name": "start",
            "doc": "RFC 3339 start, nanosecond precision.",
            "type": "string"
          },
          {
            "name": "end",
            "doc": "RFC 3339 end, nanosecond precision.",
            "type": "string"
          },
          {
            "name": "seconds",
            "doc": "Length of the window in seconds.",
            "type": "double"
          }
        ]
      }
    },
    {
      "name": "severity",
      "doc": "info, warning or critical.",
      "type": "string"
    },
    {
      "name": "source",
      "doc": "pixie, local (this host's bpftrace) or replay (recorded kernel data).",
      "type": "string"
    },
    {
      "name": "producedAt",
      "doc": "RFC 3339 time the finding was produced.",
      "type": "string"
    },
    {
      "name": "summary",
      "doc": "One line for humans.",
      "type": "string"
    },
    {
      "name": "throttle",
      "doc": "Set when kind is cpu.throttle.",
      "type": [
        "null",
        {
          "type": "record",
          "name": "Throttle",
          "doc": "CPU throttle truth for one container of one workload.",
          "fields": [
            {
              "name": "verdict",
              "doc": "metrics-lie, saturated, idle-inflated or healthy.",
              "type": "string"
            },
            {
              "name": "reason",
              "doc": "Why, in words, with the numbers that decided it.",
              "type": "string"
            },
            {
              "name": "throttledRatio",
              "doc": "Throttled periods / periods, over all pods.",
              "type": "double"
            },
            {
              "name": "throttledSecondsPerSecond",
              "doc": "Throttled time per second of wall time, summed over pods.",
              "type": "double"
            },
            {
              "name": "meanUseOfLimit",
              "doc": "What averaged metrics show: mean CPU use as a share of the limit.",
              "type": [
                "null",
                "double"
              ],
              "default": null
            },
            {
              "name": "limitMillicores",
              "doc": "The CPU limit in force.",
              "type": "long"
            },
            {
              "name": "recommendedLimitMillicores",
              "doc": "The limit that would bring throttling under the target.",
              "type": [
                "null",
                "long"
              ],
              "default": null
            },
            {
              "name": "expectedThrottledRatio",
              "doc": "Expected throttled ratio at the recommended limit.",
              "type": [
                "null",
                "double"
              ],
              "default": null
            },
            {
              "name": "consecutiveWindows",
              "doc": "Windows in a row with an actionable verdict, this one included.",
              "type": "int"
            },
            {
              "name": "actionRecommended",
              "doc": "Whether the analysis recommends acting now.",
              "type": "boolean"
            },
            {
              "name": "pods",
              "doc": "Per-pod evidence.",
              "type": {
                "type": "array",
                "items": {
                  "type": "record",
                  "name": "PodThrottle",
                  "doc": "One pod's share of a throttle finding.",
                  "fields": [
                    {
                      "name": "pod",
                      "doc": "Pod name.",
                      "type": "string"
                    },
                    {
                      "name": "node",
                      "doc": "Node the pod ran on.",
                      "type": "string"
                    },
                    {
                      "name": "counters",
                      "doc": "Kernel counters for this pod's container.",
                      "type": {
                        "type": "record",
                        "name": "Counters",
                        "doc": "CFS bandwidth counters of one container: deltas over the window, settings at its end.",
                        "fields": [
                          {
                            "name": "periods",
                            "doc": "Enforcement periods in which the group was runnable (delta of nr_periods).",
                            "type": "long"
                          },
                          {
                            "name": "throttledPeriods",
                            "doc": "Periods in which the group was throttled (delta of nr_throttled).",
                            "type": "long"
                          },
                          {
                            "name": "throttledTimeNs",
                            "doc": "Time the group's threads waited while throttled, ns (delta of throttled_time).",
                            "type": "long"
                          },
                          {
                            "name": "bursts",
                            "doc": "Periods that used burst (delta of nr_burst); absent where the kernel has no burst counters.",
                            "type": [
                              "null",
                              "long"
                            ],
                            "default": null
                          },
                          {
                            "name": "burstTimeNs",
                            "doc": "Time spent bursting, ns (delta of burst_time).",
                            "type": [
                              "null",
                              "long"
                            ],
                            "default": null
                          },
                          {
                            "name": "quotaUs",
                            "doc": "CFS quota per period, microseconds.",
                            "type": "long"
                          },
                          {
                            "name": "periodUs",
                            "doc": "CFS period, microseconds.",
                            "type": "long"
                          },
                          {
                            "name": "burstUs",
                            "doc": "Burst allowance, microseconds.",
                            "type": [
                              "null",
                              "long"
                            ],
                            "default": null
                          }
                        ]
                      }
                    },
                    {
                      "name": "throttledRatio",
                      "doc": "throttledPeriods / periods.",
                      "type": "double"
                    },
                    {
                      "name": "throttledSecondsPerSecond",
                      "doc": "Throttled time per second of wall time.",
                      "type": "double"
                    },
                    {
                      "name": "meanUseOfLimit",
                      "doc": "Mean CPU use over the window as a share of the limit; absent without process_stats.",
                      "type": [
                        "null",
                        "double"
                      ],
                      "default": null
                    },
                    {
                      "name": "cpuSeconds",
                      "doc": "CPU time used over the window (process_stats).",
                      "type": [
                        "null",
                        "double"
                      ],
                      "default": null
                    },
                    {
                      "name": "counterReset",
                      "doc": "True when counters went backwards (container restart) and only the part after the reset counts.",
                      "type": "boolean"
                    }
                  ]
                }
              }
            },
            {
              "name": "thresholds",
              "doc": "Thresholds used, so the verdict can be reproduced.",
              "type": {
                "type": "array",
                "items": {
                  "type": "record",
                  "name": "Threshold",
                  "doc": "A threshold that took part in a verdict.",
                  "fields": [
                    {
                      "name": "name",
                      "doc": "Threshold name.",
                      "type": "string"
                    },
                    {
                      "name": "value",
                      "doc": "Threshold value.",
                      "type": "double"
                    }
                  ]
                }
              }
            }
          ]
        }
      ],
      "default": null
    },
    {
      "name": "birth",
      "doc": "Set when kind is pod.birth.",
      "type": [
        "null",
        {
          "type": "record",
          "name": "Birth",
          "doc": "A pod birth certificate.",
          "fields": [
            {
              "name": "pod",
              "doc": "Pod name.",
              "type": "string"
            },
            {
              "name": "podUid",
              "doc": "Pod UID.",
              "type": "string"
            },
            {
              "name": "node",
              "doc": "Node.",
              "type": "string"
            },
            {
              "name": "captured",
              "doc": "Kernel event kinds the birth probe captures (pod_birth: all; pod_birth_lite, the always-on probe: not cgroup_write, not syscall). A kind not listed was not watched: its empty lists mean not observed, not none.",
              "type": {
                "type": "array",
                "items": "string"
              },
              "default": []
            },
            {
              "name": "containers",
              "doc": "Containers, sandbox first.",
              "type": {
                "type": "array",
                "items": {
                  "type": "record",
                  "name": "ContainerBirth",
                  "doc": "The kernel cascade of one container's birth. Unmeasured values are null, never zero.",
                  "fields": [
                    {
                      "name": "name",
                      "doc": "Container name.",
                      "type": "string"
                    },
                    {
                      "name": "containerId",
                      "doc": "Runtime container id.",
                      "type": "string"
                    },
                    {
                      "name": "sandbox",
                      "doc": "True for the pod sandbox (pause) container.",
                      "type": "boolean"
                    },
                    {
                      "name": "firstEventAt",
                      "doc": "RFC 3339 time of the first kernel event.",
                      "type": "string"
                    },
                    {
                      "name": "entrypointExecAt",
                      "doc": "RFC 3339 time of the entrypoint exec.",
                      "type": [
                        "null",
                        "string"
                      ],
                      "default": null
                    },
                    {
                      "name": "timeToEntrypointNs",
                      "doc": "From the first event to the entrypoint exec, ns.",
                      "type": [
                        "null",
                        "long"
                      ],
                      "default": null
                    },
                    {
                      "name": "entrypoint",
                      "doc": "Entrypoint executable.",
                      "type": [
                        "null",
                        "string"
                      ],
                      "default": null
                    },
                    {
                      "name": "cgroupsCreated",
                      "doc": "cgroup directories created.",
                      "type": {
                        "type": "array",
                        "items": "string"
                      }
                    },
                    {
                      "name": "limitWrites",
                      "doc": "cgroup limit files written.",
                      "type": {
                        "type": "array",
                        "items": {
                          "type": "record",
                          "name": "LimitWrite",
                          "doc": "A cgroup limit file written with its value.",
                          "fields": [
                            {
                              "name": "file",
                              "doc": "cgroup file, e.g. cpu.cfs_quota_us.",
                              "type": "string"
                            },
                            {
                              "name": "value",
                              "doc": "Value written.",
                              "type": "string"
                            }
                          ]
                        }
                      }
                    },
                    {
                      "name": "namespacesCreated",
                      "doc": "Namespaces created (mnt, uts, ipc, pid, net, cgroup, user, time).",
                      "type": {
                        "type": "array",
                        "items": "string"
                      }
                    },
                    {
                      "name": "namespacesJoined",
                      "doc": "Namespaces joined with setns.",
                      "type": {
                        "type": "array",
                        "items": "string"
                      }
                    },
                    {
                      "name": "mounts",
                      "doc": "Mounts.",
                      "type": {
                        "type": "array",
                        "items": {
                          "type": "record",
                          "name": "Mount",
                          "doc": "A mount made during the birth.",
                          "fields": [
                            {
                              "name": "source",
                              "doc": "Mount source.",
                              "type": "string"
                            },
                            {
                              "name": "target",
                              "doc": "Mount target.",
                              "type": "string"
                            },
                            {
                              "name": "fstype",
                              "doc": "Filesystem type.",
                              "type": "string"
                            }
                          ]
                        }
                      }
                    },
                    {
                      "name": "pivotRoot",
                      "doc": "New root given to pivot_root.",
                      "type": [
                        "null",
                        "string"
                      ],
                      "default": null
                    },
                    {
                      "name": "execs",
                      "doc": "Executables run, in order.",
                      "type": {
                        "type": "array",
                        "items": "string"
                      }
                    },
                    {
                      "name": "runtimeSyscalls",
                      "doc": "Syscalls made by the runtime for this container until the entrypoint exec.",
                      "type": [
                        "null",
                        "long"
                      ],
                      "default": null
                    },
                    {
                      "name": "syscalls",
                      "doc": "Those syscalls by kind.",
                      "type": {
                        "type": "array",
                        "items": {
                          "type": "record",
                          "name": "SyscallCount",
                          "doc": "Syscalls of one kind made by the runtime for the container.",
                          "fields": [
                            {
                              "name": "name",
                              "doc": "Syscall name or number.",
                              "type": "string"
                            },
                            {
                              "name": "count",
                              "doc": "How many.",
                              "type": "long"
                            }
                          ]
                        }
                      }
                    },
                    {
                      "name": "steps",
                      "doc": "The ordered timeline.",
                      "type": {
                        "type": "array",
                        "items": {
                          "type": "record",
                          "name": "Step",
                          "doc": "One step of a container's kernel birth cascade.",
                          "fields": [
                            {
                              "name": "offsetNs",
                              "doc": "Nanoseconds since the container's first kernel event.",
                              "type": "long"
                            },
                            {
                              "name": "kind",
                              "doc": "cgroup_mkdir, cgroup_write, cgroup_attach, unshare, clone, setns, mount, pivot_root or exec.",
                              "type": "string"
                            },
                            {
                              "name": "detail",
                              "doc": "What the step did (path, flags, file and value...).",
                              "type": "string"
                            },
                            {
                              "name": "pid",
                              "doc": "Process that made the step.",
                              "type": "long"
                            }
                          ]
                        }
                      }
                    },
                    {
                      "name": "stepsOmitted",
                      "doc": "Steps left out to fit the message size limit (counted, never silently cut).",
                      "type": [
                        "null",
                        "long"
                      ],
                      "default": null
                    }
                  ]
                }
              }
            },
            {
              "name": "part",
              "doc": "When a certificate is split across messages (one per container), this part's number, from 1.",
              "type": [
                "null",
                "int"
              ],
              "default": null
            },
            {
              "name": "parts",
              "doc": "How many parts the certificate has.",
              "type": [
                "null",
                "int"
              ],
              "default": null
            }
          ]
        }
      ],
      "default": null
    },
    {
      "name": "remediation",
      "doc": "Set when kind is remediation.result.",
      "type": [
        "null",
        {
          "type": "record",
          "name": "Remediation",
          "doc": "A remediation decision, acted on or not.",
          "fields": [
            {
              "name": "findingId",
              "doc": "Id of the cpu.throttle finding this decision answers.",
              "type": "string"
            },
            {
              "name": "outcome",
              "doc": "applied, recommended, skipped, conflict or failed.",
              "type": "string"
            },
            {
              "name": "reason",
              "doc": "Why.",
              "type": "string"
            },
            {
              "name": "mode",
              "doc": "Policy mode in force: off, recommend or apply.",
              "type": "string"
            },
            {
              "name": "fromLimitMillicores",
              "doc": "Limit before.",
              "type": [
                "null",
                "long"
              ],
              "default": null
            },
            {
              "name": "toLimitMillicores",
              "doc": "Limit after (or recommended).",
              "type": [
                "null",
                "long"
              ],
              "default": null
            },
            {
              "name": "patch",
              "doc": "The patch a human would commit (YAML).",
              "type": [
                "null",
                "string"
              ],
              "default": null
            },
            {
              "name": "conflictingManager",
              "doc": "Field manager owning the conflicting field.",
              "type": [
                "null",
                "string"
              ],
              "default": null
            },
            {
              "name": "podsResized",
              "doc": "Pods resized in place.",
              "type": "int"
            },
            {
              "name": "refusal",
              "doc": "Set when the finding was refused before any decision (outcome skipped): foreign-cluster, stale, future or invalid-name. Added after version 1 was published; a message without it reads as null.",
              "type": [
                "null",
                "string"
              ],
              "default": null
            }
          ]
        }
      ],
      "default": null
    },
    {
      "name": "coverage",
      "doc": "Which nodes the kernel data covers (observe findings): Pixie runs a probe on every node it can and reports it running if any node runs it; nodes where it failed are listed with Pixie's error. Added after version 1 was published; a message without it reads as null.",
      "type": [
        "null",
        {
          "type": "record",
          "name": "Coverage",
          "doc": "Nodes covered by the run's kernel data.",
          "fields": [
            {
              "name": "nodesTotal",
              "doc": "Nodes with a Pixie agent (PEM).",
              "type": "int"
            },
            {
              "name": "nodesCovered",
              "doc": "Nodes whose probe is running.",
              "type": "int"
            },
            {
              "name": "lacking",
              "doc": "Nodes without the probe, with why.",
              "type": {
                "type": "array",
                "items": {
                  "type": "record",
                  "name": "NodeLacking",
                  "doc": "A node without the probe.",
                  "fields": [
                    {
                      "name": "node",
                      "doc": "Node name (the Pixie agent's hostname).",
                      "type": "string"
                    },
                    {
                      "name": "reason",
                      "doc": "Pixie's status and error text for this node's probe, or why it has none.",
                      "type": "string"
                    }
                  ]
                }
              }
            }
          ]
        }
      ],
      "default": null
    }
  ]
} as const;
