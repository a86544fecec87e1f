// The one DOM helper the board and the booking page share (each imports it as an ES module).

/** Make an element: ``attrs`` (class, dataset, on<event> handlers, other attributes), then children
 * (nodes or text; null, undefined and false are left out). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") {
      for (const [key, data] of Object.entries(value)) if (data !== undefined && data !== null) node.dataset[key] = data;
    }
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
