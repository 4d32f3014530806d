// The session page: uploads with progress (drag and drop, or recorded in the browser), then the
// analysis state of each recording, polled from the API until it is done or failed: its place in
// the queue, then its stage ("Detecting speech — 40 %", then "Analysing — 3 of 12 segments"), with
// the estimated time to done. Its words come from the page's catalogue (gettext, ngettext and
// interpolate are Django's JavaScriptCatalog globals, loaded by base.html).
"use strict";
(function () {
  const form = document.getElementById("upload-form");
  const input = document.getElementById("id_file");
  const list = document.getElementById("uploads");
  const zone = document.getElementById("dropzone");
  const statusUrl = (id) => form.dataset.status.replace("00000000-0000-0000-0000-000000000000", id);
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  let queue = [];

  function words(body) {
    // API errors are {status, code, detail, errors}: `detail` says it in words, prefixed with the
    // field's API name ("file: …"); a person needs only the messages, in their language.
    if (!body || typeof body !== "object" || !body.detail) return gettext("The upload failed. Please try again.");
    const messages = Object.values(body.errors || {}).flat();
    return messages.length ? messages.join(" ") : body.detail;
  }
  function row(name) {
    const li = document.createElement("li");
    li.innerHTML = '<span class="name"></span> <progress max="100" value="0"></progress> <span class="state small"></span>';
    li.querySelector(".name").textContent = name;
    li.querySelector(".state").textContent = gettext("Uploading…");
    list.appendChild(li);
    return li;
  }
  function stage(rec) {
    // Each stage has its own progress: speech detection as a share of the audio, then segments.
    if (rec.stage === "detecting_speech") return interpolate(gettext("Detecting speech — %(percent)s"), {percent: rec.progress + " %"}, true);
    if (rec.stage === "analysing" && rec.segments_total) {
      return interpolate(gettext("Analysing — %(done)s of %(total)s segments"), {done: rec.segments_done, total: rec.segments_total}, true);
    }
    if (rec.stage === "saving") return gettext("Saving the results");
    return gettext("Opening the audio");
  }
  function poll(li, id) {
    fetch(statusUrl(id), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then((r) => r.json()).then((rec) => {
        const state = li.querySelector(".state"), bar = li.querySelector("progress");
        // The estimate in words ("2nd in the queue · about 3 min", "about 40 s left"), also on the
        // recording's own section when the page shows it.
        const estimate = document.querySelector('section.recording[data-recording="' + id + '"] .estimate');
        if (estimate && rec.estimate) { estimate.textContent = rec.estimate; estimate.title = rec.estimate_basis; }
        if (rec.status === "pending") { state.textContent = rec.estimate || gettext("Queued for analysis"); bar.value = 0; }
        if (rec.status === "running") { state.textContent = stage(rec) + (rec.estimate ? " · " + rec.estimate : ""); bar.value = rec.progress; }
        // The API's error is in the page's language (the request's Accept-Language and profile).
        if (rec.status === "failed") { state.textContent = interpolate(gettext("Could not be analysed: %(error)s"), {error: rec.error}, true); li.classList.add("failed"); maybeReload(); return; }
        if (rec.status === "done") { state.textContent = gettext("Done"); bar.value = 100; li.classList.add("done"); maybeReload(); return; }
        setTimeout(() => poll(li, id), 1500);
      }).catch(() => setTimeout(() => poll(li, id), 3000));
  }
  function maybeReload() {
    if (list.querySelector("li:not(.done):not(.failed)")) return;
    // Keep failure messages on screen: offer the reload instead of doing it.
    if (list.querySelector("li.failed")) {
      if (!document.getElementById("show-results")) {
        const li = document.createElement("li"), link = document.createElement("a");
        link.id = "show-results"; link.href = ""; link.textContent = gettext("Show the finished analyses");
        li.appendChild(link);
        list.appendChild(li);
      }
      return;
    }
    setTimeout(() => window.location.reload(), 800);
  }
  function send(file) {
    const li = row(file.name || "recording.webm");
    const data = new FormData();
    data.append("file", file, file.name || "browser-recording.webm");
    data.append("channel", form.querySelector("[name=channel]").value);
    data.append("granularity", form.querySelector("[name=granularity]").value);
    data.append("consent_confirmed", form.querySelector("[name=consent_confirmed]").checked ? "true" : "false");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.api);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) li.querySelector("progress").value = Math.round(100 * e.loaded / e.total); };
    xhr.onload = () => {
      let body = null; try { body = JSON.parse(xhr.responseText); } catch (e) {}
      if (xhr.status === 201) { li.querySelector(".state").textContent = gettext("Uploaded — queued for analysis"); poll(li, body.recordings[0].id); }
      else { li.classList.add("failed"); li.querySelector(".state").textContent = interpolate(gettext("Not uploaded: %(reason)s"), {reason: words(body)}, true); maybeReload(); }
    };
    xhr.onerror = () => { li.classList.add("failed"); li.querySelector(".state").textContent = gettext("Not uploaded: the connection failed."); };
    xhr.send(data);
  }
  function start(files) {
    if (!form.querySelector("[name=consent_confirmed]").checked) {
      alert(gettext("Please confirm the patient's consent before uploading.")); return;
    }
    Array.from(files).forEach(send);
  }
  form.addEventListener("submit", (e) => {
    const files = queue.length ? queue : Array.from(input.files);
    if (!files.length) return;  // let the browser show the form's own error
    e.preventDefault(); start(files); queue = []; input.value = "";
  });
  ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
  zone.addEventListener("drop", (e) => {
    queue = Array.from(e.dataTransfer.files);
    zone.querySelector("strong").textContent = interpolate(ngettext("%(n)s file ready — press Upload", "%(n)s files ready — press Upload", queue.length), {n: queue.length}, true);
  });

  // Recording in the browser, where the browser allows it (HTTPS or localhost, microphone permission).
  if (window.MediaRecorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    const box = document.getElementById("recorder"), button = document.getElementById("record"), state = document.getElementById("record-state");
    box.hidden = false;
    let recorder = null, chunks = [];
    button.addEventListener("click", async () => {
      if (recorder && recorder.state === "recording") { recorder.stop(); return; }
      try {
        const stream = await navigator.mediaDevices.getUserMedia({audio: true});
        recorder = new MediaRecorder(stream); chunks = [];
        recorder.ondataavailable = (e) => chunks.push(e.data);
        recorder.onstop = () => {
          stream.getTracks().forEach((t) => t.stop());
          const blob = new File(chunks, "browser-recording.webm", {type: recorder.mimeType || "audio/webm"});
          queue = [blob]; button.textContent = gettext("● Record in the browser"); state.textContent = gettext("Recorded — press Upload");
        };
        recorder.start(); button.textContent = gettext("■ Stop recording"); state.textContent = gettext("Recording…");
      } catch (err) { state.textContent = interpolate(gettext("The microphone is not available here (%(error)s)."), {error: err.name}, true); }
    });
  }
  // Recordings already queued when the page loaded update in place.
  document.querySelectorAll("section.recording[data-status=pending], section.recording[data-status=running]").forEach((s) => {
    const li = row(s.querySelector("strong").textContent); poll(li, s.dataset.recording);
  });
})();
