// The patient dashboard without full reloads: the baseline picker shows only the chosen mode's
// controls; class toggles swap the trajectory plot; the similar-sessions choice fetches its list
// and redraws the map. The page's query string (date range, classes, chosen session) is kept up to
// date, so a baseline change (whose form posts it back) and a reload come back to the same view.
// Without JavaScript every form still works by submitting.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function withParams(url, changes) {
    var u = new URL(url, window.location.href);
    Object.keys(changes).forEach(function (key) {
      u.searchParams.delete(key);
      [].concat(changes[key]).forEach(function (v) {
        if (v) u.searchParams.append(key, v);
      });
    });
    return u.pathname + u.search;
  }

  // The picture's <source> (narrow, phones) and <img> (wide) get the same change.
  function redraw(img, changes) {
    if (!img) return;
    var source = img.parentNode.querySelector("source");
    if (source) source.srcset = withParams(source.srcset, changes);
    img.src = withParams(img.getAttribute("src"), changes);
  }

  function remember(changes) {
    var page = withParams(window.location.href, changes) + window.location.hash;
    window.history.replaceState(null, "", page);
    var back = document.querySelector("#baseline-form input[name=back]");
    if (back) back.value = window.location.search.replace(/^\?/, "");
    // Forms that submit the page again carry the classes along.
    document.querySelectorAll("#range-form, #similar-form").forEach(function (form) {
      if (!("c" in changes)) return;
      form.querySelectorAll("input[type=hidden][name=c]").forEach(function (el) { el.remove(); });
      [].concat(changes.c).forEach(function (c) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "c";
        input.value = c;
        form.appendChild(input);
      });
    });
  }

  // Baseline picker: N for "first N", one choice for "one session", tick boxes for "a set".
  var baseline = document.getElementById("baseline-form");
  if (baseline) {
    var mode = baseline.querySelector("[name=baseline_mode]");
    var show = function () {
      baseline.querySelectorAll("[data-mode]").forEach(function (el) {
        el.hidden = el.getAttribute("data-mode") !== mode.value;
      });
    };
    mode.addEventListener("change", show);
    show();
  }

  // Class toggles: a new trajectory, no reload. None ticked means all (as the server reads it).
  var toggles = document.getElementById("class-toggles");
  if (toggles) {
    toggles.addEventListener("change", function () {
      var boxes = toggles.querySelectorAll("input[name=c]");
      var ticked = [].filter.call(boxes, function (b) { return b.checked; }).map(function (b) { return b.value; });
      var classes = ticked.length === boxes.length ? [] : ticked;
      redraw(document.getElementById("plot-trajectory"), { c: classes });
      remember({ c: classes });
    });
  }

  // Similar sessions: fetch the list, ring the session on the map.
  var similar = document.getElementById("similar-form");
  if (similar) {
    var select = similar.querySelector("select[name=session]");
    select.addEventListener("change", function () {
      var session = select.value;
      var params = new URLSearchParams(new FormData(similar));
      fetch(similar.getAttribute("data-fragment") + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw new Error(r.status);
          return r.text();
        })
        .then(function (html) {
          var list = document.getElementById("similar-list");
          if (list) list.outerHTML = html;
        })
        .catch(function () { similar.submit(); });
      redraw(document.getElementById("plot-map"), { session: session });
      remember({ session: session });
    });
  }
})();
