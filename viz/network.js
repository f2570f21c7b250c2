/* autograd-lite network view: a network's neurons and weights, the training film, and
 * backprop layer by layer for one training point. No library, no network request.
 *
 * Every number comes from the page's data (viz/network_data.py computed it with the
 * engine); this script only draws and steps. The contract (viz/network.py's docstring):
 *   AutogradLiteNetwork.mount(root, data, hooks) -> view {update, showPlayer, go,
 *   snapshot, state}; every [data-autograd-lite="network"] element holding a
 *   <script type="application/json" class="agl-network-data"> is mounted on load.
 * Steps: 0 idle; 1..C forward (a column each, inputs first); then one backward step per
 * layer, output layer first. Snapshots: the film's frames (PageUp/PageDown).
 */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var POS = [33, 102, 172], NEG = [224, 130, 20];  // blue positive, orange negative
  var CLASSES = ["#377eb8", "#e41a1c", "#4daf4a", "#984ea3", "#ff7f00", "#a65628",
    "#f781bf", "#999999", "#66c2a5", "#000000"];

  function num(v) { return v === null || v === undefined ? NaN : Number(v); }

  // Python's repr of a float: shortest round-trip digits; exponent below 1e-4 or from 1e16.
  function pyRepr(v) {
    var x = num(v);
    if (isNaN(x)) return "nan";
    if (!isFinite(x)) return x > 0 ? "inf" : "-inf";
    if (x === 0) return 1 / x < 0 ? "-0.0" : "0.0";
    var parts = x.toExponential().split("e"), exp = Number(parts[1]);
    var sign = parts[0].charAt(0) === "-" ? "-" : "";
    var digits = parts[0].replace("-", "").replace(".", "");
    if (exp < -4 || exp >= 16) {
      var mant = digits.charAt(0) + (digits.length > 1 ? "." + digits.slice(1) : "");
      return sign + mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") +
        Math.abs(exp);
    }
    var s;
    if (exp < 0) s = "0." + "0".repeat(-exp - 1) + digits;
    else if (digits.length <= exp + 1) s = digits + "0".repeat(exp + 1 - digits.length) + ".0";
    else s = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
    return sign + s;
  }

  // `precision` significant digits, as Python's "%.{p}g" (viz.style.number): never reads 0.
  function fmt(v, p) {
    var x = num(v);
    if (isNaN(x)) return "NaN";
    if (!isFinite(x)) return x > 0 ? "inf" : "-inf";
    if (x === 0) return "0.0";
    var e = Number(x.toExponential(p - 1).split("e")[1]);
    var s;
    if (e < -4 || e >= p) {
      var parts = x.toExponential(p - 1).split("e");
      var m = parts[0].indexOf(".") >= 0 ? parts[0].replace(/0+$/, "").replace(/\.$/, "") : parts[0];
      var k = Number(parts[1]);
      s = m + "e" + (k < 0 ? "-" : "+") + (Math.abs(k) < 10 ? "0" : "") + Math.abs(k);
    } else {
      s = x.toFixed(Math.max(0, p - 1 - e));
      if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
      if (s.indexOf(".") < 0) s += ".0";
    }
    return s;
  }

  function vec(values, p) {
    return "(" + values.map(function (v) { return fmt(v, p); }).join(", ") + ")";
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svgEl(tag, attrs, parent) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }

  function mix(t) {  // t in [-1, 1] -> a colour from orange through white to blue
    var c = t >= 0 ? POS : NEG, a = Math.min(1, Math.abs(t));
    return [255 + (c[0] - 255) * a, 255 + (c[1] - 255) * a, 255 + (c[2] - 255) * a];
  }

  function bytes(b64) {
    var s = atob(b64), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  function mount(root, data, hooks) {
    hooks = hooks || {};
    root.setAttribute("data-autograd-lite", "network");
    root.setAttribute("data-ready", "1");
    if (!root.hasAttribute("tabindex")) root.setAttribute("tabindex", "0");
    var old = root.querySelector(".agl-static");
    if (old) old.parentNode.removeChild(old);
    var state = {snap: 0, step: 0, selected: null, timer: null};
    var P = data.precision || 4;
    var view = {}, dom = {};

    // ---- the frame of the page (built once; the data may change under it)
    var bar = el("div", "agl-controls");
    var buttons = {};
    [["start", "\u00AB", "start (Home)"], ["back", "\u25C0", "step back (\u2190)"],
     ["play", "\u25B6", "play / pause (space)"], ["fwd", "\u25B6|", "step forward (\u2192)"],
     ["end", "\u00BB", "end (End)"]].forEach(function (b) {
      var button = el("button", "agl-" + b[0], b[1]);
      button.type = "button";
      button.title = b[2];
      button.setAttribute("aria-label", b[2]);
      button.addEventListener("click", function () { act(b[0]); });
      buttons[b[0]] = button;
      bar.appendChild(button);
    });
    var counter = el("span", "agl-counter");
    bar.appendChild(counter);
    var film = el("label", "agl-film");
    film.appendChild(el("span", "", "epoch "));
    var slider = el("input", "agl-epoch-slider");
    slider.type = "range";
    slider.min = 0;
    slider.setAttribute("aria-label", "snapshot (PageUp / PageDown)");
    slider.addEventListener("input", function () { snapshot(Number(slider.value)); });
    film.appendChild(slider);
    var epochText = el("span", "agl-epoch");
    film.appendChild(epochText);
    bar.appendChild(film);
    var heading = el("div", "agl-heading");
    var notes = el("div", "agl-notes");
    var main = el("div", "agl-main");
    var stage = el("div", "agl-net");
    var side = el("div", "agl-side");
    main.appendChild(stage);
    main.appendChild(side);
    var panel = el("div", "agl-step-panel");
    panel.setAttribute("aria-live", "polite");
    var neuronPanel = el("div", "agl-neuron-panel");
    [heading, notes, bar, main, neuronPanel].forEach(function (e) { root.appendChild(e); });

    root.addEventListener("keydown", function (event) {
      var keys = {ArrowRight: "fwd", ArrowLeft: "back", " ": "play", Home: "start", End: "end",
        PageUp: "prev", PageDown: "next"};
      var what = keys[event.key];
      if (!what || event.target.tagName === "SELECT" || event.target.tagName === "INPUT" &&
          what !== "prev" && what !== "next") return;
      if (event.target.closest && event.target.closest(".agl-player")) return;
      event.preventDefault();
      act(what);
    });

    function act(what) {
      if (what === "play") { if (state.timer) stop(); else play(); return; }
      stop();
      if (what === "fwd") go(state.step + 1);
      else if (what === "back") go(state.step - 1);
      else if (what === "start") go(0);
      else if (what === "end") go(steps());
      else if (what === "prev") snapshot(state.snap - 1);
      else if (what === "next") snapshot(state.snap + 1);
    }
    function play() {
      if (state.step >= steps()) go(0);
      state.timer = setInterval(function () {
        if (state.step >= steps()) stop(); else go(state.step + 1);
      }, 900);
      buttons.play.textContent = "| |";
    }
    function stop() {
      if (state.timer) clearInterval(state.timer);
      state.timer = null;
      buttons.play.textContent = "\u25B6";
    }
    function steps() { return data.sample ? data.columns.length + data.columns.length - 1 : 0; }
    function go(s) { state.step = Math.max(0, Math.min(steps(), s)); render(); }
    function snapshot(i) {
      state.snap = Math.max(0, Math.min(data.snapshots.length - 1, i));
      render();
    }

    // ---- build the picture for the current data
    function build() {
      var shape = JSON.stringify([data.columns, data.layout, data.params, !!data.box,
        !!(data.curves && data.curves.loss.length)]);  // a live host's first epoch adds curves
      if (shape === dom.shape) return;  // the same network: keep the elements, redraw the numbers
      stage.textContent = "";
      side.textContent = "";
      dom = {neurons: {}, lines: [], layers: {}, heat: {}};
      var lay = data.layout;
      var svg = svgEl("svg", {viewBox: "0 0 " + lay.width + " " + lay.height,
        "class": "agl-net-svg", role: "img", "aria-label": "the network"});
      var lines = svgEl("g", {"class": "agl-lines"}, svg);
      data.columns.forEach(function (column, c) {
        var x = lay.neurons[column.neurons[0]][0];
        var title = svgEl("text", {x: x, y: 14, "class": "agl-col-title"}, svg);
        title.textContent = column.name + (column.activation ? " (" + column.activation + ")" : "");
        if (c === 0) return;
        var prev = data.columns[c - 1], imageRight = -Infinity;
        if (c === 1 && data.image) prev.neurons.forEach(function (source) {
          imageRight = Math.max(imageRight, lay.neurons[source][0] + lay.neurons[source][2] / 2);
        });
        column.neurons.forEach(function (label, k) {
          var to = lay.neurons[label];
          prev.neurons.forEach(function (source, j) {
            var from = lay.neurons[source], index = column.w0[k] + j;
            // from the image's right edge (pixel j's row), else from the neuron's right side
            var x1 = c === 1 && data.image ? imageRight : from[0] + from[2] / 2;
            var line = svgEl("line", {x1: x1, y1: from[1],
              x2: to[0] - to[2] / 2, y2: to[1], "data-param": data.params[index]}, lines);
            dom.lines.push({el: line, index: index, layer: c - 1, to: label, from: source});
          });
        });
      });
      data.columns.forEach(function (column, c) {
        var g = svgEl("g", {"data-layer": column.name, "class": "agl-layer"}, svg);
        dom.layers[column.name] = g;
        column.neurons.forEach(function (label, k) {
          var p = lay.neurons[label], s = p[2];
          var n = svgEl("g", {"data-neuron": label, "class": "agl-neuron"}, g);
          var tip = svgEl("title", {}, n);
          tip.textContent = label;
          var image = null;
          if (data.box && !data.image) {
            image = svgEl("image", {x: p[0] - s / 2, y: p[1] - s / 2, width: s, height: s,
              preserveAspectRatio: "none"}, n);
          }
          var box = svgEl(c === 0 && data.image ? "rect" : "rect", {x: p[0] - s / 2,
            y: p[1] - s / 2, width: s, height: s, rx: data.image && c === 0 ? 0 : 3,
            "class": "agl-box"}, n);
          var bias = null;
          if (c > 0) {
            bias = svgEl("circle", {cx: p[0] - s / 2, cy: p[1] + s / 2, r: 3,
              "class": "agl-bias"}, n);
            bias.appendChild(svgEl("title"));
          }
          var text = svgEl("text", {x: p[0] + s / 2 + 3, y: p[1] + 3, "class": "agl-value"}, n);
          text.style.fontSize = (lay.value_font || 9.5) + "px";  // the layout keeps room for it
          dom.neurons[label] = {g: n, image: image, box: box, bias: bias, text: text, tip: tip,
            column: c, k: k, label: label,
            biasIndex: c > 0 ? column.w0[k] + data.columns[c - 1].neurons.length : null};
          n.addEventListener("click", function (event) {
            event.stopPropagation();
            select(label);
          });
        });
      });
      stage.appendChild(svg);
      stage.appendChild(panel);
      dom.svg = svg;
      dom.shape = shape;
      buildSide();
    }

    function buildSide() {
      if (data.box) {
        var box = el("div", "agl-regions-box");
        box.appendChild(el("div", "agl-caption",
          "decision regions" + (data.points && data.points.test_x ? " (held-out points hollow)" : "")));
        var canvas = el("canvas", "agl-regions");
        canvas.width = canvas.height = 240;
        box.appendChild(canvas);
        dom.regions = canvas;
        canvas.addEventListener("click", function (event) {
          if (!hooks.onSample || !data.points) return;
          var r = canvas.getBoundingClientRect(), b = data.box;
          var px = b[0] + (event.clientX - r.left) / r.width * (b[1] - b[0]);
          var py = b[3] - (event.clientY - r.top) / r.height * (b[3] - b[2]);
          var best = 0, dist = Infinity;
          data.points.x.forEach(function (q, i) {
            var d = (q[0] - px) * (q[0] - px) + (q[1] - py) * (q[1] - py);
            if (d < dist) { dist = d; best = i; }
          });
          hooks.onSample(best);
        });
        side.appendChild(box);
      }
      if (data.curves && data.curves.loss.length) {
        // the key in words beside the picture (8-px text inside it sat on the curves)
        dom.curvesCaption = el("div", "agl-caption");
        side.appendChild(dom.curvesCaption);
        dom.curves = svgEl("svg", {viewBox: "0 0 240 120", "class": "agl-curves"});
        side.appendChild(dom.curves);
      }
      var health = el("table", "agl-health");
      side.appendChild(el("div", "agl-caption", "gradient health, per layer"));
      side.appendChild(health);
      side.appendChild(el("div", "agl-legend", "|\u2202L/\u2202W|: its mean over the " +
        "layer's weights, L the mean loss of all training points; dead: ReLUs that are 0 on every training " +
        "point; saturated: tanh/sigmoid outputs within 0.01 of their limits (\u2014: no such " +
        "activation); \u2016\u0394W\u2016/\u2016W\u2016: how much the weights moved since " +
        "the last snapshot, relative to their size. Red: a flag below."));
      dom.health = health;
      dom.scale = el("div", "agl-legend agl-scale");
      side.appendChild(dom.scale);
      var legend = el("div", "agl-legend");
      legend.textContent = "Lines: blue w > 0, orange w < 0, width \u221D |w| (thickest = " +
        "largest |w| of this snapshot); in the backward pass, colour and width show \u2202L/\u2202w " +
        "(width \u221D |\u2202L/\u2202w| / the layer's largest). Dot: the bias. Squares: " +
        "each neuron's output over the plane (blue > 0, orange < 0). Health flags: " +
        (data.health_thresholds || []).map(function (t) { return t[3]; }).join("; ") + ".";
      side.appendChild(legend);
    }

    // ---- drawing one state
    function frame() { return data.snapshots[state.snap]; }

    function render() {
      var f = frame(), C = data.columns.length, s = state.step;
      var phase = s === 0 ? "idle" : s <= C ? "forward" : "backward";
      var reachedOut = s;  // columns 0 .. s-1 have their outputs
      var reachedBack = phase === "backward" ? s - C : 0;  // layers from the output down
      var sp = f.sample;
      root.setAttribute("data-snapshot", String(state.snap));
      root.setAttribute("data-epoch", f.epoch === null || f.epoch === undefined ? "" : String(f.epoch));
      root.setAttribute("data-loss", f.loss === null || f.loss === undefined ? "" : pyRepr(f.loss));
      root.setAttribute("data-phase", phase);
      root.setAttribute("data-step", String(s));
      // One snapshot (a live host's latest epoch, or a model without a history): no film to
      // scrub, so no slider and no "(1 / 1)"; the epoch alone.
      var filmed = data.snapshots.length > 1;
      slider.style.display = filmed ? "" : "none";
      film.classList.toggle("agl-film-one", !filmed);
      slider.max = data.snapshots.length - 1;
      slider.value = state.snap;
      epochText.textContent = (f.epoch === null || f.epoch === undefined ? "\u2014" : f.epoch) +
        (filmed ? " (" + (state.snap + 1) + " / " + data.snapshots.length + ")" : "") +
        (f.loss === null || f.loss === undefined ? "" : ", loss " + fmt(f.loss, P)) +
        (f.accuracy === null || f.accuracy === undefined ? "" :
          ", accuracy " + (100 * f.accuracy).toFixed(1) + "%") +
        (f.test_accuracy === null || f.test_accuracy === undefined ? "" :
          ", held-out " + (100 * f.test_accuracy).toFixed(1) + "%");
      counter.textContent = "step " + s + " / " + steps() + (phase === "idle" ? "" : " \u00B7 " + phase);
      var params = f.params.map(num);
      var top = 0;
      params.forEach(function (v) { if (isFinite(v)) top = Math.max(top, Math.abs(v)); });
      var gradTop = {};
      if (sp) dom.lines.forEach(function (l) {
        var g = Math.abs(num(sp.grad[l.index]));
        if (isFinite(g)) gradTop[l.layer] = Math.max(gradTop[l.layer] || 0, g);
      });
      var L = C - 1;  // layers 0 .. L-1; backward step b reveals layer L - b
      dom.lines.forEach(function (l) {
        var w = params[l.index], back = sp && reachedBack > 0 && l.layer >= L - reachedBack;
        l.el.setAttribute("data-value", pyRepr(f.params[l.index]));
        l.el.setAttribute("data-grad", back ? pyRepr(sp.grad[l.index]) : "");
        var v = back ? num(sp.grad[l.index]) : w, scale = back ? gradTop[l.layer] : top;
        var bad = !isFinite(v);
        l.el.setAttribute("stroke", bad ? "#999" : "rgb(" + mix(v >= 0 ? 1 : -1).join(",") + ")");
        l.el.setAttribute("stroke-width", bad ? 1 : (0.25 + 3.5 * Math.abs(v) / (scale || 1)).toFixed(2));
        l.el.setAttribute("stroke-dasharray", bad ? "3 2" : "");
        l.el.setAttribute("class", phase === "backward" && !back ? "agl-faint" : "");
      });
      Object.keys(dom.neurons).forEach(function (label) {
        var n = dom.neurons[label], c = n.column, k = n.k;
        var out = sp && c < reachedOut ? sp.out[c][k] : null;
        var delta = sp && c > 0 && reachedBack > 0 && c - 1 >= L - reachedBack ? sp.delta[c - 1][k] : null;
        n.g.setAttribute("data-out", out === null ? "" : pyRepr(out));
        n.g.setAttribute("data-delta", delta === null ? "" : pyRepr(delta));
        n.text.textContent = data.image && c === 0 ? "" :  // the image shows the inputs
          delta !== null ? "\u03B4 " + fmt(delta, 3) : out !== null ? fmt(out, 3) : "";
        n.tip.textContent = label + (out === null ? "" : ": " + fmt(out, P)) +
          (delta === null ? "" : ", \u03B4 = " + fmt(delta, P));
        n.g.classList.toggle("agl-current", phase === "forward" && c === s - 1 ||
          phase === "backward" && c - 1 === L - reachedBack);
        n.g.classList.toggle("agl-selected", label === state.selected);
        if (data.image && c === 0 && data.sample) {
          var x = num(data.sample.x[k]);
          var lo = Math.min.apply(null, data.sample.x.map(num)), hi = Math.max.apply(null, data.sample.x.map(num));
          var t = hi > lo ? (x - lo) / (hi - lo) : 0, grey = Math.round(255 * (1 - t));
          n.box.style.fill = "rgb(" + grey + "," + grey + "," + grey + ")";
        }
        if (n.bias) {
          var b = num(f.params[n.biasIndex]);
          n.bias.setAttribute("fill", isFinite(b) ? "rgb(" + mix(b >= 0 ? 1 : -1).join(",") + ")" : "#999");
          n.bias.setAttribute("r", isFinite(b) ? (1.5 + 3 * Math.min(1, Math.abs(b) / (top || 1))).toFixed(2) : 2);
          n.bias.firstChild.textContent = data.params[n.biasIndex] + " = " + fmt(b, P);
        }
      });
      dom.scale.textContent = "Scale: the thickest line is |w| = " + fmt(top, 3) +
        (reachedBack > 0 ? "; in the layers the backward pass reached, the thickest is that " +
          "layer's largest |\u2202L/\u2202w|: " + Object.keys(gradTop).filter(function (l) {
            return Number(l) >= L - reachedBack;
          }).map(function (l) {
            return data.columns[Number(l) + 1].name + " " + fmt(gradTop[l], 3);
          }).join(", ") : "") + ".";
      if (dom.heatSnap !== state.snap) { drawHeat(f); dom.heatSnap = state.snap; }
      drawCurves(f);
      drawHealth(f);
      panel.textContent = "";
      panel.appendChild(explain(phase, s, reachedBack));
    }

    function drawHeat(f) {
      if (!f.heat || !data.box) return;
      var G = data.grid, q = bytes(f.heat.q), labels = [];
      data.columns.forEach(function (c) { labels = labels.concat(c.neurons); });
      var canvas = document.createElement("canvas");
      canvas.width = canvas.height = G;
      var ctx = canvas.getContext("2d");
      labels.forEach(function (label, i) {
        var n = dom.neurons[label];
        if (!n || !n.image) return;
        var lo = num(f.heat.lo[i]), hi = num(f.heat.hi[i]);
        var img = ctx.createImageData(G, G), scale = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
        for (var p = 0; p < G * G; p++) {
          var v = lo + (hi - lo) * q[i * G * G + p] / 255;
          var c = isFinite(v) ? mix(v / scale) : [170, 170, 170];
          img.data[4 * p] = c[0]; img.data[4 * p + 1] = c[1]; img.data[4 * p + 2] = c[2];
          img.data[4 * p + 3] = 255;
        }
        ctx.putImageData(img, 0, 0);
        n.image.setAttribute("href", canvas.toDataURL());
      });
      if (dom.regions && f.regions) {
        var R = data.region_grid, cls = bytes(f.regions), rc = dom.regions.getContext("2d");
        var W = dom.regions.width, small = document.createElement("canvas");
        small.width = small.height = R;
        var sctx = small.getContext("2d"), cells = sctx.createImageData(R, R);
        for (var r = 0; r < R * R; r++) {
          var hex = cls[r] === 255 ? "#bbbbbb" : CLASSES[cls[r] % CLASSES.length];
          for (var ch = 0; ch < 3; ch++) {  // the class colour at 30% over white
            var v = parseInt(hex.substr(1 + 2 * ch, 2), 16);
            cells.data[4 * r + ch] = Math.round(255 + 0.3 * (v - 255));
          }
          cells.data[4 * r + 3] = 255;
        }
        sctx.putImageData(cells, 0, 0);
        rc.imageSmoothingEnabled = false;
        rc.drawImage(small, 0, 0, W, W);
        var b = data.box;
        var dot = function (q, y, hollow, chosen) {
          var px = (q[0] - b[0]) / (b[1] - b[0]) * W, py = (b[3] - q[1]) / (b[3] - b[2]) * W;
          rc.beginPath();
          rc.arc(px, py, chosen ? 6 : 2.6, 0, 2 * Math.PI);
          rc.lineWidth = chosen ? 2.5 : 1.2;
          if (hollow || chosen) {
            rc.strokeStyle = chosen ? "#000" : CLASSES[y % CLASSES.length];
            rc.stroke();
          } else {
            rc.fillStyle = CLASSES[y % CLASSES.length];
            rc.fill();
          }
        };
        data.points.x.forEach(function (q, i) { dot(q, data.points.y[i], false, false); });
        (data.points.test_x || []).forEach(function (q, i) { dot(q, data.points.test_y[i], true, false); });
        if (data.sample) dot(data.sample.x, data.sample.y, false, true);
      }
    }

    function drawCurves(f) {
      var svg = dom.curves;
      if (!svg) return;
      svg.textContent = "";
      var loss = data.curves.loss.map(num), acc = data.curves.accuracy.map(num), E = loss.length;
      // Held-out figures: the snapshots', or a live host's of its past frames (curves.test).
      var held = data.curves.test || data.snapshots;
      var tests = held.map(function (s) { return num(s.test_loss); });
      var pos = loss.concat(tests).filter(function (v) { return isFinite(v) && v > 0; });
      var lo = Math.log(Math.min.apply(null, pos)), hi = Math.log(Math.max.apply(null, pos));
      if (!(hi > lo)) { hi = lo + 1; }
      var X = function (e) { return 8 + (e - 1) / Math.max(E - 1, 1) * 224; };
      var Y = function (v) { return 112 - (Math.log(v) - lo) / (hi - lo) * 100; };
      var A = function (v) { return 112 - v * 100; };
      var line = function (values, y, cls, epochs) {
        var pts = [];
        values.forEach(function (v, i) {
          if (isFinite(v) && (y !== Y || v > 0)) pts.push(X(epochs ? epochs[i] : i + 1).toFixed(1) + "," + y(v).toFixed(1));
        });
        if (pts.length) svgEl("polyline", {points: pts.join(" "), "class": cls}, svg);
        if (pts.length === 1) {  // one epoch so far: a dot, where a line would be invisible
          var xy = pts[0].split(",");
          svgEl("circle", {cx: xy[0], cy: xy[1], r: 2, "class": cls + " agl-dot"}, svg);
        }
      };
      line(loss, Y, "agl-loss");
      line(acc, A, "agl-acc");
      var epochs = [], tl = [], ta = [];
      held.forEach(function (s) {
        if (s.test_loss !== null && s.test_loss !== undefined && s.epoch > 0) {
          epochs.push(s.epoch); tl.push(num(s.test_loss)); ta.push(num(s.test_accuracy));
        }
      });
      if (epochs.length) { line(tl, Y, "agl-loss agl-test", epochs); line(ta, A, "agl-acc agl-test", epochs); }
      if (f.epoch !== null && f.epoch !== undefined) {
        svgEl("line", {x1: X(Math.max(f.epoch, 1)), x2: X(Math.max(f.epoch, 1)), y1: 4, y2: 116,
          "class": "agl-now"}, svg);
      }
      dom.curvesCaption.textContent = "per epoch: loss (red, log scale) and accuracy (blue)" +
        (epochs.length ? "; dashed: held-out" : "") + "; the bar: the epoch shown";
    }

    function drawHealth(f) {
      var t = dom.health;
      t.textContent = "";
      var head = el("tr");
      ["layer", "|\u2202L/\u2202W|", "dead", "saturated", "\u2016\u0394W\u2016/\u2016W\u2016"].forEach(function (h) {
        head.appendChild(el("th", "", h));
      });
      t.appendChild(head);
      data.columns.slice(1).forEach(function (column) {
        var g = dom.layers[column.name], h = f.health && f.health[column.name];
        if (!h) { g.removeAttribute("data-health"); return; }
        g.setAttribute("data-health", JSON.stringify({grad: h.grad, dead: h.dead,
          saturated: h.saturated, update_ratio: h.update_ratio}));
        var row = el("tr");
        row.appendChild(el("td", "", column.name));
        ["grad", "dead", "saturated", "update_ratio"].forEach(function (key) {
          var v = h[key], cell = el("td", "", v === null ? "\u2014" :
            key === "dead" || key === "saturated" ? (100 * v).toFixed(0) + "%" : fmt(v, 2));
          var hit = (h.flags || []).filter(function (text) {
            return (data.health_thresholds || []).some(function (th) { return th[0] === key && th[3] === text; });
          });
          if (hit.length) { cell.className = "agl-flag"; cell.title = hit.join("; "); }
          row.appendChild(cell);
        });
        g.classList.toggle("agl-flagged", (h.flags || []).length > 0);
        t.appendChild(row);
      });
    }

    // ---- the panel: the step as the matrix equation of docs/derivations.md §4.2
    function explain(phase, s, back) {
      var box = el("div"), f = frame(), sp = f.sample, C = data.columns.length;
      var lines = [];
      if (!sp) {
        lines.push("No training point: pass X and y to viz.network to see backprop layer by layer.");
      } else if (phase === "idle") {
        lines.push("Training point " + data.sample.index + " (class " + data.sample.y + ", " +
          data.sample.why + "): its loss at this snapshot is " + fmt(sp.loss, P) + ".");
        lines.push("Press \u2192 (or \u25B6): the forward pass fills the layers, then the " +
          "backward pass sends \u03B4 = \u2202L/\u2202z back one layer at a time. PageUp/PageDown " +
          "move through training. Click a neuron to see its own graph.");
      } else if (phase === "forward") {
        var c = s - 1, col = data.columns[c];
        if (c === 0) lines.push("forward: h(in) = x = " + vec(sp.out[0], P));
        else {
          var prev = data.columns[c - 1].name;
          lines.push("forward, layer " + col.name + ": z(" + col.name + ") = W(" + col.name +
            ") h(" + prev + ") + b(" + col.name + ") = " + vec(sp.z[c - 1], P));
          if (col.activation !== "linear") {
            lines.push("h(" + col.name + ") = " + col.activation + "(z) = " + vec(sp.out[c], P));
          }
          if (c === C - 1) {
            if (sp.probs) lines.push("\u0177 = softmax(z) = " + vec(sp.probs, P));
            lines.push("L = " + fmt(sp.loss, P) + (sp.probs ? " = \u2212log \u0177[" + data.sample.y + "]" : ""));
          }
        }
      } else {
        var layer = C - 1 - back, name = data.columns[layer + 1].name, k = layer;
        var below = layer === 0 ? "in" : data.columns[layer].name;
        if (back === 1) {
          if (sp.probs && data.loss_name === "softmax_cross_entropy") {
            var y = sp.probs.map(function (_, i) { return i === data.sample.y ? 1 : 0; });
            lines.push("backward, output layer " + name + ": \u03B4(" + name + ") = \u2202L/\u2202z = " +
              "\u0177 \u2212 y = " + vec(sp.probs, P) + " \u2212 " + vec(y, 1).replace(/\.0/g, "") +
              " = " + vec(sp.delta[k], P));
          } else {
            lines.push("backward, output layer " + name + ": \u03B4(" + name + ") = \u2202L/\u2202z = " +
              vec(sp.delta[k], P));
          }
        } else {
          var above = data.columns[layer + 2].name, act = data.columns[layer + 1].activation;
          lines.push("backward, layer " + name + ": \u2202L/\u2202h(" + name + ") = W(" + above +
            ")\u1D40 \u03B4(" + above + ") = " + vec(sp.dh[k], P));
          lines.push(act + "'(z(" + name + ")) = " + vec(sp.gprime[k], P));
          lines.push("\u03B4(" + name + ") = (W(" + above + ")\u1D40 \u03B4(" + above + ")) \u2299 " +
            act + "'(z(" + name + ")) = " + vec(sp.delta[k], P));
        }
        lines.push("\u2202L/\u2202W(" + name + ") = \u03B4(" + name + ") h(" + below + ")\u1D40: " +
          "each line's \u2202L/\u2202w = \u03B4 \u00B7 h of the neuron it comes from; " +
          "\u2202L/\u2202b(" + name + ") = \u03B4(" + name + ")");
        // the example: this layer's weight with the largest |∂L/∂w|
        var col = data.columns[layer + 1], nin = data.columns[layer].neurons.length;
        var best = {g: -1, i: 0, j: 0};
        col.w0.forEach(function (w0, i) {
          for (var j = 0; j < nin; j++) {
            var g = Math.abs(num(sp.grad[w0 + j]));
            if (g > best.g) best = {g: g, i: i, j: j};
          }
        });
        var gi = col.w0[best.i] + best.j;
        lines.push("e.g. \u2202L/\u2202" + data.params[gi] + " = \u03B4(" + col.neurons[best.i] +
          ") \u00B7 h(" + data.columns[layer].neurons[best.j] + ") = " +
          fmt(sp.delta[k][best.i], P) + " \u00B7 " + fmt(sp.out[layer][best.j], P) + " = " +
          fmt(sp.grad[gi], P));
      }
      lines.forEach(function (text) { box.appendChild(el("div", "agl-eq", text)); });
      if (sp && phase !== "idle") {
        var link = el("a", "agl-ref", "docs/derivations.md \u00A74.2, the layer recursion");
        link.href = "docs/derivations.md#layer-recursion";
        box.appendChild(link);
      }
      return box;
    }

    // ---- a neuron's own graph
    function select(label) {
      state.selected = label;
      render();
      neuronPanel.textContent = "";
      if (hooks.onNeuron) { hooks.onNeuron(label); return; }
      var last = data.snapshots[data.snapshots.length - 1], player = (data.players || {})[label];
      var n = dom.neurons[label];
      var head = el("div", "agl-caption");
      neuronPanel.appendChild(head);
      if (n.column === 0) {
        head.textContent = label + ": an input; x = " + (data.sample ? fmt(data.sample.x[n.k], P) : "\u2014");
        return;
      }
      var epoch = last.epoch === null || last.epoch === undefined ? "" : " at epoch " + last.epoch;
      if (player) {
        head.textContent = label + " on training point " + data.sample.index + epoch +
          " (the last snapshot): its own graph of scalar Values. The root multiplies its " +
          "output by \u2202L/\u2202" + label + ", so backward gives each weight its \u2202L/\u2202w.";
        showPlayer(player);
        return;
      }
      var sp = last.sample;
      if (sp) {
        var z = sp.z[n.column - 1][n.k], g = sp.gprime[n.column - 1][n.k];
        head.textContent = label + " on training point " + data.sample.index + epoch + ": z = " +
          fmt(z, P) + ", g'(z) = " + fmt(g, P) + ", so \u03B4 = \u2202L/\u2202z = " +
          fmt(sp.delta[n.column - 1][n.k], P) + (num(sp.delta[n.column - 1][n.k]) === 0 ?
          ": no gradient reaches its weights (each \u2202L/\u2202w = \u03B4 \u00B7 a = 0)." :
          data.players_left_out ? ". Its graph is not in this page: to stay under 3 MB it " +
          "keeps the graphs of the " + Object.keys(data.players || {}).length + " neurons with " +
          "the largest |\u03B4| (" + data.players_left_out + " left out)." : ".");
      } else {
        head.textContent = label;
      }
    }

    function showPlayer(player) {
      var box = el("div", "agl-player");
      box.setAttribute("tabindex", "0");
      if (typeof player === "string") {
        var holder = el("div");
        holder.innerHTML = player;
        box = holder.querySelector(".agl-player") || holder;
      } else {
        var stageEl = el("div", "agl-stage");
        stageEl.innerHTML = player.svg;  // Graphviz's SVG, made by viz.player
        var script = el("script");
        script.type = "application/json";
        script.className = "agl-data";
        script.textContent = JSON.stringify(player.data);
        box.appendChild(stageEl);
        box.appendChild(script);
      }
      neuronPanel.appendChild(box);
      if (window.AutogradLitePlayer && box.classList.contains("agl-player")) {
        window.AutogradLitePlayer.setup(box);
      }
    }

    view.update = function (next) {
      var wasLast = state.snap === data.snapshots.length - 1;
      data = next;
      P = data.precision || 4;
      build();
      state.snap = wasLast ? data.snapshots.length - 1 : Math.min(state.snap, data.snapshots.length - 1);
      state.step = Math.min(state.step, steps());
      dom.heatSnap = null;
      notesText();
      render();
    };
    view.showPlayer = function (html) { neuronPanel.textContent = ""; showPlayer(html); };
    view.go = go;
    view.snapshot = snapshot;
    view.state = function () {
      return {snapshot: state.snap, step: state.step, phase: root.getAttribute("data-phase"),
        selected: state.selected};
    };

    function notesText() {
      heading.textContent = (data.title || "a network") + ": " + data.columns.map(function (c) {
        return c.neurons.length;
      }).join("-") + (data.sample ? "; backprop on training point " + data.sample.index +
        " (class " + data.sample.y + ")" : "");
      notes.textContent = (data.notes || []).join(" ");
      notes.style.display = (data.notes || []).length ? "" : "none";
    }

    build();
    state.snap = data.snapshots.length - 1;
    notesText();
    render();
    return view;
  }

  window.AutogradLiteNetwork = {mount: mount, pyRepr: pyRepr, fmt: fmt};

  function mountAll() {
    document.querySelectorAll('[data-autograd-lite="network"]:not([data-ready])').forEach(function (root) {
      var script = root.querySelector("script.agl-network-data");
      if (!script) return;
      mount(root, JSON.parse(script.textContent));
      if (root.parentElement === document.body) root.focus();
    });
  }
  mountAll();
})();
