// Live updates: when a lock reports an event, refresh the page's live parts in place.
(function () {
  var live = document.getElementById("live");
  if (!live || !window.EventSource) return;
  var source = new EventSource("/api/v1/events/stream");
  var pending = null;
  // Marks the page as live (tests wait for it); EventSource reconnects by itself.
  source.onopen = function () { document.body.dataset.live = "open"; };
  ["locked", "unlocked", "wrong_code", "keypad_lockout", "jammed", "low_battery", "tamper",
   "reset_locally", "all_codes_deleted", "offline", "code_added", "code_deleted"].forEach(function (kind) {
    source.addEventListener(kind, function () {
      if (pending) return;
      pending = setTimeout(function () {
        pending = null;
        htmx.ajax("GET", window.location.pathname, { target: "#live", select: "#live", swap: "outerHTML" });
      }, 200);
    });
  });
})();
