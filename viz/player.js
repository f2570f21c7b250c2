/* autograd-lite player: steps through the forward and backward pass of a graph.
 *
 * The page holds Graphviz's SVG of the finished graph (every data and grad) and,
 * in <script class="agl-data">, the timeline that viz/player.py computed:
 *   forward[i]  = {show: [node names that appear], text}
 *   backward[i] = {node, to: [parents' node names], grads: {node name: grad text}, text,
 *                  built: true if the node's ledger is shown under the text}
 *   ledger      = {node name: how its gradient was built (a built node's: from its 2nd line)}
 *   names       = {node name: the name a reader knows it by (x1, x1·w1, neuron L0.N1)}
 *   out         = the output's name as a derivative writes it (L, in ∂L/∂x1)
 *   parenthesised = [node names whose name a derivative writes in parentheses: ∂L/∂(x1·w1)]
 * Node names are the drawing's ids (v3, and op3 for the op that made v3), kept in the
 * SVG's data-node / data-from / data-to attributes; the reader only ever sees `names`.
 * What this script can write from the names is not stored (a page of 500 nodes would
 * hold it hundreds of times): a step's heading ("backward step 3 of 9", as "forward step
 * 3 of 7"), and the first line of a built node's ledger, ∂L/∂v = Σ over the uses of v …
 * (autograd_lite.explain's wording; tests/test_player.py compares the two).
 * The state at step s (0 .. forward.length + backward.length) is replayed from
 * step 0, so stepping back is as simple as stepping forward. Every text goes into the
 * page as textContent, never as markup. No network, no library.
 */
(function () {
  "use strict";
  var BLANK = "\u2014";
  var SVG = "http://www.w3.org/2000/svg";
  var HINT = "Click a node to see how its gradient is built.";
  // [class of the swatch or null, text]: the legend under the picture.
  var LEGEND = [
    ["agl-key-current", "the current node: forward, just computed; backward, its gradient " +
      "is final and it passes it back"],
    ["agl-key-receiving", "its parents, receiving their share now, along the arrows that " +
      "point back to them"],
    [null, "Borders: red output, green parameter, blue input, grey dashed constant (no " +
      "gradient). Once a gradient is final, the fill deepens to orange with |grad| / max |grad|."]
  ];

  function setup(root) {
    root.setAttribute("data-ready", "1");
    var data = JSON.parse(root.querySelector("script.agl-data").textContent);
    var svg = root.querySelector(".agl-stage svg");
    var names = data.names || {};
    var parenthesised = {};
    (data.parenthesised || []).forEach(function (name) { parenthesised[name] = true; });
    var nodes = {}, gradText = {}, shapes = {};
    svg.querySelectorAll("g.node").forEach(function (g) {
      var name = g.getAttribute("data-node");
      nodes[name] = g;
      g.querySelectorAll("text").forEach(function (t) {
        if (t.textContent.indexOf("grad ") === 0) gradText[name] = t;
      });
      // The fill shows |grad|: keep the finished colour for when the gradient is final.
      shapes[name] = Array.prototype.map.call(g.querySelectorAll("polygon, path, ellipse"),
        function (el) { return [el, el.getAttribute("fill")]; });
      g.addEventListener("click", function (event) {
        event.stopPropagation();
        selected = computed(name);
        render();
        root.focus();
      });
    });
    var edges = Array.prototype.map.call(svg.querySelectorAll("g.edge"), function (g) {
      return [g, g.getAttribute("data-from"), g.getAttribute("data-to")];
    });
    // A flowing edge's arrow points back, at the parent that receives the gradient.
    var defs = svg.querySelector("defs") || svg.insertBefore(
      document.createElementNS(SVG, "defs"), svg.firstChild);
    var marker = document.createElementNS(SVG, "marker");
    var markerId = (root.id || "agl-player") + "-back";
    [["id", markerId], ["viewBox", "0 0 10 10"], ["refX", "10"], ["refY", "5"],
     ["markerWidth", "10"], ["markerHeight", "10"], ["markerUnits", "userSpaceOnUse"],
     ["orient", "auto-start-reverse"]].forEach(function (a) { marker.setAttribute(a[0], a[1]); });
    var head = document.createElementNS(SVG, "path");
    head.setAttribute("d", "M0,0 L10,5 L0,10 z");
    head.setAttribute("class", "agl-back-head");
    marker.appendChild(head);
    defs.appendChild(marker);
    // Shrink a wide picture to fit, but not below 60% of its size: past that, scroll.
    var natural = svg.width.baseVal.value;  // in px (Graphviz writes pt)
    svg.style.maxWidth = "none";
    svg.style.width = Math.max(Math.min(natural, root.clientWidth - 4), 0.6 * natural) + "px";
    var stage = root.querySelector(".agl-stage");
    var F = data.forward.length, B = data.backward.length, N = F + B;
    var stepOf = {};  // node name -> backward step (1-based) that makes its gradient final
    data.backward.forEach(function (s, i) { stepOf[s.node] = i + 1; });
    var step = 0, timer = null, selected = null, speed = 1;

    var bar = element("div", "agl-controls");
    var buttons = {};
    [["start", "\u00AB", "start (Home)"], ["back", "\u25C0", "step back (\u2190)"],
     ["play", "\u25B6", "play / pause (space)"], ["fwd", "\u25B6|", "step forward (\u2192)"],
     ["end", "\u00BB", "end (End)"]].forEach(function (b) {
      var button = element("button", "agl-" + b[0], b[1]);
      button.type = "button";
      button.title = b[2];
      button.setAttribute("aria-label", b[2]);
      button.addEventListener("click", function () { act(b[0]); });
      buttons[b[0]] = button;
      bar.appendChild(button);
    });
    var slider = element("input", "agl-slider");
    slider.type = "range";
    slider.min = 0;
    slider.max = N;
    slider.setAttribute("aria-label", "step");
    slider.addEventListener("input", function () { stop(); go(Number(slider.value)); });
    bar.appendChild(slider);
    var speeds = element("select", "agl-speed");
    speeds.setAttribute("aria-label", "speed");
    [0.5, 1, 2, 4].forEach(function (x) {
      var option = element("option", "", x + "\u00D7");
      option.value = x;
      option.selected = x === 1;
      speeds.appendChild(option);
    });
    speeds.addEventListener("change", function () {
      speed = Number(speeds.value);
      if (timer) { stop(); play(); }
    });
    bar.appendChild(speeds);
    var counter = element("span", "agl-counter");
    bar.appendChild(counter);
    var panel = element("pre", "agl-panel");
    panel.setAttribute("aria-live", "polite");
    var ledger = element("pre", "agl-ledger");
    var legend = element("div", "agl-legend");
    LEGEND.forEach(function (entry) {
      var item = element("span", "agl-legend-item");
      if (entry[0]) item.appendChild(element("span", "agl-key " + entry[0]));
      item.appendChild(element("span", "", entry[1]));
      legend.appendChild(item);
    });
    root.insertBefore(bar, root.querySelector(".agl-stage"));
    root.insertBefore(legend, root.querySelector(".agl-stage").nextSibling);
    root.appendChild(panel);
    root.appendChild(ledger);
    // The counter is as wide as its longest text, always: a changing width would move the
    // slider. Measured where the page shows it; in ch (2 to spare) where it is hidden.
    var longest = "step " + N + " / " + N + " \u00B7 backward";
    counter.textContent = longest;
    var width = counter.getBoundingClientRect().width;
    counter.style.minWidth = width > 0 ? Math.ceil(width) + "px" : longest.length + 2 + "ch";

    root.addEventListener("keydown", function (event) {
      var keys = {ArrowRight: "fwd", ArrowLeft: "back", " ": "play", Home: "start", End: "end"};
      var what = keys[event.key];
      if (!what || event.target.tagName === "SELECT") return;
      event.preventDefault();
      act(what);
    });

    function element(tag, cls, text) {
      var el = document.createElement(tag);
      if (cls) el.className = cls;
      if (text !== undefined) el.textContent = text;
      return el;
    }

    function act(what) {
      if (what === "play") { if (timer) stop(); else play(); return; }
      stop();
      if (what === "fwd") go(step + 1);
      else if (what === "back") go(step - 1);
      else if (what === "start") go(0);
      else if (what === "end") go(N);
    }

    function play() {
      if (step >= N) go(0);
      timer = setInterval(function () {
        if (step >= N) stop(); else go(step + 1);
      }, 700 / speed);
      buttons.play.textContent = "| |";
    }

    function stop() {
      if (timer) clearInterval(timer);
      timer = null;
      buttons.play.textContent = "\u25B6";
    }

    function go(s) {
      step = Math.max(0, Math.min(N, s));
      render();
    }

    function render() {
      var visible = {}, grads = {}, i, current = null, to = [], text;
      for (i = 0; i < Math.min(step, F); i++) {
        data.forward[i].show.forEach(function (n) { visible[n] = true; });
      }
      if (step > F) data.forward.forEach(function (f) {
        f.show.forEach(function (n) { visible[n] = true; });
      });
      for (i = 0; i < step - F; i++) Object.assign(grads, data.backward[i].grads);
      if (step === 0) {
        text = "Press \u25B6 or \u2192: the forward pass computes each value, then the " +
          "backward pass sends gradients back, one node at a time.";
      } else if (step <= F) {
        current = data.forward[step - 1].show;
        current = current[current.length - 1];
        text = "forward step " + step + " of " + F + "\n" + data.forward[step - 1].text;
      } else {
        current = data.backward[step - F - 1].node;
        to = data.backward[step - F - 1].to;
        var now = data.backward[step - F - 1];
        text = "backward step " + (step - F) + " of " + B + "\n" + now.text + (now.built ?
          "\n\nhow " + derivative(now.node) + " was built:\n" + ledgerOf(now.node) : "");
      }
      Object.keys(nodes).forEach(function (name) {
        var g = nodes[name];
        g.classList.toggle("agl-hidden", !visible[name]);
        g.classList.toggle("agl-current", name === current);
        g.classList.toggle("agl-receiving", to.indexOf(name) >= 0);
        g.classList.toggle("agl-selected", name === selected);
        if (gradText[name]) {
          gradText[name].textContent = "grad " + (name in grads ? grads[name] : BLANK);
        }
        var final = stepOf[name] !== undefined && step - F >= stepOf[name];
        shapes[name].forEach(function (pair) {
          if (pair[1] && pair[1] !== "none" && pair[1] !== "#eeeeee") {
            pair[0].setAttribute("fill", final ? pair[1] : "#ffffff");
          }
        });
      });
      // In the full picture a parent's edge ends at the op node (op3 made v3), which
      // the gradient passes on its way back from v3.
      var op = current !== null && current.charAt(0) === "v" ? "op" + current.slice(1) : null;
      edges.forEach(function (e) {
        e[0].classList.toggle("agl-hidden", !(visible[e[1]] && visible[e[2]]));
        var flow = step > F && to.length > 0 && (
          (to.indexOf(e[1]) >= 0 && (e[2] === current || e[2] === op)) ||
          (e[1] === op && e[2] === current));
        e[0].classList.toggle("agl-flow", flow);
        var path = e[0].querySelector("path");
        if (path) path.style.markerStart = flow ? "url(#" + markerId + ")" : "";
      });
      panel.textContent = text;
      ledger.textContent = selected === null ? HINT : ledgerText(selected);
      slider.value = step;
      counter.textContent = "step " + step + " / " + N +
        (step === 0 ? "" : step <= F ? " \u00B7 forward" : " \u00B7 backward");
      if (current !== null && nodes[current]) reveal(nodes[current]);
      root.setAttribute("data-step", String(step));
      root.setAttribute("data-current", current === null ? "" : current);
    }

    function reveal(g) {  // scroll the stage (only the stage, never the page) to show g
      var box = g.getBoundingClientRect(), view = stage.getBoundingClientRect();
      if (box.left < view.left) stage.scrollLeft -= view.left - box.left + 20;
      else if (box.right > view.right) stage.scrollLeft += box.right - view.right + 20;
      if (box.top < view.top) stage.scrollTop -= view.top - box.top + 20;
      else if (box.bottom > view.bottom) stage.scrollTop += box.bottom - view.bottom + 20;
    }

    function computed(name) {  // clicking op3 means the Value it computes, v3
      var made = name.charAt(0) === "o" ? "v" + name.slice(2) : name;
      return nodes[made] ? made : name;
    }

    function ledgerText(name) {
      var called = names[name] || "this node";
      if (data.constants.indexOf(name) >= 0) {
        return called + ": a constant the engine made from a number; it gets no gradient.";
      }
      if (stepOf[name] === undefined) return called + ": no gradient reaches it.";
      if (step - F < stepOf[name]) {
        return "The backward pass makes this gradient final at backward step " +
          stepOf[name] + " (step " + (F + stepOf[name]) + "); not yet.";
      }
      return ledgerOf(name);
    }

    function wrapped(name) {  // x1, or (x1·w1) after a ∂: as explain writes it
      return parenthesised[name] ? "(" + names[name] + ")" : names[name];
    }

    function derivative(name) {  // ∂L/∂x1
      return "\u2202" + data.out + "/\u2202" + wrapped(name);
    }

    function ledgerOf(name) {  // a built node's ledger opens with the sum over its uses
      if (!data.backward[stepOf[name] - 1].built) return data.ledger[name];
      return derivative(name) + " = \u03A3 over the uses of " + names[name] +
        ": \u2202child/\u2202" + wrapped(name) + " \u00B7 \u2202" + data.out + "/\u2202child\n" +
        data.ledger[name];
    }

    render();
    if (root.parentElement === document.body) root.focus();  // a page of its own: keys work at once
  }

  // A host that adds a player later (the network view's neuron graphs) sets it up with this.
  window.AutogradLitePlayer = {setup: setup};

  // This script's own player first (Jupyter may run it before the output is in the
  // document), then any other player on the page that is not set up yet.
  var own = document.currentScript && document.currentScript.closest(".agl-player");
  if (own && !own.hasAttribute("data-ready")) setup(own);
  document.querySelectorAll(".agl-player:not([data-ready])").forEach(setup);
})();
