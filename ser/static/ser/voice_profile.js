// "My voice profile": record a sample of the therapist's own voice in the browser (MediaRecorder),
// with a timer, and send it through the page's own form: the recording is put into the form's file
// field, so recording and uploading are the same request and the same server-side checks. Its
// words come from the page's catalogue (Django's JavaScriptCatalog globals, loaded by base.html).
"use strict";
(function () {
  const form = document.getElementById("voice-profile-form");
  const box = document.getElementById("voice-recorder");
  if (!form || !box) return;
  // Recording needs a secure page (HTTPS or localhost) and a browser with MediaRecorder.
  if (!(window.MediaRecorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) return;
  const input = form.querySelector("input[type=file][name=file]");
  const recordButton = document.getElementById("voice-record");
  const stopButton = document.getElementById("voice-stop");
  const timer = document.getElementById("voice-timer");
  const state = document.getElementById("voice-record-state");
  const preview = document.getElementById("voice-preview");
  const RECOMMENDED_MIN_S = 20, RECOMMENDED_MAX_S = 60, LIMIT_S = 120;
  let recorder = null, chunks = [], started = 0, tick = null, recorded = null;
  box.hidden = false;

  function clock(seconds) {
    const s = Math.floor(seconds);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function advice(seconds) {
    if (seconds < RECOMMENDED_MIN_S) return interpolate(gettext("Keep talking — at least %(seconds)s s is recommended."), {seconds: RECOMMENDED_MIN_S}, true);
    if (seconds <= RECOMMENDED_MAX_S) return gettext("Good length. Stop whenever you like.");
    return gettext("That is plenty — you can stop now.");
  }
  function extension(type) {
    if (type.indexOf("ogg") >= 0) return "ogg";
    if (type.indexOf("mp4") >= 0) return "m4a";
    return "webm";
  }
  function attach(file) {
    // Put the recording into the file field; browsers without a settable FileList send it on submit.
    try {
      const transfer = new DataTransfer();
      transfer.items.add(file);
      input.files = transfer.files;
      recorded = input.files.length ? null : file;
    } catch (err) {
      recorded = file;
    }
    if (recorded) input.required = false;
  }

  recordButton.addEventListener("click", async () => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({audio: true});
      recorder = new MediaRecorder(stream);
      chunks = [];
      recorder.ondataavailable = (e) => { if (e.data && e.data.size) chunks.push(e.data); };
      recorder.onstop = () => {
        stream.getTracks().forEach((t) => t.stop());
        clearInterval(tick);
        const seconds = (Date.now() - started) / 1000;
        const type = recorder.mimeType || "audio/webm";
        const file = new File(chunks, "voice-sample." + extension(type), {type: type});
        attach(file);
        preview.src = URL.createObjectURL(file);
        preview.hidden = false;
        recordButton.disabled = false; recordButton.textContent = gettext("● Record again");
        stopButton.disabled = true;
        state.textContent = seconds < RECOMMENDED_MIN_S
          ? interpolate(gettext("Recorded %(length)s — that may be too short; record again for 20–60 s."), {length: clock(seconds)}, true)
          : interpolate(gettext("Recorded %(length)s. Listen back if you like, tick the consent box and press “Save my voice profile”."), {length: clock(seconds)}, true);
      };
      recorder.start(1000);
      started = Date.now();
      recordButton.disabled = true; stopButton.disabled = false;
      timer.textContent = "0:00"; state.textContent = advice(0);
      tick = setInterval(() => {
        const seconds = (Date.now() - started) / 1000;
        timer.textContent = clock(seconds);
        state.textContent = advice(seconds);
        if (seconds >= LIMIT_S && recorder.state === "recording") recorder.stop();
      }, 250);
    } catch (err) {
      state.textContent = interpolate(gettext("The microphone is not available here (%(error)s). Upload a file instead."), {error: err.name}, true);
    }
  });
  stopButton.addEventListener("click", () => { if (recorder && recorder.state === "recording") recorder.stop(); });

  form.addEventListener("submit", (e) => {
    if (!recorded) return; // the file field holds the upload or the recording: a normal submit
    e.preventDefault();
    const data = new FormData(form);
    data.set("file", recorded, recorded.name);
    state.textContent = gettext("Uploading…");
    fetch(form.action, {method: "POST", body: data, credentials: "same-origin"}).then((r) => {
      if (r.redirected) { window.location.assign(r.url); return null; } // saved: the page again, with its message
      return r.text();
    }).then((html) => {
      if (html === null) return;
      // The form with its errors, as the server rendered it.
      document.open(); document.write(html); document.close();
    }).catch(() => { state.textContent = gettext("The upload failed: the connection broke. Please try again."); });
  });
})();
