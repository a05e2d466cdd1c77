// The report's inline stylesheet and script. No web fonts, no external assets: the file is opened
// from a CI artifact, an email or a laptop without network.

export const CSS = `
:root {
  color-scheme: light dark;
  --bg: #f7f8fa; --fg: #1d2329; --muted: #5d6873; --card: #ffffff; --line: #d9dee3; --head: #eef1f4; --link: #1558b0;
  --mtls-bg: #c9f0d3; --mtls-fg: #0d4f1f;
  --plain-bg: #fde9b0; --plain-fg: #5c4300;
  --app-tls-bg: #cfe3fb; --app-tls-fg: #0c3a70;
  --blocked-bg: #e6e9ec; --blocked-fg: #46525e;
  --unexpected-bg: #ffd2cc; --unexpected-fg: #8a1409; --unexpected-line: #d0281a;
  --error-bg: #eadcfb; --error-alt: #dcc5f7; --error-fg: #4d1f7a; --error-line: #7b3fb8;
  --pass: #1a7f37; --fail: #c2261a; --warn: #8a5a00;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1317; --fg: #e3e8ed; --muted: #98a3ae; --card: #171c21; --line: #2d353d; --head: #1e252c; --link: #79b8ff;
    --mtls-bg: #17462a; --mtls-fg: #b9f3c9;
    --plain-bg: #4d3c0a; --plain-fg: #ffe6a3;
    --app-tls-bg: #143456; --app-tls-fg: #c3defd;
    --blocked-bg: #262d34; --blocked-fg: #aab5bf;
    --unexpected-bg: #5c1a14; --unexpected-fg: #ffd0ca; --unexpected-line: #ff6b5c;
    --error-bg: #3a2454; --error-alt: #2e1c44; --error-fg: #e3cdfd; --error-line: #b98af0;
    --pass: #4ac26b; --fail: #ff7b72; --warn: #e3b341;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
main { max-width: 1360px; margin: 0 auto; padding: 20px 24px 48px; }
a { color: var(--link); }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace; font-size: 12.5px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h1 .cmd { color: var(--muted); font-weight: 400; }
h2 { font-size: 18px; margin: 0 0 6px; }
.headline { font-size: 16px; margin: 0 0 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; margin: 14px 0; }
.meta { display: flex; flex-wrap: wrap; gap: 2px 22px; margin: 0; }
.meta div { display: flex; gap: 6px; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0 0; padding: 0; list-style: none; }
.counts li { border: 1px solid var(--line); border-radius: 999px; padding: 2px 12px; background: var(--head); }
.counts b { font-size: 15px; }
.counts .bad b { color: var(--fail); } .counts .warn b { color: var(--warn); }
.toc { display: flex; flex-wrap: wrap; gap: 4px 20px; margin: 12px 0 0; padding: 0; list-style: none; }
.v-pass { color: var(--pass); } .v-mismatch { color: var(--fail); } .v-error { color: var(--warn); }
.legend { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 8px 24px; margin: 0; padding: 0; list-style: none; }
.legend li { display: flex; align-items: center; gap: 10px; }
.legend .swatch { flex: none; white-space: nowrap; min-width: 92px; text-align: center; padding: 3px 8px; border-radius: 4px; font-weight: 600; }
.muted { color: var(--muted); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; }
.matrix { margin: 10px 0 4px; }
/* height: 1px lets a cell's link fill the row when a neighbour has two lines */
.matrix th, .matrix td { border: 1px solid var(--line); padding: 0; height: 1px; }
.matrix thead th { background: var(--head); padding: 5px 8px; font-weight: 600; font-size: 12.5px; text-align: center; vertical-align: bottom; }
.matrix thead th .port { display: block; color: var(--muted); font-weight: 400; }
.matrix tbody th { background: var(--head); padding: 5px 10px; text-align: left; white-space: nowrap; font-size: 12.5px; }
.matrix .corner { color: var(--muted); font-weight: 400; text-align: left; }
a.c { display: flex; flex-direction: column; justify-content: center; height: 100%; min-width: 104px; padding: 7px 8px; text-align: center; text-decoration: none; font-weight: 600; white-space: nowrap; border: 2px solid transparent; }
a.c small { display: block; font-weight: 400; font-size: 11px; opacity: .9; }
a.c:hover, a.c:focus-visible, a.c.sel { outline: 3px solid var(--link); outline-offset: -3px; }
.k-mtls { background: var(--mtls-bg); color: var(--mtls-fg); }
.k-plain { background: var(--plain-bg); color: var(--plain-fg); }
.k-app-tls { background: var(--app-tls-bg); color: var(--app-tls-fg); }
.k-blocked { background: var(--blocked-bg); color: var(--blocked-fg); font-weight: 500; }
.k-unexpected { background: var(--unexpected-bg); color: var(--unexpected-fg); border-color: var(--unexpected-line) !important; border-style: solid; }
.k-error { background: repeating-linear-gradient(135deg, var(--error-bg) 0 6px, var(--error-alt) 6px 12px); color: var(--error-fg); border-color: var(--error-line) !important; border-style: dashed !important; }
.verdict-line { margin: 6px 0 0; }
.issues { margin: 8px 0 0; padding-left: 20px; }
.detail { display: none; margin: 10px 0; border: 1px solid var(--line); border-left: 4px solid var(--link); border-radius: 6px; padding: 10px 14px; background: var(--head); }
.detail:target { display: block; }
.detail h3 { font-size: 14.5px; margin: 0 0 6px; display: flex; justify-content: space-between; gap: 12px; }
.detail h3 a { font-weight: 400; font-size: 12.5px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
pre { background: var(--head); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; overflow-x: auto; margin: 6px 0; }
.detail pre { background: var(--card); }
details { margin: 8px 0 0; }
summary { cursor: pointer; font-weight: 600; }
.grid th, .grid td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; font-size: 12.5px; vertical-align: top; }
.grid th { background: var(--head); }
.grid .soon { color: var(--fail); font-weight: 600; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 24px; }
`;

// Keeps the matrix in view when a cell's panel opens: the panels work without script (`:target`),
// but the browser would scroll the panel to the top of the window.
export const SCRIPT = `
var keep = null;
document.addEventListener('click', function (e) {
  if (e.target.closest && e.target.closest('a.c')) keep = window.scrollY;
});
function select() {
  document.querySelectorAll('a.c').forEach(function (c) { c.classList.toggle('sel', location.hash !== '' && c.hash === location.hash); });
}
window.addEventListener('hashchange', function () {
  if (keep !== null) window.scrollTo(0, keep);
  keep = null;
  select();
  var panel = document.querySelector('.detail:target');
  if (panel) panel.scrollIntoView({ block: 'nearest' });
});
select();
`;
