/* The playground page: the socket, the controls, the URL, and drawing what the server sends.
   The server owns the truth; this page sends intentions and draws the replies (PROTOCOL.md). */
"use strict";

(function () {
  const P = window.RavinePlane, V = window.RavineViews, Ch = window.RavineCharts;
  const $ = id => document.getElementById(id);

  const pg = window.playground = {
    state: null, frame: null, points: null, config: null, ready: false,
    send(message) { return send(message); },
    get lrHistory() { return hist.lr.slice(); },   // the lr curve's points, as drawn
  };

  let hello = null, ws = null, retry = 0, retryTimer = null;
  const FIXED_TWO = new Set(["moons", "circles", "xor"]);
  // which optimizer shows which hyperparameter (the rest stay hidden)
  const HP_FOR = {
    momentum: ["momentum", "nesterov", "rmsprop"],
    beta1: ["adam", "adamw"],
    beta2: ["adam", "adamw", "rmsprop"],
    weight_decay: ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"],
    damping: ["newton"],
  };
  const SET_KEYS = { "lr": "lr", "momentum": "momentum", "beta1": "beta1", "beta2": "beta2",
    "weight-decay": "weight_decay", "damping": "damping", "l1": "l1", "l2": "l2",
    "clip-norm": "clip_norm", "schedule": "schedule", "batch-size": "batch_size" };
  const CONFIG_IDS = ["dataset", "function", "classes", "noise", "train-share", "points", "data-seed",
    "layers", "units-0", "units-1", "units-2", "units-3", "units-4", "units-5", "activation", "init",
    "batchnorm", "dropout", "optimizer", "seed"];

  /* ================= the socket ================= */

  function connect() {
    clearTimeout(retryTimer);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    setConn("connecting", "connecting…");
    try {
      ws = new WebSocket(`${proto}//${location.host}/ws`);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws.onopen = () => { retry = 0; setConn("on", "connected"); };
    ws.onmessage = ev => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { console.warn("unreadable message from the server"); return; }
      try { handle(msg); } catch (e) { console.error("while handling", msg && msg.type, e); }
    };
    ws.onclose = () => { pg.ready = false; scheduleReconnect(); };
    ws.onerror = () => {};  // onclose follows and reconnects
  }

  function scheduleReconnect() {
    const wait = Math.min(15, Math.pow(2, retry)) * 1000;
    retry = Math.min(retry + 1, 5);
    setConn("off", `offline · retrying in ${Math.round(wait / 1000)} s`);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, wait);
  }

  function setConn(kind, text) {
    const el = $("conn");
    el.className = "conn " + kind;
    el.textContent = text;
  }

  function send(message) {
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      showError("not connected to the server; retrying");
      return false;
    }
    ws.send(JSON.stringify(message));
    return true;
  }

  /* ================= messages from the server ================= */

  function handle(msg) {
    switch (msg.type) {
      case "hello": onHello(msg); break;
      case "state": onState(msg); break;
      case "points": onPoints(msg); break;
      case "frame": onFrame(msg); break;
      case "eigen": onEigen(msg); break;
      case "landscape": onLandscape(msg); break;
      case "warp": view.warp = msg; dirty.warp = true; requestDraw(); break;
      case "saved": $("save-result").textContent = "saved to " + msg.path; break;
      case "error": onError(msg); break;
      default: console.warn("unknown message type from the server:", msg.type);
    }
  }

  function onHello(msg) {
    hello = msg;
    pg.ready = false;
    fillOptions(msg.options || {}, msg.limits || {});
    let config = deepMerge(msg.config || {}, readHash() || {});
    if (pg.config) config = deepMerge(config, pg.config);  // a reconnect keeps what the user had
    writeControls(config);
    configure(config);
  }

  function onState(msg) {
    pg.state = msg;
    if (msg.config) {
      pg.config = msg.config;
      writeControls(msg.config);
      writeHash(msg.config);
    }
    setRunning(msg.running);
    setCounters(msg.step, msg.epoch);
    if (typeof msg.racing === "boolean") {
      raceRunning = msg.racing;
      if (!msg.racing) { view.raceCleared = true; dirty.race = true; }
      setRaceButton();
    }
    $("step-kind").textContent = (msg.step_kind ? `step: ${msg.step_kind}` : "") +
      (msg.stop_reason ? ` · stopped: ${msg.stop_reason}` : "");
    $("param-count").textContent = msg.parameters !== undefined ? `${msg.parameters} parameters` : "";
    const newton = $("optimizer").querySelector('option[value="newton"]');
    if (newton) {
      newton.disabled = msg.newton_allowed === false && $("optimizer").value !== "newton";
      newton.textContent = msg.newton_allowed === false ? "newton (net too large)" : "newton";
    }
    document.querySelectorAll('#race-optimizers input[value="newton"]').forEach(c => {
      c.disabled = msg.newton_allowed === false;
      if (c.disabled) c.checked = false;
    });
    updateWarpLayers();
    dirty.network = true;
    requestDraw();
  }

  function onPoints(msg) {
    pg.points = msg;
    $("point-count").textContent = String((msg.train || []).length + (msg.valid || []).length);
    updatePointClasses(msg.classes);
    updateLegend(msg.classes);
    let s = 0;
    for (const p of (msg.train || []).concat(msg.valid || [])) s = Math.max(s, Math.abs(p[2]));
    view.regressionScale = s || 1;
    dirty.plane = true; dirty.race = true; dirty.warp = true;
    requestDraw();
  }

  function onFrame(msg) {
    const prev = pg.frame;
    if (prev && msg.step < prev.step) clearHistory();
    pg.frame = msg;
    if (hello) pg.ready = true;
    setCounters(msg.step, msg.epoch);
    $("train-loss").textContent = fmtLoss(msg.train_loss);
    $("valid-loss").textContent = fmtLoss(msg.valid_loss);
    $("error-figure").textContent = msg.train_error === null || msg.train_error === undefined ? "–"
      : `${pct(msg.train_error)} / ${pct(msg.valid_error)}`;
    if (typeof msg.running === "boolean") setRunning(msg.running);
    appendHistory(msg);
    if (msg.grad_norms) {
      hist.gradSteps.push(msg.step);
      msg.grad_norms.forEach((g, i) => { (hist.grad[i] = hist.grad[i] || []); });
      hist.grad.forEach((arr, i) => arr.push(msg.grad_norms[i] === undefined ? null : msg.grad_norms[i]));
      trim(hist.gradSteps, hist.grad);
    }
    const c = msg.curvature;
    const flag = $("ill-flag");
    if (c && c.ill_conditioned) {
      flag.className = "flag bad"; flag.textContent = "ill-conditioned: lr · gᵀHg/gᵀg > 2";
    } else if (c) {
      flag.className = "flag ok";
      flag.textContent = c.gHg_over_gg !== null && c.gHg_over_gg !== undefined && msg.lr
        ? `lr · gᵀHg/gᵀg = ${(msg.lr * c.gHg_over_gg).toFixed(2)} < 2` : "ok";
    } else { flag.className = "flag off"; flag.textContent = "no curvature"; }
    if (msg.race) {
      if (!raceRunning && !view.raceCleared) raceRunning = true;
      for (let i = 0; i < msg.race.length; i++) {
        const lane = msg.race[i];
        const h = (hist.race[i] = hist.race[i] || { steps: [], train: [], valid: [] });
        if (h.steps.length && lane.step < h.steps[h.steps.length - 1]) { h.steps = []; h.train = []; h.valid = []; }
        h.steps.push(lane.step); h.train.push(lane.train_loss); h.valid.push(lane.valid_loss);
      }
      dirty.race = true;
    } else if (raceRunning && !msg.race) {
      raceRunning = false;
    }
    setRaceButton();
    if (msg.warp) { view.warp = msg.warp; dirty.warp = true; }
    if (msg.path) { view.path = msg.path; dirty.landscape = true; }
    dirty.plane = dirty.charts = dirty.units = dirty.network = true;
    requestDraw();
  }

  function onEigen(msg) {
    const f = v => Ch.fmt(v);
    const lo = (msg.lowest || []).map(f).join(", "), hi = (msg.highest || []).map(f).join(", ");
    $("eigen-result").innerHTML = "";
    const verdict = document.createElement("b");
    verdict.textContent = msg.verdict;
    verdict.className = "verdict v-" + String(msg.verdict).replace(/\s+/g, "-");
    $("eigen-result").append(verdict, document.createTextNode(
      ` · λ lowest [${lo}] · highest [${hi}] · ‖g‖ ${f(msg.gradient_norm)}`));
    if (msg.explanation) {
      const ex = document.createElement("div");
      ex.className = "hint"; ex.textContent = msg.explanation;
      $("eigen-result").append(ex);
    }
    $("eigen-result").title = VERDICT_HELP[msg.verdict] || "";
  }
  const VERDICT_HELP = {
    minimum: "The gradient is near zero and every eigenvalue of the Hessian is positive: a (local) minimum.",
    saddle: "The gradient is near zero but the Hessian has eigenvalues of both signs: a saddle point, which gradient descent leaves only slowly.",
    plateau: "The gradient and the curvature are both near zero: a flat region where training crawls.",
    maximum: "Every eigenvalue is negative: a local maximum.",
    "not critical": "The gradient is not near zero: training is still moving; the eigenvalues describe the local curvature.",
  };

  function onLandscape(msg) {
    view.landscape = msg;
    view.landscapeImage = V.landscapeImage(msg);
    view.path = msg.path || null;
    $("landscape-info").textContent =
      `${msg.kind} plane · loss at the centre ${fmtLoss(msg.center_loss)} · range ${fmtLoss(view.landscapeImage.lo)} – ${fmtLoss(view.landscapeImage.hi)} (log colour scale)`;
    $("landscape-button").disabled = false;
    dirty.landscape = true;
    requestDraw();
  }

  function onError(msg) {
    let text = msg.message || "error";
    if (msg.field) text += ` (field: ${msg.field})`;
    showError(text);
    if (msg.request === "eigen") $("eigen-result").textContent = "error: " + msg.message;
    if (msg.request === "save_run") $("save-result").textContent = "error: " + msg.message;
    if (msg.request === "landscape") $("landscape-button").disabled = false;
  }

  function showError(text) {
    $("error-text").textContent = text;
    $("error-banner").classList.remove("hidden");
  }

  /* ================= history kept for the curves ================= */

  const MAX_ROWS = 20000;
  let hist;
  function clearHistory() {
    hist = { steps: [], train: [], valid: [], trainErr: [], validErr: [], lr: [], curv: [], bound: [], ill: [],
      gradSteps: [], grad: [], race: hist ? hist.race : [] };
  }
  clearHistory();

  function appendHistory(frame) {
    const rows = frame.history && frame.history.length ? frame.history
      : [{ step: frame.step, epoch: frame.epoch, train_loss: frame.train_loss, valid_loss: frame.valid_loss,
           train_error: frame.train_error, valid_error: frame.valid_error, lr: frame.lr,
           curvature: frame.curvature }];
    for (const r of rows) {
      if (hist.steps.length && r.step <= hist.steps[hist.steps.length - 1]) {
        if (r.step < hist.steps[hist.steps.length - 1]) clearHistory(); else continue;
      }
      hist.steps.push(r.step);
      hist.train.push(num(r.train_loss)); hist.valid.push(num(r.valid_loss));
      hist.trainErr.push(num(r.train_error)); hist.validErr.push(num(r.valid_error));
      const lr = num(r.lr !== undefined ? r.lr : frame.lr);
      hist.lr.push(lr);
      let cv = r.curvature, ill = false;
      if (cv && typeof cv === "object") { ill = !!cv.ill_conditioned; cv = cv.gHg_over_gg; }
      cv = num(cv);
      if (cv !== null && lr) ill = ill || lr * cv > 2;
      hist.curv.push(cv); hist.bound.push(lr ? 2 / lr : null); hist.ill.push(ill);
    }
    trim(hist.steps, [hist.train, hist.valid, hist.trainErr, hist.validErr, hist.lr, hist.curv, hist.bound, hist.ill]);
  }

  function trim(keys, arrays) {
    if (keys.length <= MAX_ROWS) return;
    // keep every other row: the curves keep their shape over long runs at bounded memory
    const keep = a => { const out = []; for (let i = 0; i < a.length; i += 2) out.push(a[i]); return out; };
    const k = keep(keys); keys.length = 0; keys.push(...k);
    for (const a of arrays) { const r = keep(a); a.length = 0; a.push(...r); }
  }

  /* ================= drawing (once per animation frame) ================= */

  const dirty = { plane: true, charts: true, units: true, network: true, landscape: true, race: true, warp: true };
  const view = { regions: null, regionsCanvas: null, landscape: null, landscapeImage: null, path: null,
    warp: null, regressionScale: 1, raceCleared: false };
  let raceRunning = false, drawQueued = false;

  function requestDraw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(draw);
  }

  function draw() {
    drawQueued = false;
    const f = pg.frame;
    const discretize = $("discretize").checked;
    if (dirty.plane) {
      dirty.plane = false;
      if (f && f.regions && f.regions !== view.regions || view.discretize !== discretize) {
        if (f && f.regions) {
          view.regions = f.regions;
          view.regionsCanvas = P.regionsCanvas(f.regions, discretize, view.regressionScale, view.regionsCanvas);
        }
        view.discretize = discretize;
      }
      P.drawPlane($("regions"), { regionsCanvas: view.regionsCanvas, points: pg.points, discretize,
        showValid: $("show-valid").checked, scale: view.regressionScale });
    }
    if (dirty.charts) { dirty.charts = false; drawCharts(); }
    if (dirty.units && f) { dirty.units = false; V.UnitsView.render($("units-view"), unitLayers(f.units), zoom); }
    if (dirty.network) { dirty.network = false; drawNetworkView(); }
    if (dirty.landscape) { dirty.landscape = false; V.drawLandscape($("landscape-canvas"), view.landscape, view.landscapeImage, view.path); }
    if (dirty.race) { dirty.race = false; drawRace(); }
    if (dirty.warp) { dirty.warp = false; V.drawWarp($("warp-canvas"), view.warp, pg.points); }
  }

  const LAYER_COLORS = ["#2563eb", "#16a34a", "#f97316", "#9333ea", "#e11d48", "#0891b2", "#475569"];

  function drawCharts() {
    const classification = !pg.points || pg.points.classes > 0;
    const series = [
      { xs: hist.steps, ys: hist.train, color: "#2563eb", width: 1.8, label: "train loss" },
      { xs: hist.steps, ys: hist.valid, color: "#f97316", width: 1.8, dash: [5, 3], label: "valid loss" },
    ];
    if (classification) {
      series.push({ xs: hist.steps, ys: hist.trainErr, color: "#93c5fd", width: 1, axis: "right", label: "train error" });
      series.push({ xs: hist.steps, ys: hist.validErr, color: "#fdba74", width: 1, dash: [3, 2], axis: "right", label: "valid error" });
    }
    Ch.lineChart($("loss-chart"), { series, logY: true, right: [0, 1], legend: true, empty: "press Start or Step" });
    Ch.lineChart($("lr-chart"), { series: [{ xs: hist.steps, ys: hist.lr, color: "#0f766e", width: 1.8 }], zeroBased: true });
    Ch.lineChart($("grad-chart"), {
      series: hist.grad.map((g, i) => ({ xs: hist.gradSteps, ys: g, color: LAYER_COLORS[i % LAYER_COLORS.length],
        width: 1.4, label: "W" + (i + 1) })),
      logY: true, legend: hist.grad.length <= 4,
    });
    const anyCurv = hist.curv.some(v => v !== null);
    Ch.lineChart($("curvature-chart"), {
      series: anyCurv ? [
        { xs: hist.steps, ys: hist.bound, color: "#e11d48", width: 1.2, dash: [6, 3], label: "bound 2/lr" },
        { xs: hist.steps, ys: hist.curv.map(v => v === null ? null : Math.abs(v)), color: "#4f46e5", width: 1.6,
          label: "|gᵀHg/gᵀg|", marks: hist.ill },
      ] : [],
      logY: true, legend: true, empty: "the curvature gauge has no value yet",
    });
  }

  function drawNetworkView() {
    const cfg = pg.config;
    if (!cfg) return;
    const grids = [];
    document.querySelectorAll("#units-view canvas.unit").forEach(c => {
      const l = +c.dataset.layer; (grids[l] = grids[l] || [])[+c.dataset.unit] = c._grid;
    });
    V.drawNetwork($("network-view"), {
      features: cfg.features, hidden: (cfg.network || {}).hidden || [],
      classes: pg.points ? pg.points.classes : (cfg.data || {}).classes,
      weights: pg.frame && pg.frame.weights, unitGrids: grids,
    });
  }

  function drawRace() {
    const box = $("race-panels");
    const lanes = raceRunning && pg.frame && pg.frame.race;
    if (!lanes || !lanes.length) {
      if (box.dataset.sig !== "none") {
        box.innerHTML = '<div class="hint">Check 2–4 optimizers and press Race: each trains a copy of the network from the same initial weights on the same data.</div>';
        box.dataset.sig = "none";
      }
      return;
    }
    const sig = lanes.map(l => l.optimizer).join(",");
    if (box.dataset.sig !== sig) {
      box.innerHTML = "";
      lanes.forEach((lane, i) => {
        const d = document.createElement("div");
        d.className = "race-lane";
        d.innerHTML = `<div class="race-title"><span class="race-name"></span><span class="race-loss-text"></span></div>
          <canvas class="race-panel" width="200" height="200"></canvas>
          <canvas class="race-loss" width="200" height="70"></canvas>`;
        const spec = (view.raceSpec || [])[i];
        const lr = lane.lr !== undefined ? lane.lr : spec && spec.optimizer === lane.optimizer ? spec.lr : null;
        d.querySelector(".race-name").textContent = lane.optimizer + (lr !== null && lr !== undefined ? ` · lr ${Ch.fmt(lr)}` : "");
        d.querySelector(".race-name").style.color = LAYER_COLORS[i % LAYER_COLORS.length];
        box.appendChild(d);
      });
      box.dataset.sig = sig;
      view.raceCanvases = [];
    }
    const discretize = $("discretize").checked;
    const lanesEl = box.querySelectorAll(".race-lane");
    let lo = Infinity, hi = -Infinity;
    hist.race.forEach(h => h && h.train.forEach(v => { if (v > 0 && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }));
    lanes.forEach((lane, i) => {
      const el = lanesEl[i];
      if (!el) return;
      if (lane.regions) view.raceCanvases[i] = P.regionsCanvas(lane.regions, discretize, view.regressionScale, view.raceCanvases[i]);
      P.drawPlane(el.querySelector("canvas.race-panel"), { regionsCanvas: view.raceCanvases[i], points: pg.points,
        discretize, showValid: false, axes: false, radius: 2.2, scale: view.regressionScale });
      el.querySelector(".race-loss-text").textContent = `step ${lane.step} · loss ${fmtLoss(lane.train_loss)}` +
        (lane.train_error !== undefined && lane.train_error !== null ? ` · err ${pct(lane.train_error)}` : "") +
        (lane.stopped ? " · stopped" : "");
      const series = hist.race.map((h, k) => h && ({ xs: h.steps, ys: h.train, color: LAYER_COLORS[k % LAYER_COLORS.length],
        width: k === i ? 2 : 1, alpha: k === i ? 1 : 0.25 })).filter(Boolean);
      Ch.lineChart(el.querySelector("canvas.race-loss"), { series, logY: true, extraY: [lo, hi] });
    });
  }

  /* ================= controls ================= */

  function optionName(o) { return typeof o === "string" ? o : (o.name || o.value || o.id || String(o)); }

  function fillSelect(sel, list, current) {
    const names = (list || []).map(optionName);
    if (current !== undefined && current !== null && !names.includes(String(current))) names.push(String(current));
    if (sel.dataset.sig === names.join("|")) return;
    sel.innerHTML = "";
    for (const n of names) {
      const o = document.createElement("option");
      o.value = n; o.textContent = n;
      sel.appendChild(o);
    }
    sel.dataset.sig = names.join("|");
  }

  function fillOptions(opts, limits) {
    const cfg = hello.config || {};
    const t = cfg.training || {}, n = cfg.network || {}, d = cfg.data || {};
    fillSelect($("dataset"), opts.datasets || ["moons", "circles", "spirals", "xor", "blobs", "regression", "custom"], d.dataset);
    fillSelect($("activation"), opts.activations || ["tanh", "relu", "sigmoid", "identity"], n.activation);
    fillSelect($("init"), opts.inits || ["glorot_uniform", "zeros", "constant"], n.init);
    fillSelect($("optimizer"), opts.optimizers || ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "newton"], t.optimizer);
    fillSelect($("schedule"), opts.schedules || ["constant"], t.schedule);
    if (opts.functions) fillSelect($("function"), opts.functions, d.function);
    // features
    const feats = (opts.features || ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]).map(optionName);
    const fbox = $("features");
    if (fbox.dataset.sig !== feats.join("|")) {
      fbox.innerHTML = "";
      for (const f of feats) {
        const l = document.createElement("label");
        l.className = "chip";
        const c = document.createElement("input");
        c.type = "checkbox"; c.value = f; c.name = "feature";
        c.addEventListener("change", () => {
          if (!fbox.querySelector("input:checked")) { c.checked = true; showError("at least one feature must stay on"); return; }
          structuralChange();
        });
        l.append(c, document.createTextNode(" " + f.replace("^2", "²").replace("*", "·")));
        fbox.appendChild(l);
      }
      fbox.dataset.sig = feats.join("|");
    }
    // the race's optimizers
    const rbox = $("race-optimizers");
    const optimizers = (opts.optimizers || []).map(optionName);
    if (rbox.dataset.sig !== optimizers.join("|")) {
      rbox.innerHTML = "";
      for (const o of optimizers) {
        const l = document.createElement("label");
        l.className = "chip";
        const c = document.createElement("input");
        c.type = "checkbox"; c.value = o; c.checked = o === "sgd" || o === "adam";
        l.append(c, document.createTextNode(" " + o));
        rbox.appendChild(l);
      }
      rbox.dataset.sig = optimizers.join("|");
    }
    if (limits.layers !== undefined) $("layers").max = limits.layers;
    if (limits.units !== undefined) for (let i = 0; i < 6; i++) $("units-" + i).max = limits.units;
    if (limits.points !== undefined) $("points").max = limits.points;
  }

  function setVal(id, v) {
    const el = $(id);
    if (!el || el === document.activeElement && el.tagName === "INPUT" && el.type !== "checkbox" || pending[id]) return;
    if (el.type === "checkbox") el.checked = !!v;
    else if (el.tagName === "SELECT") {
      if (v !== undefined && v !== null && !Array.from(el.options).some(o => o.value === String(v))) {
        const o = document.createElement("option"); o.value = o.textContent = String(v); el.appendChild(o);
      }
      el.value = v === null || v === undefined ? "" : String(v);
    } else el.value = v === null || v === undefined ? "" : String(v);
  }

  function writeControls(cfg) {
    const d = cfg.data || {}, n = cfg.network || {}, t = cfg.training || {};
    setVal("dataset", d.dataset); setVal("function", d.function); setVal("classes", d.classes);
    setVal("noise", d.noise); setVal("train-share", d.train_share); setVal("points", d.points); setVal("data-seed", d.seed);
    if (cfg.features) $("features").querySelectorAll("input").forEach(c => { c.checked = cfg.features.includes(c.value); });
    const hidden = n.hidden || [];
    setVal("layers", hidden.length);
    hidden.forEach((u, i) => setVal("units-" + i, u));
    setVal("activation", n.activation); setVal("init", n.init); setVal("batchnorm", n.batchnorm); setVal("dropout", n.dropout);
    setVal("optimizer", t.optimizer); setVal("lr", t.lr); setVal("momentum", t.momentum); setVal("beta1", t.beta1);
    setVal("beta2", t.beta2); setVal("weight-decay", t.weight_decay); setVal("damping", t.damping);
    setVal("schedule", t.schedule); setVal("batch-size", t.batch_size); setVal("l1", t.l1); setVal("l2", t.l2);
    setVal("clip-norm", t.clip_norm); setVal("seed", t.seed);
    syncVisibility();
  }

  function numberOf(id, fallback) {
    const v = parseFloat($(id).value);
    return isFinite(v) ? v : fallback;
  }
  function intOf(id, fallback) {
    const v = parseInt($(id).value, 10);
    return isFinite(v) ? v : fallback;
  }

  /* the configuration the controls describe, over the one in force (so unknown keys survive) */
  function readConfig() {
    const base = pg.config || (hello && hello.config) || {};
    const cfg = JSON.parse(JSON.stringify(base));
    cfg.data = cfg.data || {}; cfg.network = cfg.network || {}; cfg.training = cfg.training || {};
    const d = cfg.data, n = cfg.network, t = cfg.training;
    d.dataset = $("dataset").value || d.dataset;
    d.function = $("function").value || d.function;
    d.classes = FIXED_TWO.has(d.dataset) ? 2 : intOf("classes", d.classes);
    d.noise = numberOf("noise", d.noise);
    d.train_share = numberOf("train-share", d.train_share);
    d.points = intOf("points", d.points);
    d.seed = intOf("data-seed", d.seed);
    const feats = Array.from($("features").querySelectorAll("input:checked")).map(c => c.value);
    if (feats.length) cfg.features = feats;
    const layers = Math.max(0, Math.min(6, intOf("layers", (n.hidden || []).length)));
    n.hidden = [];
    for (let i = 0; i < layers; i++) n.hidden.push(intOf("units-" + i, 8));
    n.activation = $("activation").value || n.activation;
    n.init = $("init").value || n.init;
    n.batchnorm = $("batchnorm").checked;
    n.dropout = numberOf("dropout", n.dropout);
    t.optimizer = $("optimizer").value || t.optimizer;
    Object.assign(t, readSetValues());
    t.seed = intOf("seed", t.seed);
    return cfg;
  }

  function readSetValues() {
    const t = (pg.config || (hello && hello.config) || {}).training || {};
    const out = {};
    for (const [id, key] of Object.entries(SET_KEYS)) {
      if (key === "schedule") out[key] = $(id).value || t.schedule;
      else if (key === "clip_norm") { const v = parseFloat($(id).value); out[key] = isFinite(v) && v > 0 ? v : null; }
      else if (key === "batch_size") out[key] = intOf(id, t.batch_size);
      else out[key] = numberOf(id, t[key]);
    }
    return out;
  }

  function configure(config) {
    pg.config = config;
    writeHash(config);
    clearHistory();
    hist.race = [];
    view.landscape = view.landscapeImage = view.path = null;
    $("landscape-info").textContent = "";
    $("eigen-result").textContent = "";
    dirty.landscape = dirty.charts = dirty.race = true;
    send({ type: "configure", config });
    view.warpPending = true;
  }

  // typing in a number field fires many input events: wait for a pause before sending
  const pending = {};
  function debounce(id, fn, ms) {
    clearTimeout(pending[id]);
    pending[id] = setTimeout(() => { delete pending[id]; fn(); }, ms);
  }
  function flush(id, fn) { clearTimeout(pending[id]); delete pending[id]; fn(); }

  function structuralChange() {
    syncVisibility();
    const cfg = readConfig();
    writeHash(cfg);
    configure(cfg);
  }

  function hyperChange(id) {
    const key = SET_KEYS[id];
    const values = {};
    values[key] = readSetValues()[key];
    if (key === "lr" && !(values.lr > 0)) { showError("the learning rate must be a positive number"); return; }
    if (pg.config && pg.config.training) Object.assign(pg.config.training, values);
    writeHash(pg.config || readConfig());
    send({ type: "set", values });
  }

  function bindControls() {
    for (const id of CONFIG_IDS) {
      const el = $(id);
      const isText = el.tagName === "INPUT" && el.type !== "checkbox";
      if (isText) {
        el.addEventListener("input", () => debounce(id, structuralChange, 600));
        el.addEventListener("change", () => flush(id, structuralChange));
      } else {
        el.addEventListener("change", () => structuralChange());
      }
    }
    for (const id of Object.keys(SET_KEYS)) {
      const el = $(id);
      if (el.tagName === "INPUT") {
        el.addEventListener("input", () => debounce(id, () => hyperChange(id), 350));
        el.addEventListener("change", () => flush(id, () => hyperChange(id)));
      } else el.addEventListener("change", () => hyperChange(id));
    }
    $("layers").addEventListener("input", syncVisibility);
    $("start").addEventListener("click", () => send({ type: "start" }));
    $("pause").addEventListener("click", () => send({ type: "pause" }));
    $("step").addEventListener("click", () => send({ type: "step" }));
    $("reset").addEventListener("click", () => { clearHistory(); send({ type: "reset", new_seed: false }); });
    $("new-seed").addEventListener("click", () => { clearHistory(); send({ type: "reset", new_seed: true }); });
    $("regenerate").addEventListener("click", () => {
      const seed = intOf("data-seed", 0) + 1;
      $("data-seed").value = seed;
      send({ type: "regenerate", seed });
    });
    $("clear").addEventListener("click", () => send({ type: "clear" }));
    $("csv-file").addEventListener("change", ev => {
      const file = ev.target.files && ev.target.files[0];
      if (!file) return;
      const limit = hello && hello.limits && hello.limits.message_bytes;
      if (limit && file.size > limit - 100) { showError(`the CSV is ${file.size} bytes; the server accepts at most about ${limit}`); ev.target.value = ""; return; }
      const reader = new FileReader();
      reader.onload = () => { send({ type: "load_csv", text: String(reader.result) }); ev.target.value = ""; };
      reader.onerror = () => showError("could not read " + file.name);
      reader.readAsText(file);
    });
    $("regions").addEventListener("click", onPlaneClick);
    $("regions").addEventListener("contextmenu", ev => { ev.preventDefault(); onPlaneClick(ev, true); });
    $("discretize").addEventListener("change", () => { dirty.plane = dirty.race = true; requestDraw(); });
    $("show-valid").addEventListener("change", () => { dirty.plane = true; requestDraw(); });
    $("eigen-button").addEventListener("click", () => {
      if (send({ type: "eigen" })) $("eigen-result").textContent = "computing the Hessian's extreme eigenvalues…";
    });
    $("landscape-button").addEventListener("click", () => {
      if (send({ type: "landscape", kind: $("landscape-kind").value, steps: 21, span: 1.0 })) {
        $("landscape-info").textContent = "computing the slice…";
      }
    });
    $("race-button").addEventListener("click", onRace);
    $("warp-layer").addEventListener("change", () => { view.warpPair = 0; sendWarp(); });
    $("warp-next").addEventListener("click", () => { view.warpPair = (view.warpPair || 0) + 1; sendWarp(); });
    $("save-run").addEventListener("click", () => {
      const name = $("run-name").value.trim();
      if (name && !/^[A-Za-z0-9_-]{1,40}$/.test(name)) { showError("a run name is 1–40 letters, digits, _ or -"); return; }
      const msg = { type: "save_run" };
      if (name) msg.name = name;
      if (send(msg)) $("save-result").textContent = "saving…";
    });
    $("error-close").addEventListener("click", () => $("error-banner").classList.add("hidden"));
    window.addEventListener("resize", () => { for (const k in dirty) dirty[k] = true; requestDraw(); });
    window.addEventListener("hashchange", () => {
      const h = readHash();
      if (h && JSON.stringify(h) !== JSON.stringify(pg.config)) { const cfg = deepMerge(pg.config || {}, h); writeControls(cfg); configure(cfg); }
    });
  }

  function onPlaneClick(ev, remove) {
    const [x1, x2] = P.eventToData(ev, $("regions"));
    const x = [clamp(x1, -6, 6), clamp(x2, -6, 6)];
    if (remove || ev.shiftKey) { send({ type: "remove_point", x }); return; }
    const classes = pg.points ? pg.points.classes : 2;
    const v = $("point-class").value;
    const label = classes > 0 ? parseInt(v, 10) : parseFloat(v);
    send({ type: "add_point", x, label, split: $("point-split").value });
  }

  function onRace() {
    if (raceRunning) {
      view.raceCleared = true;
      raceRunning = false;
      send({ type: "race", optimizers: [] });
      hist.race = [];
      setRaceButton();
      return;
    }
    const chosen = Array.from($("race-optimizers").querySelectorAll("input:checked")).map(c => c.value);
    const most = (hello && hello.limits && hello.limits.race_lanes) || 4;
    if (chosen.length < 2 || chosen.length > most) { showError(`choose 2 to ${most} optimizers for the race`); return; }
    const t = readConfig().training;
    const optimizers = chosen.map(name => {
      const o = { optimizer: name, lr: t.lr };
      for (const [key, users] of Object.entries(HP_FOR)) if (users.includes(name) && t[key] !== undefined) o[key] = t[key];
      return o;
    });
    hist.race = [];
    view.raceSpec = optimizers;
    view.raceCleared = false;
    raceRunning = true;
    setRaceButton();
    send({ type: "race", optimizers });
    if (!(pg.state && pg.state.running)) send({ type: "start" });
  }

  function setRaceButton() {
    const b = $("race-button");
    b.textContent = raceRunning ? "End race" : "Race";
    b.classList.toggle("primary", !raceRunning);
  }

  function updateWarpLayers() {
    const hidden = ((pg.config || {}).network || {}).hidden || [];
    const sel = $("warp-layer");
    const sig = hidden.join(",");
    if (sel.dataset.sig !== sig) {
      sel.innerHTML = "";
      hidden.forEach((u, i) => { const o = document.createElement("option"); o.value = i; o.textContent = `L${i + 1} (${u})`; sel.appendChild(o); });
      sel.dataset.sig = sig;
      view.warpPair = 0;
      view.warpPending = true;
    }
    if (view.warpPending) { view.warpPending = false; sendWarp(); }
  }

  function unitPairs(n) {
    const out = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out.push([i, j]);
    return out;
  }

  function sendWarp() {
    const hidden = ((pg.config || {}).network || {}).hidden || [];
    const layer = parseInt($("warp-layer").value, 10);
    if (!hidden.length || !(layer >= 0) || hidden[layer] < 2) {
      view.warp = null; dirty.warp = true; requestDraw();
      $("warp-units").textContent = hidden.length ? "this layer has one unit" : "";
      return;
    }
    const pairs = unitPairs(hidden[layer]);
    const pair = pairs[(view.warpPair || 0) % pairs.length];
    $("warp-units").textContent = `units ${pair[0] + 1} & ${pair[1] + 1}`;
    send({ type: "warp", layer, units: pair });
  }

  function syncVisibility() {
    const layers = Math.max(0, Math.min(6, intOf("layers", 0)));
    for (let i = 0; i < 6; i++) $("units-row-" + i).classList.toggle("off", i >= layers);
    const opt = $("optimizer").value;
    document.querySelectorAll(".hp").forEach(el => {
      const id = el.querySelector("input").id;
      const key = SET_KEYS[id];
      el.classList.toggle("hidden", !(HP_FOR[key] || []).includes(opt));
    });
    const ds = $("dataset").value;
    $("classes").disabled = FIXED_TWO.has(ds) || ds === "regression";
    $("function-row").classList.toggle("hidden", ds !== "regression");
  }

  function updatePointClasses(classes) {
    const sel = $("point-class");
    const sig = String(classes);
    if (sel.dataset.sig === sig) return;
    const prev = sel.value;
    sel.innerHTML = "";
    const values = classes > 0 ? Array.from({ length: classes }, (_, i) => i) : [-1, -0.5, 0, 0.5, 1];
    for (const v of values) {
      const o = document.createElement("option");
      o.value = v;
      o.textContent = classes > 0 ? `class ${v}` : `target ${v}`;
      if (classes > 0) o.style.color = P.CLASS_COLORS[v % P.CLASS_COLORS.length];
      sel.appendChild(o);
    }
    if (Array.from(sel.options).some(o => o.value === prev)) sel.value = prev;
    sel.dataset.sig = sig;
  }

  function updateLegend(classes) {
    const box = $("legend");
    box.innerHTML = "";
    if (classes > 0) {
      for (let c = 0; c < classes; c++) {
        const s = document.createElement("span");
        s.className = "swatch";
        s.innerHTML = `<i style="background:${P.CLASS_COLORS[c % P.CLASS_COLORS.length]}"></i>class ${c}`;
        box.appendChild(s);
      }
    } else {
      box.innerHTML = '<span class="swatch"><i class="grad"></i>prediction: orange &lt; 0 &lt; blue</span>';
    }
    const k = document.createElement("span");
    k.className = "swatch";
    k.innerHTML = '<i class="dot"></i>train <i class="ring"></i>validation';
    box.appendChild(k);
  }

  function setRunning(running) {
    $("start").classList.toggle("active", !!running);
    $("pause").classList.toggle("active", !running);
    document.body.classList.toggle("running", !!running);
  }

  function setCounters(step, epoch) {
    if (step !== undefined && step !== null) $("step-counter").textContent = String(step);
    if (epoch !== undefined && epoch !== null) {
      $("epoch-counter").textContent = Number.isInteger(epoch) ? String(epoch) : Number(epoch).toFixed(2);
    }
  }

  /* ================= the URL ================= */

  function readHash() {
    const h = location.hash.slice(1);
    if (!h) return null;
    try {
      const v = JSON.parse(decodeURIComponent(h));
      return v && typeof v === "object" ? v : null;
    } catch (e) {
      showError("the configuration in the address could not be read; using the defaults");
      return null;
    }
  }

  function writeHash(cfg) {
    if (!cfg) return;
    const h = "#" + encodeURIComponent(JSON.stringify(cfg));
    if (location.hash !== h) history.replaceState(null, "", h);
  }

  /* ================= small helpers ================= */

  function deepMerge(a, b) {
    const out = JSON.parse(JSON.stringify(a || {}));
    for (const [k, v] of Object.entries(b || {})) {
      if (v && typeof v === "object" && !Array.isArray(v) && out[k] && typeof out[k] === "object" && !Array.isArray(out[k])) out[k] = deepMerge(out[k], v);
      else out[k] = v;
    }
    return out;
  }
  /* units arrive per hidden layer as {size, units: [b64, ...]} (or a bare list) */
  function unitLayers(units) {
    return (units || []).map(l => Array.isArray(l) ? l : (l && (l.units || l.values)) || []);
  }
  function num(v) { return v === null || v === undefined || !isFinite(v) ? null : +v; }
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }
  function fmtLoss(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 0.001 ? v.toFixed(4) : v.toExponential(2);
  }
  function pct(v) { return v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%"; }

  const zoom = V.makeZoom($("unit-zoom"), $("unit-zoom-canvas"), $("unit-zoom-label"));

  bindControls();
  updateLegend(3);
  updatePointClasses(3);
  syncVisibility();
  for (const k in dirty) dirty[k] = true;
  requestDraw();
  connect();
})();
