/** The report's only stylesheet, inlined: the page loads nothing from anywhere. */
export const REPORT_CSS = `
:root { --fg:#1b1f24; --muted:#5b6570; --line:#d5dbe1; --bg:#f6f8fa; --card:#fff;
  --metrics:#4c7bd9; --kernel:#d9534f; --kernel2:#e0892b; --ok:#2e8b57; --warn:#c98a00; --bad:#c0392b; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color:var(--fg); background:var(--bg); }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 60px; }
header.report { background:#14212e; color:#fff; padding:20px 24px; }
header.report h1 { margin:0 0 8px; font-size:22px; }
header.report dl { display:grid; grid-template-columns:max-content 1fr; gap:2px 14px; margin:0; max-width:980px; }
header.report dt { color:#a9b8c6; } header.report dd { margin:0; }
h2 { margin:32px 0 10px; font-size:19px; border-bottom:2px solid var(--line); padding-bottom:4px; }
h3 { margin:0 0 6px; font-size:16px; } h4 { margin:14px 0 6px; font-size:14px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:16px 18px; margin:14px 0; overflow-x:auto; }
.card.severity-critical { border-left:5px solid var(--bad); } .card.severity-warning { border-left:5px solid var(--warn); }
.kind, .meta { color:var(--muted); font-weight:normal; font-size:12.5px; }
code { font:12.5px ui-monospace, "DejaVu Sans Mono", monospace; background:#eef1f4; padding:0 3px; border-radius:3px; overflow-wrap:anywhere; }
.badge { display:inline-block; padding:1px 7px; border-radius:10px; font-size:12px; font-weight:600; background:#e4e8ec; color:#1b1f24; }
.badge.severity-critical, .badge.outcome-failed, .badge.outcome-conflict, .badge.verdict-saturated { background:#f8d7d3; color:#8a1f12; }
.badge.severity-warning, .badge.outcome-recommended, .badge.verdict-metrics-lie { background:#fbeccb; color:#6b4a00; }
.badge.outcome-applied, .badge.verdict-healthy { background:#d3efdc; color:#1d5e37; }
.badge.sandbox-badge { background:#dfe6f7; color:#233f80; }
.absent, .absent-text { color:var(--muted); fill:var(--muted); font-style:italic; }
.none { color:var(--muted); }
table { border-collapse:collapse; margin:10px 0; font-size:13px; width:100%; }
caption { text-align:left; font-weight:600; padding:4px 0; }
th, td { border-bottom:1px solid var(--line); padding:4px 8px; text-align:left; vertical-align:top; }
th { background:#eef1f4; }
.summary-grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(210px, 1fr)); gap:12px; align-items:start; }
.summary-grid table { margin:0; background:var(--card); border:1px solid var(--line); }
.summary-grid td.n { text-align:right; font-variant-numeric:tabular-nums; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:3px 14px; margin:8px 0; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
section.container { border-top:1px dashed var(--line); margin-top:12px; padding-top:6px; }
.note { background:#eef4ff; border-left:3px solid var(--metrics); padding:6px 10px; }
.recommendation { font-size:15px; }
svg.chart { display:block; max-width:100%; height:auto; margin:8px 0; font-size:12px; }
svg text { fill:var(--fg); }
svg .group-title { font-weight:700; font-size:13px; } svg .group-title.metrics { fill:var(--metrics); } svg .group-title.kernel { fill:var(--kernel); }
svg .panel-title, svg .tick-label, svg .axis-caption { fill:var(--muted); font-size:11.5px; }
svg .panel { fill:#f3f5f7; stroke:var(--line); }
svg .bar-mean-use { fill:var(--metrics); } svg .bar-throttled-ratio { fill:var(--kernel); } svg .bar-throttled-seconds { fill:var(--kernel2); }
svg .bar-expected { fill:none; stroke:var(--ok); stroke-width:2; stroke-dasharray:4 2; }
svg rect.bar-aggregate { stroke:#1b1f24; stroke-width:1; }
svg .bar-limit-current { fill:#8b96a1; } svg .bar-limit-recommended { fill:var(--ok); }
svg .bar-value { font-variant-numeric:tabular-nums; } svg .bar-value.inside { fill:#fff; font-weight:600; }
svg .row-aggregate { font-weight:700; } svg .row-expected { fill:var(--ok); }
svg .mark-limit { stroke:#1b1f24; stroke-width:1.5; stroke-dasharray:3 3; } svg .mark-threshold { stroke:#6b4a00; stroke-width:1.5; stroke-dasharray:1 3; }
svg .tick { stroke:#e3e7eb; } svg .lane { stroke:var(--line); }
svg .lane-label { font-weight:600; }
svg .span { opacity:.25; }
svg .step { stroke:#fff; stroke-width:1.2; }
svg .phase-cgroups { fill:#4c7bd9; } svg .phase-namespaces { fill:#8e44ad; } svg .phase-mounts { fill:#e0892b; }
svg .phase-pivot_root { fill:#16a085; } svg .phase-exec { fill:#c0392b; } svg .phase-other { fill:#7f8c8d; }
svg text.lane-label.phase-cgroups, svg text.lane-label.phase-namespaces, svg text.lane-label.phase-mounts,
svg text.lane-label.phase-pivot_root, svg text.lane-label.phase-exec, svg text.lane-label.phase-other { opacity:1; }
svg .entrypoint { stroke:#c0392b; stroke-width:2; stroke-dasharray:5 3; }
svg .gap { stroke:#5b6570; stroke-width:2; marker-end:none; } svg .gap-label { font-size:11.5px; fill:#5b6570; }
.legend { color:var(--muted); font-size:12.5px; margin:0 0 8px; }
.verdict { font-size:13px; }
details summary { cursor:pointer; color:var(--muted); }
footer { color:var(--muted); font-size:12px; margin-top:40px; }
@media print { details { display:block; } .card { break-inside:avoid; } }
`;
