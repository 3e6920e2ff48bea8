// Evaluation reports: a click on a funnel plot's point goes to its row in the table below (the
// table is the accessible way to the same numbers; this only saves a mouse user the search).
document.addEventListener("click", (event) => {
  const point = event.target.closest && event.target.closest("[data-row]");
  if (!point) return;
  const row = document.getElementById(point.getAttribute("data-row"));
  if (!row) return;
  window.location.hash = row.id;
  row.scrollIntoView({ block: "center" });
});
