// The kiosk page: renders the server's screen state with textContent only,
// sends touches, keys and switch presses to POST /api/input, and follows
// live updates from GET /events (server-sent events).
//
// Keyboard: every button has data-key (its single key, shown on it).
// Single-switch scanning: Space moves the highlight to the next button (its
// label is captioned, and spoken by the kiosk); Enter presses it.
"use strict";

(function () {
  const screenEl = document.getElementById("screen");
  const captionEl = document.getElementById("caption");
  const scanCaptionEl = document.getElementById("scan-caption");
  const settingsEl = document.getElementById("settings");
  const listeningEl = document.getElementById("listening");
  const indicatorEl = document.getElementById("indicator");
  const indicatorLabelEl = document.getElementById("indicator-label");
  const levelEl = document.getElementById("level-bar");
  const listenLiveEl = document.getElementById("listen-live");
  const heardEl = document.getElementById("heard");
  const slipEl = document.getElementById("slip");

  let state = null;
  let screenKey = "";
  let settingsKey = "";
  let captionTurn = -1;
  let scanIndex = -1;
  let numberEntry = "";
  let numberUnit = null;  // the unit button pressed for a duration: {days, label}
  let listenState = null;
  let announced = null;
  let announceTimer = null;
  let heardText = null;
  const MAX_DIGITS = 6;
  const ANNOUNCE_AFTER_MS = 900;  // a listening state is announced only once it has lasted this long
  const ICONS = { emergency: "!", urgent: "!", routine: "\u2713", self_care: "\u2302" };

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function keyLabel(key) {
    return key.length === 1 ? key.toUpperCase() : key;
  }

  function button(spec, attrs) {
    const b = el("button", Object.assign({ type: "button", "data-key": spec.key }, attrs));
    b.append(el("span", { class: "label" }, spec.label));
    b.append(el("kbd", { class: "key", "aria-hidden": "true" }, keyLabel(spec.key)));
    return b;
  }

  // Every input that answers the screen names it by its step: an answer or command
  // for a screen no longer shown (a double tap, taps queued while the kiosk was busy)
  // is refused with 409 and the screen really shown, which is then rendered.
  function post(body) {
    if (state && body.setting === undefined && body.interrupt === undefined && body.scan === undefined) {
      body.step = state.step;
    }
    return fetch("/api/input", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) {
      if (r.status !== 409) return null;
      return r.json().then(function (data) {
        if (data && data.state && (!state || data.state.version >= state.version)) onState(data.state);
      });
    }).catch(function () { /* the next state event tells the truth */ });
  }

  // ---------------------------------------------------------------- render

  function renderButtons(view, group) {
    for (const spec of view.buttons) {
      let b;
      if (spec.kind === "start") b = button(spec, { id: "start" });
      else if (spec.kind === "answer") b = button(spec, { "data-answer": spec.value, class: "answer" });
      else if (spec.kind === "digit") b = button(spec, { "data-digit": spec.value, class: "digit" });
      else if (spec.kind === "delete") b = button(spec, { id: "number-delete", "data-action": "delete" });
      else if (spec.kind === "ok") b = button(spec, { id: "number-ok", "data-action": "ok" });
      else if (spec.kind === "command") b = button(spec, { "data-command": spec.value, class: "command" });
      else if (spec.kind === "print") b = button(spec, { id: "print", "data-action": "print", class: "command" });
      else if (spec.kind === "unit") {
        b = button(spec, { "data-unit": spec.unit, "data-days": spec.value, class: "unit", "aria-pressed": "false" });
      } else continue;
      group(spec.kind).append(b);
    }
  }

  function renderScreen(view) {
    screenEl.replaceChildren();
    numberEntry = "";
    scanIndex = -1;
    const regions = view.regions || {};
    const answers = el("div", { id: "answers", role: "group", "aria-label": regions.answers || "Answers" });
    const commands = el("div", { id: "commands", role: "group", "aria-label": regions.commands || "Commands" });
    const units = el("div", { id: "units", role: "group", "aria-label": regions.units || "Unit" });
    const group = function (kind) {
      if (kind === "command" || kind === "print") return commands;
      return kind === "unit" ? units : answers;
    };
    numberUnit = null;

    if (view.screen === "idle") {
      screenEl.append(el("h1", { id: "title" }, view.text.title));
      screenEl.append(el("p", { id: "invite", class: "invite" }, view.text.invite));
      const start = el("div", { id: "start-area" });
      renderButtons(view, function () { return start; });
      screenEl.append(start);
      return;
    }
    if (view.screen === "error") {
      screenEl.append(el("h1", { id: "error" }, view.text.error_title));
      screenEl.append(el("p", { class: "error-text" }, view.text.error));
      const start = el("div", { id: "start-area" });
      renderButtons(view, function () { return start; });
      screenEl.append(start);
      return;
    }
    if (view.screen === "question" && view.question) {
      const q = view.question;
      if (q.progress) screenEl.append(el("p", { id: "progress" }, progressText(view.text, q.progress)));
      screenEl.append(el("h1", { id: "question", "data-question-id": q.id }, q.text));
      if (view.still_there) screenEl.append(el("p", { id: "still-there", role: "status" }, view.text.still_there));
      if (q.type === "number") {
        const entry = el("p", { id: "number-entry" });
        entry.append(el("span", { id: "number-label" }, view.text.number_entered + ": "));
        entry.append(el("output", { id: "number-value", "aria-labelledby": "number-label", "aria-live": "polite" }, ""));
        entry.append(el("span", { id: "number-unit" }, q.unit === "years" ? " " + view.text.unit_years : ""));
        screenEl.append(entry);
      }
      renderButtons(view, group);
      if (units.childElementCount) {
        screenEl.append(units);
        const first = units.querySelector("button");
        if (first) selectUnit(first);
      }
      screenEl.append(answers, commands);
      return;
    }
    if (view.screen === "result" && view.result) {
      screenEl.append(renderResult(view.result));
      renderButtons(view, group);
      screenEl.append(commands);
    }
  }

  function progressText(text, progress) {
    const n = text.progress.replace("{n}", String(progress.n));
    const rest = progress.left > 0 ? text.progress_left.replace("{left}", String(progress.left)) : text.progress_last;
    return n + ": " + rest;
  }

  // The result as NHS 111 online shows one: a coloured banner with an icon and what to do now,
  // the possible causes as a short list, the warning signs in a box of their own, the disclaimer.
  function renderResult(r) {
    const section = el("section", { id: "result", "data-level": r.level, "aria-labelledby": "result-title" });
    if (r.emergency) section.classList.add("emergency");
    const banner = el("div", { id: "level-banner", class: "banner level-" + r.level });
    banner.append(el("span", { class: "icon", "aria-hidden": "true" }, ICONS[r.level] || "i"));
    const words = el("div", { class: "banner-text" });
    words.append(el("h1", { id: "result-title" }, r.title));
    words.append(el("p", { id: "result-now" }, r.now));
    banner.append(words);
    section.append(banner);
    if (r.wait) section.append(el("p", { id: "emergency-wait", class: "wait" }, r.wait));
    if (r.causes.length) {
      const causes = el("section", { id: "causes", "aria-labelledby": "causes-title" });
      causes.append(el("h2", { id: "causes-title" }, r.causes_title));
      const list = el("ul", {});
      for (const c of r.causes) {
        const item = el("li", { class: "cause" });
        item.append(el("strong", { class: "cause-name" }, c.name));
        item.append(el("span", { class: "cause-explain" }, c.explain));
        if (c.because) item.append(el("span", { class: "because" }, c.because));
        list.append(item);
      }
      causes.append(list);
      section.append(causes);
    }
    if (r.self_care.length) {
      const care = el("section", { id: "self-care", "aria-labelledby": "self-care-title" });
      care.append(el("h2", { id: "self-care-title" }, r.self_care_title));
      const list = el("ul", {});
      for (const tip of r.self_care) list.append(el("li", {}, tip));
      care.append(list);
      section.append(care);
    }
    if (r.warnings.length) {
      const warn = el("section", { id: "warnings", "aria-labelledby": "warnings-title" });
      warn.append(el("h2", { id: "warnings-title" }, r.warnings_title));
      const list = el("ul", {});
      for (const w of r.warnings) list.append(el("li", {}, w));
      warn.append(list);
      section.append(warn);
    }
    section.append(el("p", { id: "disclaimer" }, r.disclaimer));
    return section;
  }

  // The hand-off slip: printed (print stylesheet, or the kiosk's receipt printer), never shown on
  // screen; the level, the answers in plain words, the time and the kiosk; no name, no identifier.
  function renderSlip(view) {
    const s = view.result && view.result.slip;
    slipEl.replaceChildren();
    if (!s) return;
    const t = view.text;
    slipEl.append(el("h2", { id: "slip-title" }, t.slip_title));
    slipEl.append(el("p", { class: "slip-kiosk" }, t.slip_kiosk + ": " + s.kiosk));
    slipEl.append(el("p", { class: "slip-time" }, t.slip_time + ": " + s.time));
    slipEl.append(el("p", { class: "slip-level" }, t.slip_level + ": " + s.level + ". " + s.now));
    slipEl.append(el("h3", {}, t.slip_answers));
    const table = el("table", {});
    const head = el("tr", {});
    head.append(el("th", { scope: "col" }, t.slip_question), el("th", { scope: "col" }, t.slip_answer));
    const thead = el("thead", {});
    thead.append(head);
    table.append(thead);
    const body = el("tbody", {});
    for (const row of s.answers) {
      const tr = el("tr", {});
      tr.append(el("td", {}, row.question), el("td", {}, row.answer));
      body.append(tr);
    }
    table.append(body);
    slipEl.append(table);
    slipEl.append(el("p", { class: "slip-disclaimer" }, s.disclaimer));
  }

  function selectUnit(b) {
    for (const other of document.querySelectorAll("#units button")) other.setAttribute("aria-pressed", "false");
    b.setAttribute("aria-pressed", "true");
    const label = b.querySelector(".label");
    numberUnit = { days: Number(b.dataset.days), label: label ? label.textContent : "" };
    const shown = document.getElementById("number-unit");
    if (shown) shown.textContent = " " + numberUnit.label;
  }

  // ---------------------------------------------------------------- listening

  function renderListening(listen) {
    if (!listen) {
      listeningEl.hidden = true;
      listenState = null;
      return;
    }
    listeningEl.hidden = false;
    const t = state && state.text ? state.text : {};
    if (listen.state !== listenState) {
      listenState = listen.state;
      indicatorEl.setAttribute("data-state", listen.state);
      indicatorLabelEl.textContent = t["listen_" + listen.state] || listen.state;
      // announced only once it lasts (speaking, listening, hearing, thinking can follow each
      // other within a second): never more than one announcement per settled state
      clearTimeout(announceTimer);
      announceTimer = setTimeout(function () {
        if (listenState !== announced) {
          announced = listenState;
          listenLiveEl.textContent = indicatorLabelEl.textContent;
        }
      }, ANNOUNCE_AFTER_MS);
    }
    const level = listen.state === "hearing" ? Math.max(0.08, Math.min(1, Number(listen.level) || 0)) : 0;
    levelEl.style.transform = "scaleX(" + level.toFixed(2) + ")";
  }

  function renderHeard(text) {
    if (text === heardText) return;
    heardText = text;
    heardEl.textContent = text ? ((state && state.text ? state.text.heard : "I heard") + ": " + text) : "";
  }


  function renderSettings(view) {
    const key = JSON.stringify(view.settings_buttons);
    if (key === settingsKey) return;
    settingsKey = key;
    settingsEl.replaceChildren();
    settingsEl.setAttribute("aria-label", (view.regions && view.regions.settings) || "Settings");
    for (const spec of view.settings_buttons) {
      settingsEl.append(button(spec, { "data-setting": spec.value, class: "setting" }));
    }
  }

  function applySettings(settings) {
    document.body.classList.toggle("high-contrast", Boolean(settings.contrast));
    document.documentElement.setAttribute("data-text-size", String(settings.text_size || 0));
    const contrast = settingsEl.querySelector('[data-setting="contrast"]');
    if (contrast) contrast.setAttribute("aria-pressed", settings.contrast ? "true" : "false");
  }

  // On the result screen the caption is the one sentence being said (the screen shows the rest).
  function onlyLatest() {
    return Boolean(state && state.screen === "result");
  }

  function renderCaptions(captions) {
    const lines = onlyLatest() ? captions.lines.slice(-1) : captions.lines;
    if (captions.turn === captionTurn && captionEl.childElementCount === lines.length
        && (!onlyLatest() || captionEl.textContent === lines.join(""))) return;
    captionTurn = captions.turn;
    captionEl.replaceChildren();
    for (const line of lines) addCaption(line);
  }

  function addCaption(text) {
    if (onlyLatest()) captionEl.replaceChildren();
    if (captionEl.childElementCount) captionEl.append(document.createTextNode(" "));
    captionEl.append(el("span", { class: "sentence" }, text));
  }

  function onState(view) {
    state = view;
    document.documentElement.setAttribute("lang", view.lang || "en");
    const key = JSON.stringify([view.screen, view.question, view.result, view.buttons, view.still_there]);
    renderSettings(view);
    if (key !== screenKey) {
      screenKey = key;
      renderScreen(view);
      renderSlip(view);
      scanCaptionEl.textContent = "";
    }
    applySettings(view.settings);
    renderCaptions(view.captions);
    renderListening(view.listen);
    renderHeard(view.heard);
  }

  function onCaption(event) {
    if (event.turn !== captionTurn) {
      captionTurn = event.turn;
      captionEl.replaceChildren();
    }
    addCaption(event.text);
  }

  // ---------------------------------------------------------------- input

  function updateNumber() {
    const out = document.getElementById("number-value");
    if (out) out.textContent = numberEntry;
  }

  function press(b) {
    if (b.id === "start") return post({ start: true });
    if (b.dataset.answer !== undefined) return post({ answer: b.dataset.answer });
    if (b.dataset.command !== undefined) return post({ command: b.dataset.command });
    if (b.dataset.setting !== undefined) return post({ setting: b.dataset.setting });
    if (b.dataset.digit !== undefined) {
      if (numberEntry.length < MAX_DIGITS) numberEntry += b.dataset.digit;
      updateNumber();
      return post({ interrupt: true });
    }
    if (b.dataset.action === "delete") {
      numberEntry = numberEntry.slice(0, -1);
      updateNumber();
      return post({ interrupt: true });
    }
    if (b.dataset.unit !== undefined) {
      selectUnit(b);
      return post({ interrupt: true });
    }
    if (b.dataset.action === "ok") {
      if (!numberEntry) return post({ interrupt: true });
      // a duration in weeks, months or years is answered in days (what the record keeps)
      const value = numberUnit ? String(Number(numberEntry) * numberUnit.days) : numberEntry;
      numberEntry = "";
      updateNumber();
      return post({ answer: value });
    }
    if (b.dataset.action === "print") {
      if (state && state.result && state.result.printer) return post({ print: true });
      window.print();  // the print stylesheet prints the slip alone
      return null;
    }
    return null;
  }

  function buttons() {
    return Array.from(document.querySelectorAll("#screen button, #settings button"));
  }

  function highlight(index) {
    const all = buttons();
    for (const b of all) {
      b.classList.remove("scan");
      b.removeAttribute("data-scan-current");
    }
    if (!all.length) return;
    scanIndex = ((index % all.length) + all.length) % all.length;
    const b = all[scanIndex];
    b.classList.add("scan");
    b.setAttribute("data-scan-current", "true");
    b.focus({ preventScroll: false });
    const label = b.querySelector(".label");
    scanCaptionEl.textContent = (state && state.text ? state.text.scan_prefix + ": " : "") + (label ? label.textContent : "");
    post({ scan: b.dataset.key });
  }

  document.addEventListener("click", function (event) {
    const b = event.target instanceof Element ? event.target.closest("button") : null;
    if (!b || !(screenEl.contains(b) || settingsEl.contains(b))) return;
    const all = buttons();
    const index = all.indexOf(b);
    if (index >= 0) scanIndex = index;
    press(b);
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (event.key === " " || event.key === "Spacebar") {
      event.preventDefault();
      if (!event.repeat) highlight(scanIndex + 1);
      return;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      if (event.repeat) return;
      const all = buttons();
      let target = scanIndex >= 0 && scanIndex < all.length ? all[scanIndex] : null;
      if (!target && document.activeElement instanceof HTMLButtonElement && all.includes(document.activeElement)) {
        target = document.activeElement;
      }
      if (target) target.click();
      return;
    }
    if (event.key === "Tab") return;  // ordinary keyboard navigation
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const match = buttons().find(function (b) { return (b.dataset.key || "").toLowerCase() === key; });
    event.preventDefault();
    if (match && !event.repeat) {
      match.click();
    } else if (!event.repeat) {
      post({ interrupt: true });  // any key stops the speech
    }
  });

  // Space and Enter on a focused button would press it a second time.
  document.addEventListener("keyup", function (event) {
    if (event.key === " " || event.key === "Enter") event.preventDefault();
  });

  document.addEventListener("pointerdown", function (event) {
    const b = event.target instanceof Element ? event.target.closest("button") : null;
    if (!b) post({ interrupt: true });  // a touch anywhere stops the speech
  });

  // ---------------------------------------------------------------- updates

  function connect() {
    const source = new EventSource("/events");
    source.onmessage = function (message) {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.type === "state") onState(event.state);
      else if (event.type === "caption") onCaption(event);
      else if (event.type === "listen") { if (state) renderListening(event); }
      else if (event.type === "heard") renderHeard(event.text);
    };
  }

  fetch("/api/state")
    .then(function (r) { return r.json(); })
    .then(function (view) { if (!state) onState(view); })
    .catch(function () {});
  connect();
})();
