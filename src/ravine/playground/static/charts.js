/* A tiny line-chart helper for the playground's curves (no library, no network). */
"use strict";

(function () {
  const AXIS = "#8a93a6";
  const GRID = "#e8ebf1";
  const FONT = "10px system-ui, -apple-system, Segoe UI, sans-serif";

  /* Size a canvas's backing store to its CSS box times the pixel ratio; returns the 2-D context,
     scaled so that drawing happens in CSS pixels. */
  function fitCanvas(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const rect = canvas.getBoundingClientRect();
    const w = Math.max(10, Math.round(rect.width || canvas.width));
    const h = Math.max(10, Math.round(rect.height || canvas.height));
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { ctx, w, h };
  }

  function fmt(v) {
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
    if (a >= 100) return v.toFixed(0);
    if (a >= 1) return (+v.toPrecision(3)).toString();
    return (+v.toPrecision(2)).toString();
  }

  function niceTicks(lo, hi, n) {
    const span = hi - lo;
    if (!(span > 0)) return [lo];
    const raw = span / n;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(t);
    return out;
  }

  function range(series, key, positiveOnly) {
    let lo = Infinity, hi = -Infinity;
    for (const s of series) {
      const arr = s[key];
      if (!arr) continue;
      for (let i = 0; i < arr.length; i++) {
        const v = arr[i];
        if (v === null || v === undefined || !isFinite(v)) continue;
        if (positiveOnly && v <= 0) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    return [lo, hi];
  }

  /* Draw line series.
     opts.series: [{xs, ys, color, width, dash, axis: "left"|"right", label}]
     opts.logY: log scale on the left axis; opts.right: [lo, hi] of the right axis (or null)
     opts.empty: text shown when there is nothing to draw; opts.legend: show labels */
  function lineChart(canvas, opts) {
    const { ctx, w, h } = fitCanvas(canvas);
    ctx.clearRect(0, 0, w, h);
    ctx.font = FONT;
    const series = (opts.series || []).filter(s => s.xs && s.xs.length);
    const hasRight = series.some(s => s.axis === "right");
    const pad = { l: 40, r: hasRight ? 30 : 14, t: opts.legend ? 16 : 6, b: 16 };
    const pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
    const left = series.filter(s => s.axis !== "right");
    const right = series.filter(s => s.axis === "right");
    if (!series.length || !left.length && !right.length) {
      ctx.fillStyle = AXIS;
      ctx.textAlign = "center";
      ctx.fillText(opts.empty || "no data yet", w / 2, h / 2);
      return;
    }
    let [x0, x1] = range(series, "xs");
    if (!(x1 > x0)) { x1 = x0 + 1; }
    const logY = !!opts.logY;
    let [y0, y1] = range(left, "ys", logY);
    if (opts.extraY) for (const v of opts.extraY) if (isFinite(v) && (!logY || v > 0)) { y0 = Math.min(y0, v); y1 = Math.max(y1, v); }
    if (!isFinite(y0)) { y0 = logY ? 0.1 : 0; y1 = logY ? 1 : 1; }
    if (logY) {
      y0 = Math.log10(y0); y1 = Math.log10(y1);
      if (y1 - y0 < 0.3) { const m = (y0 + y1) / 2; y0 = m - 0.15; y1 = m + 0.15; }
    } else {
      if (opts.zeroBased && y0 > 0) y0 = 0;
      if (y1 - y0 < 1e-12) { const m = y0; y0 = m - (Math.abs(m) * 0.1 || 0.5); y1 = m + (Math.abs(m) * 0.1 || 0.5); }
      const padY = (y1 - y0) * 0.06; y1 += padY; if (!opts.zeroBased || y0 < 0) y0 -= padY;
    }
    const [r0, r1] = opts.right || [0, 1];
    const X = x => pad.l + (x - x0) / (x1 - x0) * pw;
    const Y = y => pad.t + ph - ((logY ? Math.log10(y) : y) - y0) / (y1 - y0) * ph;
    const YR = y => pad.t + ph - (y - r0) / (r1 - r0) * ph;

    // grid and axes
    ctx.strokeStyle = GRID; ctx.lineWidth = 1; ctx.fillStyle = AXIS;
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    let ticks;
    if (logY) {
      ticks = [];
      for (let e = Math.ceil(y0); e <= Math.floor(y1); e++) ticks.push(e);
      if (ticks.length < 2) ticks = niceTicks(y0, y1, 3);
      if (ticks.length > 6) ticks = ticks.filter((_, i) => i % Math.ceil(ticks.length / 5) === 0);
    } else ticks = niceTicks(y0, y1, 4);
    for (const t of ticks) {
      const yy = pad.t + ph - (t - y0) / (y1 - y0) * ph;
      ctx.beginPath(); ctx.moveTo(pad.l, yy + 0.5); ctx.lineTo(pad.l + pw, yy + 0.5); ctx.stroke();
      ctx.fillText(fmt(logY ? Math.pow(10, t) : t), pad.l - 4, yy);
    }
    if (hasRight) {
      ctx.textAlign = "left";
      for (const t of niceTicks(r0, r1, 2)) ctx.fillText(fmt(t), pad.l + pw + 4, YR(t));
    }
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const t of niceTicks(x0, x1, 4)) {
      const xx = X(t);
      if (xx < pad.l - 1 || xx > pad.l + pw + 1) continue;
      ctx.fillText(fmt(t), xx, pad.t + ph + 3);
    }
    ctx.strokeStyle = "#c9cfdb";
    ctx.strokeRect(pad.l + 0.5, pad.t + 0.5, pw, ph);

    // bands and horizontal reference lines
    ctx.save();
    ctx.beginPath(); ctx.rect(pad.l, pad.t, pw, ph); ctx.clip();
    for (const s of series) {
      const ys = s.ys, xs = s.xs, proj = s.axis === "right" ? YR : Y;
      ctx.strokeStyle = s.color || "#333";
      ctx.lineWidth = s.width || 1.5;
      ctx.setLineDash(s.dash || []);
      ctx.globalAlpha = s.alpha === undefined ? 1 : s.alpha;
      ctx.beginPath();
      let pen = false;
      // Thin the drawing to about one point per pixel: curves can hold thousands of rows.
      const stride = Math.max(1, Math.floor(xs.length / (pw * 1.5)));
      for (let i = 0; i < xs.length; i += stride) {
        const v = ys[i];
        if (v === null || v === undefined || !isFinite(v) || (logY && s.axis !== "right" && v <= 0)) { pen = false; continue; }
        const px = X(xs[i]), py = proj(v);
        if (!pen) { ctx.moveTo(px, py); pen = true; } else ctx.lineTo(px, py);
      }
      if (stride > 1) {
        const i = xs.length - 1, v = ys[i];
        if (v !== null && isFinite(v) && !(logY && s.axis !== "right" && v <= 0)) ctx.lineTo(X(xs[i]), proj(v));
      }
      ctx.stroke();
      if (xs.length === 1 && ys[0] !== null && isFinite(ys[0]) && !(logY && s.axis !== "right" && ys[0] <= 0)) {
        ctx.fillStyle = s.color || "#333";
        ctx.beginPath(); ctx.arc(X(xs[0]), proj(ys[0]), 2.5, 0, 2 * Math.PI); ctx.fill();
      }
      if (s.marks) {  // highlighted points (e.g. ill-conditioned steps)
        ctx.fillStyle = s.markColor || "#d7263d";
        for (let i = 0; i < xs.length; i++) {
          if (!s.marks[i]) continue;
          const v = ys[i];
          if (v === null || !isFinite(v) || (logY && v <= 0)) continue;
          ctx.beginPath(); ctx.arc(X(xs[i]), proj(v), 2, 0, 2 * Math.PI); ctx.fill();
        }
      }
    }
    ctx.restore();
    ctx.setLineDash([]); ctx.globalAlpha = 1;

    if (opts.legend) {
      ctx.textAlign = "left"; ctx.textBaseline = "top";
      let lx = pad.l;
      for (const s of opts.legendItems || series) {
        if (!s.label) continue;
        ctx.strokeStyle = s.color; ctx.lineWidth = 2; ctx.setLineDash(s.dash || []);
        ctx.beginPath(); ctx.moveTo(lx, 7); ctx.lineTo(lx + 14, 7); ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = "#4a5162";
        ctx.fillText(s.label, lx + 17, 2);
        lx += 24 + ctx.measureText(s.label).width;
      }
    }
  }

  window.RavineCharts = { lineChart, fitCanvas, fmt };
})();
