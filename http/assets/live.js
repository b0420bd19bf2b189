// Live updates: when a lock reports an event, refresh the page's live parts in place.
(function () {
  var live = document.getElementById("live");
  if (!live || !window.EventSource) return;
  var source = new EventSource("/api/v1/events/stream");
  var pending = null;
  // Marks the page as live (tests wait for it); EventSource reconnects by itself.
  source.onopen = function () { document.body.dataset.live = "open"; };
  source.onmessage = function () {
    if (pending) return; // a burst of events refreshes once
    pending = setTimeout(function () {
      pending = null;
      htmx.ajax("GET", window.location.pathname, { target: "#live", select: "#live", swap: "outerHTML" });
    }, 200);
  };
})();
