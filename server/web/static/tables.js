/* Filters a resource page's long tables as one types: each box (input[data-filters]) names its
 * table by id. A value (a list item, or a cell without a list) is shown when it, or the
 * property of its row, holds every word typed; a row with no value shown is hidden. The box's
 * status says how many values are shown, and a row heading's count of its group ("(6)",
 * .group-count) says how many of them are shown ("(2/6)"). Without this script the box is hidden
 * (.js-only) and the table is whole.
 */
(function () {
  "use strict";

  function values(row) {
    const items = row.querySelectorAll(":scope > td > ul.values > li");
    return items.length ? Array.from(items) : Array.from(row.querySelectorAll(":scope > td"));
  }

  /** The words of a row's heading a filter matches: its name and note, not its count. */
  function headingText(row) {
    const heading = row.querySelector(":scope > th");
    if (!heading) return "";
    const copy = heading.cloneNode(true);
    for (const count of copy.querySelectorAll(".group-count")) count.remove();
    return copy.textContent.toLowerCase();
  }

  for (const box of document.querySelectorAll("input[data-filters]")) {
    const table = document.getElementById(box.dataset.filters);
    if (!table) continue;
    const status = box.parentElement.querySelector("[role=status]");
    const rows = Array.from(table.tBodies[0].rows).map((row) => ({
      row: row,
      heading: headingText(row),
      count: row.querySelector(":scope > th .group-count"),
    }));
    const count = rows.reduce((sum, { row }) => sum + values(row).length, 0);
    box.addEventListener("input", () => {
      const words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
      const holds = (text) => words.every((word) => text.includes(word));
      let shown = 0;
      for (const { row, heading, count: groupCount } of rows) {
        const all = !words.length || holds(heading);
        let rowShown = 0;
        for (const value of values(row)) {
          value.hidden = !all && !holds(value.textContent.toLowerCase());
          if (!value.hidden) rowShown += 1;
        }
        row.hidden = rowShown === 0;
        shown += rowShown;
        if (groupCount) {
          const total = groupCount.dataset.count;
          groupCount.textContent = all ? "(" + total + ")" : "(" + rowShown + "/" + total + ")";
        }
      }
      status.textContent = words.length
        ? box.dataset.shown.replace("{shown}", shown).replace("{count}", count)
        : "";
    });
  }
})();
