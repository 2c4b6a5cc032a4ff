// The console's one stylesheet, served by the app (no CDN, works offline).
// Colours keep at least 4.5:1 contrast on their backgrounds; below 720 px the
// column tables turn into stacked cards so a phone needs no sideways scrolling.
export const stylesheet = `
:root { color-scheme: light; --fg: #1a1a1a; --muted: #4a4a4a; --line: #c8c8c8; --bg: #fff; --soft: #f3f4f6;
  --link: #0b57d0; --ok: #1b5e20; --bad: #a50e0e; --warn: #7a4a00; --accent: #0b57d0; }
* { box-sizing: border-box; }
html { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--fg); background: var(--bg); }
body { margin: 0; }
a { color: var(--link); }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -10000px; top: 0; background: var(--bg); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; top: .5rem; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; justify-content: space-between;
  padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); background: var(--soft); }
header.top .brand { font-weight: 700; font-size: 1.1rem; color: var(--fg); text-decoration: none; }
header.top .who { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
nav.crumbs ol { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem; padding: 0; margin: 0 0 .5rem; }
nav.crumbs li + li::before { content: "/"; margin-right: .25rem; color: var(--muted); }
h1 { font-size: 1.6rem; margin: .25rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem; }
.muted { color: var(--muted); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
.wrap-any { overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
.flash { padding: .75rem 1rem; border-left: 4px solid var(--ok); background: #eef7ee; margin: 0 0 1rem; }
.flash.error { border-color: var(--bad); background: #fdeeee; }
.links { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; padding: 0; list-style: none; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .5rem; border-bottom: 1px solid var(--line); }
thead th { background: var(--soft); font-weight: 600; }
.badge { display: inline-block; padding: 0 .4rem; border: 1px solid var(--muted); border-radius: .25rem; font-size: .85em; margin: 0 .25rem .25rem 0; }
.badge.sensitive { border-color: var(--warn); color: var(--warn); }
.badge.state-anonymized, .badge.state-ready { border-color: var(--ok); color: var(--ok); }
.badge.state-error, .badge.state-initialization_error { border-color: var(--bad); color: var(--bad); }
form.inline { display: inline; }
label { font-weight: 600; }
input[type=text], input[type=password], select { font: inherit; padding: .4rem .5rem; border: 1px solid #6b6b6b; border-radius: .25rem;
  background: var(--bg); color: var(--fg); max-width: 100%; }
input[type=text].expr { width: 100%; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
input[aria-invalid=true] { border-color: var(--bad); border-width: 2px; }
button { font: inherit; padding: .45rem .9rem; border-radius: .25rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: var(--bg); color: var(--accent); }
button.danger { background: var(--bg); color: var(--bad); border-color: var(--bad); }
.field { margin: 0 0 .9rem; display: flex; flex-direction: column; gap: .25rem; max-width: 32rem; }
.field.check { flex-direction: row; align-items: center; gap: .5rem; }
.hint { font-size: .9em; color: var(--muted); margin: 0; }
.message { margin: .25rem 0 0; font-size: .9em; min-height: 1.2em; overflow-wrap: anywhere; }
.message[data-state=ok] { color: var(--ok); }
.message[data-state=error] { color: var(--bad); }
.custom { margin-top: .4rem; }
details { margin: .25rem 0 .25rem 0; }
details > summary { cursor: pointer; padding: .3rem 0; font-weight: 600; }
details details { margin-left: 1rem; }
.progress { border: 1px solid var(--line); border-radius: .25rem; padding: .75rem 1rem; margin: 0 0 1rem; background: var(--soft); }
.progress h2 { margin-top: 0; }
.progress progress { width: 100%; height: 1.25rem; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; }
.table-wrap { overflow-x: auto; }
.apply { padding: .75rem 0; border-top: 1px solid var(--line); margin-top: 1rem; }
table.columns { table-layout: fixed; }
table.columns .w-col { width: 17%; } table.columns .w-type { width: 14%; } table.columns .w-detected { width: 19%; }
table.columns .w-current { width: 20%; } table.columns .w-mask { width: 30%; }
table.columns select { width: 100%; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .85em; margin: .25rem 0; }
@media (max-width: 720px) {
  main { padding: .75rem; }
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.stack tr { display: block; border: 1px solid var(--line); border-radius: .25rem; margin: 0 0 .75rem; padding: .25rem .5rem; }
  table.stack td, table.stack th { display: block; border: 0; padding: .25rem 0; width: auto !important; }
  table.stack [data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
  details details { margin-left: .5rem; }
}
`;
