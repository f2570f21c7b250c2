/* autograd-lite playground: the controls panel and the socket. The network view itself is
 * network.js (AutogradLiteNetwork.mount / update); this script only talks to the server.
 *
 * To the server (JSON over the WebSocket /ws): {type: "settings", settings: {name: text}} on
 * every change of a control, {type: "action", action} for the buttons (data-action),
 * {type: "sample", index} and {type: "neuron", label} from the view's hooks; each with an
 * id, answered by {type: "ok"|"error", id, ...}. From the server: {type: "frame", status,
 * snapshot, curves: {start, loss, accuracy, test_start, test}, base?, base_id}: the view's
 * data is the base with the one snapshot and the curves put together (test: the held-out
 * figures of the frames drawn so far, the view's curves.test).
 * The root [data-autograd-lite="network"] gets data-running here; data-epoch and data-loss
 * come from the view (the snapshot's epoch and the History's loss of it).
 */
(function () {
  "use strict";
  var form = document.querySelector('[data-role="controls"]');
  var errorBox = document.querySelector('[data-role="error"]');
  var note = document.querySelector('[data-role="note"]');
  var readout = document.querySelector('[data-role="readout"]');
  var root = document.querySelector(".agl-pg-view");
  var token = new URLSearchParams(location.search).get("token") || "";
  var socket = null, view = null, base = null, baseId = -1;
  var curves = {loss: [], accuracy: [], test: []};
  var nextId = 1, pending = {}, inputError = null, runError = null;

  function fmt(v, p) {
    var A = window.AutogradLiteNetwork;
    return A ? A.fmt(v, p) : String(v);
  }

  function showErrors() {
    var lines = [inputError, runError].filter(function (t) { return t; });
    errorBox.textContent = lines.join("\n");
    errorBox.hidden = lines.length === 0;
  }

  function send(message, then) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      inputError = "not connected to the playground: is it still running? (reload the page)";
      showErrors();
      return;
    }
    message.id = nextId++;
    pending[message.id] = {message: message, then: then || null};
    socket.send(JSON.stringify(message));
  }

  function answered(reply) {
    var asked = pending[reply.id];
    delete pending[reply.id];
    var field = asked && asked.message.type === "settings" ?
      form.elements[Object.keys(asked.message.settings)[0]] : null;
    if (reply.type === "error") {
      inputError = reply.message;
      if (field) field.setAttribute("aria-invalid", "true");
    } else {
      inputError = null;
      if (field) field.removeAttribute("aria-invalid");
      if (asked && asked.then) asked.then(reply);
    }
    showErrors();
  }

  // ---- the controls
  form.addEventListener("change", function (event) {
    var field = event.target;
    if (!field.name) return;
    var settings = {};
    settings[field.name] = field.value;
    send({type: "settings", settings: settings});
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.querySelectorAll("[data-action]").forEach(function (button) {
    button.addEventListener("click", function () {
      var action = button.getAttribute("data-action");
      send({type: "action", action: action}, function (reply) {
        if (reply.saved) note.textContent = "saved the model (nn.save JSON) to " + reply.saved;
      });
    });
  });

  function showSettings(status) {
    var s = status.settings;
    Object.keys(s).forEach(function (name) {
      var field = form.elements[name];
      if (!field || field === document.activeElement || field.hasAttribute("aria-invalid")) return;
      field.value = s[name] === null || s[name] === undefined ? "" : String(s[name]);
    });
    var noise = form.elements.noise;
    noise.placeholder = status.noise_default === null ? "—" : String(status.noise_default);
    noise.disabled = status.noise_default === null;
  }

  function showStatus(status) {
    root.setAttribute("data-running", status.running ? "true" : "false");
    form.querySelector('[data-action="play"]').disabled = status.running;
    form.querySelector('[data-action="pause"]').disabled = !status.running;
    var parts = ["epoch " + status.epoch];
    if (status.loss !== null) parts.push("loss " + fmt(status.loss, 4));
    if (status.accuracy !== null) parts.push("accuracy " + (100 * status.accuracy).toFixed(1) + "%");
    parts.push(status.running ? status.speed.toFixed(status.speed < 10 ? 1 : 0) + " epochs/s (" +
      status.settings.engine + ")" : "paused");
    parts.push(status.points + " training points" +
      (status.held_out ? ", " + status.held_out + " held out" : "") + "; MLP " + status.shape.join("-"));
    readout.textContent = parts.join(" · ");
    runError = status.error;
    showErrors();
    showSettings(status);
  }

  // ---- frames
  function showFrame(frame) {
    if (frame.base) { base = frame.base; baseId = frame.base_id; }
    if (!base || frame.base_id !== baseId) return;
    var c = frame.curves;
    curves.loss.length = Math.min(curves.loss.length, c.start);
    curves.accuracy.length = Math.min(curves.accuracy.length, c.start);
    curves.test.length = Math.min(curves.test.length, c.test_start);
    Array.prototype.push.apply(curves.loss, c.loss);
    Array.prototype.push.apply(curves.accuracy, c.accuracy);
    Array.prototype.push.apply(curves.test, c.test);
    var data = Object.assign({}, base, {
      snapshots: [frame.snapshot],
      curves: {loss: curves.loss.slice(), accuracy: curves.accuracy.slice(),
        test: curves.test.slice()}
    });
    if (!view) {
      view = window.AutogradLiteNetwork.mount(root, data, {onSample: sample, onNeuron: neuron});
    } else {
      view.update(data);
    }
    showStatus(frame.status);
  }

  function sample(index) {
    send({type: "sample", index: index}, function () {
      note.textContent = "following training point " + index + ": step through its pass with \u2192";
    });
  }

  function neuron(label) {
    if (label.indexOf("in.") === 0) {
      note.textContent = label + " is an input: it has no weights of its own";
      return;
    }
    send({type: "neuron", label: label}, function (reply) {
      var n = reply.neuron;
      note.textContent = n.caption;
      view.showPlayer({svg: n.svg, data: n.data});
    });
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws?token=" + encodeURIComponent(token));
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "frame") showFrame(message);
      else answered(message);
    };
    socket.onclose = function () {
      root.setAttribute("data-running", "false");
      readout.textContent = "disconnected: the playground has stopped (start it again and reload)";
    };
  }
  connect();
})();
