// The procedure runner: a countdown where a step says to wait, and a page that follows
// its run (a step reported from another device, or done by Latchkey through the hub)
// without being reloaded by hand. Without this script the page still works: the wait is
// said in words, and a step Latchkey does reloads the page by itself.
(function () {
  var run = document.getElementById("run");
  if (!run) return;
  document.querySelectorAll(".wait[data-seconds]").forEach(function (el) {
    var left = parseInt(el.dataset.seconds, 10);
    var out = el.querySelector(".count");
    if (!out || !(left > 0)) return;
    var tick = function () {
      if (left <= 0) {
        out.textContent = "Time is up: go on.";
        el.classList.add("over");
        return;
      }
      out.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") + " left";
      left--;
      setTimeout(tick, 1000);
    };
    tick();
  });
  if (run.dataset.status !== "active") return;
  var path = run.dataset.path, version = run.dataset.version;
  // busy: the person has started on this page (ticked, typed, opened a way out) or has a
  // one-time bitting on it: the page then offers to move on instead of moving by itself.
  var busy = function () {
    if (document.getElementById("shown")) return true;
    if (document.querySelector("details[open]")) return true;
    return Array.prototype.some.call(document.querySelectorAll("#run input, #run textarea"), function (el) {
      if (el.type === "hidden") return false;
      if (el.type === "checkbox") return el.checked;
      if (el.type === "radio") return false;
      return el.value !== "";
    });
  };
  var told = false;
  var look = function () {
    fetch(path, { cache: "no-store", credentials: "same-origin" }).then(function (resp) {
      return resp.ok ? resp.text() : null;
    }).then(function (html) {
      if (!html) return;
      var next = new DOMParser().parseFromString(html, "text/html").getElementById("run");
      if (!next || next.dataset.version === version) return;
      if (!busy()) {
        window.location.replace(path);
        return;
      }
      if (told) return;
      told = true;
      var note = document.createElement("div");
      note.className = "flash warn";
      note.id = "moved-on";
      note.setAttribute("role", "status");
      note.appendChild(document.createTextNode("This run has moved on since this page was opened. "));
      var link = document.createElement("a");
      link.href = path;
      link.textContent = "Show where it is now";
      note.appendChild(link);
      run.insertBefore(note, run.firstChild);
    }).catch(function () {});
  };
  setInterval(look, 2500);
})();
