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

  let state = null;
  let screenKey = "";
  let settingsKey = "";
  let captionTurn = -1;
  let scanIndex = -1;
  let numberEntry = "";
  const MAX_DIGITS = 6;

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
      else continue;
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
    const group = function (kind) { return kind === "command" ? commands : answers; };

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
      screenEl.append(el("h1", { id: "question", "data-question-id": view.question.id }, view.question.text));
      if (view.still_there) screenEl.append(el("p", { id: "still-there", role: "status" }, view.text.still_there));
      if (view.question.type === "number") {
        const entry = el("p", { id: "number-entry" });
        entry.append(el("span", { id: "number-label" }, view.text.number_entered + ": "));
        entry.append(el("output", { id: "number-value", "aria-labelledby": "number-label", "aria-live": "polite" }, ""));
        screenEl.append(entry);
      }
      renderButtons(view, group);
      screenEl.append(answers, commands);
      return;
    }
    if (view.screen === "result" && view.result) {
      const r = view.result;
      const section = el("section", { id: "result", "data-level": r.level, "aria-labelledby": "result-title" });
      if (r.emergency) section.classList.add("emergency");
      section.append(el("h1", { id: "result-title" }, r.title));
      if (r.wait) section.append(el("p", { id: "emergency-wait", class: "wait" }, r.wait));
      for (const line of r.lines) section.append(el("p", {}, line));
      screenEl.append(section);
      renderButtons(view, group);
      screenEl.append(commands);
    }
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

  function renderCaptions(captions) {
    if (captions.turn === captionTurn && captionEl.childElementCount === captions.lines.length) return;
    captionTurn = captions.turn;
    captionEl.replaceChildren();
    for (const line of captions.lines) addCaption(line);
  }

  function addCaption(text) {
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
      scanCaptionEl.textContent = "";
    }
    applySettings(view.settings);
    renderCaptions(view.captions);
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
    if (b.dataset.action === "ok") {
      if (!numberEntry) return post({ interrupt: true });
      const value = numberEntry;
      numberEntry = "";
      updateNumber();
      return post({ answer: value });
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
    };
  }

  fetch("/api/state")
    .then(function (r) { return r.json(); })
    .then(function (view) { if (!state) onState(view); })
    .catch(function () {});
  connect();
})();
