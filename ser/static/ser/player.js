// The session page's segment buttons: ▶ plays one speech segment of the recording in its section's
// <audio> element, from the segment's start to its end (the audio endpoint honours Range, so the
// browser can seek there without downloading what comes before).
"use strict";
(function () {
  const active = new WeakMap();  // audio element → the row whose segment it is playing

  function stop(audio) {
    const row = active.get(audio);
    if (row) row.classList.remove("playing");
    active.delete(audio);
  }

  function play(row) {
    const audio = row.closest("section.recording").querySelector("audio");
    const start = parseFloat(row.dataset.start);
    if (!audio || isNaN(start)) return;
    stop(audio);
    active.set(audio, row);
    row.classList.add("playing");
    if (audio.readyState >= 1) audio.currentTime = start;
    else audio.addEventListener("loadedmetadata", () => { audio.currentTime = start; }, {once: true});
    audio.play().catch(() => stop(audio));
  }

  document.querySelectorAll("section.recording audio").forEach((audio) => {
    audio.addEventListener("timeupdate", () => {
      const row = active.get(audio);
      if (row && audio.currentTime >= parseFloat(row.dataset.end)) { audio.pause(); stop(audio); }
    });
    // The user took over (paused, or moved the playhead out of the segment): stop following it.
    audio.addEventListener("pause", () => stop(audio));
    audio.addEventListener("seeked", () => {
      const row = active.get(audio);
      if (row && (audio.currentTime < parseFloat(row.dataset.start) - 0.5 || audio.currentTime > parseFloat(row.dataset.end))) stop(audio);
    });
  });
  document.addEventListener("click", (e) => {
    const button = e.target.closest("tr.segment button.play");
    if (button) play(button.closest("tr.segment"));
  });
})();
