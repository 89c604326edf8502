/* Fetches a drawing bundle (vendor/charts.js, vendor/graph.js) when the first element it draws
 * comes near the screen, so neither holds up a page's first paint or its main thread.
 *
 * Each element to draw names its bundle in data-bundle; the bundle draws every element of its
 * kind when it runs. The box of each element is reserved by the page's CSS, so drawing moves
 * nothing else.
 */
(function () {
  "use strict";
  const requested = new Set();

  function load(src) {
    if (requested.has(src)) return;
    requested.add(src);
    const script = document.createElement("script");
    script.src = src;
    document.head.append(script);
  }

  const elements = Array.from(document.querySelectorAll("[data-bundle]"));
  if (!("IntersectionObserver" in window)) {
    for (const element of elements) load(element.dataset.bundle);
    return;
  }
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        load(entry.target.dataset.bundle);
        observer.unobserve(entry.target);
      }
    },
    { rootMargin: "400px 0px" }
  );
  for (const element of elements) observer.observe(element);
})();
