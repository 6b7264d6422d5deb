/* The plane: class colours, base64 decoding, the decision regions and the data points. */
"use strict";

(function () {
  // One colour per class, used everywhere (regions, points, legend, network outputs).
  const CLASS_COLORS = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#e11d48"];
  const CLASS_RGB = CLASS_COLORS.map(hexRgb);
  const NEG_RGB = hexRgb("#f97316"), POS_RGB = hexRgb("#2563eb");

  function hexRgb(h) {
    return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
  }

  /* base64 of little-endian float32 → Float32Array */
  function decodeF32(b64) {
    if (!b64) return new Float32Array(0);
    if (b64 instanceof Float32Array) return b64;
    if (Array.isArray(b64)) return Float32Array.from(b64.flat(Infinity));
    const bin = atob(b64);
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    return new Float32Array(u8.buffer, 0, u8.length >> 2);
  }

  /* a value in [-1, 1] → a diverging colour: orange (negative), white (0), blue (positive) */
  function diverging(t, out, o) {
    t = t > 1 ? 1 : t < -1 ? -1 : (t || 0);
    const c = t >= 0 ? POS_RGB : NEG_RGB, a = Math.abs(t);
    out[o] = 255 + (c[0] - 255) * a;
    out[o + 1] = 255 + (c[1] - 255) * a;
    out[o + 2] = 255 + (c[2] - 255) * a;
    out[o + 3] = 255;
  }

  /* Paint regions ({size, classes, probabilities} or {size, values}) into an ImageData. */
  function regionsImage(regions, discretize, scale) {
    const n = regions.size || 64;
    const img = new ImageData(n, n);
    const d = img.data;
    if (regions.probabilities) {
      const C = regions.classes || 2;
      const p = decodeF32(regions.probabilities);
      const inv = 1 / C;
      for (let k = 0, o = 0; k < n * n; k++, o += 4) {
        let best = 0, pmax = -1, r = 0, g = 0, b = 0;
        for (let c = 0; c < C; c++) {
          const v = p[k * C + c];
          if (v > pmax) { pmax = v; best = c; }
          const col = CLASS_RGB[c % CLASS_RGB.length];
          r += v * col[0]; g += v * col[1]; b += v * col[2];
        }
        let a;
        if (discretize) {
          const col = CLASS_RGB[best % CLASS_RGB.length];
          r = col[0]; g = col[1]; b = col[2]; a = 0.45;
        } else {
          const conf = C > 1 ? Math.max(0, (pmax - inv) / (1 - inv)) : 1;
          a = 0.08 + 0.62 * conf;
        }
        d[o] = 255 + (r - 255) * a;
        d[o + 1] = 255 + (g - 255) * a;
        d[o + 2] = 255 + (b - 255) * a;
        d[o + 3] = 255;
      }
    } else if (regions.values) {
      const v = decodeF32(regions.values);
      let s = scale;
      if (!(s > 0)) { s = 0; for (let k = 0; k < v.length; k++) s = Math.max(s, Math.abs(v[k])); s = s || 1; }
      for (let k = 0, o = 0; k < n * n; k++, o += 4) {
        let t = v[k] / s;
        if (discretize) t = Math.round(t * 4) / 4;
        diverging(t * 0.8, d, o);
      }
    }
    return img;
  }

  /* The regions image painted on an offscreen canvas (so it can be scaled with drawImage). */
  function regionsCanvas(regions, discretize, scale, reuse) {
    const img = regionsImage(regions, discretize, scale);
    const off = reuse && reuse.width === img.width ? reuse : document.createElement("canvas");
    off.width = img.width; off.height = img.height;
    off.getContext("2d").putImageData(img, 0, 0);
    return off;
  }

  const EXTENT = [-6, 6, -6, 6];

  /* data (x1, x2) → canvas CSS pixels, for a box of w×h */
  function toPixel(x1, x2, w, h, extent) {
    const e = extent || EXTENT;
    return [(x1 - e[0]) / (e[1] - e[0]) * w, (e[3] - x2) / (e[3] - e[2]) * h];
  }

  /* a mouse event on a canvas → data coordinates, from its bounding box (what tests and users share) */
  function eventToData(ev, canvas, extent) {
    const e = extent || EXTENT;
    const r = canvas.getBoundingClientRect();
    const fx = (ev.clientX - r.left) / r.width, fy = (ev.clientY - r.top) / r.height;
    return [e[0] + fx * (e[1] - e[0]), e[3] - fy * (e[3] - e[2])];
  }

  function pointColor(label, classes, scale) {
    if (classes > 0) return CLASS_COLORS[(label | 0) % CLASS_COLORS.length];
    const px = new Uint8ClampedArray(4);
    diverging((label / (scale || 1)) * 0.95, px, 0);
    return `rgb(${px[0] | 0},${px[1] | 0},${px[2] | 0})`;
  }

  /* Draw the whole plane: regions, axes, points. */
  function drawPlane(canvas, opts) {
    const { ctx, w, h } = window.RavineCharts.fitCanvas(canvas);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#f6f7fb";
    ctx.fillRect(0, 0, w, h);
    if (opts.regionsCanvas) {
      ctx.imageSmoothingEnabled = !opts.discretize;
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(opts.regionsCanvas, 0, 0, w, h);
    }
    if (opts.axes !== false) drawAxes(ctx, w, h);
    const pts = opts.points;
    if (pts) {
      const classes = pts.classes || 0;
      const r = opts.radius || Math.max(2.5, Math.min(4.5, w / 110));
      if (opts.showValid !== false && pts.valid) {
        ctx.lineWidth = 1.6;
        for (const p of pts.valid) {
          const [x, y] = toPixel(p[0], p[1], w, h);
          ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
          ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.lineWidth = 3.2; ctx.stroke();
          ctx.strokeStyle = pointColor(p[2], classes, opts.scale); ctx.lineWidth = 1.6; ctx.stroke();
        }
      }
      if (pts.train) {
        ctx.lineWidth = 1;
        ctx.strokeStyle = "rgba(255,255,255,0.95)";
        for (const p of pts.train) {
          const [x, y] = toPixel(p[0], p[1], w, h);
          ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
          ctx.fillStyle = pointColor(p[2], classes, opts.scale);
          ctx.fill(); ctx.stroke();
        }
      }
    }
  }

  function drawAxes(ctx, w, h) {
    ctx.save();
    ctx.strokeStyle = "rgba(40,50,70,0.10)";
    ctx.lineWidth = 1;
    for (let t = -4; t <= 4; t += 2) {
      const [x] = toPixel(t, 0, w, h), [, y] = toPixel(0, t, w, h);
      ctx.beginPath(); ctx.moveTo(Math.round(x) + 0.5, 0); ctx.lineTo(Math.round(x) + 0.5, h); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(0, Math.round(y) + 0.5); ctx.lineTo(w, Math.round(y) + 0.5); ctx.stroke();
    }
    if (w >= 200) {
      ctx.fillStyle = "rgba(40,50,70,0.45)";
      ctx.font = "10px system-ui, sans-serif";
      ctx.textBaseline = "bottom"; ctx.textAlign = "center";
      for (let t = -4; t <= 4; t += 2) if (t) ctx.fillText(String(t), toPixel(t, 0, w, h)[0], h - 2);
      ctx.textAlign = "left"; ctx.textBaseline = "middle";
      for (let t = -4; t <= 4; t += 2) if (t) ctx.fillText(String(t), 3, toPixel(0, t, w, h)[1]);
      ctx.textAlign = "right"; ctx.textBaseline = "bottom";
      ctx.fillText("x1 →", w - 4, h - 12);
      ctx.textAlign = "left"; ctx.textBaseline = "top";
      ctx.fillText("↑ x2", 16, 3);
    }
    ctx.restore();
  }

  window.RavinePlane = {
    CLASS_COLORS, decodeF32, diverging, regionsImage, regionsCanvas, drawPlane, eventToData,
    toPixel, pointColor, hexRgb,
  };
})();
