// The console's only script: progressive enhancement of server-rendered pages
// (everything works without it). It (1) shows a custom-expression field only
// when "Custom…" is picked, (2) asks the server to validate a column's rule as
// it is typed or picked and shows the API's own message, and (3) polls the
// branch's anonymized_status to move the progress bar. Plain ES2019, no build.
export const clientScript = `
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) { return { ok: res.ok, status: res.status, body: json }; });
    });
  }

  function enhanceRow(row, validateUrl) {
    var select = row.querySelector("select[data-picker]");
    var custom = row.querySelector("[data-custom]");
    var expr = row.querySelector("input[data-expr]");
    var out = row.querySelector("[data-message]");
    if (!select || !custom || !expr || !out) return;
    var seq = 0;
    var timer = null;
    function isCustom() { return select.value.indexOf("custom_") === 0; }
    function sync() { custom.hidden = !isCustom(); }
    function show(text, state) {
      out.textContent = text;
      out.setAttribute("data-state", state);
      var bad = state === "error";
      (isCustom() ? expr : select).setAttribute("aria-invalid", bad ? "true" : "false");
      (isCustom() ? select : expr).removeAttribute("aria-invalid");
    }
    function rule() {
      var r = {
        database_name: row.getAttribute("data-database"),
        schema_name: row.getAttribute("data-schema"),
        table_name: row.getAttribute("data-table"),
        column_name: row.getAttribute("data-column")
      };
      if (select.value === "none") return null;
      var kind, text;
      if (isCustom()) {
        kind = select.value === "custom_value" ? "value" : "function";
        text = expr.value.trim();
      } else {
        var option = select.options[select.selectedIndex];
        kind = option.getAttribute("data-kind");
        text = option.getAttribute("data-expression");
      }
      if (!text) return undefined;
      r[kind === "value" ? "masking_value" : "masking_function"] = text;
      return r;
    }
    function check() {
      var r = rule();
      var mine = ++seq;
      if (r === null) { show("", ""); return; }
      if (r === undefined) { show("Type an expression to check it.", "pending"); return; }
      show("Checking\\u2026", "pending");
      postJson(validateUrl, { masking_rules: [r] }).then(function (res) {
        if (mine !== seq) return;
        if (res.ok) show("Valid.", "ok");
        else show(res.body && res.body.message ? res.body.message : "Refused (HTTP " + res.status + ")", "error");
      }, function () {
        if (mine === seq) show("Could not reach the server to check this rule.", "error");
      });
    }
    select.addEventListener("change", function () { sync(); check(); });
    expr.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(check, 300);
    });
    sync();
  }

  var form = document.querySelector("form[data-validate-url]");
  if (form) {
    var url = form.getAttribute("data-validate-url");
    var rows = form.querySelectorAll("[data-rule-row]");
    for (var i = 0; i < rows.length; i++) enhanceRow(rows[i], url);
  }

  var panel = document.querySelector("[data-status-url]");
  if (panel) {
    var bar = panel.querySelector("progress");
    var stateEl = panel.querySelector("[data-status-state]");
    var messageEl = panel.querySelector("[data-status-message]");
    var runEl = panel.querySelector("[data-status-run]");
    var summary = function (run) {
      var started = run.started_at ? "started " + run.started_at.slice(0, 10) + " " + run.started_at.slice(11, 16) + " UTC" : "not started yet";
      var n = run.masked_columns;
      return " \u00b7 last run by " + run.triggered_by_username + ", " + started + ", " + n + (n === 1 ? " column" : " columns") + " masked";
    };
    // Same rule as workPending() on the server.
    var pending = function (s) {
      if (s.state === "created" || s.state === "anonymizing") return true;
      return s.state === "initialized" && !!s.last_run && !s.last_run.completed_at;
    };
    var poll = function () {
      fetch(panel.getAttribute("data-status-url"), { credentials: "same-origin", headers: { accept: "application/json" } })
        .then(function (res) { return res.ok ? res.json() : Promise.reject(res.status); })
        .then(function (s) {
          panel.setAttribute("data-state", s.state);
          if (stateEl) stateEl.textContent = s.state;
          if (messageEl) messageEl.textContent = s.status_message || "";
          if (runEl && s.last_run) runEl.textContent = summary(s.last_run);
          if (bar) {
            var m = /\\((\\d+)\\/(\\d+)\\)/.exec(s.status_message || "");
            if (s.state === "anonymized") { bar.max = 1; bar.value = 1; bar.textContent = "done"; }
            else if (m) { bar.max = Number(m[2]); bar.value = Number(m[1]) - 1; bar.textContent = m[1] + "/" + m[2]; }
            else { bar.max = 1; bar.value = 0; bar.textContent = s.state; }
          }
          panel.setAttribute("data-pending", String(pending(s)));
          if (pending(s)) setTimeout(poll, 1000);
        }, function (status) {
          // Signed out, key revoked or branch gone: a reload shows why. Otherwise retry slowly.
          if (status === 401 || status === 403 || status === 404) return;
          setTimeout(poll, 5000);
        });
    };
    if (panel.getAttribute("data-pending") === "true") setTimeout(poll, 500);
  }
})();
`;
