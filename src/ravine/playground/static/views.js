/* The secondary views: unit thumbnails, the network graph, the loss landscape, the warp, the race. */
"use strict";

(function () {
  const P = window.RavinePlane;
  const C = window.RavineCharts;

  /* ---------- a small activation grid (units, features) ---------- */

  function gridValues(entry) {
    if (entry === null || entry === undefined) return null;
    if (typeof entry === "string") return P.decodeF32(entry);
    if (Array.isArray(entry)) return Float32Array.from(entry.flat(Infinity));
    if (typeof entry === "object") return gridValues(entry.values || entry.data || entry.activations);
    return null;
  }

  function paintGrid(canvas, values, cssSize) {
    const n = Math.round(Math.sqrt(values.length)) || 1;
    let m = 0;
    for (let k = 0; k < values.length; k++) m = Math.max(m, Math.abs(values[k]));
    const s = m > 1 ? m : 1;  // saturating units (tanh, sigmoid) keep their absolute scale
    const img = new ImageData(n, n);
    for (let k = 0; k < n * n; k++) P.diverging(values[k] / s, img.data, k * 4);
    const off = document.createElement("canvas");
    off.width = n; off.height = n;
    off.getContext("2d").putImageData(img, 0, 0);
    if (canvas) {
      const dpr = window.devicePixelRatio || 1;
      const size = cssSize || canvas.clientWidth || canvas.width;
      canvas.width = Math.round(size * dpr); canvas.height = Math.round(size * dpr);
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
    }
    return off;
  }

  const FEATURE_FN = {
    "x1": (a, b) => a, "x2": (a, b) => b, "x1^2": (a, b) => a * a, "x2^2": (a, b) => b * b,
    "x1*x2": (a, b) => a * b, "sin(x1)": (a, b) => Math.sin(a), "sin(x2)": (a, b) => Math.sin(b),
  };
  const featureCache = {};
  function featureGrid(name) {
    if (featureCache[name]) return featureCache[name];
    const n = 16, fn = FEATURE_FN[name] || (() => 0), v = new Float32Array(n * n);
    let m = 0;
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
      const x1 = -6 + 12 * (c + 0.5) / n, x2 = 6 - 12 * (r + 0.5) / n;
      v[r * n + c] = fn(x1, x2); m = Math.max(m, Math.abs(v[r * n + c]));
    }
    for (let k = 0; k < v.length; k++) v[k] /= m || 1;
    return (featureCache[name] = paintGrid(null, v));
  }

  /* ---------- per-unit thumbnails ---------- */

  const UnitsView = {
    signature: "",
    render(container, units, zoom) {
      if (!units || !units.length) {
        if (this.signature !== "none") {
          container.innerHTML = '<div class="hint">no hidden layer: the model is linear in the features</div>';
          this.signature = "none";
        }
        return;
      }
      const sig = units.map(l => l.length).join(",");
      if (sig !== this.signature) {
        container.innerHTML = "";
        units.forEach((layer, li) => {
          const row = document.createElement("div");
          row.className = "unit-row";
          const lab = document.createElement("span");
          lab.className = "unit-layer"; lab.textContent = "L" + (li + 1);
          row.appendChild(lab);
          layer.forEach((_, ui) => {
            const c = document.createElement("canvas");
            c.className = "unit"; c.width = 34; c.height = 34;
            c.dataset.layer = li; c.dataset.unit = ui;
            c.title = `layer ${li + 1}, unit ${ui + 1}: its activation over the plane (blue > 0, orange < 0)`;
            c.addEventListener("mouseenter", () => zoom.show(c));
            c.addEventListener("mouseleave", () => zoom.hide());
            row.appendChild(c);
          });
          container.appendChild(row);
        });
        this.signature = sig;
      }
      const canvases = container.querySelectorAll("canvas.unit");
      const decoded = units.map(layer => layer.map(gridValues));
      canvases.forEach(c => {
        const v = decoded[+c.dataset.layer][+c.dataset.unit];
        if (v && v.length) c._grid = paintGrid(c, v, 34);
      });
      // Units of a layer that all compute the same function never become different (zero or
      // constant init): say so, since identical thumbnails are easy to miss.
      container.querySelectorAll(".unit-row").forEach((row, li) => {
        const grids = decoded[li] || [];
        let same = grids.length > 1;
        for (let k = 1; same && k < grids.length; k++) {
          const a = grids[0], b = grids[k];
          if (!a || !b || a.length !== b.length) { same = false; break; }
          for (let q = 0; q < a.length; q++) if (Math.abs(a[q] - b[q]) > 1e-5) { same = false; break; }
        }
        let badge = row.querySelector(".sym-badge");
        if (same && !badge) {
          badge = document.createElement("span");
          badge.className = "sym-badge";
          badge.textContent = "all units identical";
          badge.title = "Every unit of this layer computes the same function, so each receives the same gradient and they stay identical: the symmetry is never broken (zero or constant init). Use a random init.";
          row.appendChild(badge);
        } else if (!same && badge) badge.remove();
      });
      if (zoom.current) zoom.show(zoom.current);
    },
  };

  function makeZoom(box, canvas, label) {
    return {
      current: null,
      show(unitCanvas) {
        this.current = unitCanvas;
        if (!unitCanvas._grid) return;
        box.classList.remove("hidden");
        const ctx = canvas.getContext("2d");
        ctx.imageSmoothingEnabled = true;
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(unitCanvas._grid, 0, 0, canvas.width, canvas.height);
        label.textContent = `layer ${+unitCanvas.dataset.layer + 1} · unit ${+unitCanvas.dataset.unit + 1}`;
        const r = unitCanvas.getBoundingClientRect(), host = box.offsetParent || document.body;
        const hr = host.getBoundingClientRect();
        box.style.left = Math.max(0, r.left - hr.left + r.width / 2 - 88) + "px";
        box.style.top = (r.bottom - hr.top + 6) + "px";
      },
      hide() { this.current = null; box.classList.add("hidden"); },
    };
  }

  /* ---------- the network with its weights as links ---------- */

  function drawNetwork(canvas, opts) {
    const features = opts.features || ["x1", "x2"];
    const hidden = opts.hidden || [];
    const outputs = opts.classes > 0 ? opts.classes : 1;
    const sizes = [features.length, ...hidden, outputs];
    const maxN = Math.max(...sizes);
    const node = Math.max(10, Math.min(26, Math.floor(220 / maxN) - 4));
    const gap = node + 4;
    const wantH = Math.max(150, maxN * gap + 34);
    if (Math.abs(canvas.clientHeight - wantH) > 1) canvas.style.height = wantH + "px";
    const { ctx, w, h } = C.fitCanvas(canvas);
    ctx.clearRect(0, 0, w, h);
    const cols = sizes.length;
    const xAt = i => 30 + (w - 60) * (cols === 1 ? 0.5 : i / (cols - 1));
    const pos = sizes.map((n, i) => {
      const top = (h - 18 - n * gap) / 2 + 14;
      return Array.from({ length: n }, (_, k) => [xAt(i), top + k * gap + gap / 2]);
    });
    // links
    const weights = opts.weights || [];
    let wmax = 0;
    for (const L of weights) for (const row of (L.values || [])) for (const v of row) wmax = Math.max(wmax, Math.abs(v));
    wmax = wmax || 1;
    for (let li = 0; li < cols - 1; li++) {
      const L = weights[li];
      const vals = L && L.values;
      const a = pos[li], b = pos[li + 1];
      for (let j = 0; j < b.length; j++) for (let i = 0; i < a.length; i++) {
        // weights are stored (out, in), as Linear holds them
        const v = vals && vals[j] !== undefined ? vals[j][i] : 0;
        const m = Math.abs(v) / wmax;
        ctx.strokeStyle = v >= 0 ? `rgba(37,99,235,${0.15 + 0.7 * m})` : `rgba(249,115,22,${0.15 + 0.7 * m})`;
        ctx.lineWidth = vals ? 0.4 + 4 * m : 0.5;
        ctx.beginPath();
        ctx.moveTo(a[i][0] + node / 2, a[i][1]);
        const mx = (a[i][0] + b[j][0]) / 2;
        ctx.bezierCurveTo(mx, a[i][1], mx, b[j][1], b[j][0] - node / 2, b[j][1]);
        ctx.stroke();
      }
    }
    // nodes
    ctx.font = "10px system-ui, sans-serif";
    ctx.textAlign = "center";
    pos.forEach((col, li) => {
      col.forEach(([x, y], k) => {
        let img = null;
        if (li === 0) img = featureGrid(features[k]);
        else if (li <= hidden.length && opts.unitGrids && opts.unitGrids[li - 1]) img = opts.unitGrids[li - 1][k];
        const x0 = x - node / 2, y0 = y - node / 2;
        if (li === cols - 1) {
          ctx.beginPath(); ctx.arc(x, y, node / 2, 0, 2 * Math.PI);
          ctx.fillStyle = opts.classes > 0 ? P.CLASS_COLORS[k % P.CLASS_COLORS.length] : "#64748b";
          ctx.fill();
        } else if (img) {
          ctx.imageSmoothingEnabled = true;
          ctx.drawImage(img, x0, y0, node, node);
        } else {
          ctx.fillStyle = "#eef1f6"; ctx.fillRect(x0, y0, node, node);
        }
        ctx.strokeStyle = "#475569"; ctx.lineWidth = 1;
        if (li !== cols - 1) ctx.strokeRect(x0 + 0.5, y0 + 0.5, node - 1, node - 1);
        if (li === 0) {
          ctx.fillStyle = "#334155"; ctx.textAlign = "right";
          ctx.fillText(features[k].replace("^2", "²"), x0 - 3, y + 3);
          ctx.textAlign = "center";
        }
      });
      ctx.fillStyle = "#64748b";
      const name = li === 0 ? "input" : li === cols - 1 ? (opts.classes > 0 ? "softmax" : "output") : "L" + li;
      ctx.fillText(name, xAt(li), 10);
    });
  }

  /* ---------- the loss landscape ---------- */

  const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function viridis(t, out, o) {
    t = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
    const i = Math.min(STOPS.length - 2, Math.floor(t)), f = t - i, a = STOPS[i], b = STOPS[i + 1];
    out[o] = a[0] + (b[0] - a[0]) * f; out[o + 1] = a[1] + (b[1] - a[1]) * f;
    out[o + 2] = a[2] + (b[2] - a[2]) * f; out[o + 3] = 255;
  }

  function landscapeImage(ls) {
    const A = ls.alphas.length, B = ls.betas.length;
    let lo = Infinity, hi = -Infinity;
    for (const row of ls.losses) for (const v of row) if (v !== null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const f = v => Math.log(v - lo + 1e-3 * (hi - lo + 1e-12));
    const flo = f(lo), fhi = f(hi);
    const img = new ImageData(A, B);
    for (let i = 0; i < A; i++) for (let j = 0; j < B; j++) {
      // losses[i][j] is at (alphas[i], betas[j]); β grows upwards
      const v = ls.losses[i][j];
      const o = ((B - 1 - j) * A + i) * 4;
      if (v === null || !isFinite(v)) { img.data[o] = 255; img.data[o + 1] = 255; img.data[o + 2] = 255; img.data[o + 3] = 255; continue; }
      viridis((f(v) - flo) / (fhi - flo || 1), img.data, o);
    }
    const off = document.createElement("canvas");
    off.width = A; off.height = B;
    off.getContext("2d").putImageData(img, 0, 0);
    return { canvas: off, lo, hi };
  }

  function drawLandscape(canvas, ls, image, path) {
    const { ctx, w, h } = C.fitCanvas(canvas);
    ctx.clearRect(0, 0, w, h);
    if (!ls) {
      ctx.fillStyle = "#8a93a6"; ctx.font = "12px system-ui, sans-serif"; ctx.textAlign = "center";
      ctx.fillText("press Slice to compute the loss around the current weights", w / 2, h / 2);
      return;
    }
    const pad = { l: 34, r: 12, t: 6, b: 20 };
    const pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(image.canvas, pad.l, pad.t, pw, ph);
    const a0 = ls.alphas[0], a1 = ls.alphas[ls.alphas.length - 1];
    const b0 = ls.betas[0], b1 = ls.betas[ls.betas.length - 1];
    const X = a => pad.l + (a - a0) / (a1 - a0) * pw, Y = b => pad.t + ph - (b - b0) / (b1 - b0) * ph;
    ctx.fillStyle = "#64748b"; ctx.font = "10px system-ui, sans-serif";
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    [a0, 0, a1].forEach(a => ctx.fillText(C.fmt(a), X(a), pad.t + ph + 3));
    ctx.fillText("α", pad.l + pw - 8, pad.t + ph + 3);
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    [b0, 0, b1].forEach(b => ctx.fillText(C.fmt(b), pad.l - 4, Y(b)));
    ctx.fillText("β", pad.l - 4, pad.t + 8);
    // the current weights at the centre
    ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.moveTo(X(0) - 6, Y(0)); ctx.lineTo(X(0) + 6, Y(0));
    ctx.moveTo(X(0), Y(0) - 6); ctx.lineTo(X(0), Y(0) + 6); ctx.stroke();
    if (path && path.length) {
      ctx.save();
      ctx.beginPath(); ctx.rect(pad.l, pad.t, pw, ph); ctx.clip();
      const pts = path.map(p => Array.isArray(p) ? p : [p.alpha, p.beta]);
      for (const [style, width] of [["rgba(0,0,0,0.55)", 3.5], ["#ffffff", 1.6]]) {
        ctx.strokeStyle = style; ctx.lineWidth = width; ctx.beginPath();
        pts.forEach(([a, b], k) => (k ? ctx.lineTo(X(a), Y(b)) : ctx.moveTo(X(a), Y(b))));
        ctx.stroke();
      }
      const [ea, eb] = pts[pts.length - 1];
      ctx.fillStyle = "#e11d48"; ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.arc(X(ea), Y(eb), 4.5, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
      ctx.restore();
    }
    ctx.strokeStyle = "#c9cfdb"; ctx.lineWidth = 1;
    ctx.strokeRect(pad.l + 0.5, pad.t + 0.5, pw, ph);
  }

  /* ---------- the hidden-layer warp ---------- */

  function drawWarp(canvas, warp, pointsMsg) {
    const { ctx, w, h } = C.fitCanvas(canvas);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#fbfcfe"; ctx.fillRect(0, 0, w, h);
    if (!warp || !warp.lines) {
      ctx.fillStyle = "#8a93a6"; ctx.font = "12px system-ui, sans-serif"; ctx.textAlign = "center";
      ctx.fillText("needs a hidden layer with at least two units", w / 2, h / 2);
      return;
    }
    let ulo = Infinity, uhi = -Infinity, vlo = Infinity, vhi = -Infinity;
    const see = p => { if (!p || !isFinite(p[0]) || !isFinite(p[1])) return; ulo = Math.min(ulo, p[0]); uhi = Math.max(uhi, p[0]); vlo = Math.min(vlo, p[1]); vhi = Math.max(vhi, p[1]); };
    warp.lines.forEach(line => line.forEach(see));
    (warp.points || []).forEach(see);
    if (!isFinite(ulo)) return;
    const su = (uhi - ulo) || 1, sv = (vhi - vlo) || 1;
    ulo -= su * 0.05; uhi += su * 0.05; vlo -= sv * 0.05; vhi += sv * 0.05;
    const X = u => (u - ulo) / (uhi - ulo) * w, Y = v => h - (v - vlo) / (vhi - vlo) * h;
    ctx.strokeStyle = "rgba(71,85,105,0.35)"; ctx.lineWidth = 1;
    for (const line of warp.lines) {
      ctx.beginPath();
      line.forEach((p, k) => (k ? ctx.lineTo(X(p[0]), Y(p[1])) : ctx.moveTo(X(p[0]), Y(p[1]))));
      ctx.stroke();
    }
    const labels = [];
    if (pointsMsg) { for (const p of pointsMsg.train || []) labels.push(p[2]); for (const p of pointsMsg.valid || []) labels.push(p[2]); }
    const classes = pointsMsg ? pointsMsg.classes : 2;
    (warp.points || []).forEach((p, k) => {
      const lab = p.length > 2 ? p[2] : labels[k];
      ctx.fillStyle = lab === undefined ? "#334155" : P.pointColor(lab, classes, 1);
      ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), 2.6, 0, 2 * Math.PI); ctx.fill();
    });
    ctx.fillStyle = "#64748b"; ctx.font = "10px system-ui, sans-serif";
    const u = warp.units || [0, 1];
    ctx.textAlign = "right"; ctx.fillText(`unit ${u[0] + 1} →`, w - 4, h - 4);
    ctx.textAlign = "left"; ctx.fillText(`↑ unit ${u[1] + 1}`, 4, 12);
  }

  window.RavineViews = { UnitsView, makeZoom, drawNetwork, drawLandscape, landscapeImage, drawWarp, gridValues, paintGrid };
})();
