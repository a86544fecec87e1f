// The route map: the GeoJSON of GET /board/rosters/{id}/map drawn as SVG, so that it needs no tile
// server and works offline. Roads in grey, each worker's route in their colour, stops as dots,
// homes as squares; wheel to zoom, drag to pan. The OpenStreetMap attribution is always shown.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 1000; // viewBox units across; the height follows the map's aspect ratio

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

/** An equirectangular projection of the map's bbox onto the viewBox (fine at a city's scale). */
function projection([west, south, east, north]) {
  const k = Math.cos(((south + north) / 2) * Math.PI / 180);
  const scale = WIDTH / ((east - west) * k);
  const height = (north - south) * scale;
  return {
    height,
    point: ([lon, lat]) => [((lon - west) * k * scale).toFixed(1), ((north - lat) * scale).toFixed(1)],
  };
}

function pathData(lines, point) {
  const parts = [];
  for (const line of lines) {
    if (line.length < 2) continue;
    parts.push("M" + line.map((p) => point(p).join(" ")).join("L"));
  }
  return parts.join("");
}

/**
 * Draw a roster's map into a container.
 * @param {HTMLElement} container where the map goes (its content is replaced)
 * @param {object} geojson the FeatureCollection of the map endpoint
 * @param {Object<string, string>} colours colour by worker id
 */
export function drawMap(container, geojson, colours) {
  const { height, point } = projection(geojson.bbox);
  const root = svg("svg", { viewBox: `0 0 ${WIDTH} ${height.toFixed(1)}`, class: "map-svg", role: "img",
    "aria-label": "Routes over the road network" });
  const roads = svg("g", { class: "roads" });
  const routes = svg("g", { class: "routes" });
  const marks = svg("g", { class: "marks" });
  root.append(roads, routes, marks);
  let nRoutes = 0;
  for (const feature of geojson.features) {
    const props = feature.properties;
    const geometry = feature.geometry;
    if (props.layer === "road") {
      roads.append(svg("path", { d: pathData(geometry.coordinates, point), class: "road" }));
    } else if (props.layer === "route") {
      const path = svg("path", { d: pathData(geometry.coordinates, point), class: "route",
        "data-worker": props.worker_id, stroke: colours[props.worker_id] || "#444" });
      path.append(svg("title"));
      path.lastChild.textContent = props.worker_id;
      routes.append(path);
      nRoutes += 1;
    } else if (props.layer === "stop") {
      const [x, y] = point(geometry.coordinates);
      const dot = svg("circle", { cx: x, cy: y, r: 3.2, class: "stop", "data-worker": props.worker_id,
        "data-visit": props.visit_id, fill: colours[props.worker_id] || "#444" });
      dot.append(svg("title"));
      dot.lastChild.textContent = `${props.visit_id} · ${props.worker_id} #${props.order} at ${props.start}`;
      marks.append(dot);
    } else if (props.layer === "home") {
      const [x, y] = point(geometry.coordinates);
      marks.append(svg("rect", { x: x - 3, y: y - 3, width: 6, height: 6, class: "home",
        "data-worker": props.worker_id, stroke: colours[props.worker_id] || "#444" }));
    }
  }
  const attribution = document.createElement("div");
  attribution.className = "attribution";
  attribution.textContent = geojson.attribution;
  const notes = document.createElement("div");
  notes.className = "map-note";
  notes.textContent = geojson.routes_follow_roads
    ? `${nRoutes} routes along the roads` : `${nRoutes} routes, drawn as straight lines between stops`;
  container.replaceChildren(root, attribution, notes);
  container.dataset.routes = String(nRoutes);
  enableZoom(root, WIDTH, height);
}

/** Emphasise one worker's route (``null``: none). */
export function highlightWorker(container, workerId) {
  const root = container.querySelector("svg");
  if (!root) return;
  root.classList.toggle("focus", workerId !== null);
  for (const node of root.querySelectorAll(".hl")) node.classList.remove("hl");
  if (workerId === null) return;
  for (const node of root.querySelectorAll(`[data-worker="${CSS.escape(workerId)}"]`)) node.classList.add("hl");
}

function enableZoom(root, width, height) {
  let view = [0, 0, width, height];
  const apply = () => root.setAttribute("viewBox", view.map((v) => v.toFixed(1)).join(" "));
  const toView = (event) => {
    const box = root.getBoundingClientRect();
    return [view[0] + ((event.clientX - box.left) / box.width) * view[2],
      view[1] + ((event.clientY - box.top) / box.height) * view[3]];
  };
  root.addEventListener("wheel", (event) => {
    event.preventDefault();
    const factor = event.deltaY < 0 ? 0.8 : 1.25;
    const [x, y] = toView(event);
    const w = Math.min(Math.max(view[2] * factor, width / 40), width);
    const h = (w / width) * height;
    view = [x - ((x - view[0]) / view[2]) * w, y - ((y - view[1]) / view[3]) * h, w, h];
    apply();
  }, { passive: false });
  let drag = null;
  root.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, view: [...view] };
    root.setPointerCapture(event.pointerId);
  });
  root.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const box = root.getBoundingClientRect();
    view = [drag.view[0] - ((event.clientX - drag.x) / box.width) * view[2],
      drag.view[1] - ((event.clientY - drag.y) / box.height) * view[3], view[2], view[3]];
    apply();
  });
  root.addEventListener("pointerup", () => { drag = null; });
  root.addEventListener("dblclick", () => { view = [0, 0, width, height]; apply(); });
}
