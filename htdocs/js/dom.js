// The one way the dashboard builds DOM. Every string becomes a text node (or a property/attribute
// value), never markup: there is no innerHTML anywhere in htdocs/, so nothing the API returns can
// turn into elements or script. Event handlers are attached with addEventListener (the CSP forbids
// inline handlers anyway).

// Set as DOM properties rather than attributes (live state of form controls).
const PROPS = new Set(["value", "checked", "disabled", "hidden", "selected", "indeterminate", "max"]);
// href/src may only point inside the dashboard (hash routes, same-origin paths) or at a blob URL.
const SAFE_URL = /^(#|\/(?!\/)|blob:)/;

export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
  return parent;
}

// h("button", {class: "primary", on: {click: fn}}, "Save") -> <button class="primary">Save</button>
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, val] of Object.entries(props || {})) {
    if (val === null || val === undefined || val === false) continue;
    if (key === "class") el.className = Array.isArray(val) ? val.filter(Boolean).join(" ") : val;
    else if (key === "on") for (const [ev, fn] of Object.entries(val)) el.addEventListener(ev, fn);
    else if (key === "dataset") Object.assign(el.dataset, val);
    else if (PROPS.has(key)) el[key] = val;
    else if (key === "style" || key.startsWith("on")) throw new Error("h(): no inline " + key);
    else if ((key === "href" || key === "src") && !SAFE_URL.test(String(val)))
      throw new Error("h(): refused URL " + String(val));
    else el.setAttribute(key, val === true ? "" : String(val));
  }
  return append(el, children);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Replace an element's children.
export function fill(el, ...children) {
  return append(clear(el), children);
}

let seq = 0;
export function uid(prefix = "f") {
  seq += 1;
  return `${prefix}-${seq}`;
}
