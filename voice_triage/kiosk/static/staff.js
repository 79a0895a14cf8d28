// The staff page: live alert banner (kiosk, time and level only), acknowledge, print one record.
"use strict";

(function () {
  const alertsEl = document.getElementById("alerts");
  const sessionsEl = document.getElementById("sessions");
  const recordsEl = document.getElementById("records-status");
  const words = document.body.dataset;  // the staff page's words in the kiosk's locale (data-staff-needed, ...)
  if (!alertsEl) return;  // the sign-in page

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function renderAlerts(alerts) {
    const known = JSON.stringify(alerts.map(function (a) { return a.id; }));
    if (alertsEl.dataset.ids === known) return;
    alertsEl.dataset.ids = known;
    alertsEl.replaceChildren();
    if (!alerts.length) return;
    const banner = el("div", { id: "staff-alert", role: "alert" });
    banner.append(el("h2", {}, words.staffNeeded || "Staff needed"));
    const list = el("ul");
    for (const a of alerts) {
      const item = el("li");
      item.append(el("span", { class: "alert-level" }, a.level));
      item.append(document.createTextNode(": " + a.kiosk + ", "));
      item.append(el("time", { datetime: a.time }, a.time));
      item.append(document.createTextNode(" "));
      item.append(el("button", { type: "button", class: "ack", "data-alert-id": a.id }, words.acknowledge || "Acknowledge"));
      list.append(item);
    }
    banner.append(list);
    alertsEl.append(banner);
  }

  // The records' state: a sentence while records are not saved, and what happened to the database.
  function renderRecords(problem, notices) {
    if (!recordsEl) return;
    const known = JSON.stringify([problem, notices]);
    if (recordsEl.dataset.known === known) return;
    recordsEl.dataset.known = known;
    recordsEl.replaceChildren();
    if (problem) recordsEl.append(el("p", { id: "records-problem", role: "alert" }, problem));
    if (notices.length) {
      recordsEl.append(el("h2", {}, words.recordNotices || "Record notices"));
      const list = el("ul", { id: "record-notices" });
      for (const n of notices) {
        const item = el("li");
        item.append(el("time", { datetime: n.time }, n.time));
        item.append(document.createTextNode(": " + n.text));
        list.append(item);
      }
      recordsEl.append(list);
    }
  }

  function refresh() {
    fetch("/api/staff/alerts", { credentials: "same-origin" })
      .then(function (r) { if (r.status === 401) { window.location.reload(); } return r.json(); })
      .then(function (data) {
        // a new record, or one saved at last: reload (the page shows them, and the banner, as the server renders them)
        const changed = sessionsEl && (String(data.sessions) !== sessionsEl.dataset.count ||
          String(data.unsaved || 0) !== (sessionsEl.dataset.unsaved || "0"));
        if (changed && !document.body.classList.contains("printing-one")) {
          window.location.reload();
          return;
        }
        renderAlerts(data.alerts || []);
        renderRecords(data.problem || null, data.notices || []);
      })
      .catch(function () {});
  }

  document.addEventListener("click", function (event) {
    const target = event.target instanceof Element ? event.target.closest("button") : null;
    if (!target) return;
    if (target.classList.contains("ack")) {
      fetch("/api/staff/ack", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ id: Number(target.dataset.alertId) }),
      }).then(refresh).catch(function () {});
    } else if (target.dataset.print) {
      const article = document.getElementById("session-" + target.dataset.print);
      if (!article) return;
      document.body.classList.add("printing-one");
      article.classList.add("printing");
      window.print();
      article.classList.remove("printing");
      document.body.classList.remove("printing-one");
    }
  });

  alertsEl.dataset.ids = JSON.stringify(
    Array.from(alertsEl.querySelectorAll("button.ack")).map(function (b) { return Number(b.dataset.alertId); })
  );
  window.setInterval(refresh, 2000);
})();
