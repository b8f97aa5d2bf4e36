/** The inspector page's HTML and CSS: self-contained, no CDN; colours from `STATUS_COLORS`. */
import type { TaskStatus } from '../../wire/types.js';
import { PHASE_COLORS, STATUS_COLORS } from '../taskTree.js';

const statusRules = (Object.keys(STATUS_COLORS) as TaskStatus[])
  .map((s) => {
    const c = STATUS_COLORS[s];
    return (
      `.node.st-${s}{background:${c.fill};border-color:${c.stroke};color:${c.text}}` +
      `.badge.st-${s}{background:${c.fill};border-color:${c.stroke};color:${c.text}}`
    );
  })
  .join('\n');

/** Queued and waiting tasks (phases of `running`) get their own colours. */
const phaseRules = Object.entries(PHASE_COLORS)
  .map(
    ([p, c]) =>
      `.node.ph-${p}{background:${c.fill};border-color:${c.stroke};color:${c.text}}` +
      `.badge.ph-${p}{background:${c.fill};border-color:${c.stroke};color:${c.text}}`,
  )
  .join('\n');

/** The page's stylesheet (`GET /app.css`). */
export const INSPECTOR_CSS = `
:root{font:13px/1.35 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#212529;background:#f8f9fa}
*{box-sizing:border-box}
body{margin:0;display:grid;grid-template-rows:auto 1fr;height:100vh}
header{display:flex;gap:16px;align-items:center;padding:8px 16px;background:#fff;border-bottom:1px solid #dee2e6}
header h1{font-size:15px;margin:0}
#conn{font-size:12px;padding:2px 8px;border-radius:10px;background:#e2e3e5}
#conn.live{background:#d1e7dd;color:#0a3622}
#counts{display:flex;gap:6px}
.badge{border:1px solid;border-radius:10px;padding:1px 8px;font-size:12px}
#token-state{margin-left:auto;font-size:12px;color:#6c757d}
main{display:grid;grid-template-columns:1fr 380px;min-height:0}
#threads{overflow:auto;padding:12px 16px}
section.thread{margin-bottom:18px}
section.thread h2{font-size:14px;margin:0 0 6px;display:flex;gap:10px;align-items:baseline}
section.thread h2 small{font-weight:normal;color:#6c757d}
section.thread h2 a{font-size:12px;font-weight:normal}
ul.tree,ul.tree ul{list-style:none;margin:0;padding:0}
ul.tree ul{margin-left:14px;padding-left:14px;border-left:1px solid #adb5bd}
ul.tree li{margin:3px 0;position:relative}
ul.tree ul>li::before{content:"";position:absolute;left:-14px;top:38px;width:12px;border-top:1px solid #adb5bd}
.node{display:block;width:440px;height:76px;contain:strict;border:1px solid;border-radius:6px;padding:2px 8px;cursor:pointer;line-height:17px}
.node>div{height:17px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.node:hover{box-shadow:0 0 0 2px rgba(13,110,253,.25)}
.node.selected{outline:3px solid #0d6efd;outline-offset:-1px}
.node .t{font-weight:600}
.node .d{opacity:.85}
.node .s,.node .e{font-size:12px}
.node .e{font-family:ui-monospace,Menlo,Consolas,monospace;opacity:.9}
section.thread{content-visibility:auto;contain-intrinsic-size:auto 600px}
#detail{border-left:1px solid #dee2e6;background:#fff;overflow:auto;padding:12px 16px}
#detail h3{font-size:13px;margin:14px 0 6px}
#detail dl{display:grid;grid-template-columns:auto 1fr;gap:2px 10px;margin:0}
#detail dt{color:#6c757d}
#detail dd{margin:0;word-break:break-word}
#detail pre{white-space:pre-wrap;word-break:break-word;background:#f1f3f5;padding:6px;border-radius:4px;margin:0}
#detail ol{padding-left:18px;margin:0}
#detail .lineage a{cursor:pointer;color:#0d6efd}
#events li{margin-bottom:4px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
#cancel-btn{margin:10px 0 0 8px;padding:5px 12px;border:1px solid #dc3545;background:#fff;color:#dc3545;border-radius:4px;cursor:pointer}
#cancel-btn:disabled{border-color:#adb5bd;color:#adb5bd;cursor:not-allowed}
#cancel-result{margin-left:8px;font-size:12px}
.muted{color:#6c757d}
${statusRules}
${phaseRules}
`;

/** The page (`GET /`); the script and stylesheet come from the same server. */
export const INSPECTOR_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>awaken-tasks inspector</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>awaken-tasks · task trees</h1>
  <span id="conn">connecting…</span>
  <span id="counts"></span>
  <span id="token-state"></span>
</header>
<main>
  <div id="threads"><p class="muted" id="empty">No tasks yet.</p></div>
  <aside id="detail"><p class="muted">Click a task to see its summary, lineage and events.</p></aside>
</main>
</body>
</html>
`;
