/* Filters a resource page's long tables as one types: each box (input[data-filters]) names its
 * table by id. A value (a list item, or a cell without a list) is shown when it, or the
 * property of its row, holds every word typed; a row with no value shown is hidden. The box's
 * status says how many values are shown. Without this script the box is hidden (.js-only) and
 * the table is whole.
 */
(function () {
  "use strict";

  function values(row) {
    const items = row.querySelectorAll(":scope > td > ul.values > li");
    return items.length ? Array.from(items) : Array.from(row.querySelectorAll(":scope > td"));
  }

  for (const box of document.querySelectorAll("input[data-filters]")) {
    const table = document.getElementById(box.dataset.filters);
    if (!table) continue;
    const status = box.parentElement.querySelector("[role=status]");
    const rows = Array.from(table.tBodies[0].rows);
    const count = rows.reduce((sum, row) => sum + values(row).length, 0);
    box.addEventListener("input", () => {
      const words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
      const holds = (element) => {
        const text = element.textContent.toLowerCase();
        return words.every((word) => text.includes(word));
      };
      let shown = 0;
      for (const row of rows) {
        const property = row.querySelector(":scope > th");
        const all = !words.length || (property && holds(property));
        let rowShown = 0;
        for (const value of values(row)) {
          value.hidden = !all && !holds(value);
          if (!value.hidden) rowShown += 1;
        }
        row.hidden = rowShown === 0;
        shown += rowShown;
      }
      status.textContent = words.length
        ? box.dataset.shown.replace("{shown}", shown).replace("{count}", count)
        : "";
    });
  }
})();
